"""Request and connection limits: target length, header count and size, idle and header
timeouts, max_connections, stalled uploads and downloads (body_stall_timeout).

Each class starts its own server with short limits from a --config YAML."""
import http.client
import os
import socket
import threading
import time

from berthtest import (BerthTestCase, RawConn, Server, add_query, digest, location_path, main,
                       make_image, open_fd_count, push_blob, push_image, rand_bytes,
                       start_upload, recv_until_closed)

HEADER_TIMEOUT = 2
IDLE_TIMEOUT = 4
STALL_TIMEOUT = 2


def request_bytes(method, target, headers=(), body=b""):
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: x"] + list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def patch_head(loc, length):
    """The head of a PATCH carrying bytes 0..length-1 of an upload; the body follows."""
    return request_bytes("PATCH", loc, ["Content-Type: application/octet-stream",
                                        "Content-Length: %d" % length,
                                        "Content-Range: 0-%d" % (length - 1)])


class LimitsTest(BerthTestCase):
    start_server = False
    MAX_TARGET = 1024
    MAX_FIELDS = 20
    MAX_HEADER = 4096

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config=(
            "server:\n  io_threads: 2\n  max_target_bytes: %d\n  max_header_count: %d\n"
            "  max_header_bytes: %d\n  header_timeout: %d\n  idle_timeout: %d\n"
            "  body_stall_timeout: %d\n" % (cls.MAX_TARGET, cls.MAX_FIELDS, cls.MAX_HEADER,
                                            HEADER_TIMEOUT, IDLE_TIMEOUT, STALL_TIMEOUT))).start()

    def exchange(self, data, method="GET"):
        """Sends `data` on a fresh connection; returns (response, closed_after)."""
        with RawConn(self.srv.host, self.srv.port) as c:
            c.send(data)
            r = c.read_response(method)
            return r, c.closed_by_peer(5)

    def test_target_at_limit_is_served(self):
        target = "/v2/?" + "q" * (self.MAX_TARGET - len("/v2/?"))
        self.assertEqual(len(target), self.MAX_TARGET)
        r, _ = self.exchange(request_bytes("GET", target, ["Connection: close"]))
        self.assertStatus(r, 200)

    def test_target_over_limit_is_414_and_closed(self):
        target = "/v2/?" + "q" * (self.MAX_TARGET + 1 - len("/v2/?"))
        r, closed = self.exchange(request_bytes("GET", target))
        self.assertError(r, 414)
        self.assertEqual(r.header("Connection"), "close")
        self.assertTrue(closed, "connection left open after 414")

    def test_target_over_header_limit_is_still_414(self):
        # The request line alone is over max_header_bytes: the parser stops at the header
        # limit, and the answer still names the target.
        target = "/v2/" + "a/" * (self.MAX_HEADER * 2) + "tags/list"
        r, closed = self.exchange(request_bytes("GET", target))
        self.assertError(r, 414)
        self.assertTrue(closed)

    def test_header_count_at_limit_is_served(self):
        fields = ["X-F%d: v" % i for i in range(self.MAX_FIELDS - 2)] + ["Connection: close"]
        r, _ = self.exchange(request_bytes("GET", "/v2/", fields))  # + Host = MAX_FIELDS
        self.assertStatus(r, 200)

    def test_header_count_over_limit_is_431(self):
        fields = ["X-F%d: v" % i for i in range(self.MAX_FIELDS)]
        r, closed = self.exchange(request_bytes("GET", "/v2/", fields))
        self.assertError(r, 431)
        self.assertTrue(closed)

    def test_many_tiny_headers_are_431_not_a_crash(self):
        # Far more fields than allowed, all within the byte limit.
        fields = ["a:" for _ in range(self.MAX_HEADER // 6)]
        r, closed = self.exchange(request_bytes("GET", "/v2/", fields))
        self.assertError(r, 431)
        self.assertTrue(closed)

    def test_header_bytes_over_limit_is_431(self):
        r, closed = self.exchange(request_bytes("GET", "/v2/", ["X-Big: " + "b" * self.MAX_HEADER]))
        self.assertError(r, 431)
        self.assertTrue(closed)
        # A far larger header: the server answers and closes instead of buffering it all.
        with RawConn(self.srv.host, self.srv.port) as c:
            try:
                c.send(request_bytes("GET", "/v2/", ["X-Big: " + "b" * (4 << 20)]))
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                r = c.read_response()
                self.assertError(r, 431)
            except (EOFError, ConnectionResetError):
                pass  # the reset reached us first: closed is acceptable
        self.assertStatus(self.srv.get("/v2/"), 200)

    def test_idle_keep_alive_connection_is_closed(self):
        with RawConn(self.srv.host, self.srv.port) as c:
            c.send(request_bytes("GET", "/v2/"))
            self.assertStatus(c.read_response(), 200)
            t0 = time.monotonic()
            self.assertTrue(c.closed_by_peer(IDLE_TIMEOUT + 5), "idle connection never closed")
            took = time.monotonic() - t0
            print("idle keep-alive closed after %.2fs (idle_timeout %ds)" % (took, IDLE_TIMEOUT))
            self.assertGreater(took, IDLE_TIMEOUT - 0.5)

    def test_silent_new_connection_is_closed_at_header_timeout(self):
        # A connection that never sends a byte is held for header_timeout, not idle_timeout.
        with RawConn(self.srv.host, self.srv.port) as c:
            t0 = time.monotonic()
            self.assertTrue(c.closed_by_peer(HEADER_TIMEOUT + 5))
            took = time.monotonic() - t0
            self.assertGreater(took, HEADER_TIMEOUT - 0.5)
            self.assertLess(took, HEADER_TIMEOUT + 2)

    def test_header_deadline_is_not_extended_by_trickling(self):
        with RawConn(self.srv.host, self.srv.port) as c:
            t0 = time.monotonic()
            c.send(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            closed_at = None
            while time.monotonic() - t0 < HEADER_TIMEOUT + 5:
                try:
                    c.send(b"a")
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.monotonic() - t0
                    break
                if c.closed_by_peer(0.3):
                    closed_at = time.monotonic() - t0
                    break
            self.assertIsNotNone(closed_at, "trickling client never cut")
            self.assertGreater(closed_at, HEADER_TIMEOUT - 0.5)
            self.assertLess(closed_at, HEADER_TIMEOUT + 2)


class MaxConnectionsTest(BerthTestCase):
    start_server = False
    LIMIT = 50

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config="server:\n  io_threads: 2\n  max_connections: %d\n"
                                "  idle_timeout: 60\n  header_timeout: 10\n" % cls.LIMIT).start()

    def held(self, n):
        conns = []
        for _ in range(n):
            c = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=10)
            c.request("GET", "/v2/")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            conns.append(c)
        return conns

    def over_limit_answer(self):
        with RawConn(self.srv.host, self.srv.port) as c:
            try:
                c.send(request_bytes("GET", "/v2/"))
            except (BrokenPipeError, ConnectionResetError):
                pass
            r = c.read_response()
            return r, c.closed_by_peer(5)

    def test_over_limit_gets_503_then_recovers(self):
        conns = self.held(self.LIMIT)
        try:
            for _ in range(10):
                r, closed = self.over_limit_answer()
                self.assertStatus(r, 503)
                self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
                self.assertEqual([e["code"] for e in r.json()["errors"]], ["UNAVAILABLE"], r)
                self.assertTrue(r.header("Retry-After"), r)
                self.assertTrue(closed, "connection over the limit left open")
            # A client over the limit that sends a body before reading still gets the 503,
            # not a reset caused by the bytes the server did not read.
            for _ in range(5):
                with RawConn(self.srv.host, self.srv.port) as c:
                    c.send(request_bytes("PATCH", "/v2/x/blobs/uploads/y", [
                        "Content-Length: %d" % (1 << 20)], rand_bytes(1 << 20)))
                    r = c.read_response()
                    self.assertStatus(r, 503)
            # A burst well over the limit: every one answered 503 or closed; no crash.
            burst = []
            for _ in range(300):
                try:
                    s = socket.create_connection((self.srv.host, self.srv.port), timeout=10)
                    s.sendall(request_bytes("GET", "/v2/"))
                    burst.append(s)
                except OSError:
                    pass
            statuses = {}
            for s in burst:
                data = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                s.close()
                key = data.split(b"\r\n", 1)[0][9:12] or b"closed"
                statuses[key] = statuses.get(key, 0) + 1
            print("burst of 300 over the limit:", statuses)
            self.assertEqual(set(statuses) - {b"503", b"closed"}, set(), statuses)
            self.srv.assert_alive()
            # The held connections still work.
            for c in conns:
                c.request("GET", "/v2/")
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
            # Free some: new connections are served again.
            for c in conns[:20]:
                c.close()
            conns = conns[20:]
            deadline = time.monotonic() + 5
            while True:
                r = self.srv.get("/v2/")
                if r.status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            self.assertStatus(r, 200)
            conns += self.held(19)
        finally:
            for c in conns:
                c.close()
        # All closed: the full limit is available again.
        deadline = time.monotonic() + 5
        while self.srv.get("/v2/").status != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        conns = self.held(self.LIMIT)
        for c in conns:
            c.close()


class StallTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config="server:\n  io_threads: 2\n  body_stall_timeout: %d\n"
                                "  header_timeout: 10\n" % STALL_TIMEOUT).start()

    def uploads(self):
        return sorted(os.listdir(os.path.join(self.srv.data_dir, "uploads")))

    def stall(self, data, method="PATCH"):
        """Sends `data` and then nothing; returns (seconds until the server answered or
        closed, response or None)."""
        with RawConn(self.srv.host, self.srv.port, timeout=STALL_TIMEOUT + 10) as c:
            c.send(data)
            t0 = time.monotonic()
            try:
                r = c.read_response(method)
            except (EOFError, ConnectionResetError):
                r = None
            took = time.monotonic() - t0
            self.assertTrue(r is None or c.closed_by_peer(5), "stalled connection left open")
            return took, r

    def test_stalled_patch_is_cut_and_upload_resumes(self):
        repo = "stall/patch"
        data = rand_bytes(3 << 20)
        first = 1 << 20
        loc = start_upload(self.srv, repo)
        r = self.srv.request("PATCH", loc, body=data[:first], headers={
            "Content-Type": "application/octet-stream", "Content-Range": "0-%d" % (first - 1)})
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        # The second chunk stops half-way.
        head = request_bytes("PATCH", loc, [
            "Content-Type: application/octet-stream", "Content-Length: %d" % first,
            "Content-Range: %d-%d" % (first, 2 * first - 1)])
        took, resp = self.stall(head + data[first:first + first // 2])
        print("stalled PATCH cut after %.2fs (body_stall_timeout %ds): %s"
              % (took, STALL_TIMEOUT, resp.status if resp else "closed"))
        self.assertGreater(took, STALL_TIMEOUT - 0.5)
        self.assertLess(took, STALL_TIMEOUT + 3)
        if resp is not None:
            self.assertError(resp, 400, "BLOB_UPLOAD_INVALID")
        # The cut request's bytes do not count: the session is where the last 202 left it.
        st = self.srv.get(loc)
        self.assertStatus(st, 204)
        self.assertEqual(st.header("Range"), "0-%d" % (first - 1))
        r = self.srv.request("PATCH", loc, body=data[first:], headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": "%d-%d" % (first, len(data) - 1)})
        self.assertStatus(r, 202)
        self.assertEqual(r.header("Range"), "0-%d" % (len(data) - 1))
        r = self.srv.request("PUT", add_query(location_path(r.header("Location")), digest=digest(data)))
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, repo, data)

    def test_slow_but_steady_upload_is_not_cut(self):
        # body_stall_timeout bounds the time without progress, not the body's total time:
        # 16 KiB every 0.4 s takes twice the stall timeout and must still be accepted.
        repo = "stall/steady"
        data = rand_bytes(160 << 10)
        loc = start_upload(self.srv, repo)
        with RawConn(self.srv.host, self.srv.port, timeout=STALL_TIMEOUT + 10) as c:
            c.send(patch_head(loc, len(data)))
            t0 = time.monotonic()
            for off in range(0, len(data), 16 << 10):
                time.sleep(0.4)
                c.send(data[off:off + (16 << 10)])
            r = c.read_response("PATCH")
            self.assertGreater(time.monotonic() - t0, STALL_TIMEOUT)
            self.assertStatus(r, 202)
        r = self.srv.request("PUT", add_query(location_path(r.header("Location")), digest=digest(data)))
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, repo, data)

    def test_trickling_upload_below_min_body_rate_is_cut(self):
        # Never silent long enough to stall, but far below server.min_body_rate (default
        # 1024 B/s): 20 bytes every 0.25 s is cut once a whole window has passed.
        repo = "stall/trickle"
        data = rand_bytes(64 << 10)
        loc = start_upload(self.srv, repo)
        with RawConn(self.srv.host, self.srv.port, timeout=STALL_TIMEOUT + 10) as c:
            c.send(patch_head(loc, len(data)))
            t0 = time.monotonic()
            cut = False
            for off in range(0, len(data), 20):
                if time.monotonic() - t0 > 3 * STALL_TIMEOUT:
                    break
                time.sleep(0.25)
                try:
                    c.send(data[off:off + 20])
                except (BrokenPipeError, ConnectionResetError):
                    cut = True
                    break
            took = time.monotonic() - t0
            self.assertTrue(cut or c.closed_by_peer(5), "a trickling upload was never cut")
            print("trickling PATCH cut after %.2fs (window %ds)" % (took, STALL_TIMEOUT))
            self.assertLess(took, 3 * STALL_TIMEOUT)
        st = self.srv.get(loc)
        self.assertStatus(st, 204)
        self.assertEqual(st.header("Range"), "0-0")  # nothing of the cut request counts
        r = self.srv.request("PUT", add_query(loc, digest=digest(data)), body=data)
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, repo, data)

    def test_stalled_chunked_patch_is_cut_and_upload_resumes(self):
        repo = "stall/chunked"
        data = rand_bytes(1 << 20)
        loc = start_upload(self.srv, repo)
        head = request_bytes("PATCH", loc, ["Content-Type: application/octet-stream",
                                            "Transfer-Encoding: chunked"])
        # A chunk announced as 64 KiB that stops after 1000 bytes.
        took, resp = self.stall(head + b"10000\r\n" + data[:1000])
        self.assertGreater(took, STALL_TIMEOUT - 0.5)
        self.assertLess(took, STALL_TIMEOUT + 3)
        st = self.srv.get(loc)
        self.assertStatus(st, 204)
        self.assertEqual(st.header("Range"), "0-0")  # nothing acknowledged
        r = self.srv.request("PUT", add_query(loc, digest=digest(data)), body=data)
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, repo, data)

    def test_stalled_monolithic_post_leaves_nothing(self):
        repo = "stall/mono"
        data = rand_bytes(512 << 10)
        before = self.uploads()
        head = request_bytes("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, digest(data)), [
            "Content-Type: application/octet-stream", "Content-Length: %d" % len(data)])
        took, _ = self.stall(head + data[:100000], method="POST")
        self.assertLess(took, STALL_TIMEOUT + 3)
        # The server closes at the deadline and cleans up right after.
        deadline = time.monotonic() + 3
        while self.uploads() != before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.uploads(), before, "a cut single-request upload left its file")
        self.assertStatus(self.srv.head("/v2/%s/blobs/%s" % (repo, digest(data))), 404)

    def test_stalled_manifest_put_stores_nothing(self):
        repo = "stall/manifest"
        img = make_image()
        for b in img.blobs():
            push_blob(self.srv, repo, b)
        head = request_bytes("PUT", "/v2/%s/manifests/t" % repo, [
            "Content-Type: " + img.media_type, "Content-Length: %d" % len(img.manifest)])
        took, _ = self.stall(head + img.manifest[:len(img.manifest) // 2], method="PUT")
        self.assertGreater(took, STALL_TIMEOUT - 0.5)
        self.assertLess(took, STALL_TIMEOUT + 3)
        self.assertStatus(self.srv.get("/v2/%s/manifests/t" % repo), 404)

    def test_reader_that_stops_reading_is_cut(self):
        # A download whose client stops reading: the server gives up after the stall
        # timeout instead of holding the connection and file open.
        repo = "stall/download"
        data = rand_bytes(48 << 20, seed=7)
        d = push_blob(self.srv, repo, data, how="monolithic")
        fds = open_fd_count(self.srv.proc.pid)
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # before connect: small window
            s.settimeout(30)
            s.connect((self.srv.host, self.srv.port))
            s.sendall(request_bytes("GET", "/v2/%s/blobs/%s" % (repo, d)))
            time.sleep(STALL_TIMEOUT + 2)
            t0 = time.monotonic()
            got = recv_until_closed(s)
            print("slow reader: %d of %d bytes before the server cut it" % (got, len(data)))
            self.assertLess(got, len(data), "the server waited for a reader that stopped")
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            s.close()
        deadline = time.monotonic() + 5
        while open_fd_count(self.srv.proc.pid) > fds + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertLessEqual(open_fd_count(self.srv.proc.pid), fds + 1)
        self.assertBlob(self.srv, repo, data, d)


class UploadLimitsTest(BerthTestCase):
    """server.max_uploads_per_repository (open sessions) and server.max_uploads_per_client
    (upload requests in flight from one address): past them 429 TOOMANYREQUESTS with
    Retry-After; freeing a slot makes room again."""
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config="server:\n  max_uploads_per_repository: 3\n"
                                "  max_uploads_per_client: 1\n").start()

    def test_open_sessions_per_repository(self):
        repo = "limits/sessions"
        locs = [start_upload(self.srv, repo) for _ in range(3)]
        r = self.srv.request("POST", "/v2/%s/blobs/uploads/" % repo)
        self.assertError(r, 429, "TOOMANYREQUESTS")
        self.assertTrue(r.header("Retry-After"), r)
        self.assertIn("limit 3", r.json()["errors"][0]["message"])
        # Another repository is not affected.
        start_upload(self.srv, "limits/other")
        # Finishing one session and cancelling another frees two places.
        data = rand_bytes(1000)
        r = self.srv.request("PUT", add_query(locs[0], digest=digest(data)), body=data)
        self.assertStatus(r, 201)
        self.assertStatus(self.srv.delete(locs[1]), 204)
        start_upload(self.srv, repo)
        start_upload(self.srv, repo)
        self.assertError(self.srv.request("POST", "/v2/%s/blobs/uploads/" % repo), 429, "TOOMANYREQUESTS")

    def test_concurrent_upload_requests_per_client(self):
        repo = "limits/client"
        loc_a = start_upload(self.srv, repo)
        loc_b = start_upload(self.srv, "limits/client2")
        data = rand_bytes(64 << 10)
        with RawConn(self.srv.host, self.srv.port, timeout=20) as slow:
            # One PATCH holds the client's only slot while its body is still coming.
            slow.send(patch_head(loc_a, len(data)) + data[:1000])
            time.sleep(0.5)
            r = self.srv.request("PATCH", loc_b, body=data, headers={
                "Content-Range": "0-%d" % (len(data) - 1)})
            self.assertError(r, 429, "TOOMANYREQUESTS")
            self.assertTrue(r.header("Retry-After"), r)
            # Reads are not uploads: they are still served.
            self.assertStatus(self.srv.get("/v2/"), 200)
            slow.send(data[1000:])
            r = slow.read_response("PATCH")
            self.assertStatus(r, 202)
        # The slot is free again.
        r = self.srv.request("PATCH", loc_b, body=data, headers={"Content-Range": "0-%d" % (len(data) - 1)})
        self.assertStatus(r, 202)


if __name__ == "__main__":
    main()
