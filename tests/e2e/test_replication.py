"""Geo-replication (docs/replication.md): replicas on loopback, each with its own data
directory, reading each other's journal. A push to one is pullable byte-identical from the
others; deletes follow; a tag never resolves on a replica before its blobs are there;
writes made on both sides of a cut link converge to one winner, the loser recorded and
still reachable by digest; a replica killed mid-catch-up resumes from its cursor; bad
peers (wrong secret, unknown region, unsigned) are refused with clear errors.

The links between replicas go through a small TCP proxy of the test's own, which can cut
the link (connections refused and the open ones reset) and restore it."""
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
import unittest

from berthtest import Server, _free_port, digest as digest_of, make_image, mkdtemp, push_blob, push_image, push_manifest, put_manifest, rand_bytes
from test_webhooks import Receiver, acr_events

SECRET = "0123456789abcdef" * 4


class LinkProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target; cut() refuses new connections and resets
    the open ones until restore()."""

    def __init__(self, target_port, delay=0.0):
        self.target = target_port
        self.delay = delay  # seconds added to each direction (a WAN link)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.up = True
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if not self.up:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                c.close()  # a reset: the link is down
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b, self.delay), daemon=True).start()

    @staticmethod
    def _pipe(a, b, delay):
        if delay:
            # Bytes leave `delay` seconds after they arrived, whatever comes after them.
            q = queue.Queue()

            def deliver():
                while True:
                    due, data = q.get()
                    if data is None:
                        return
                    time.sleep(max(0.0, due - time.monotonic()))
                    try:
                        b.sendall(data)
                    except OSError:
                        return
            sender = threading.Thread(target=deliver, daemon=True)
            sender.start()
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                if delay:
                    q.put((time.monotonic() + delay, data))
                else:
                    b.sendall(data)
        except OSError:
            pass
        if delay:
            q.put((0, None))
            sender.join()
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        a.close()  # each socket is read by one pipe: that one closes it

    def cut(self):
        self.up = False
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []

    def restore(self):
        self.up = True


class Replicas:
    """Replicas of one registry, one per region, each reaching each peer through a LinkProxy
    of its own (links[(a, b)]: a's link to b)."""

    def __init__(self, regions, secret=SECRET, auth=True, delay=0.0):
        self.tmp = mkdtemp("berth-repl-")
        # The proxies' ports first: a port picked free for a replica is then none of theirs.
        self.links = {(a, b): LinkProxy(None, delay) for a in regions for b in regions if a != b}
        self.ports = {r: _free_port() for r in regions}
        for (a, b), link in self.links.items():
            link.target = self.ports[b]
        self.servers = {}
        for r in regions:
            self.servers[r] = Server(config=self.config(r, regions, secret), auth=auth,
                                     listen="127.0.0.1:%d" % self.ports[r])

    def config(self, region, regions, secret):
        path = os.path.join(self.tmp, "secret-%s" % region)
        with open(path, "w") as f:
            f.write(secret + "\n")
        peers = "".join("    - {region: %s, url: 'http://127.0.0.1:%d'}\n" % (p, self.links[(region, p)].port)
                        for p in regions if p != region)
        return "replication:\n  region: %s\n  secret_file: %s\n  peers:\n%s" % (region, path, peers)

    def start(self):
        for s in self.servers.values():
            s.start()
        return self

    def stop(self):
        for s in self.servers.values():
            if s.running():
                s.stop()

    def __getitem__(self, region):
        return self.servers[region].admin()

    def cut(self, a, b):
        self.links[(a, b)].cut()
        self.links[(b, a)].cut()

    def restore(self, a, b):
        self.links[(a, b)].restore()
        self.links[(b, a)].restore()


def wait_for(what, check, timeout=30, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def manifest(client, repo, ref):
    return client.get("/v2/%s/manifests/%s" % (repo, ref),
                      headers={"Accept": "application/vnd.oci.image.manifest.v1+json,"
                                         "application/vnd.oci.image.index.v1+json"})


def x_attr(client, repo, tag, name):
    """A tag's changeable attribute as ACR's API shows it (None while the tag is not there)."""
    r = client.get("/acr/v1/%s/_tags/%s" % (repo, tag))
    return r.json()["tag"]["changeableAttributes"][name] if r.status == 200 else None


def tags(client, repo):
    r = client.get("/v2/%s/tags/list" % repo)
    return sorted(r.json().get("tags") or []) if r.status == 200 else []


class TwoAndThreeReplicasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = Replicas(["westeurope", "eastus", "japaneast"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.r.stop()

    def test_push_is_pulled_byte_identical_everywhere(self):
        a = self.r["westeurope"]
        img = push_image(a, "team/app", "v1", n_layers=2, layer_size=300 * 1024)
        for region in ("eastus", "japaneast"):
            c = self.r[region]
            got = wait_for("team/app:v1 in %s" % region,
                           lambda: manifest(c, "team/app", "v1") if manifest(c, "team/app", "v1").status == 200 else None)
            self.assertEqual(got.body, img.manifest)
            self.assertEqual(got.header("Docker-Content-Digest"), img.digest)
            for blob in img.blobs():
                from berthtest import digest
                r = c.get("/v2/team/app/blobs/%s" % digest(blob))
                self.assertEqual(r.status, 200)
                self.assertEqual(r.body, blob)

    def test_a_tag_never_resolves_before_its_blobs(self):
        a = self.r["eastus"]
        b = self.r["westeurope"]
        from berthtest import digest
        imgs = [make_image(n_layers=1, layer_size=2 * 1024 * 1024) for _ in range(3)]
        seen = set()
        stop = threading.Event()
        broken = []

        def watch():
            while not stop.is_set():
                m = manifest(b, "team/big", "latest")
                if m.status == 200:
                    seen.add(m.header("Docker-Content-Digest"))
                    for img in imgs:
                        if img.digest == m.header("Docker-Content-Digest"):
                            for blob in img.blobs():
                                st = b.head("/v2/team/big/blobs/%s" % digest(blob)).status
                                if st != 200:
                                    broken.append((img.digest, digest(blob), st))
        t = threading.Thread(target=watch)
        t.start()
        try:
            for img in imgs:
                push_image(a, "team/big", "latest", image=img)
            wait_for("the last push in westeurope",
                     lambda: manifest(b, "team/big", "latest").header("Docker-Content-Digest") == imgs[-1].digest)
        finally:
            stop.set()
            t.join()
        self.assertEqual(broken, [])
        self.assertTrue(seen, "the watcher never saw the tag resolve: it checked nothing")

    def test_a_multi_arch_index_replicates_with_its_children(self):
        from berthtest import index_manifest
        a, b = self.r["japaneast"], self.r["westeurope"]
        amd, arm = make_image(arch="amd64"), make_image(arch="arm64")
        for img in (amd, arm):
            push_image(a, "team/multi", image=img)
        mt, body = index_manifest([(amd, "amd64"), (arm, "arm64")])
        push_manifest(a, "team/multi", "latest", body, mt)
        got = wait_for("the index in westeurope",
                       lambda: (lambda m: m if m.status == 200 else None)(
                           b.get("/v2/team/multi/manifests/latest", headers={"Accept": mt})))
        self.assertEqual(got.body, body)
        for img in (amd, arm):
            m = manifest(b, "team/multi", img.digest)
            self.assertEqual(m.status, 200)
            self.assertEqual(m.body, img.manifest)

    def test_deletes_replicate(self):
        a, b, c = self.r["westeurope"], self.r["eastus"], self.r["japaneast"]
        img = push_image(a, "team/del", "keep")
        push_manifest(a, "team/del", "gone", img.manifest, img.media_type)
        for x in (b, c):
            wait_for("both tags", lambda: tags(x, "team/del") == ["gone", "keep"])
        # A tag deleted in eastus goes everywhere; the manifest stays (another tag names it).
        self.assertEqual(b.delete("/v2/team/del/manifests/gone").status, 202)
        for x in (a, c):
            wait_for("tag delete", lambda: tags(x, "team/del") == ["keep"])
            self.assertEqual(manifest(x, "team/del", img.digest).status, 200)
        # The manifest deleted by digest in japaneast: 404 everywhere.
        self.assertEqual(c.delete("/v2/team/del/manifests/%s" % img.digest).status, 202)
        for x in (a, b):
            wait_for("manifest delete", lambda: manifest(x, "team/del", img.digest).status == 404)
            self.assertEqual(manifest(x, "team/del", "keep").status, 404)

    def test_one_auth_identities_roles_and_settings_replicate(self):
        a, b, c = self.r["westeurope"], self.r["eastus"], self.r["japaneast"]
        push_image(a, "team/auth", "v1")
        # A user and its role made in westeurope log in everywhere.
        self.assertEqual(a.json("POST", "/api/v1/users", {"name": "carol", "password": "carol-password-1"}).status, 201)
        self.assertEqual(a.json("POST", "/api/v1/role-assignments",
                                {"identity": "carol", "role": "pull", "scope": "team/*"}).status, 201)
        for region in ("eastus", "japaneast"):
            carol = self.r.servers[region].basic("carol", "carol-password-1")
            wait_for("carol pulls in %s" % region,
                     lambda: manifest(carol, "team/auth", "v1").status == 200)
            self.assertEqual(carol.delete("/v2/team/auth/manifests/v1").status, 403)  # pull only
        # An access token issued by westeurope works in japaneast: one signing key.
        r = self.r.servers["westeurope"].basic("carol", "carol-password-1").get(
            "/oauth2/token?service=berth&scope=repository:team/auth:pull")
        self.assertEqual(r.status, 200)
        token = r.json()["access_token"]
        bearer = self.r.servers["japaneast"].bearer(token)
        self.assertEqual(manifest(bearer, "team/auth", "v1").status, 200)
        # A setting changed in eastus (anonymous pull) reaches westeurope.
        self.assertEqual(b.json("PATCH", "/api/v1/settings", {"anonymousPullEnabled": True}).status, 200)
        anon = self.r.servers["westeurope"]
        wait_for("anonymous pull in westeurope", lambda: manifest(anon, "team/auth", "v1").status == 200)
        self.assertEqual(b.json("PATCH", "/api/v1/settings", {"anonymousPullEnabled": False}).status, 200)
        wait_for("anonymous pull off again", lambda: manifest(anon, "team/auth", "v1").status == 401)
        # Deleting the user in japaneast ends it everywhere.
        self.assertEqual(c.delete("/api/v1/users/carol").status, 204)
        carol_a = self.r.servers["westeurope"].basic("carol", "carol-password-1")
        wait_for("carol gone in westeurope", lambda: manifest(carol_a, "team/auth", "v1").status == 401)
        self.assertEqual(manifest(bearer, "team/auth", "v1").status, 401)  # her token with her

    def test_locks_webhooks_quotas_and_retention_policies_replicate(self):
        a, b, c = self.r["westeurope"], self.r["eastus"], self.r["japaneast"]
        img = push_image(a, "team/locked", "v1")
        # A tag locked in westeurope (ACR's PATCH) is locked everywhere: no push moves it.
        self.assertEqual(a.json("PATCH", "/acr/v1/team/locked/_tags/v1", {"writeEnabled": False}).status, 200)
        other = make_image(n_layers=1, layer_size=512)
        for x in (b, c):
            wait_for("the lock", lambda: x.get("/acr/v1/team/locked/_tags/v1").status == 200 and
                     not x.get("/acr/v1/team/locked/_tags/v1").json()["tag"]["changeableAttributes"]["writeEnabled"])
            for blob in other.blobs():
                push_blob(x, "team/locked", blob)
            r = put_manifest(x, "team/locked", "v1", other.manifest, other.media_type)
            self.assertEqual(r.status, 403, r.body)
            self.assertIn("locked", r.json()["errors"][0]["message"])
        # A lock on a tag whose push is still on its way waits for it.
        self.r.cut("westeurope", "japaneast")
        try:
            push_image(a, "team/locked", "v2")
            self.assertEqual(a.json("PATCH", "/acr/v1/team/locked/_tags/v2", {"deleteEnabled": False}).status, 200)
            wait_for("v2 locked in eastus", lambda: x_attr(b, "team/locked", "v2", "deleteEnabled") is False)
        finally:
            self.r.restore("westeurope", "japaneast")
        wait_for("v2 locked in japaneast", lambda: x_attr(c, "team/locked", "v2", "deleteEnabled") is False)
        self.assertEqual(c.delete("/v2/team/locked/manifests/v2").status, 403)
        # Unlocked in japaneast: the push goes through in eastus.
        self.assertEqual(c.json("PATCH", "/acr/v1/team/locked/_tags/v1", {"writeEnabled": True}).status, 200)
        wait_for("unlocked in eastus", lambda: x_attr(b, "team/locked", "v1", "writeEnabled") is True)
        self.assertEqual(put_manifest(b, "team/locked", "v1", other.manifest, other.media_type).status, 201)
        wait_for("the move in westeurope", lambda: manifest(a, "team/locked", "v1").header("Docker-Content-Digest") == other.digest)
        self.assertEqual(manifest(a, "team/locked", img.digest).status, 200)

        # Webhooks, quotas and retention policies made in one replica are in all.
        # (its scope matches no push of these tests: nothing is queued for it)
        hook = {"name": "ci0001", "serviceUri": "http://127.0.0.1:9/hook", "actions": ["push"], "scope": "nohooks/*"}
        self.assertEqual(a.json("POST", "/api/v1/webhooks", hook).status, 201)
        self.addCleanup(a.delete, "/api/v1/webhooks/ci0001")
        self.assertEqual(b.json("PUT", "/api/v1/quotas/team%2F*", {"limitBytes": 10 ** 12}).status, 201)
        self.assertEqual(c.json("PUT", "/api/v1/retention/policies/scratch",
                                {"repositories": "scratch/.*", "keepLast": 3}).status, 201)
        for x in (a, b, c):
            wait_for("the webhook", lambda: x.get("/api/v1/webhooks/ci0001").status == 200)
            got = x.get("/api/v1/webhooks/ci0001").json()
            self.assertEqual((got["serviceUri"], got["actions"], got["scope"]), (hook["serviceUri"], ["push"], "nohooks/*"))
            wait_for("the quota", lambda: x.get("/api/v1/quotas/team%2F*").status == 200)
            self.assertEqual(x.get("/api/v1/quotas/team%2F*").json()["limitBytes"], 10 ** 12)
            wait_for("the policy", lambda: x.get("/api/v1/retention/policies/scratch").status == 200)
            self.assertEqual(x.get("/api/v1/retention/policies/scratch").json()["keepLast"], 3)
        # Changed in one, deleted in another: the same everywhere.
        self.assertEqual(c.json("PATCH", "/api/v1/webhooks/ci0001", {"scope": "nohooks/app*"}).status, 200)
        self.assertEqual(a.delete("/api/v1/quotas/team%2F*").status, 204)
        self.assertEqual(b.delete("/api/v1/retention/policies/scratch").status, 204)
        for x in (a, b, c):
            wait_for("the webhook change", lambda: x.get("/api/v1/webhooks/ci0001").json()["scope"] == "nohooks/app*")
            wait_for("the quota delete", lambda: x.get("/api/v1/quotas/team%2F*").status == 404)
            wait_for("the policy delete", lambda: x.get("/api/v1/retention/policies/scratch").status == 404)

    def test_status_lists_every_peer(self):
        a = self.r["westeurope"]
        push_image(a, "team/status", "v1")
        def synced():
            body = self.r["eastus"].get("/api/v1/replication").json()
            peers = {p["region"]: p for p in body["replicas"]}
            return body if all(p["state"] == "synced" for p in peers.values()) and \
                peers["westeurope"]["appliedJournalId"] > 0 else None
        body = wait_for("eastus synced with westeurope", synced)
        self.assertEqual(body["region"], "eastus")
        self.assertEqual(sorted(p["region"] for p in body["replicas"]), ["japaneast", "westeurope"])
        w = [p for p in body["replicas"] if p["region"] == "westeurope"][0]
        self.assertEqual(w["pendingOperations"], 0)
        self.assertEqual(w["lagSeconds"], 0)
        self.assertEqual(w["lastError"], "")
        self.assertTrue(w["url"].startswith("http://127.0.0.1:"))
        # Not an admin: refused.
        self.assertEqual(self.r.servers["eastus"].get("/api/v1/replication").status, 401)
        # Prometheus: the same, summed over peers.
        def scrape():
            text = self.r["eastus"].get("/metrics").body.decode()
            return dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("berth_replication_"))
        metrics = wait_for("nothing pending in the metrics",
                           lambda: (lambda m: m if float(m["berth_replication_pending_operations"]) == 0 else None)(scrape()))
        self.assertEqual(float(metrics["berth_replication_peers_down"]), 0)
        self.assertGreater(float(metrics["berth_replication_applied_total"]), 0)
        self.assertIn("berth_replication_lag_seconds", metrics)
                # The CLI shows the same.
        out = self.r.servers["eastus"].berth("replication", "list").stdout.decode()
        self.assertIn("westeurope", out)
        self.assertIn("synced", out)
        import json as _json
        one = _json.loads(self.r.servers["eastus"].berth("replication", "show", "japaneast", "-o", "json").stdout)
        self.assertEqual(one["region"], "japaneast")
        missing = self.r.servers["eastus"].berth("replication", "show", "mars", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("no replica in region mars", missing.stderr.decode())

    def test_webhooks_fire_once_per_change_or_in_the_region_they_name(self):
        """docs/replication.md, "Webhooks per region". Each webhook is made once, in one
        replica, and replicates to the others."""
        west, east, japan = self.r["westeurope"], self.r["eastus"], self.r["japaneast"]
        srv_east = self.r.servers["eastus"]
        everywhere, in_east = Receiver().start(), Receiver().start()  # hookall, hookeast
        self.addCleanup(everywhere.stop)
        self.addCleanup(in_east.stop)
        self.addCleanup(west.delete, "/api/v1/webhooks/hookall")
        self.addCleanup(west.delete, "/api/v1/webhooks/hookeast")
        repo = "team/hooks"  # the scope keeps the other tests' pushes out
        # No region, made in westeurope.
        r = west.json("POST", "/api/v1/webhooks", {"name": "hookall", "serviceUri": everywhere.url,
                                                    "actions": ["push"], "scope": repo})
        self.assertEqual((r.status, r.json()["region"]), (201, ""), r.body)
        # Region eastus, made in eastus by the CLI.
        srv_east.berth("webhook", "create", "hookeast", "--uri", in_east.url, "--actions", "push",
                       "--scope", repo, "--region", "eastus")
        import json as _json
        self.assertEqual(_json.loads(srv_east.berth("webhook", "show", "hookeast", "-o", "json").stdout)["region"],
                         "eastus")
        for c in (west, east, japan):
            for name, region in (("hookall", ""), ("hookeast", "eastus")):
                wait_for("%s everywhere" % name, lambda: c.get("/api/v1/webhooks/" + name).status == 200)
                self.assertEqual(c.get("/api/v1/webhooks/" + name).json()["region"], region)

        img = push_image(west, repo, "v1")
        everywhere.wait_for(lambda g: len(acr_events(g)) >= 1, "the push at hookall", timeout=30)
        in_east.wait_for(lambda g: len(acr_events(g)) >= 1, "the arrival in eastus at hookeast", timeout=30)
        wait_for("the push in japaneast", lambda: manifest(japan, repo, "v1").status == 200)
        # Then every dispatcher gets past the event (delivered, or passed by): nothing more can
        # come, and nothing piles up behind a webhook a replica does not deliver.
        def queue_depth(c):
            lines = c.get("/metrics").body.decode().splitlines()
            return [float(x.split()[1]) for x in lines if x.startswith("berth_webhook_queue_depth ")]
        for c in (west, east, japan):
            wait_for("the webhooks past the push", lambda: queue_depth(c) == [0.0])

        pushes, arrivals = acr_events(everywhere.delivered()), acr_events(in_east.delivered())
        self.assertEqual([(e["target"]["digest"], e["source"]) for e in pushes],
                         [(img.digest, {"region": "westeurope", "origin": "westeurope"})])
        self.assertEqual([(e["target"]["digest"], e["source"]) for e in arrivals],
                         [(img.digest, {"region": "eastus", "origin": "westeurope"})])
        def log(c, name):  # each replica's delivery log says the same
            r = c.get("/api/v1/webhooks/%s/events" % name)
            self.assertEqual(r.status, 200, r.body)
            return [(d["action"], d["delivered"]) for d in r.json()["events"]]
        self.assertEqual([log(c, "hookall") for c in (west, east, japan)], [[("push", True)], [], []])
        self.assertEqual([log(c, "hookeast") for c in (west, east)], [[], [("push", True)]])

        # A region that is no replica of this registry, or no region name at all: 400 naming it.
        r = west.json("POST", "/api/v1/webhooks", {"name": "hookmars", "serviceUri": everywhere.url,
                                                    "actions": ["push"], "region": "mars"})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json()["errors"][0]["message"], 'region "mars" is not a replica of this registry; '
                         'the regions are westeurope (this replica), eastus, japaneast')
        r = west.json("PATCH", "/api/v1/webhooks/hookall", {"region": "east us"})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("region must be a region name", r.json()["errors"][0]["message"])
        self.assertEqual(west.get("/api/v1/webhooks/hookall").json()["region"], "")
        out = srv_east.berth("webhook", "update", "hookeast", "--region", "mars", check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('region "mars" is not a replica', out.stderr.decode())

    def test_replication_routes_refuse_what_is_not_a_signed_peer(self):
        srv = self.r.servers["westeurope"]
        r = srv.get("/replication/v1/journal?after=0")
        self.assertEqual(r.status, 401)
        self.assertIn("signed", r.json()["errors"][0]["message"])
        # Users' credentials are no way in either.
        r = self.r["westeurope"].get("/replication/v1/journal?after=0")
        self.assertEqual(r.status, 401)
        r = srv.get("/replication/v1/journal?after=0",
                    headers={"X-Berth-Replica": "mars", "X-Berth-Replica-Time": str(int(time.time())),
                             "X-Berth-Replica-Signature": "sha256=00"})
        self.assertEqual(r.status, 401)
        self.assertIn("mars is not a peer", r.json()["errors"][0]["message"])
        r = srv.get("/replication/v1/journal?after=0",
                    headers={"X-Berth-Replica": "eastus", "X-Berth-Replica-Time": str(int(time.time())),
                             "X-Berth-Replica-Signature": "sha256=00"})
        self.assertEqual(r.status, 401)
        self.assertIn("signature does not match", r.json()["errors"][0]["message"])


class PartitionTest(unittest.TestCase):
    """Two replicas; the link between them is cut, both sides take writes, the link comes
    back."""

    def test_writes_on_both_sides_converge_and_the_loser_is_recorded(self):
        r = Replicas(["westeurope", "eastus"]).start()
        try:
            a, b = r["westeurope"], r["eastus"]
            base = push_image(a, "team/p", "base")
            wait_for("base in eastus", lambda: manifest(b, "team/p", "base").status == 200)
            r.cut("westeurope", "eastus")
            x = push_image(a, "team/p", "t")          # westeurope's write
            only_a = push_image(a, "team/p", "only-a")
            time.sleep(0.05)
            y = push_image(b, "team/p", "t")          # eastus's, later: it wins
            only_b = push_image(b, "team/p", "only-b")
            self.assertEqual(b.delete("/v2/team/p/manifests/base").status, 202)
            # Both keep serving during the cut, each its own view.
            self.assertEqual(manifest(a, "team/p", "t").header("Docker-Content-Digest"), x.digest)
            self.assertEqual(manifest(b, "team/p", "t").header("Docker-Content-Digest"), y.digest)
            time.sleep(0.5)
            r.restore("westeurope", "eastus")
            want = ["only-a", "only-b", "t"]
            for c in (a, b):
                wait_for("convergence", lambda: tags(c, "team/p") == want)
                self.assertEqual(manifest(c, "team/p", "t").header("Docker-Content-Digest"), y.digest)
                self.assertEqual(manifest(c, "team/p", "only-a").header("Docker-Content-Digest"), only_a.digest)
                self.assertEqual(manifest(c, "team/p", "only-b").header("Docker-Content-Digest"), only_b.digest)
                # The losing write is still there by digest.
                wait_for("the losing write, by digest", lambda: manifest(c, "team/p", x.digest).status == 200)
            self.assertEqual(manifest(a, "team/p", "base").status, 404)
            # westeurope's tag lost: recorded in its audit log, naming both digests.
            def recorded():
                entries = a.get("/api/v1/audit?action=conflict").json().get("entries") or []
                return [e for e in entries if e.get("tag") == "t"]
            entries = wait_for("the conflict in westeurope's audit log", recorded)
            self.assertIn(x.digest, entries[0]["message"])
            self.assertIn(y.digest, entries[0]["message"])
        finally:
            r.stop()

    def test_a_replica_killed_mid_catch_up_resumes_from_its_cursor(self):
        r = Replicas(["westeurope", "eastus"])
        r.servers["westeurope"].start()
        try:
            a = r["westeurope"]
            pushed = {}
            layer = rand_bytes(64 * 1024)
            for i in range(60):
                img = make_image(n_layers=1, layer_size=16)
                img.layers = [layer]
                from berthtest import image_manifest, OCI_MANIFEST, digest
                img.manifest = image_manifest(img.config, img.layers)
                img.digest = digest(img.manifest)
                pushed["t%02d" % i] = push_image(a, "team/many", "t%02d" % i, image=img).digest
            east = r.servers["eastus"]
            east.start()
            b = r["eastus"]
            wait_for("catch-up under way", lambda: len(tags(b, "team/many")) >= 5, interval=0.01)
            east.kill()
            east.start()
            b = r["eastus"]
            wait_for("all 60 tags", lambda: tags(b, "team/many") == sorted(pushed))
            for t, d in pushed.items():
                self.assertEqual(manifest(b, "team/many", t).header("Docker-Content-Digest"), d)
            # Nothing applied twice: the journal of eastus stays empty (nothing was written
            # there), and westeurope's cursor for eastus has reached its last entry.
            status = b.get("/api/v1/replication").json()["replicas"][0]
            self.assertEqual(status["pendingOperations"], 0)
        finally:
            r.stop()


class JoinTest(unittest.TestCase):
    """A replica added to a running registry (berth replication create): it fills itself
    from the others, they fill themselves from it (content it had before replication was
    on included), and it leaves again with berth replication delete."""

    def test_a_replica_created_at_run_time_fills_itself_and_is_filled_from(self):
        r = Replicas(["westeurope", "eastus"]).start()
        port = _free_port()
        joiner = Server(auth=True, listen="127.0.0.1:%d" % port)
        try:
            a, b = r["westeurope"], r["eastus"]
            # Content of the running registry, and of the joiner before it joins.
            imgs = {t: push_image(a if i % 2 else b, "team/join", t) for i, t in enumerate(("a", "b", "c"))}
            self.assertEqual(b.delete("/v2/team/join/manifests/c").status, 202)
            untagged = push_image(a, "team/join")
            self.assertEqual(a.json("POST", "/api/v1/users", {"name": "dana", "password": "dana-password-1"}).status, 201)
            self.assertEqual(a.json("POST", "/api/v1/role-assignments",
                                    {"identity": "dana", "role": "pull", "scope": "*"}).status, 201)
            wait_for("eastus caught up", lambda: tags(b, "team/join") == ["a", "b"])
            joiner.start()
            own = push_image(joiner.admin(), "local/old", "v1")
            joiner.stop()

            # Bad requests first: clear errors, nothing created.
            for body, status, text in (({"region": "eastus", "url": "http://127.0.0.1:1"}, 409, "exists already"),
                                       ({"region": "westeurope", "url": "http://127.0.0.1:1"}, 409, "own"),
                                       ({"region": "bad region", "url": "http://127.0.0.1:1"}, 400, "region name"),
                                       ({"region": "brazilsouth", "url": "ftp://x"}, 400, "http(s) URL"),
                                       ({"region": "brazilsouth"}, 400, "url is required")):
                got = a.json("POST", "/api/v1/replication", body)
                self.assertEqual(got.status, status, got.body)
                self.assertIn(text, got.json()["errors"][0]["message"])
            self.assertEqual(a.delete("/api/v1/replication/eastus").status, 409)  # a peer of its config file
            self.assertEqual(a.delete("/api/v1/replication/brazilsouth").status, 404)

            # Created in westeurope (the CLI); eastus learns of it.
            out = r.servers["westeurope"].berth("replication", "create", "brazilsouth", "--url",
                                                "http://127.0.0.1:%d" % port)
            self.assertIn("brazilsouth", out.stdout.decode())
            wait_for("eastus lists brazilsouth", lambda: any(p["region"] == "brazilsouth" for p in
                                                             b.get("/api/v1/replication").json()["replicas"]))
            peers = "".join("    - {region: %s, url: 'http://127.0.0.1:%d'}\n" % (reg, r.ports[reg])
                            for reg in ("westeurope", "eastus"))
            joiner.config = "replication:\n  region: brazilsouth\n  secret_file: %s\n  peers:\n%s" % (
                os.path.join(r.tmp, "secret-westeurope"), peers)
            joiner.start()
            # It fills itself: identities (its own admin gives way to the registry's)...
            dana = joiner.basic("dana", "dana-password-1")
            wait_for("dana pulls in brazilsouth", lambda: manifest(dana, "team/join", "a").status == 200)
            c = joiner.admin()
            # ...tags, the untagged manifest, the delete.
            wait_for("the registry's tags in brazilsouth", lambda: tags(c, "team/join") == ["a", "b"])
            for t in ("a", "b"):
                got = manifest(c, "team/join", t)
                self.assertEqual(got.body, imgs[t].manifest)
                for blob in imgs[t].blobs():
                    self.assertEqual(c.get("/v2/team/join/blobs/%s" % digest_of(blob)).body, blob)
            self.assertEqual(manifest(c, "team/join", untagged.digest).status, 200)
            self.assertEqual(manifest(c, "team/join", "c").status, 404)
            # ...and the others fill themselves from it: what it had before it joined.
            for x in (a, b):
                wait_for("brazilsouth's own content", lambda: manifest(x, "local/old", "v1").status == 200)
                self.assertEqual(manifest(x, "local/old", "v1").body, own.manifest)
            # From now on writes go all ways.
            late = push_image(c, "team/join", "late")
            for x in (a, b):
                wait_for("late everywhere", lambda: manifest(x, "team/join", "late").status == 200)
            self.assertEqual(manifest(a, "team/join", "late").body, late.manifest)

            # Deleted in eastus: every replica stops reading from it and refuses it.
            self.assertEqual(r.servers["eastus"].berth("replication", "delete", "brazilsouth").returncode, 0)
            for x in (a, b):
                wait_for("brazilsouth gone", lambda: all(p["region"] != "brazilsouth" for p in
                                                         x.get("/api/v1/replication").json()["replicas"]))
            push_image(c, "team/join", "after-delete")
            wait_for("brazilsouth refused", lambda: any(
                "not a peer" in p["lastError"] for p in c.get("/api/v1/replication").json()["replicas"]))
            self.assertEqual(manifest(a, "team/join", "after-delete").status, 404)
        finally:
            joiner.stop() if joiner.running() else None
            r.stop()


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


class NetnsPartitionTest(unittest.TestCase):
    """The cut made by the kernel: eastus runs in a network namespace of its own, reached
    by westeurope over one veth pair (the replication link) and by the test over another
    (so the test can still write to both sides while the link is down)."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or shutil.which("ip") is None:
            raise unittest.SkipTest("network namespaces need root and iproute2; the link-proxy "
                                    "and process-stop variants cover partitions here")
        n = os.getpid() % 200 + 20
        cls.ns = "berth-repl-%d" % os.getpid()
        cls.link, cls.ctl = "brl%d" % os.getpid(), "bcl%d" % os.getpid()
        cls.net, cls.ctl_net = "10.%d.77" % n, "10.%d.78" % n
        try:
            sh("ip", "netns", "add", cls.ns)
            sh("ip", "netns", "exec", cls.ns, "ip", "link", "set", "lo", "up")
            for name, net in ((cls.link, cls.net), (cls.ctl, cls.ctl_net)):
                sh("ip", "link", "add", name, "type", "veth", "peer", "name", name + "p")
                sh("ip", "link", "set", name + "p", "netns", cls.ns)
                sh("ip", "addr", "add", net + ".1/24", "dev", name)
                sh("ip", "link", "set", name, "up")
                sh("ip", "netns", "exec", cls.ns, "ip", "addr", "add", net + ".2/24", "dev", name + "p")
                sh("ip", "netns", "exec", cls.ns, "ip", "link", "set", name + "p", "up")
            # While the link is down its connected route is gone: without this, packets to
            # eastus would take the default route, and the sandbox's network answers there.
            sh("ip", "route", "add", "unreachable", cls.net + ".0/24", "metric", "4000")
        except (subprocess.CalledProcessError, OSError) as e:
            cls.tearDownClass()
            raise unittest.SkipTest("this sandbox forbids network namespaces (%s); the link-proxy and "
                                    "process-stop variants cover partitions" % getattr(e, "stderr", e))

    @classmethod
    def tearDownClass(cls):
        for argv in (("ip", "route", "del", "unreachable", cls.net + ".0/24", "metric", "4000"),
                     ("ip", "link", "del", cls.link), ("ip", "link", "del", cls.ctl), ("ip", "netns", "del", cls.ns)):
            subprocess.run(argv, capture_output=True)

    def test_a_kernel_cut_link_heals_and_the_replicas_converge(self):
        tmp = mkdtemp("berth-netns-")
        secret = os.path.join(tmp, "secret")
        with open(secret, "w") as f:
            f.write(SECRET)
        pa, pb = _free_port(), 5000
        cfg = "replication:\n  region: %s\n  secret_file: %s\n  peers:\n    - {region: %s, url: 'http://%s:%d'}\n"
        west = Server(config=cfg % ("westeurope", secret, "eastus", self.net + ".2", pb), auth=True,
                      listen="0.0.0.0:%d" % pa, connect_host="127.0.0.1")
        east = Server(config=cfg % ("eastus", secret, "westeurope", self.net + ".1", pa), auth=True,
                      listen="0.0.0.0:%d" % pb, netns=self.ns, connect_host=self.ctl_net + ".2")
        west.start()
        east.start()
        try:
            a, b = west.admin(), east.admin()
            push_image(a, "team/ns", "base")
            wait_for("base in eastus", lambda: manifest(b, "team/ns", "base").status == 200)
            sh("ip", "link", "set", self.link, "down")
            x = push_image(a, "team/ns", "t")
            time.sleep(0.05)
            y = push_image(b, "team/ns", "t")
            only_b = push_image(b, "team/ns", "only-b")
            time.sleep(1)
            self.assertEqual(manifest(b, "team/ns", "t").header("Docker-Content-Digest"), y.digest)
            down = b.get("/api/v1/replication").json()["replicas"][0]
            self.assertIn(down["state"], ("unreachable", "synced"))  # a read may still hang on the dead link
            sh("ip", "link", "set", self.link, "up")
            for c in (a, b):
                wait_for("convergence", lambda: tags(c, "team/ns") == ["base", "only-b", "t"], timeout=90)
                wait_for("the newer t", lambda: manifest(c, "team/ns", "t").header("Docker-Content-Digest") == y.digest)
                self.assertEqual(manifest(c, "team/ns", "only-b").header("Docker-Content-Digest"), only_b.digest)
                wait_for("the losing write, by digest", lambda: manifest(c, "team/ns", x.digest).status == 200)
        finally:
            for srv in (west, east):
                if srv.running():
                    srv.stop()


class WrongSecretTest(unittest.TestCase):
    def test_a_replica_with_another_secret_applies_nothing(self):
        r = Replicas(["westeurope", "eastus"])
        # eastus gets a different secret file.
        srv = r.servers["eastus"]
        srv.config = r.config("eastus", ["westeurope", "eastus"], "f" * 64)
        r.start()
        try:
            a, b = r["westeurope"], r["eastus"]
            push_image(a, "team/secret", "v1")
            def refused():
                peers = b.get("/api/v1/replication").json()["replicas"]
                return peers[0] if "signature does not match" in peers[0]["lastError"] else None
            peer = wait_for("eastus told its signature is wrong", refused)
            self.assertEqual(peer["state"], "error")
            self.assertEqual(manifest(b, "team/secret", "v1").status, 404)
        finally:
            r.stop()


if __name__ == "__main__":
    unittest.main()
