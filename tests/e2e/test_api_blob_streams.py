#!/usr/bin/env python3
"""Blob bodies under stress: clients that die mid-body, racing and parallel uploads, and a
256 MiB blob streamed in and out under a memory bound (blobs are never buffered)."""
import hashlib
import http.client
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, add_query, digest, location_path, main, push_blob,  # noqa: E402
                       rand_bytes, start_upload)


class ClientAbortTest(BerthTestCase):
    """A client that dies mid-body leaves nothing visible and a session it can resume."""

    def send_partial(self, method, path, total, data, headers=()):
        s = socket.create_connection((self.srv.host, self.srv.port), timeout=10)
        head = "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % (method, path, total)
        head += "".join("%s: %s\r\n" % h for h in headers) + "\r\n"
        s.sendall(head.encode() + data)
        time.sleep(0.3)
        s.close()
        time.sleep(0.3)

    def test_abort_mid_patch_then_resume(self):
        data = rand_bytes(3 * 1024 * 1024)
        loc = start_upload(self.srv, "abort/patch")
        r = self.srv.request("PATCH", loc, body=data[:1024 * 1024], headers={
            "Content-Type": "application/octet-stream", "Content-Range": "0-%d" % (1024 * 1024 - 1)})
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        sent = 700000
        self.send_partial("PATCH", loc, 2 * 1024 * 1024, data[1024 * 1024:1024 * 1024 + sent],
                          [("Content-Type", "application/octet-stream"),
                           ("Content-Range", "%d-%d" % (1024 * 1024, 3 * 1024 * 1024 - 1))])
        st = self.srv.get(loc)
        self.assertStatus(st, 204)
        end = int(st.header("Range").split("-")[1])
        self.assertGreaterEqual(end + 1, 1024 * 1024)
        self.assertLessEqual(end + 1, 1024 * 1024 + sent)
        off = end + 1
        r = self.srv.request("PATCH", loc, body=data[off:], headers={
            "Content-Type": "application/octet-stream", "Content-Range": "%d-%d" % (off, len(data) - 1)})
        self.assertStatus(r, 202)
        r = self.srv.request("PUT", add_query(location_path(r.header("Location")), digest=digest(data)))
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, "abort/patch", data)

    def test_abort_mid_monolithic_put(self):
        data = rand_bytes(2 * 1024 * 1024)
        d = digest(data)
        loc = start_upload(self.srv, "abort/put")
        self.send_partial("PUT", add_query(loc, digest=d), len(data), data[:500000],
                          [("Content-Type", "application/octet-stream")])
        self.send_partial("POST", "/v2/abort/put/blobs/uploads/?digest=%s" % d, len(data), data[:900000],
                          [("Content-Type", "application/octet-stream")])
        self.assertError(self.srv.get("/v2/abort/put/blobs/%s" % d), 404, "BLOB_UNKNOWN")
        self.assertStatus(self.srv.head("/v2/abort/put/blobs/%s" % d), 404)
        push_blob(self.srv, "abort/put", data)
        self.assertBlob(self.srv, "abort/put", data)


class ConcurrencyTest(BerthTestCase):
    def test_racing_patches_on_one_session(self):
        for attempt in range(5):
            data = rand_bytes(200000)
            loc = start_upload(self.srv, "conc/race")
            results = []

            def patch():
                results.append(self.srv.request("PATCH", loc, body=data, headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": "0-%d" % (len(data) - 1)}))

            threads = [threading.Thread(target=patch) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(r.status for r in results)
            self.assertEqual(codes.count(202), 1, results)
            for r in results:
                # Losers see the range already taken (416) or the session busy (400/409).
                if r.status != 202:
                    self.assertError(r, (400, 409, 416), "BLOB_UPLOAD_INVALID", "RANGE_INVALID", "CONFLICT")
            st = self.srv.get(loc)
            self.assertStatus(st, 204)
            self.assertEqual(st.header("Range"), "0-%d" % (len(data) - 1))
            r = self.srv.request("PUT", add_query(location_path(st.header("Location") or loc),
                                                  digest=digest(data)))
            self.assertStatus(r, 201)
            self.assertBlob(self.srv, "conc/race", data)

    def test_same_blob_in_parallel(self):
        data = rand_bytes(1024 * 1024)
        hows = ["post_put", "monolithic", "chunked"] * 6
        with ThreadPoolExecutor(8) as pool:
            ds = list(pool.map(lambda i: push_blob(self.srv, "conc/r%d" % (i % 3), data, how=hows[i],
                                                   chunk=300000), range(len(hows))))
        self.assertEqual(set(ds), {digest(data)})
        for i in range(3):
            self.assertBlob(self.srv, "conc/r%d" % i, data)

    def test_many_uploads_in_parallel(self):
        blobs = [rand_bytes(50000 + i) for i in range(24)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda b: push_blob(self.srv, "conc/many", b, how="chunked", chunk=7000), blobs))
        for b in blobs:
            self.assertBlob(self.srv, "conc/many", b)


class StreamingTest(BerthTestCase):
    """Blob bodies are streamed, never held in memory: the server's resident size must not
    grow by anything near the blob size while a 256 MiB blob goes in and out."""
    SIZE = 256 * 1024 * 1024
    LIMIT = 96 * 1024 * 1024

    def rss(self):
        with open("/proc/%d/status" % self.srv.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def sample(self, stop, peak):
        while not stop.is_set():
            peak[0] = max(peak[0], self.rss())
            time.sleep(0.01)

    block = rand_bytes(1024 * 1024)

    def stream(self):
        block = self.block
        for i in range(self.SIZE // len(block)):
            yield block[:8] + i.to_bytes(8, "big") + block[16:]

    def test_large_blob_streams(self):
        h = hashlib.sha256()
        for part in self.stream():
            h.update(part)
        d = "sha256:" + h.hexdigest()
        base = self.rss()
        peak = [base]
        stop = threading.Event()
        t = threading.Thread(target=self.sample, args=(stop, peak))
        t.start()
        try:
            loc = start_upload(self.srv, "stream/big")
            r = self.srv.request("PUT", add_query(loc, digest=d), body=self.stream(), timeout=300,
                                 headers={"Content-Type": "application/octet-stream",
                                          "Content-Length": str(self.SIZE)})
            self.assertStatus(r, 201)
            up_peak = peak[0]
            loc = start_upload(self.srv, "stream/big2")
            r = self.srv.request("PATCH", loc, body=self.stream(), timeout=300,
                                 headers={"Content-Type": "application/octet-stream"})  # chunked
            self.assertStatus(r, 202)
            self.assertEqual(r.header("Range"), "0-%d" % (self.SIZE - 1))
            r = self.srv.request("PUT", add_query(location_path(r.header("Location")), digest=d))
            self.assertStatus(r, 201)
            conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=300)
            conn.request("GET", "/v2/stream/big/blobs/%s" % d)
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.getheader("Content-Length"), str(self.SIZE))
            g = hashlib.sha256()
            n = 0
            while True:
                chunk = resp.read(1024 * 1024)
                if not chunk:
                    break
                g.update(chunk)
                n += len(chunk)
            conn.close()
            self.assertEqual(n, self.SIZE)
            self.assertEqual("sha256:" + g.hexdigest(), d)
        finally:
            stop.set()
            t.join()
        self.assertLess(up_peak - base, self.LIMIT, "RSS grew %d MiB during a 256 MiB PUT" %
                        ((up_peak - base) >> 20))
        self.assertLess(peak[0] - base, self.LIMIT, "RSS grew %d MiB moving 256 MiB blobs" %
                        ((peak[0] - base) >> 20))


if __name__ == "__main__":
    main()
