#!/usr/bin/env python3
"""The client's address, scheme and host behind reverse proxies: X-Forwarded-For, -Proto
and -Host are believed only from server.trusted_proxies (plain HTTP, headers written by
the test), and a real nginx in front of Berth configured as docs/tls.md says.

What the server made of a request's origin is read from its access log: the "client"
field (when it differs from the TCP peer) and, at log.level debug, "scheme" and "host"."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (REPO_ROOT, ContainerTools, RawConn, Server, _free_port,  # noqa: E402
                       build_test_images, digest, layout_blobs, location_path, main, mkdtemp,
                       oci_layout_manifest, rand_bytes, rand_name, start_upload)
from tlscerts import certs, curl_https, location_of  # noqa: E402


class ForwardedHeadersTest(unittest.TestCase):
    """X-Forwarded-* believed only from server.trusted_proxies, on plain HTTP."""

    @classmethod
    def setUpClass(cls):
        cls.trusting = Server(config="server:\n  trusted_proxies: [127.0.0.1/32, 10.0.0.0/8]\n"
                                     "  max_uploads_per_client: 1\nlog:\n  level: debug\n").start()
        cls.untrusting = Server(config="server:\n  trusted_proxies: [10.0.0.0/8, \"::1\"]\n"
                                       "log:\n  level: debug\n").start()

    @classmethod
    def tearDownClass(cls):
        for s in (cls.trusting, cls.untrusting):
            s.__exit__(None, None, None)

    def seen(self, srv, headers):
        path = "/v2/?probe=" + rand_name()
        r = srv.get(path, headers=headers)
        self.assertEqual(r.status, 200, r)
        return srv.access_record(path)

    FORWARDED = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.1.2.3",
                 "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "registry.example.com"}

    def test_trusted_peer_is_believed(self):
        rec = self.seen(self.trusting, self.FORWARDED)
        self.assertEqual(rec["remote"], "127.0.0.1")
        self.assertEqual(rec.get("client"), "203.0.113.7", rec)
        self.assertEqual(rec.get("scheme"), "https", rec)
        self.assertEqual(rec.get("host"), "registry.example.com", rec)

    def test_untrusted_peer_is_not(self):
        rec = self.seen(self.untrusting, self.FORWARDED)
        self.assertNotIn("client", rec)
        self.assertEqual(rec.get("scheme"), "http", rec)
        self.assertEqual(rec.get("host"), "127.0.0.1:%d" % self.untrusting.port, rec)

    def test_garbage_is_never_believed(self):
        rec = self.seen(self.trusting, {"X-Forwarded-For": "6.6.6.6, unknown",
                                        "X-Forwarded-Proto": "gopher",
                                        "X-Forwarded-Host": "evil.test/path?x"})
        self.assertNotIn("client", rec)  # the proxy wrote garbage: the proxy is the client
        self.assertEqual(rec.get("scheme"), "http", rec)
        self.assertEqual(rec.get("host"), "127.0.0.1:%d" % self.trusting.port, rec)

    def test_invalid_host_falls_back_to_the_listen_address(self):
        rec = self.seen(self.untrusting, {"Host": "bad host<script>"})
        self.assertEqual(rec.get("host"), self.untrusting.address, rec)
        rec = self.seen(self.untrusting, {"Host": "Registry.Test:5000"})
        self.assertEqual(rec.get("host"), "Registry.Test:5000", rec)

    def test_ipv6_client_through_proxy(self):
        rec = self.seen(self.trusting, {"X-Forwarded-For": "[2001:db8::7]:51234"})
        self.assertEqual(rec.get("client"), "2001:db8::7", rec)

    def test_upload_limit_counts_the_forwarded_client(self):
        # max_uploads_per_client: 1. Behind a proxy every client shares the proxy's address;
        # the limit must count the client the proxy forwarded for.
        srv = self.trusting
        loc_a = start_upload(srv, "fwd/a")
        loc_b = start_upload(srv, "fwd/b")
        data = rand_bytes(64 << 10)
        head = ("PATCH %s HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.1\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                % (loc_a, len(data))).encode()
        with RawConn(srv.host, srv.port, timeout=20) as slow:
            slow.send(head + data[:1000])  # holds 203.0.113.1's only slot
            time.sleep(0.5)
            r = srv.request("PATCH", loc_b, body=data, headers={
                "Content-Range": "0-%d" % (len(data) - 1), "X-Forwarded-For": "203.0.113.2"})
            self.assertEqual(r.status, 202, r)
            loc_b = location_path(r.header("Location"))
            r = srv.request("PATCH", loc_b, body=data, headers={
                "Content-Range": "%d-%d" % (len(data), 2 * len(data) - 1), "X-Forwarded-For": "203.0.113.1"})
            self.assertEqual(r.status, 429, r)
            slow.send(data[1000:])
            self.assertEqual(slow.read_response("PATCH").status, 202)


def docs_nginx_config():
    """The nginx server block of docs/tls.md, so the documented configuration is the one
    tested."""
    with open(os.path.join(REPO_ROOT, "docs", "tls.md")) as f:
        m = re.search(r"```nginx\n(.*?)```", f.read(), re.S)
    assert m, "no nginx block in docs/tls.md"
    return m.group(1)


@unittest.skipUnless(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"), "nginx is not installed")
class NginxFrontTest(unittest.TestCase):
    """nginx terminates TLS and proxies to Berth with the docs' configuration. nginx
    connects to Berth from 127.0.0.2, the only trusted proxy; clients come from 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        cls.certs = c = certs()
        cls.berth = Server(config="server:\n  trusted_proxies: [127.0.0.2/32]\nlog:\n  level: debug\n").start()
        cls.dir = mkdtemp("berth-e2e-nginx-")
        cls.port = _free_port()
        block = docs_nginx_config()
        for old, new in (("server 127.0.0.1:5000;", "server %s;" % cls.berth.address),
                         ("listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % cls.port),
                         ("server_name registry.example.com;", "server_name registry.test;"),
                         ("/etc/ssl/registry.example.com/fullchain.pem", c.path("registry.crt")),
                         ("/etc/ssl/registry.example.com/privkey.pem", c.path("registry.key")),
                         ("proxy_pass http://berth;", "proxy_pass http://berth;\n        proxy_bind 127.0.0.2;")):
            assert old in block, "docs/tls.md nginx block lacks %r" % old
            block = block.replace(old, new)
        tmp = os.path.join(cls.dir, "tmp")
        os.makedirs(tmp)
        conf = os.path.join(cls.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("daemon off;\nmaster_process off;\npid %s;\nerror_log %s info;\n"
                    "events {}\nhttp {\n  access_log off;\n" % (os.path.join(cls.dir, "nginx.pid"),
                                                              os.path.join(cls.dir, "error.log")))
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                f.write("  %s_temp_path %s;\n" % (kind, os.path.join(tmp, kind)))
            f.write(block + "}\n")
        cls.nginx_log = open(os.path.join(cls.dir, "stderr.log"), "wb")
        cls.nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", cls.dir, "-c", conf,
                                      "-e", os.path.join(cls.dir, "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=cls.nginx_log, stderr=cls.nginx_log)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                if cls.nginx.poll() is not None or time.monotonic() > deadline:
                    with open(os.path.join(cls.dir, "error.log"), errors="replace") as f:
                        raise AssertionError("nginx did not start:\n" + f.read())
                time.sleep(0.05)
        cls.tools = ContainerTools()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.terminate()
        cls.nginx.wait(10)
        cls.nginx_log.close()
        cls.berth.__exit__(None, None, None)

    def curl(self, *args):
        return curl_https(self.certs.ca, "registry.test", self.port, *args)

    def test_client_scheme_and_host_through_nginx(self):
        # The client's own X-Forwarded-For is kept to the left by nginx and ignored.
        path = "/v2/?probe=" + rand_name()
        self.assertEqual(self.curl("-H", "X-Forwarded-For: 6.6.6.6", "-H", "X-Forwarded-Proto: gopher",
                                   "BASE" + path), b"{}")
        rec = self.berth.access_record(path)
        self.assertEqual(rec["remote"], "127.0.0.2", rec)
        self.assertEqual(rec.get("client"), "127.0.0.1", rec)
        self.assertEqual(rec.get("scheme"), "https", rec)
        self.assertEqual(rec.get("host"), "registry.test:%d" % self.port, rec)

    def test_streamed_push_and_pull_through_nginx(self):
        repo = "proxy/curl"
        data = rand_bytes(12 * 1024 * 1024 + 3)
        src = os.path.join(mkdtemp(), "blob")
        with open(src, "wb") as f:
            f.write(data)
        d = digest(data)
        headers = self.curl("-X", "POST", "-D", "-", "-o", "/dev/null", "BASE/v2/%s/blobs/uploads/" % repo)
        loc = location_of(headers)
        # A chunked PATCH: nginx passes the chunked body on unbuffered.
        headers = self.curl("-X", "PATCH", "-H", "Transfer-Encoding: chunked", "-H",
                            "Content-Type: application/octet-stream", "--data-binary", "@" + src,
                            "-D", "-", "-o", "/dev/null", "BASE" + location_path(loc))
        loc = location_of(headers)
        self.curl("-X", "PUT", "-o", "/dev/null", "BASE%s%sdigest=%s" % (
            location_path(loc), "&" if "?" in loc else "?", d))
        out = os.path.join(mkdtemp(), "pulled")
        self.curl("-o", out, "BASE/v2/%s/blobs/%s" % (repo, d))
        with open(out, "rb") as f:
            self.assertEqual(digest(f.read()), d)

    def test_skopeo_through_nginx(self):
        images = build_test_images()
        src = images["single"]
        ref = "docker://127.0.0.1:%d/proxy/skopeo:v1" % self.port
        self.tools.skopeo("copy", "--dest-cert-dir", self.certs.cert_dir, "--preserve-digests",
                          "oci:%s:latest" % src, ref)
        out = os.path.join(mkdtemp(), "layout")
        self.tools.skopeo("copy", "--src-cert-dir", self.certs.cert_dir, "--preserve-digests",
                          ref, "oci:%s:latest" % out)
        self.assertEqual(sorted(layout_blobs(src)), sorted(layout_blobs(out)))
        self.assertEqual(oci_layout_manifest(src)[0], oci_layout_manifest(out)[0])


if __name__ == "__main__":
    main()
