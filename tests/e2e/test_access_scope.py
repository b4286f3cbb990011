#!/usr/bin/env python3
"""A request is worth what its credential says, no more. A Bearer access token cannot mint
a wider (or longer-lived) token at GET /oauth2/token, is no admin credential (admin API,
audit, registry usage, the whole recycle bin), and reaches only the repositories and
actions it names (a repository's usage and recycle bin). A cross-repository mount copies
content, so it needs pull on its source (metadata read is not enough), and without a
source it never takes a blob from a read-locked repository. A disabled identity's right
password gets the wrong password's answer, and parallel wrong passwords cannot outrun the
login limiter."""
import os
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import BerthTestCase, Client, Server, main, push_blob, push_image  # noqa: E402


class AccessScopeTestCase(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.admin()

    def api(self, method, path, doc=None, client=None, status=None):
        r = (client or self.admin).json(method, "/api/v1" + path, doc)
        if status is not None:
            self.assertStatus(r, status, path)
        return r

    def make_user(self, name, *roles):
        """roles: (role, scope) pairs."""
        password = name + "-password"
        self.api("POST", "/users", {"name": name, "password": password}, status=201)
        for role, scope in roles:
            self.api("POST", "/role-assignments", {"identity": name, "role": role, "scope": scope}, status=201)
        return self.srv.basic(name, password)

    def token(self, client, *scopes):
        q = "&".join(["service=berth"] + ["scope=" + urllib.parse.quote(s) for s in scopes])
        r = client.get("/oauth2/token?" + q)
        self.assertStatus(r, 200)
        return r.json()["access_token"]


class TokenScopeTest(AccessScopeTestCase):
    def test_access_token_cannot_mint_a_wider_token(self):
        bob = self.make_user("mint-bob", ("push", "mint/*"), ("delete", "mint/*"))
        leaked = self.srv.bearer(self.token(bob, "repository:mint/a:pull"))
        for query in ("scope=repository:mint/b:push,delete", "scope=repository:mint/a:pull",
                      "scope=registry:catalog:*&offline_token=true", ""):
            r = leaked.get("/oauth2/token?service=berth&" + query)
            doc = self.assertError(r, 401, "UNAUTHORIZED")
            self.assertNotIn("token", doc)
            self.assertIn("Basic", r.header("WWW-Authenticate", ""))
        # The identity's own credentials still get what it may do.
        self.assertStatus(bob.get("/oauth2/token?service=berth&scope=repository:mint/b:push,delete"), 200)

    def test_access_token_is_no_admin_credential(self):
        owner_token = self.srv.bearer(self.token(self.admin, "repository:adm/app:pull", "registry:catalog:*"))
        for path in ("/users", "/audit", "/usage", "/recycle-bin", "/quotas", "/settings"):
            self.assertError(self.api("GET", path, client=owner_token), 403, "DENIED")
            self.assertStatus(self.api("GET", path), 200)
        self.assertError(self.api("POST", "/users", {"name": "minted", "password": "minted-password"},
                                  client=owner_token), 403, "DENIED")
        self.assertError(self.api("GET", "/users/minted"), 404)

    def test_access_token_reaches_only_what_it_names(self):
        push_image(self.admin, "scope/app", "v1")
        usage = "/usage/repositories/" + urllib.parse.quote("scope/app", safe="")
        bin_ = "/recycle-bin?repository=scope/app"
        pull = self.srv.bearer(self.token(self.admin, "repository:scope/app:pull"))
        self.assertError(self.api("GET", usage, client=pull), 403, "DENIED")
        self.assertError(self.api("GET", bin_, client=pull), 403, "DENIED")
        meta = self.srv.bearer(self.token(self.admin, "repository:scope/app:metadata_read"))
        self.assertStatus(self.api("GET", usage, client=meta), 200)
        self.assertError(self.api("GET", bin_, client=meta), 403, "DENIED")
        self.assertError(self.api("GET", "/recycle-bin?repository=scope/other", client=meta), 403, "DENIED")
        write = self.srv.bearer(self.token(self.admin, "repository:scope/app:push,delete"))
        self.assertStatus(self.api("GET", bin_, client=write), 200)
        # A token without the catalog scope lists nothing; with it, the identity's view.
        self.assertError(pull.get("/v2/_catalog"), 401, "UNAUTHORIZED")
        catalog = self.srv.bearer(self.token(self.admin, "registry:catalog:*"))
        self.assertIn("scope/app", catalog.get("/v2/_catalog").json()["repositories"])


class MountSourceTest(AccessScopeTestCase):
    def test_mount_needs_pull_on_its_source_not_metadata_read(self):
        blob = os.urandom(700)
        d = push_blob(self.admin, "mnt-src/app", blob)
        rita = self.make_user("mount-rita", ("push", "mnt-dst/app"), ("reader", "mnt-src/app"))
        r = rita.request("POST", "/v2/mnt-dst/app/blobs/uploads/?mount=%s&from=mnt-src/app" % d)
        self.assertStatus(r, 202)  # not mounted: an ordinary upload session instead
        self.assertError(rita.get("/v2/mnt-dst/app/blobs/%s" % d), 404, "BLOB_UNKNOWN")
        self.api("POST", "/role-assignments", {"identity": "mount-rita", "role": "pull", "scope": "mnt-src/app"},
                 status=201)
        r = rita.request("POST", "/v2/mnt-dst/app/blobs/uploads/?mount=%s&from=mnt-src/app" % d)
        self.assertStatus(r, 201)
        self.assertEqual(rita.get("/v2/mnt-dst/app/blobs/%s" % d).body, blob)

    def test_mount_without_source_skips_read_locked_repositories(self):
        blob = os.urandom(900)
        d = push_blob(self.admin, "lck-src/app", blob)
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/lck-src/app", {"readEnabled": False}), 200)
        self.assertError(self.admin.get("/v2/lck-src/app/blobs/%s" % d), 403, "DENIED")
        # The admin may pull everything, but a read-locked repository lends nothing.
        r = self.admin.request("POST", "/v2/lck-dst/app/blobs/uploads/?mount=%s" % d)
        self.assertStatus(r, 202)
        self.assertError(self.admin.get("/v2/lck-dst/app/blobs/%s" % d), 404, "BLOB_UNKNOWN")
        self.assertStatus(self.admin.json("PATCH", "/acr/v1/lck-src/app", {"readEnabled": True}), 200)
        r = self.admin.request("POST", "/v2/lck-dst/app/blobs/uploads/?mount=%s" % d)
        self.assertStatus(r, 201)


class LoginAnswerTest(AccessScopeTestCase):
    def test_disabled_identity_gets_the_wrong_password_answer(self):
        self.make_user("gone-carl", ("pull", "*"))
        self.api("PATCH", "/users/gone-carl", {"enabled": False}, status=200)
        right = Client(self.srv, self.srv.basic("gone-carl", "gone-carl-password").authorization, "127.0.0.5")
        wrong = Client(self.srv, self.srv.basic("gone-carl", "not-the-password").authorization, "127.0.0.5")
        a, b = right.get("/v2/"), wrong.get("/v2/")
        self.assertError(a, 401, "UNAUTHORIZED")
        self.assertEqual((a.status, a.body, a.header("WWW-Authenticate")),
                         (b.status, b.body, b.header("WWW-Authenticate")))

    def test_parallel_wrong_passwords_cannot_outrun_the_limiter(self):
        self.make_user("par-dana", ("pull", "*"))
        n = 30
        barrier = threading.Barrier(n)
        statuses = []
        lock = threading.Lock()

        def guess(i):
            client = Client(self.srv, self.srv.basic("par-dana", "guess-%d" % i).authorization, "127.0.0.6")
            barrier.wait()
            status = client.get("/v2/").status
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(set(statuses)), [401, 429], statuses)
        # At most the per-identity burst (10) of wrong passwords were even tried.
        self.assertLessEqual(statuses.count(401), 10, statuses)
        # The right password from another address is not locked out.
        good = Client(self.srv, self.srv.basic("par-dana", "par-dana-password").authorization, "127.0.0.7")
        self.assertStatus(good.get("/v2/"), 200)


if __name__ == "__main__":
    main()
