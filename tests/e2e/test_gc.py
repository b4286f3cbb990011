#!/usr/bin/env python3
"""Online garbage collection (docs/gc.md) on a real server with gc.grace_period 0: after a
manifest is deleted, a dry run reports its unique blobs without deleting anything; POST
/api/v1/gc then deletes exactly those (gone from disk, GET blob 404) while shared ones are
still served; GET /api/v1/gc shows the last run; `berth gc --dry-run` prints the report;
only owners may run it; the counters reach /metrics."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (OCI_MANIFEST, BerthTestCase, Server, digest, image_manifest,  # noqa: E402
                       json_bytes, main, push_blob, push_manifest, rand_bytes, rand_name)

CONFIG = "gc:\n  grace_period: 0\n  schedule: false\n"


def blob_path(data_dir, d):
    alg, hexd = d.split(":")
    return os.path.join(data_dir, "blobs", alg, hexd[:2], hexd)


class GcTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True, config=CONFIG).start()
        cls.admin = cls.srv.admin()

    def berth(self, *args):
        return self.srv.berth(*args).stdout.decode()

    def push(self, repo, config, layers, tag):
        for b in [config] + layers:
            push_blob(self.admin, repo, b)
        return push_manifest(self.admin, repo, tag, image_manifest(config, layers), OCI_MANIFEST)

    def gc(self, dry_run):
        r = self.admin.json("POST", "/api/v1/gc", {"dryRun": dry_run})
        self.assertStatus(r, 200)
        return r.json()

    def test_deleted_manifest_frees_its_unique_blobs_only(self):
        # Start from nothing collectable (other tests' leftovers).
        self.gc(False)
        repo_a, repo_b = rand_name("gca"), rand_name("gcb")
        shared = rand_bytes(3000)
        config_a = json_bytes({"architecture": "amd64", "os": "linux", "n": rand_name()})
        config_b = json_bytes({"architecture": "arm64", "os": "linux", "n": rand_name()})
        unique_a = rand_bytes(5000)
        unique_b = rand_bytes(7000)
        manifest_a = self.push(repo_a, config_a, [shared, unique_a], "v1")
        self.push(repo_b, config_b, [shared, unique_b], "v1")
        r = self.admin.delete("/v2/%s/manifests/%s" % (repo_a, manifest_a))
        self.assertStatus(r, 202)
        garbage = sorted([digest(config_a), digest(unique_a)])
        freed = len(config_a) + len(unique_a)

        # The deleted manifest is in the recycle bin (on by default): its blobs stay referenced
        # until the item is purged.
        self.assertEqual(self.gc(True)["digests"], [])
        items = self.admin.get("/api/v1/recycle-bin?repository=" + repo_a).json()["items"]
        self.assertEqual([i["digest"] for i in items], [manifest_a])
        self.assertStatus(self.admin.delete("/api/v1/recycle-bin/%d" % items[0]["id"]), 204)

        dry = self.gc(True)
        self.assertTrue(dry["dryRun"])
        self.assertEqual(sorted(dry["digests"]), garbage)
        self.assertEqual(dry["blobsDeleted"], 2)
        self.assertEqual(dry["bytesFreed"], freed)
        for d in garbage:
            self.assertTrue(os.path.exists(blob_path(self.srv.data_dir, d)), d)
        self.assertStatus(self.admin.get("/v2/%s/blobs/%s" % (repo_a, digest(unique_a))), 200)

        real = self.gc(False)
        self.assertFalse(real["dryRun"])
        self.assertEqual(sorted(real["digests"]), garbage)
        self.assertEqual(real["bytesFreed"], freed)
        self.assertEqual(real["errors"], 0)
        for d in garbage:
            self.assertFalse(os.path.exists(blob_path(self.srv.data_dir, d)), d)
            self.assertError(self.admin.get("/v2/%s/blobs/%s" % (repo_a, d)), 404, "BLOB_UNKNOWN")
        # Shared and b's blobs are still served, byte for byte.
        for data in (shared, unique_b, config_b):
            r = self.admin.get("/v2/%s/blobs/%s" % (repo_b, digest(data)))
            self.assertStatus(r, 200)
            self.assertEqual(r.body, data)
        self.assertStatus(self.admin.get("/v2/%s/manifests/v1" % repo_b), 200)

        status = self.admin.get("/api/v1/gc")
        self.assertStatus(status, 200)
        self.assertFalse(status.json()["running"])
        self.assertEqual(sorted(status.json()["last"]["digests"]), garbage)

        again = self.gc(False)
        self.assertEqual(again["blobsDeleted"], 0)

        metrics = self.admin.get("/metrics").body.decode()
        deleted = [l for l in metrics.splitlines() if l.startswith("berth_gc_blobs_deleted_total ")]
        self.assertEqual(len(deleted), 1, metrics[:2000])
        self.assertGreaterEqual(float(deleted[0].split()[1]), 2)

    def test_cli_dry_run_prints_the_report(self):
        self.gc(False)
        repo = rand_name("gccli")
        data = rand_bytes(1234)
        d = push_blob(self.admin, repo, data)  # linked, referenced by nothing
        out = self.berth("gc", "--dry-run")
        self.assertIn("Dry run: would delete 1 blobs (1234 bytes)", out)
        self.assertIn(d, out)
        self.assertTrue(os.path.exists(blob_path(self.srv.data_dir, d)))
        as_json = json.loads(self.berth("gc", "--dry-run", "-o", "json"))
        self.assertEqual(as_json["digests"], [d])
        out = self.berth("gc")
        self.assertIn("Deleted 1 blobs (1234 bytes)", out)
        self.assertFalse(os.path.exists(blob_path(self.srv.data_dir, d)))

    def test_only_owners_and_bad_bodies(self):
        user = rand_name("u")
        r = self.admin.json("POST", "/api/v1/users", {"name": user, "password": "pw-" + user + "-long1A"})
        self.assertStatus(r, (200, 201))
        self.assertError(self.srv.basic(user, "pw-" + user + "-long1A").json("POST", "/api/v1/gc", {}), 403)
        self.assertError(self.srv.request("POST", "/api/v1/gc", body=b"{}"), 401)
        self.assertError(self.admin.json("POST", "/api/v1/gc", {"dryRun": "yes"}), 400)
        self.assertError(self.admin.json("POST", "/api/v1/gc", {"dry": True}), 400)
        self.assertError(self.admin.request("DELETE", "/api/v1/gc"), 405)


if __name__ == "__main__":
    main()
