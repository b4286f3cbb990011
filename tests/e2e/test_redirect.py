#!/usr/bin/env python3
"""storage.redirect with real clients: a blob GET answers 307 to a presigned URL of the
bucket (S3, path style and virtual-host style, on s3rver) or a SAS URL of the container
(Azure, on Azurite), and skopeo, podman and the Azure SDK for JavaScript follow it: the
image arrives whole while Berth serves none of its blobs itself. The S3 server checks every
SigV4 signature with the AWS SDK's signer (engines.S3rver); Azurite checks its SAS.

One Berth (HTTPS, OIDC for the SDK) and one storage server per class."""
import json
import os
import ssl
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (ContainerTools, Server, build_test_images, digest, layout_blobs,  # noqa: E402
                       main, mkdtemp, oci_layout_manifest, rand_bytes, read_layout_blob)
from engines import Azurite, S3rver, require  # noqa: E402
from test_auth import mint, rsa_issuer  # noqa: E402
from test_azure_sdk import AUDIENCE, ISSUER, JS_DIR, make_certs  # noqa: E402

PW = Server.ADMIN_PASSWORD
CREDS = "admin:" + PW


def blob_key(d):
    alg, hexd = d.split(":", 1)
    return "blobs/%s/%s/%s" % (alg, hexd[:2], hexd)


class RedirectCase:
    """What every store must show; a unittest.TestCase that mixes it in names the store
    (make_engine)."""

    @classmethod
    def make_engine(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.tampered = []  # storage URLs a test made invalid on purpose (their hex)
        cls.engine = require(cls.make_engine())
        d = mkdtemp()
        cls.certs = make_certs(d)
        cls.key, jwks = rsa_issuer()
        jwks_path = os.path.join(d, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump(jwks, f)
        config = (cls.engine.config().replace("storage:\n", "storage:\n  redirect: true\n", 1)
                  + "tls:\n  certificates:\n    - cert: %s\n      key: %s\n" % (cls.certs["server.crt"],
                                                                                cls.certs["server.key"])
                  + "auth:\n  oidc:\n    - issuer: %s\n      audience: %s\n      jwks_file: %s\n" % (
                      ISSUER, AUDIENCE, jwks_path))
        cls.srv = Server(config=config, auth=True, env=cls.engine.env(),
                         tls=ssl.create_default_context(cafile=cls.certs["ca.crt"])).start()
        cls.admin = cls.srv.admin()
        cls.images = build_test_images()
        cls.layout = cls.images["single"]
        cls.manifest_digest, _, manifest = oci_layout_manifest(cls.layout)
        cls.manifest = json.loads(manifest)
        cls.blobs = [cls.manifest["config"]["digest"]] + [l["digest"] for l in cls.manifest["layers"]]

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.engine.stop()

    # -- helpers

    def tools(self):
        return ContainerTools(registry=self.srv.address)

    def push(self, repo):
        """The test image, pushed with skopeo to `repo`:v1."""
        self.tools().skopeo("copy", "--dest-tls-verify=false", "--dest-creds", CREDS, "--preserve-digests",
                            "oci:%s:latest" % self.layout, "docker://%s/%s:v1" % (self.srv.address, repo))

    def assertRedirected(self, repo, digests):
        """Every GET of these blobs in `repo` was answered 307 (none served by Berth), at
        least one per blob."""
        deadline = time.monotonic() + 5  # the access log is written asynchronously
        while True:
            records = [r for r in self.srv.log_records("request") if r.get("method") == "GET"]
            # (the Azure SDK sends "/v2/redir%2Fsdk/blobs/sha256%3A...")
            got = {d: [r["status"] for r in records
                       if urllib.parse.unquote(r["path"].split("?")[0]) == "/v2/%s/blobs/%s" % (repo, d)]
                   for d in digests}
            if all(got.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for d, statuses in got.items():
            self.assertTrue(statuses, "no GET of %s in %s" % (d, repo))
            self.assertEqual(set(statuses), {307}, "GET /v2/%s/blobs/%s answered %s" % (repo, d, statuses))
        self.assertFetchedFromStorage(digests)

    def assertFetchedFromStorage(self, digests):
        """Stores that log what they served check here that the client fetched the blobs."""

    def storage_url(self, url):
        """Fetches a storage URL without credentials: (status, body)."""
        try:
            with urllib.request.urlopen(url, timeout=30) as f:
                return f.status, f.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # -- the tests

    def test_blob_get_answers_307_to_a_signed_storage_url(self):
        data = rand_bytes(300 * 1024, seed=11)
        d = digest(data)
        r = self.admin.request("POST", "/v2/redir/raw/blobs/uploads/?digest=" + d, body=data,
                               headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r.body)
        r = self.admin.get("/v2/redir/raw/blobs/" + d)
        self.assertEqual(r.status, 307, r.body)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        url = r.header("Location")
        self.assertTrue(url.startswith(self.storage_prefix()), url)
        self.assertIn("/" + blob_key(d) + "?", url)
        status, body = self.storage_url(url)  # no credentials: the URL is signed
        self.assertEqual((status, digest(body)), (200, d))
        # The storage checks the signature: the same URL naming another blob is refused.
        other = url.replace(d.split(":")[1], d.split(":")[1][::-1])
        self.tampered.append(d.split(":")[1][::-1])
        self.assertEqual(self.storage_url(other)[0], 403, other)
        # The node still checks the repository and the caller before redirecting.
        self.assertEqual(self.admin.get("/v2/other/raw/blobs/" + d).status, 404)
        self.assertEqual(self.srv.get("/v2/redir/raw/blobs/" + d).status, 401)
        self.assertFetchedFromStorage([d])

    def test_skopeo_pull_follows_the_redirect(self):
        self.push("redir/skopeo")
        out = os.path.join(mkdtemp(), "layout")
        self.pull_tools().skopeo("copy", "--src-tls-verify=false", "--src-creds", CREDS, "--preserve-digests",
                                 "docker://%s/redir/skopeo:v1" % self.srv.address, "oci:%s:latest" % out)
        self.assertEqual(layout_blobs(self.layout), layout_blobs(out))
        self.assertEqual(oci_layout_manifest(out)[0], self.manifest_digest)
        self.assertRedirected("redir/skopeo", self.blobs)

    def storage_prefix(self):
        return self.engine.endpoint

    def pull_tools(self):
        return self.tools()


class OtherClientsCase(RedirectCase):
    """podman and the Azure SDK, for the stores whose URLs they can reach by name."""

    def test_podman_pull_follows_the_redirect(self):
        self.push("redir/podman")
        t = self.tools()
        name = "%s/redir/podman:v1" % self.srv.address
        t.podman("pull", "--tls-verify=false", "--creds", CREDS, name)
        info = json.loads(t.podman("image", "inspect", name).stdout)[0]
        config = json.loads(read_layout_blob(self.layout, self.blobs[0]))
        self.assertEqual(info["Id"], self.blobs[0].split(":")[1])
        self.assertEqual(info["Digest"], self.manifest_digest)
        # the layers podman unpacked are the image's (their uncompressed digests)
        self.assertEqual(info["RootFS"]["Layers"], config["rootfs"]["diff_ids"])
        self.assertRedirected("redir/podman", self.blobs)

    def test_azure_sdk_download_blob_follows_the_redirect(self):
        self.push("redir/sdk")
        self.assertEqual(self.admin.json("POST", "/api/v1/federated-identities", {
            "name": "redirect-workload", "issuer": ISSUER, "claim": "sub", "value": "redirect-1"}).status, 201)
        self.assertEqual(self.admin.json("POST", "/api/v1/role-assignments", {
            "identity": "redirect-workload", "role": "pull", "scope": "redir/*"}).status, 201)
        now = int(time.time())
        token = mint(self.key, {"iss": ISSUER, "aud": AUDIENCE, "sub": "redirect-1", "iat": now, "exp": now + 600})
        layer = self.manifest["layers"][0]
        env = dict(os.environ, REGISTRY_ENDPOINT="https://%s" % self.srv.address, ID_TOKEN=token,
                   AUDIENCE=AUDIENCE, NODE_EXTRA_CA_CERTS=self.certs["ca.crt"], REPOSITORY="redir/sdk",
                   TAG="v1", BLOB=layer["digest"], STORAGE_OVER_HTTP="1")
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env.pop(k, None)
        p = subprocess.run(["node", os.path.join(JS_DIR, "acr_read.mjs")], cwd=JS_DIR, env=env,
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace")[-3000:])
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(out["manifestDigest"], self.manifest_digest)
        self.assertEqual("sha256:" + out["configSha256"], self.blobs[0])
        self.assertEqual((out["blobSize"], "sha256:" + out["blobSha256"]), (layer["size"], layer["digest"]))
        self.assertRedirected("redir/sdk", self.blobs)


class S3Checks:
    """What the SigV4-checking front of s3rver saw during the test."""

    def setUp(self):
        super().setUp()
        self.checks_before = len(self.engine.signature_checks())

    def assertFetchedFromStorage(self, digests):
        checks = self.engine.signature_checks()[self.checks_before:]
        for d in digests:
            gets = [c for c in checks if c["method"] == "GET" and c["path"].endswith("/" + blob_key(d))]
            self.assertTrue(gets, "the storage served no GET of %s" % d)
            self.assertTrue(any(c["ok"] and c["auth"] == "query" for c in gets), gets)
        refused = [c for c in checks if not c["ok"] and not any(c["path"].endswith(t) for t in self.tampered)]
        self.assertEqual(refused, [], "requests whose signature did not match")


class S3PathStyleRedirectTest(S3Checks, OtherClientsCase, unittest.TestCase):
    @classmethod
    def make_engine(cls):
        return S3rver()


class AzureRedirectTest(OtherClientsCase, unittest.TestCase):
    @classmethod
    def make_engine(cls):
        return Azurite()


class S3VirtualHostRedirectTest(S3Checks, RedirectCase, unittest.TestCase):
    """storage.s3.path_style: false: Berth's own requests and the URLs it hands out name the
    bucket in the host (registry.s3.localhost:PORT). Berth's libcurl resolves *.localhost;
    Python's and Go's resolvers do not, so urllib and skopeo reach that host through the
    front as their HTTP proxy, as a client reaches S3 by DNS."""

    @classmethod
    def make_engine(cls):
        return S3rver(virtual_host=True)

    def storage_prefix(self):
        return "http://registry.s3.localhost:%d/" % self.engine.port

    def storage_url(self, url):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": self.engine.proxy}))
        try:
            with opener.open(url, timeout=30) as f:
                return f.status, f.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def pull_tools(self):
        t = self.tools()
        t.env.update(HTTP_PROXY=self.engine.proxy, http_proxy=self.engine.proxy, NO_PROXY="127.0.0.1",
                     no_proxy="127.0.0.1")
        return t

    def test_berth_requests_name_the_bucket_in_the_host(self):
        self.push("redir/vhost")
        host = "registry.s3.localhost:%d" % self.engine.port
        mine = [c for c in self.engine.signature_checks() if c["auth"] == "header"]
        self.assertTrue(mine)
        self.assertEqual({c["host"] for c in mine}, {host})
        for d in self.blobs:  # written under the key, not /registry/key
            self.assertTrue(any(c["method"] in ("PUT", "HEAD") and c["path"] == "/" + blob_key(d)
                                for c in mine), d)


if __name__ == "__main__":
    main()
