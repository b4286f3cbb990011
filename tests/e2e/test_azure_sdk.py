#!/usr/bin/env python3
"""The Azure SDK for JavaScript (@azure/container-registry from npm, unmodified) against
Berth over HTTPS: ContainerRegistryContentClient authenticates with an OIDC ID token
(exchanged at /oauth2/exchange for a refresh token, then /oauth2/token for an access
token) and reads a manifest and its config blob; ContainerRegistryClient lists repositories,
tags and manifest properties through ACR's metadata API (/acr/v1), updates their changeable
attributes and deletes a repository. Certificates are made by the test."""
import base64
import hashlib
import json
import os
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (BerthTestCase, Server, index_manifest, main, mkdtemp, push_image,  # noqa: E402
                       push_manifest)
from test_auth import mint, rsa_issuer  # noqa: E402

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
ISSUER = "https://login.e2e.test/tenant"
AUDIENCE = "https://containerregistry.azure.net"


def make_certs(d):
    """A CA and a server certificate for 127.0.0.1 and registry.test, signed by it."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Berth e2e CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=registry.test")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:registry.test,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    return {k: os.path.join(d, k) for k in ("ca.crt", "server.crt", "server.key")}


class AzureSdkTest(BerthTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@azure", "container-registry")):
            raise AssertionError("the Azure SDK is not installed: run make deps (scripts/install-npm.sh)")
        d = mkdtemp()
        cls.certs = make_certs(d)
        cls.key, jwks = rsa_issuer()
        jwks_path = os.path.join(d, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump(jwks, f)
        config = ("tls:\n  certificates:\n    - cert: %s\n      key: %s\n"
                  "auth:\n  oidc:\n    - issuer: %s\n      audience: %s\n      jwks_file: %s\n" % (
                      cls.certs["server.crt"], cls.certs["server.key"], ISSUER, AUDIENCE, jwks_path))
        cls.srv = Server(auth=True, config=config,
                         tls=ssl.create_default_context(cafile=cls.certs["ca.crt"])).start()
        cls.admin = cls.srv.admin()

    def id_token(self, sub):
        now = int(time.time())
        return mint(self.key, {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 600})

    def node(self, script, token, **env_vars):
        env = dict(os.environ, REGISTRY_ENDPOINT="https://127.0.0.1:%d" % self.srv.port,
                   ID_TOKEN=token, AUDIENCE=AUDIENCE, NODE_EXTRA_CA_CERTS=self.certs["ca.crt"], **env_vars)
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env.pop(k, None)
        return subprocess.run(["node", os.path.join(JS_DIR, script)], cwd=JS_DIR, env=env,
                              capture_output=True, timeout=120)

    def read(self, repository, tag, token):
        return self.node("acr_read.mjs", token, REPOSITORY=repository, TAG=tag)

    def test_content_client_reads_manifest_and_blob_through_the_exchange(self):
        # The challenge points at the name and scheme the client used.
        r = self.srv.get("/v2/")
        self.assertEqual(r.status, 401)
        self.assertIn('realm="https://127.0.0.1:%d/oauth2/token"' % self.srv.port,
                      r.header("WWW-Authenticate"))
        img = push_image(self.admin, "sdk/app", "v1")
        self.assertStatus(self.admin.json("POST", "/api/v1/federated-identities", {
            "name": "azure-workload", "issuer": ISSUER, "claim": "sub", "value": "workload-1"}), 201)
        self.assertStatus(self.admin.json("POST", "/api/v1/role-assignments", {
            "identity": "azure-workload", "role": "pull", "scope": "sdk/*"}), 201)
        p = self.read("sdk/app", "v1", self.id_token("workload-1"))
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace")[-3000:])
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(out["manifestDigest"], img.digest)
        self.assertEqual(base64.b64decode(out["configBytes"]), img.config)
        self.assertEqual(out["configSha256"], hashlib.sha256(img.config).hexdigest())
        log = self.srv.log_text()
        self.assertIn("/oauth2/exchange", log)
        # A subject without a federated identity, and one without a role there: refused.
        p = self.read("sdk/app", "v1", self.id_token("stranger"))
        self.assertNotEqual(p.returncode, 0)
        push_image(self.admin, "private/app", "v1")
        p = self.read("private/app", "v1", self.id_token("workload-1"))
        self.assertNotEqual(p.returncode, 0)

    def test_registry_client_lists_properties_and_updates_attributes(self):
        t0 = time.time()
        amd = push_image(self.admin, "meta/app", "v1", arch="amd64", n_layers=2)
        arm = push_image(self.admin, "meta/app", "v2", arch="arm64")
        mt, index = index_manifest([(amd, "amd64"), (arm, "arm64")])
        push_manifest(self.admin, "meta/app", "multi", index, mt)
        push_manifest(self.admin, "meta/app", "stable", amd.manifest, amd.media_type)
        push_image(self.admin, "meta/doomed", "x")
        push_image(self.admin, "elsewhere/app", "x")  # not the workload's: never listed
        self.assertStatus(self.admin.json("POST", "/api/v1/federated-identities", {
            "name": "meta-workload", "issuer": ISSUER, "claim": "sub", "value": "workload-meta"}), 201)
        self.assertStatus(self.admin.json("POST", "/api/v1/role-assignments", {
            "identity": "meta-workload", "role": "owner", "scope": "meta/*"}), 201)
        p = self.node("acr_metadata.mjs", self.id_token("workload-meta"), REPOSITORY="meta/app", TAG="v1",
                      INDEX_TAG="multi", DOOMED="meta/doomed")
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace")[-3000:])
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])

        def when(text):
            t = time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            self.assertTrue(t0 - 2 <= t <= time.time() + 2, text)

        # Repository names, one per page, filtered to what the workload may see.
        self.assertEqual(out["repositoryPages"], [["meta/app"], ["meta/doomed"]])
        repo = out["repository"]
        self.assertEqual(repo["name"], "meta/app")
        self.assertEqual(repo["registryLoginServer"], "127.0.0.1:%d" % self.srv.port)
        self.assertEqual((repo["manifestCount"], repo["tagCount"]), (3, 4))
        self.assertEqual((repo["canDelete"], repo["canWrite"], repo["canList"], repo["canRead"]),
                         (True, True, True, True))
        when(repo["createdOn"])
        when(repo["lastUpdatedOn"])
        # Manifests, last updated first.
        self.assertEqual(sorted(m["digest"] for m in out["manifests"]),
                         sorted([amd.digest, arm.digest, hashlib_digest(index)]))
        updated = [m["lastUpdatedOn"] for m in out["manifests"]]
        self.assertEqual(updated, sorted(updated, reverse=True))
        m = out["manifest"]
        self.assertEqual(m["digest"], amd.digest)
        self.assertEqual(m["architecture"], "amd64")
        self.assertEqual(m["operatingSystem"], "linux")
        self.assertEqual(m["sizeInBytes"], len(amd.manifest) + len(amd.config) + sum(map(len, amd.layers)))
        self.assertEqual(sorted(m["tags"]), ["stable", "v1"])
        self.assertEqual(m["repositoryName"], "meta/app")
        # This SDK version lists the repository's tags (it sends no digest filter), oldest first.
        self.assertEqual(sorted(t["name"] for t in out["tags"]), ["multi", "stable", "v1", "v2"])
        updated = [t["lastUpdatedOn"] for t in out["tags"]]
        self.assertEqual(updated, sorted(updated))
        self.assertEqual(out["tag"]["digest"], amd.digest)
        self.assertEqual(out["tag"]["name"], "v1")
        rel = out["index"]["relatedArtifacts"]
        self.assertEqual([(r["digest"], r["architecture"], r["operatingSystem"]) for r in rel],
                         [(amd.digest, "amd64", "linux"), (arm.digest, "arm64", "linux")])
        # Updates come back and are stored (read again, and through the REST API).
        self.assertEqual((out["updatedTag"]["canDelete"], out["updatedTag"]["canWrite"],
                          out["updatedTag"]["canRead"]), (False, False, True))
        self.assertEqual((out["updatedManifest"]["canRead"], out["updatedManifest"]["canDelete"]), (False, True))
        self.assertEqual((out["updatedRepository"]["canList"], out["updatedRepository"]["canWrite"]), (False, True))
        self.assertFalse(out["reread"]["tag"]["canDelete"])
        self.assertFalse(out["reread"]["manifest"]["canRead"])
        self.assertFalse(out["reread"]["repository"]["canList"])
        attrs = self.admin.get("/acr/v1/meta/app/_tags/v1").json()["tag"]["changeableAttributes"]
        self.assertEqual(attrs, {"deleteEnabled": False, "writeEnabled": False, "readEnabled": True,
                                 "listEnabled": True})
        # The deleted repository is gone, with its content; meta/app (canList false now) is
        # hidden from the listing.
        self.assertEqual(out["afterDelete"], [])
        self.assertEqual(self.admin.get("/v2/meta/doomed/manifests/x").status, 404)


def hashlib_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


if __name__ == "__main__":
    main()
