#!/usr/bin/env python3
"""The rest of the API: /v2/, tags/list and _catalog pagination, name and tag
validation, path traversal in every position, unknown routes, HTTP robustness, and the
real curl client for uploads, manifests and ranges."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (ACCEPT_MANIFESTS, OCI_MANIFEST, BerthTestCase, add_query,  # noqa: E402
                       digest, location_path, main, make_image, parse_link_next, push_blob,
                       push_image, push_manifest, rand_bytes)


class BaseTest(BerthTestCase):
    def test_base(self):
        r = self.srv.get("/v2/")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Docker-Distribution-API-Version"), "registry/2.0")
        if r.body:
            self.assertIsInstance(r.json(), dict)
        h = self.srv.head("/v2/")
        self.assertStatus(h, 200)
        self.assertEqual(h.header("Docker-Distribution-API-Version"), "registry/2.0")

    def test_unknown_routes(self):
        for method, path in (("GET", "/v3/"), ("GET", "/v2/x/unknown"), ("GET", "/"),
                             ("GET", "/v2/x/blobs/"), ("GET", "/v2/x/manifests/"),
                             ("POST", "/v2/x/manifests/latest"), ("PATCH", "/v2/"),
                             ("PUT", "/v2/x/tags/list"), ("POST", "/v2/_catalog"),
                             ("GET", "/v2/x/blobs/uploads"), ("TRACE", "/v2/")):
            r = self.srv.request(method, path)
            self.assertStatus(r, (400, 404, 405), "%s %s" % (method, path))
            if r.body:
                self.assertError(r, (400, 404, 405))

    def test_keep_alive(self):
        import http.client
        conn = http.client.HTTPConnection(self.srv.host, self.srv.port, timeout=10)
        try:
            for _ in range(50):
                conn.request("GET", "/v2/")
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
        finally:
            conn.close()

    def test_pipelined_requests(self):
        req = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"
        raw = self.srv.raw(req * 3 + b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(raw.count(b"HTTP/1.1 200"), 4, raw[:2000])

    def test_http10_without_host(self):
        raw = self.srv.raw(b"GET /v2/ HTTP/1.0\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.") and b" 200 " in raw.split(b"\r\n")[0], raw[:300])

    def test_garbage_request(self):
        for junk in (b"NOT HTTP AT ALL\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),
                     b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                     b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                     b"GET /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            raw = self.srv.raw(junk, timeout=5)
            if raw:
                status = raw.split(b"\r\n")[0]
                if b" 200 " in status:
                    # Answering a GET without reading its (bad) body is fine if the
                    # connection is closed, so the body can't be taken as a next request.
                    self.assertIn(b"\r\nconnection: close\r\n", raw.lower(), junk)
                    self.assertEqual(raw.count(b"HTTP/1."), 1, raw)
                else:
                    self.assertRegex(status, rb"^HTTP/1\.[01] 4\d\d", junk)
        self.srv.assert_alive()
        self.assertStatus(self.srv.get("/v2/"), 200)

    SMUGGLED = b"GET /v2/_catalog HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    def test_request_smuggling_shapes_rejected(self):
        # RFC 9112 6.3: Content-Length with Transfer-Encoding, several Content-Lengths, or a
        # Transfer-Encoding whose final coding is not chunked: 400 and close. What follows
        # must never be served as a request of its own.
        for req in (b"POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                    b"GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
                    b"POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                    b"GET /v2/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
                    b"POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"):
            raw = self.srv.raw(req + self.SMUGGLED, timeout=5)
            self.assertEqual(raw.count(b"HTTP/1."), 1, "the bytes after the request were served as "
                             "a request of their own: %r -> %r" % (req, raw))
            self.assertRegex(raw.split(b"\r\n")[0], rb"^HTTP/1\.[01] 400", req)
        self.srv.assert_alive()

    def test_unknown_transfer_coding(self):
        # A coding the server does not implement, chunked last: 501 (RFC 9112 6.1 SHOULD), or
        # at the very least nothing after it is served.
        req = (b"POST /v2/x/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
               b"\r\n0\r\n\r\n")
        raw = self.srv.raw(req + self.SMUGGLED, timeout=5)
        self.assertEqual(raw.count(b"HTTP/1."), 1, raw)
        self.assertRegex(raw.split(b"\r\n")[0], rb"^HTTP/1\.[01] (400|501)", raw)

    def test_very_long_url(self):
        raw = self.srv.raw(b"GET /v2/" + b"a/" * 50000 + b"tags/list HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n", timeout=5)
        if raw:
            self.assertRegex(raw.split(b"\r\n")[0], rb"^HTTP/1\.[01] (400|404|414|431)")
        self.srv.assert_alive()

    def test_huge_header(self):
        raw = self.srv.raw(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
                           timeout=5)
        if raw:
            self.assertRegex(raw.split(b"\r\n")[0], rb"^HTTP/1\.[01] (400|413|431)")
        self.srv.assert_alive()
        self.assertStatus(self.srv.get("/v2/"), 200)


class TagsTest(BerthTestCase):
    repo = "tags/app"
    tags = ["b", "a", "c", "a-1", "A", "Z9", "zz", "1.0", "latest", "v_2"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        img = push_image(cls.srv, cls.repo, cls.tags[0])
        for t in cls.tags[1:]:
            push_manifest(cls.srv, cls.repo, t, img.manifest, img.media_type)
        cls.sorted = sorted(cls.tags)

    def get_tags(self, query=""):
        r = self.srv.get("/v2/%s/tags/list%s" % (self.repo, query))
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
        doc = r.json()
        self.assertEqual(doc.get("name"), self.repo)
        return r, doc.get("tags") or []

    def test_all_sorted(self):
        r, tags = self.get_tags()
        self.assertEqual(tags, self.sorted)
        self.assertIsNone(r.header("Link"))

    def test_paginate(self):
        for n in (1, 3, 4):
            r, page = self.get_tags("?n=%d" % n)
            seen = list(page)
            self.assertEqual(page, self.sorted[:n])
            pages = 1
            while r.header("Link"):
                path, params = parse_link_next(r.header("Link"))
                self.assertEqual(path, "/v2/%s/tags/list" % self.repo)
                self.assertEqual(params.get("n"), str(n))
                self.assertEqual(params.get("last"), seen[-1])
                r, page = self.get_tags("?" + r.header("Link").split("?", 1)[1].split(">")[0])
                self.assertLessEqual(len(page), n)
                seen += page
                pages += 1
                self.assertLess(pages, 50)
            self.assertEqual(seen, self.sorted, "n=%d" % n)

    def test_link_header_format(self):
        r, page = self.get_tags("?n=2")
        self.assertEqual(page, self.sorted[:2])
        link = r.header("Link")
        self.assertIsNotNone(link, r)
        path, params = parse_link_next(link)
        self.assertEqual((path, params), ("/v2/%s/tags/list" % self.repo,
                                          {"last": self.sorted[1], "n": "2"}))
        self.assertRegex(link, r'^<[^>]+>; rel="next"$')

    def test_last(self):
        _, tags = self.get_tags("?last=b")
        self.assertEqual(tags, [t for t in self.sorted if t > "b"])
        _, tags = self.get_tags("?last=b&n=1")
        self.assertEqual(tags, ["c"])
        _, tags = self.get_tags("?last=bb")  # not a tag: still "after it"
        self.assertEqual(tags, [t for t in self.sorted if t > "bb"])
        _, tags = self.get_tags("?last=zz")
        self.assertEqual(tags, [])

    def test_n_larger_than_count(self):
        r, tags = self.get_tags("?n=1000")
        self.assertEqual(tags, self.sorted)
        self.assertIsNone(r.header("Link"))

    def test_exact_last_page_has_no_link(self):
        r, tags = self.get_tags("?n=%d" % len(self.tags))
        self.assertEqual(tags, self.sorted)
        if r.header("Link"):  # allowed, but then the next page must be empty
            _, params = parse_link_next(r.header("Link"))
            _, rest = self.get_tags("?last=%s&n=%s" % (params["last"], params["n"]))
            self.assertEqual(rest, [])

    def test_bad_n(self):
        for q in ("?n=abc", "?n=-1", "?n=99999999999999999999999", "?n="):
            r = self.srv.get("/v2/%s/tags/list%s" % (self.repo, q))
            self.assertStatus(r, (200, 400), q)
            if r.status == 400:
                self.assertError(r, 400)

    def test_unknown_repo(self):
        r = self.srv.get("/v2/tags/never/tags/list")
        self.assertError(r, 404, "NAME_UNKNOWN")


class CatalogTest(BerthTestCase):
    repos = ["cat/e", "cat/a", "cat/c", "cat/b", "cat/d/deep", "zeta", "alpha-1"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for r in cls.repos:
            push_image(cls.srv, r, "latest")
        cls.sorted = sorted(cls.repos)

    def get_catalog(self, query=""):
        r = self.srv.get("/v2/_catalog" + query)
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
        return r, r.json().get("repositories") or []

    def test_all(self):
        r, repos = self.get_catalog()
        self.assertEqual(repos, self.sorted)

    def test_paginate(self):
        for n in (1, 2, 3):
            r, page = self.get_catalog("?n=%d" % n)
            self.assertEqual(page, self.sorted[:n])
            seen = list(page)
            while r.header("Link"):
                path, params = parse_link_next(r.header("Link"))
                self.assertEqual(path, "/v2/_catalog")
                self.assertEqual(params.get("n"), str(n))
                self.assertEqual(params.get("last"), seen[-1])
                r, page = self.get_catalog("?" + r.header("Link").split("?", 1)[1].split(">")[0])
                seen += page
                self.assertLess(len(seen), 100)
            self.assertEqual(seen, self.sorted, "n=%d" % n)

    def test_link_format(self):
        r, page = self.get_catalog("?n=2")
        self.assertRegex(r.header("Link") or "", r'^<[^>]+>; rel="next"$')
        path, params = parse_link_next(r.header("Link"))
        self.assertEqual((path, params), ("/v2/_catalog", {"last": self.sorted[1], "n": "2"}))

    def test_last(self):
        _, repos = self.get_catalog("?last=cat/b")
        self.assertEqual(repos, [x for x in self.sorted if x > "cat/b"])
        _, repos = self.get_catalog("?last=cat%2Fb&n=2")
        self.assertEqual(repos, [x for x in self.sorted if x > "cat/b"][:2])


BAD_NAMES = ["Upper/case", "UPPER", "..", "%2e%2e", "a/..", "../a", "a//b", "a/./b", "-a", "a-",
             "a_", "a__", "a.", ".a", "a/", "a..b", "a%2F..%2Fb", "%2e%2e%2fetc",
             "a%00b", "a%20b", "a/%2e%2e/b", "x" * 256, "a/" * 130 + "b"]


NAME_RE = r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$"


class NamesTest(BerthTestCase):
    def check_rejected(self, r, what):
        self.assertNot5xx(r)
        self.assertStatus(r, (400, 404), what)
        if what.startswith("HEAD"):
            return
        if r.status == 400:
            self.assertError(r, 400, "NAME_INVALID")
        elif r.body:
            self.assertError(r, 404)

    def test_bad_names_everywhere(self):
        d = digest(b"x")
        img = make_image()
        for name in BAD_NAMES:
            for method, path, body in (
                    ("GET", "/v2/%s/tags/list" % name, None),
                    ("GET", "/v2/%s/manifests/latest" % name, None),
                    ("HEAD", "/v2/%s/manifests/latest" % name, None),
                    ("PUT", "/v2/%s/manifests/latest" % name, img.manifest),
                    ("DELETE", "/v2/%s/manifests/latest" % name, None),
                    ("GET", "/v2/%s/blobs/%s" % (name, d), None),
                    ("DELETE", "/v2/%s/blobs/%s" % (name, d), None),
                    ("POST", "/v2/%s/blobs/uploads/" % name, None),
                    ("POST", "/v2/%s/blobs/uploads/?digest=%s" % (name, d), b"x"),
                    ("GET", "/v2/%s/referrers/%s" % (name, d), None)):
                hdrs = {"Content-Type": OCI_MANIFEST} if method == "PUT" else {}
                r = self.srv.request(method, path, body=body, headers=hdrs)
                self.check_rejected(r, "%s %s" % (method, path[:120]))
        r = self.srv.get("/v2/_catalog")
        self.assertStatus(r, 200)
        for repo in r.json().get("repositories") or []:
            self.assertRegex(repo, NAME_RE)
            self.assertLessEqual(len(repo), 255)

    def test_good_names(self):
        for name in ("a", "a/b/c", "a.b_c__d---e", "x" * 200, "0/1/2/3/4/5/6/7/8/9", "a-b/c.d"):
            push_image(self.srv, name, "t")
            r = self.srv.get("/v2/%s/tags/list" % name)
            self.assertStatus(r, 200, name)
            self.assertEqual(r.json()["name"], name)

    def test_percent_encoded_name_segment(self):
        # The Azure SDK sends "team%2Fapp" as one segment and digests as "sha256%3A...".
        img = push_image(self.srv, "pct/name", "v1")
        r = self.srv.get("/v2/pct%2Fname/manifests/v1", headers={"Accept": ACCEPT_MANIFESTS})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, img.manifest)
        r = self.srv.get("/v2/pct%2Fname/blobs/" + digest(img.config).replace(":", "%3A"))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, img.config)

    def test_bad_tags(self):
        img = push_image(self.srv, "tagcheck", "ok")
        for tag in ("-x", ".x", "a" * 129, "a%21", "a%2fb", "%2e%2e"):
            r = self.srv.request("PUT", "/v2/tagcheck/manifests/%s" % tag, body=img.manifest,
                                 headers={"Content-Type": OCI_MANIFEST})
            # A server may refuse percent-encoding anywhere in the path before routing.
            self.assertError(r, 400, "TAG_INVALID", *(("NAME_INVALID",) if "%" in tag else ()))
            # A reference that cannot exist is not found on read and delete (OCI conformance).
            for method in ("GET", "DELETE"):
                r = self.srv.request(method, "/v2/tagcheck/manifests/%s" % tag,
                                     headers={"Accept": ACCEPT_MANIFESTS})
                if "%" in tag:
                    self.assertError(r, (400, 404), "NAME_INVALID", "MANIFEST_UNKNOWN")
                else:
                    self.assertError(r, 404, "MANIFEST_UNKNOWN")
            r = self.srv.request("HEAD", "/v2/tagcheck/manifests/%s" % tag)
            self.assertStatus(r, (400, 404) if "%" in tag else 404)
        r = self.srv.get("/v2/tagcheck/tags/list")
        self.assertEqual(r.json()["tags"], ["ok"])


SENTINEL = b"BERTH-E2E-SENTINEL-7c1f"
LEAKS = (SENTINEL, b"root:x:0:0", b"SQLite format 3")


class TraversalTest(BerthTestCase):
    """Path traversal in the name, the reference, the digest, the upload id and the query:
    never 5xx, never 2xx with someone else's bytes, nothing written or removed outside."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.parent = os.path.dirname(cls.srv.data_dir)
        with open(os.path.join(cls.parent, "sentinel"), "wb") as f:
            f.write(SENTINEL)
        cls.img = push_image(cls.srv, "victim/app", "v1")
        cls.data = rand_bytes(100)
        push_blob(cls.srv, "victim/app", cls.data)

    def snapshot(self):
        out = {}
        for root, dirs, files in os.walk(self.parent):
            if os.path.abspath(root).startswith(os.path.abspath(self.srv.data_dir)):
                continue
            for f in files:
                p = os.path.join(root, f)
                if p == self.srv.log_path:
                    continue
                with open(p, "rb") as fh:
                    out[p] = fh.read()
        return out

    def assertSafe(self, r, what, allow_ok=False):
        self.assertNot5xx(r)
        for leak in LEAKS:
            self.assertNotIn(leak, r.body, "%s leaked %r" % (what, leak))
        if not allow_ok:
            # A redirect to a cleaned path (what Go's mux does) is harmless too.
            self.assertStatus(r, (301, 307, 308, 400, 404, 405, 416), what)

    def requests(self):
        up = start = None
        r = self.srv.request("POST", "/v2/victim/app/blobs/uploads/")
        self.assertStatus(r, 202)
        start = location_path(r.header("Location"))
        up = start.split("?")[0].rsplit("/", 1)[1]
        names = ["..", "../..", "../../..", "..%2f..%2f..", "%2e%2e/%2e%2e", "victim/../..",
                 "victim/%2e%2e/%2e%2e", "victim%2f..%2f..", "..%5c..", "victim/app/..",
                 "victim/app/../../..", "%2e%2e%2f%2e%2e%2fsentinel"]
        refs = ["..", "%2e%2e", "..%2f..%2f..%2fmeta.db", "%2e%2e%2f%2e%2e%2fmeta.db",
                "..%2f..%2fsentinel", "..%5c..%5cmeta.db", "v1%2f..%2f..%2f..", "....%2f%2f"]
        digests = ["sha256:..%2f..%2f..%2fmeta.db", "sha256:..%2f..%2f..%2f..%2fsentinel",
                   "sha256%3a..%2f..%2fmeta.db", "sha256:%2e%2e", "sha256:" + "." * 64,
                   "..%2f..%2f..%2fmeta.db", "sha256:../../meta.db"]
        uploads = ["..", "%2e%2e", "..%2f..%2f..%2fmeta.db", "..%2f..%2f..%2f..%2fsentinel",
                   "%2e%2e%2f%2e%2e%2fmeta.db", up + "%2f..%2f..%2f..%2fmeta.db",
                   up + "/../../../meta.db", "..%2f" + up, "../" + up]
        for n in names:
            yield "GET", "/v2/%s/tags/list" % n, None
            yield "GET", "/v2/%s/manifests/v1" % n, None
            yield "PUT", "/v2/%s/manifests/v1" % n, self.img.manifest
            yield "POST", "/v2/%s/blobs/uploads/?digest=%s" % (n, digest(b"evil")), b"evil"
            yield "GET", "/v2/%s/blobs/%s" % (n, digest(self.data)), None
            yield "DELETE", "/v2/%s/manifests/v1" % n, None
        for ref in refs:
            for m in ("GET", "HEAD", "DELETE"):
                yield m, "/v2/victim/app/manifests/%s" % ref, None
            yield "PUT", "/v2/victim/app/manifests/%s" % ref, self.img.manifest
        for d in digests:
            for m in ("GET", "HEAD", "DELETE"):
                yield m, "/v2/victim/app/blobs/%s" % d, None
                yield m, "/v2/victim/app/manifests/%s" % d, None
            yield "GET", "/v2/victim/app/referrers/%s" % d, None
            yield "PUT", add_query(start, digest=d).replace("%25", "%"), b"evil"
            yield "POST", "/v2/victim/app/blobs/uploads/?digest=%s" % d, b"evil"
            yield "POST", "/v2/other/app/blobs/uploads/?mount=%s&from=victim/app" % d, None
        for u in uploads:
            for m in ("GET", "DELETE"):
                yield m, "/v2/victim/app/blobs/uploads/%s" % u, None
            yield "PATCH", "/v2/victim/app/blobs/uploads/%s" % u, b"evil"
            yield "PUT", "/v2/victim/app/blobs/uploads/%s?digest=%s" % (u, digest(b"evil")), b"evil"
        for q in ("from=..%2f..%2f..", "from=../../..", "from=victim/../.."):
            yield "POST", "/v2/other/app/blobs/uploads/?mount=%s&%s" % (digest(self.data), q), None

    def test_traversal(self):
        before = self.snapshot()
        meta = os.path.join(self.srv.data_dir, "meta.db")
        had_meta = os.path.exists(meta)
        count = 0
        for method, path, body in self.requests():
            hdrs = {"Content-Type": OCI_MANIFEST} if "/manifests/" in path and method == "PUT" else {}
            if method == "PATCH":
                hdrs = {"Content-Type": "application/octet-stream", "Content-Range": "0-3"}
            r = self.srv.request(method, path, body=body, headers=hdrs)
            self.assertSafe(r, "%s %s" % (method, path), allow_ok=method == "POST" and "mount=" in path)
            count += 1
        self.assertGreater(count, 150)
        self.srv.assert_alive()
        self.assertEqual(self.snapshot(), before, "files outside the data dir changed")
        if had_meta:
            self.assertTrue(os.path.exists(meta), "meta.db was removed")
        # The victim is intact.
        r = self.srv.get("/v2/victim/app/manifests/v1", headers={"Accept": ACCEPT_MANIFESTS})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, self.img.manifest)
        self.assertBlob(self.srv, "victim/app", self.data)
        r = self.srv.get("/v2/_catalog")
        for repo in r.json().get("repositories") or []:
            self.assertNotIn("..", repo)

    def test_curl_path_as_is(self):
        for path in ("/v2/../../../../etc/passwd", "/v2/victim/app/blobs/../../../../../etc/passwd",
                     "/v2/victim/app/manifests/../../../../sentinel", "/v2/%2e%2e/%2e%2e/etc/passwd"):
            p = subprocess.run(["curl", "-sS", "--path-as-is", "-o", "-", "-w", "\n%{http_code}",
                                "http://%s%s" % (self.srv.address, path)],
                               capture_output=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            body, _, code = p.stdout.rpartition(b"\n")
            self.assertIn(code, (b"301", b"307", b"308", b"400", b"404", b"405"), (path, code, body[:200]))
            for leak in LEAKS:
                self.assertNotIn(leak, body, path)


class CurlTest(BerthTestCase):
    """The real curl binary: chunked upload with PATCH + Content-Range, Expect: 100-continue,
    manifest PUT/HEAD, blob range GET."""

    def curl(self, *args, data_file=None):
        hdr_file = os.path.join(self.srv.tmp, "curl-headers")
        argv = ["curl", "-sS", "-D", hdr_file, "-o", os.path.join(self.srv.tmp, "curl-body"),
                "-w", "%{http_code}", "--max-time", "60"] + list(args)
        p = subprocess.run(argv, capture_output=True, timeout=90)
        self.assertEqual(p.returncode, 0, "curl %s: %s" % (args, p.stderr))
        headers = {}
        with open(hdr_file, "rb") as f:
            for line in f.read().decode("latin-1").split("\r\n"):
                if line.startswith("HTTP/"):
                    headers = {}  # a 100 Continue block precedes the real one
                elif ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
        with open(os.path.join(self.srv.tmp, "curl-body"), "rb") as f:
            body = f.read()
        return int(p.stdout), headers, body

    def url(self, path):
        return "http://%s%s" % (self.srv.address, path)

    def write(self, name, data):
        p = os.path.join(self.srv.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def test_curl_chunked_upload(self):
        data = rand_bytes(100 + 2 * 1024 * 1024 + 333)
        d = digest(data)
        c1 = self.write("c1", data[:100])
        c2 = self.write("c2", data[100:100 + 2 * 1024 * 1024])
        c3 = self.write("c3", data[100 + 2 * 1024 * 1024:])
        code, h, _ = self.curl("-X", "POST", self.url("/v2/curl/up/blobs/uploads/"))
        self.assertEqual(code, 202)
        loc = location_path(h["location"])
        code, h, _ = self.curl("-X", "PATCH", "--data-binary", "@" + c1,
                               "-H", "Content-Range: 0-99", "-H", "Content-Type: application/octet-stream",
                               self.url(loc))
        self.assertEqual(code, 202)
        self.assertEqual(h.get("range"), "0-99")
        loc = location_path(h["location"])
        end = 100 + 2 * 1024 * 1024 - 1
        code, h, _ = self.curl("-X", "PATCH", "--data-binary", "@" + c2, "-H", "Expect: 100-continue",
                               "-H", "Content-Range: 100-%d" % end,
                               "-H", "Content-Type: application/octet-stream", self.url(loc))
        self.assertEqual(code, 202)
        self.assertEqual(h.get("range"), "0-%d" % end)
        loc = location_path(h["location"])
        # Out of order through curl too.
        code, h, body = self.curl("-X", "PATCH", "--data-binary", "@" + c1, "-H", "Content-Range: 0-99",
                                  "-H", "Content-Type: application/octet-stream", self.url(loc))
        self.assertEqual(code, 416, body)
        self.assertEqual(h.get("range"), "0-%d" % end)
        self.assertIn(b'"errors"', body)
        code, h, _ = self.curl("-X", "PUT", "--data-binary", "@" + c3,
                               "-H", "Content-Type: application/octet-stream", self.url(add_query(loc, digest=d)))
        self.assertEqual(code, 201)
        self.assertEqual(h.get("docker-content-digest"), d)
        code, h, body = self.curl(self.url("/v2/curl/up/blobs/%s" % d))
        self.assertEqual(code, 200)
        self.assertEqual(body, data)
        code, h, body = self.curl("-r", "10-19", self.url("/v2/curl/up/blobs/%s" % d))
        self.assertEqual(code, 206)
        self.assertEqual(body, data[10:20])
        self.assertEqual(h.get("content-range"), "bytes 10-19/%d" % len(data))

    def test_curl_monolithic_and_manifest(self):
        img = make_image()
        for b in img.blobs():
            f = self.write("blob", b)
            code, h, body = self.curl("-X", "POST", "--data-binary", "@" + f,
                                      "-H", "Content-Type: application/octet-stream",
                                      self.url("/v2/curl/img/blobs/uploads/?digest=%s" % digest(b)))
            self.assertEqual(code, 201, body)
        mf = self.write("manifest.json", img.manifest)
        code, h, body = self.curl("-X", "PUT", "--data-binary", "@" + mf, "-H", "Content-Type: " + OCI_MANIFEST,
                                  self.url("/v2/curl/img/manifests/v1"))
        self.assertEqual(code, 201, body)
        self.assertEqual(h.get("docker-content-digest"), img.digest)
        code, h, body = self.curl("-I", "-H", "Accept: " + OCI_MANIFEST, self.url("/v2/curl/img/manifests/v1"))
        self.assertEqual(code, 200)
        self.assertEqual(h.get("content-type"), OCI_MANIFEST)
        self.assertEqual(h.get("content-length"), str(len(img.manifest)))
        self.assertEqual(h.get("docker-content-digest"), img.digest)
        code, h, body = self.curl("-H", "Accept: " + OCI_MANIFEST, self.url("/v2/curl/img/manifests/%s" % img.digest))
        self.assertEqual(code, 200)
        self.assertEqual(body, img.manifest)
        code, h, body = self.curl(self.url("/v2/curl/img/manifests/nope"))
        self.assertEqual(code, 404)
        self.assertEqual(json.loads(body)["errors"][0]["code"], "MANIFEST_UNKNOWN")
        code, h, body = self.curl("-X", "DELETE", self.url("/v2/curl/img/manifests/%s" % img.digest))
        self.assertEqual(code, 202)
        code, h, body = self.curl(self.url("/v2/curl/img/manifests/v1"))
        self.assertEqual(code, 404)

    def test_curl_wrong_digest(self):
        f = self.write("wrong", b"some content")
        code, h, body = self.curl("-X", "POST", "--data-binary", "@" + f,
                                  "-H", "Content-Type: application/octet-stream",
                                  self.url("/v2/curl/bad/blobs/uploads/?digest=%s" % digest(b"other")))
        self.assertEqual(code, 400)
        self.assertEqual(json.loads(body)["errors"][0]["code"], "DIGEST_INVALID")


if __name__ == "__main__":
    main()
