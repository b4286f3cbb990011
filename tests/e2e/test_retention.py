#!/usr/bin/env python3
"""Retention policies (docs/retention.md) on a real server: stored through
/api/v1/retention/policies and `berth retention policy`, run on demand (POST
/api/v1/retention/run, `berth retention run`) and on the schedule. keepLast keeps the newest
tags, keepTags protects tags forever, removeNotPulledFor keeps what was pulled recently (the
usage telemetry's last-pulled times), removeUntaggedAfter removes untagged manifests unless
pulled by digest; several policies on one repository keep the union of what each keeps; a
dry run lists what the real run removes; nothing is removed until a policy exists."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (OCI_MANIFEST, BerthTestCase, Server, main, push_image, rand_name)  # noqa: E402

POLICIES = "/api/v1/retention/policies"
CONFIG = "retention:\n  schedule: false\n"


class RetentionHelpers:
    def put_policy(self, name, status=(200, 201), **fields):
        r = self.admin.json("PUT", "%s/%s" % (POLICIES, name), fields)
        self.assertStatus(r, status)
        return r.json() if r.body else None

    def run_policies(self, dry_run=False, policy=None):
        body = {"dryRun": dry_run}
        if policy:
            body["policy"] = policy
        r = self.admin.json("POST", "/api/v1/retention/run", body)
        self.assertStatus(r, 200)
        return r.json()

    def tags(self, repo):
        r = self.admin.get("/v2/%s/tags/list" % repo)
        if r.status == 404:
            return []
        self.assertStatus(r, 200)
        return sorted(r.json()["tags"] or [])

    @staticmethod
    def removed(report, repo):
        for r in report["repositories"]:
            if r["name"] == repo:
                return sorted(t["tag"] for t in r["tags"]), sorted(m["digest"] for m in r["manifests"])
        return [], []

    def push_tags(self, repo, names, gap=1.1):
        images = {}
        for n in names:
            images[n] = push_image(self.admin, repo, n)
            time.sleep(gap)  # distinct update times, oldest first
        return images


class RetentionTest(RetentionHelpers, BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True, config=CONFIG).start()
        cls.admin = cls.srv.admin()

    def tearDown(self):
        for p in self.admin.get(POLICIES).json()["policies"]:
            self.assertStatus(self.admin.delete("%s/%s" % (POLICIES, p["name"])), 204)

    def test_policy_crud_and_validation(self):
        created = self.put_policy("ci", status=201, repositories="ci/.*", keepLast=5, removeUntaggedAfter="7d",
                                  keepTags="^(latest|stable)$")
        self.assertEqual(created["name"], "ci")
        self.assertEqual(created["keepLast"], 5)
        self.assertEqual(created["removeUntaggedAfter"], "7d")
        self.assertIsNone(created["removeNotPulledFor"])
        self.assertTrue(created["enabled"])
        replaced = self.put_policy("ci", status=200, repositories="ci/.*", removeNotPulledFor="1h30m", enabled=False)
        self.assertEqual(replaced["removeNotPulledFor"], "1h30m")
        self.assertIsNone(replaced["keepLast"])
        self.assertFalse(replaced["enabled"])
        self.assertEqual(replaced["createdOn"], created["createdOn"])
        self.assertEqual(self.admin.get(POLICIES + "/ci").json(), replaced)
        self.assertEqual([p["name"] for p in self.admin.get(POLICIES).json()["policies"]], ["ci"])
        for name, body in (("bad", {"repositories": "(", "keepLast": 1}),
                           ("bad", {"repositories": ".*"}),  # no rule
                           ("bad", {"repositories": ".*", "keepLast": -1}),
                           ("bad", {"repositories": ".*", "removeUntaggedAfter": "a week"}),
                           ("bad", {"repositories": ".*", "keepLast": 1, "keepTags": "["}),
                           ("bad", {"repositories": ".*", "keepLast": 1, "schedule": "daily"}),
                           ("Bad Name", {"repositories": ".*", "keepLast": 1})):
            self.assertError(self.admin.json("PUT", "%s/%s" % (POLICIES, name.replace(" ", "%20")), body), 400)
        self.assertError(self.admin.get(POLICIES + "/bad"), 404)
        self.assertError(self.admin.json("POST", "/api/v1/retention/run", {"policy": "nope"}), 404)
        self.assertStatus(self.admin.delete(POLICIES + "/ci"), 204)
        self.assertError(self.admin.delete(POLICIES + "/ci"), 404)

    def test_nothing_is_removed_without_a_policy(self):
        repo = "ret/" + rand_name("none")
        push_image(self.admin, repo, "v1")
        report = self.run_policies()
        self.assertEqual(report["repositories"], [])
        self.assertEqual(self.tags(repo), ["v1"])

    def test_keep_last_and_keep_tags(self):
        repo = "ret/" + rand_name("keep")
        images = self.push_tags(repo, ["stable", "t1", "t2", "t3", "t4"])
        self.put_policy("last2", repositories="ret/keep.*", keepLast=2, keepTags="^stable$",
                        removeUntaggedAfter="0s")
        time.sleep(1.1)
        dry = self.run_policies(dry_run=True)
        removed = self.removed(dry, repo)
        self.assertEqual(removed, (["t1", "t2"], sorted([images["t1"].digest, images["t2"].digest])))
        self.assertEqual(self.tags(repo), ["stable", "t1", "t2", "t3", "t4"])
        real = self.run_policies()
        self.assertEqual(self.removed(real, repo), removed)
        self.assertEqual(real["policies"], ["last2"])
        self.assertEqual(self.tags(repo), ["stable", "t3", "t4"])
        self.assertEqual(self.admin.get("/api/v1/retention/run").json()["last"]["tagsDeleted"], 2)
        # One audit entry per removed tag and manifest, by the identity that asked for the run.
        entries = []
        deadline = time.time() + 10
        while len(entries) < 4 and time.time() < deadline:
            time.sleep(0.2)
            entries = self.admin.get("/api/v1/audit?action=delete&repository=" + repo).json()["entries"]
        self.assertEqual(sorted((e.get("tag", ""), e["message"], e["identity"]) for e in entries),
                         sorted([("", "retention policy last2", "admin")] * 2 +
                                [("t1", "retention policy last2", "admin"), ("t2", "retention policy last2", "admin")]))
        metrics = self.admin.get("/metrics").body.decode()
        values = {l.split()[0]: float(l.split()[1]) for l in metrics.splitlines()
                  if l.startswith("berth_retention_")}
        self.assertGreaterEqual(values.get("berth_retention_tags_deleted_total", 0), 2, values)
        self.assertGreaterEqual(values.get("berth_retention_manifests_deleted_total", 0), 2, values)
        self.assertGreaterEqual(values.get("berth_retention_runs_total", 0), 1, values)

    def test_not_pulled_for_keeps_what_was_pulled(self):
        repo = "ret/" + rand_name("pull")
        images = self.push_tags(repo, ["a", "b", "c"], gap=0)
        time.sleep(4.5)
        # a is pulled by tag, b's manifest by digest: both count as use of the image.
        self.assertStatus(self.admin.get("/v2/%s/manifests/a" % repo, headers={"Accept": OCI_MANIFEST}), 200)
        self.assertStatus(self.admin.get("/v2/%s/manifests/%s" % (repo, images["b"].digest),
                                         headers={"Accept": OCI_MANIFEST}), 200)
        self.put_policy("stale", repositories=repo, removeNotPulledFor="3s")
        report = self.run_policies()
        self.assertEqual(self.removed(report, repo), (["c"], []))  # no untagged rule: manifests stay
        self.assertEqual(self.tags(repo), ["a", "b"])
        self.assertStatus(self.admin.get("/v2/%s/manifests/%s" % (repo, images["c"].digest),
                                         headers={"Accept": OCI_MANIFEST}), 200)

    def test_untagged_after_spares_what_is_pulled_by_digest(self):
        repo = "ret/" + rand_name("untag")
        used = push_image(self.admin, repo)   # untagged, pulled by digest below
        unused = push_image(self.admin, repo)
        push_image(self.admin, repo, "v1")
        time.sleep(4.5)
        self.assertStatus(self.admin.get("/v2/%s/manifests/%s" % (repo, used.digest),
                                         headers={"Accept": OCI_MANIFEST}), 200)
        self.put_policy("untagged", repositories=repo, removeUntaggedAfter="3s")
        report = self.run_policies()
        self.assertEqual(self.removed(report, repo), ([], [unused.digest]))
        self.assertEqual(self.tags(repo), ["v1"])

    def test_policies_keep_the_union(self):
        repo = "ret/" + rand_name("union")
        self.push_tags(repo, ["r1", "r2", "r3", "dev"])
        # One keeps the newest two, the other every release: only what neither keeps goes.
        self.put_policy("newest", repositories="ret/union.*", keepLast=2)
        self.put_policy("releases", repositories="ret/union.*", keepLast=0, keepTags="^r")
        time.sleep(1.1)
        report = self.run_policies()
        self.assertEqual(sorted(report["policies"]), ["newest", "releases"])
        self.assertEqual(self.removed(report, repo)[0], [])  # r1 (kept by releases) is the oldest
        self.put_policy("releases", repositories="ret/union.*", keepLast=0, keepTags="^r[23]$")
        report = self.run_policies()
        self.assertEqual(self.removed(report, repo)[0], ["r1"])
        self.assertEqual(self.tags(repo), ["dev", "r2", "r3"])

    def test_disabled_policy_runs_only_when_named_and_cli(self):
        repo = "ret/" + rand_name("cli")
        self.push_tags(repo, ["old1", "old2", "new"])
        out = self.srv.berth("retention", "policy", "set", "manual", "--repositories", repo, "--keep-last", "1",
                             "--disabled").stdout.decode()
        self.assertIn('"enabled": false', out)
        time.sleep(1.1)
        self.assertEqual(self.run_policies()["repositories"], [])
        out = self.srv.berth("retention", "run", "--policy", "manual", "--dry-run").stdout.decode()
        self.assertIn("Dry run: would delete 2 tags and 0 manifests", out)
        self.assertIn("%s:old1" % repo, out)
        self.assertEqual(self.tags(repo), ["new", "old1", "old2"])
        out = self.srv.berth("retention", "run", "--policy", "manual").stdout.decode()
        self.assertIn("Deleted 2 tags and 0 manifests", out)
        self.assertEqual(self.tags(repo), ["new"])
        listed = self.srv.berth("retention", "policy", "list").stdout.decode()
        self.assertIn('"manual"', listed)
        self.srv.berth("retention", "policy", "delete", "manual")
        self.assertError(self.admin.get(POLICIES + "/manual"), 404)


class ScheduledRetentionTest(RetentionHelpers, BerthTestCase):
    start_server = False

    def test_enabled_policies_run_on_the_schedule(self):
        self.srv = Server(auth=True, config="retention:\n  interval: 1s\n").start()
        self.admin = self.srv.admin()
        repo = "sched/" + rand_name("s")
        self.push_tags(repo, ["old", "new"])
        time.sleep(2.5)
        self.assertEqual(self.tags(repo), ["new", "old"])  # nothing without a policy
        self.put_policy("one", repositories="sched/.*", keepLast=1)
        deadline = time.time() + 30
        while self.tags(repo) != ["new"] and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.tags(repo), ["new"])
        last = self.admin.get("/api/v1/retention/run").json()["last"]
        self.assertEqual(last["policies"], ["one"])
        entries = []
        deadline = time.time() + 10
        while not entries and time.time() < deadline:
            time.sleep(0.2)
            entries = self.admin.get("/api/v1/audit?action=delete&repository=" + repo).json()["entries"]
        self.assertEqual([(e["tag"], e["identity"], e["identityKind"], e["message"]) for e in entries],
                         [("old", "berth", "system", "retention policy one")])
        self.srv.stop()


if __name__ == "__main__":
    main()
