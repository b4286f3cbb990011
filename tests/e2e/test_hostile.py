"""Slow and hostile clients: slowloris, pipelining, Expect: 100-continue, chunked uploads,
clients that vanish mid-transfer, and framing tricks (odd Content-Length, smuggling shapes,
chunk abuse). The server must answer with a clear 4xx JSON error or close, never crash,
never stall other clients, never mis-frame a following request, and leak nothing.

Each class starts its own server with short timeouts from a --config YAML."""
import collections
import os
import re
import selectors
import socket
import statistics
import subprocess
import tempfile
import threading
import time

from berthtest import (BerthTestCase, RawConn, Server, add_query, digest, location_path, main,
                       make_image, open_fd_count, proc_memory_kib, push_blob, push_image,
                       raise_nofile, rand_bytes, start_upload, ACCEPT_MANIFESTS, recv_until_closed)

RSS_GROWTH_BOUND_KIB = 128 * 1024  # 1,000 idle slow connections


def request_bytes(method, target, headers=(), body=b""):
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: x"] + list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def fd_names(pid):
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


def chunked(data, size=65536, ext=b""):
    out = b""
    for off in range(0, len(data), size):
        part = data[off:off + size]
        out += b"%x%s\r\n" % (len(part), ext) + part + b"\r\n"
    return out + b"0\r\n\r\n"


class SlowlorisTest(BerthTestCase):
    """1,000 connections trickling header bytes do not stop ordinary pulls, are cut at
    header_timeout, and memory stays bounded."""
    start_server = False
    HEADER_TIMEOUT = 5
    CONNECTIONS = 1000

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config="server:\n  io_threads: 2\n  header_timeout: %d\n"
                                "  idle_timeout: 60\n" % cls.HEADER_TIMEOUT).start()

    def test_slowloris(self):
        raise_nofile(self.CONNECTIONS + 512)
        repo = "slow/app"
        img = make_image(layer_size=4 << 20)
        push_image(self.srv, repo, "v1", image=img)
        layer = img.layers[0]
        pid = self.srv.proc.pid

        def pull():
            """Times one GET /v2/, manifest GET and blob GET, each on a new connection."""
            times = []
            for path, headers, want in (
                    ("/v2/", {}, None),
                    ("/v2/%s/manifests/v1" % repo, {"Accept": ACCEPT_MANIFESTS}, img.manifest),
                    ("/v2/%s/blobs/%s" % (repo, digest(layer)), {}, layer)):
                t0 = time.monotonic()
                r = self.srv.get(path, headers=headers, timeout=10)
                times.append(time.monotonic() - t0)
                self.assertStatus(r, 200, path)
                if want is not None:
                    self.assertEqual(r.body, want, path)
            return times

        for _ in range(3):
            pull()  # warm up
        baseline = [t for _ in range(5) for t in pull()]
        fds_before = open_fd_count(pid)
        rss_before, _ = proc_memory_kib(pid)

        # Open the slow connections; each sends a request line and then, every 0.5 s, one
        # more byte of a header that never ends.
        sel = selectors.DefaultSelector()
        opened = {}
        for _ in range(self.CONNECTIONS):
            s = socket.create_connection((self.srv.host, self.srv.port), timeout=5)
            s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            s.setblocking(False)
            opened[s] = time.monotonic()
            sel.register(s, selectors.EVENT_READ)
        all_open = time.monotonic()
        closed = {}
        during = []
        errors = []
        stop = threading.Event()

        def puller():
            try:
                while not stop.is_set():
                    during.extend(pull())
            except Exception as e:  # reported by the main thread
                errors.append(e)

        t = threading.Thread(target=puller)
        t.start()
        peak_rss = 0
        try:
            next_trickle = time.monotonic()
            deadline = all_open + self.HEADER_TIMEOUT + 8
            while len(closed) < len(opened) and time.monotonic() < deadline:
                now = time.monotonic()
                if now >= next_trickle:
                    next_trickle = now + 0.5
                    for s in opened:
                        if s not in closed:
                            try:
                                s.send(b"a")
                            except BlockingIOError:
                                pass
                            except OSError:
                                closed[s] = time.monotonic()
                                sel.unregister(s)
                    rss, _ = proc_memory_kib(pid)
                    peak_rss = max(peak_rss, rss)
                for key, _ in sel.select(timeout=0.05):
                    s = key.fileobj
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if data:
                        errors.append(AssertionError("slow connection got an answer: %r" % data[:200]))
                    closed[s] = time.monotonic()
                    sel.unregister(s)
                # The pulls that count are those made while every slow connection hangs.
                if now > opened[next(iter(opened))] + self.HEADER_TIMEOUT - 0.5:
                    stop.set()
        finally:
            stop.set()
            t.join(30)
            for s in opened:
                s.close()
        if errors:
            raise errors[0]
        _, hwm = proc_memory_kib(pid)
        lifetimes = sorted(closed[s] - opened[s] for s in closed)
        print("\nslowloris: %d connections (opened in %.2fs), %d closed by the server after "
              "%.2f..%.2fs (header_timeout %ds)" % (
                  len(opened), all_open - min(opened.values()), len(closed),
                  lifetimes[0] if lifetimes else -1, lifetimes[-1] if lifetimes else -1,
                  self.HEADER_TIMEOUT))
        print("pull latency before: median %.1f ms, max %.1f ms; during the attack: %d requests, "
              "median %.1f ms, max %.1f ms" % (
                  statistics.median(baseline) * 1000, max(baseline) * 1000, len(during),
                  statistics.median(during) * 1000 if during else -1,
                  max(during) * 1000 if during else -1))
        print("server RSS before %.1f MiB, peak during %.1f MiB, VmHWM %.1f MiB" % (
            rss_before / 1024, peak_rss / 1024, hwm / 1024))
        self.assertEqual(len(closed), len(opened), "slow connections the server never closed")
        self.assertGreater(lifetimes[0], self.HEADER_TIMEOUT - 0.5, "closed before header_timeout")
        self.assertLess(lifetimes[-1], self.HEADER_TIMEOUT + 3, "closed long after header_timeout")
        self.assertGreaterEqual(len(during), 9, "too few pulls completed during the attack")
        self.assertLess(max(during), 1.0, "a pull took over a second during the attack")
        # Growth, not the absolute size: under ASan the idle server alone is ~200 MiB.
        self.assertLess(hwm - rss_before, RSS_GROWTH_BOUND_KIB)
        # Every slow connection's descriptor is released.
        deadline = time.monotonic() + 5
        while open_fd_count(pid) > fds_before + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        fds_after = open_fd_count(pid)
        print("server fds before %d, after %d" % (fds_before, fds_after))
        self.assertLessEqual(fds_after, fds_before + 2)
        pull()


class SlowlorisDrainTest(BerthTestCase):
    """SIGTERM is not held up by connections that never finish a request header."""
    start_server = False

    def test_sigterm_with_hanging_headers(self):
        srv = Server(config="server:\n  io_threads: 2\n  header_timeout: 60\n"
                            "  idle_timeout: 60\n  shutdown_grace: 30\n").start()
        socks = []
        try:
            for i in range(200):
                s = socket.create_connection((srv.host, srv.port), timeout=5)
                if i % 2:
                    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: aaa")
                socks.append(s)
            self.assertStatus(srv.get("/v2/"), 200)
            t0 = time.monotonic()
            rc = srv.stop(timeout=20)
            took = time.monotonic() - t0
            print("\nSIGTERM with 200 hanging connections: exit %s after %.2fs" % (rc, took))
            self.assertEqual(rc, 0)
            self.assertLess(took, 5)
        finally:
            for s in socks:
                s.close()
            srv.kill()


class ProtocolTest(BerthTestCase):
    """Pipelining, Expect: 100-continue, chunked uploads, clients vanishing mid-transfer."""
    start_server = False
    STALL = 3

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config="server:\n  io_threads: 2\n  header_timeout: 5\n"
                                "  body_stall_timeout: %d\n" % cls.STALL).start()
        cls.repo = "proto/app"
        cls.img = push_image(cls.srv, cls.repo, "v1", layer_size=300000)

    def conn(self):
        return RawConn(self.srv.host, self.srv.port)

    def test_pipelined_requests_answered_in_order_byte_exact(self):
        img = self.img
        layer = img.layers[0]
        blob_path = "/v2/%s/blobs/%s" % (self.repo, digest(layer))
        loc = start_upload(self.srv, self.repo)
        chunk = rand_bytes(1000)
        reqs = [
            ("GET", request_bytes("GET", "/v2/"), 200, b"{}"),
            ("GET", request_bytes("GET", blob_path), 200, layer),
            ("HEAD", request_bytes("HEAD", blob_path), 200, b""),
            ("GET", request_bytes("GET", "/v2/%s/manifests/v1" % self.repo,
                                  ["Accept: " + ACCEPT_MANIFESTS]), 200, img.manifest),
            ("GET", request_bytes("GET", "/v2/%s/manifests/nope" % self.repo), 404, None),
            ("PATCH", request_bytes("PATCH", loc, ["Content-Length: 1000",
                                                   "Content-Type: application/octet-stream"], chunk),
             202, b""),
            ("GET", request_bytes("GET", blob_path, ["Range: bytes=10-19"]), 206, layer[10:20]),
            ("GET", request_bytes("GET", "/v2/%s/manifests/v1" % self.repo,
                                  ["Accept: " + ACCEPT_MANIFESTS, "Connection: close"]), 200,
             img.manifest),
        ]
        with self.conn() as c:
            c.send(b"".join(r[1] for r in reqs))
            for method, _, status, body in reqs:
                r = c.read_response(method)
                self.assertStatus(r, status, method)
                if body is not None:
                    self.assertEqual(r.body, body, "%s answered out of order or altered" % method)
            self.assertTrue(c.closed_by_peer(5))
            self.assertEqual(bytes(c.buf), b"", "bytes after the last response")
        st = self.srv.get(location_path(loc))
        self.assertEqual(st.header("Range"), "0-999")

    def test_many_pipelined_requests_without_reading(self):
        # 2,000 requests in one write, responses read only afterwards.
        n = 2000
        with self.conn() as c:
            c.send(request_bytes("GET", "/v2/") * (n - 1) +
                   request_bytes("GET", "/v2/", ["Connection: close"]))
            for i in range(n):
                self.assertStatus(c.read_response(), 200, "response %d" % i)
            self.assertTrue(c.closed_by_peer(5))

    def test_pipelining_client_that_never_reads_is_cut(self):
        # 400 blob GETs (120 MB of answers) in one write, nothing read: once the socket
        # buffers are full the server waits body_stall_timeout, then closes.
        pid = self.srv.proc.pid
        fds = open_fd_count(pid)
        blob_path = "/v2/%s/blobs/%s" % (self.repo, digest(self.img.layers[0]))
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.settimeout(10)
        s.connect((self.srv.host, self.srv.port))
        try:
            s.sendall(request_bytes("GET", blob_path) * 400)
            time.sleep(self.STALL + 2)
            t0 = time.monotonic()
            got = recv_until_closed(s)
            self.assertLess(got, 400 * len(self.img.layers[0]))
            self.assertLess(time.monotonic() - t0, 5)
        finally:
            s.close()
        deadline = time.monotonic() + 5
        while open_fd_count(pid) > fds + 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertLessEqual(open_fd_count(pid), fds + 2)
        self.assertStatus(self.srv.get("/v2/"), 200)

    def expect_continue(self, method, path, body, headers, want_status):
        with self.conn() as c:
            c.send(request_bytes(method, path, ["Expect: 100-continue",
                                                "Content-Length: %d" % len(body)] + headers))
            interim = c.read_response(method)
            self.assertEqual(interim.status, 100, "want 100 Continue before the body, got %r" % interim)
            c.send(body)
            r = c.read_response(method)
            self.assertStatus(r, want_status)
            return r

    def test_expect_100_continue(self):
        repo = self.repo
        data = rand_bytes(200000)
        loc = start_upload(self.srv, repo)
        r = self.expect_continue("PATCH", loc, data[:100000], [
            "Content-Type: application/octet-stream", "Content-Range: 0-99999"], 202)
        loc = location_path(r.header("Location"))
        self.expect_continue("PUT", add_query(loc, digest=digest(data)), data[100000:],
                             ["Content-Type: application/octet-stream"], 201)
        self.assertBlob(self.srv, repo, data)
        img = make_image()
        for b in img.blobs():
            push_blob(self.srv, repo, b)
        r = self.expect_continue("PUT", "/v2/%s/manifests/exp" % repo, img.manifest,
                                 ["Content-Type: " + img.media_type], 201)
        self.assertEqual(r.header("Docker-Content-Digest"), img.digest)
        # Refused before the body is wanted: the final status comes without a 100, and the
        # connection is closed rather than the unsent body being taken for a request.
        for method, path, headers, length, status in (
                ("PUT", "/v2/%s/manifests/big" % repo, ["Content-Type: " + img.media_type], 5 << 20, 413),
                ("PUT", add_query(loc, digest="sha256:bogus"), [], 100, 400),
                ("PATCH", "/v2/%s/blobs/uploads/0123456789abcdef0123456789abcdef" % repo, [], 100, 404)):
            with self.conn() as c:
                c.send(request_bytes(method, path, ["Expect: 100-continue",
                                                    "Content-Length: %d" % length] + headers))
                r = c.read_response(method)
                self.assertError(r, status)
                self.assertEqual(r.header("Connection"), "close")
                self.assertTrue(c.closed_by_peer(5))

    def curl(self, *args):
        p = subprocess.run(["curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}",
                            "-D", "-"] + list(args), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        headers = {}
        for line in out.splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return int(out[-3:]), headers

    def test_chunked_uploads_with_curl(self):
        repo = "proto/chunked"
        base = "http://%s" % self.srv.address
        data = rand_bytes(3 << 20)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            loc = start_upload(self.srv, repo)
            code, h = self.curl("-X", "PATCH", "-H", "Transfer-Encoding: chunked",
                                "-H", "Content-Type: application/octet-stream",
                                "--data-binary", "@" + f.name, base + loc)
            self.assertEqual(code, 202)
            self.assertEqual(h.get("range"), "0-%d" % (len(data) - 1))
            r = self.srv.request("PUT", add_query(location_path(h["location"]), digest=digest(data)))
            self.assertStatus(r, 201)
            self.assertBlob(self.srv, repo, data)
            data2 = rand_bytes(1 << 20)
            f.seek(0)
            f.truncate()
            f.write(data2)
            f.flush()
            code, h = self.curl("-X", "POST", "-H", "Transfer-Encoding: chunked",
                                "-H", "Content-Type: application/octet-stream",
                                "--data-binary", "@" + f.name,
                                base + "/v2/%s/blobs/uploads/?digest=%s" % (repo, digest(data2)))
            self.assertEqual(code, 201)
            self.assertBlob(self.srv, repo, data2)

    def test_chunked_with_extensions_and_trailers(self):
        repo = "proto/chunkext"
        data = rand_bytes(100000)
        body = chunked(data, size=7000, ext=b";name=value;q=\"quoted\"")
        body = body[:-2] + b"X-Trailer: t\r\n\r\n"
        with self.conn() as c:
            c.send(request_bytes("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, digest(data)),
                                 ["Transfer-Encoding: chunked"], body))
            self.assertStatus(c.read_response("POST"), 201)
            # The connection stays usable: the chunked body was framed exactly.
            c.send(request_bytes("GET", "/v2/", ["Connection: close"]))
            self.assertStatus(c.read_response(), 200)
        self.assertBlob(self.srv, repo, data)

    def uploads(self):
        return set(os.listdir(os.path.join(self.srv.data_dir, "uploads")))

    def settle_fds(self, pid, limit):
        """Descriptors other than the metadata database's: the SQLite connection pool keeps
        up to 16 idle connections (each with meta.db and its WAL open) after a burst of
        concurrent cleanups, which is reuse, not a leak."""
        def count():
            return sum(1 for n in fd_names(pid) if not re.search(r"/meta\.db(-wal|-shm)?$", n))
        # Generous: CI runs this under ASan beside other suites. A leak never settles.
        deadline = time.monotonic() + 60
        while count() > limit and time.monotonic() < deadline:
            time.sleep(0.1)
        return count()

    def test_clients_vanishing_mid_transfer_leak_nothing(self):
        pid = self.srv.proc.pid
        repo = "proto/vanish"
        big = rand_bytes(32 << 20, seed=11)
        big_digest = push_blob(self.srv, repo, big, how="monolithic")
        blob_path = "/v2/%s/blobs/%s" % (repo, big_digest)
        img = make_image()
        for b in img.blobs():
            push_blob(self.srv, repo, b)
        # Warm every path once so lazily opened descriptors are in the baseline.
        self.assertBlob(self.srv, repo, big, big_digest)
        loc = start_upload(self.srv, repo)
        self.srv.request("PATCH", loc, body=b"x", headers={"Content-Range": "0-0"})
        self.srv.delete(loc)
        fds_before = self.settle_fds(pid, 0)
        fd_names_before = fd_names(pid)
        uploads_before = self.uploads()

        def vanish(data, read=0):
            s = socket.create_connection((self.srv.host, self.srv.port), timeout=10)
            try:
                s.sendall(data)
                got = 0
                while got < read:
                    chunk = s.recv(min(65536, read - got))
                    if not chunk:
                        break
                    got += len(chunk)
            except OSError:
                pass
            finally:
                s.close()

        # Downloads: read 1 MiB of a 32 MiB blob, then hang up.
        for _ in range(20):
            vanish(request_bytes("GET", blob_path), read=1 << 20)
        # Uploads: bodies cut short by the client going away.
        open_sessions = {}
        for i in range(10):
            loc = start_upload(self.srv, repo)
            uid = loc.rstrip("/").rsplit("/", 1)[-1]
            open_sessions[uid] = loc
            if i % 3 == 0:
                req = request_bytes("PATCH", loc, ["Content-Length: %d" % (4 << 20),
                                                   "Content-Range: 0-%d" % ((4 << 20) - 1)])
                vanish(req + rand_bytes(1 << 20))
            elif i % 3 == 1:
                req = request_bytes("PATCH", loc, ["Transfer-Encoding: chunked"])
                vanish(req + b"100000\r\n" + rand_bytes(300000))
            else:
                req = request_bytes("PUT", add_query(loc, digest=digest(big)),
                                    ["Content-Length: %d" % len(big)])
                vanish(req + big[:2 << 20])
        for _ in range(5):
            req = request_bytes("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, digest(big)),
                                ["Content-Length: %d" % len(big)])
            vanish(req + big[:1 << 20])
            vanish(request_bytes("PUT", "/v2/%s/manifests/gone" % repo, [
                "Content-Type: " + img.media_type, "Content-Length: %d" % len(img.manifest)])
                + img.manifest[:50])
        fds_after = self.settle_fds(pid, fds_before + 2)
        print("\nvanishing clients: server fds before %d, after %d; new: %s" % (
            fds_before, fds_after, sorted((collections.Counter(fd_names(pid)) - collections.Counter(fd_names_before)).elements())))
        self.assertLessEqual(fds_after, fds_before + 2, fd_names(pid))
        # Only the sessions still open may have a file; none moved past offset 0. The server
        # cleans up just after it notices a client is gone, so allow it a moment.
        deadline = time.monotonic() + 30
        leftover = self.uploads() - uploads_before
        while not leftover <= set(open_sessions) and time.monotonic() < deadline:
            time.sleep(0.05)
            leftover = self.uploads() - uploads_before
        self.assertLessEqual(leftover, set(open_sessions), "files of cancelled uploads left behind")
        for uid, loc in open_sessions.items():
            st = self.srv.get(loc)
            self.assertStatus(st, 204)
            self.assertEqual(st.header("Range"), "0-0", "unacknowledged bytes counted")
        self.assertStatus(self.srv.get("/v2/%s/manifests/gone" % repo), 404)
        # Each session still works; finishing or cancelling removes its file.
        uids = sorted(open_sessions)
        for uid in uids[:5]:
            data = rand_bytes(5000)
            r = self.srv.request("PUT", add_query(open_sessions[uid], digest=digest(data)), body=data)
            self.assertStatus(r, 201)
            self.assertBlob(self.srv, repo, data)
        for uid in uids[5:]:
            self.assertStatus(self.srv.delete(open_sessions[uid]), 204)
        self.assertEqual(self.uploads() - uploads_before, set(), "upload files left behind")
        self.assertEqual(os.listdir(os.path.join(self.srv.data_dir, "tmp")), [])
        self.assertLessEqual(self.settle_fds(pid, fds_before + 2), fds_before + 2)
        self.assertBlob(self.srv, repo, big, big_digest)


class FramingTest(BerthTestCase):
    """Framing a hostile client can send cheaply. Each goes out on its own connection,
    followed by a well-formed request that must never be served out of another's body."""
    start_server = False
    SMUGGLED = b"GET /v2/_catalog HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(config="server:\n  io_threads: 2\n  header_timeout: 3\n"
                                "  body_stall_timeout: 2\n").start()
        cls.upload = start_upload(cls.srv, "framing/app")

    def send(self, data, timeout=6):
        out = b""
        s = socket.create_connection((self.srv.host, self.srv.port), timeout=timeout)
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            self.fail("connection neither answered nor closed within %ds: %r -> %r"
                      % (timeout, data[:200], out[:300]))
        except ConnectionResetError:
            pass
        finally:
            s.close()
        return out

    def check_refused(self, req, statuses=(400,)):
        """One 4xx JSON answer (or a bare close), then closed; the following request is
        never served."""
        raw = self.send(req + self.SMUGGLED)
        self.assertNotIn(b'"repositories"', raw, "request smuggled past %r" % req[:200])
        if not raw:
            return None
        self.assertEqual(raw.count(b"HTTP/1.1 "), 1, "%r -> %r" % (req[:200], raw[:600]))
        head, _, body = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        self.assertIn(status, statuses, "%r -> %r" % (req[:200], raw[:600]))
        self.assertIn(b"content-type: application/json", head.lower(), raw[:600])
        self.assertIn(b'{"errors":[{"code":', body, raw[:600])
        self.assertIn(b"connection: close", head.lower(), raw[:600])
        return status

    def test_bad_content_length(self):
        for cl in (b"99999999999999999999999", b"-1", b"-0", b"12abc", b"0x10", b"5 5", b"+5",
                   b"", b"1e3", b"5, 7", b"\x005"):
            self.check_refused(b"PATCH " + self.upload.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Length: " + cl + b"\r\n\r\nhello")

    def test_duplicate_content_length(self):
        self.check_refused(b"PATCH " + self.upload.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        self.check_refused(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                           b"Content-Length: 59\r\n\r\n")

    def test_smuggling_shapes(self):
        up = self.upload.encode()
        for req in (
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Length: 5\r\n\r\n0\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
                b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\n"):
            self.check_refused(req)
        # A body the handler does not read: answered, then closed, the body never parsed.
        raw = self.send(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                        % len(self.SMUGGLED) + self.SMUGGLED)
        self.assertNotIn(b'"repositories"', raw)
        self.assertEqual(raw.count(b"HTTP/1.1 "), 1, raw)
        self.assertIn(b"connection: close", raw.lower())

    def test_host_rules(self):
        self.check_refused(b"GET /v2/ HTTP/1.1\r\n\r\n")
        self.check_refused(b"GET /v2/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        raw = self.send(b"GET /v2/ HTTP/1.0\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 200 "), raw[:300])

    def test_chunk_abuse(self):
        up = self.upload.encode()
        head = b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        for body in (b"fffffffffffffffffffff\r\n", b"-5\r\nhello\r\n0\r\n\r\n", b"5x\r\nhello\r\n",
                     b"5\r\nhelloXX0\r\n\r\n", b"zz\r\n", b"5\nhello\n0\n\n", b" 5\r\nhello\r\n"):
            self.check_refused(head + body)
        # A chunk extension or trailer that never ends: refused as soon as it passes what
        # the server buffers (header limit + one read), not held in memory while it grows.
        for junk in (b"5;" + b"a=b;" * (256 << 10), b"5\r\nhello\r\n0\r\nX-T: " + b"t" * (1 << 20)):
            with RawConn(self.srv.host, self.srv.port, timeout=1.5) as c:
                try:
                    c.send(head + junk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                try:
                    r = c.read_response("PATCH")
                except socket.timeout:
                    self.fail("an endless chunk header is buffered instead of refused")
                self.assertError(r, 400)
        pid = self.srv.proc.pid
        _, hwm_before = proc_memory_kib(pid)
        for _ in range(3):
            self.check_refused(head + b"5;" + b"a=b;" * (2 << 20))
            self.check_refused(head + b"5\r\nhello\r\n0\r\nX-T: " + b"t" * (8 << 20))
        _, hwm = proc_memory_kib(pid)
        print("\nhuge chunk extensions/trailers: VmHWM %.1f -> %.1f MiB" % (hwm_before / 1024, hwm / 1024))
        self.assertLess(hwm - hwm_before, 32 * 1024)
        st = self.srv.get(self.upload)
        self.assertEqual(st.header("Range"), "0-0")

    def test_huge_content_length_then_gone(self):
        # Content-Length at the top of uint64: accepted as framing, then the client stops
        # and goes away; the session is unharmed.
        up = self.upload.encode()
        self.send(b"PATCH " + up + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n"
                  b"\r\nsome bytes", timeout=5)
        # The same on a manifest: refused by size without reading.
        self.check_refused(b"PUT /v2/framing/app/manifests/x HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
                           b"Content-Length: 18446744073709551615\r\n\r\n{", statuses=(413,))
        self.srv.assert_alive()
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            st = self.srv.get(self.upload)
            if st.status == 204:
                break
            time.sleep(0.1)
        self.assertStatus(st, 204)
        self.assertEqual(st.header("Range"), "0-0")

    def test_malformed_requests(self):
        for req in (
                b"\x00\x01\x02\x03\r\n\r\n",
                b"GET /v2/\r\n\r\n",                                 # HTTP/0.9
                b"GET /v2/ HTTP/0.9\r\nHost: x\r\n\r\n",
                b"GET /v2/ HTTP/1.2\r\nHost: x\r\n\r\n",
                b"GET /v2/ HTTP/2.0\r\nHost: x\r\n\r\n",
                b"GET /v2/ http/1.1\r\nHost: x\r\n\r\n",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                b"GET  /v2/ HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /v2/ HTTP/1.1\nHost: x\n\n",
                b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
                b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Bare-CR: a\rb\r\n\r\n",
                b"GET /v2/ HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
                b"GET /v2/ HTTP/1.1\r\n Host: x\r\n\r\n",
                b"GET /v2/\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
                b"G\x7fT /v2/ HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /v2/ HTTP/1.1\r\nHost: x\r\n:empty-name\r\n\r\n"):
            self.check_refused(req)
        # Odd but valid shapes: answered, and a request pipelined after them is framed
        # right. Obsolete line folding is replaced by a space (RFC 9112 5.2); obs-text is
        # allowed in values; empty lines before a request line are ignored (2.2).
        follow = b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        for req, status in ((b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n folded\r\n\r\n", (200,)),
                            (b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Hi: \xff\xfe\r\n\r\n", (200,)),
                            (b"\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", (200,)),
                            (b"GET http://elsewhere/v2/ HTTP/1.1\r\nHost: x\r\n\r\n", (200, 400, 404)),
                            (b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", (400, 404)),
                            (b"BREW /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", (400, 405)),
                            (b"GET /v2/%00/tags/list HTTP/1.1\r\nHost: x\r\n\r\n", (400, 404)),
                            (b"GET /v2/" + b"%2e%2e/" * 50 + b"etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
                             (400, 404))):
            raw = self.send(req + follow)
            first = raw.split(b"\r\n", 1)[0]
            self.assertRegex(first, rb"^HTTP/1\.1 \d\d\d ", req)
            self.assertIn(int(first.split(b" ")[1]), status, (req, raw[:400]))
            self.assertEqual(raw.count(b"HTTP/1.1 "), 2, raw[:800])
            self.assertTrue(raw.endswith(b"\r\n\r\n{}"), raw[-300:])

    def test_range_abuse(self):
        img = push_image(self.srv, "framing/range", "v1", layer_size=100000)
        path = "/v2/framing/range/blobs/%s" % digest(img.layers[0])
        for rng in ("bytes=" + ",".join(["0-0"] * 2000), "bytes=99999999999999999999-",
                    "bytes=-0", "bytes=5-1", "bytes=--1", "bytes=0-" + "9" * 200, "pages=1-2"):
            r = self.srv.get(path, headers={"Range": rng})
            self.assertNot5xx(r)
            self.assertIn(r.status, (200, 206, 416), (rng[:50], r))

    def test_server_still_fast_after_abuse(self):
        # Runs last (alphabetical order is not relied on: it is cheap on its own).
        t0 = time.monotonic()
        for _ in range(20):
            self.assertStatus(self.srv.get("/v2/"), 200)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.srv.assert_alive()


if __name__ == "__main__":
    main()
