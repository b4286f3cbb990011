#!/usr/bin/env python3
"""Audit log (docs/audit.md): denied pulls (Basic, bearer, anonymous), pushes and pulls with
their digests, failed logins without the password anywhere, config changes, filters and
paging of /api/v1/audit, the JSON lines file, entries surviving a restart (including the
ones recorded just before SIGTERM), and `berth audit list`. Entries are written
asynchronously: every check polls with a deadline."""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, Server, digest, main, mkdtemp,  # noqa: E402
                       parse_link_next, push_image, rand_name, ACCEPT_MANIFESTS)

DEADLINE = 30
PASSWORD = "audit-user-pw-1"


def audit_server(extra=""):
    log_dir = mkdtemp()
    path = os.path.join(log_dir, "audit.jsonl")
    srv = Server(auth=True, config="audit:\n  file: %s\n%s" % (path, extra))
    srv.audit_file = path
    return srv


class AuditHelpers:
    def audit(self, srv=None, **filters):
        """One page of /api/v1/audit: (entries, response)."""
        srv = srv or self.srv
        path = "/api/v1/audit"
        if filters:
            path += "?" + urllib.parse.urlencode(filters)
        r = srv.admin().get(path)
        self.assertStatus(r, 200)
        return r.json()["entries"], r

    def wait_for(self, pred, what, srv=None, **filters):
        """The entries matching `filters` once pred(entries) holds."""
        end = time.monotonic() + DEADLINE
        while True:
            entries, _ = self.audit(srv, **filters)
            if pred(entries):
                return entries
            if time.monotonic() > end:
                self.fail("timed out waiting for %s; got %s" % (what, json.dumps(entries, indent=1)))
            time.sleep(0.05)

    def wait_one(self, srv=None, **filters):
        return self.wait_for(lambda e: len(e) >= 1, "an entry with %r" % filters, srv, **filters)[0]

    def user(self, name=None, role=None, scope="*", srv=None):
        srv = srv or self.srv
        name = name or rand_name("u")
        self.assertStatus(srv.admin().json("POST", "/api/v1/users", {"name": name, "password": PASSWORD}), 201)
        if role:
            r = srv.admin().json("POST", "/api/v1/role-assignments", {"identity": name, "role": role, "scope": scope})
            self.assertStatus(r, 201)
        return name

    def file_entries(self, srv=None):
        srv = srv or self.srv
        try:
            with open(srv.audit_file) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


class AuditTest(AuditHelpers, BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = audit_server().start()

    def test_denied_pull_is_audited_with_identity_client_repository_and_tag(self):
        name = self.user()
        repo = rand_name("private/app")
        client = self.srv.basic(name, PASSWORD, source="127.0.0.5")
        self.assertError(client.get("/v2/%s/manifests/v1" % repo), 403, "DENIED")
        e = self.wait_one(identity=name, repository=repo)
        self.assertEqual(e["action"], "pull")
        self.assertEqual(e["result"], "denied")
        self.assertEqual(e["clientAddress"], "127.0.0.5")
        self.assertEqual(e["identityKind"], "user")
        self.assertEqual(e["tag"], "v1")
        self.assertEqual(e["digest"], "")
        self.assertEqual(e["method"], "GET")
        self.assertEqual(e["status"], 403)
        self.assertIn("denied", e["message"])
        self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_denied_pull_with_a_token_and_anonymously(self):
        name = self.user()
        repo = rand_name("private/tok")
        r = self.srv.basic(name, PASSWORD).get("/oauth2/token?service=berth&scope=repository:%s:pull" % repo)
        self.assertStatus(r, 200)
        token = r.json()["token"]
        self.assertStatus(self.srv.bearer(token).get("/v2/%s/manifests/sha256:%s" % (repo, "a" * 64)), 401)
        e = self.wait_one(identity=name, repository=repo)
        self.assertEqual((e["action"], e["result"], e["status"]), ("pull", "denied", 401))
        self.assertEqual(e["digest"], "sha256:" + "a" * 64)
        self.assertEqual(e["tag"], "")
        # The token request itself is a login that was granted nothing.
        login = self.wait_one(identity=name, action="login")
        self.assertEqual(login["result"], "success")
        self.assertEqual(login["message"], "granted no scope")
        # Anonymous: no identity, still the repository and the client.
        anon_repo = rand_name("private/anon")
        self.assertStatus(self.srv.get("/v2/%s/manifests/latest" % anon_repo), 401)
        e = self.wait_one(repository=anon_repo)
        self.assertEqual((e["identity"], e["action"], e["result"], e["tag"]), ("", "pull", "denied", "latest"))
        self.assertEqual(e["clientAddress"], "127.0.0.1")

    def test_push_pull_and_delete_record_the_digest(self):
        repo = rand_name("team/app")
        name = self.user(role="push", scope=repo)
        dev = self.srv.basic(name, PASSWORD)
        image = push_image(dev, repo, "v1")
        push = self.wait_one(identity=name, repository=repo, action="push")
        self.assertEqual((push["result"], push["status"], push["method"]), ("success", 201, "PUT"))
        self.assertEqual(push["digest"], image.digest)
        self.assertEqual(push["tag"], "v1")
        r = dev.get("/v2/%s/manifests/v1" % repo, headers={"Accept": ACCEPT_MANIFESTS})
        self.assertStatus(r, 200)
        pull = self.wait_one(identity=name, repository=repo, action="pull")
        self.assertEqual((pull["result"], pull["tag"], pull["digest"]), ("success", "v1", image.digest))
        # Blob uploads and blob reads are not audited one by one: the manifest stands for them.
        for b in image.blobs():
            self.assertStatus(dev.get("/v2/%s/blobs/%s" % (repo, digest(b))), 200)
        # Deleting needs the delete role: refused, then allowed.
        self.assertStatus(dev.delete("/v2/%s/manifests/%s" % (repo, image.digest)), 403)
        self.assertStatus(self.srv.admin().delete("/v2/%s/manifests/%s" % (repo, image.digest)), 202)
        deletes = self.wait_for(lambda e: len(e) >= 2, "two deletes", repository=repo, action="delete")
        self.assertEqual([(d["identity"], d["result"]) for d in deletes], [("admin", "success"), (name, "denied")])
        self.assertEqual({d["digest"] for d in deletes}, {image.digest})
        everything = self.wait_for(lambda e: len(e) >= 4, "all entries", repository=repo)
        self.assertEqual(sorted(e["action"] for e in everything), ["delete", "delete", "pull", "push"])

    def test_failed_login_is_recorded_without_the_password(self):
        name = self.user()
        wrong = "Wr0ng-Secret-%s" % rand_name("pw")
        r = self.srv.request("POST", "/oauth2/token", body=urllib.parse.urlencode(
            {"grant_type": "password", "username": name, "password": wrong, "service": "berth",
             "scope": "repository:x:pull"}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertStatus(r, 401)
        self.assertStatus(self.srv.basic(name, wrong).get("/v2/"), 401)
        failed = self.wait_for(lambda e: len(e) >= 2, "two failed logins", identity=name, result="failed")
        self.assertEqual({e["action"] for e in failed}, {"login"})
        self.assertEqual({e["status"] for e in failed}, {401})
        self.assertEqual(sorted(e["method"] for e in failed), ["GET", "POST"])
        # A successful login's token is not recorded either.
        r = self.srv.basic(name, PASSWORD).get("/oauth2/token?service=berth")
        self.assertStatus(r, 200)
        token = r.json()["token"]
        self.wait_one(identity=name, action="login", result="success")
        end = time.monotonic() + DEADLINE
        while not any(x["identity"] == name and x["result"] == "success" for x in self.file_entries()):
            self.assertLess(time.monotonic(), end, "the JSON lines file never got the login")
            time.sleep(0.05)
        with open(self.srv.audit_file) as f:
            text = f.read()
        self.assertIn(name, text)
        for secret in (wrong, PASSWORD, token):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret, self.srv.log_text())

    def test_config_changes_are_recorded_and_reads_are_not(self):
        name = self.user()
        created = self.wait_one(identity="admin", action="config", result="success")
        entries, _ = self.audit(identity="admin", action="config")
        posts = [e for e in entries if e["method"] == "POST" and e["message"] == "/api/v1/users"]
        self.assertTrue(posts, entries)
        self.assertEqual(posts[0]["status"], 201)
        self.assertEqual(created["clientAddress"], "127.0.0.1")
        self.assertStatus(self.srv.admin().get("/api/v1/users"), 200)
        # A refused change: identity, denied, and no password in it.
        r = self.srv.basic(name, PASSWORD).json("POST", "/api/v1/users", {"name": "x" + name, "password": "p4ssw0rd-new"})
        self.assertStatus(r, 403)
        e = self.wait_one(identity=name, action="config")
        self.assertEqual((e["result"], e["method"], e["status"]), ("denied", "POST", 403))
        self.assertNotIn("p4ssw0rd-new", json.dumps(self.file_entries()))
        # The admin's GET above was not recorded (reads are not audited; refused ones are).
        entries, _ = self.audit(action="config", result="success")
        self.assertFalse([e for e in entries if e["method"] == "GET"], entries)

    def test_metadata_api_changes_are_recorded(self):
        repo = "audit-acr/" + rand_name("app")
        admin = self.srv.admin()
        img = push_image(admin, repo, "v1")
        reader = self.user(role="reader", scope=repo)
        client = self.srv.basic(reader, PASSWORD)
        self.assertStatus(client.get("/acr/v1/%s/_tags/v1" % repo), 200)
        self.assertStatus(client.json("PATCH", "/acr/v1/%s/_tags/v1" % repo, {"deleteEnabled": False}), 403)
        self.assertStatus(admin.json("PATCH", "/acr/v1/%s/_manifests/%s" % (repo, img.digest),
                                     {"readEnabled": False}), 200)
        self.assertStatus(admin.delete("/acr/v1/" + repo), 202)
        denied = self.wait_one(identity=reader, action="update")
        self.assertEqual((denied["result"], denied["repository"], denied["tag"], denied["status"]),
                         ("denied", repo, "v1", 403))
        changed = self.wait_one(identity="admin", action="update", repository=repo)
        self.assertEqual((changed["result"], changed["digest"], changed["method"]), ("success", img.digest, "PATCH"))
        deleted = self.wait_one(identity="admin", action="delete", repository=repo)
        self.assertEqual((deleted["result"], deleted["status"]), ("success", 202))
        # The successful read was not recorded.
        entries, _ = self.audit(identity=reader, action="list")
        self.assertEqual(entries, [])

    def test_filters_paging_and_validation(self):
        name = self.user()
        repo = rand_name("paged/app")
        client = self.srv.basic(name, PASSWORD)
        for i in range(7):
            self.assertStatus(client.get("/v2/%s/manifests/t%d" % (repo, i)), 403)
        self.assertStatus(client.get("/v2/%s/manifests/other" % rand_name("paged/else")), 403)
        self.wait_for(lambda e: len(e) == 7, "seven entries", identity=name, repository=repo)
        # Pages of 3 through the Link header, newest first, each entry once.
        entries, r = self.audit(identity=name, repository=repo, n=3)
        seen = []
        pages = 0
        while True:
            pages += 1
            seen += entries
            nxt = parse_link_next(r.header("Link"))
            if nxt is None:
                break
            path, params = nxt
            self.assertEqual(path, "/api/v1/audit")
            self.assertEqual(params["identity"], name)
            self.assertEqual(params["repository"], repo)
            entries, r = self.audit(**params)
        self.assertEqual(pages, 3)
        self.assertEqual([e["tag"] for e in seen], ["t%d" % i for i in reversed(range(7))])
        times = [e["time"] for e in seen]
        self.assertEqual(times, sorted(times, reverse=True))
        self.assertEqual(len({e["id"] for e in seen}), 7)
        # Other filters.
        self.assertEqual(len(self.audit(identity=name)[0]), 8)
        self.assertEqual(len(self.audit(identity=name, action="push")[0]), 0)
        self.assertEqual(len(self.audit(identity=name, result="success")[0]), 0)
        self.assertEqual(len(self.audit(identity=name, result="denied")[0]), 8)
        first = seen[-1]
        self.assertEqual(len(self.audit(identity=name, since="2999-01-01T00:00:00Z")[0]), 0)
        self.assertEqual(len(self.audit(identity=name, until="2000-01-01T00:00:00Z")[0]), 0)
        self.assertEqual(len(self.audit(identity=name, since="2000-01-01T00:00:00Z")[0]), 8)
        self.assertEqual(len(self.audit(identity=name, last=first["id"])[0]), 0)
        # Bad parameters are the registry's 400.
        admin = self.srv.admin()
        for q in ("n=abc", "n=0", "last=-1", "result=maybe", "since=yesterday", "until=2026-13-01T00:00:00Z"):
            self.assertError(admin.get("/api/v1/audit?" + q), 400, "INVALID_ARGUMENT")
        self.assertLessEqual(len(self.audit(n=5000)[0]), 1000)
        # Only owners read it.
        self.assertError(client.get("/api/v1/audit"), 403, "DENIED")
        self.assertError(self.srv.get("/api/v1/audit"), 401, "UNAUTHORIZED")
        self.assertError(admin.request("DELETE", "/api/v1/audit"), 405)

    def test_jsonl_file_has_the_same_entries(self):
        name = self.user()
        client = self.srv.basic(name, PASSWORD)
        self.assertStatus(client.get("/v2/%s/manifests/x" % rand_name("file/app")), 403)
        entries = self.wait_for(lambda e: len(e) >= 1, "the entry", identity=name)
        end = time.monotonic() + DEADLINE
        while True:
            by_id = {e["id"]: e for e in self.file_entries()}
            if all(e["id"] in by_id for e in entries):
                break
            self.assertLess(time.monotonic(), end, "entries missing from the file")
            time.sleep(0.05)
        for e in entries:
            self.assertEqual(by_id[e["id"]], e)
        # Every API entry so far is in the file, identical.
        all_entries, _ = self.audit(n=1000)
        for e in all_entries:
            if e["id"] in by_id:
                self.assertEqual(by_id[e["id"]], e)

    def test_cli_audit_list(self):
        name = self.user()
        repo = rand_name("cli/app")
        self.assertStatus(self.srv.basic(name, PASSWORD).get("/v2/%s/manifests/v9" % repo), 403)
        self.wait_one(identity=name, repository=repo)
        def berth(*args):
            return self.srv.berth("audit", "list", *args).stdout.decode()

        out = json.loads(berth("--identity", name, "--repository", repo, "--action", "pull", "--since", "1h"))
        self.assertEqual(len(out["entries"]), 1)
        self.assertEqual(out["entries"][0]["tag"], "v9")
        self.assertEqual(out["entries"][0]["result"], "denied")
        self.assertEqual(json.loads(berth("--identity", name, "--result", "success"))["entries"], [])
        table = berth("--identity", name, "-o", "table")
        self.assertIn(repo, table)
        self.assertIn("denied", table)
        # --top pages past the server's 1000 limit would be needed only for big logs; a small
        # top is honoured.
        self.assertEqual(len(json.loads(berth("--top", "2"))["entries"]), 2)
        p = self.srv.berth("audit", "list", "--since", "last tuesday", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--since", p.stderr.decode())


class AuditRestartTest(AuditHelpers, BerthTestCase):
    start_server = False

    def test_entries_survive_a_restart_and_sigterm_flushes(self):
        srv = audit_server().start()
        self.srv = srv
        name = self.user(srv=srv)
        repo = rand_name("restart/app")
        client = srv.basic(name, PASSWORD)
        self.assertStatus(client.get("/v2/%s/manifests/before" % repo), 403)
        before = self.wait_one(srv, identity=name, repository=repo)
        # Recorded just before SIGTERM, not waited for: the shutdown writes it.
        self.assertStatus(client.get("/v2/%s/manifests/last" % repo), 403)
        self.assertEqual(srv.stop(), 0)
        srv.start()
        client = srv.basic(name, PASSWORD)  # the new port
        entries, _ = self.audit(srv, identity=name, repository=repo)
        self.assertEqual([e["tag"] for e in entries], ["last", "before"])
        self.assertEqual(entries[1], before)
        self.assertEqual([e["tag"] for e in self.file_entries(srv) if e["repository"] == repo], ["before", "last"])
        # Ids go on after the restart.
        self.assertStatus(client.get("/v2/%s/manifests/after" % repo), 403)
        after = self.wait_for(lambda e: e and e[0]["tag"] == "after", "the entry after the restart", srv,
                              identity=name, repository=repo)[0]
        self.assertGreater(after["id"], entries[0]["id"])
        srv.__exit__(None, None, None)

    def test_audit_off(self):
        srv = Server(auth=True, config="audit:\n  enabled: false\n").start()
        self.assertError(srv.admin().get("/api/v1/audit"), 404, "NOT_FOUND")
        srv.__exit__(None, None, None)

    def test_pulls_off_still_records_denied_pulls(self):
        srv = audit_server("  pulls: false\n").start()
        self.srv = srv
        repo = rand_name("quiet/app")
        admin = srv.admin()
        push_image(admin, repo, "v1")
        self.assertStatus(admin.get("/v2/%s/manifests/v1" % repo, headers={"Accept": ACCEPT_MANIFESTS}), 200)
        name = self.user(srv=srv)
        self.assertStatus(srv.basic(name, PASSWORD).get("/v2/%s/manifests/v1" % repo), 403)
        self.wait_one(srv, identity=name, repository=repo)
        entries, _ = self.audit(srv, repository=repo)
        self.assertEqual(sorted((e["action"], e["result"]) for e in entries),
                         [("pull", "denied"), ("push", "success")])
        srv.__exit__(None, None, None)


if __name__ == "__main__":
    main()
