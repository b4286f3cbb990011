#!/usr/bin/env python3
"""Uploads are bounded while they stream, not only at commit: one upload session may hold
at most server.max_upload_bytes (413 SIZE_INVALID past it) and no more than the room its
repository's quotas leave (the quota's 403 DENIED past it), whether the bytes come as
PATCH chunks, a PUT body or a monolithic POST. Past a limit the server stops reading at
once, and the session is cancelled and its bytes deleted: a client cannot keep one session
growing forever with chunks that each refresh it."""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, Server, add_query, digest, location_path, main,  # noqa: E402
                       push_blob, rand_bytes, start_upload)

LIMIT = 1 << 20  # server.max_upload_bytes
OCTETS = {"Content-Type": "application/octet-stream"}


class Endless:
    """A request body of `total` bytes in 64 KiB pieces (sent chunked): counts what was sent."""

    def __init__(self, total):
        self.total, self.sent = total, 0

    def __iter__(self):
        piece = b"\xab" * 65536
        while self.sent < self.total:
            self.sent += len(piece)
            yield piece


class UploadLimitsTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True, config="server:\n  max_upload_bytes: %d\n" % LIMIT).start()
        cls.admin = cls.srv.admin()

    def patch(self, loc, data, offset):
        return self.admin.request("PATCH", loc, body=data, headers=dict(
            OCTETS, **{"Content-Range": "%d-%d" % (offset, offset + len(data) - 1)}))

    def assertCancelled(self, loc):
        """The session is gone, and so is its staging file."""
        self.assertError(self.admin.get(loc), 404, "BLOB_UPLOAD_UNKNOWN")
        upload_id = urllib.parse.urlsplit(loc).path.rsplit("/", 1)[-1]
        self.assertFalse(os.path.exists(os.path.join(self.srv.data_dir, "uploads", upload_id)))

    def test_chunks_past_max_upload_bytes_cancel_the_upload(self):
        loc = start_upload(self.admin, "cap/app")
        half = LIMIT // 2
        r = self.patch(loc, rand_bytes(half, seed=1), 0)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        r = self.patch(loc, rand_bytes(half, seed=2), half)  # exactly the limit
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        doc = self.assertError(self.patch(loc, b"x", LIMIT), 413, "SIZE_INVALID")
        self.assertIn("server.max_upload_bytes", doc["errors"][0]["message"])
        self.assertCancelled(loc)

    def test_an_endless_chunk_is_cut_at_the_limit(self):
        loc = start_upload(self.admin, "cap/endless")
        body = Endless(256 * LIMIT)
        r = self.admin.request("PATCH", loc, body=body, headers=OCTETS)
        self.assertError(r, 413, "SIZE_INVALID")
        # The server stopped storing at the limit; what the client got to send beyond it is
        # the lingering close's discard (at most 64 MiB), not the 256 MiB body.
        self.assertLess(body.sent, 128 * LIMIT)
        self.assertCancelled(loc)

    def test_put_body_and_monolithic_post_past_the_limit(self):
        data = rand_bytes(LIMIT + 1, seed=3)
        d = digest(data)
        loc = start_upload(self.admin, "cap/put")
        self.assertError(self.admin.request("PUT", add_query(loc, digest=d), body=data, headers=OCTETS),
                         413, "SIZE_INVALID")
        self.assertCancelled(loc)
        r = self.admin.request("POST", "/v2/cap/post/blobs/uploads/?digest=%s" % d, body=data, headers=OCTETS)
        self.assertError(r, 413, "SIZE_INVALID")
        self.assertStatus(self.admin.head("/v2/cap/post/blobs/%s" % d), 404)
        self.assertEqual(os.listdir(os.path.join(self.srv.data_dir, "uploads")), [])
        # At the limit exactly: stored.
        push_blob(self.admin, "cap/post", data[:LIMIT], how="monolithic")

    def test_quota_room_is_enforced_while_bytes_arrive(self):
        quota = 100000
        self.assertStatus(self.admin.json("PUT", "/api/v1/quotas/" + urllib.parse.quote("qs/*", safe=""),
                                          {"limitBytes": quota}), 201)
        loc = start_upload(self.admin, "qs/app")
        r = self.patch(loc, rand_bytes(60000, seed=4), 0)
        self.assertStatus(r, 202)
        loc = location_path(r.header("Location"))
        doc = self.assertError(self.patch(loc, rand_bytes(60000, seed=5), 60000), 403, "DENIED")
        self.assertEqual(doc["errors"][0]["message"],
                         "storage quota for qs/* is 100000 bytes; 0 are used and this blob needs 120000")
        self.assertCancelled(loc)
        # An endless body is cut as soon as it passes the room.
        loc = start_upload(self.admin, "qs/endless")
        body = Endless(256 * LIMIT)
        self.assertError(self.admin.request("PATCH", loc, body=body, headers=OCTETS), 403, "DENIED")
        self.assertLess(body.sent, 128 * LIMIT)
        self.assertCancelled(loc)
        # Exactly the room fits, chunked or in one piece.
        push_blob(self.admin, "qs/app", rand_bytes(quota, seed=6), how="chunked")


if __name__ == "__main__":
    main()
