"""Locks: the changeable attributes (writeEnabled, deleteEnabled, readEnabled,
listEnabled) of repositories, tags and manifests are enforced on /v2 and /acr/v1, with
403 DENIED naming the lock; set through /acr/v1 PATCH and `berth repository update`."""
import json
import subprocess

from berthtest import (BerthTestCase, Server, berth_bin, digest, main, make_image, push_blob, push_image,
                       push_manifest, put_manifest, rand_name)


class LockHelpers:
    def assertLocked(self, r, what, attribute):
        self.assertError(r, 403, "DENIED")
        msg = r.json()["errors"][0]["message"]
        self.assertEqual(msg, "%s is locked: %s is false" % (what, attribute))

    def repo(self):
        return "locks/" + rand_name("r")


class LockTest(LockHelpers, BerthTestCase):

    def patch(self, path, **attrs):
        r = self.srv.json("PATCH", "/acr/v1/" + path, attrs)
        self.assertStatus(r, 200)

    def test_write_locks(self):
        repo = self.repo()
        a = push_image(self.srv, repo, "v1")
        b = make_image()
        for blob in b.blobs():
            push_blob(self.srv, repo, blob)
        # Tag lock: the tag can not move; re-pushing what it has is no change; other tags work.
        self.patch("%s/_tags/v1" % repo, writeEnabled=False)
        self.assertLocked(put_manifest(self.srv, repo, "v1", b.manifest, b.media_type),
                          "tag %s:v1" % repo, "writeEnabled")
        self.assertStatus(put_manifest(self.srv, repo, "v1", a.manifest, a.media_type), 201)
        self.assertStatus(put_manifest(self.srv, repo, "v2", b.manifest, b.media_type), 201)
        self.assertEqual(self.srv.get("/v2/%s/manifests/v1" % repo).header("Docker-Content-Digest"), a.digest)
        self.patch("%s/_tags/v1" % repo, writeEnabled=True)
        # Manifest lock: a tag on it can not be moved away.
        self.patch("%s/_manifests/%s" % (repo, a.digest), writeEnabled=False)
        self.assertLocked(put_manifest(self.srv, repo, "v1", b.manifest, b.media_type),
                          "manifest %s@%s" % (repo, a.digest), "writeEnabled")
        self.patch("%s/_manifests/%s" % (repo, a.digest), writeEnabled=True)
        self.assertStatus(put_manifest(self.srv, repo, "v1", b.manifest, b.media_type), 201)
        # Repository lock: no push at all, by tag or digest; lifting it lets them in.
        self.patch(repo, writeEnabled=False)
        c = make_image()
        for blob in c.blobs():
            push_blob(self.srv, repo, blob)
        self.assertLocked(put_manifest(self.srv, repo, "v3", c.manifest, c.media_type),
                          "repository " + repo, "writeEnabled")
        self.assertLocked(put_manifest(self.srv, repo, c.digest, c.manifest, c.media_type),
                          "repository " + repo, "writeEnabled")
        self.assertError(self.srv.get("/v2/%s/manifests/v3" % repo), 404, "MANIFEST_UNKNOWN")
        self.patch(repo, writeEnabled=True)
        self.assertStatus(put_manifest(self.srv, repo, "v3", c.manifest, c.media_type), 201)

    def test_delete_locks(self):
        repo = self.repo()
        a = push_image(self.srv, repo, "v1")
        push_manifest(self.srv, repo, "also", a.manifest, a.media_type)
        b = push_image(self.srv, repo, "v2")
        # A delete-locked tag: not untagged, and its manifest not deleted by digest.
        self.patch("%s/_tags/v1" % repo, deleteEnabled=False)
        self.assertLocked(self.srv.delete("/v2/%s/manifests/v1" % repo), "tag %s:v1" % repo, "deleteEnabled")
        self.assertLocked(self.srv.delete("/acr/v1/%s/_tags/v1" % repo), "tag %s:v1" % repo, "deleteEnabled")
        self.assertLocked(self.srv.delete("/v2/%s/manifests/%s" % (repo, a.digest)),
                          "tag %s:v1" % repo, "deleteEnabled")
        self.assertStatus(self.srv.delete("/v2/%s/manifests/also" % repo), 202)  # another tag is free
        # A delete-locked manifest.
        self.patch("%s/_manifests/%s" % (repo, b.digest), deleteEnabled=False)
        self.assertLocked(self.srv.delete("/v2/%s/manifests/%s" % (repo, b.digest)),
                          "manifest %s@%s" % (repo, b.digest), "deleteEnabled")
        # The repository holds locked images: it is not deleted either.
        self.assertLocked(self.srv.delete("/acr/v1/" + repo), "manifest %s@%s" % (repo, b.digest), "deleteEnabled")
        self.patch("%s/_manifests/%s" % (repo, b.digest), deleteEnabled=True)
        self.patch("%s/_tags/v1" % repo, deleteEnabled=True)
        # A delete-locked repository refuses every delete in it.
        self.patch(repo, deleteEnabled=False)
        for r in (self.srv.delete("/v2/%s/manifests/v2" % repo), self.srv.delete("/acr/v1/" + repo),
                  self.srv.delete("/v2/%s/manifests/%s" % (repo, a.digest))):
            self.assertLocked(r, "repository " + repo, "deleteEnabled")
        self.assertStatus(self.srv.get("/v2/%s/manifests/v1" % repo), 200)
        self.patch(repo, deleteEnabled=True)
        self.assertStatus(self.srv.delete("/acr/v1/" + repo), 202)

    def test_read_locks(self):
        repo = self.repo()
        a = push_image(self.srv, repo, "v1")
        layer = "/v2/%s/blobs/%s" % (repo, digest(a.layers[0]))
        by_tag, by_digest = "/v2/%s/manifests/v1" % repo, "/v2/%s/manifests/%s" % (repo, a.digest)
        for p in (by_tag, by_digest, layer):  # warm the caches: locks must still apply at once
            self.assertStatus(self.srv.get(p), 200)
        self.patch("%s/_tags/v1" % repo, readEnabled=False)
        for method in ("GET", "HEAD"):
            r = self.srv.request(method, by_tag)
            self.assertEqual(r.status, 403)
        self.assertLocked(self.srv.get(by_tag), "tag %s:v1" % repo, "readEnabled")
        self.assertStatus(self.srv.get(by_digest), 200)
        self.patch("%s/_tags/v1" % repo, readEnabled=True)
        self.patch("%s/_manifests/%s" % (repo, a.digest), readEnabled=False)
        self.assertLocked(self.srv.get(by_digest), "manifest %s@%s" % (repo, a.digest), "readEnabled")
        self.assertLocked(self.srv.get(by_tag), "manifest %s@%s" % (repo, a.digest), "readEnabled")
        self.assertStatus(self.srv.get(layer), 200)  # blobs may be shared: a manifest lock leaves them
        self.patch("%s/_manifests/%s" % (repo, a.digest), readEnabled=True)
        self.patch(repo, readEnabled=False)
        self.assertLocked(self.srv.get(by_tag), "repository " + repo, "readEnabled")
        self.assertLocked(self.srv.get(layer), "repository " + repo, "readEnabled")
        self.assertEqual(self.srv.head(layer).status, 403)
        self.patch(repo, readEnabled=True)
        for p in (by_tag, by_digest, layer):
            self.assertStatus(self.srv.get(p), 200)

    def test_list_locks(self):
        repo = self.repo()
        a = push_image(self.srv, repo, "v1")
        b = push_image(self.srv, repo, "v2")
        self.patch("%s/_tags/v1" % repo, listEnabled=False)
        self.assertEqual(self.srv.get("/v2/%s/tags/list" % repo).json()["tags"], ["v2"])
        self.assertEqual([t["name"] for t in self.srv.get("/acr/v1/%s/_tags" % repo).json()["tags"]], ["v2"])
        self.assertStatus(self.srv.get("/acr/v1/%s/_tags/v1" % repo), 200)  # still readable by name
        self.assertStatus(self.srv.get("/v2/%s/manifests/v1" % repo), 200)
        self.patch("%s/_manifests/%s" % (repo, b.digest), listEnabled=False)
        self.assertEqual([m["digest"] for m in self.srv.get("/acr/v1/%s/_manifests" % repo).json()["manifests"]],
                         [a.digest])
        self.patch(repo, listEnabled=False)
        for path in ("/v2/_catalog", "/acr/v1/_catalog"):
            self.assertNotIn(repo, self.srv.get(path).json()["repositories"])
        self.assertStatus(self.srv.get("/acr/v1/" + repo), 200)
        self.patch(repo, listEnabled=True)
        self.assertIn(repo, self.srv.get("/v2/_catalog").json()["repositories"])



class LockCliTest(LockHelpers, BerthTestCase):
    """`berth repository ...` against a server with authentication on, as the admin."""
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.admin()

    def patch(self, path, **attrs):
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/" + path, attrs), 200)

    def test_cli_repository_update_and_show(self):
        repo = self.repo()
        a = push_image(self.admin, repo, "v1")
        registry = "http://%s:%d" % (self.srv.host, self.srv.port)

        def berth(*args):
            p = subprocess.run([berth_bin()] + list(args) + ["-r", registry, "-u", "admin", "-p", Server.ADMIN_PASSWORD],
                               capture_output=True, timeout=60)
            return p.returncode, p.stdout.decode(), p.stderr.decode()

        code, out, err = berth("repository", "update", repo + ":v1", "--write-enabled", "false",
                               "--delete-enabled", "false", "-o", "json")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["tag"]["changeableAttributes"],
                         {"deleteEnabled": False, "writeEnabled": False, "readEnabled": True, "listEnabled": True})
        self.assertLocked(self.admin.delete("/v2/%s/manifests/v1" % repo), "tag %s:v1" % repo, "deleteEnabled")
        code, out, err = berth("repository", "update", "%s@%s" % (repo, a.digest), "--read-enabled", "false")
        self.assertEqual(code, 0, err)
        self.assertIn("readEnabled", out)
        self.assertLocked(self.admin.get("/v2/%s/manifests/%s" % (repo, a.digest)),
                          "manifest %s@%s" % (repo, a.digest), "readEnabled")
        code, out, err = berth("repository", "update", repo, "--list-enabled", "false", "-o", "json")
        self.assertEqual(code, 0, err)
        self.assertFalse(json.loads(out)["changeableAttributes"]["listEnabled"])
        code, out, err = berth("repository", "show", repo + ":v1", "-o", "json")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)["tag"]["digest"], a.digest)
        code, out, err = berth("repository", "show-tags", repo, "-o", "json")
        self.assertEqual(code, 0, err)
        self.assertEqual([t["name"] for t in json.loads(out)["tags"]], ["v1"])
        # Bad input: a clear error, nothing changed.
        code, out, err = berth("repository", "update", repo, "--write-enabled", "maybe")
        self.assertNotEqual(code, 0)
        code, out, err = berth("repository", "update", repo + ":nope", "--write-enabled", "false")
        self.assertNotEqual(code, 0)
        self.assertIn("tag unknown to repository", err)
        self.assertTrue(self.admin.get("/acr/v1/" + repo).json()["changeableAttributes"]["writeEnabled"])


if __name__ == "__main__":
    main()
