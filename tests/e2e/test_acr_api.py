"""ACR's metadata API (/acr/v1): repository, tag and manifest properties, changeable
attributes, ordering and paging, deletes, errors, and who may do what. The Azure SDK's
ContainerRegistryClient against the same API is in test_azure_sdk.py."""
import time
import urllib.parse

from berthtest import (BerthTestCase, Server, digest, index_manifest, make_image, main,
                       parse_link_next, push_image, push_manifest, rand_name)

ATTRS = {"deleteEnabled": True, "writeEnabled": True, "readEnabled": True, "listEnabled": True}


def rfc3339_to_unix(text):
    return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


class AcrMetadataTest(BerthTestCase):
    """Authentication off: the shapes and semantics of every route."""

    def setUp(self):
        self.t0 = int(time.time())

    def assertTimeInTest(self, text):
        t = rfc3339_to_unix(text)
        self.assertGreaterEqual(t, self.t0 - 1, text)
        self.assertLessEqual(t, time.time() + 1, text)

    def image_size(self, img):
        return len(img.manifest) + len(img.config) + sum(len(l) for l in img.layers)

    def test_repository_properties_and_patch(self):
        repo = "acr/%s/app" % rand_name()
        a = push_image(self.srv, repo, "v1", arch="amd64")
        push_image(self.srv, repo, "v2", arch="arm64")
        push_manifest(self.srv, repo, "latest", a.manifest, a.media_type)
        r = self.srv.get("/acr/v1/" + repo)
        self.assertStatus(r, 200)
        body = r.json()
        self.assertEqual(body["registry"], "%s:%d" % (self.srv.host, self.srv.port))
        self.assertEqual(body["imageName"], repo)
        self.assertEqual(body["manifestCount"], 2)
        self.assertEqual(body["tagCount"], 3)
        self.assertTimeInTest(body["createdTime"])
        self.assertTimeInTest(body["lastUpdateTime"])
        self.assertEqual(body["changeableAttributes"], dict(ATTRS, teleportEnabled=False))
        # The Azure SDK sends the attributes at the top level; unknown fields are ignored.
        r = self.srv.json("PATCH", "/acr/v1/" + repo, {"writeEnabled": False, "listEnabled": False, "x": 1})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["changeableAttributes"],
                         dict(ATTRS, writeEnabled=False, listEnabled=False, teleportEnabled=False))
        # Stored: a later read (and a percent-encoded name, as the SDK sends it) sees it.
        r = self.srv.get("/acr/v1/" + urllib.parse.quote(repo, safe=""))
        self.assertStatus(r, 200)
        self.assertFalse(r.json()["changeableAttributes"]["writeEnabled"])
        self.assertTrue(r.json()["changeableAttributes"]["deleteEnabled"])
        # Nested form (az acr) and turning it back on.
        r = self.srv.json("PATCH", "/acr/v1/" + repo, {"changeableAttributes": {"writeEnabled": True}})
        self.assertStatus(r, 200)
        self.assertTrue(r.json()["changeableAttributes"]["writeEnabled"])
        self.assertFalse(r.json()["changeableAttributes"]["listEnabled"])
        # Bad bodies: a clear 400, nothing changed.
        for bad in (b"[1]", b"{", b'{"deleteEnabled": "no"}', b'{"changeableAttributes": 3}'):
            r = self.srv.request("PATCH", "/acr/v1/" + repo, body=bad, headers={"Content-Type": "application/json"})
            self.assertError(r, 400, "INVALID_ARGUMENT")
        self.assertTrue(self.srv.get("/acr/v1/" + repo).json()["changeableAttributes"]["deleteEnabled"])
        self.assertError(self.srv.get("/acr/v1/acr/nothing-here"), 404, "NAME_UNKNOWN")
        self.assertError(self.srv.json("PATCH", "/acr/v1/acr/nothing-here", {"readEnabled": False}),
                         404, "NAME_UNKNOWN")
        self.assertError(self.srv.request("POST", "/acr/v1/" + repo), 405, "UNSUPPORTED")
        self.assertError(self.srv.get("/acr/v1/Bad..Name"), 400, "NAME_INVALID")

    def test_tags_properties_order_paging_and_patch(self):
        repo = "acr/tags-%s" % rand_name()
        imgs = {}
        for tag in ("c", "a", "d", "b"):
            imgs[tag] = push_image(self.srv, repo, tag)
            time.sleep(1.05)  # distinct lastUpdateTime seconds for the time order
        r = self.srv.get("/acr/v1/%s/_tags" % repo)
        self.assertStatus(r, 200)
        body = r.json()
        self.assertEqual(body["registry"], "%s:%d" % (self.srv.host, self.srv.port))
        self.assertEqual(body["imageName"], repo)
        self.assertEqual([t["name"] for t in body["tags"]], ["a", "b", "c", "d"])
        first = body["tags"][0]
        self.assertEqual(first["digest"], imgs["a"].digest)
        self.assertEqual(first["changeableAttributes"], ATTRS)
        self.assertFalse(first["signed"])
        self.assertTimeInTest(first["createdTime"])
        self.assertIsNone(r.header("Link"))

        def walk(query):
            names, path, pages = [], "/acr/v1/%s/_tags?%s" % (repo, query), 0
            while path:
                r = self.srv.get(path)
                self.assertStatus(r, 200)
                names += [t["name"] for t in r.json()["tags"]]
                pages += 1
                nxt = parse_link_next(r.header("Link"))
                path = nxt and nxt[0] + "?" + urllib.parse.urlencode(nxt[1])
            return names, pages

        self.assertEqual(walk("n=3"), (["a", "b", "c", "d"], 2))
        self.assertEqual(walk("n=1&orderby=timedesc"), (["b", "d", "a", "c"], 4))
        self.assertEqual(walk("n=2&orderby=timeasc"), (["c", "a", "d", "b"], 2))
        # Filter by digest: the tags of one manifest.
        push_manifest(self.srv, repo, "a2", imgs["a"].manifest, imgs["a"].media_type)
        r = self.srv.get("/acr/v1/%s/_tags?digest=%s" % (repo, imgs["a"].digest))
        self.assertEqual([t["name"] for t in r.json()["tags"]], ["a", "a2"])
        for q in ("n=0", "n=x", "orderby=name", "digest=sha256:nothex"):
            self.assertError(self.srv.get("/acr/v1/%s/_tags?%s" % (repo, q)), 400,
                             "INVALID_ARGUMENT", "DIGEST_INVALID")

        # One tag: GET, PATCH (stored), errors.
        r = self.srv.get("/acr/v1/%s/_tags/c" % repo)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["tag"]["name"], "c")
        self.assertEqual(r.json()["tag"]["digest"], imgs["c"].digest)
        r = self.srv.json("PATCH", "/acr/v1/%s/_tags/c" % repo, {"deleteEnabled": False, "writeEnabled": False})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["tag"]["changeableAttributes"],
                         dict(ATTRS, deleteEnabled=False, writeEnabled=False))
        self.assertFalse(self.srv.get("/acr/v1/%s/_tags/c" % repo).json()["tag"]["changeableAttributes"]["deleteEnabled"])
        # Other tags keep theirs.
        self.assertEqual(self.srv.get("/acr/v1/%s/_tags/a" % repo).json()["tag"]["changeableAttributes"], ATTRS)
        self.assertError(self.srv.get("/acr/v1/%s/_tags/nope" % repo), 404, "MANIFEST_UNKNOWN")
        self.assertError(self.srv.get("/acr/v1/%s/_tags/-bad" % repo), 400, "TAG_INVALID")
        self.assertError(self.srv.get("/acr/v1/acr/no-such/_tags"), 404, "NAME_UNKNOWN")

        # Delete a tag: 202, the manifest stays.
        self.assertStatus(self.srv.delete("/acr/v1/%s/_tags/b" % repo), 202)
        self.assertError(self.srv.get("/acr/v1/%s/_tags/b" % repo), 404, "MANIFEST_UNKNOWN")
        self.assertError(self.srv.get("/v2/%s/manifests/b" % repo), 404, "MANIFEST_UNKNOWN")
        self.assertStatus(self.srv.get("/v2/%s/manifests/%s" % (repo, imgs["b"].digest)), 200)
        self.assertError(self.srv.delete("/acr/v1/%s/_tags/b" % repo), 404, "MANIFEST_UNKNOWN")

    def test_manifest_properties(self):
        repo = "acr/manifests-%s" % rand_name()
        amd = push_image(self.srv, repo, "amd", arch="amd64", n_layers=2)
        arm = push_image(self.srv, repo, "arm", arch="arm64")
        mt, index = index_manifest([(amd, "amd64"), (arm, "arm64")])
        push_manifest(self.srv, repo, "multi", index, mt)
        push_manifest(self.srv, repo, "also-amd", amd.manifest, amd.media_type)
        r = self.srv.get("/acr/v1/%s/_manifests/%s" % (repo, amd.digest))
        self.assertStatus(r, 200)
        body = r.json()
        self.assertEqual(body["imageName"], repo)
        m = body["manifest"]
        self.assertEqual(m["digest"], amd.digest)
        self.assertEqual(m["imageSize"], self.image_size(amd))
        self.assertEqual(m["architecture"], "amd64")
        self.assertEqual(m["os"], "linux")
        self.assertEqual(m["mediaType"], amd.media_type)
        self.assertEqual(m["tags"], ["also-amd", "amd"])
        self.assertEqual(m["changeableAttributes"], ATTRS)
        self.assertNotIn("references", m)
        self.assertTimeInTest(m["createdTime"])
        # The index: no platform of its own, its children's platforms as references.
        r = self.srv.get("/acr/v1/%s/_manifests/%s" % (repo, urllib.parse.quote(digest(index), safe="")))
        self.assertStatus(r, 200)
        m = r.json()["manifest"]
        self.assertEqual(m["imageSize"], len(index) + len(amd.manifest) + len(arm.manifest))
        self.assertNotIn("architecture", m)
        self.assertEqual(m["references"], [{"digest": amd.digest, "architecture": "amd64", "os": "linux"},
                                           {"digest": arm.digest, "architecture": "arm64", "os": "linux"}])
        self.assertEqual(m["tags"], ["multi"])
        # The listing: by digest, paged; every manifest once.
        digests, path = [], "/acr/v1/%s/_manifests?n=2" % repo
        while path:
            r = self.srv.get(path)
            self.assertStatus(r, 200)
            digests += [x["digest"] for x in r.json()["manifests"]]
            nxt = parse_link_next(r.header("Link"))
            path = nxt and nxt[0] + "?" + urllib.parse.urlencode(nxt[1])
        self.assertEqual(digests, sorted([amd.digest, arm.digest, digest(index)]))
        # PATCH is stored per manifest (a second later: times have one-second resolution).
        time.sleep(1.05)
        r = self.srv.json("PATCH", "/acr/v1/%s/_manifests/%s" % (repo, arm.digest), {"readEnabled": False})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["manifest"]["changeableAttributes"], dict(ATTRS, readEnabled=False))
        listed = {x["digest"]: x for x in self.srv.get("/acr/v1/%s/_manifests" % repo).json()["manifests"]}
        self.assertFalse(listed[arm.digest]["changeableAttributes"]["readEnabled"])
        self.assertTrue(listed[amd.digest]["changeableAttributes"]["readEnabled"])
        # Time order puts the last updated first: patching arm made it the newest.
        newest = self.srv.get("/acr/v1/%s/_manifests?orderby=timedesc&n=1" % repo).json()["manifests"]
        self.assertEqual(newest[0]["digest"], arm.digest)
        missing = "sha256:" + "0" * 64
        self.assertError(self.srv.get("/acr/v1/%s/_manifests/%s" % (repo, missing)), 404, "MANIFEST_UNKNOWN")
        self.assertError(self.srv.get("/acr/v1/%s/_manifests/latest" % repo), 400, "DIGEST_INVALID")
        self.assertError(self.srv.request("DELETE", "/acr/v1/%s/_manifests/%s" % (repo, amd.digest)),
                         405, "UNSUPPORTED")

    def test_delete_repository(self):
        repo = "acr/gone-%s" % rand_name()
        other = "acr/stays-%s" % rand_name()
        a = push_image(self.srv, repo, "one")
        b = push_image(self.srv, repo, "two")
        push_image(self.srv, other, "one", image=a)
        r = self.srv.delete("/acr/v1/" + repo)
        self.assertStatus(r, 202)
        self.assertEqual(r.json(), {"manifestsDeleted": sorted([a.digest, b.digest]), "tagsDeleted": ["one", "two"]})
        self.assertError(self.srv.get("/acr/v1/" + repo), 404, "NAME_UNKNOWN")
        self.assertError(self.srv.get("/v2/%s/manifests/one" % repo), 404, "MANIFEST_UNKNOWN")
        self.assertError(self.srv.get("/v2/%s/blobs/%s" % (repo, digest(a.config))), 404, "BLOB_UNKNOWN")
        self.assertNotIn(repo, self.srv.get("/acr/v1/_catalog").json()["repositories"])
        # The other repository keeps the same content.
        self.assertStatus(self.srv.get("/v2/%s/manifests/one" % other), 200)
        self.assertBlob(self.srv, other, a.config)
        self.assertError(self.srv.delete("/acr/v1/" + repo), 404, "NAME_UNKNOWN")

    def test_catalog(self):
        names = sorted("acr-cat/%s" % rand_name() for _ in range(3))
        for n in names:
            push_image(self.srv, n, "x")
        seen, path = [], "/acr/v1/_catalog?n=1&last=acr-cat/"
        while path:
            r = self.srv.get(path)
            self.assertStatus(r, 200)
            got = r.json()["repositories"]
            seen += [g for g in got if g.startswith("acr-cat/")]
            nxt = parse_link_next(r.header("Link"))
            if nxt:
                self.assertEqual(nxt[0], "/acr/v1/_catalog")
            path = nxt and nxt[0] + "?" + urllib.parse.urlencode(nxt[1])
        self.assertEqual(seen, names)


class AcrMetadataAuthTest(BerthTestCase):
    """Authentication on: reads need pull or metadata_read, PATCH metadata_write, DELETE
    delete; the challenge names the scope ACR names."""
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True)
        cls.srv.start()
        cls.admin = cls.srv.admin()

    def make_user(self, name, role, scope):
        self.assertStatus(self.admin.json("POST", "/api/v1/users", {"name": name, "password": name + "-password"}), 201)
        if role:
            self.assertStatus(self.admin.json("POST", "/api/v1/role-assignments",
                                              {"identity": name, "role": role, "scope": scope}), 201)
        return self.srv.basic(name, name + "-password")

    def test_permissions(self):
        repo = "team/app"
        push_image(self.admin, repo, "v1")
        puller = self.make_user("puller", "pull", "team/*")
        reader = self.make_user("reader", "reader", "team/app")
        nobody = self.make_user("nobody", None, "*")
        for who in (puller, reader):
            self.assertStatus(who.get("/acr/v1/team/app"), 200)
            self.assertStatus(who.get("/acr/v1/team/app/_tags"), 200)
            self.assertStatus(who.get("/acr/v1/team/app/_tags/v1"), 200)
            self.assertStatus(who.get("/acr/v1/team/app/_manifests"), 200)
            self.assertError(who.json("PATCH", "/acr/v1/team/app", {"deleteEnabled": False}), 403, "DENIED")
            self.assertError(who.delete("/acr/v1/team/app/_tags/v1"), 403, "DENIED")
            self.assertError(who.delete("/acr/v1/team/app"), 403, "DENIED")
        self.assertError(nobody.get("/acr/v1/team/app"), 403, "DENIED")
        self.assertTrue(self.srv.get("/acr/v1/team/app").json())  # a JSON error body
        r = self.srv.get("/acr/v1/team/app/_tags")
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertIn('scope="repository:team/app:metadata_read,pull"', r.header("WWW-Authenticate"))
        r = self.srv.request("PATCH", "/acr/v1/team/app", body=b"{}")
        self.assertIn('scope="repository:team/app:metadata_write"', r.header("WWW-Authenticate"))
        r = self.srv.get("/acr/v1/_catalog")
        self.assertIn('scope="registry:catalog:*"', r.header("WWW-Authenticate"))
        # Owner may change and delete; the catalog is filtered like /v2/_catalog.
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/team/app", {"deleteEnabled": False}), 200)
        push_image(self.admin, "other/x", "v1")
        self.assertEqual(reader.get("/acr/v1/_catalog").json()["repositories"], ["team/app"])
        self.assertEqual(self.admin.get("/acr/v1/_catalog").json()["repositories"], ["other/x", "team/app"])
        self.assertStatus(self.admin.delete("/acr/v1/other/x"), 202)


if __name__ == "__main__":
    main()
