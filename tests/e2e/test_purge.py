#!/usr/bin/env python3
"""Purge (docs/retention.md) on a real server: `acr purge` semantics through POST
/api/v1/purge and `berth purge`. A dry run lists exactly what the real run then removes, and
the same byte count, which garbage collection frees once the recycle-bin items are gone;
index children of a kept index and referrers follow what needs them; --keep counts among
what could go; locked tags are skipped and reported unless --include-locked, repository
locks always hold; bad requests get 400 and non-owners 403.

Ages: the server keeps times in whole seconds, so a test pushes the "old" images, waits
GAP seconds and pushes the "new" ones; `ago` then splits the two groups in the middle."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (OCI_MANIFEST, BerthTestCase, Server, descriptor, digest, image_manifest,  # noqa: E402
                       index_manifest, json_bytes, main, make_image, push_blob, push_image, push_manifest,
                       rand_bytes, rand_name)

CONFIG = "gc:\n  grace_period: 0\n  schedule: false\nretention:\n  schedule: false\n"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
GAP = 4.0


class Split:
    """Marks the moment between old and new pushes (sleeping GAP seconds); ago() is the
    duration that puts the old ones before the cutoff and the new ones after it."""

    def __init__(self):
        self.mark = time.time()
        time.sleep(GAP)

    def ago(self):
        return "%ds" % max(1, round(time.time() - self.mark - GAP / 2))


class PurgeTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True, config=CONFIG).start()
        cls.admin = cls.srv.admin()

    def purge(self, filters, ago, status=200, **flags):
        body = {"filters": filters, "ago": ago}
        body.update(flags)
        r = self.admin.json("POST", "/api/v1/purge", body)
        self.assertStatus(r, status)
        return r.json()

    def image(self, repo, tag, layers):
        config = json_bytes({"architecture": "amd64", "os": "linux", "n": rand_name()})
        for b in [config] + layers:
            push_blob(self.admin, repo, b)
        body = image_manifest(config, layers)
        d = push_manifest(self.admin, repo, tag or digest(body), body, OCI_MANIFEST)
        return d, body, config

    @staticmethod
    def listed(report):
        tags, manifests, skipped = set(), set(), []
        for r in report["repositories"]:
            tags |= {(r["name"], t["tag"]) for t in r["tags"]}
            manifests |= {(r["name"], m["digest"]) for m in r["manifests"]}
            skipped += [(r["name"], s.get("tag") or s.get("digest") or "", s["reason"]) for s in r["skipped"]]
        return tags, manifests, sorted(skipped)

    def assert_gone(self, repo, ref):
        self.assertError(self.admin.get("/v2/%s/manifests/%s" % (repo, ref)), 404, "MANIFEST_UNKNOWN", "NAME_UNKNOWN")

    def assert_pulls(self, repo, ref, body):
        r = self.admin.get("/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": OCI_MANIFEST})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, body)

    def lock(self, path, **attrs):
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/" + path, attrs), 200)

    def test_dry_run_and_real_run_agree_and_gc_frees_the_bytes(self):
        self.assertStatus(self.admin.json("POST", "/api/v1/gc", {"dryRun": False}), 200)
        repo = "purge/" + rand_name("a")
        shared = rand_bytes(2000)
        layer = {n: rand_bytes(1000 + 100 * i) for i, n in enumerate(["one", "two", "dev", "loose", "new"])}
        one, one_body, one_config = self.image(repo, "v1", [shared, layer["one"]])
        two, two_body, two_config = self.image(repo, "v2", [layer["two"]])
        dev, dev_body, _ = self.image(repo, "dev-1", [layer["dev"]])
        loose, loose_body, loose_config = self.image(repo, None, [layer["loose"]])
        # A signature of v2 (untagged referrer) and a tagged multi-arch index (children untagged).
        empty = b"{}"
        payload = rand_bytes(300)
        push_blob(self.admin, repo, empty)
        push_blob(self.admin, repo, payload)
        sig_body = json_bytes({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.e2e.sig",
                               "config": {"mediaType": OCI_EMPTY, "digest": digest(empty), "size": 2},
                               "layers": [descriptor("application/vnd.e2e.payload", payload)],
                               "subject": {"mediaType": OCI_MANIFEST, "digest": two, "size": len(two_body)}})
        sig = push_manifest(self.admin, repo, digest(sig_body), sig_body, OCI_MANIFEST)
        amd, arm = make_image(arch="amd64"), make_image(arch="arm64")
        for img in (amd, arm):
            push_image(self.admin, repo, None, image=img)
        index_type, index_body = index_manifest([(amd, "amd64"), (arm, "arm64")])
        index = push_manifest(self.admin, repo, "multi", index_body, index_type)

        split = Split()
        new, new_body, _ = self.image(repo, "v3", [shared, layer["new"]])
        ago = split.ago()

        dry = self.purge([repo + ":^v"], ago, untagged=True, dryRun=True)
        self.assertTrue(dry["dryRun"])
        want_tags = {(repo, "v1"), (repo, "v2")}
        want_manifests = {(repo, d) for d in (one, two, sig, loose)}
        tags, manifests, skipped = self.listed(dry)
        self.assertEqual(tags, want_tags)
        self.assertEqual(manifests, want_manifests)
        self.assertEqual(skipped, [])
        self.assertEqual(dry["tagsDeleted"], 2)
        self.assertEqual(dry["manifestsDeleted"], 4)
        # Blobs only the removed images use; `shared` stays in use by v3.
        freed = sum(len(b) for b in (one_config, layer["one"], two_config, layer["two"], empty, payload,
                                     loose_config, layer["loose"]))
        self.assertEqual(dry["bytesFreed"], freed)
        # The signature goes after its subject in the listed order.
        order = [m["digest"] for r in dry["repositories"] for m in r["manifests"]]
        self.assertLess(order.index(two), order.index(sig))
        # Nothing changed.
        self.assert_pulls(repo, "v1", one_body)
        self.assert_pulls(repo, loose, loose_body)

        real = self.purge([repo + ":^v"], ago, untagged=True)
        self.assertFalse(real["dryRun"])
        self.assertTrue(real["recycleBin"])
        self.assertEqual(self.listed(real), (want_tags, want_manifests, []))
        self.assertEqual(real["bytesFreed"], freed)
        self.assertEqual(real["errors"], 0)
        for ref in ("v1", "v2", one, two, sig, loose):
            self.assert_gone(repo, ref)
        self.assert_pulls(repo, "v3", new_body)
        self.assert_pulls(repo, "dev-1", dev_body)
        self.assert_pulls(repo, dev, dev_body)
        r = self.admin.get("/v2/%s/manifests/multi" % repo, headers={"Accept": index_type})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, index_body)
        for img in (amd, arm):
            self.assert_pulls(repo, img.digest, img.manifest)
        self.assertEqual(self.admin.get("/v2/%s/referrers/%s" % (repo, two)).status, 200)

        # A second run finds nothing.
        again = self.purge([repo + ":^v"], ago, untagged=True)
        self.assertEqual((again["tagsDeleted"], again["manifestsDeleted"]), (0, 0))

        # Out of the recycle bin, garbage collection frees exactly the bytes reported.
        items = self.admin.get("/api/v1/recycle-bin?repository=" + repo).json()["items"]
        self.assertEqual(len(items), 6, items)  # 2 tags, 4 manifests
        gc = self.admin.json("POST", "/api/v1/gc", {"dryRun": True}).json()
        self.assertEqual(gc["bytesFreed"], 0)
        for item in items:
            self.assertStatus(self.admin.delete("/api/v1/recycle-bin/%d" % item["id"]), 204)
        gc = self.admin.json("POST", "/api/v1/gc", {"dryRun": False}).json()
        self.assertEqual(gc["bytesFreed"], freed)
        self.assertEqual(self.admin.get("/v2/%s/blobs/%s" % (repo, digest(shared))).body, shared)

    def test_keep_counts_among_what_could_go_and_locks_are_skipped(self):
        repo = "purge/" + rand_name("k")
        images = {}
        for t in ("t1", "t2", "t3", "t4"):
            images[t] = push_image(self.admin, repo, t)
            time.sleep(1.1)  # distinct update times: t4 is the newest
        self.lock("%s/_tags/t2" % repo, deleteEnabled=False)
        self.lock("%s/_manifests/%s" % (repo, images["t3"].digest), writeEnabled=False)
        time.sleep(2.2)  # a lock change is an update too: let it age past --ago
        report = self.purge([repo + ":.*"], "1s", keep=1)
        tags, manifests, skipped = self.listed(report)
        # t2 and t3 are locked (the tag; t3's manifest); of t1 and t4 the newest stays.
        self.assertEqual(tags, {(repo, "t1")})
        self.assertEqual(manifests, set())
        self.assertEqual(skipped, [(repo, "t2", "locked: deleteEnabled is false"),
                                   (repo, "t3", "locked: writeEnabled is false")])
        self.assert_gone(repo, "t1")
        self.assert_pulls(repo, images["t1"].digest, images["t1"].manifest)  # only untagged

        report = self.purge([repo + ":.*"], "1s", includeLocked=True, untagged=True)
        tags, manifests, skipped = self.listed(report)
        self.assertEqual(tags, {(repo, "t2"), (repo, "t3"), (repo, "t4")})
        self.assertEqual(manifests, {(repo, images[t].digest) for t in images})
        self.assertEqual(skipped, [])
        r = self.admin.get("/v2/%s/tags/list" % repo)  # the blob links stay until GC
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["tags"], [])

    def test_repository_lock_and_filters(self):
        locked_repo = "purge/" + rand_name("l")
        other = "purge/" + rand_name("o")
        push_image(self.admin, locked_repo, "v1")
        kept = push_image(self.admin, other, "release-1")
        push_image(self.admin, other, "v1")
        self.lock(locked_repo, deleteEnabled=False)
        time.sleep(2.1)
        # Two filters; the repository regex matches whole names ("purge/l" alone would not).
        report = self.purge([locked_repo + ":.*", other + ":^v"], "1s", includeLocked=True)
        tags, manifests, skipped = self.listed(report)
        self.assertEqual(tags, {(other, "v1")})
        self.assertEqual(skipped, [(locked_repo, "", "repository locked: deleteEnabled is false")])
        self.assert_pulls(locked_repo, "v1", self.admin.get("/v2/%s/manifests/v1" % locked_repo,
                                                           headers={"Accept": OCI_MANIFEST}).body)
        self.assert_pulls(other, "release-1", kept.manifest)
        partial = self.purge([locked_repo[:-2] + ":.*"], "1s")
        self.assertEqual(partial["repositories"], [])

    def test_cli(self):
        repo = "purge/" + rand_name("c")
        old = push_image(self.admin, repo, "old")
        split = Split()
        push_image(self.admin, repo, "new")
        ago = split.ago()
        out = self.srv.berth("purge", "--filter", repo + ":.*", "--ago", ago, "--untagged", "--dry-run").stdout.decode()
        self.assertIn("Dry run: would delete 1 tags and 1 manifests", out)
        self.assertIn("%s:old  %s" % (repo, old.digest), out)
        self.assertIn("%s@%s" % (repo, old.digest), out)
        self.assert_pulls(repo, "old", old.manifest)
        doc = json.loads(self.srv.berth("purge", "--filter", repo + ":.*", "--ago", ago, "--untagged",
                                        "-o", "json").stdout.decode())
        self.assertEqual(self.listed(doc)[:2], ({(repo, "old")}, {(repo, old.digest)}))
        self.assert_gone(repo, "old")
        p = self.srv.berth("purge", "--filter", repo + ":(", "--ago", "1d", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not a valid regular expression", p.stderr.decode())
        p = self.srv.berth("purge", "--filter", repo + ":.*", check=False)
        self.assertNotEqual(p.returncode, 0)  # --ago is required

    def test_bad_requests_and_owners_only(self):
        for body in ({"ago": "1d"},
                     {"filters": [], "ago": "1d"},
                     {"filters": ["no-colon"], "ago": "1d"},
                     {"filters": ["a:("], "ago": "1d"},
                     {"filters": ["a:.*"]},
                     {"filters": ["a:.*"], "ago": "yesterday"},
                     {"filters": ["a:.*"], "ago": "1d", "keep": -1},
                     {"filters": ["a:.*"], "ago": "1d", "dryRun": "yes"},
                     {"filters": ["a:.*"], "ago": "1d", "force": True}):
            self.assertError(self.admin.json("POST", "/api/v1/purge", body), 400)
        self.assertError(self.admin.get("/api/v1/purge"), 405)
        user = rand_name("u")
        password = "pw-" + user + "-long1A"
        self.assertStatus(self.admin.json("POST", "/api/v1/users", {"name": user, "password": password}), (200, 201))
        body = {"filters": [".*:.*"], "ago": "0s", "untagged": True}
        self.assertError(self.srv.basic(user, password).json("POST", "/api/v1/purge", body), 403)
        self.assertError(self.srv.request("POST", "/api/v1/purge", body=json.dumps(body).encode()), 401)


if __name__ == "__main__":
    main()
