#!/usr/bin/env python3
"""Blob and upload API, byte-exact against the OCI distribution spec 1.1: GET/HEAD,
ranges, DELETE, monolithic/POST+PUT/chunked uploads, upload status and cancel, digest
errors, sha512, cross-repository mount and per-repository isolation."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, add_query, digest, location_path, main, push_blob,  # noqa: E402
                       rand_bytes, start_upload)

OCTET = {"Content-Type": "application/octet-stream"}
UPLOAD_ERR_416 = ("BLOB_UPLOAD_INVALID", "RANGE_INVALID")


class BlobReadTest(BerthTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.repo = "blobs/read"
        cls.data = rand_bytes(1000)
        cls.d = push_blob(cls.srv, cls.repo, cls.data)
        cls.path = "/v2/%s/blobs/%s" % (cls.repo, cls.d)

    def test_get(self):
        r = self.assertBlob(self.srv, self.repo, self.data)
        self.assertEqual(r.header("Docker-Content-Digest"), self.d)

    def test_head(self):
        r = self.srv.head(self.path)
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Length"), "1000")
        self.assertEqual(r.header("Docker-Content-Digest"), self.d)

    def test_head_sends_no_body(self):
        raw = self.srv.raw(("HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                            % self.path).encode())
        head, sep, rest = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), raw[:300])
        self.assertIn(b"content-length: 1000", head.lower())
        self.assertEqual(rest, b"", "HEAD response carried a body")

    def test_get_unknown_blob(self):
        r = self.srv.get("/v2/%s/blobs/%s" % (self.repo, digest(b"nope")))
        self.assertError(r, 404, "BLOB_UNKNOWN")

    def test_head_unknown_blob(self):
        r = self.srv.head("/v2/%s/blobs/%s" % (self.repo, digest(b"nope")))
        self.assertStatus(r, 404)

    def test_get_blob_unknown_repo(self):
        r = self.srv.get("/v2/no/such/repo/blobs/%s" % self.d)
        self.assertError(r, 404, "BLOB_UNKNOWN", "NAME_UNKNOWN")

    def _range(self, spec):
        return self.srv.get(self.path, headers={"Range": spec})

    def assertPartial(self, r, first, last):
        self.assertStatus(r, 206)
        self.assertEqual(r.header("Content-Range"), "bytes %d-%d/1000" % (first, last))
        self.assertEqual(r.header("Content-Length"), str(last - first + 1))
        self.assertEqual(r.body, self.data[first:last + 1])

    def test_range_closed(self):
        self.assertPartial(self._range("bytes=0-99"), 0, 99)
        self.assertPartial(self._range("bytes=10-10"), 10, 10)
        self.assertPartial(self._range("bytes=999-999"), 999, 999)

    def test_range_open_ended(self):
        self.assertPartial(self._range("bytes=100-"), 100, 999)

    def test_range_suffix(self):
        self.assertPartial(self._range("bytes=-100"), 900, 999)
        self.assertPartial(self._range("bytes=-1"), 999, 999)

    def test_range_last_clamped(self):
        self.assertPartial(self._range("bytes=990-5000"), 990, 999)

    def test_range_suffix_longer_than_blob(self):
        r = self._range("bytes=-5000")  # RFC 9110: the whole representation
        self.assertStatus(r, (200, 206))
        self.assertEqual(r.body, self.data)
        if r.status == 206:
            self.assertEqual(r.header("Content-Range"), "bytes 0-999/1000")

    def test_range_unsatisfiable(self):
        for spec in ("bytes=1000-", "bytes=1000-1001", "bytes=5000-6000"):
            r = self._range(spec)
            self.assertStatus(r, 416, spec)
            self.assertEqual(r.header("Content-Range"), "bytes */1000", spec)

    def test_range_malformed_is_not_5xx(self):
        for spec in ("bytes=abc", "bytes=5-1", "pages=0-1", "bytes=0-1,5-6", "bytes=--1"):
            r = self._range(spec)
            self.assertStatus(r, (200, 206, 416), spec)
            if r.status == 200:
                self.assertEqual(r.body, self.data, spec)

    def test_empty_blob(self):
        d = push_blob(self.srv, self.repo, b"")
        self.assertEqual(d, digest(b""))
        r = self.srv.get("/v2/%s/blobs/%s" % (self.repo, d))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Content-Length"), "0")
        r = self.srv.get("/v2/%s/blobs/%s" % (self.repo, d), headers={"Range": "bytes=0-"})
        self.assertStatus(r, 416)
        self.assertEqual(r.header("Content-Range"), "bytes */0")


class BlobDeleteTest(BerthTestCase):
    def test_delete(self):
        data = rand_bytes(300)
        d = push_blob(self.srv, "del/a", data)
        r = self.srv.delete("/v2/del/a/blobs/%s" % d)
        self.assertStatus(r, 202)
        self.assertError(self.srv.get("/v2/del/a/blobs/%s" % d), 404, "BLOB_UNKNOWN")
        self.assertStatus(self.srv.head("/v2/del/a/blobs/%s" % d), 404)
        self.assertError(self.srv.delete("/v2/del/a/blobs/%s" % d), 404, "BLOB_UNKNOWN")

    def test_delete_after_reads_is_not_served_from_a_cache(self):
        # Reads first (the server may cache that the repository has the blob), then delete:
        # every later read must see the delete, and a mount brings the blob back.
        data = rand_bytes(4096)
        d = push_blob(self.srv, "del/warm", data)
        push_blob(self.srv, "del/warm-src", data)
        for _ in range(3):
            self.assertBlob(self.srv, "del/warm", data)
            self.assertStatus(self.srv.head("/v2/del/warm/blobs/%s" % d), 200)
        self.assertStatus(self.srv.delete("/v2/del/warm/blobs/%s" % d), 202)
        for _ in range(3):
            self.assertError(self.srv.get("/v2/del/warm/blobs/%s" % d), 404, "BLOB_UNKNOWN")
            self.assertStatus(self.srv.head("/v2/del/warm/blobs/%s" % d), 404)
        r = self.srv.request("POST", "/v2/del/warm/blobs/uploads/?mount=%s&from=del/warm-src" % d)
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, "del/warm", data)

    def test_delete_unknown(self):
        push_blob(self.srv, "del/b", b"x")
        r = self.srv.delete("/v2/del/b/blobs/%s" % digest(b"never pushed"))
        self.assertError(r, 404, "BLOB_UNKNOWN")

    def test_delete_unlinks_only_that_repo(self):
        data = rand_bytes(200)
        d = push_blob(self.srv, "del/c1", data)
        push_blob(self.srv, "del/c2", data)
        self.assertStatus(self.srv.delete("/v2/del/c1/blobs/%s" % d), 202)
        self.assertError(self.srv.get("/v2/del/c1/blobs/%s" % d), 404, "BLOB_UNKNOWN")
        self.assertBlob(self.srv, "del/c2", data)

    def test_delete_malformed_digest(self):
        r = self.srv.delete("/v2/del/a/blobs/sha256:nothex")
        self.assertError(r, (400, 404), "DIGEST_INVALID", "BLOB_UNKNOWN")


class UploadTest(BerthTestCase):
    repo = "up/load"

    def new_session(self, repo=None):
        r = self.srv.request("POST", "/v2/%s/blobs/uploads/" % (repo or self.repo))
        self.assertStatus(r, 202)
        self.assertTrue(r.header("Location"), r)
        self.assertTrue(r.header("Docker-Upload-UUID"), r)
        return location_path(r.header("Location")), r

    def patch(self, loc, data, first=None, extra=None):
        h = dict(OCTET)
        if first is not None:
            h["Content-Range"] = "%d-%d" % (first, first + len(data) - 1)
        h.update(extra or {})
        return self.srv.request("PATCH", loc, body=data, headers=h)

    def test_post_opens_session(self):
        loc, r = self.new_session()
        self.assertTrue(loc.startswith("/v2/%s/blobs/uploads/" % self.repo), loc)
        self.assertIn(r.header("Content-Length", "0"), ("0",))
        if r.header("Range") is not None:
            self.assertEqual(r.header("Range"), "0-0")

    def test_post_put_monolithic(self):
        data = rand_bytes(5000)
        d = digest(data)
        loc, _ = self.new_session()
        r = self.srv.request("PUT", add_query(loc, digest=d), body=data, headers=OCTET)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertTrue(location_path(r.header("Location", "")).endswith(
            "/v2/%s/blobs/%s" % (self.repo, d)), r)
        self.assertBlob(self.srv, self.repo, data)
        # The session is consumed.
        self.assertError(self.srv.get(loc), 404, "BLOB_UPLOAD_UNKNOWN")

    def test_single_post_with_digest(self):
        data = rand_bytes(4096)
        d = digest(data)
        r = self.srv.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (self.repo, d),
                             body=data, headers=OCTET)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertTrue(location_path(r.header("Location", "")).endswith(
            "/v2/%s/blobs/%s" % (self.repo, d)), r)
        self.assertBlob(self.srv, self.repo, data)

    def test_single_post_wrong_digest(self):
        data, other = rand_bytes(100), rand_bytes(100)
        r = self.srv.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (self.repo, digest(other)),
                             body=data, headers=OCTET)
        self.assertError(r, 400, "DIGEST_INVALID")
        for d in (digest(data), digest(other)):
            self.assertError(self.srv.get("/v2/%s/blobs/%s" % (self.repo, d)), 404, "BLOB_UNKNOWN")

    def test_chunked_in_order(self):
        data = rand_bytes(3 * 1024 * 1024 + 17)
        d = digest(data)
        loc, r0 = self.new_session()
        uid = r0.header("Docker-Upload-UUID")
        chunk = 1024 * 1024
        for off in range(0, len(data), chunk):
            part = data[off:off + chunk]
            r = self.patch(loc, part, off)
            self.assertStatus(r, 202, "PATCH at %d" % off)
            self.assertEqual(r.header("Range"), "0-%d" % (off + len(part) - 1))
            self.assertEqual(r.header("Docker-Upload-UUID"), uid)
            self.assertTrue(r.header("Location"), r)
            loc = location_path(r.header("Location"))
            st = self.srv.get(loc)
            self.assertStatus(st, 204)
            self.assertEqual(st.header("Range"), "0-%d" % (off + len(part) - 1))
            self.assertEqual(st.header("Docker-Upload-UUID"), uid)
            self.assertEqual(st.body, b"")
        r = self.srv.request("PUT", add_query(loc, digest=d))
        self.assertStatus(r, 201)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertBlob(self.srv, self.repo, data)

    def test_chunked_final_chunk_in_put(self):
        data = rand_bytes(2500)
        d = digest(data)
        loc, _ = self.new_session()
        r = self.patch(loc, data[:1000], 0)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        r = self.patch(loc, data[1000:2000], 1000)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        r = self.srv.request("PUT", add_query(loc, digest=d), body=data[2000:], headers=OCTET)
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, self.repo, data)

    def test_patch_streamed_without_content_range(self):
        data = rand_bytes(200000)
        d = digest(data)
        loc, _ = self.new_session()
        parts = [data[i:i + 65536] for i in range(0, len(data), 65536)]
        r = self.srv.request("PATCH", loc, body=iter(parts), headers=OCTET)  # chunked encoding
        self.assertStatus(r, 202)
        self.assertEqual(r.header("Range"), "0-%d" % (len(data) - 1))
        loc = location_path(r.header("Location"))
        r = self.srv.request("PUT", add_query(loc, digest=d))
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, self.repo, data)

    def test_out_of_order_chunk(self):
        data = rand_bytes(300)
        loc, _ = self.new_session()
        r = self.patch(loc, data[:100], 0)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        # A gap: 200-299 when 0-99 was received.
        r = self.patch(loc, data[200:], 200)
        self.assertError(r, 416, *UPLOAD_ERR_416)
        self.assertEqual(r.header("Range"), "0-99")
        # An overlap: 50-149.
        r = self.patch(loc, data[50:150], 50)
        self.assertError(r, 416, *UPLOAD_ERR_416)
        self.assertEqual(r.header("Range"), "0-99")
        # The session survives and continues from the right offset.
        st = self.srv.get(loc)
        self.assertStatus(st, 204)
        self.assertEqual(st.header("Range"), "0-99")
        r = self.patch(loc, data[100:], 100)
        self.assertStatus(r, 202)
        self.assertEqual(r.header("Range"), "0-299")
        loc = location_path(r.header("Location"))
        r = self.srv.request("PUT", add_query(loc, digest=digest(data)))
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, self.repo, data)

    def test_first_chunk_not_at_zero(self):
        loc, _ = self.new_session()
        r = self.patch(loc, b"x" * 10, 5)
        self.assertError(r, 416, *UPLOAD_ERR_416)

    def test_content_range_length_mismatch(self):
        loc, _ = self.new_session()
        r = self.srv.request("PATCH", loc, body=b"y" * 50,
                             headers={"Content-Type": "application/octet-stream",
                                      "Content-Range": "0-99"})
        self.assertError(r, (400, 416))

    def test_malformed_content_range(self):
        loc, _ = self.new_session()
        for cr in ("abc", "9-3", "-5", "0-", "0-x"):
            r = self.srv.request("PATCH", loc, body=b"z" * 4,
                                 headers={"Content-Type": "application/octet-stream",
                                          "Content-Range": cr})
            self.assertError(r, (400, 416))

    def test_upload_status(self):
        loc, r0 = self.new_session()
        r = self.patch(loc, rand_bytes(100), 0)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        st = self.srv.get(loc)
        self.assertStatus(st, 204)
        self.assertEqual(st.header("Range"), "0-99")
        self.assertEqual(st.header("Docker-Upload-UUID"), r0.header("Docker-Upload-UUID"))
        self.assertTrue(st.header("Location"), st)
        self.assertIn(st.header("Content-Length", "0"), ("0",))

    def test_cancel_upload(self):
        loc, _ = self.new_session()
        r = self.patch(loc, b"a" * 10, 0)
        loc = location_path(r.header("Location"))
        self.assertStatus(self.srv.delete(loc), 204)
        self.assertError(self.srv.get(loc), 404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.patch(loc, b"b" * 10, 10), 404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.srv.request("PUT", add_query(loc, digest=digest(b"a" * 10))),
                         404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.srv.delete(loc), 404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.srv.get("/v2/%s/blobs/%s" % (self.repo, digest(b"a" * 10))),
                         404, "BLOB_UNKNOWN")

    def test_unknown_session(self):
        loc = "/v2/%s/blobs/uploads/%s" % (self.repo, uuid.uuid4())
        self.assertError(self.srv.get(loc), 404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.patch(loc, b"x", 0), 404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.srv.request("PUT", add_query(loc, digest=digest(b"x")), body=b"x"),
                         404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.srv.delete(loc), 404, "BLOB_UPLOAD_UNKNOWN")

    def test_session_belongs_to_its_repo(self):
        loc, _ = self.new_session("up/owner")
        sid = loc.split("?")[0].rstrip("/").rsplit("/", 1)[1]
        other = "/v2/up/intruder/blobs/uploads/%s" % sid
        push_blob(self.srv, "up/intruder", b"exists")
        self.assertError(self.srv.get(other), 404, "BLOB_UPLOAD_UNKNOWN")
        self.assertError(self.srv.request("PUT", add_query(other, digest=digest(b"q")), body=b"q"),
                         404, "BLOB_UPLOAD_UNKNOWN")
        self.assertStatus(self.srv.get(loc), 204)

    def test_put_wrong_digest(self):
        data, other = rand_bytes(1000), rand_bytes(1000)
        loc, _ = self.new_session()
        r = self.srv.request("PUT", add_query(loc, digest=digest(other)), body=data, headers=OCTET)
        self.assertError(r, 400, "DIGEST_INVALID")
        for d in (digest(data), digest(other)):
            self.assertError(self.srv.get("/v2/%s/blobs/%s" % (self.repo, d)), 404, "BLOB_UNKNOWN")
            self.assertStatus(self.srv.head("/v2/%s/blobs/%s" % (self.repo, d)), 404)

    def test_chunked_put_wrong_digest(self):
        data = rand_bytes(2000)
        loc, _ = self.new_session()
        r = self.patch(loc, data, 0)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        r = self.srv.request("PUT", add_query(loc, digest=digest(data[:-1])))
        self.assertError(r, 400, "DIGEST_INVALID")
        for d in (digest(data), digest(data[:-1])):
            self.assertError(self.srv.get("/v2/%s/blobs/%s" % (self.repo, d)), 404, "BLOB_UNKNOWN")

    def test_put_without_digest(self):
        loc, _ = self.new_session()
        r = self.srv.request("PUT", loc, body=b"abc", headers=OCTET)
        self.assertError(r, 400, "DIGEST_INVALID")

    def test_put_malformed_digest(self):
        bad = ["sha256:xyz", "sha256:" + "a" * 63, "sha256:" + "A" * 64, "notadigest",
               "sha256:", ":" + "a" * 64, "sha256:" + "g" * 64, "sha512:" + "a" * 64]
        for d in bad:
            loc, _ = self.new_session()
            r = self.srv.request("PUT", add_query(loc, digest=d), body=b"abc", headers=OCTET)
            self.assertError(r, 400, "DIGEST_INVALID")

    def test_put_unsupported_algorithm(self):
        loc, _ = self.new_session()
        r = self.srv.request("PUT", add_query(loc, digest="md5:" + "a" * 32), body=b"abc",
                             headers=OCTET)
        self.assertError(r, (400, 415), "DIGEST_INVALID", "UNSUPPORTED")

    def test_get_malformed_digest_is_not_5xx(self):
        for d in ("sha256:xyz", "notadigest", "sha256:" + "A" * 64, "md5:" + "a" * 32,
                  "sha256:" + "a" * 65):
            for m in ("GET", "HEAD", "DELETE"):
                r = self.srv.request(m, "/v2/%s/blobs/%s" % (self.repo, d))
                self.assertNot5xx(r)
                self.assertStatus(r, (400, 404), "%s %s" % (m, d))
                if m != "HEAD":
                    self.assertError(r, (400, 404), "DIGEST_INVALID", "BLOB_UNKNOWN",
                                     "UNSUPPORTED", "NOT_FOUND")

    def test_single_post_malformed_digest(self):
        r = self.srv.request("POST", "/v2/%s/blobs/uploads/?digest=sha256:bad" % self.repo,
                             body=b"abc", headers=OCTET)
        self.assertError(r, 400, "DIGEST_INVALID")

    def test_blob_already_exists_upload_again(self):
        data = rand_bytes(64)
        push_blob(self.srv, self.repo, data)
        push_blob(self.srv, self.repo, data, how="monolithic")
        push_blob(self.srv, self.repo, data, how="chunked", chunk=10)
        self.assertBlob(self.srv, self.repo, data)


class Sha512Test(BerthTestCase):
    repo = "sha/512"

    def test_post_put(self):
        data = rand_bytes(3000)
        d = push_blob(self.srv, self.repo, data, alg="sha512")
        self.assertTrue(d.startswith("sha512:") and len(d) == 7 + 128)
        r = self.assertBlob(self.srv, self.repo, data, d)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        h = self.srv.head("/v2/%s/blobs/%s" % (self.repo, d))
        self.assertStatus(h, 200)
        self.assertEqual(h.header("Docker-Content-Digest"), d)
        self.assertEqual(h.header("Content-Length"), "3000")
        r = self.srv.get("/v2/%s/blobs/%s" % (self.repo, d), headers={"Range": "bytes=-10"})
        self.assertStatus(r, 206)
        self.assertEqual(r.body, data[-10:])

    def test_monolithic_and_chunked(self):
        a, b = rand_bytes(700), rand_bytes(7000)
        da = push_blob(self.srv, self.repo, a, how="monolithic", alg="sha512")
        db = push_blob(self.srv, self.repo, b, how="chunked", chunk=3000, alg="sha512")
        self.assertBlob(self.srv, self.repo, a, da)
        self.assertBlob(self.srv, self.repo, b, db)

    def test_wrong_sha512(self):
        loc = start_upload(self.srv, self.repo)
        r = self.srv.request("PUT", add_query(loc, digest=digest(b"other", "sha512")),
                             body=b"data", headers=OCTET)
        self.assertError(r, 400, "DIGEST_INVALID")
        self.assertError(self.srv.get("/v2/%s/blobs/%s" % (self.repo, digest(b"data", "sha512"))),
                         404, "BLOB_UNKNOWN")

    def test_same_bytes_both_algorithms(self):
        data = rand_bytes(500)
        d256 = push_blob(self.srv, self.repo, data)
        d512 = push_blob(self.srv, self.repo, data, alg="sha512")
        self.assertBlob(self.srv, self.repo, data, d256)
        self.assertBlob(self.srv, self.repo, data, d512)

    def test_delete_sha512(self):
        data = rand_bytes(50)
        d = push_blob(self.srv, self.repo, data, alg="sha512")
        self.assertStatus(self.srv.delete("/v2/%s/blobs/%s" % (self.repo, d)), 202)
        self.assertError(self.srv.get("/v2/%s/blobs/%s" % (self.repo, d)), 404, "BLOB_UNKNOWN")

    def test_mount_sha512(self):
        data = rand_bytes(90)
        d = push_blob(self.srv, self.repo, data, alg="sha512")
        r = self.srv.request("POST", "/v2/sha/other/blobs/uploads/?mount=%s&from=%s" % (d, self.repo))
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, "sha/other", data, d)


class MountTest(BerthTestCase):
    def test_blob_is_per_repository(self):
        data = rand_bytes(333)
        d = push_blob(self.srv, "iso/a", data)
        push_blob(self.srv, "iso/b", b"something else")
        self.assertError(self.srv.get("/v2/iso/b/blobs/%s" % d), 404, "BLOB_UNKNOWN")
        self.assertStatus(self.srv.head("/v2/iso/b/blobs/%s" % d), 404)
        self.assertError(self.srv.get("/v2/iso/never/blobs/%s" % d), 404, "BLOB_UNKNOWN", "NAME_UNKNOWN")
        self.assertError(self.srv.get("/v2/iso/b/blobs/%s" % d, headers={"Range": "bytes=0-1"}),
                         404, "BLOB_UNKNOWN")

    def test_mount(self):
        data = rand_bytes(1234)
        d = push_blob(self.srv, "mnt/src", data)
        self.assertError(self.srv.get("/v2/mnt/dst/blobs/%s" % d), 404, "BLOB_UNKNOWN", "NAME_UNKNOWN")
        r = self.srv.request("POST", "/v2/mnt/dst/blobs/uploads/?mount=%s&from=mnt/src" % d)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertTrue(location_path(r.header("Location", "")).endswith("/v2/mnt/dst/blobs/%s" % d), r)
        self.assertBlob(self.srv, "mnt/dst", data)
        self.assertBlob(self.srv, "mnt/src", data)

    def test_mount_percent_encoded_query(self):
        # Go clients (containers/image) send from=a%2Fb and mount=sha256%3A...
        data = rand_bytes(432)
        d = push_blob(self.srv, "mnt/enc", data)
        r = self.srv.request("POST", "/v2/mnt/encdst/blobs/uploads/?from=mnt%%2Fenc&mount=%s"
                             % d.replace(":", "%3A"))
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, "mnt/encdst", data)

    def test_mount_without_from(self):
        data = rand_bytes(555)
        d = push_blob(self.srv, "mnt/src2", data)
        r = self.srv.request("POST", "/v2/mnt/nofrom/blobs/uploads/?mount=%s" % d)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertTrue(location_path(r.header("Location", "")).endswith(
            "/v2/mnt/nofrom/blobs/%s" % d), r)
        self.assertBlob(self.srv, "mnt/nofrom", data)

    def test_mount_missing_blob_opens_session(self):
        push_blob(self.srv, "mnt/src3", b"present")
        data = rand_bytes(100)
        d = digest(data)
        r = self.srv.request("POST", "/v2/mnt/dst3/blobs/uploads/?mount=%s&from=mnt/src3" % d)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location", ""))
        self.assertTrue(loc.startswith("/v2/mnt/dst3/blobs/uploads/"), r)
        r = self.srv.request("PUT", add_query(loc, digest=d), body=data, headers=OCTET)
        self.assertStatus(r, 201)
        self.assertBlob(self.srv, "mnt/dst3", data)

    def test_mount_missing_blob_without_from(self):
        r = self.srv.request("POST", "/v2/mnt/dst4/blobs/uploads/?mount=%s" % digest(rand_bytes(8)))
        self.assertStatus(r, 202)
        self.assertTrue(location_path(r.header("Location", "")).startswith("/v2/mnt/dst4/blobs/uploads/"))

    def test_mount_from_unknown_repo(self):
        data = rand_bytes(10)
        d = push_blob(self.srv, "mnt/src5", data)
        r = self.srv.request("POST", "/v2/mnt/dst5/blobs/uploads/?mount=%s&from=mnt/nosuchrepo" % d)
        self.assertStatus(r, (201, 202))
        if r.status == 201:
            self.assertBlob(self.srv, "mnt/dst5", data)

    def test_mount_bad_arguments_are_not_5xx(self):
        data = rand_bytes(10)
        d = push_blob(self.srv, "mnt/src6", data)
        for q in ("mount=sha256:bad&from=mnt/src6", "mount=%s&from=../etc" % d,
                  "mount=%s&from=UPPER" % d, "mount=&from=mnt/src6", "mount=%s&from=" % d):
            r = self.srv.request("POST", "/v2/mnt/dst6/blobs/uploads/?" + q)
            self.assertNot5xx(r)
            self.assertStatus(r, (201, 202, 400), q)
            if r.status == 400:
                self.assertError(r, 400, "DIGEST_INVALID", "NAME_INVALID")
            if r.status == 201:
                self.assertBlob(self.srv, "mnt/dst6", data)

    def test_mount_then_delete_source(self):
        data = rand_bytes(77)
        d = push_blob(self.srv, "mnt/src7", data)
        r = self.srv.request("POST", "/v2/mnt/dst7/blobs/uploads/?mount=%s&from=mnt/src7" % d)
        self.assertStatus(r, 201)
        self.assertStatus(self.srv.delete("/v2/mnt/src7/blobs/%s" % d), 202)
        self.assertBlob(self.srv, "mnt/dst7", data)


if __name__ == "__main__":
    main()
