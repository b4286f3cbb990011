#!/usr/bin/env python3
"""Three nodes over one PostgreSQL keep their caches true (issue #13): a tag move or a
delete acknowledged by one node is seen at once by the others, whose caches were warm; a
user created on one node logs in on another at once, and one deleted is refused at once;
a cached manifest GET is answered from the cache. Metadata only: each node has its own
data directory (filesystem storage), so the blobs are pushed to every node first."""
import base64
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import OCI_MANIFEST, Server, digest, json_bytes, main, push_blob, rand_bytes  # noqa: E402
from engines import Postgres, require, start_together  # noqa: E402

ACCEPT = {"Accept": OCI_MANIFEST}


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


class FleetCacheTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = require(Postgres())
        dsn = cls.pg.create_database("fleetcache")
        config = "meta:\n  driver: postgresql\n  dsn: '%s'\n  pool_size: 4\n" % dsn
        cls.nodes = start_together([Server(config=config, auth=True) for _ in range(3)])
        cls.admins = [n.admin() for n in cls.nodes]
        cls.config_blob = json_bytes({"architecture": "amd64", "os": "linux"})
        cls.layer = rand_bytes(4096, seed=13)
        cls.repos = set()

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes:
            if n.running():
                n.stop()
        cls.pg.stop()

    def blobs_everywhere(self, repo):
        if repo in self.repos:
            return
        for a in self.admins:  # each node's own directory
            push_blob(a, repo, self.config_blob)
            push_blob(a, repo, self.layer)
        self.repos.add(repo)

    def manifest(self, n):
        return json_bytes({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": digest(self.config_blob), "size": len(self.config_blob)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": digest(self.layer), "size": len(self.layer)}],
                           "annotations": {"round": str(n)}})

    def put(self, node, repo, ref, body):
        r = self.admins[node].request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                                      headers={"Content-Type": OCI_MANIFEST})
        self.assertEqual(r.status, 201, r.body)
        return r.header("Docker-Content-Digest")

    def get(self, node, repo, ref):
        return self.admins[node].request("GET", "/v2/%s/manifests/%s" % (repo, ref), headers=ACCEPT)

    def warm(self, repo, ref, want_digest):
        for i in range(3):
            r = self.get(i, repo, ref)
            self.assertEqual((r.status, r.header("Docker-Content-Digest")), (200, want_digest), "node %d" % i)

    def test_tag_move_on_node_0_is_seen_at_once_by_warm_nodes_1_and_2(self):
        self.blobs_everywhere("fleet/move")
        d = self.put(0, "fleet/move", "latest", self.manifest(-1))
        for round_ in range(50):
            self.warm("fleet/move", "latest", d)
            d = self.put(0, "fleet/move", "latest", self.manifest(round_))
            for i in (1, 2):  # no wait: the push was acknowledged
                r = self.get(i, "fleet/move", "latest")
                self.assertEqual((r.status, r.header("Docker-Content-Digest")), (200, d),
                                 "node %d, round %d" % (i, round_))

    def test_delete_on_node_0_is_a_404_at_once_on_warm_nodes_1_and_2(self):
        self.blobs_everywhere("fleet/del")
        for round_ in range(50):
            tag = "t%d" % round_
            d = self.put(0, "fleet/del", tag, self.manifest(1000 + round_))
            self.warm("fleet/del", tag, d)
            self.warm("fleet/del", d, d)
            how = d if round_ % 2 == 0 else tag  # the manifest, or only the tag
            r = self.admins[0].request("DELETE", "/v2/fleet/del/manifests/" + how)
            self.assertEqual(r.status, 202, r.body)
            for i in (1, 2):
                self.assertEqual(self.get(i, "fleet/del", tag).status, 404, "node %d, round %d" % (i, round_))
                if how == d:
                    self.assertEqual(self.get(i, "fleet/del", d).status, 404, "node %d, round %d" % (i, round_))

    def test_a_user_created_on_node_0_logs_in_on_node_2_and_once_deleted_is_refused_on_node_1(self):
        for round_ in range(10):
            name, password = "fleetuser%d" % round_, "fleet-password-%d" % round_
            r = self.admins[0].json("POST", "/api/v1/users", {"name": name, "password": password})
            self.assertEqual(r.status, 201, r.body)
            self.assertEqual(self.nodes[2].request("GET", "/v2/", headers=basic(name, password)).status, 200)
            # node 1 has the verified password cached
            self.assertEqual(self.nodes[1].request("GET", "/v2/", headers=basic(name, password)).status, 200)
            r = self.admins[0].request("DELETE", "/api/v1/users/" + name)
            self.assertEqual(r.status, 204, r.body)
            self.assertEqual(self.nodes[1].request("GET", "/v2/", headers=basic(name, password)).status, 401)

    def counter(self, node, name):
        text = self.admins[node].get("/metrics").body.decode()
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError("no %s in /metrics" % name)

    def test_a_cached_manifest_get_is_answered_by_the_cache(self):
        self.blobs_everywhere("fleet/hot")
        d = self.put(0, "fleet/hot", "v1", self.manifest(5000))
        self.warm("fleet/hot", "v1", d)
        hits = self.counter(1, "berth_manifest_cache_hits_total")
        misses = self.counter(1, "berth_manifest_cache_misses_total")
        for _ in range(20):
            self.assertEqual(self.get(1, "fleet/hot", "v1").status, 200)
        self.assertEqual(self.counter(1, "berth_manifest_cache_misses_total"), misses)
        self.assertGreaterEqual(self.counter(1, "berth_manifest_cache_hits_total") - hits, 20)

    def test_write_latency_with_three_nodes(self):
        """Not an assertion of speed: prints what waiting for the fleet costs a push."""
        self.blobs_everywhere("fleet/lat")
        times = []
        for round_ in range(30):
            t0 = time.monotonic()
            self.put(0, "fleet/lat", "latest", self.manifest(9000 + round_))
            times.append(time.monotonic() - t0)
        times.sort()
        print("manifest PUT with 3 live nodes: median %.1f ms, p90 %.1f ms"
              % (1000 * times[len(times) // 2], 1000 * times[int(len(times) * 0.9)]), file=sys.stderr)


if __name__ == "__main__":
    main()
