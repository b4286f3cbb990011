#!/usr/bin/env python3
"""Real clients against Berth: skopeo (copy both ways, --all for a multi-arch index,
docker format, registry-to-registry with mount, inspect, list-tags, delete), buildah
(push, pull) and podman (pull, image inspect). Images are built locally once per machine
(berthtest.build_test_images); nothing touches the network."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (ACCEPT_MANIFESTS, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST,  # noqa: E402
                       BerthTestCase, ContainerTools, build_test_images, digest, layout_blobs,
                       main, mkdtemp, oci_layout_manifest, read_layout_blob)


class ClientsTest(BerthTestCase):
    @classmethod
    def setUpClass(cls):
        cls.images = build_test_images()
        super().setUpClass()
        cls.reg = cls.srv.address
        cls.tools = ContainerTools(registry=cls.reg)
        cls.single_digest, _, cls.single_manifest = oci_layout_manifest(cls.images["single"])
        cls.multi_digest, _, cls.multi_index = oci_layout_manifest(cls.images["multi"])

    def ref(self, repo_tag):
        return "docker://%s/%s" % (self.reg, repo_tag)

    def skopeo_push(self, layout, repo_tag, *extra):
        self.tools.skopeo("copy", "--dest-tls-verify=false", "--preserve-digests", *extra,
                          "oci:%s:latest" % layout, self.ref(repo_tag))

    def skopeo_pull(self, repo_tag, *extra):
        out = os.path.join(mkdtemp(), "layout")
        self.tools.skopeo("copy", "--src-tls-verify=false", "--preserve-digests", *extra,
                          self.ref(repo_tag), "oci:%s:latest" % out)
        return out

    def raw_manifest(self, repo, ref):
        r = self.srv.get("/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": ACCEPT_MANIFESTS})
        self.assertStatus(r, 200)
        return r

    def assertSameLayout(self, src, out):
        src_blobs, out_blobs = layout_blobs(src), layout_blobs(out)
        self.assertEqual(sorted(src_blobs), sorted(out_blobs), "blob sets differ")
        for d, data in src_blobs.items():
            self.assertEqual(out_blobs[d], data, "blob %s differs" % d)
            self.assertEqual(digest(data, d.split(":")[0]), d)
        self.assertEqual(oci_layout_manifest(src)[0], oci_layout_manifest(out)[0])

    def test_skopeo_roundtrip(self):
        src = self.images["single"]
        self.skopeo_push(src, "clients/single:v1")
        r = self.raw_manifest("clients/single", "v1")
        self.assertEqual(r.body, self.single_manifest)
        self.assertEqual(r.header("Content-Type"), OCI_MANIFEST)
        self.assertEqual(r.header("Docker-Content-Digest"), self.single_digest)
        self.assertSameLayout(src, self.skopeo_pull("clients/single:v1"))

    def test_skopeo_copy_all_index(self):
        src = self.images["multi"]
        self.skopeo_push(src, "clients/multi:latest", "--all")
        r = self.raw_manifest("clients/multi", "latest")
        self.assertEqual(r.body, self.multi_index)
        self.assertEqual(r.header("Content-Type"), OCI_INDEX)
        self.assertEqual(r.header("Docker-Content-Digest"), self.multi_digest)
        children = json.loads(self.multi_index)["manifests"]
        self.assertEqual(sorted(c["platform"]["architecture"] for c in children), ["amd64", "arm64"])
        for c in children:
            self.assertEqual(self.raw_manifest("clients/multi", c["digest"]).header(
                "Docker-Content-Digest"), c["digest"])
        out = self.skopeo_pull("clients/multi:latest", "--all")
        self.assertSameLayout(src, out)
        self.assertEqual(oci_layout_manifest(out)[0], self.multi_digest)

    def test_skopeo_inspect(self):
        self.skopeo_push(self.images["single"], "clients/inspect:v1")
        p = self.tools.skopeo("inspect", "--tls-verify=false", self.ref("clients/inspect:v1"))
        info = json.loads(p.stdout)
        self.assertEqual(info["Digest"], self.single_digest)
        self.assertEqual(info["Architecture"], "amd64")
        self.assertEqual(info["Os"], "linux")
        m = json.loads(self.single_manifest)
        self.assertEqual(info["Layers"], [l["digest"] for l in m["layers"]])
        p = self.tools.skopeo("inspect", "--tls-verify=false", "--raw", self.ref("clients/inspect:v1"))
        self.assertEqual(p.stdout, self.single_manifest)
        p = self.tools.skopeo("inspect", "--tls-verify=false", "--config", "--raw",
                              self.ref("clients/inspect:v1"))
        self.assertEqual(digest(p.stdout), m["config"]["digest"])

    def test_skopeo_list_tags(self):
        self.skopeo_push(self.images["single"], "clients/tags:v1")
        for t in ("v2", "a-tag", "v10"):
            self.tools.skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                              "--preserve-digests", self.ref("clients/tags:v1"), self.ref("clients/tags:" + t))
        p = self.tools.skopeo("list-tags", "--tls-verify=false", self.ref("clients/tags"))
        info = json.loads(p.stdout)
        self.assertEqual(info["Repository"], "%s/clients/tags" % self.reg)
        self.assertEqual(sorted(info["Tags"]), sorted(["v1", "v2", "a-tag", "v10"]))

    def test_skopeo_delete(self):
        self.skopeo_push(self.images["single"], "clients/del:gone")
        self.tools.skopeo("delete", "--tls-verify=false", self.ref("clients/del:gone"))
        for ref in ("gone", self.single_digest):
            r = self.srv.get("/v2/clients/del/manifests/%s" % ref, headers={"Accept": ACCEPT_MANIFESTS})
            self.assertError(r, 404, "MANIFEST_UNKNOWN")
        p = self.tools.skopeo("inspect", "--tls-verify=false", self.ref("clients/del:gone"), check=False)
        self.assertNotEqual(p.returncode, 0)

    def test_skopeo_docker_format(self):
        self.tools.skopeo("copy", "--dest-tls-verify=false", "--format", "v2s2",
                          "oci:%s:latest" % self.images["single"], self.ref("clients/docker:v1"))
        r = self.raw_manifest("clients/docker", "v1")
        self.assertEqual(r.header("Content-Type"), DOCKER_MANIFEST)
        self.assertEqual(json.loads(r.body)["mediaType"], DOCKER_MANIFEST)
        out = os.path.join(mkdtemp(), "layout")
        self.tools.skopeo("copy", "--src-tls-verify=false", "--format", "oci",
                          self.ref("clients/docker:v1"), "oci:%s:latest" % out)
        _, mt, body = oci_layout_manifest(out)
        self.assertEqual(mt, OCI_MANIFEST)
        src_layers = [l["digest"] for l in json.loads(self.single_manifest)["layers"]]
        self.assertEqual([l["digest"] for l in json.loads(body)["layers"]], src_layers)

    def test_skopeo_registry_to_registry_mount(self):
        self.skopeo_push(self.images["single"], "clients/origin:v1")
        self.tools.skopeo("copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests",
                          self.ref("clients/origin:v1"), self.ref("clients/mounted:v1"))
        r = self.raw_manifest("clients/mounted", "v1")
        self.assertEqual(r.body, self.single_manifest)
        for d, data in layout_blobs(self.images["single"]).items():
            b = self.srv.get("/v2/clients/mounted/blobs/%s" % d)
            if d == self.single_digest:
                continue
            self.assertStatus(b, 200, d)
            self.assertEqual(b.body, data)

    def test_buildah_push_pull(self):
        config_digest = json.loads(self.single_manifest)["config"]["digest"]
        t = ContainerTools(registry=self.reg)
        t.buildah("pull", "oci:%s:latest" % self.images["single"])
        t.buildah("tag", config_digest.split(":")[1], "%s/clients/buildah:latest" % self.reg)
        t.buildah("push", "--tls-verify=false", "%s/clients/buildah:latest" % self.reg,
                  self.ref("clients/buildah:latest"))
        r = self.raw_manifest("clients/buildah", "latest")
        m = json.loads(r.body)
        for desc in [m["config"]] + m["layers"]:
            b = self.srv.get("/v2/clients/buildah/blobs/%s" % desc["digest"])
            self.assertStatus(b, 200)
            self.assertEqual(digest(b.body), desc["digest"])
            self.assertEqual(len(b.body), desc["size"])
        t2 = ContainerTools(registry=self.reg)
        t2.buildah("pull", "--tls-verify=false", "%s/clients/buildah:latest" % self.reg)
        p = t2.buildah("images", "--json", "--no-trunc")
        images = json.loads(p.stdout)
        ids = [i.get("id", "").split(":")[-1] for i in images]
        self.assertIn(config_digest.split(":")[1], ids, p.stdout[:2000])
        c = t2.buildah("from", "--pull-never", "%s/clients/buildah:latest" % self.reg).stdout.decode().strip()
        info = json.loads(t2.buildah("inspect", c).stdout)
        self.assertEqual(info["FromImageID"], config_digest.split(":")[1])

    def test_podman_pull(self):
        self.skopeo_push(self.images["single"], "clients/podman:v1")
        config_hex = json.loads(self.single_manifest)["config"]["digest"].split(":")[1]
        t = ContainerTools(registry=self.reg)
        name = "%s/clients/podman:v1" % self.reg
        t.podman("pull", "--tls-verify=false", name)
        info = json.loads(t.podman("image", "inspect", name).stdout)[0]
        self.assertEqual(info["Id"], config_hex)
        self.assertEqual(info["Digest"], self.single_digest)
        self.assertIn("%s/clients/podman@%s" % (self.reg, self.single_digest), info["RepoDigests"])
        self.assertEqual(info["Architecture"], "amd64")
        by_digest = "%s/clients/podman@%s" % (self.reg, self.single_digest)
        t2 = ContainerTools(registry=self.reg)
        t2.podman("pull", "--tls-verify=false", by_digest)
        info = json.loads(t2.podman("image", "inspect", by_digest).stdout)[0]
        self.assertEqual(info["Id"], config_hex)

    def test_podman_pull_arch_from_index(self):
        self.skopeo_push(self.images["multi"], "clients/podmulti:latest", "--all")
        t = ContainerTools(registry=self.reg)
        name = "%s/clients/podmulti:latest" % self.reg
        t.podman("pull", "--tls-verify=false", "--arch", "arm64", name)
        info = json.loads(t.podman("image", "inspect", name).stdout)[0]
        self.assertEqual(info["Architecture"], "arm64")
        children = {c["platform"]["architecture"]: c["digest"]
                    for c in json.loads(self.multi_index)["manifests"]}
        child = json.loads(read_layout_blob(self.images["multi"], children["arm64"]))
        self.assertEqual(info["Id"], child["config"]["digest"].split(":")[1])
        self.assertIn("%s/clients/podmulti@%s" % (self.reg, children["arm64"]), info["RepoDigests"])


if __name__ == "__main__":
    main()
