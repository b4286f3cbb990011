#!/usr/bin/env python3
"""Storage quotas (docs/quotas.md) on a real server: quotas set through /api/v1/quotas and
`berth quota`; blobs pushed up to exactly the limit are accepted (201) and the next byte
is refused with 403 DENIED naming the quota and its usage, for every upload style, for a
cross-repository mount and for a manifest PUT; deduplicated content costs nothing;
deleting a quota lifts it; repositories outside a pattern are unaffected."""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (OCI_MANIFEST, BerthTestCase, Server, add_query, digest,  # noqa: E402
                       image_manifest, json_bytes, main, push_blob, put_manifest, rand_bytes,
                       start_upload)

QUOTAS = "/api/v1/quotas"


def quota_path(pattern):
    return QUOTAS + "/" + urllib.parse.quote(pattern, safe="")


class QuotaTest(BerthTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.admin()

    def set_quota(self, pattern, limit, status=(200, 201)):
        r = self.admin.json("PUT", quota_path(pattern), {"limitBytes": limit})
        self.assertStatus(r, status)
        return r.json()

    def quotas(self):
        r = self.admin.get(QUOTAS)
        self.assertStatus(r, 200)
        return {q["pattern"]: q for q in r.json()["quotas"]}

    def assertDenied(self, resp, *fragments):
        doc = self.assertError(resp, 403, "DENIED")
        message = doc["errors"][0]["message"]
        for f in fragments:
            self.assertIn(f, message)
        return message

    def push_attempt(self, repo, data, how):
        """One upload of `data`, finishing with the digest: the final response."""
        d = digest(data)
        if how == "monolithic":
            return self.admin.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, d), body=data,
                                      headers={"Content-Type": "application/octet-stream"})
        loc = start_upload(self.admin, repo)
        if how == "chunked":
            # Past the quota's room the chunk itself is refused (the digest is not known yet).
            r = self.admin.request("PATCH", loc, body=data, headers={
                "Content-Type": "application/octet-stream", "Content-Range": "0-%d" % (len(data) - 1)})
            if r.status != 202:
                return r
            return self.admin.request("PUT", add_query(loc, digest=d))
        return self.admin.request("PUT", add_query(loc, digest=d), body=data,
                                  headers={"Content-Type": "application/octet-stream"})

    def test_1_pattern_quota_exact_at_the_boundary(self):
        q = self.set_quota("team-q/*", 1000, status=201)
        self.assertEqual((q["pattern"], q["limitBytes"], q["usedBytes"]), ("team-q/*", 1000, 0))
        config = json_bytes({"architecture": "amd64", "os": "linux", "n": "q"})
        layer1, layer2 = rand_bytes(400, seed=1), rand_bytes(1000 - 400 - len(config), seed=2)
        push_blob(self.admin, "team-q/app", config)
        push_blob(self.admin, "team-q/app", layer1, how="chunked")
        push_blob(self.admin, "team-q/other", layer2, how="monolithic")  # 1000 == limit
        self.assertEqual(self.quotas()["team-q/*"]["usedBytes"], 1000)
        # One byte more is refused, however it is uploaded, and costs nothing.
        for i, how in enumerate(("post_put", "chunked", "monolithic")):
            one = bytes([i])
            r = self.push_attempt("team-q/app", one, how)
            self.assertDenied(r, "storage quota for team-q/* is 1000 bytes; 1000 are used and this blob needs 1")
            self.assertStatus(self.admin.head("/v2/team-q/app/blobs/%s" % digest(one)), 404)
        self.assertEqual(self.quotas()["team-q/*"]["usedBytes"], 1000)
        # Content the namespace holds already is free: the same layer into another repository.
        push_blob(self.admin, "team-q/third", layer1)
        # Outside the pattern nothing changes.
        for repo in ("other/app", "team-q", "team-qq/app"):
            push_blob(self.admin, repo, rand_bytes(5000, seed=3))
        # A cross-repository mount of a blob new to team-q/* is refused; one it holds is not.
        outside = rand_bytes(10, seed=4)
        push_blob(self.admin, "other/app", outside)
        r = self.admin.request("POST", "/v2/team-q/app/blobs/uploads/?mount=%s&from=other/app" % digest(outside))
        self.assertDenied(r, "storage quota for team-q/*", "1000 are used and this blob needs 10")
        r = self.admin.request("POST", "/v2/team-q/fourth/blobs/uploads/?mount=%s&from=team-q/app" % digest(layer1))
        self.assertStatus(r, 201)
        # A manifest PUT over the limit is refused and stores nothing.
        manifest = image_manifest(config, [layer1])
        r = put_manifest(self.admin, "team-q/app", "v1", manifest, OCI_MANIFEST)
        self.assertDenied(r, "storage quota for team-q/* is 1000 bytes; 1000 are used and this manifest needs %d"
                          % len(manifest))
        self.assertStatus(self.admin.get("/v2/team-q/app/manifests/v1"), 404)
        # Room for exactly the manifest: accepted; usage is the limit again.
        self.set_quota("team-q/*", 1000 + len(manifest), status=200)
        r = put_manifest(self.admin, "team-q/app", "v1", manifest, OCI_MANIFEST)
        self.assertStatus(r, 201)
        self.assertEqual(self.quotas()["team-q/*"]["usedBytes"], 1000 + len(manifest))
        # Deleting the quota lifts it.
        self.assertStatus(self.admin.delete(quota_path("team-q/*")), 204)
        self.assertNotIn("team-q/*", self.quotas())
        push_blob(self.admin, "team-q/app", b"\x00")
        self.assertError(self.admin.delete(quota_path("team-q/*")), 404)

    def test_2_repository_and_registry_quotas(self):
        # An exact repository name.
        self.set_quota("solo/app", 100, status=201)
        push_blob(self.admin, "solo/app", rand_bytes(100, seed=10))
        self.assertDenied(self.push_attempt("solo/app", b"x", "post_put"),
                          "storage quota for solo/app is 100 bytes; 100 are used and this blob needs 1")
        push_blob(self.admin, "solo/app2", b"x")
        self.assertStatus(self.admin.delete(quota_path("solo/app")), 204)
        # The registry: whatever is stored now plus 50 bytes.
        r = self.admin.get("/api/v1/usage")
        self.assertStatus(r, 200)
        total = r.json()["storage"]["bytes"]
        q = self.set_quota("*", total + 50, status=201)
        self.assertEqual(q["usedBytes"], total)
        push_blob(self.admin, "anywhere/a", rand_bytes(50, seed=11))
        message = self.assertDenied(self.push_attempt("anywhere/b", b"y", "post_put"))
        self.assertEqual(message, "storage quota for * is %d bytes; %d are used and this blob needs 1"
                         % (total + 50, total + 50))
        push_blob(self.admin, "anywhere/b", rand_bytes(50, seed=11))  # already stored: free
        self.assertStatus(self.admin.delete(quota_path("*")), 204)
        push_blob(self.admin, "anywhere/b", b"y")

    def test_3_api_validation_and_access(self):
        for pattern in ("a*", "team/**", "UPPER", "*/x"):
            self.assertError(self.admin.json("PUT", quota_path(pattern), {"limitBytes": 1}), 400)
        for body in ({}, {"limitBytes": -1}, {"limitBytes": "10GiB"}, {"limitBytes": 1, "extra": 1}):
            self.assertError(self.admin.json("PUT", quota_path("v/*"), body), 400)
        self.assertError(self.admin.get(quota_path("nope/*")), 404)
        self.assertError(self.srv.get(QUOTAS), 401)
        # The plain path works as well as the encoded one.
        r = self.admin.json("PUT", QUOTAS + "/plain/*", {"limitBytes": 7})
        self.assertStatus(r, 201)
        self.assertEqual(self.admin.get(quota_path("plain/*")).json()["limitBytes"], 7)
        self.assertStatus(self.admin.delete(QUOTAS + "/plain/*"), 204)

    def berth(self, *args, ok=True):
        return self.srv.berth("quota", *args, check=ok)

    def test_4_cli(self):
        out = json.loads(self.berth("set", "cli-ns/*", "2KiB").stdout)
        self.assertEqual((out["pattern"], out["limitBytes"], out["usedBytes"]), ("cli-ns/*", 2048, 0))
        push_blob(self.admin, "cli-ns/app", rand_bytes(2048, seed=20))
        self.assertDenied(self.push_attempt("cli-ns/app", b"z", "post_put"),
                          "storage quota for cli-ns/* is 2048 bytes; 2048 are used and this blob needs 1")
        shown = json.loads(self.berth("show", "-o", "json").stdout)
        self.assertIn({"pattern": "cli-ns/*", "limitBytes": 2048, "usedBytes": 2048},
                      [{k: q[k] for k in ("pattern", "limitBytes", "usedBytes")} for q in shown["quotas"]])
        table = self.berth("show").stdout.decode()
        header = table.splitlines()[0]
        self.assertIn("PATTERN", header)
        row = next(l for l in table.splitlines() if l.startswith("cli-ns/* "))
        self.assertEqual(row.split()[1:4], ["2048", "2048", "100.0%"])
        self.assertEqual(json.loads(self.berth("set", "cli-ns/*", "500MB").stdout)["limitBytes"], 500000000)
        push_blob(self.admin, "cli-ns/app", b"z")
        self.berth("delete", "cli-ns/*")
        self.assertNotIn("cli-ns/*", self.quotas())
        bad = self.berth("set", "cli-ns/*", "ten", ok=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("invalid size", bad.stderr.decode())


if __name__ == "__main__":
    main()
