#!/usr/bin/env python3
"""The route table seen from outside: a method a route does not take is 405 with an Allow
header naming the ones it does (on every kind of route, after authentication), an unknown
path is 404, and the admin API and token server do not exist with `auth: none`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import BerthTestCase, Server, main  # noqa: E402

DIGEST = "sha256:" + "a" * 64


class RoutesWithAuthTest(BerthTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(auth=True).start()
        cls.admin = cls.srv.basic("admin", Server.ADMIN_PASSWORD)

    def assertAllow(self, method, path, allow):
        r = self.admin.request(method, path)
        self.assertError(r, 405, "UNSUPPORTED")
        self.assertEqual(r.header("Allow"), allow, "%s %s" % (method, path))

    def test_method_not_allowed_names_the_allowed_methods(self):
        self.assertAllow("PATCH", "/v2/team/app/manifests/v1", "GET, HEAD, PUT, DELETE")
        self.assertAllow("PUT", "/v2/team/app/blobs/" + DIGEST, "GET, HEAD, DELETE")
        self.assertAllow("GET", "/v2/team/app/blobs/uploads/", "POST")
        self.assertAllow("POST", "/v2/team/app/tags/list", "GET")
        self.assertAllow("DELETE", "/v2/_catalog", "GET")
        self.assertAllow("POST", "/acr/v1/team/app/_manifests/" + DIGEST, "GET, HEAD, PATCH")
        self.assertAllow("DELETE", "/oauth2/token", "GET, HEAD, POST")
        self.assertAllow("GET", "/oauth2/exchange", "POST")
        self.assertAllow("PUT", "/api/v1/users", "GET, POST")
        self.assertAllow("PATCH", "/api/v1/federated-identities/someone", "GET, DELETE")
        self.assertAllow("GET", "/api/v1/purge", "POST")
        self.assertAllow("POST", "/healthz", "GET, HEAD")

    def test_authentication_comes_before_the_method_check(self):
        r = self.srv.request("PATCH", "/v2/team/app/manifests/v1")
        self.assertError(r, 401, "UNAUTHORIZED")
        r = self.srv.request("PUT", "/api/v1/users")
        self.assertError(r, 401, "UNAUTHORIZED")
        self.assertEqual(r.header("WWW-Authenticate"), 'Basic realm="berth"')

    def test_unknown_paths_are_not_found(self):
        for path in ("/api/v1/nope", "/api/v1/users/a/b", "/oauth2/nope", "/v2/a/unknown/x", "/acr/v1/"):
            self.assertError(self.admin.get(path), 404, "NOT_FOUND", "NAME_UNKNOWN")

    def test_admin_replies_are_not_cached(self):
        r = self.admin.get("/api/v1/users")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Cache-Control"), "no-store")


class RoutesWithoutAuthTest(BerthTestCase):
    def test_admin_and_token_routes_do_not_exist(self):
        for method, path in (("GET", "/api/v1/users"), ("POST", "/api/v1/gc"), ("GET", "/oauth2/token")):
            self.assertError(self.srv.request(method, path), 404, "NOT_FOUND")

    def test_method_not_allowed_without_auth(self):
        r = self.srv.request("PATCH", "/v2/")
        self.assertError(r, 405, "UNSUPPORTED")
        self.assertEqual(r.header("Allow"), "GET, HEAD")


if __name__ == "__main__":
    main()
