#!/usr/bin/env python3
"""Identity and access over HTTP: secure default, the admin bootstrap, Basic and Bearer
auth, the token endpoints (GET and POST /oauth2/token, refresh tokens, the ACR exchange
with an OIDC ID token), roles and scope-map tokens taking effect at once, anonymous pull,
expired/tampered/forged tokens, login rate limiting per address, network rules, the
admin API's errors, and that no secret reaches the log."""
import base64
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (ACCEPT_MANIFESTS, BerthTestCase, Client, Server, main, make_image,  # noqa: E402
                       mkdtemp, push_blob, push_image, put_manifest)

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def form(srv_or_client, path, fields):
    body = urllib.parse.urlencode(fields).encode()
    return srv_or_client.request("POST", path, body=body,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})


def challenge(resp):
    h = resp.header("WWW-Authenticate", "")
    return dict(re.findall(r'(\w+)="([^"]*)"', h)), h


class AuthTestCase(BerthTestCase):
    start_server = False
    config = ""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True, config=cls.config).start()
        cls.admin = cls.srv.admin()

    def api(self, method, path, doc=None, client=None, status=None):
        r = (client or self.admin).json(method, "/api/v1" + path, doc)
        if status is not None:
            self.assertStatus(r, status, path)
        return r

    def make_user(self, name, role=None, scope="*", password=None):
        password = password or name + "-password"
        self.api("POST", "/users", {"name": name, "password": password}, status=201)
        if role:
            self.api("POST", "/role-assignments", {"identity": name, "role": role, "scope": scope},
                     status=201)
        return self.srv.basic(name, password)

    def token(self, client, *scopes, offline=False):
        q = "&".join(["service=berth"] + ["scope=" + urllib.parse.quote(s) for s in scopes] +
                     (["offline_token=true"] if offline else []))
        r = client.get("/oauth2/token?" + q)
        self.assertStatus(r, 200)
        return r.json()


class SecureDefaultTest(AuthTestCase):
    def test_everything_needs_credentials(self):
        r = self.srv.get("/v2/")
        self.assertError(r, 401, "UNAUTHORIZED")
        params, _ = challenge(r)
        self.assertEqual(params["realm"], "http://%s/oauth2/token" % self.srv.address)
        self.assertEqual(params["service"], "berth")
        r = self.srv.get("/v2/some/repo/manifests/latest")
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertEqual(challenge(r)[0]["scope"], "repository:some/repo:pull")
        r = self.srv.request("POST", "/v2/some/repo/blobs/uploads/")
        self.assertError(r, 401)
        self.assertEqual(challenge(r)[0]["scope"], "repository:some/repo:pull,push")
        self.assertError(self.srv.get("/v2/_catalog"), 401)
        self.assertError(self.srv.get("/api/v1/users"), 401)
        self.assertError(self.srv.get("/oauth2/token?service=berth&scope=repository:a:pull"), 401)
        self.assertStatus(self.srv.get("/healthz"), 200)
        self.assertStatus(self.srv.get("/readyz"), 200)

    def test_admin_from_environment_can_do_everything(self):
        self.assertStatus(self.admin.get("/v2/"), 200)
        img = push_image(self.admin, "sec/app", "v1")
        r = self.admin.get("/v2/sec/app/manifests/v1", headers={"Accept": ACCEPT_MANIFESTS})
        self.assertEqual(r.body, img.manifest)
        self.assertIn("sec/app", self.admin.get("/v2/_catalog").json()["repositories"])

    def test_wrong_password_and_malformed_credentials(self):
        self.assertError(self.srv.basic("admin", "wrong-password").get("/v2/"), 401, "UNAUTHORIZED")
        self.assertError(self.srv.basic("nobody", "whatever1").get("/v2/"), 401, "UNAUTHORIZED")
        for authz in ("Basic !!!", "Basic " + b64url(b"no-colon"), "Digest x", "Bearer", "Bearer a.b.c"):
            r = Client(self.srv, authz).get("/v2/")
            self.assertError(r, 401, "UNAUTHORIZED")


class GeneratedAdminTest(BerthTestCase):
    start_server = False

    def test_generated_password_printed_once_and_works(self):
        data = os.path.join(mkdtemp(), "data")
        # Authentication on (`auth: token`), no BERTH_ADMIN_PASSWORD: a generated password.
        srv = Server(data_dir=data, config="auth: token\n", auth=False)
        with srv:
            log = srv.log_text()
            m = re.search(r"password, shown only this once:\s+(\S+)", log)
            self.assertTrue(m, log[-2000:])
            password = m.group(1)
            self.assertStatus(srv.basic("admin", password).get("/v2/"), 200)
            self.assertEqual(len(re.findall(re.escape(password), log)), 1)
            srv.stop()
            srv.start()
            self.assertEqual(len(re.findall("shown only this once", srv.log_text())), 1)
            self.assertStatus(srv.basic("admin", password).get("/v2/"), 200)
            key = os.path.join(data, "token-signing-key.pem")
            self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)


class TokenTest(AuthTestCase):
    config = "auth:\n  access_token_ttl: 2\n"

    def test_token_endpoint_grants_the_intersection(self):
        alice = self.make_user("tk-alice", "pull", "tk/*")
        doc = self.token(alice, "repository:tk/app:pull,push", "repository:other:pull",
                         "registry:catalog:*")
        claims = jwt_claims(doc["access_token"])
        self.assertEqual(doc["token"], doc["access_token"])
        self.assertEqual(claims["aud"], "berth")
        # The catalog is granted to anyone who may read something; it lists only that.
        self.assertEqual(claims["access"], [{"type": "repository", "name": "tk/app", "actions": ["pull"]},
                                            {"type": "registry", "name": "catalog", "actions": ["*"]}])
        push_image(self.admin, "tk/listed", "v1")
        push_image(self.admin, "tk-not/listed", "v1")
        listed = self.srv.bearer(doc["access_token"]).get("/v2/_catalog").json()["repositories"]
        self.assertIn("tk/listed", listed)
        self.assertNotIn("tk-not/listed", listed)
        self.assertLessEqual(doc["expires_in"], 2)
        self.assertNotIn("refresh_token", doc)

    def test_bearer_allows_exactly_the_granted_actions(self):
        push_image(self.admin, "tk/bear", "v1")
        alice = self.make_user("tk-bob", "push", "tk/*")
        bearer = self.srv.bearer(self.token(alice, "repository:tk/bear:pull")["access_token"])
        self.assertStatus(bearer.get("/v2/tk/bear/tags/list"), 200)
        r = bearer.request("POST", "/v2/tk/bear/blobs/uploads/")
        self.assertError(r, 401, "UNAUTHORIZED")
        params, _ = challenge(r)
        self.assertEqual(params["error"], "insufficient_scope")
        self.assertEqual(params["scope"], "repository:tk/bear:pull,push")
        self.assertError(bearer.get("/v2/tk/other/tags/list"), 401)

    def test_expired_tampered_forged_and_wrong_type_tokens_refused(self):
        alice = self.make_user("tk-carol", "pull", "*")
        push_image(self.admin, "tk/exp", "v1")
        doc = self.token(alice, "repository:tk/exp:pull", offline=True)
        good = doc["access_token"]
        self.assertStatus(self.srv.bearer(good).get("/v2/tk/exp/tags/list"), 200)
        head, payload, sig = good.split(".")
        claims = jwt_claims(good)
        claims["access"][0]["name"] = "tk/other"
        tampered = ".".join([head, b64url(json.dumps(claims).encode()), sig])
        key = ec.generate_private_key(ec.SECP256R1())
        signing_input = (head + "." + payload).encode()
        der = key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        r_, s_ = decode_dss_signature(der)
        forged = head + "." + payload + "." + b64url(r_.to_bytes(32, "big") + s_.to_bytes(32, "big"))
        none_alg = b64url(b'{"alg":"none","typ":"JWT"}') + "." + payload + "."
        for bad in (tampered, forged, none_alg, doc["refresh_token"], good + "x"):
            r = self.srv.bearer(bad).get("/v2/tk/exp/tags/list")
            self.assertError(r, 401, "UNAUTHORIZED")
            self.assertEqual(challenge(r)[0].get("error"), "invalid_token", bad[:40])
        time.sleep(3.2)  # access_token_ttl is 2 s
        self.assertError(self.srv.bearer(good).get("/v2/tk/exp/tags/list"), 401, "UNAUTHORIZED")

    def test_refresh_tokens_and_identity_token_login(self):
        self.make_user("tk-dave", "pull", "*")
        r = form(self.srv, "/oauth2/token", {"grant_type": "password", "username": "tk-dave",
                                              "password": "tk-dave-password", "service": "berth",
                                              "access_type": "offline", "client_id": "e2e",
                                              "scope": "repository:tk/r:pull registry:catalog:*"})
        self.assertStatus(r, 200)
        refresh = r.json()["refresh_token"]
        self.assertEqual(jwt_claims(r.json()["access_token"])["access"][1]["name"], "catalog")
        r = form(self.srv, "/oauth2/token", {"grant_type": "refresh_token", "refresh_token": refresh,
                                              "service": "berth", "scope": "repository:tk/r:pull"})
        self.assertStatus(r, 200)
        self.assertEqual(jwt_claims(r.json()["access_token"])["access"][0]["actions"], ["pull"])
        # docker/podman's identitytoken: Basic with the zero GUID and the refresh token.
        ident = self.srv.basic("00000000-0000-0000-0000-000000000000", refresh)
        self.assertStatus(ident.get("/v2/"), 200)
        # A password change revokes every refresh token issued before it.
        self.api("PATCH", "/users/tk-dave", {"password": "a-new-password"}, status=200)
        self.assertError(ident.get("/v2/"), 401)
        r = form(self.srv, "/oauth2/token", {"grant_type": "refresh_token", "refresh_token": refresh,
                                              "service": "berth"})
        self.assertError(r, 401, "UNAUTHORIZED")
        r = form(self.srv, "/oauth2/token", {"grant_type": "client_credentials"})
        self.assertError(r, 400)


class PermissionsTest(AuthTestCase):
    def test_roles_take_effect_at_once(self):
        push_image(self.admin, "team/app", "v1")
        push_image(self.admin, "secret/app", "v1")
        erin = self.make_user("erin", "pull", "team/*")
        self.assertStatus(erin.get("/v2/team/app/tags/list"), 200)
        self.assertError(erin.get("/v2/secret/app/tags/list"), 403, "DENIED")
        self.assertError(erin.request("POST", "/v2/team/app/blobs/uploads/"), 403, "DENIED")
        self.assertEqual(erin.get("/v2/_catalog").json()["repositories"], ["team/app"])
        # Grant push: the very next request (same cached credentials) may push.
        self.api("POST", "/role-assignments", {"identity": "erin", "role": "push", "scope": "team/app"},
                 status=201)
        push_image(erin, "team/app", "v2")
        self.assertError(erin.delete("/v2/team/app/manifests/v2"), 403, "DENIED")
        # Disable: refused at once, Basic and an already issued token alike.
        bearer = self.srv.bearer(self.token(erin, "repository:team/app:pull")["access_token"])
        self.assertStatus(bearer.get("/v2/team/app/tags/list"), 200)
        self.api("PATCH", "/users/erin", {"enabled": False}, status=200)
        self.assertError(erin.get("/v2/team/app/tags/list"), 401)
        self.assertError(bearer.get("/v2/team/app/tags/list"), 401)
        self.api("PATCH", "/users/erin", {"enabled": True}, status=200)
        self.assertStatus(erin.get("/v2/team/app/tags/list"), 200)
        self.api("DELETE", "/users/erin", status=204)
        self.assertError(erin.get("/v2/team/app/tags/list"), 401)

    def test_pull_role_cannot_put_a_manifest(self):
        repo = "pullonly/app"
        old = push_image(self.admin, repo, "v1")
        new = make_image()
        for b in new.blobs():  # everything the manifest needs is there: only the right is missing
            push_blob(self.admin, repo, b)
        gina = self.make_user("gina", "pull", repo)
        doc = self.token(gina, "repository:%s:pull,push" % repo)
        self.assertEqual(jwt_claims(doc["access_token"])["access"],
                         [{"type": "repository", "name": repo, "actions": ["pull"]}])
        bearer = self.srv.bearer(doc["access_token"])
        for ref in ("v1", "v2", new.digest):
            self.assertError(put_manifest(gina, repo, ref, new.manifest, new.media_type), 403, "DENIED")
            r = put_manifest(bearer, repo, ref, new.manifest, new.media_type)
            self.assertError(r, 401, "UNAUTHORIZED")
            params, _ = challenge(r)
            self.assertEqual(params["error"], "insufficient_scope")
            self.assertEqual(params["scope"], "repository:%s:pull,push" % repo)
        # Nothing changed: v1 is the old image, there is no v2 and no new manifest.
        self.assertEqual(self.admin.get("/v2/%s/tags/list" % repo).json()["tags"], ["v1"])
        for client in (self.admin, gina, bearer):
            r = client.get("/v2/%s/manifests/v1" % repo, headers={"Accept": ACCEPT_MANIFESTS})
            self.assertStatus(r, 200)
            self.assertEqual(r.header("Docker-Content-Digest"), old.digest)
        r = self.admin.get("/v2/%s/manifests/%s" % (repo, new.digest), headers={"Accept": ACCEPT_MANIFESTS})
        self.assertError(r, 404, "MANIFEST_UNKNOWN")

    def test_scope_map_token(self):
        push_image(self.admin, "only/app", "v1")
        push_image(self.admin, "only/else", "v1")
        self.api("POST", "/scope-maps", {"name": "only-app", "repositories": [
            {"repository": "only/app", "actions": ["content/read", "content/write"]}]}, status=201)
        self.api("POST", "/tokens", {"name": "ci-token", "scopeMap": "only-app"}, status=201)
        pw1 = self.api("POST", "/tokens/ci-token/credentials", {"name": "password1"}, status=201).json()["value"]
        pw2 = self.api("POST", "/tokens/ci-token/credentials", {"name": "password2"}, status=201).json()["value"]
        tok = self.srv.basic("ci-token", pw1)
        push_image(tok, "only/app", "v2")
        self.assertError(tok.get("/v2/only/else/tags/list"), 403, "DENIED")
        self.assertError(tok.request("POST", "/v2/only/else/blobs/uploads/"), 403, "DENIED")
        self.assertError(tok.delete("/v2/only/app/manifests/v2"), 403, "DENIED")
        self.assertError(tok.get("/api/v1/users"), 403, "DENIED")
        self.assertStatus(self.srv.basic("ci-token", pw2).get("/v2/only/app/tags/list"), 200)
        # Scope map edits apply at once; deleting a password ends it at once.
        self.api("PUT", "/scope-maps/only-app", {"repositories": [
            {"repository": "only/*", "actions": ["content/read"]}]}, status=200)
        self.assertStatus(tok.get("/v2/only/else/tags/list"), 200)
        self.assertError(tok.request("POST", "/v2/only/app/blobs/uploads/"), 403)
        self.api("DELETE", "/tokens/ci-token/credentials/password1", status=204)
        self.assertError(tok.get("/v2/only/app/tags/list"), 401)
        self.assertError(self.api("DELETE", "/scope-maps/only-app"), 409, "CONFLICT")
        # Expiry in the past: refused.
        self.api("PATCH", "/tokens/ci-token", {"expiresOn": "2020-01-01T00:00:00Z"}, status=200)
        self.assertError(self.srv.basic("ci-token", pw2).get("/v2/only/app/tags/list"), 401)

    def test_mount_only_from_readable_repositories(self):
        blob = os.urandom(1000)
        d = push_blob(self.admin, "mnt/secret", blob)
        push_blob(self.admin, "mnt/public", os.urandom(10))
        d_pub = push_blob(self.admin, "mnt/public", blob[:500])
        frank = self.make_user("frank", "push", "mnt/mine")
        self.api("POST", "/role-assignments", {"identity": "frank", "role": "pull", "scope": "mnt/public"},
                 status=201)
        r = frank.request("POST", "/v2/mnt/mine/blobs/uploads/?mount=%s&from=mnt/secret" % d)
        self.assertStatus(r, 202)  # not mounted: an upload session instead
        r = frank.request("POST", "/v2/mnt/mine/blobs/uploads/?mount=%s" % d)
        self.assertStatus(r, 202)
        self.assertError(frank.get("/v2/mnt/mine/blobs/%s" % d), 404, "BLOB_UNKNOWN")
        r = frank.request("POST", "/v2/mnt/mine/blobs/uploads/?mount=%s&from=mnt/public" % d_pub)
        self.assertStatus(r, 201)
        self.assertEqual(frank.get("/v2/mnt/mine/blobs/%s" % d_pub).body, blob[:500])


class AnonymousPullTest(AuthTestCase):
    def test_anonymous_pull_on_and_off(self):
        img = push_image(self.admin, "anon/app", "v1")
        anon = self.srv
        self.assertError(anon.get("/v2/anon/app/manifests/v1"), 401)
        self.assertError(anon.get("/oauth2/token?service=berth&scope=repository:anon/app:pull"), 401)
        self.api("PATCH", "/settings", {"anonymousPullEnabled": True}, status=200)
        r = anon.get("/v2/anon/app/manifests/v1", headers={"Accept": ACCEPT_MANIFESTS})
        self.assertStatus(r, 200)
        self.assertEqual(r.body, img.manifest)
        doc = self.token(anon, "repository:anon/app:pull,push", "registry:catalog:*")
        self.assertEqual(jwt_claims(doc["access_token"])["access"],
                         [{"type": "repository", "name": "anon/app", "actions": ["pull"]}])
        self.assertStatus(self.srv.bearer(doc["token"]).get("/v2/anon/app/tags/list"), 200)
        # The Azure SDK's anonymous form: grant_type=password with no credentials.
        r = form(anon, "/oauth2/token", {"grant_type": "password", "refresh_token": "", "service": "berth",
                                          "scope": "repository:anon/app:pull"})
        self.assertStatus(r, 200)
        self.assertError(anon.request("POST", "/v2/anon/app/blobs/uploads/"), 401)
        self.assertError(anon.get("/v2/_catalog"), 401)
        self.api("PATCH", "/settings", {"anonymousPullEnabled": False}, status=200)
        self.assertError(anon.get("/v2/anon/app/manifests/v1"), 401)
        self.assertError(self.srv.bearer(doc["token"]).get("/v2/anon/app/tags/list"), 401)


class RateLimitTest(AuthTestCase):
    def test_failed_logins_limited_per_address_not_per_identity(self):
        self.make_user("grace", "pull", "*")
        wrong = self.srv.basic("grace", "not-the-password", source="127.0.0.1")
        statuses = [wrong.get("/v2/").status for _ in range(30)]
        self.assertIn(429, statuses)
        self.assertEqual(statuses[0], 401)
        r = wrong.get("/v2/")
        self.assertError(r, 429, "TOOMANYREQUESTS")
        self.assertGreater(int(r.header("Retry-After")), 0)
        # The right password from another address is not locked out.
        self.assertStatus(self.srv.basic("grace", "grace-password", source="127.0.0.2").get("/v2/"), 200)
        r = form(Client(self.srv, None, "127.0.0.1"), "/oauth2/token",
                 {"grant_type": "password", "username": "grace", "password": "still-wrong"})
        self.assertError(r, 429, "TOOMANYREQUESTS")


class NetworkRulesTest(AuthTestCase):
    def test_default_deny_with_allowed_ranges(self):
        here = self.srv.admin(source="127.0.0.2")
        self.api("POST", "/network-rules/ip-rules", {"value": "127.0.0.2/32"}, status=201)
        self.assertError(self.api("POST", "/network-rules/ip-rules", {"value": "10.0.0.1/8"}), 400)
        self.api("PATCH", "/network-rules", {"defaultAction": "Deny"}, status=200)
        try:
            r = self.srv.admin(source="127.0.0.1").get("/v2/")
            self.assertError(r, 403, "DENIED")
            self.assertIn("network rules", r.json()["errors"][0]["message"])
            self.assertError(self.srv.get("/oauth2/token?service=berth"), 403, "DENIED")
            self.assertStatus(self.srv.get("/healthz"), 200)
            self.assertStatus(here.get("/v2/"), 200)
            rules = self.api("GET", "/network-rules", client=here).json()
            self.assertEqual(rules, {"defaultAction": "Deny", "ipRules": [{"value": "127.0.0.2/32"}]})
        finally:
            self.api("PATCH", "/network-rules", {"defaultAction": "Allow"}, client=here, status=200)
        self.assertStatus(self.srv.admin(source="127.0.0.1").get("/v2/"), 200)


class TrustedProxyTest(AuthTestCase):
    config = "server:\n  trusted_proxies: [127.0.0.1/32]\n"

    def test_forwarded_client_address_and_realm_from_trusted_proxy_only(self):
        proxy = self.srv.admin(source="127.0.0.1")  # trusted
        direct = self.srv.admin(source="127.0.0.2")  # not a proxy
        fwd = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "registry.example.com"}
        r = self.srv.request("GET", "/v2/", headers=fwd)
        self.assertEqual(challenge(r)[0]["realm"], "https://registry.example.com/oauth2/token")
        r = Client(self.srv, None, "127.0.0.2").get("/v2/", headers=fwd)
        self.assertEqual(challenge(r)[0]["realm"], "http://%s/oauth2/token" % self.srv.address)
        self.api("POST", "/network-rules/ip-rules", {"value": "203.0.113.0/24"}, client=proxy, status=201)
        self.api("POST", "/network-rules/ip-rules", {"value": "127.0.0.2"}, client=proxy, status=201)
        self.api("PATCH", "/network-rules", {"defaultAction": "Deny"}, client=direct, status=200)
        try:
            # Through the proxy, the forwarded address decides; the proxy's own does not pass.
            self.assertStatus(proxy.get("/v2/", headers={"X-Forwarded-For": "203.0.113.7"}), 200)
            self.assertError(proxy.get("/v2/", headers={"X-Forwarded-For": "198.51.100.1"}), 403, "DENIED")
            self.assertError(proxy.get("/v2/"), 403, "DENIED")
            # From an untrusted peer the header is ignored.
            r = Client(self.srv, proxy.authorization, "127.0.0.3").get(
                "/v2/", headers={"X-Forwarded-For": "203.0.113.7"})
            self.assertError(r, 403, "DENIED")
        finally:
            self.api("PATCH", "/network-rules", {"defaultAction": "Allow"}, client=direct, status=200)


class AdminApiTest(AuthTestCase):
    def test_admin_api_errors(self):
        hank = self.make_user("hank", "push", "*")
        self.assertError(self.api("GET", "/users", client=hank), 403, "DENIED")
        self.assertError(self.api("POST", "/users", {"name": "hank", "password": "12345678"}), 409, "CONFLICT")
        self.assertError(self.api("POST", "/users", {"name": "bad name!", "password": "12345678"}), 400)
        self.assertError(self.api("POST", "/users", {"name": "ok", "password": "short"}), 400)
        self.assertError(self.api("POST", "/users", {"name": "ok2", "colour": "blue"}), 400)
        self.assertError(self.admin.request("POST", "/api/v1/users", body=b"{not json"), 400)
        self.assertError(self.api("GET", "/users/nobody"), 404, "NOT_FOUND")
        self.assertError(self.api("POST", "/role-assignments", {"identity": "hank", "role": "god"}), 400)
        self.assertError(self.api("POST", "/role-assignments", {"identity": "hank", "role": "pull",
                                                                 "scope": "a/**"}), 400)
        self.assertError(self.api("POST", "/tokens", {"name": "t1", "scopeMap": "missing"}), 400)
        self.assertError(self.api("POST", "/scope-maps", {"name": "m", "repositories": [
            {"repository": "x", "actions": ["content/fly"]}]}), 400)
        self.assertError(self.api("GET", "/nothing"), 404)
        sp = self.api("POST", "/service-principals", {}, status=201).json()
        self.assertTrue(sp["name"].startswith("sp-"))
        self.assertGreaterEqual(len(sp["password"]), 24)
        self.assertNotIn("password", self.api("GET", "/service-principals/" + sp["name"]).json())
        self.api("POST", "/role-assignments", {"identity": sp["name"], "role": "pull", "scope": "*"}, status=201)
        self.assertStatus(self.srv.basic(sp["name"], sp["password"]).get("/v2/"), 200)

    def test_no_secret_in_the_log(self):
        u = self.api("POST", "/users", {"name": "ivy"}, status=201).json()
        client = self.srv.basic("ivy", u["password"])
        client.get("/v2/")
        self.srv.basic("ivy", "a-wrong-secret-xyz").get("/v2/")
        doc = self.token(self.admin, "repository:x:pull", offline=True)
        self.srv.bearer(doc["access_token"]).get("/v2/")
        log = self.srv.log_text()
        for secret in (u["password"], "a-wrong-secret-xyz", self.srv.ADMIN_PASSWORD,
                       doc["access_token"].split(".")[2], doc["refresh_token"].split(".")[2]):
            self.assertNotIn(secret, log)


def rsa_issuer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nums = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
           "n": b64url(nums.n.to_bytes(256, "big")), "e": b64url(nums.e.to_bytes(3, "big"))}
    return key, {"keys": [jwk]}


def mint(key, claims, kid="k1"):
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = key.sign((head + "." + body).encode(), padding.PKCS1v15(), hashes.SHA256())
    return head + "." + body + "." + b64url(sig)


class OidcExchangeTest(AuthTestCase):
    ISSUER = "https://issuer.e2e.test"

    @classmethod
    def setUpClass(cls):
        cls.key, jwks = rsa_issuer()
        path = os.path.join(mkdtemp(), "jwks.json")
        with open(path, "w") as f:
            json.dump(jwks, f)
        cls.config = ("auth:\n  oidc:\n    - issuer: %s\n      audience: berth-e2e\n"
                      "      jwks_file: %s\n" % (cls.ISSUER, path))
        super().setUpClass()

    def id_token(self, **claims):
        now = int(time.time())
        base = {"iss": self.ISSUER, "aud": "berth-e2e", "sub": "ci-pipeline", "iat": now, "exp": now + 300}
        base.update(claims)
        return mint(self.key, base)

    def test_exchange_maps_claims_to_roles(self):
        push_image(self.admin, "fed/app", "v1")
        self.api("POST", "/federated-identities", {"name": "ci", "issuer": self.ISSUER, "claim": "sub",
                                                    "value": "ci-pipeline"}, status=201)
        self.api("POST", "/role-assignments", {"identity": "ci", "role": "pull", "scope": "fed/*"}, status=201)
        r = form(self.srv, "/oauth2/exchange?api-version=2021-07-01",
                 {"grant_type": "access_token", "service": "berth", "access_token": self.id_token()})
        self.assertStatus(r, 200)
        refresh = r.json()["refresh_token"]
        self.assertIn("exp", jwt_claims(refresh))
        r = form(self.srv, "/oauth2/token?api-version=2021-07-01",
                 {"service": "berth", "scope": "repository:fed/app:pull repository:other:pull",
                  "refresh_token": refresh, "grant_type": "refresh_token"})
        self.assertStatus(r, 200)
        access = r.json()["access_token"]
        self.assertEqual(jwt_claims(access)["access"], [{"type": "repository", "name": "fed/app",
                                                         "actions": ["pull"]}])
        self.assertStatus(self.srv.bearer(access).get("/v2/fed/app/tags/list"), 200)
        # Groups claim; wrong audience, issuer, expired, unknown subject: refused.
        self.api("POST", "/federated-identities", {"name": "devs", "issuer": self.ISSUER, "claim": "groups",
                                                    "value": "developers"}, status=201)
        ok = self.id_token(sub="someone", groups=["x", "developers"])
        r = form(self.srv, "/oauth2/exchange", {"grant_type": "access_token", "access_token": ok})
        self.assertStatus(r, 200)
        now = int(time.time())
        for bad in (self.id_token(aud="other"), self.id_token(iss="https://evil.test"),
                    self.id_token(exp=now - 600), self.id_token(sub="stranger"),
                    self.id_token()[:-4] + "AAAA"):
            r = form(self.srv, "/oauth2/exchange", {"grant_type": "access_token", "access_token": bad})
            self.assertError(r, 401, "UNAUTHORIZED")
        # Disabling the federated identity ends its refresh tokens.
        self.api("DELETE", "/federated-identities/ci", status=204)
        r = form(self.srv, "/oauth2/token", {"grant_type": "refresh_token", "refresh_token": refresh})
        self.assertError(r, 401)


class OidcJwksUrlTest(AuthTestCase):
    """An issuer whose keys are fetched from a URL (a small HTTP server the test runs),
    including a key rotation picked up when a token names the new key id."""
    ISSUER = "https://rotating.e2e.test"

    @classmethod
    def setUpClass(cls):
        import http.server
        import threading
        cls.k1, cls.jwks1 = rsa_issuer()
        cls.k2, jwks2 = rsa_issuer()
        jwks2["keys"][0]["kid"] = "k2"
        cls.jwks2 = jwks2
        cls.served = {"doc": cls.jwks1, "hits": 0}
        served = cls.served

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                served["hits"] += 1
                body = json.dumps(served["doc"]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        cls.config = ("auth:\n  oidc:\n    - issuer: %s\n      audience: berth-e2e\n"
                      "      jwks_url: http://127.0.0.1:%d/keys\n" % (cls.ISSUER, cls.httpd.server_port))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.httpd.shutdown()

    def exchange(self, key, kid):
        now = int(time.time())
        token = mint(key, {"iss": self.ISSUER, "aud": "berth-e2e", "sub": "rotor", "iat": now,
                           "exp": now + 300}, kid=kid)
        return form(self.srv, "/oauth2/exchange", {"grant_type": "access_token", "access_token": token})

    def test_keys_fetched_and_rotation_followed(self):
        self.api("POST", "/federated-identities", {"name": "rotor", "issuer": self.ISSUER, "claim": "sub",
                                                    "value": "rotor"}, status=201)
        deadline = time.time() + 10
        while self.served["hits"] == 0 and time.time() < deadline:
            time.sleep(0.1)
        self.assertGreater(self.served["hits"], 0, "the JWKS URL was never fetched")
        self.assertStatus(self.exchange(self.k1, "k1"), 200)
        # The issuer rotates: a token with the new kid makes Berth fetch again (at most
        # once per 10 s, so wait that out first).
        self.served["doc"] = self.jwks2
        time.sleep(10.5)
        self.assertStatus(self.exchange(self.k2, "k2"), 200)
        self.assertError(self.exchange(self.k1, "k1"), 401, "UNAUTHORIZED")
        # A flood of unknown kids does not make Berth fetch on every one.
        hits = self.served["hits"]
        for _ in range(20):
            self.assertError(self.exchange(self.k1, "k-unknown"), 401)
        self.assertLessEqual(self.served["hits"] - hits, 1)


if __name__ == "__main__":
    main()
