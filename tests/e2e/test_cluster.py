#!/usr/bin/env python3
"""Three stateless nodes over one PostgreSQL and one Azurite container, behind nginx with
docs/scale-out.md's configuration, are one registry: pushes and pulls through nginx with
real clients, a chunked upload spread over the nodes, a delete or tag move on one node
seen at once by the others, tokens and the admin shared, kill -9 of a node mid-push
losing nothing acknowledged, background work run by one node at a time. (Blob redirects,
storage.redirect, are test_redirect.py's.)"""
import base64
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (OCI_MANIFEST, ContainerTools, Server, build_test_images, digest,  # noqa: E402
                       http_request, json_bytes, layout_blobs, location_path, main, mkdtemp,
                       oci_layout_manifest, rand_bytes)
from engines import Azurite, Nginx, Postgres, require, start_together  # noqa: E402

PW = Server.ADMIN_PASSWORD
AUTH = {"Authorization": "Basic " + base64.b64encode(("admin:" + PW).encode()).decode()}


def node_config(pg_dsn, azurite, extra=""):
    return ("meta:\n  driver: postgresql\n  dsn: '%s'\n  pool_size: 4\n" % pg_dsn
            + azurite.config()
            + "server:\n  trusted_proxies: [127.0.0.1/32]\n"
            + extra)


class Cluster:
    def __init__(self, n=3, extra=""):
        self.pg = require(Postgres())
        self.az = require(Azurite())
        self.dsn = self.pg.create_database("cluster")
        self.config = node_config(self.dsn, self.az, extra)
        self.nodes = start_together([Server(config=self.config, auth=True, env=self.az.env()) for _ in range(n)])
        self.nginx = require(Nginx([node.address for node in self.nodes]))

    def stop(self):
        self.nginx.stop()
        for node in self.nodes:
            if node.running():
                node.stop()


def req(address, method, path, body=None, headers=None):
    host, _, port = address.rpartition(":")
    h = dict(AUTH)
    h.update(headers or {})
    return http_request(host, int(port), method, path, body=body, headers=h)


def push_image(test, address, repo, tag, seed):
    """Pushes a one-layer image through `address`; (manifest digest, manifest bytes)."""
    layer = rand_bytes(3000, seed=seed)
    config = json_bytes({"architecture": "amd64", "os": "linux", "seed": seed})
    for blob in (layer, config):
        d = digest(blob)
        r = req(address, "POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, d), body=blob,
                headers={"Content-Type": "application/octet-stream"})
        test.assertEqual(r.status, 201, r.body)
    manifest = json_bytes({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": digest(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": digest(layer), "size": len(layer)}]})
    r = req(address, "PUT", "/v2/%s/manifests/%s" % (repo, tag), body=manifest,
            headers={"Content-Type": OCI_MANIFEST})
    test.assertEqual(r.status, 201, r.body)
    return digest(manifest), manifest


class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = Cluster()
        cls.front = cls.c.nginx.address

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def node(self, i):
        return self.c.nodes[i].address

    def push_image(self, address, repo, tag, seed):
        return push_image(self, address, repo, tag, seed)

    def test_delete_on_one_node_is_a_404_at_once_on_the_others(self):
        d, body = self.push_image(self.node(0), "cluster/del", "v1", seed=1)
        for i in range(3):  # every node has it cached
            r = req(self.node(i), "GET", "/v2/cluster/del/manifests/v1", headers={"Accept": OCI_MANIFEST})
            self.assertEqual((r.status, r.body), (200, body))
        r = req(self.node(0), "DELETE", "/v2/cluster/del/manifests/" + d)
        self.assertEqual(r.status, 202, r.body)
        for i in (1, 2):  # no wait: the delete was acknowledged
            self.assertEqual(req(self.node(i), "GET", "/v2/cluster/del/manifests/v1",
                                 headers={"Accept": OCI_MANIFEST}).status, 404)
            self.assertEqual(req(self.node(i), "HEAD", "/v2/cluster/del/manifests/" + d,
                                 headers={"Accept": OCI_MANIFEST}).status, 404)

    def test_tag_move_on_one_node_is_seen_at_once_by_the_others(self):
        for round_ in range(20):
            d, _ = self.push_image(self.node(round_ % 3), "cluster/move", "latest", seed=100 + round_)
            for i in range(3):
                r = req(self.node(i), "HEAD", "/v2/cluster/move/manifests/latest", headers={"Accept": OCI_MANIFEST})
                self.assertEqual(r.header("Docker-Content-Digest"), d, "node %d, round %d" % (i, round_))

    def test_chunked_upload_spread_over_the_nodes(self):
        data = rand_bytes(3 * 1024 * 1024 + 17, seed=7)
        d = digest(data)
        r = req(self.node(0), "POST", "/v2/cluster/chunks/blobs/uploads/")
        self.assertEqual(r.status, 202, r.body)
        loc = location_path(r.header("Location"))
        parts = [data[:1024 * 1024], data[1024 * 1024:2 * 1024 * 1024], data[2 * 1024 * 1024:]]
        offset = 0
        for i, part in enumerate(parts):
            r = req(self.node((i + 1) % 3), "PATCH", loc, body=part,
                    headers={"Content-Type": "application/octet-stream",
                             "Content-Range": "%d-%d" % (offset, offset + len(part) - 1)})
            self.assertEqual(r.status, 202, r.body)
            offset += len(part)
            self.assertEqual(r.header("Range"), "0-%d" % (offset - 1))
            loc = location_path(r.header("Location"))
        r = req(self.node(1), "PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d)
        self.assertEqual(r.status, 201, r.body)
        for i in range(3):
            r = req(self.node(i), "GET", "/v2/cluster/chunks/blobs/" + d)
            self.assertEqual(r.status, 200)
            self.assertEqual(digest(r.body), d)

    def test_a_token_from_one_node_works_on_every_node(self):
        self.push_image(self.node(0), "cluster/tok", "v1", seed=3)
        r = req(self.front, "GET", "/oauth2/token?service=berth&scope=repository:cluster/tok:pull")
        self.assertEqual(r.status, 200, r.body)
        token = r.json()["token"]
        for i in range(3):
            host, _, port = self.node(i).rpartition(":")
            r = http_request(host, int(port), "GET", "/v2/cluster/tok/tags/list",
                             headers={"Authorization": "Bearer " + token})
            self.assertEqual((r.status, r.json().get("tags")), (200, ["v1"]), "node %d: %s" % (i, r.body))
            # and no more than it says, on every node
            r = http_request(host, int(port), "PUT", "/v2/cluster/tok/manifests/v2", body=b"{}",
                             headers={"Authorization": "Bearer " + token, "Content-Type": OCI_MANIFEST})
            self.assertIn(r.status, (401, 403), "node %d" % i)

    def test_skopeo_push_and_pull_through_nginx(self):
        images = build_test_images()
        tools = ContainerTools(registry=self.front)
        creds = "admin:" + PW
        for name in ("single", "multi"):
            src = images[name]
            ref = "docker://%s/cluster/skopeo-%s:v1" % (self.front, name)
            tools.skopeo("copy", "--dest-tls-verify=false", "--dest-creds", creds, "--all",
                         "--preserve-digests", "oci:%s:latest" % src, ref)
            out = os.path.join(mkdtemp(), "layout")
            tools.skopeo("copy", "--src-tls-verify=false", "--src-creds", creds, "--all",
                         "--preserve-digests", ref, "oci:%s:latest" % out)
            self.assertEqual(sorted(layout_blobs(src)), sorted(layout_blobs(out)))
            self.assertEqual(oci_layout_manifest(src)[0], oci_layout_manifest(out)[0])

    def test_kill_9_of_a_node_mid_push_loses_nothing_acknowledged(self):
        # Blobs pushed in pieces through nginx while one node is killed: the client retries
        # a failed request (as skopeo does) and continues the session on any node.
        victim = self.c.nodes[2]
        acknowledged = []
        stop = threading.Event()

        def pusher():
            i = 0
            while not stop.is_set():
                data = rand_bytes(512 * 1024 + i, seed=1000 + i)
                d = digest(data)
                for attempt in range(20):
                    try:
                        r = req(self.front, "POST", "/v2/cluster/kill/blobs/uploads/?digest=" + d, body=data,
                                headers={"Content-Type": "application/octet-stream"})
                    except OSError:
                        r = None
                    if r is not None and r.status == 201:
                        acknowledged.append(d)
                        break
                    time.sleep(0.1)
                i += 1
        t = threading.Thread(target=pusher)
        t.start()
        time.sleep(1.5)
        victim.kill()
        time.sleep(1.5)
        stop.set()
        t.join(60)
        self.assertGreater(len(acknowledged), 3)
        for d in acknowledged:
            for i in (0, 1):
                r = req(self.node(i), "GET", "/v2/cluster/kill/blobs/" + d)
                self.assertEqual(r.status, 200, d)
                self.assertEqual(digest(r.body), d)
        victim.start()  # comes back over the same engines
        for d in acknowledged:
            self.assertEqual(req(victim.address, "HEAD", "/v2/cluster/kill/blobs/" + d).status, 200)


class FleetBackgroundWorkTest(unittest.TestCase):
    """Webhook delivery and scheduled GC run on one node at a time."""

    @classmethod
    def setUpClass(cls):
        cls.c = Cluster(extra="gc:\n  interval: 3s\n  grace_period: 1h\n")

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def test_each_event_is_delivered_once_by_one_node(self):
        from test_webhooks import Receiver, acr_events
        rcv = Receiver().start()
        self.addCleanup(rcv.stop)
        r = req(self.c.nodes[0].address, "POST", "/api/v1/webhooks",
                body=json.dumps({"name": "fleet", "serviceUri": rcv.url, "actions": ["push"]}).encode(),
                headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r.body)
        pushed = []
        for i in range(9):  # through nginx: every node serves some
            d, _ = push_image(self, self.c.nginx.address, "fleet/hooks", "v%d" % i, seed=500 + i)
            pushed.append(d)
        got = rcv.wait_for(lambda g: len(acr_events(g, "push")) >= len(pushed), "nine push events")
        time.sleep(3)  # let a second deliverer, if there were one, send its copies
        events = acr_events(rcv.delivered(), "push")
        ids = [e["id"] for e in events]
        self.assertEqual(len(ids), len(set(ids)), "an event was delivered twice: %r" % ids)
        self.assertEqual(sorted(e["target"]["digest"] for e in events), sorted(pushed))

    def test_scheduled_gc_runs_on_one_node_per_interval(self):
        time.sleep(10)
        runs = []
        for i, node in enumerate(self.c.nodes):
            for rec in node.log_records("garbage collection finished"):
                if not rec.get("dry_run"):
                    runs.append((rec["time"], i))
        runs.sort()
        self.assertGreaterEqual(len(runs), 2, runs)
        import datetime
        times = [datetime.datetime.fromisoformat(t.replace("Z", "+00:00")) for t, _ in runs]
        for a, b in zip(times, times[1:]):
            # one run per 3 s interval fleet-wide (three nodes without leases: three per interval)
            self.assertGreaterEqual((b - a).total_seconds(), 2.0, runs)


if __name__ == "__main__":
    main()
