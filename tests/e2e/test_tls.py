#!/usr/bin/env python3
"""HTTPS: certificates chosen by SNI, real clients (python ssl, curl, skopeo) over TLS,
the handshake under the header timeout, limits, lingering close and drain on TLS, and
certificate loading errors. Certificates are made per run (tlscerts.py): the default for
registry.test and 127.0.0.1, another for *.custom.test served with its intermediate.
Forwarded headers and a real nginx in front: test_proxy.py."""
import hashlib
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, ContainerTools, OCI_MANIFEST, RawConn, Server,  # noqa: E402
                       ServerStartError, add_query, build_test_images, digest, layout_blobs, location_path,
                       main, mkdtemp, oci_layout_manifest, push_blob, push_image, rand_bytes,
                       rand_name, start_upload)
from tlscerts import certs, curl_https, location_of  # noqa: E402

HEADER_TIMEOUT = 3


def san_of(cert):
    return sorted("%s:%s" % kv for kv in cert.get("subjectAltName", ()))


class TlsTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        c = certs()
        cls.certs = c
        cls.srv = Server(config=c.config("server:\n  header_timeout: %d\n  trusted_proxies: [127.0.0.1/32]\n"
                                         "log:\n  level: debug\n" % HEADER_TIMEOUT),
                         tls=c.client_context()).start()

    def handshake(self, server_hostname, check_hostname=True, **ctx_options):
        ctx = self.certs.client_context(check_hostname)
        for k, v in ctx_options.items():
            setattr(ctx, k, v)
        with socket.create_connection((self.srv.host, self.srv.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=server_hostname) as t:
                return t.getpeercert(), t.version()

    def curl(self, *args, hostname="registry.test"):
        return curl_https(self.certs.ca, hostname, self.srv.port, *args, timeout=60)

    # -- certificates and SNI

    def test_sni_picks_the_matching_certificate(self):
        cert, _ = self.handshake("registry.test")
        self.assertEqual(san_of(cert), ["DNS:registry.test", "IP Address:127.0.0.1"])
        for name in ("foo.custom.test", "Another.CUSTOM.test"):
            cert, _ = self.handshake(name)
            self.assertEqual(san_of(cert), ["DNS:*.custom.test"], name)

    def test_no_sni_or_unknown_name_gets_the_default(self):
        # An IP literal is never sent as SNI; the default certificate carries its IP SAN.
        cert, _ = self.handshake("127.0.0.1")
        self.assertEqual(san_of(cert), ["DNS:registry.test", "IP Address:127.0.0.1"])
        cert, _ = self.handshake(None, check_hostname=False)
        self.assertIn("DNS:registry.test", san_of(cert))
        # A wildcard covers one label only; unknown names fall back to the default.
        for name in ("unknown.test", "a.b.custom.test", "custom.test"):
            cert, _ = self.handshake(name, check_hostname=False)
            self.assertIn("DNS:registry.test", san_of(cert), name)

    def test_tls_1_2_and_1_3(self):
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            _, got = self.handshake("registry.test", minimum_version=v, maximum_version=v)
            self.assertEqual(got, {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[v])

    def test_tls_1_1_is_refused(self):
        p = subprocess.run(["openssl", "s_client", "-connect", self.srv.address, "-tls1_1",
                            "-servername", "registry.test"], input=b"", capture_output=True, timeout=30)
        self.assertNotEqual(p.returncode, 0, p.stdout[-500:])
        self.assertIn(b"no peer certificate available", p.stdout)  # refused before any certificate
        self.assertStatus(self.srv.get("/v2/"), 200)

    # -- real clients over HTTPS

    def test_curl_base_and_blob_push_pull(self):
        self.assertEqual(self.curl("BASE/v2/"), b"{}")
        self.assertEqual(self.curl("BASE/v2/", hostname="api.custom.test"), b"{}")
        repo = "tls/curl"
        data = rand_bytes(3 * 1024 * 1024 + 17)  # several 256 KiB file chunks, and a partial one
        d = digest(data)
        src = os.path.join(mkdtemp(), "blob")
        with open(src, "wb") as f:
            f.write(data)
        headers = self.curl("-X", "POST", "-D", "-", "-o", "/dev/null", "BASE/v2/%s/blobs/uploads/" % repo)
        loc = location_of(headers)
        self.curl("-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + src,
                  "-o", "/dev/null", "BASE" + add_query(location_path(loc), digest=d))
        out = os.path.join(mkdtemp(), "pulled")
        self.curl("-o", out, "BASE/v2/%s/blobs/%s" % (repo, d))
        with open(out, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), d.split(":")[1])
        # A chunked PATCH (streamed body parser) over TLS, then the blob read by range.
        data2 = rand_bytes(700 * 1024)
        with open(src, "wb") as f:
            f.write(data2)
        loc = start_upload(self.srv, repo)
        headers = self.curl("-X", "PATCH", "-H", "Transfer-Encoding: chunked", "-H",
                            "Content-Type: application/octet-stream", "--data-binary", "@" + src,
                            "-D", "-", "-o", "/dev/null", "BASE" + loc)
        loc = location_of(headers)
        d2 = digest(data2)
        self.curl("-X", "PUT", "-o", "/dev/null", "BASE" + add_query(location_path(loc), digest=d2))
        part = self.curl("-H", "Range: bytes=1000-299999", "BASE/v2/%s/blobs/%s" % (repo, d2))
        self.assertEqual(part, data2[1000:300000])

    def test_python_client_push_pull(self):
        repo = "tls/python"
        for how in ("monolithic", "post_put", "chunked"):
            data = rand_bytes(300 * 1024 + 5)
            d = push_blob(self.srv, repo, data, how=how)
            self.assertBlob(self.srv, repo, data, d)
        big = rand_bytes(9 * 1024 * 1024)
        d = push_blob(self.srv, repo, big)
        r = self.srv.get("/v2/%s/blobs/%s" % (repo, d))
        self.assertStatus(r, 200)
        self.assertEqual(digest(r.body), d)
        img = push_image(self.srv, repo, "v1")
        r = self.srv.get("/v2/%s/manifests/v1" % repo, headers={"Accept": OCI_MANIFEST})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, img.manifest)
        self.assertStatus(self.srv.head("/v2/%s/blobs/%s" % (repo, d)), 200)

    def test_keep_alive_serves_many_requests_on_one_tls_connection(self):
        with RawConn(self.srv.host, self.srv.port, tls=self.certs.client_context(),
                     server_hostname="registry.test") as c:
            for i in range(20):
                c.send(b"GET /v2/?n=%d HTTP/1.1\r\nHost: registry.test\r\n\r\n" % i)
                self.assertStatus(c.read_response(), 200)

    def test_oversized_body_gets_its_answer_over_tls(self):
        # The server answers 413 before reading the body and closes: the lingering close must
        # let the client finish sending and read the answer, not see a reset.
        body = rand_bytes(5 * 1024 * 1024)
        r = self.srv.request("PUT", "/v2/tls/big/manifests/v1", body=body,
                             headers={"Content-Type": OCI_MANIFEST})
        self.assertError(r, 413)
        self.assertStatus(self.srv.get("/v2/"), 200)

    # -- hostile clients

    def test_plain_http_to_the_tls_port_is_refused(self):
        with socket.create_connection((self.srv.host, self.srv.port), timeout=10) as s:
            s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: registry.test\r\n\r\n")
            t0 = time.monotonic()
            got = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except ConnectionResetError:
                pass
            self.assertLess(time.monotonic() - t0, HEADER_TIMEOUT)  # refused at once
            self.assertFalse(got.startswith(b"HTTP/1.1 2"), got)
        self.srv.assert_alive()
        self.assertStatus(self.srv.get("/v2/"), 200)

    def test_garbage_handshakes_do_not_hurt(self):
        for junk in (b"\x16\x03\x01\x00\x05hello", b"\x16\x03\x03\xff\xff" + b"\x00" * 100, os.urandom(2048),
                     b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10"):
            with socket.create_connection((self.srv.host, self.srv.port), timeout=10) as s:
                try:
                    s.sendall(junk)
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(65536):
                        pass
                except (ConnectionResetError, BrokenPipeError):
                    pass
        self.srv.assert_alive()
        self.assertStatus(self.srv.get("/v2/"), 200)

    def client_hello(self):
        ctx = self.certs.client_context()
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing, server_hostname="registry.test")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return outgoing.read()

    def assertCutAtHeaderTimeout(self, t0, closed_at, what):
        self.assertIsNotNone(closed_at, "%s never cut" % what)
        took = closed_at - t0
        print("%s cut after %.2fs (header_timeout %ds)" % (what, took, HEADER_TIMEOUT))
        self.assertGreater(took, HEADER_TIMEOUT - 0.5, what)
        self.assertLess(took, HEADER_TIMEOUT + 2, what)

    def test_silent_connection_is_cut_while_others_are_served(self):
        with RawConn(self.srv.host, self.srv.port) as silent:
            t0 = time.monotonic()
            for _ in range(3):
                self.assertStatus(self.srv.get("/v2/"), 200)
            self.assertTrue(silent.closed_by_peer(HEADER_TIMEOUT + 5))
            self.assertCutAtHeaderTimeout(t0, time.monotonic(), "silent TCP connection")

    def test_trickled_handshake_is_cut_at_header_timeout(self):
        hello = self.client_hello()
        with RawConn(self.srv.host, self.srv.port) as c:
            t0 = time.monotonic()
            closed_at = None
            for b in hello:  # one byte every 0.2 s: never finishes in time
                try:
                    c.send(bytes([b]))
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.monotonic()
                    break
                if c.closed_by_peer(0.2):
                    closed_at = time.monotonic()
                    break
                if time.monotonic() - t0 > HEADER_TIMEOUT + 5:
                    break
            self.assertCutAtHeaderTimeout(t0, closed_at, "trickled handshake")

    def test_handshake_and_first_header_share_one_deadline(self):
        # A handshake finished late leaves only the rest of header_timeout for the request.
        with socket.create_connection((self.srv.host, self.srv.port), timeout=10) as s:
            t0 = time.monotonic()
            time.sleep(HEADER_TIMEOUT - 1.5)
            t = self.certs.client_context().wrap_socket(s, server_hostname="registry.test")
            closed_at = None
            t.settimeout(HEADER_TIMEOUT + 5)
            try:
                while t.recv(65536):
                    pass
                closed_at = time.monotonic()
            except (ConnectionResetError, ssl.SSLError, OSError):
                closed_at = time.monotonic()
            self.assertCutAtHeaderTimeout(t0, closed_at, "handshaken connection without a request")

    def test_many_parallel_handshakes(self):
        errors = []

        def one(i):
            try:
                r = self.srv.get("/v2/?parallel=%d" % i)
                if r.status != 200:
                    errors.append(r)
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    # -- client view behind a trusted proxy, over TLS

    def test_forwarded_headers_from_trusted_peer_over_tls(self):
        path = "/v2/?probe=" + rand_name()
        r = self.srv.get(path, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9",
                                        "X-Forwarded-Proto": "http",
                                        "X-Forwarded-Host": "registry.example.com"})
        self.assertStatus(r, 200)
        rec = self.srv.access_record(path)
        self.assertEqual(rec.get("client"), "203.0.113.9", rec)
        self.assertEqual(rec.get("scheme"), "https", rec)  # the server's own TLS wins
        self.assertEqual(rec.get("host"), "registry.example.com", rec)
        path = "/v2/?probe=" + rand_name()
        self.assertStatus(self.srv.get(path), 200)
        rec = self.srv.access_record(path)
        self.assertNotIn("client", rec)
        self.assertEqual(rec.get("host"), "127.0.0.1:%d" % self.srv.port, rec)


class TlsSkopeoTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.images = build_test_images()
        c = certs()
        cls.certs = c
        cls.srv = Server(config=c.config(), tls=c.client_context()).start()
        cls.tools = ContainerTools()  # no insecure registry: TLS is verified

    def test_skopeo_push_and_pull_over_tls(self):
        src = self.images["single"]
        ref = "docker://%s/tls/skopeo:v1" % self.srv.address
        self.tools.skopeo("copy", "--dest-cert-dir", self.certs.cert_dir, "--preserve-digests",
                          "oci:%s:latest" % src, ref)
        out = os.path.join(mkdtemp(), "layout")
        self.tools.skopeo("copy", "--src-cert-dir", self.certs.cert_dir, "--preserve-digests",
                          ref, "oci:%s:latest" % out)
        src_blobs, out_blobs = layout_blobs(src), layout_blobs(out)
        self.assertEqual(sorted(src_blobs), sorted(out_blobs))
        for d, data in src_blobs.items():
            self.assertEqual(out_blobs[d], data)
        self.assertEqual(oci_layout_manifest(src)[0], oci_layout_manifest(out)[0])
        # Without the CA, verification fails: the server really is checked.
        p = self.tools.skopeo("inspect", ref, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"certificate", p.stderr.lower())


class TlsLimitsTest(BerthTestCase):
    """max_connections and drain over TLS."""
    start_server = False

    @classmethod
    def setUpClass(cls):
        c = certs()
        cls.certs = c
        cls.srv = Server(config=c.config("server:\n  max_connections: 2\n  header_timeout: 10\n"),
                         tls=c.client_context()).start()

    def held(self, n):
        conns = []
        for _ in range(n):
            c = RawConn(self.srv.host, self.srv.port, tls=self.certs.client_context(),
                        server_hostname="registry.test")
            c.send(b"GET /v2/ HTTP/1.1\r\nHost: registry.test\r\n\r\n")
            self.assertStatus(c.read_response(), 200)
            conns.append(c)
        return conns

    def test_over_limit_gets_503_over_tls(self):
        conns = self.held(2)
        try:
            with RawConn(self.srv.host, self.srv.port, tls=self.certs.client_context(),
                         server_hostname="registry.test") as c:
                c.send(b"GET /v2/ HTTP/1.1\r\nHost: registry.test\r\n\r\n")
                r = c.read_response()
                self.assertStatus(r, 503)
                self.assertEqual([e["code"] for e in r.json()["errors"]], ["UNAVAILABLE"], r)
                self.assertTrue(r.header("Retry-After"), r)
                self.assertTrue(c.closed_by_peer(5))
        finally:
            for c in conns:
                c.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = self.srv.get("/v2/")
            if r.status == 200:
                break
            time.sleep(0.1)
        self.assertStatus(r, 200)


class TlsDrainTest(unittest.TestCase):
    def test_sigterm_with_idle_and_silent_tls_connections(self):
        c = certs()
        srv = Server(config=c.config("server:\n  header_timeout: 30\n  idle_timeout: 60\n"),
                     tls=c.client_context()).start()
        idle = RawConn(srv.host, srv.port, tls=c.client_context(), server_hostname="registry.test")
        idle.send(b"GET /v2/ HTTP/1.1\r\nHost: registry.test\r\n\r\n")
        self.assertEqual(idle.read_response().status, 200)
        silent = RawConn(srv.host, srv.port)
        half = RawConn(srv.host, srv.port)
        half.send(b"\x16\x03\x01")  # a handshake begun and left hanging
        time.sleep(0.3)
        t0 = time.monotonic()
        rc = srv.stop(timeout=20)
        took = time.monotonic() - t0
        for conn in (idle, silent, half):
            conn.close()
        self.assertEqual(rc, 0, srv.log_tail())
        print("drained in %.2fs" % took)
        self.assertLess(took, 5, "drain waited on idle TLS connections")


class TlsLoadErrorsTest(unittest.TestCase):
    def assertStartFails(self, config, *needles):
        srv = Server(config=config)
        with self.assertRaises(ServerStartError) as cm:
            srv.start()
        msg = str(cm.exception)
        for n in needles:
            self.assertIn(n, msg)
        self.assertNotEqual(srv.proc.returncode, 0)

    def files(self, cert, key):
        return "tls:\n  certificates:\n    - {cert: %s, key: %s}\n" % (cert, key)

    def test_missing_certificate_file(self):
        c = certs()
        missing = c.path("nope.crt")
        self.assertStartFails(self.files(missing, c.path("registry.key")),
                              "tls.certificates[0].cert", missing, "No such file")

    def test_missing_key_file_of_the_second_certificate(self):
        c = certs()
        missing = c.path("nope.key")
        config = ("tls:\n  certificates:\n    - {cert: %s, key: %s}\n    - {cert: %s, key: %s}\n"
                  % (c.path("registry.crt"), c.path("registry.key"), c.path("custom.crt"), missing))
        self.assertStartFails(config, "tls.certificates[1].key", missing)

    def test_key_not_matching_certificate(self):
        c = certs()
        self.assertStartFails(self.files(c.path("registry.crt"), c.path("custom.key")),
                              "tls.certificates[0].key", c.path("custom.key"), "does not match",
                              c.path("registry.crt"))

    def test_not_a_certificate(self):
        c = certs()
        self.assertStartFails(self.files(c.path("registry_ext"), c.path("registry.key")),
                              "tls.certificates[0].cert", c.path("registry_ext"), "PEM")

    def test_encrypted_key_is_refused_without_prompting(self):
        c = certs()
        self.assertStartFails(self.files(c.path("registry.crt"), c.path("encrypted.key")),
                              "tls.certificates[0].key", c.path("encrypted.key"), "unencrypted")


if __name__ == "__main__":
    main()
