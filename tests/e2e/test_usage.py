#!/usr/bin/env python3
"""Usage telemetry (docs/usage.md): a known set of images with shared layers in three
repositories, pulled a known number of times; /api/v1/usage, /api/v1/usage/repositories/
{name} and `berth usage` must show exactly the bytes and counts computed here from what
was pushed and pulled, with last pulled/pushed times inside the test's own window, and the
same numbers after a graceful restart (flushed at shutdown) and after kill -9 once the
periodic flush has run. Readers without the owner or reader role get 403 DENIED."""
import calendar
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (ACCEPT_MANIFESTS, BerthTestCase, Image, OCI_MANIFEST, Server,  # noqa: E402
                       digest, image_manifest, index_manifest, json_bytes, main,
                       push_blob, push_manifest, rand_bytes)


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


class Books:
    """What the test pushed and pulled, and the numbers that follow from it."""

    def __init__(self):
        self.blobs = {}      # repo -> {digest: size}
        self.manifests = {}  # repo -> {digest: bytes}
        self.refs = {}       # (repo, manifest digest) -> (blob digests, child digests)
        self.tags = {}       # repo -> {tag: digest}
        self.traffic = {}    # (kind, repo, name) -> {"pulls", "pushes"}
        self.served = {}     # repo -> bytes
        self.received = {}   # repo -> bytes

    def count(self, kind, repo, name, what):
        t = self.traffic.setdefault((kind, repo, name), {"pulls": 0, "pushes": 0})
        t[what] += 1

    def add(self, table, repo, n):
        table[repo] = table.get(repo, 0) + n

    # -- storage, computed from the books

    def repos(self):
        return sorted(set(self.blobs) | set(self.manifests))

    def unique(self, repo, table, d):
        return not any(d in table.get(other, {}) for other in self.repos() if other != repo)

    def repo_storage(self, repo):
        blobs, manifests = self.blobs.get(repo, {}), self.manifests.get(repo, {})
        total = sum(blobs.values()) + sum(len(b) for b in manifests.values())
        unique = (sum(s for d, s in blobs.items() if self.unique(repo, self.blobs, d)) +
                  sum(len(b) for d, b in manifests.items() if self.unique(repo, self.manifests, d)))
        return {"bytes": total, "uniqueBytes": unique, "sharedBytes": total - unique,
                "manifests": len(manifests), "tags": len(self.tags.get(repo, {})), "blobs": len(blobs)}

    def image_size(self, repo, d):
        seen_m, seen_b, todo, size = set(), set(), [d], 0
        while todo:
            m = todo.pop()
            if m in seen_m:
                continue
            seen_m.add(m)
            size += len(self.manifests[repo][m])
            blobs, children = self.refs[(repo, m)]
            for b in blobs:
                if b not in seen_b:
                    seen_b.add(b)
                    size += self.blobs[repo][b]
            todo.extend(children)
        return size

    def totals(self):
        blobs, manifests = {}, {}
        for repo in self.repos():
            blobs.update(self.blobs.get(repo, {}))
            manifests.update({d: len(b) for d, b in self.manifests.get(repo, {}).items()})
        return {"bytes": sum(blobs.values()) + sum(manifests.values()),
                "blobBytes": sum(blobs.values()), "manifestBytes": sum(manifests.values()),
                "repositories": len(self.repos()),
                "manifests": sum(len(m) for m in self.manifests.values()),
                "uniqueManifests": len(manifests),
                "tags": sum(len(t) for t in self.tags.values()), "blobs": len(blobs)}

    def repo_traffic(self, repo):
        t = self.traffic.get(("repository", repo, ""), {"pulls": 0, "pushes": 0})
        return {"pulls": t["pulls"], "pushes": t["pushes"], "bytesServed": self.served.get(repo, 0),
                "bytesReceived": self.received.get(repo, 0)}


class UsageTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        # The periodic flush never runs in this test: what survives a graceful restart was
        # written by the flush at shutdown.
        cls.srv = Server(auth=True, config="usage:\n  flush_interval: 3600\n").start()
        cls.admin = cls.srv.admin()
        cls.books = Books()
        cls.t0 = int(time.time())
        cls.push_everything()
        cls.pull_everything()
        cls.t1 = int(time.time()) + 1

    # -- what the test does, recorded in the books

    @classmethod
    def push_blob(cls, repo, data):
        d = push_blob(cls.admin, repo, data)
        cls.books.blobs.setdefault(repo, {})[d] = len(data)
        cls.books.add(cls.books.received, repo, len(data))
        return d

    @classmethod
    def push_image(cls, repo, config, layers, tag=None):
        for b in [config] + layers:
            cls.push_blob(repo, b)
        body = image_manifest(config, layers)
        return cls.push_manifest(repo, body, OCI_MANIFEST, [digest(b) for b in [config] + layers], [], tag)

    @classmethod
    def push_manifest(cls, repo, body, media_type, blobs, children, tag=None):
        d = push_manifest(cls.admin, repo, tag or digest(body), body, media_type)
        cls.books.manifests.setdefault(repo, {})[d] = body
        cls.books.refs[(repo, d)] = (blobs, children)
        cls.books.add(cls.books.received, repo, len(body))
        cls.books.count("repository", repo, "", "pushes")
        cls.books.count("manifest", repo, d, "pushes")
        if tag:
            cls.books.tags.setdefault(repo, {})[tag] = d
            cls.books.count("tag", repo, tag, "pushes")
        return d

    @classmethod
    def pull(cls, repo, ref, method="GET"):
        r = cls.admin.request(method, "/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": ACCEPT_MANIFESTS})
        assert r.status == 200, r
        if method == "GET":
            d = r.header("Docker-Content-Digest")
            cls.books.add(cls.books.served, repo, len(r.body))
            cls.books.count("repository", repo, "", "pulls")
            cls.books.count("manifest", repo, d, "pulls")
            if not ref.startswith("sha256:"):
                cls.books.count("tag", repo, ref, "pulls")

    @classmethod
    def fetch_blob(cls, repo, d, range_header=None, method="GET"):
        headers = {"Range": range_header} if range_header else {}
        r = cls.admin.request(method, "/v2/%s/blobs/%s" % (repo, d), headers=headers)
        assert r.status in (200, 206), r
        cls.books.add(cls.books.served, repo, len(r.body))

    @classmethod
    def push_everything(cls):
        shared = rand_bytes(4096)   # in every repository
        la = rand_bytes(3000)       # in proj/a and proj/b
        cfg = lambda n: json_bytes({"architecture": "amd64", "os": "linux", "n": n})  # noqa: E731
        cls.a1 = cls.push_image("proj/a", cfg("a1"), [shared, la], tag="v1")
        cls.a2 = cls.push_image("proj/a", cfg("a2"), [shared, rand_bytes(1500)], tag="v2")
        cls.push_image("proj/b", cfg("b"), [shared, la], tag="latest")
        cls.push_blob("proj/b", shared)  # pushed again: received twice, stored once
        amd_cfg, arm_cfg, arm_layer = cfg("c-amd"), cfg("c-arm"), rand_bytes(2222)
        cls.amd = cls.push_image("proj/c", amd_cfg, [shared])
        arm = cls.push_image("proj/c", arm_cfg, [arm_layer])
        children = [(Image(OCI_MANIFEST, cls.books.manifests["proj/c"][cls.amd], amd_cfg, [shared]), "amd64"),
                    (Image(OCI_MANIFEST, cls.books.manifests["proj/c"][arm], arm_cfg, [arm_layer]), "arm64")]
        mt, body = index_manifest(children)
        cls.index = cls.push_manifest("proj/c", body, mt, [], [cls.amd, arm], tag="multi")
        cls.la, cls.shared = digest(la), digest(shared)

    @classmethod
    def pull_everything(cls):
        for _ in range(3):
            cls.pull("proj/a", "v1")
        for _ in range(2):
            cls.pull("proj/a", cls.a1)
            cls.pull("proj/a", "v1", method="HEAD")  # a HEAD is not a pull
        cls.pull("proj/a", "v2")
        cls.pull("proj/b", "latest")
        for _ in range(2):
            cls.pull("proj/c", "multi")
        cls.pull("proj/c", cls.amd)
        for _ in range(3):
            cls.fetch_blob("proj/a", cls.la)
        cls.fetch_blob("proj/a", cls.la, method="HEAD")  # no bytes
        cls.fetch_blob("proj/b", cls.shared, range_header="bytes=0-99")

    # -- checks

    def usage(self, client=None):
        r = (client or self.admin).get("/api/v1/usage")
        self.assertStatus(r, 200)
        return r.json()

    def repo_usage(self, repo, client=None):
        r = (client or self.admin).get("/api/v1/usage/repositories/" + repo)
        self.assertStatus(r, 200)
        return r.json()

    def assertTime(self, value, what):
        self.assertIsNotNone(value, what)
        self.assertTrue(self.t0 <= epoch(value) <= self.t1, "%s %s not in [%d, %d]" % (what, value, self.t0, self.t1))

    def check_registry(self, doc):
        b = self.books
        self.assertEqual(doc["storage"], b.totals())
        traffic = doc["traffic"]
        want = {"pulls": 10, "pushes": 6, "bytesServed": sum(b.served.values()),
                "bytesReceived": sum(b.received.values())}
        self.assertEqual({k: traffic[k] for k in want}, want)
        self.assertTime(traffic["lastPulledOn"], "registry lastPulledOn")
        self.assertTime(traffic["lastPushedOn"], "registry lastPushedOn")
        self.assertEqual([r["name"] for r in doc["repositories"]], ["proj/a", "proj/b", "proj/c"])
        self.assertIsNone(doc["next"])
        for r in doc["repositories"]:
            want = dict(b.repo_storage(r["name"]), **b.repo_traffic(r["name"]))
            self.assertEqual({k: r[k] for k in want}, want, r["name"])
            self.assertTime(r["lastPulledOn"], r["name"] + " lastPulledOn")

    def check_repository(self, repo, doc):
        b = self.books
        self.assertEqual(doc["name"], repo)
        self.assertEqual(doc["storage"], b.repo_storage(repo))
        self.assertEqual({k: doc["traffic"][k] for k in b.repo_traffic(repo)}, b.repo_traffic(repo))
        self.assertEqual(sorted(m["digest"] for m in doc["manifests"]), sorted(b.manifests[repo]))
        for m in doc["manifests"]:
            t = b.traffic.get(("manifest", repo, m["digest"]), {"pulls": 0, "pushes": 0})
            self.assertEqual((m["pulls"], m["pushes"]), (t["pulls"], t["pushes"]), m)
            self.assertEqual(m["manifestSize"], len(b.manifests[repo][m["digest"]]))
            self.assertEqual(m["size"], b.image_size(repo, m["digest"]), m)
            self.assertEqual(m["tags"], sorted(t for t, d in b.tags.get(repo, {}).items() if d == m["digest"]))
            self.assertTime(m["lastPushedOn"], "manifest lastPushedOn")
            if t["pulls"]:
                self.assertTime(m["lastPulledOn"], "manifest lastPulledOn")
            else:
                self.assertIsNone(m["lastPulledOn"])
        self.assertEqual([t["name"] for t in doc["tags"]], sorted(b.tags.get(repo, {})))
        for tag in doc["tags"]:
            t = b.traffic.get(("tag", repo, tag["name"]), {"pulls": 0, "pushes": 0})
            self.assertEqual((tag["pulls"], tag["pushes"]), (t["pulls"], t["pushes"]), tag)
            self.assertEqual(tag["digest"], b.tags[repo][tag["name"]])
            self.assertEqual(tag["size"], b.image_size(repo, tag["digest"]))
            self.assertTime(tag["lastPulledOn"], "tag lastPulledOn")
            self.assertTime(tag["lastPushedOn"], "tag lastPushedOn")

    def check_all(self):
        self.check_registry(self.usage())
        for repo in ("proj/a", "proj/b", "proj/c"):
            self.check_repository(repo, self.repo_usage(repo))

    def test_1_exact_numbers(self):
        self.check_all()
        # Spot checks of the arithmetic the books do, in plain numbers.
        a = self.repo_usage("proj/a")
        self.assertEqual(a["traffic"]["pulls"], 6)
        tags = {t["name"]: t for t in a["tags"]}
        self.assertEqual((tags["v1"]["pulls"], tags["v2"]["pulls"]), (3, 1))
        self.assertEqual({m["digest"]: m["pulls"] for m in a["manifests"]}[self.a1], 5)
        self.assertEqual(self.repo_usage("proj/b")["storage"]["uniqueBytes"],
                         len(self.books.manifests["proj/b"][self.books.tags["proj/b"]["latest"]]) +
                         self.books.blobs["proj/b"][digest(json_bytes({"architecture": "amd64", "os": "linux",
                                                                       "n": "b"}))])
        # Paging.
        r = self.admin.get("/api/v1/usage?n=2")
        self.assertStatus(r, 200)
        page = r.json()
        self.assertEqual([x["name"] for x in page["repositories"]], ["proj/a", "proj/b"])
        r = self.admin.get(page["next"])
        self.assertEqual([x["name"] for x in r.json()["repositories"]], ["proj/c"])
        self.assertIsNone(r.json()["next"])

    def berth(self, *args):
        return self.srv.berth("usage", *args).stdout.decode()

    def test_2_cli(self):
        self.assertEqual(json.loads(self.berth("-o", "json")), self.usage())
        self.assertEqual(json.loads(self.berth("proj/c", "-o", "json")), self.repo_usage("proj/c"))
        table = self.berth()
        total = self.books.totals()["bytes"]
        self.assertIn("(%d bytes:" % total, table)
        self.assertIn("10 pulls, 6 pushes", table)
        lines = table.splitlines()
        header = next(l for l in lines if l.startswith("REPOSITORY"))
        self.assertIn("PULLS", header)
        row = next(l for l in lines if l.startswith("proj/a "))
        cells = row.split()
        self.assertIn("6", cells)  # pulls of proj/a
        repo_table = self.berth("proj/a")
        v1 = next(l for l in repo_table.splitlines() if l.startswith("v1 "))
        self.assertEqual(v1.split()[4:6], ["3", "1"])  # v1, digest, size value + unit, pulls, pushes

    def test_3_roles(self):
        for name, role, scope in (("nobody", None, None), ("areader", "reader", "proj/a"),
                                  ("puller", "pull", "*"), ("allreader", "reader", "*")):
            self.assertStatus(self.admin.json("POST", "/api/v1/users", {"name": name, "password": "pw-" + name + "-123"}),
                              201)
            if role:
                self.assertStatus(self.admin.json("POST", "/api/v1/role-assignments",
                                                  {"identity": name, "role": role, "scope": scope}), 201)
        client = lambda n: self.srv.basic(n, "pw-" + n + "-123")  # noqa: E731
        for who in ("nobody", "areader", "puller"):
            self.assertError(client(who).get("/api/v1/usage"), 403, "DENIED")
        for who in ("nobody", "puller"):
            self.assertError(client(who).get("/api/v1/usage/repositories/proj/a"), 403, "DENIED")
        self.assertError(client("areader").get("/api/v1/usage/repositories/proj/b"), 403, "DENIED")
        self.check_repository("proj/a", self.repo_usage("proj/a", client("areader")))
        self.check_registry(self.usage(client("allreader")))
        # Neither the admin API nor anonymous callers get in this way.
        self.assertError(client("allreader").get("/api/v1/users"), 403, "DENIED")
        self.assertError(self.srv.get("/api/v1/usage"), 401, "UNAUTHORIZED")
        self.assertError(self.admin.get("/api/v1/usage/repositories/proj/none"), 404, "NAME_UNKNOWN")
        self.assertError(self.admin.get("/api/v1/usage/repositories/Bad..Name"), 400, "NAME_INVALID")
        self.assertError(self.admin.request("DELETE", "/api/v1/usage"), 405)
        self.assertError(self.admin.get("/api/v1/usage?n=x"), 400)

    def test_4_restart_keeps_the_numbers(self):
        before = self.usage()
        repos = {r: self.repo_usage(r) for r in ("proj/a", "proj/b", "proj/c")}
        self.srv.restart()
        self.admin = self.srv.admin()
        self.assertEqual(self.usage(), before)
        for r, doc in repos.items():
            self.assertEqual(self.repo_usage(r), doc)
        self.check_all()


class UsageCrashTest(BerthTestCase):
    start_server = False

    def test_kill9_after_a_periodic_flush_keeps_the_flushed_counts(self):
        srv = Server(auth=True, config="usage:\n  flush_interval: 1\n").start()
        self.addCleanup(srv.kill)
        admin = srv.admin()
        body = image_manifest(b"{}", [])
        push_blob(admin, "crash/app", b"{}")
        push_manifest(admin, "crash/app", "v1", body, OCI_MANIFEST)
        for _ in range(4):
            self.assertStatus(admin.get("/v2/crash/app/manifests/v1"), 200)
        # Wait for the background flush to have written the four pulls (the database is
        # read directly: the API would show them before any flush).
        db = os.path.join(srv.data_dir, "meta.db")
        deadline = time.monotonic() + 60
        while True:
            with sqlite3.connect(db) as conn:
                row = conn.execute("SELECT pulls FROM usage_traffic WHERE repository = 'crash/app'"
                                   " AND kind = 'tag' AND name = 'v1'").fetchone()
            if row and row[0] == 4:
                break
            self.assertLess(time.monotonic(), deadline, "the periodic flush did not write the pulls")
            time.sleep(0.1)
        srv.kill()
        srv.start()
        r = srv.admin().get("/api/v1/usage/repositories/crash/app")
        self.assertStatus(r, 200)
        doc = r.json()
        self.assertEqual(doc["traffic"]["pulls"], 4)
        self.assertEqual(doc["traffic"]["pushes"], 1)
        self.assertEqual(doc["tags"][0]["pulls"], 4)
        self.assertEqual(doc["traffic"]["bytesReceived"], 2 + len(body))
        srv.__exit__(None, None, None)


if __name__ == "__main__":
    main()
