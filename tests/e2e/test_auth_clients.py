#!/usr/bin/env python3
"""Identity with the real clients: podman login then skopeo/podman push and pull as a
user limited to a namespace; a scope-map token limited to one repository (denied
elsewhere); anonymous pull on and off; `berth login` storing an identity token that
skopeo and the `berth` admin commands then use; buildah push with credentials."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, ContainerTools, Server, berth_bin, build_test_images,  # noqa: E402
                       layout_blobs, main, mkdtemp, oci_layout_manifest)
import subprocess  # noqa: E402


class AuthClientsTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.images = build_test_images()
        cls.srv = Server(auth=True).start()
        cls.reg = cls.srv.address
        cls.admin = cls.srv.admin()

    def tools(self):
        return ContainerTools(registry=self.reg)

    def ref(self, repo_tag):
        return "docker://%s/%s" % (self.reg, repo_tag)

    def api(self, method, path, doc=None, status=None):
        r = self.admin.json(method, "/api/v1" + path, doc)
        if status is not None:
            self.assertStatus(r, status, path)
        return r

    def push(self, tools, repo_tag, *extra, check=True):
        return tools.skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", *extra,
                            "oci:%s:latest" % self.images["single"], self.ref(repo_tag), check=check)

    def pull(self, tools, repo_tag, *extra, check=True):
        out = os.path.join(mkdtemp(), "layout")
        p = tools.skopeo("copy", "--src-tls-verify=false", *extra, self.ref(repo_tag),
                         "oci:%s:latest" % out, check=check)
        return out if p.returncode == 0 else None

    def assertSameImage(self, out):
        self.assertEqual(oci_layout_manifest(self.images["single"])[0], oci_layout_manifest(out)[0])
        self.assertEqual(layout_blobs(self.images["single"]), layout_blobs(out))

    def berth(self, *args, check=True, env=None):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([berth_bin()] + list(args), capture_output=True, timeout=60, env=e,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError("berth %s exited %d: %s" % (" ".join(args), p.returncode,
                                                           p.stderr.decode(errors="replace")))
        return p

    def test_podman_login_then_push_and_pull_within_the_users_namespace(self):
        self.api("POST", "/users", {"name": "dev", "password": "dev-password"}, status=201)
        self.api("POST", "/role-assignments", {"identity": "dev", "role": "push", "scope": "team/*"},
                 status=201)
        t = self.tools()
        t.podman("login", "--tls-verify=false", "-u", "dev", "-p", "dev-password", self.reg)
        self.push(t, "team/app:v1")
        self.assertSameImage(self.pull(t, "team/app:v1"))
        t.podman("pull", "--tls-verify=false", "%s/team/app:v1" % self.reg)
        p = self.push(t, "other/app:v1", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr.decode(errors="replace"), r"(?i)denied|unauthorized")
        p = t.podman("login", "--tls-verify=false", "-u", "dev", "-p", "wrong-password", self.reg,
                     check=False)
        self.assertNotEqual(p.returncode, 0)

    def test_scope_map_token_limited_to_one_repository(self):
        self.api("POST", "/scope-maps", {"name": "ci-app", "repositories": [
            {"repository": "ci/app", "actions": ["content/read", "content/write"]}]}, status=201)
        self.api("POST", "/tokens", {"name": "ci-token", "scopeMap": "ci-app"}, status=201)
        pw = self.api("POST", "/tokens/ci-token/credentials", {"name": "password1"}, status=201).json()["value"]
        t = self.tools()
        creds = "ci-token:" + pw
        self.push(t, "ci/app:v1", "--dest-creds", creds)
        self.assertSameImage(self.pull(t, "ci/app:v1", "--src-creds", creds))
        self.assertNotEqual(self.push(t, "ci/other:v1", "--dest-creds", creds, check=False).returncode, 0)
        self.push(t, "ci/private:v1", "--dest-creds", "admin:" + self.srv.ADMIN_PASSWORD)
        self.assertIsNone(self.pull(t, "ci/private:v1", "--src-creds", creds, check=False))

    def test_anonymous_pull_on_and_off(self):
        t = self.tools()
        self.push(t, "public/app:v1", "--dest-creds", "admin:" + self.srv.ADMIN_PASSWORD)
        self.assertIsNone(self.pull(t, "public/app:v1", "--src-no-creds", check=False))
        self.api("PATCH", "/settings", {"anonymousPullEnabled": True}, status=200)
        try:
            self.assertSameImage(self.pull(t, "public/app:v1", "--src-no-creds"))
            self.assertNotEqual(self.push(t, "public/app:v2", "--dest-no-creds", check=False).returncode, 0)
        finally:
            self.api("PATCH", "/settings", {"anonymousPullEnabled": False}, status=200)
        self.assertIsNone(self.pull(t, "public/app:v1", "--src-no-creds", check=False))

    def test_berth_login_identity_token_for_skopeo_and_cli(self):
        t = self.tools()
        url = "http://" + self.reg
        p = subprocess.run([berth_bin(), "login", url, "-u", "admin", "--password-stdin", "--authfile", t.auth],
                           input=self.srv.ADMIN_PASSWORD.encode(), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(t.auth) as f:
            entry = json.load(f)["auths"][self.reg]
        self.assertIn("identitytoken", entry)
        self.assertNotIn(self.srv.ADMIN_PASSWORD, json.dumps(entry))
        self.assertEqual(os.stat(t.auth).st_mode & 0o777, 0o600)
        # skopeo authenticates with the stored identity token (refresh_token grant).
        self.push(t, "login/app:v1")
        self.assertSameImage(self.pull(t, "login/app:v1"))
        # The admin commands use it too.
        p = self.berth("user", "create", "cli-user", "--new-password", "cli-user-password",
                       "-r", url, "--authfile", t.auth)
        self.assertEqual(json.loads(p.stdout)["name"], "cli-user")
        self.berth("role", "create", "--identity", "cli-user", "--role", "pull", "--scope", "login/*",
                   "-r", url, "--authfile", t.auth)
        users = json.loads(self.berth("user", "list", "-r", url, "--authfile", t.auth).stdout)
        self.assertIn("cli-user", [u["name"] for u in (users["users"] if isinstance(users, dict) else users)])
        t2 = self.tools()
        self.assertSameImage(self.pull(t2, "login/app:v1", "--src-creds", "cli-user:cli-user-password"))
        p = self.berth("user", "list", "-r", url, "-u", "cli-user", "-p", "cli-user-password", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("owner", p.stderr.decode())

    def test_buildah_push_with_credentials(self):
        t = self.tools()
        t.buildah("pull", "oci:%s:latest" % self.images["single"])
        img = t.buildah("images", "-q").stdout.decode().split()[0]
        p = t.buildah("push", "--tls-verify=false", "--creds", "admin:wrong-password", img,
                      "docker://%s/bh/app:v1" % self.reg, check=False)
        self.assertNotEqual(p.returncode, 0)
        t.buildah("push", "--tls-verify=false", "--creds", "admin:" + self.srv.ADMIN_PASSWORD, img,
                  "docker://%s/bh/app:v1" % self.reg)
        r = self.admin.get("/v2/bh/app/tags/list")
        self.assertEqual(r.json()["tags"], ["v1"])


if __name__ == "__main__":
    main()
