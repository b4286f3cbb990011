#!/usr/bin/env python3
"""ACR's soft-delete routes (/acr/v1/_deleted, docs/metadata-api.md "Deleted items") over
the recycle bin, with a real server: deleted manifests and tags listed with ACR's field
names and paged through the Link header, the deleted catalog, a restore (POST with
{"tag"} as az acr sends it) pulled back byte for byte, the restore's 409/403 from the bin,
bad input as spec-style errors, and who may do what: roles, and bearer tokens that carry
(or lack) deleted_read, deleted_restore and registry:deleted_catalog:*."""
import base64
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, Server, main, make_image, parse_link_next,  # noqa: E402
                       push_image, push_manifest, rand_name)

DELETED = "/acr/v1/_deleted"


def jwt_access(token):
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims.get("access", [])


def challenge_scope(resp):
    return dict(re.findall(r'(\w+)="([^"]*)"', resp.header("WWW-Authenticate", ""))).get("scope")


class AcrDeletedTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.admin()

    # -- helpers

    def push_tags(self, repo, image, *tags):
        push_image(self.admin, repo, image=image)
        for t in tags:
            push_manifest(self.admin, repo, t, image.manifest, image.media_type)

    def user(self, *roles, scope=None):
        name = rand_name("u")
        pw = name + "-password-1"
        self.assertStatus(self.admin.json("POST", "/api/v1/users", {"name": name, "password": pw}), 201)
        for role in roles:
            self.assertStatus(self.admin.json("POST", "/api/v1/role-assignments",
                                              {"identity": name, "role": role, "scope": scope}), 201)
        return self.srv.basic(name, pw)

    def token(self, client, *scopes):
        q = "&".join(["service=berth"] + ["scope=" + urllib.parse.quote(s) for s in scopes])
        r = client.get("/oauth2/token?" + q)
        self.assertStatus(r, 200)
        return r.json()["access_token"]

    def walk(self, client, path, key):
        """Every item of a listing, following the Link header; the pages' sizes."""
        items, sizes = [], []
        while path:
            r = client.get(path)
            self.assertStatus(r, 200, path)
            page = r.json()[key]
            items += page
            sizes.append(len(page))
            nxt = parse_link_next(r.header("Link"))
            path = (nxt[0] + "?" + urllib.parse.urlencode(nxt[1])) if nxt else None
        return items, sizes

    def restore(self, client, repo, digest, tag=None, query="", body=True):
        doc = {"tag": tag} if body else None
        return client.json("POST", "%s/%s/_manifests/%s%s" % (DELETED, repo, digest, query), doc)

    def assert_image(self, repo, ref, image):
        r = self.admin.get("/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": image.media_type})
        self.assertStatus(r, 200, "%s:%s" % (repo, ref))
        self.assertEqual(r.header("Docker-Content-Digest"), image.digest)
        self.assertEqual(r.body, image.manifest)
        for b in image.blobs():
            self.assertBlob(self.admin, repo, b)

    # -- listings

    def test_deleted_manifests_and_tags_with_acr_fields_and_paging(self):
        repo = "del/" + rand_name()
        a, b, keep = make_image(n_layers=2), make_image(), make_image()
        self.push_tags(repo, a, "v1", "v2")
        self.push_tags(repo, b, "v3")
        self.push_tags(repo, keep, "keep")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)  # a, v1, v2
        self.assertStatus(self.admin.delete("/acr/v1/%s/_tags/v3" % repo), 202)  # only the tag
        # a again, deleted again: two deletions of one digest, each listed.
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)

        r = self.admin.get("%s/%s/_manifests" % (DELETED, repo))
        self.assertStatus(r, 200)
        body = r.json()
        self.assertEqual(body["registry"], self.srv.address)
        self.assertEqual(body["imageName"], repo)
        manifests = body["manifests"]
        self.assertEqual([m["digest"] for m in manifests], [a.digest, a.digest])  # not b: only its tag went
        self.assertEqual([m["tags"] for m in manifests], [["v1", "v2"], ["v1"]])  # oldest deletion first
        for m in manifests:
            self.assertEqual(m["mediaType"], a.media_type)
            for field in ("createdAt", "deletedAt"):
                self.assertRegex(m[field], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertLessEqual(m["createdAt"], m["deletedAt"])
        self.assertIsNone(r.header("Link"))

        r = self.admin.get("%s/%s/_tags" % (DELETED, urllib.parse.quote(repo, safe="")))  # as the SDKs encode it
        self.assertStatus(r, 200)
        tags = r.json()["tags"]
        self.assertEqual([(t["tag"], t["digest"]) for t in tags],
                         [("v1", a.digest), ("v1", a.digest), ("v2", a.digest), ("v3", b.digest)])
        self.assertEqual(sorted(tags[0]), ["createdAt", "deletedAt", "digest", "tag"])

        # Pages of one, through the Link header: the same entries, none twice.
        walked, sizes = self.walk(self.admin, "%s/%s/_tags?n=1" % (DELETED, repo), "tags")
        self.assertEqual(walked, tags)
        self.assertEqual(sizes, [1, 1, 1, 1])
        walked, sizes = self.walk(self.admin, "%s/%s/_manifests?n=1" % (DELETED, repo), "manifests")
        self.assertEqual(walked, manifests)
        r = self.admin.get("%s/%s/_tags?n=2" % (DELETED, repo))
        path, params = parse_link_next(r.header("Link"))
        self.assertEqual(path, "%s/%s/_tags" % (DELETED, repo))
        self.assertEqual(params["n"], "2")
        # `last` as a bare tag: the page after every entry of that tag.
        r = self.admin.get("%s/%s/_tags?last=v1" % (DELETED, repo))
        self.assertEqual([t["tag"] for t in r.json()["tags"]], ["v2", "v3"])

        # A live repository with nothing deleted: an empty listing.
        other = "del/" + rand_name()
        push_image(self.admin, other, "x")
        for kind in ("_manifests", "_tags"):
            r = self.admin.get("%s/%s/%s" % (DELETED, other, kind))
            self.assertStatus(r, 200)
            self.assertEqual(r.json()[kind[1:]], [])

    def test_deleted_catalog(self):
        repos = sorted("delcat/%s-%d" % (rand_name(), i) for i in range(3))
        for i, repo in enumerate(repos):
            img = make_image()
            self.push_tags(repo, img, "v1")
            if i == 0:
                self.assertStatus(self.admin.delete("/acr/v1/" + repo), 202)  # the whole repository
            else:
                self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        live = "delcat/" + rand_name()
        push_image(self.admin, live, "v1")
        listed, sizes = self.walk(self.admin, DELETED + "/_catalog?n=1", "repositories")
        self.assertTrue(all(s == 1 for s in sizes))
        names = [r["repository"] for r in listed]
        self.assertEqual(names, sorted(set(names)))  # sorted, none twice
        for repo in repos:
            self.assertIn(repo, names)
        self.assertNotIn(live, names)
        entry = listed[names.index(repos[0])]
        self.assertEqual(sorted(entry), ["createdAt", "deletedAt", "repository"])
        # The deleted repository's manifests and tags are listed under it too.
        r = self.admin.get("%s/%s/_tags" % (DELETED, repos[0]))
        self.assertEqual([t["tag"] for t in r.json()["tags"]], ["v1"])
        self.assertError(self.admin.request("POST", DELETED + "/_catalog"), 405, "UNSUPPORTED")

    # -- restore

    def test_restore_and_pull_back(self):
        repo = "delr/" + rand_name()
        a, b = make_image(n_layers=2), make_image()
        self.push_tags(repo, a, "v1", "latest")
        self.push_tags(repo, b, "v2")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)
        self.assertError(self.admin.get("/v2/%s/manifests/v1" % repo), 404, "MANIFEST_UNKNOWN")
        # As az acr manifest restore sends it: ?force=False and {"tag": ...}.
        r = self.restore(self.admin, repo, a.digest, "v1", "?force=False")
        self.assertStatus(r, 200)
        doc = r.json()
        self.assertEqual(doc["digest"], a.digest)
        self.assertEqual(doc["tag"], "v1")
        self.assertEqual(doc["restoredManifests"], [a.digest])
        self.assertEqual(doc["restoredTags"], ["latest", "v1"])  # the item brings back every tag it had
        for ref in (a.digest, "v1", "latest"):
            self.assert_image(repo, ref, a)
        r = self.admin.get("%s/%s/_manifests" % (DELETED, repo))
        self.assertEqual(r.json()["manifests"], [])
        # Twice: nothing left to restore.
        self.assertError(self.restore(self.admin, repo, a.digest, "v1"), 404, "MANIFEST_UNKNOWN")

        # An untagged tag comes back by its tag; by digest alone there is nothing (the
        # manifest itself was never deleted).
        self.assertStatus(self.admin.delete("/acr/v1/%s/_tags/v2" % repo), 202)
        self.assertError(self.restore(self.admin, repo, b.digest, body=False), 404, "MANIFEST_UNKNOWN")
        r = self.restore(self.admin, repo, b.digest, "v2")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["restoredTags"], ["v2"])
        self.assertEqual(r.json()["restoredManifests"], [])
        self.assert_image(repo, "v2", b)

        # By digest alone, without a body; a null tag is the same.
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, b.digest)), 202)
        r = self.restore(self.admin, repo, b.digest, None)
        self.assertStatus(r, 200)
        self.assertIsNone(r.json()["tag"])
        self.assert_image(repo, "v2", b)

        # A whole deleted repository comes back through one of its manifests.
        self.assertStatus(self.admin.delete("/acr/v1/" + repo), 202)
        self.assertError(self.admin.get("/acr/v1/" + repo), 404, "NAME_UNKNOWN")
        r = self.restore(self.admin, repo, a.digest, body=False)
        self.assertStatus(r, 200)
        self.assertEqual(sorted(r.json()["restoredTags"]), ["latest", "v1", "v2"])
        self.assert_image(repo, "v2", b)
        self.assert_image(repo, "latest", a)

    def test_restore_is_the_recycle_bins(self):
        repo = "delr/" + rand_name()
        a, b = make_image(), make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)
        self.push_tags(repo, b, "v1")  # v1 now names another manifest
        for query in ("", "?force=True"):
            doc = self.assertError(self.restore(self.admin, repo, a.digest, "v1", query), 409, "CONFLICT")
            self.assertIn("v1", doc["errors"][0]["message"])
        self.assert_image(repo, "v1", b)
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        # A write lock on the repository refuses it too.
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/" + repo, {"writeEnabled": False}), 200)
        doc = self.assertError(self.restore(self.admin, repo, a.digest, "v1"), 403, "DENIED")
        self.assertIn("writeEnabled", doc["errors"][0]["message"])
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/" + repo, {"writeEnabled": True}), 200)
        self.assertStatus(self.restore(self.admin, repo, a.digest, "v1"), 200)
        self.assert_image(repo, "v1", a)
        # The restore is audited as a push.
        deadline = time.monotonic() + 10
        while True:
            r = self.admin.get("/api/v1/audit?" + urllib.parse.urlencode({"repository": repo, "action": "push"}))
            self.assertStatus(r, 200)
            restores = [e for e in r.json()["entries"] if e["message"].startswith("restore")]
            if any(e["result"] == "success" for e in restores) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        ok = [e for e in restores if e["result"] == "success"]
        self.assertEqual(len(ok), 1, restores)
        self.assertEqual((ok[0]["digest"], ok[0]["tag"], ok[0]["identity"]), (a.digest, "v1", "admin"))
        self.assertTrue(any(e["status"] == 409 for e in restores), restores)

    # -- bad input

    def test_bad_input(self):
        repo = "delbad/" + rand_name()
        a = make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        base = "%s/%s/_manifests/" % (DELETED, repo)
        self.assertError(self.admin.request("POST", base + "sha256:nothex"), 400, "DIGEST_INVALID")
        self.assertError(self.admin.request("POST", base + "md5:abcd"), 400, "DIGEST_INVALID")
        unknown = "delbad/" + rand_name()
        self.assertError(self.restore(self.admin, unknown, a.digest, "v1"), 404, "NAME_UNKNOWN")
        for kind in ("_manifests", "_tags"):
            self.assertError(self.admin.get("%s/%s/%s" % (DELETED, unknown, kind)), 404, "NAME_UNKNOWN")
        other = make_image()
        self.assertError(self.restore(self.admin, repo, other.digest, None), 404, "MANIFEST_UNKNOWN")
        self.assertError(self.restore(self.admin, repo, a.digest, "v2"), 404, "MANIFEST_UNKNOWN")
        for bad in (b"[1]", b"{", b'{"tag": 3}'):
            r = self.admin.request("POST", base + a.digest, body=bad, headers={"Content-Type": "application/json"})
            self.assertError(r, 400, "INVALID_ARGUMENT")
        self.assertError(self.restore(self.admin, repo, a.digest, "bad tag!"), 400, "TAG_INVALID")
        self.assertError(self.restore(self.admin, repo, a.digest, "v1", "?force=maybe"), 400, "INVALID_ARGUMENT")
        for q in ("n=0", "n=x", "last=v1~x", "last=v1~0", "orderby=timedesc"):
            self.assertError(self.admin.get("%s/%s/_tags?%s" % (DELETED, repo, q)), 400, "INVALID_ARGUMENT")
        self.assertError(self.admin.get(DELETED + "/_catalog?n=-1"), 400, "INVALID_ARGUMENT")
        self.assertError(self.admin.get("%s/Bad..Name/_tags" % DELETED), 400, "NAME_INVALID")
        self.assertError(self.admin.delete("%s/%s/_manifests" % (DELETED, repo)), 405, "UNSUPPORTED")
        self.assertError(self.admin.get(base + a.digest), 405, "UNSUPPORTED")
        self.assertError(self.admin.get(DELETED + "/"), 404)
        self.assertError(self.admin.get("%s/%s/_tags/v1" % (DELETED, repo)), 404)
        # Still there after all that.
        self.assertStatus(self.restore(self.admin, repo, a.digest, "v1"), 200)

    # -- who may

    def test_roles(self):
        repo = "delperm/" + rand_name()
        hidden = "delperm/" + rand_name()
        a = make_image()
        self.push_tags(repo, a, "v1")
        self.push_tags(hidden, make_image(), "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % hidden), 202)
        listing = "%s/%s/_tags" % (DELETED, repo)

        puller = self.user("pull", scope=repo)
        pusher = self.user("push", scope=repo)
        reader = self.user("reader", scope=repo)
        restorer = self.user("push", "delete", scope=repo)
        for client in (puller, pusher):
            self.assertError(client.get(listing), 403, "DENIED")
            self.assertError(self.restore(client, repo, a.digest, "v1"), 403, "DENIED")
        self.assertStatus(reader.get(listing), 200)
        self.assertError(self.restore(reader, repo, a.digest, "v1"), 403, "DENIED")
        # The deleted catalog shows only repositories the caller may read deleted items in.
        for client in (reader, restorer):
            names = [x["repository"] for x in self.walk(client, DELETED + "/_catalog", "repositories")[0]]
            self.assertEqual(names, [repo])
        self.assertEqual(self.walk(puller, DELETED + "/_catalog", "repositories")[0], [])

        # Without credentials: challenges naming the scopes az acr asks for.
        r = self.srv.get(listing)
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertEqual(challenge_scope(r), "repository:%s:deleted_read" % repo)
        r = self.restore(self.srv, repo, a.digest, "v1")
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertEqual(challenge_scope(r), "repository:%s:deleted_read,deleted_restore" % repo)
        r = self.srv.get(DELETED + "/_catalog")
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertEqual(challenge_scope(r), "registry:deleted_catalog:*")

        self.assertStatus(restorer.get(listing), 200)
        self.assertStatus(self.restore(restorer, repo, a.digest, "v1"), 200)
        self.assert_image(repo, "v1", a)

    def test_tokens_grant_and_carry_the_new_scopes(self):
        repo = "deltok/" + rand_name()
        a = make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        listing = "%s/%s/_manifests" % (DELETED, repo)
        restore_scope = "repository:%s:deleted_read,deleted_restore" % repo

        def granted(client, *scopes):
            return [(e["type"], e["name"], e["actions"]) for e in jwt_access(self.token(client, *scopes))]

        # The token endpoint grants what the identity's roles allow, and nothing more.
        restorer = self.user("push", "delete", scope=repo)
        reader = self.user("reader", scope=repo)
        puller = self.user("pull", scope=repo)
        self.assertEqual(granted(restorer, restore_scope, "registry:deleted_catalog:*"),
                         [("repository", repo, ["deleted_read", "deleted_restore"]),
                          ("registry", "deleted_catalog", ["*"])])
        self.assertEqual(granted(reader, restore_scope, "registry:deleted_catalog:*"),
                         [("repository", repo, ["deleted_read"]), ("registry", "deleted_catalog", ["*"])])
        self.assertEqual(granted(puller, restore_scope, "registry:deleted_catalog:*"), [])
        # "*" does not bring them in for a partial grant.
        self.assertEqual(granted(restorer, "repository:%s:*" % repo), [("repository", repo, ["pull", "push", "delete"])])
        # Unknown actions stay a 400.
        self.assertError(restorer.get("/oauth2/token?service=berth&scope=" +
                                      urllib.parse.quote("repository:%s:deleted_purge" % repo)), 400)

        # A bearer token is worth what it names.
        pull_only = self.srv.bearer(self.token(self.admin, "repository:%s:pull" % repo))
        for r in (pull_only.get(listing), self.restore(pull_only, repo, a.digest, "v1")):
            self.assertError(r, 401, "UNAUTHORIZED")
            self.assertIn("insufficient_scope", r.header("WWW-Authenticate"))
        content = self.srv.bearer(self.token(restorer, "repository:%s:pull,push,delete" % repo))
        self.assertError(self.restore(content, repo, a.digest, "v1"), 401, "UNAUTHORIZED")
        read_only = self.srv.bearer(self.token(restorer, "repository:%s:deleted_read" % repo))
        self.assertStatus(read_only.get(listing), 200)
        self.assertError(self.restore(read_only, repo, a.digest, "v1"), 401, "UNAUTHORIZED")
        catalog = self.srv.bearer(self.token(self.admin, "registry:catalog:*"))
        self.assertError(catalog.get(DELETED + "/_catalog"), 401, "UNAUTHORIZED")
        deleted_catalog = self.srv.bearer(self.token(reader, "registry:deleted_catalog:*"))
        r = deleted_catalog.get(DELETED + "/_catalog")
        self.assertStatus(r, 200)
        self.assertEqual([x["repository"] for x in r.json()["repositories"]], [repo])
        self.assertError(deleted_catalog.get(listing), 401, "UNAUTHORIZED")  # names no repository
        full = self.srv.bearer(self.token(restorer, restore_scope))
        self.assertStatus(full.get(listing), 200)
        self.assertStatus(self.restore(full, repo, a.digest, "v1"), 200)
        self.assert_image(repo, "v1", a)


class AcrDeletedAuthOffTest(BerthTestCase):
    """`auth: none`: the routes are open, as /acr/v1 is."""

    def test_open_without_authentication(self):
        repo = "open/" + rand_name()
        a = make_image()
        push_image(self.srv, repo, "v1", image=a)
        self.assertStatus(self.srv.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)
        r = self.srv.get(DELETED + "/_catalog")
        self.assertStatus(r, 200)
        self.assertIn(repo, [x["repository"] for x in r.json()["repositories"]])
        r = self.srv.json("POST", "%s/%s/_manifests/%s" % (DELETED, repo, a.digest), {"tag": "v1"})
        self.assertStatus(r, 200)
        self.assertStatus(self.srv.get("/v2/%s/manifests/v1" % repo, headers={"Accept": a.media_type}), 200)


if __name__ == "__main__":
    main()
