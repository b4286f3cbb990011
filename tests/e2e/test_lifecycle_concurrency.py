#!/usr/bin/env python3
"""Lifecycle under load (docs/gc.md, docs/retention.md): pushers push images into "keep" and
"scratch" repositories (all sharing one base layer) and pullers pull the acknowledged keep
images, while garbage collection (grace period 0, no recycle bin), purge of the scratch
repositories and a retention policy on them run in loops.

Every image whose manifest PUT was acknowledged in a keep repository pulls back
byte-identical during and after the run. Afterwards a last purge empties the scratch
repositories and a last collection leaves on disk exactly the blobs the keep images
reference: nothing they need was lost and nothing else is left. A push may fail with
MANIFEST_BLOB_UNKNOWN when collection took its blobs between upload and manifest (grace
period 0): that push was never acknowledged."""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (OCI_MANIFEST, BerthTestCase, Server, digest, image_manifest, json_bytes,  # noqa: E402
                       main, push_blob, put_manifest, rand_bytes, rand_name)
from engines import Postgres, require  # noqa: E402

CONFIG = ("gc:\n  grace_period: 0\n  schedule: false\n"
          "recycle_bin:\n  enabled: false\n"
          "retention:\n  schedule: false\n")
RUN_SECONDS = 20
PUSHERS = 3
PULLERS = 2


def blobs_on_disk(data_dir):
    out = set()
    root = os.path.join(data_dir, "blobs")
    for alg in os.listdir(root) if os.path.isdir(root) else []:
        for dirpath, _, files in os.walk(os.path.join(root, alg)):
            for f in files:
                if len(f) in (64, 128) and all(c in "0123456789abcdef" for c in f):
                    out.add("%s:%s" % (alg, f))
    return out


class LifecycleConcurrencyTest(BerthTestCase):
    start_server = False

    def config(self):
        return CONFIG

    def test_push_pull_while_gc_purge_and_retention_loop(self):
        srv = self.srv = Server(auth=True, config=self.config()).start()
        admin = srv.admin()
        base = rand_bytes(8000)
        scratch = "conc/scratch"
        self.assertStatus(admin.json("PUT", "/api/v1/retention/policies/scratch",
                                     {"repositories": "conc/scratch.*", "keepLast": 1, "removeUntaggedAfter": "0s"}),
                          201)

        lock = threading.Lock()
        acked = []          # (repo, tag, manifest bytes, [blob bytes]) of keep images
        counts = {"keep": 0, "scratch": 0, "unacked": 0, "pulls": 0, "gc": 0, "purge": 0, "policy": 0}
        errors = []
        stop = threading.Event()

        def note(kind, n=1):
            with lock:
                counts[kind] += n

        def fail(what):
            with lock:
                errors.append(what)
            stop.set()

        def pusher(i):
            client = srv.admin()
            n = 0
            while not stop.is_set():
                n += 1
                keep = n % 2 == 0
                repo = ("conc/keep%d" % i) if keep else ("%s%d" % (scratch, i))
                tag = "t%d-%d" % (i, n)
                config = json_bytes({"architecture": "amd64", "os": "linux", "n": rand_name()})
                layer = rand_bytes(random.randint(2000, 20000))
                try:
                    for b in (config, base, layer):
                        push_blob(client, repo, b)
                    body = image_manifest(config, [base, layer])
                    r = put_manifest(client, repo, tag, body, OCI_MANIFEST)
                except Exception as e:  # noqa: BLE001 - a failed blob upload is a test failure
                    fail("push %s:%s: %s" % (repo, tag, e))
                    return
                if r.status == 201:
                    note("keep" if keep else "scratch")
                    if keep:
                        with lock:
                            acked.append((repo, tag, body, [config, base, layer]))
                elif r.status == 400 and b"MANIFEST_BLOB_UNKNOWN" in r.body:
                    note("unacked")
                else:
                    fail("push %s:%s answered %r" % (repo, tag, r))
                    return

        def check_image(client, image):
            repo, tag, body, blobs = image
            r = client.get("/v2/%s/manifests/%s" % (repo, tag), headers={"Accept": OCI_MANIFEST})
            if r.status != 200 or r.body != body:
                return "manifest %s:%s: %r" % (repo, tag, r)
            for b in blobs:
                r = client.get("/v2/%s/blobs/%s" % (repo, digest(b)))
                if r.status != 200 or r.body != b:
                    return "blob %s@%s of %s: %r" % (repo, digest(b), tag, r)
            return None

        def puller():
            client = srv.admin()
            while not stop.is_set():
                with lock:
                    image = random.choice(acked) if acked else None
                if image is None:
                    time.sleep(0.05)
                    continue
                problem = check_image(client, image)
                if problem:
                    fail(problem)
                    return
                note("pulls")

        def loop(kind, method, path, body):
            client = srv.admin()
            while not stop.is_set():
                r = client.json(method, path, body)
                if r.status == 200 and r.json().get("errors", 0) == 0:
                    note(kind)
                elif not (kind == "gc" and r.status == 409):
                    fail("%s answered %r" % (kind, r))
                    return
                time.sleep(0.05)

        threads = [threading.Thread(target=pusher, args=(i,)) for i in range(PUSHERS)]
        threads += [threading.Thread(target=puller) for _ in range(PULLERS)]
        threads += [threading.Thread(target=loop, args=("gc", "POST", "/api/v1/gc", {"dryRun": False})),
                    threading.Thread(target=loop, args=("purge", "POST", "/api/v1/purge",
                                                        {"filters": ["conc/scratch.*:.*"], "ago": "0s",
                                                         "untagged": True})),
                    threading.Thread(target=loop, args=("policy", "POST", "/api/v1/retention/run", {}))]
        for t in threads:
            t.start()
        stop.wait(RUN_SECONDS)
        stop.set()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        print("counts: %s" % counts, file=sys.stderr)
        self.assertGreaterEqual(counts["keep"], 10, counts)
        self.assertGreaterEqual(counts["scratch"], 10, counts)
        for kind in ("gc", "purge", "policy", "pulls"):
            self.assertGreater(counts[kind], 0, counts)

        # Every acknowledged keep image, byte for byte.
        for image in acked:
            self.assertIsNone(check_image(admin, image))

        # The last purge takes every scratch tag and manifest (all older than this second).
        time.sleep(1.1)
        r = admin.json("POST", "/api/v1/purge", {"filters": ["conc/scratch.*:.*"], "ago": "0s", "untagged": True})
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["errors"], 0)
        for i in range(PUSHERS):
            listed = admin.get("/v2/%s%d/tags/list" % (scratch, i))
            if listed.status == 200:
                self.assertEqual(listed.json()["tags"], [])
            else:
                self.assertError(listed, 404, "NAME_UNKNOWN")
        gc = admin.json("POST", "/api/v1/gc", {"dryRun": False})
        self.assertStatus(gc, 200)
        self.assertEqual(gc.json()["errors"], 0)
        wanted = {digest(b) for image in acked for b in image[3]}
        self.assertEqual(blobs_on_disk(srv.data_dir), wanted)
        again = admin.json("POST", "/api/v1/gc", {"dryRun": True}).json()
        self.assertEqual(again["blobsDeleted"], 0)
        for image in acked:
            self.assertIsNone(check_image(admin, image))
        srv.stop()


class LifecycleConcurrencyOnPostgresTest(LifecycleConcurrencyTest):
    """The same run with the metadata on PostgreSQL (started by the test)."""

    def config(self):
        pg = require(Postgres())
        return CONFIG + "meta:\n  driver: postgresql\n  dsn: '%s'\n" % pg.create_database("lifecycle")


if __name__ == "__main__":
    main()
