#!/usr/bin/env python3
"""Crash consistency: kill -9 during a large chunked upload and during loops of blob and
manifest pushes, restart on the same data dir, and check that everything the client saw
acknowledged (2xx) is there byte for byte, that the interrupted upload resumes, that
nothing half-written is visible, and that the server starts cleanly each time."""
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (ACCEPT_MANIFESTS, BerthTestCase, Server, add_query, digest,  # noqa: E402
                       location_path, main, make_image, rand_bytes)

MiB = 1024 * 1024
OCTET = {"Content-Type": "application/octet-stream"}


class CrashTest(BerthTestCase):
    start_server = False

    def restart_after_kill(self, srv):
        srv.kill()
        with open(srv.log_path, "rb") as f:
            f.seek(0, 2)
            offset = f.tell()
        srv.start()
        # A clean start: no error logged before "listening".
        with open(srv.log_path, "rb") as f:
            f.seek(offset)
            startup = f.read().split(b'"msg":"listening"')[0]
        for line in startup.splitlines():
            self.assertNotIn(b'"level":"error"', line, "error at start-up: %r" % line)
        self.assertStatus(srv.get("/v2/"), 200)

    def patch(self, srv, loc, data, first):
        return srv.request("PATCH", loc, body=data, headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": "%d-%d" % (first, first + len(data) - 1)})

    def resume_and_finish(self, srv, loc, data, lo, hi):
        """Asks the session where it is (must be within [lo, hi]), sends the rest, closes it
        and checks the blob."""
        st = srv.get(loc)
        self.assertStatus(st, 204, "upload status after restart")
        rng = st.header("Range")
        self.assertIsNotNone(rng, st)
        start, end = (int(x) for x in rng.split("-"))
        self.assertEqual(start, 0)
        offset = end + 1
        self.assertGreaterEqual(offset, lo, "acknowledged bytes lost: %s" % rng)
        self.assertLessEqual(offset, hi, "more bytes than were sent: %s" % rng)
        loc = location_path(st.header("Location") or loc)
        for off in range(offset, len(data), 2 * MiB):
            r = self.patch(srv, loc, data[off:off + 2 * MiB], off)
            self.assertStatus(r, 202)
            loc = location_path(r.header("Location"))
        r = srv.request("PUT", add_query(loc, digest=digest(data)))
        self.assertStatus(r, 201, "closing the resumed upload")
        self.assertBlob(srv, "crash/upload", data)
        return offset

    def upload_acknowledged(self, srv, data, chunks):
        """Starts an upload and PATCHes `chunks` MiB of `data`, each acknowledged (202);
        returns (location, bytes acknowledged)."""
        r = srv.request("POST", "/v2/crash/upload/blobs/uploads/")
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        acked = 0
        for _ in range(chunks):
            r = self.patch(srv, loc, data[acked:acked + MiB], acked)
            self.assertStatus(r, 202)
            acked += MiB
            loc = location_path(r.header("Location"))
        return loc, acked

    def test_kill_between_patches(self):
        with Server() as srv:
            data = rand_bytes(12 * MiB)
            loc, acked = self.upload_acknowledged(srv, data, 5)
            self.restart_after_kill(srv)
            off = self.resume_and_finish(srv, loc, data, acked, acked)
            self.assertEqual(off, acked)
            # Nothing else appeared.
            self.assertError(srv.get("/v2/crash/upload/blobs/%s" % digest(data[:acked])), 404, "BLOB_UNKNOWN")

    def test_kill_during_patch(self):
        with Server() as srv:
            data = rand_bytes(16 * MiB)
            loc, acked = self.upload_acknowledged(srv, data, 3)
            # A slow 8 MiB PATCH; kill once ~2 MiB of it has gone out.
            part = data[acked:acked + 8 * MiB]
            sent = [0]
            killed = threading.Event()

            def body():
                for i in range(0, len(part), 64 * 1024):
                    if killed.is_set():
                        return
                    sent[0] += len(part[i:i + 64 * 1024])
                    yield part[i:i + 64 * 1024]
                    time.sleep(0.005)

            result = {}

            def run():
                try:
                    result["resp"] = srv.request("PATCH", loc, body=body(), headers={
                        "Content-Type": "application/octet-stream", "Content-Length": str(len(part)),
                        "Content-Range": "%d-%d" % (acked, acked + len(part) - 1)})
                except Exception as e:  # the connection dies with the server
                    result["error"] = e

            t = threading.Thread(target=run)
            t.start()
            deadline = time.monotonic() + 30
            while sent[0] < 2 * MiB and time.monotonic() < deadline and t.is_alive():
                time.sleep(0.01)
            srv.kill()
            killed.set()
            t.join(30)
            self.assertFalse(t.is_alive())
            if "resp" in result:
                self.fail("in-flight PATCH completed before the kill: %r" % result["resp"])
            self.restart_after_kill(srv)
            off = self.resume_and_finish(srv, loc, data, acked, acked + sent[0])
            sys.stderr.write("\n  killed mid-PATCH: acked %d, sent %d more, server resumed at %d\n"
                             % (acked, sent[0], off))

    def test_kill_during_pushes(self):
        rng = random.Random()
        seed = rng.randrange(1 << 30)
        rng.seed(seed)
        acked_blobs = {}      # (repo, digest) -> bytes
        acked_manifests = {}  # (repo, tag) -> (bytes, media type)
        maybe_blobs = {}      # in flight when killed: may or may not exist, never partial
        maybe_manifests = {}
        srv = Server()
        srv.start()
        try:
            for rnd in range(6):
                stop = threading.Event()
                inflight = {}

                def put_manifest_tracked(repo, tag, body, media_type):
                    """PUTs a manifest, marked in flight until answered; True once acknowledged
                    (recorded), False when the server died or refused (the worker stops)."""
                    inflight.clear()
                    inflight["manifest"] = (repo, tag, body, media_type)
                    try:
                        r = srv.request("PUT", "/v2/%s/manifests/%s" % (repo, tag), body=body,
                                        headers={"Content-Type": media_type})
                    except Exception:
                        return False
                    inflight.clear()
                    if r.status != 201:
                        errors.append(r)
                        return False
                    acked_manifests[(repo, tag)] = (body, media_type)
                    return True

                def manifest_worker():
                    """Odd rounds: nearly all time in manifest PUTs, so kills land there."""
                    repo = "crash/m%d" % rnd
                    base = make_image(layer_size=10)
                    for b in base.blobs():
                        try:
                            bad = self.push_blob_quiet(srv, repo, b, "monolithic")
                        except Exception:
                            return
                        if bad is not None:
                            errors.append(bad)
                            return
                        acked_blobs[(repo, digest(b))] = b
                    doc = json.loads(base.manifest)
                    i = 0
                    while not stop.is_set():
                        doc["annotations"] = {"n": str(i)}
                        body = json.dumps(doc).encode()
                        if not put_manifest_tracked(repo, "m%d-%d" % (rnd, i), body, base.media_type):
                            return
                        i += 1

                def worker():
                    i = 0
                    while not stop.is_set():
                        repo = "crash/r%d" % rng.randrange(3)
                        img = make_image(docker=rng.random() < 0.3, n_layers=rng.randrange(1, 3),
                                         layer_size=rng.choice([10, 5000, 300000, 1500000]))
                        for b in img.blobs():
                            how = rng.choice(["post_put", "monolithic", "chunked"])
                            inflight.clear()
                            inflight["blob"] = (repo, digest(b), b)
                            try:
                                bad = self.push_blob_quiet(srv, repo, b, how)
                            except Exception:
                                return
                            inflight.clear()
                            if bad is not None:
                                errors.append(bad)
                                return
                            acked_blobs[(repo, digest(b))] = b
                        if not put_manifest_tracked(repo, "t%d-%d" % (rnd, i), img.manifest, img.media_type):
                            return
                        i += 1

                errors = []
                t = threading.Thread(target=manifest_worker if rnd % 2 else worker)
                t.start()
                time.sleep(rng.uniform(0.3, 2.0))
                srv.kill()
                stop.set()
                t.join(60)
                self.assertFalse(t.is_alive())
                self.assertEqual(errors, [], "unexpected answers while pushing")
                if "blob" in inflight:
                    repo, d, b = inflight["blob"]
                    maybe_blobs[(repo, d)] = b
                if "manifest" in inflight:
                    repo, tag, body, mt = inflight["manifest"]
                    maybe_manifests[(repo, tag)] = (body, mt)
                sys.stderr.write("\n  round %d: %d blobs, %d manifests acknowledged; in flight: %s\n" % (
                    rnd, len(acked_blobs), len(acked_manifests), sorted(inflight) or "nothing"))
                self.restart_after_kill(srv)
                self.verify(srv, acked_blobs, acked_manifests, maybe_blobs, maybe_manifests,
                            "round %d (seed %d)" % (rnd, seed))
            self.assertGreater(len(acked_manifests), 3, "too few pushes to mean anything")
        except BaseException:
            srv.kill()
            raise
        rc = srv.stop()
        self.assertEqual(rc, 0)

    def push_blob_quiet(self, srv, repo, data, how):
        """None when pushed; the unexpected response otherwise. Connection errors (the
        server was killed) propagate."""
        d = digest(data)
        if how == "monolithic":
            r = srv.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, d), body=data, headers=OCTET)
            return None if r.status == 201 else r
        r = srv.request("POST", "/v2/%s/blobs/uploads/" % repo)
        if r.status != 202:
            return r
        loc = location_path(r.header("Location"))
        if how == "chunked":
            step = max(1, len(data) // 3 + 1)
            for off in range(0, len(data), step):
                r = self.patch(srv, loc, data[off:off + step], off)
                if r.status != 202:
                    return r
                loc = location_path(r.header("Location"))
            r = srv.request("PUT", add_query(loc, digest=d))
        else:
            r = srv.request("PUT", add_query(loc, digest=d), body=data, headers=OCTET)
        return None if r.status == 201 else r

    def verify(self, srv, acked_blobs, acked_manifests, maybe_blobs, maybe_manifests, where):
        for (repo, d), data in acked_blobs.items():
            r = srv.get("/v2/%s/blobs/%s" % (repo, d))
            self.assertStatus(r, 200, "acknowledged blob %s in %s lost, %s" % (d, repo, where))
            self.assertEqual(r.body, data, "acknowledged blob %s differs, %s" % (d, where))
        for (repo, d), data in maybe_blobs.items():
            r = srv.get("/v2/%s/blobs/%s" % (repo, d))
            self.assertStatus(r, (200, 404), where)
            if r.status == 200:
                self.assertEqual(r.body, data, "half-written blob visible: %s, %s" % (d, where))
                self.assertEqual(r.header("Content-Length"), str(len(data)))
        for (repo, tag), (body, mt) in acked_manifests.items():
            for ref in (tag, digest(body)):
                r = srv.get("/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": ACCEPT_MANIFESTS})
                self.assertStatus(r, 200, "acknowledged manifest %s:%s lost, %s" % (repo, ref, where))
                self.assertEqual(r.body, body, where)
                self.assertEqual(r.header("Content-Type"), mt, where)
        for (repo, tag), (body, mt) in maybe_manifests.items():
            r = srv.get("/v2/%s/manifests/%s" % (repo, tag), headers={"Accept": ACCEPT_MANIFESTS})
            self.assertStatus(r, (200, 404), where)
            if r.status == 200:
                self.assertEqual(r.body, body, "half-written manifest visible, %s" % where)
        # Catalog and tag lists agree with what is there.
        r = srv.get("/v2/_catalog")
        self.assertStatus(r, 200)
        repos = r.json().get("repositories") or []
        self.assertEqual(repos, sorted(repos))
        for repo in {repo for repo, _ in acked_manifests}:
            self.assertIn(repo, repos, where)
        known = set(acked_manifests) | set(maybe_manifests)
        for repo in repos:
            r = srv.get("/v2/%s/tags/list" % repo)
            self.assertStatus(r, (200, 404), where)
            tags = (r.json().get("tags") or []) if r.status == 200 else []
            for (rp, tag) in acked_manifests:
                if rp == repo:
                    self.assertIn(tag, tags, where)
            for tag in tags:
                self.assertIn((repo, tag), known, "tag %s:%s was never pushed, %s" % (repo, tag, where))
                m = srv.get("/v2/%s/manifests/%s" % (repo, tag), headers={"Accept": ACCEPT_MANIFESTS})
                self.assertStatus(m, 200, "listed tag %s:%s does not resolve, %s" % (repo, tag, where))
                doc = json.loads(m.body)
                for desc in [doc["config"]] + doc["layers"]:
                    b = srv.head("/v2/%s/blobs/%s" % (repo, desc["digest"]))
                    self.assertStatus(b, 200, "blob of %s:%s missing, %s" % (repo, tag, where))
                    self.assertEqual(b.header("Content-Length"), str(desc["size"]), where)


if __name__ == "__main__":
    main()
