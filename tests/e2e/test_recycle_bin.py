#!/usr/bin/env python3
"""Recycle bin (docs/recycle-bin.md) with a real server over HTTP: deletes by digest, by
tag (/v2 and /acr/v1) and of a whole repository (/acr/v1) hide everything at once from
/v2 and the listings; restore through /api/v1/recycle-bin and the `berth` CLI gives back
the same digests and tags and byte-identical blobs (an index with its children); a tag
now used elsewhere is a 409; purge; permissions; the bin off deletes for good; a delete is
in the bin after kill -9."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, Server, digest, index_manifest, main,  # noqa: E402
                       make_image, push_image, push_manifest, rand_name)

BIN = "/api/v1/recycle-bin"


class RecycleBinTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.admin()

    # -- helpers

    def items(self, client=None, **query):
        q = "&".join("%s=%s" % kv for kv in query.items())
        r = (client or self.admin).get(BIN + ("?" + q if q else ""))
        self.assertStatus(r, 200)
        return r.json()["items"]

    def berth(self, *args, ok=True):
        return self.srv.berth(*args, check=ok)

    def berth_json(self, *args):
        return json.loads(self.berth(*(list(args) + ["-o", "json"])).stdout.decode())

    def assert_gone(self, repo, ref):
        self.assertError(self.admin.get("/v2/%s/manifests/%s" % (repo, ref)), 404, "MANIFEST_UNKNOWN", "NAME_UNKNOWN")

    def assert_image(self, repo, ref, image):
        """`ref` resolves to the image's digest and bytes; every blob pulls byte-identical."""
        r = self.admin.get("/v2/%s/manifests/%s" % (repo, ref),
                           headers={"Accept": image.media_type})
        self.assertStatus(r, 200, "%s:%s" % (repo, ref))
        self.assertEqual(r.header("Docker-Content-Digest"), image.digest)
        self.assertEqual(r.body, image.manifest)
        for b in image.blobs():
            self.assertBlob(self.admin, repo, b)

    def tags(self, repo):
        r = self.admin.get("/v2/%s/tags/list" % repo)
        if r.status == 404:
            return []
        self.assertStatus(r, 200)
        return sorted(r.json().get("tags") or [])

    def push_tags(self, repo, image, *tags):
        push_image(self.admin, repo, image=image)
        for t in tags:
            push_manifest(self.admin, repo, t, image.manifest, image.media_type)

    # -- tests

    def test_delete_by_digest_then_restore_via_api(self):
        repo = "bin/" + rand_name()
        img = make_image(n_layers=2)
        self.push_tags(repo, img, "v1", "v2")
        other = make_image()
        self.push_tags(repo, other, "keep")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, img.digest)), 202)
        # Gone at once from reads and listings.
        for ref in (img.digest, "v1", "v2"):
            self.assert_gone(repo, ref)
        self.assertEqual(self.tags(repo), ["keep"])
        acr_tags = self.admin.get("/acr/v1/%s/_tags" % repo).json()["tags"]
        self.assertEqual([t["name"] for t in acr_tags], ["keep"])
        manifests = self.admin.get("/acr/v1/%s/_manifests" % repo).json()["manifests"]
        self.assertNotIn(img.digest, [m["digest"] for m in manifests])

        items = self.items(repository=repo)
        self.assertEqual(len(items), 1)
        item = items[0]
        self.assertEqual(item["kind"], "manifest")
        self.assertEqual(item["digest"], img.digest)
        self.assertEqual(item["tags"], ["v1", "v2"])
        self.assertEqual(item["repository"], repo)
        self.assertIn("deletedOn", item)
        self.assertIn("expiresOn", item)
        self.assertGreater(item["expiresOn"], item["deletedOn"])

        r = self.admin.request("POST", "%s/%d/restore" % (BIN, item["id"]))
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["restoredTags"], ["v1", "v2"])
        self.assertEqual(r.json()["restoredManifests"], [img.digest])
        for ref in (img.digest, "v1", "v2"):
            self.assert_image(repo, ref, img)
        self.assertEqual(self.tags(repo), ["keep", "v1", "v2"])
        self.assertEqual(self.items(repository=repo), [])
        # Restoring twice: the item is gone.
        self.assertError(self.admin.request("POST", "%s/%d/restore" % (BIN, item["id"])), 404)

    def test_delete_tags_then_restore_via_cli(self):
        repo = "bin/" + rand_name()
        img = make_image()
        self.push_tags(repo, img, "v1", "v2")
        self.assertStatus(self.admin.delete("/acr/v1/%s/_tags/v1" % repo), 202)
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v2" % repo), 202)
        self.assert_gone(repo, "v1")
        self.assert_gone(repo, "v2")
        self.assert_image(repo, img.digest, img)  # only the tags went
        listed = self.berth_json("manifest", "list-deleted", repo)["items"]
        self.assertEqual(sorted((i["kind"], tuple(i["tags"]), i["digest"]) for i in listed),
                         [("tag", ("v1",), img.digest), ("tag", ("v2",), img.digest)])
        table = self.berth("manifest", "list-deleted", repo, "-o", "table").stdout.decode()
        self.assertIn("KIND", table.upper())
        self.assertIn(img.digest, table)

        restored = self.berth_json("manifest", "restore", repo + ":v1")
        self.assertEqual(restored["restoredTags"], ["v1"])
        self.assert_image(repo, "v1", img)
        self.assert_gone(repo, "v2")
        self.berth_json("manifest", "restore", repo + ":v2", "--digest", img.digest)
        self.assert_image(repo, "v2", img)
        p = self.berth("manifest", "restore", repo + ":v3", ok=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("nothing in the recycle bin matches", p.stderr.decode())

    def test_index_with_children(self):
        repo = "bin/" + rand_name()
        amd, arm = make_image(arch="amd64"), make_image(arch="arm64")
        push_image(self.admin, repo, image=amd)
        push_image(self.admin, repo, image=arm)
        mt, body = index_manifest([(amd, "amd64"), (arm, "arm64")])
        push_manifest(self.admin, repo, "multi", body, mt)
        idx = digest(body)
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, idx)), 202)
        # The children go too (later, separately); the index item alone brings all back.
        for child in (amd, arm):
            self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, child.digest)), 202)
        self.assert_gone(repo, "multi")
        self.assert_gone(repo, amd.digest)
        index_items = [i for i in self.items(repository=repo) if i["digest"] == idx]
        self.assertEqual(len(index_items), 1)
        self.assertEqual(index_items[0]["manifests"], 3)
        self.berth_json("manifest", "restore", repo + ":multi")
        r = self.admin.get("/v2/%s/manifests/multi" % repo, headers={"Accept": mt})
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Docker-Content-Digest"), idx)
        self.assertEqual(r.body, body)
        for child in (amd, arm):
            self.assert_image(repo, child.digest, child)

    def test_repository_delete_and_restore(self):
        repo = "bin/" + rand_name()
        a, b = make_image(n_layers=2), make_image()
        self.push_tags(repo, a, "a1", "latest")
        self.push_tags(repo, b, "b1")
        before = self.admin.get("/acr/v1/" + repo).json()
        r = self.admin.delete("/acr/v1/" + repo)
        self.assertStatus(r, 202)
        self.assertEqual(sorted(r.json()["tagsDeleted"]), ["a1", "b1", "latest"])
        catalog = self.admin.get("/v2/_catalog?n=1000").json()["repositories"]
        self.assertNotIn(repo, catalog)
        self.assertError(self.admin.get("/v2/%s/tags/list" % repo), 404, "NAME_UNKNOWN")
        self.assertError(self.admin.get("/v2/%s/blobs/%s" % (repo, digest(a.layers[0]))), 404)
        self.assertError(self.admin.get("/acr/v1/" + repo), 404)

        listed = self.berth_json("repository", "list-deleted")["items"]
        mine = [i for i in listed if i["repository"] == repo]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["kind"], "repository")
        self.assertEqual(mine[0]["tags"], ["a1", "b1", "latest"])
        self.assertEqual(mine[0]["manifests"], 2)
        self.assertIsNone(mine[0]["digest"])
        self.assertEqual(self.berth_json("manifest", "list-deleted", repo)["items"], [])

        # New content meanwhile: the restore merges.
        c = make_image()
        self.push_tags(repo, c, "c1")
        self.berth_json("repository", "restore", repo)
        self.assertEqual(self.tags(repo), ["a1", "b1", "c1", "latest"])
        self.assert_image(repo, "a1", a)
        self.assert_image(repo, "latest", a)
        self.assert_image(repo, "b1", b)
        self.assert_image(repo, "c1", c)
        after = self.admin.get("/acr/v1/" + repo).json()
        self.assertEqual(after["createdTime"], before["createdTime"])

    def test_repository_restore_into_empty_name_keeps_attributes(self):
        repo = "bin/" + rand_name()
        a = make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/" + repo, {"deleteEnabled": True, "listEnabled": False}),
                          200)
        before = self.admin.get("/acr/v1/" + repo).json()
        self.assertStatus(self.admin.delete("/acr/v1/" + repo), 202)
        item = self.items(repository=repo, kind="repository")[0]
        self.assertStatus(self.admin.request("POST", "%s/%d/restore" % (BIN, item["id"])), 200)
        after = self.admin.get("/acr/v1/" + repo).json()
        self.assertEqual(after["createdTime"], before["createdTime"])
        self.assertEqual(after["changeableAttributes"], before["changeableAttributes"])
        self.assert_image(repo, "v1", a)

    def test_restoring_a_tag_now_used_elsewhere_is_a_conflict(self):
        repo = "bin/" + rand_name()
        a, b = make_image(), make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)
        self.push_tags(repo, b, "v1")
        item = self.items(repository=repo)[0]
        r = self.admin.request("POST", "%s/%d/restore" % (BIN, item["id"]))
        doc = self.assertError(r, 409, "CONFLICT")
        self.assertIn("v1", doc["errors"][0]["message"])
        self.assert_image(repo, "v1", b)  # not overwritten
        self.assert_gone(repo, a.digest)
        self.assertEqual(len(self.items(repository=repo)), 1)
        p = self.berth("manifest", "restore", repo + ":v1", ok=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("v1", p.stderr.decode())

    def test_purge_now(self):
        repo = "bin/" + rand_name()
        a = make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        item = self.items(repository=repo)[0]
        self.assertStatus(self.admin.get("%s/%d" % (BIN, item["id"])), 200)
        self.assertStatus(self.admin.delete("%s/%d" % (BIN, item["id"])), 204)
        self.assertEqual(self.items(repository=repo), [])
        self.assertError(self.admin.request("POST", "%s/%d/restore" % (BIN, item["id"])), 404)
        self.assertError(self.admin.delete("%s/%d" % (BIN, item["id"])), 404)

    def test_bad_requests(self):
        self.assertError(self.admin.get(BIN + "?kind=blob"), 400)
        self.assertError(self.admin.get(BIN + "?n=0"), 400)
        self.assertError(self.admin.get(BIN + "?bogus=1"), 400)
        self.assertError(self.admin.get(BIN + "/abc"), 404)
        self.assertError(self.admin.get(BIN + "/999999999"), 404)
        self.assertError(self.admin.request("PUT", BIN), 405)
        self.assertError(self.srv.get(BIN), 401)

    def test_permissions(self):
        repo = "perm/" + rand_name()
        a = make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/v1" % repo), 202)
        item = self.items(repository=repo)[0]

        def user(name, *roles):
            pw = name + "-password-1"
            self.assertStatus(self.admin.json("POST", "/api/v1/users", {"name": name, "password": pw}), 201)
            for role in roles:
                self.assertStatus(self.admin.json("POST", "/api/v1/role-assignments",
                                                  {"identity": name, "role": role, "scope": repo}), 201)
            return self.srv.basic(name, pw)

        pusher = user("p" + rand_name(), "push")
        both = user("b" + rand_name(), "push", "delete")
        self.assertError(pusher.get(BIN + "?repository=" + repo), 403, "DENIED")
        self.assertError(pusher.request("POST", "%s/%d/restore" % (BIN, item["id"])), 403, "DENIED")
        self.assertError(both.get(BIN), 403, "DENIED")  # the whole bin needs owner on '*'
        self.assertEqual([i["id"] for i in self.items(client=both, repository=repo)], [item["id"]])
        self.assertStatus(both.request("POST", "%s/%d/restore" % (BIN, item["id"])), 200)
        self.assert_image(repo, "v1", a)

    def test_kill_9_after_delete_keeps_the_item(self):
        repo = "bin/" + rand_name()
        a = make_image()
        self.push_tags(repo, a, "v1")
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)
        self.srv.kill()
        self.srv.start()  # on a new port: the clients follow
        type(self).admin = self.srv.admin()
        items = self.items(repository=repo)
        self.assertEqual([(i["kind"], i["digest"], i["tags"]) for i in items], [("manifest", a.digest, ["v1"])])
        self.assertStatus(self.admin.request("POST", "%s/%d/restore" % (BIN, items[0]["id"])), 200)
        self.assert_image(repo, "v1", a)


class RecycleBinOffTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True, config="recycle_bin:\n  enabled: false\n").start()
        cls.admin = cls.srv.admin()

    def test_deletes_are_permanent(self):
        repo = "off/" + rand_name()
        a, b = make_image(), make_image()
        push_image(self.admin, repo, image=a)
        push_manifest(self.admin, repo, "v1", a.manifest, a.media_type)
        push_image(self.admin, repo + "x", image=b)
        self.assertStatus(self.admin.delete("/v2/%s/manifests/%s" % (repo, a.digest)), 202)
        self.assertStatus(self.admin.delete("/acr/v1/%sx" % repo), 202)
        self.assertError(self.admin.get("/v2/%s/manifests/v1" % repo), 404)
        r = self.admin.get(BIN)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["items"], [])

    def test_retention_is_validated(self):
        for bad in ("0", "91", "x"):
            srv = Server(auth=True, config="recycle_bin:\n  retention_days: %s\n" % bad)
            with self.assertRaises(Exception) as ctx:
                srv.start()
            self.assertIn("recycle_bin.retention_days", str(ctx.exception))


if __name__ == "__main__":
    main()
