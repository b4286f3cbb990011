"""Disk full, for real: the data directory on a 64 MiB tmpfs is filled until pushes fail.

The failing request gets 507 with the spec's JSON error saying storage is full; nothing
stored before is damaged (every earlier image pulls back byte-identical); no partial blob
becomes visible; /v2/ and pulls keep working; /readyz reports the trouble; once space is
freed pushes work again without a restart. Needs root (mount)."""
import os
import subprocess
import unittest

from berthtest import (BerthTestCase, Server, digest, mkdtemp, push_image, rand_bytes,
                       start_upload, add_query, location_path)

MIB = 1024 * 1024


def mount_tmpfs(size_mib):
    mnt = mkdtemp("berth-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mib, "tmpfs", mnt], check=True)
    return mnt


class DiskFullTest(BerthTestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to mount a tmpfs")
        cls.mnt = mount_tmpfs(64)
        cls.srv = Server(data_dir=os.path.join(cls.mnt, "data"))
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            subprocess.run(["umount", "-l", cls.mnt], check=False)

    def assertStorageFull(self, r, what):
        self.assertEqual(r.status, 507, "%s: %r" % (what, r))
        err = r.json()["errors"][0]
        self.assertIn("storage", err["message"].lower(), err)
        self.assertIn("full", err["message"].lower(), err)

    def pull_identical(self, repo, image, ref):
        r = self.srv.get("/v2/%s/manifests/%s" % (repo, ref))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, image.manifest)
        for blob in image.blobs():
            r = self.srv.get("/v2/%s/blobs/%s" % (repo, digest(blob)))
            self.assertStatus(r, 200)
            self.assertEqual(r.body, blob)

    def test_fill_fail_free_recover(self):
        srv = self.srv
        kept = [(("keep/%d" % i), push_image(srv, "keep/%d" % i, ref="v1", layer_size=256 * 1024))
                for i in range(3)]
        self.assertStatus(srv.get("/readyz"), 200)

        # A filler the test owns takes most of the space, so the registry fills up fast.
        filler = os.path.join(self.mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * (52 * MIB))

        # Monolithic pushes of 4 MiB blobs until one fails.
        failed_digest = None
        for i in range(20):
            data = rand_bytes(4 * MIB)
            d = digest(data)
            r = srv.request("POST", "/v2/fill/blobs/uploads/?digest=%s" % d, body=data)
            if r.status == 201:
                continue
            self.assertStorageFull(r, "monolithic push %d" % i)
            failed_digest = d
            break
        self.assertIsNotNone(failed_digest, "the tmpfs never filled up")

        # Nothing of the failed blob is visible.
        self.assertEqual(srv.head("/v2/fill/blobs/%s" % failed_digest).status, 404)
        # A chunked upload that runs out of space fails the same way and stays resumable.
        loc = start_upload(srv, "fill")
        big = rand_bytes(8 * MIB)
        r = srv.request("PATCH", loc, body=big, headers={"Content-Range": "0-%d" % (len(big) - 1)})
        self.assertStorageFull(r, "PATCH on a full disk")
        status = srv.get(loc)
        self.assertStatus(status, 204)
        self.assertEqual(status.header("Range"), "0-0")  # nothing was acknowledged

        # The registry is alive and says it is not ready; pulls still work.
        srv.assert_alive()
        self.assertStatus(srv.get("/v2/"), 200)
        ready = srv.get("/readyz")
        self.assertEqual(ready.status, 503, ready)
        self.assertIn("full", ready.json()["checks"]["storage"])
        for repo, image in kept:
            self.pull_identical(repo, image, "v1")

        # Free the space: pushes work again, with no restart.
        os.unlink(filler)
        r = srv.request("PATCH", loc, body=big, headers={"Content-Range": "0-%d" % (len(big) - 1)})
        self.assertStatus(r, 202)
        r = srv.request("PUT", add_query(location_path(r.header("Location")), digest=digest(big)))
        self.assertStatus(r, 201)
        again = push_image(srv, "after/full", ref="v1", layer_size=MIB)
        self.pull_identical("after/full", again, "v1")
        self.assertStatus(srv.get("/readyz"), 200)
        for repo, image in kept:
            self.pull_identical(repo, image, "v1")


if __name__ == "__main__":
    unittest.main()
