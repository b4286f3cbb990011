#!/usr/bin/env python3
"""An engine going away is an outage, never a crash: while PostgreSQL (or the Azure Blob
store) is down, requests that need it answer 503 with Retry-After and /readyz says which
engine is missing; when it is back the node serves again, having lost nothing."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import OCI_MANIFEST, Server, digest, main  # noqa: E402
from engines import Azurite, Postgres, require  # noqa: E402
from test_cluster import push_image, req  # noqa: E402


def wait_until(pred, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


class EngineOutageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = require(Postgres())
        cls.az = require(Azurite())
        config = ("meta:\n  driver: postgresql\n  dsn: '%s'\n" % cls.pg.create_database("outage")
                  + cls.az.config())
        cls.srv = Server(config=config, auth=True, env=cls.az.env()).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def readyz(self):
        r = req(self.srv.address, "GET", "/readyz")
        return r.status, r.json()

    def test_database_outage(self):
        d, body = push_image(self, self.srv.address, "outage/db", "v1", seed=21)
        self.assertEqual(self.readyz()[0], 200)
        self.pg.stop()
        status, doc = wait_until(lambda: (lambda s: s if s[0] == 503 else None)(self.readyz()), "/readyz 503")
        self.assertTrue(doc["checks"]["metadata"].startswith("unavailable"), doc)
        self.assertEqual(doc["checks"]["storage"], "ok")
        r = req(self.srv.address, "GET", "/v2/outage/db/tags/list")
        self.assertEqual(r.status, 503, r.body)
        self.assertTrue(r.header("Retry-After"))
        self.assertEqual(r.json()["errors"][0]["code"], "UNAVAILABLE")
        # a node cut off from the database does not answer from its caches either
        r = wait_until(lambda: (lambda x: x if x.status == 503 else None)(
            req(self.srv.address, "GET", "/v2/outage/db/manifests/v1", headers={"Accept": OCI_MANIFEST})),
            "the cached manifest to be refused")
        self.assertTrue(r.header("Retry-After"))
        self.srv.assert_alive()
        self.pg.resume()
        wait_until(lambda: self.readyz()[0] == 200, "/readyz 200 after the database is back")
        r = req(self.srv.address, "GET", "/v2/outage/db/manifests/v1", headers={"Accept": OCI_MANIFEST})
        self.assertEqual((r.status, r.body), (200, body))
        push_image(self, self.srv.address, "outage/db", "v2", seed=22)

    def test_blob_store_outage(self):
        d, body = push_image(self, self.srv.address, "outage/blobs", "v1", seed=31)
        layer = [l["digest"] for l in __import__("json").loads(body)["layers"]][0]
        self.az.stop(graceful=True)  # Azurite keeps its data only on a clean exit
        status, doc = wait_until(lambda: (lambda s: s if s[0] == 503 else None)(self.readyz()), "/readyz 503")
        self.assertTrue(doc["checks"]["storage"].startswith("unavailable"), doc)
        r = req(self.srv.address, "GET", "/v2/outage/blobs/blobs/" + layer)
        self.assertEqual(r.status, 503, r.body)
        self.assertTrue(r.header("Retry-After"))
        self.srv.assert_alive()
        self.az.resume()
        wait_until(lambda: self.readyz()[0] == 200, "/readyz 200 after the store is back")
        r = req(self.srv.address, "GET", "/v2/outage/blobs/blobs/" + layer)
        self.assertEqual(r.status, 200)
        self.assertEqual(digest(r.body), layer)


if __name__ == "__main__":
    main()
