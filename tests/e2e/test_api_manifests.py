#!/usr/bin/env python3
"""Manifest API, byte-exact against the OCI distribution spec 1.1: PUT/GET/HEAD/DELETE by
tag and digest for OCI manifests and indexes, Docker schema 2 manifests and manifest
lists and artifacts; validation errors; size limit; external-URL layers; sha512; the
referrers API and the OCI-Subject header."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berthtest import (ACCEPT_MANIFESTS, DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1,  # noqa: E402
                       DOCKER_SCHEMA1_SIGNED, EMPTY_DIGEST, EMPTY_JSON, OCI_CONFIG, OCI_EMPTY,
                       OCI_INDEX, OCI_LAYER, OCI_LAYER_NONDIST, OCI_MANIFEST, BerthTestCase,
                       descriptor, digest, index_manifest, json_bytes, location_path, main,
                       make_image, push_blob, push_image, push_manifest, put_manifest,
                       rand_bytes, rand_name)


def odd_json(obj):
    """JSON with the keys reversed and odd whitespace, so a server that re-serializes
    instead of storing the bytes gets caught."""
    def enc(o, depth=0):
        pad = "\n" + "\t " * depth
        if isinstance(o, dict):
            items = list(o.items())[::-1]
            return "{" + " ,".join("%s  %s :%s" % (pad, json.dumps(k), enc(v, depth + 1))
                                   for k, v in items) + pad + "}"
        if isinstance(o, list):
            return "[ " + " ,  ".join(enc(v, depth + 1) for v in o) + " ]"
        return json.dumps(o)
    return ("\n  " + enc(obj) + "\n\n").encode()


class ManifestTest(BerthTestCase):
    def mpath(self, repo, ref):
        return "/v2/%s/manifests/%s" % (repo, ref)

    def getm(self, repo, ref, method="GET"):
        return self.srv.request(method, self.mpath(repo, ref), headers={"Accept": ACCEPT_MANIFESTS})

    def assertManifest(self, repo, ref, body, media_type):
        d = digest(body)
        for r in (self.getm(repo, ref),
                  self.srv.get(self.mpath(repo, ref), headers={"Accept": media_type})):
            self.assertStatus(r, 200, "GET manifest %s:%s" % (repo, ref))
            self.assertEqual(r.body, body, "manifest bytes differ from what was pushed")
            self.assertEqual(r.header("Content-Type"), media_type)
            self.assertEqual(r.header("Docker-Content-Digest"), d)
            self.assertEqual(r.header("Content-Length"), str(len(body)))
        raw = self.srv.raw(("HEAD %s HTTP/1.1\r\nHost: x\r\nAccept: %s\r\nConnection: close\r\n\r\n"
                            % (self.mpath(repo, ref), ACCEPT_MANIFESTS)).encode())
        self.assertTrue(raw.startswith(b"HTTP/1.1 200"), raw[:300])
        self.assertEqual(raw.partition(b"\r\n\r\n")[2], b"", "HEAD response carried a body")
        h = self.getm(repo, ref, "HEAD")
        self.assertStatus(h, 200, "HEAD manifest %s:%s" % (repo, ref))
        self.assertEqual(h.header("Content-Type"), media_type)
        self.assertEqual(h.header("Docker-Content-Digest"), d)
        self.assertEqual(h.header("Content-Length"), str(len(body)))

    def put_ok(self, repo, ref, body, media_type):
        r = put_manifest(self.srv, repo, ref, body, media_type)
        self.assertStatus(r, 201, "PUT manifest %s:%s" % (repo, ref))
        d = digest(body)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertTrue(location_path(r.header("Location", "")).endswith(self.mpath(repo, d)), r)
        return r

    def push_blobs(self, repo, image):
        for b in image.blobs():
            push_blob(self.srv, repo, b)

    # -- round trips

    def test_oci_manifest_exact_bytes(self):
        repo = "m/oci"
        img = make_image(n_layers=2)
        self.push_blobs(repo, img)
        body = odd_json(json.loads(img.manifest))
        self.put_ok(repo, "v1", body, OCI_MANIFEST)
        self.assertManifest(repo, "v1", body, OCI_MANIFEST)
        self.assertManifest(repo, digest(body), body, OCI_MANIFEST)

    def test_cached_manifest_response_head_is_exact(self):
        # A cached manifest goes out as prepared header bytes plus the cached body (no
        # header object): the same fields, in the same order, as the other responses,
        # with Connection as an HTTP/1.0 keep-alive and a "Connection: close" ask for.
        repo = "m/raw"
        img = push_image(self.srv, repo, "v1")
        d = img.digest
        self.assertStatus(self.getm(repo, "v1"), 200)  # now cached
        req = "GET %s HTTP/%s\r\nHost: x\r\nAccept: %s\r\nConnection: %s\r\n\r\n"
        raw = self.srv.raw(((req % (self.mpath(repo, "v1"), "1.0", ACCEPT_MANIFESTS, "keep-alive")) +
                            (req % (self.mpath(repo, "v1"), "1.1", ACCEPT_MANIFESTS, "close"))).encode())
        for connection in ("keep-alive", "close"):
            head, _, rest = raw.partition(b"\r\n\r\n")
            self.assertEqual(head.decode(), "\r\n".join([
                "HTTP/1.1 200 OK",
                "Content-Type: " + OCI_MANIFEST,
                "Docker-Content-Digest: " + d,
                'ETag: "%s"' % d,
                "Docker-Distribution-API-Version: registry/2.0",
                "Connection: " + connection,
                "Content-Length: %d" % len(img.manifest)]))
            self.assertEqual(rest[:len(img.manifest)], img.manifest)
            raw = rest[len(img.manifest):]
        self.assertEqual(raw, b"")

    def test_media_type_header_is_case_insensitive(self):
        # RFC 9110: media types are case-insensitive; an oddly cased header still gets the
        # image manifest's validation (a missing layer is refused) and a canonical type.
        repo = "m/case"
        img = make_image()
        odd = "Application/VND.oci.image.manifest.v1+JSON; charset=utf-8"
        r = put_manifest(self.srv, repo, "v1", img.manifest, odd)
        self.assertError(r, 400, "MANIFEST_BLOB_UNKNOWN")
        self.push_blobs(repo, img)
        self.put_ok(repo, "v1", img.manifest, odd)
        self.assertManifest(repo, "v1", img.manifest, OCI_MANIFEST)

    def test_docker_manifest_exact_bytes(self):
        repo = "m/docker"
        img = make_image(docker=True)
        self.push_blobs(repo, img)
        body = odd_json(json.loads(img.manifest))
        self.put_ok(repo, "latest", body, DOCKER_MANIFEST)
        self.assertManifest(repo, "latest", body, DOCKER_MANIFEST)
        self.assertManifest(repo, digest(body), body, DOCKER_MANIFEST)

    def test_oci_index(self):
        repo = "m/index"
        a = push_image(self.srv, repo, arch="amd64")
        b = push_image(self.srv, repo, arch="arm64")
        mt, body = index_manifest([(a, "amd64"), (b, "arm64")],
                                  annotations={"org.example": "x"})
        body = odd_json(json.loads(body))
        self.put_ok(repo, "multi", body, mt)
        self.assertManifest(repo, "multi", body, OCI_INDEX)
        self.assertManifest(repo, digest(body), body, OCI_INDEX)
        self.assertManifest(repo, a.digest, a.manifest, OCI_MANIFEST)

    def test_docker_manifest_list(self):
        repo = "m/list"
        a = push_image(self.srv, repo, docker=True, arch="amd64")
        b = push_image(self.srv, repo, docker=True, arch="arm64")
        mt, body = index_manifest([(a, "amd64"), (b, "arm64")], docker=True)
        self.put_ok(repo, "multi", body, mt)
        self.assertManifest(repo, "multi", body, DOCKER_LIST)
        self.assertManifest(repo, digest(body), body, DOCKER_LIST)

    def test_index_of_index(self):
        repo = "m/nested"
        a = push_image(self.srv, repo)
        _, inner = index_manifest([(a, "amd64")])
        d_inner = push_manifest(self.srv, repo, digest(inner), inner, OCI_INDEX)
        outer = json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX,
                            "manifests": [{"mediaType": OCI_INDEX, "digest": d_inner,
                                           "size": len(inner)}]})
        self.put_ok(repo, "outer", outer, OCI_INDEX)
        self.assertManifest(repo, "outer", outer, OCI_INDEX)

    def test_artifact_with_empty_config(self):
        repo = "m/artifact"
        self.assertEqual(digest(EMPTY_JSON), EMPTY_DIGEST)
        push_blob(self.srv, repo, EMPTY_JSON)
        payload = b"an sbom, say"
        push_blob(self.srv, repo, payload)
        empty = {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2}
        variants = [
            {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "artifactType": "application/vnd.example.sbom.v1", "config": empty,
             "layers": [descriptor("application/vnd.example.sbom.v1+text", payload)]},
            {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "artifactType": "application/vnd.example.nothing.v1", "config": empty,
             "layers": [empty], "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}},
        ]
        for i, m in enumerate(variants):
            body = odd_json(m)
            self.put_ok(repo, "a%d" % i, body, OCI_MANIFEST)
            self.assertManifest(repo, "a%d" % i, body, OCI_MANIFEST)
        r = self.srv.get("/v2/%s/blobs/%s" % (repo, EMPTY_DIGEST))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"{}")

    def test_media_type_from_body_when_no_content_type(self):
        repo = "m/noctype"
        img = make_image()
        self.push_blobs(repo, img)
        r = put_manifest(self.srv, repo, "t", img.manifest, None)
        # Unspecified by the spec: distribution rejects, Berth documents taking the body's
        # mediaType. Either way never 5xx, and if stored, served with that type.
        self.assertStatus(r, (201, 400))
        if r.status == 400:
            self.assertError(r, 400, "MANIFEST_INVALID")
        else:
            self.assertManifest(repo, "t", img.manifest, OCI_MANIFEST)

    def test_media_type_only_in_header(self):
        # "mediaType" is optional in the body of an OCI manifest/index; the header decides.
        repo = "m/noctypefield"
        img = make_image()
        self.push_blobs(repo, img)
        m = json.loads(img.manifest)
        del m["mediaType"]
        body = json_bytes(m)
        self.put_ok(repo, "t", body, OCI_MANIFEST)
        self.assertManifest(repo, "t", body, OCI_MANIFEST)
        idx = json_bytes({"schemaVersion": 2, "manifests": [descriptor(OCI_MANIFEST, body)]})
        self.put_ok(repo, "i", idx, OCI_INDEX)
        self.assertManifest(repo, "i", idx, OCI_INDEX)

    def test_push_by_digest_only(self):
        repo = "m/bydigest"
        img = make_image()
        self.push_blobs(repo, img)
        self.put_ok(repo, img.digest, img.manifest, OCI_MANIFEST)
        self.assertManifest(repo, img.digest, img.manifest, OCI_MANIFEST)
        r = self.srv.get("/v2/%s/tags/list" % repo)
        # A repository with no tag: distribution says NAME_UNKNOWN, others an empty list.
        if r.status == 404:
            self.assertError(r, 404, "NAME_UNKNOWN")
        else:
            self.assertStatus(r, 200)
            self.assertEqual(r.json().get("tags") or [], [])

    def test_put_digest_mismatch(self):
        repo = "m/digestmismatch"
        img = make_image()
        self.push_blobs(repo, img)
        r = put_manifest(self.srv, repo, digest(b"other"), img.manifest, OCI_MANIFEST)
        self.assertError(r, 400, "DIGEST_INVALID", "MANIFEST_INVALID")
        self.assertError(self.getm(repo, img.digest), 404, "MANIFEST_UNKNOWN")

    def test_retag(self):
        repo = "m/retag"
        a = push_image(self.srv, repo, "t")
        b = push_image(self.srv, repo, "t")
        self.assertManifest(repo, "t", b.manifest, OCI_MANIFEST)
        self.assertManifest(repo, a.digest, a.manifest, OCI_MANIFEST)

    def test_reads_follow_writes(self):
        # Every read before a write, so a cache that is not invalidated is caught.
        repo = "m/coherent"
        a = push_image(self.srv, repo, "t")
        for _ in range(3):
            self.assertManifest(repo, "t", a.manifest, OCI_MANIFEST)
        b = push_image(self.srv, repo, "t")
        self.assertManifest(repo, "t", b.manifest, OCI_MANIFEST)
        self.assertStatus(self.srv.delete(self.mpath(repo, "t")), 202)
        self.assertError(self.getm(repo, "t"), 404, "MANIFEST_UNKNOWN")
        self.assertStatus(self.getm(repo, "t", "HEAD"), 404)
        self.assertManifest(repo, b.digest, b.manifest, OCI_MANIFEST)
        self.assertStatus(self.srv.delete(self.mpath(repo, b.digest)), 202)
        self.assertError(self.getm(repo, b.digest), 404, "MANIFEST_UNKNOWN")
        self.assertStatus(self.getm(repo, b.digest, "HEAD"), 404)
        push_manifest(self.srv, repo, "again", b.manifest, OCI_MANIFEST)
        self.assertManifest(repo, b.digest, b.manifest, OCI_MANIFEST)
        self.assertManifest(repo, "again", b.manifest, OCI_MANIFEST)

    def test_same_manifest_twice(self):
        repo = "m/twice"
        a = push_image(self.srv, repo, "one")
        push_manifest(self.srv, repo, "one", a.manifest, OCI_MANIFEST)
        push_manifest(self.srv, repo, "two", a.manifest, OCI_MANIFEST)
        self.assertManifest(repo, "two", a.manifest, OCI_MANIFEST)

    def test_manifest_is_per_repository(self):
        a = push_image(self.srv, "m/own", "t")
        push_image(self.srv, "m/other", "t2")
        self.assertError(self.getm("m/other", a.digest), 404, "MANIFEST_UNKNOWN")

    # -- delete

    def test_delete_by_digest(self):
        repo = "m/del"
        a = push_image(self.srv, repo, "t1")
        push_manifest(self.srv, repo, "t2", a.manifest, OCI_MANIFEST)
        keep = push_image(self.srv, repo, "keep")
        self.assertStatus(self.srv.delete(self.mpath(repo, a.digest)), 202)
        self.assertError(self.getm(repo, a.digest), 404, "MANIFEST_UNKNOWN")
        self.assertStatus(self.getm(repo, a.digest, "HEAD"), 404)
        for t in ("t1", "t2"):
            self.assertError(self.getm(repo, t), 404, "MANIFEST_UNKNOWN")
        r = self.srv.get("/v2/%s/tags/list" % repo)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["tags"], ["keep"])
        self.assertManifest(repo, "keep", keep.manifest, OCI_MANIFEST)
        self.assertError(self.srv.delete(self.mpath(repo, a.digest)), 404, "MANIFEST_UNKNOWN")

    def test_delete_tag_keeps_manifest(self):
        repo = "m/deltag"
        a = push_image(self.srv, repo, "gone")
        push_manifest(self.srv, repo, "stays", a.manifest, OCI_MANIFEST)
        self.assertStatus(self.srv.delete(self.mpath(repo, "gone")), 202)
        self.assertError(self.getm(repo, "gone"), 404, "MANIFEST_UNKNOWN")
        self.assertManifest(repo, a.digest, a.manifest, OCI_MANIFEST)
        self.assertManifest(repo, "stays", a.manifest, OCI_MANIFEST)
        r = self.srv.get("/v2/%s/tags/list" % repo)
        self.assertEqual(r.json()["tags"], ["stays"])

    def test_delete_unknown(self):
        repo = "m/delunknown"
        push_image(self.srv, repo, "x")
        self.assertError(self.srv.delete(self.mpath(repo, digest(b"nothing"))), 404, "MANIFEST_UNKNOWN")
        self.assertError(self.srv.delete(self.mpath(repo, "notatag")), 404, "MANIFEST_UNKNOWN")

    # -- unknown

    def test_unknown_manifest(self):
        repo = "m/unknown"
        push_image(self.srv, repo, "exists")
        for ref in ("nope", digest(b"nope")):
            self.assertError(self.getm(repo, ref), 404, "MANIFEST_UNKNOWN")
            self.assertStatus(self.getm(repo, ref, "HEAD"), 404)
        for ref in ("nope", digest(b"nope")):
            self.assertError(self.getm("m/no/such/repo", ref), 404,
                             "MANIFEST_UNKNOWN", "NAME_UNKNOWN")

    # -- validation errors

    def test_missing_config_blob(self):
        repo = "m/missingcfg"
        img = make_image()
        for l in img.layers:
            push_blob(self.srv, repo, l)
        r = put_manifest(self.srv, repo, "t", img.manifest, OCI_MANIFEST)
        self.assertError(r, 400, "MANIFEST_BLOB_UNKNOWN")
        self.assertError(self.getm(repo, "t"), 404, "MANIFEST_UNKNOWN", "NAME_UNKNOWN")

    def test_missing_layer_blob(self):
        repo = "m/missinglayer"
        img = make_image(n_layers=3)
        push_blob(self.srv, repo, img.config)
        push_blob(self.srv, repo, img.layers[0])
        push_blob(self.srv, repo, img.layers[2])
        r = put_manifest(self.srv, repo, "t", img.manifest, OCI_MANIFEST)
        self.assertError(r, 400, "MANIFEST_BLOB_UNKNOWN")
        self.assertError(self.getm(repo, img.digest), 404, "MANIFEST_UNKNOWN", "NAME_UNKNOWN")

    def test_missing_blob_docker(self):
        repo = "m/missingdocker"
        img = make_image(docker=True)
        push_blob(self.srv, repo, img.config)
        r = put_manifest(self.srv, repo, "t", img.manifest, DOCKER_MANIFEST)
        self.assertError(r, 400, "MANIFEST_BLOB_UNKNOWN")

    def test_blob_only_in_other_repo(self):
        img = make_image()
        self.push_blobs("m/blobowner", img)
        r = put_manifest(self.srv, "m/blobthief", "t", img.manifest, OCI_MANIFEST)
        self.assertError(r, 400, "MANIFEST_BLOB_UNKNOWN")

    def test_blob_only_in_other_existing_repo(self):
        # The repository exists and has the config: the layer, linked only in another
        # repository, is unknown here all the same, and nothing is stored.
        img = make_image()
        self.push_blobs("m/layerowner", img)
        push_blob(self.srv, "m/layerthief", img.config)
        for ref in ("t", img.digest):
            r = put_manifest(self.srv, "m/layerthief", ref, img.manifest, OCI_MANIFEST)
            self.assertError(r, 400, "MANIFEST_BLOB_UNKNOWN")
            self.assertError(self.getm("m/layerthief", ref), 404, "MANIFEST_UNKNOWN")
        self.assertError(self.srv.get("/v2/m/layerthief/blobs/%s" % digest(img.layers[0])), 404, "BLOB_UNKNOWN")

    def test_index_missing_child(self):
        repo = "m/indexmissing"
        a = push_image(self.srv, repo)
        ghost = make_image()
        for docker in (False, True):
            mt, body = index_manifest([(a, "amd64"), (ghost, "arm64")], docker=docker)
            r = put_manifest(self.srv, repo, "t", body, mt)
            self.assertError(r, 400, "MANIFEST_BLOB_UNKNOWN")
        self.assertError(self.getm(repo, "t"), 404, "MANIFEST_UNKNOWN")

    def test_index_child_only_in_other_repo(self):
        a = push_image(self.srv, "m/childowner")
        mt, body = index_manifest([(a, "amd64")])
        push_blob(self.srv, "m/childthief", b"x")
        self.assertError(put_manifest(self.srv, "m/childthief", "t", body, mt), 400,
                         "MANIFEST_BLOB_UNKNOWN")

    def test_bad_json(self):
        repo = "m/badjson"
        push_image(self.srv, repo, "exists")
        for body in (b"{not json", b"", b"[]", b"null", b"42", b'"str"', b"{}",
                     b'{"schemaVersion":2,', b"\xff\xfe{}", b'{"schemaVersion": 2}garbage'):
            r = put_manifest(self.srv, repo, "t", body, OCI_MANIFEST)
            self.assertError(r, 400, "MANIFEST_INVALID")
        self.assertError(self.getm(repo, "t"), 404, "MANIFEST_UNKNOWN")

    def test_deeply_nested_json(self):
        repo = "m/deep"
        for depth in (100, 10000, 200000):
            body = b'{"schemaVersion":2,"mediaType":"%s","config":' % OCI_MANIFEST.encode()
            body += b'{"a":' * depth + b"1" + b"}" * depth + b',"layers":[]}'
            r = put_manifest(self.srv, repo, "t", body, OCI_MANIFEST)
            self.assertError(r, 400, "MANIFEST_INVALID", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN")
            body = b"[" * depth + b"]" * depth
            r = put_manifest(self.srv, repo, "t", body, OCI_MANIFEST)
            self.assertError(r, (400, 413), "MANIFEST_INVALID", "SIZE_INVALID")
        self.srv.assert_alive()

    def test_media_type_mismatch(self):
        repo = "m/mtmismatch"
        img = make_image()
        self.push_blobs(repo, img)
        self.assertError(put_manifest(self.srv, repo, "t", img.manifest, DOCKER_MANIFEST),
                         400, "MANIFEST_INVALID")
        self.assertError(put_manifest(self.srv, repo, "t", img.manifest, OCI_INDEX),
                         400, "MANIFEST_INVALID")
        dimg = make_image(docker=True)
        self.push_blobs(repo, dimg)
        self.assertError(put_manifest(self.srv, repo, "t", dimg.manifest, OCI_MANIFEST),
                         400, "MANIFEST_INVALID")
        self.assertError(self.getm(repo, "t"), 404, "MANIFEST_UNKNOWN")

    def test_schema1_rejected(self):
        repo = "m/schema1"
        push_blob(self.srv, repo, b"layer")
        s1 = json_bytes({"schemaVersion": 1, "name": repo, "tag": "t", "architecture": "amd64",
                         "fsLayers": [{"blobSum": digest(b"layer")}],
                         "history": [{"v1Compatibility": "{\"id\":\"x\"}"}]})
        for mt in (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, None):
            r = put_manifest(self.srv, repo, "t", s1, mt)
            self.assertError(r, 400, "MANIFEST_INVALID")

    def test_malformed_descriptors(self):
        repo = "m/baddesc"
        img = make_image()
        self.push_blobs(repo, img)
        good = json.loads(img.manifest)
        cases = []
        m = json.loads(img.manifest); m["config"]["digest"] = "sha256:bad"; cases.append(m)
        m = json.loads(img.manifest); m["layers"][0]["size"] = -1; cases.append(m)
        m = json.loads(img.manifest); m["layers"][0]["size"] = "12"; cases.append(m)
        m = json.loads(img.manifest); del m["config"]; cases.append(m)
        m = json.loads(img.manifest); m["layers"] = {"not": "an array"}; cases.append(m)
        m = json.loads(img.manifest); del m["layers"][0]["mediaType"]; cases.append(m)
        m = json.loads(img.manifest); m["layers"][0]["digest"] = "nodigest"; cases.append(m)
        for m in cases:
            r = put_manifest(self.srv, repo, "t", json_bytes(m), OCI_MANIFEST)
            self.assertError(r, 400, "MANIFEST_INVALID", "DIGEST_INVALID")
        idx = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": "nope"}
        self.assertError(put_manifest(self.srv, repo, "t", json_bytes(idx), OCI_INDEX), 400,
                         "MANIFEST_INVALID")
        self.assertError(self.getm(repo, "t"), 404, "MANIFEST_UNKNOWN")
        self.assertEqual(good["schemaVersion"], 2)

    def test_too_large(self):
        repo = "m/toolarge"
        img = make_image()
        self.push_blobs(repo, img)
        m = json.loads(img.manifest)
        m["annotations"] = {"pad": "x" * (4 * 1024 * 1024)}
        body = json_bytes(m)
        self.assertGreater(len(body), 4 * 1024 * 1024)
        r = put_manifest(self.srv, repo, "big", body, OCI_MANIFEST)
        self.assertError(r, 413, "SIZE_INVALID", "MANIFEST_INVALID")
        self.assertError(self.getm(repo, "big"), 404, "MANIFEST_UNKNOWN")

    def test_just_under_limit(self):
        repo = "m/underlimit"
        img = make_image()
        self.push_blobs(repo, img)
        m = json.loads(img.manifest)
        m["annotations"] = {"pad": ""}
        base = len(json_bytes(m))
        m["annotations"]["pad"] = "y" * (4 * 1024 * 1024 - base)
        body = json_bytes(m)
        self.assertEqual(len(body), 4 * 1024 * 1024)
        self.put_ok(repo, "big", body, OCI_MANIFEST)
        self.assertManifest(repo, "big", body, OCI_MANIFEST)

    def test_bad_tag_on_put(self):
        repo = "m/badtag"
        img = make_image()
        self.push_blobs(repo, img)
        for tag in ("-lead", ".dot", "a" * 129, "t%21", "t%20x", "%2e%2e"):
            r = put_manifest(self.srv, repo, tag, img.manifest, OCI_MANIFEST)
            # A server may refuse percent-encoding anywhere in the path before routing.
            self.assertError(r, 400, "TAG_INVALID", *(("NAME_INVALID",) if "%" in tag else ()))
        self.put_ok(repo, "a" * 128, img.manifest, OCI_MANIFEST)
        self.put_ok(repo, "_Under.Score-1", img.manifest, OCI_MANIFEST)

    def test_layers_with_external_urls(self):
        repo = "m/urls"
        img = make_image()
        push_blob(self.srv, repo, img.config)
        foreign = rand_bytes(100)  # never pushed: the layer lives at its URL
        m = json.loads(img.manifest)
        m["layers"].append(descriptor(OCI_LAYER_NONDIST, foreign,
                                      urls=["https://example.com/layer.tar.gz"]))
        m["layers"] = m["layers"][1:]
        body = json_bytes(m)
        self.put_ok(repo, "foreign", body, OCI_MANIFEST)
        self.assertManifest(repo, "foreign", body, OCI_MANIFEST)

    def test_sha512_layer_and_reference(self):
        repo = "m/sha512"
        config = json_bytes({"architecture": "amd64", "os": "linux", "n": rand_name()})
        layer = rand_bytes(2000)
        push_blob(self.srv, repo, config, alg="sha512")
        push_blob(self.srv, repo, layer, alg="sha512")
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "config": {"mediaType": OCI_CONFIG, "digest": digest(config, "sha512"), "size": len(config)},
             "layers": [{"mediaType": OCI_LAYER, "digest": digest(layer, "sha512"), "size": len(layer)}]}
        body = json_bytes(m)
        self.put_ok(repo, "t", body, OCI_MANIFEST)
        self.assertManifest(repo, "t", body, OCI_MANIFEST)
        d512 = digest(body, "sha512")
        r = put_manifest(self.srv, repo, d512, body, OCI_MANIFEST)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("Docker-Content-Digest"), d512)
        g = self.getm(repo, d512)
        self.assertStatus(g, 200)
        self.assertEqual(g.body, body)
        self.assertEqual(g.header("Docker-Content-Digest"), d512)


class ReferrersTest(BerthTestCase):
    repo = "ref/app"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv, repo = cls.srv, cls.repo
        push_blob(srv, repo, EMPTY_JSON)
        cls.subject = push_image(srv, repo, "v1")
        cls.payload = b"signature bytes"
        push_blob(srv, repo, cls.payload)

    def artifact(self, subject_digest, subject_size, artifact_type=None, config_type=OCI_EMPTY,
                 annotations=None, subject_type=OCI_MANIFEST):
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
        if artifact_type:
            m["artifactType"] = artifact_type
        if config_type == OCI_EMPTY:
            m["config"] = {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2}
        else:
            cfg = json_bytes({"kind": config_type, "n": rand_name()})
            push_blob(self.srv, self.repo, cfg)
            m["config"] = descriptor(config_type, cfg)
        m["layers"] = [descriptor("application/vnd.e2e.payload", self.payload)]
        m["subject"] = {"mediaType": subject_type, "digest": subject_digest, "size": subject_size}
        if annotations:
            m["annotations"] = annotations
        return json_bytes(m)

    def referrers(self, d, artifact_type=None, repo=None):
        path = "/v2/%s/referrers/%s" % (repo or self.repo, d)
        if artifact_type:
            path += "?artifactType=" + artifact_type
        r = self.srv.get(path)
        self.assertStatus(r, 200, path)
        self.assertTrue(r.header("Content-Type", "").startswith(OCI_INDEX), r)
        doc = r.json()
        self.assertEqual(doc.get("schemaVersion"), 2, doc)
        self.assertEqual(doc.get("mediaType"), OCI_INDEX, doc)
        self.assertIsInstance(doc.get("manifests"), list, doc)
        return r, {m["digest"]: m for m in doc["manifests"]}

    def test_referrers_listing_and_filter(self):
        s = self.subject
        sig = self.artifact(s.digest, len(s.manifest), "application/vnd.e2e.sig",
                            annotations={"org.e2e.who": "alice"})
        r = put_manifest(self.srv, self.repo, digest(sig), sig, OCI_MANIFEST)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("OCI-Subject"), s.digest)
        sbom = self.artifact(s.digest, len(s.manifest), None, config_type="application/vnd.e2e.sbom.config")
        push_manifest(self.srv, self.repo, digest(sbom), sbom, OCI_MANIFEST)
        idx = json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX,
                          "artifactType": "application/vnd.e2e.bundle",
                          "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest(sig), "size": len(sig)}],
                          "subject": {"mediaType": OCI_MANIFEST, "digest": s.digest, "size": len(s.manifest)}})
        r = put_manifest(self.srv, self.repo, digest(idx), idx, OCI_INDEX)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("OCI-Subject"), s.digest)
        bare = self.artifact(s.digest, len(s.manifest), None)  # no artifactType, empty config
        push_manifest(self.srv, self.repo, digest(bare), bare, OCI_MANIFEST)
        unrelated = self.artifact(digest(b"elsewhere"), 10, "application/vnd.e2e.sig")
        push_manifest(self.srv, self.repo, digest(unrelated), unrelated, OCI_MANIFEST)

        r, refs = self.referrers(s.digest)
        self.assertIsNone(r.header("OCI-Filters-Applied"))
        self.assertEqual(set(refs), {digest(sig), digest(sbom), digest(idx), digest(bare)})
        self.assertEqual(refs[digest(bare)]["artifactType"], OCI_EMPTY)
        d = refs[digest(sig)]
        self.assertEqual(d["mediaType"], OCI_MANIFEST)
        self.assertEqual(d["size"], len(sig))
        self.assertEqual(d["artifactType"], "application/vnd.e2e.sig")
        self.assertEqual(d.get("annotations"), {"org.e2e.who": "alice"})
        self.assertEqual(refs[digest(sbom)]["artifactType"], "application/vnd.e2e.sbom.config")
        self.assertEqual(refs[digest(idx)]["mediaType"], OCI_INDEX)
        self.assertEqual(refs[digest(idx)]["artifactType"], "application/vnd.e2e.bundle")
        self.assertEqual(refs[digest(idx)]["size"], len(idx))

        r, refs = self.referrers(s.digest, "application/vnd.e2e.sig")
        self.assertEqual(r.header("OCI-Filters-Applied"), "artifactType")
        self.assertEqual(set(refs), {digest(sig)})
        r, refs = self.referrers(s.digest, "application%2Fvnd.e2e.sig")  # as Go clients encode it
        self.assertEqual(r.header("OCI-Filters-Applied"), "artifactType")
        self.assertEqual(set(refs), {digest(sig)})
        r, refs = self.referrers(s.digest, "application/vnd.e2e.none")
        self.assertEqual(r.header("OCI-Filters-Applied"), "artifactType")
        self.assertEqual(refs, {})

        # Deleting a referrer removes it from the list.
        self.assertStatus(self.srv.delete("/v2/%s/manifests/%s" % (self.repo, digest(sbom))), 202)
        _, refs = self.referrers(s.digest)
        self.assertEqual(set(refs), {digest(sig), digest(idx), digest(bare)})

    def test_no_referrers(self):
        other = push_image(self.srv, self.repo, "lonely")
        r, refs = self.referrers(other.digest)
        self.assertEqual(refs, {})
        _, refs = self.referrers(digest(b"never pushed anywhere"))
        self.assertEqual(refs, {})

    def test_subject_not_yet_pushed(self):
        later = make_image()
        art = self.artifact(later.digest, len(later.manifest), "application/vnd.e2e.early")
        r = put_manifest(self.srv, self.repo, "early-art", art, OCI_MANIFEST)
        self.assertStatus(r, 201)
        self.assertEqual(r.header("OCI-Subject"), later.digest)
        _, refs = self.referrers(later.digest)
        self.assertEqual(set(refs), {digest(art)})
        push_image(self.srv, self.repo, "later", image=later)
        _, refs = self.referrers(later.digest)
        self.assertEqual(set(refs), {digest(art)})

    def test_referrers_are_per_repository(self):
        s = push_image(self.srv, "ref/a", "v1")
        push_blob(self.srv, "ref/b", EMPTY_JSON)
        push_blob(self.srv, "ref/b", self.payload)
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/vnd.e2e.x",
             "config": {"mediaType": OCI_EMPTY, "digest": EMPTY_DIGEST, "size": 2},
             "layers": [descriptor("application/vnd.e2e.payload", self.payload)],
             "subject": s.descriptor()}
        body = json_bytes(m)
        push_manifest(self.srv, "ref/b", digest(body), body, OCI_MANIFEST)
        _, refs = self.referrers(s.digest, repo="ref/a")
        self.assertEqual(refs, {})
        _, refs = self.referrers(s.digest, repo="ref/b")
        self.assertEqual(set(refs), {digest(body)})

    def test_referrers_bad_digest(self):
        for d in ("sha256:bad", "notadigest"):
            r = self.srv.get("/v2/%s/referrers/%s" % (self.repo, d))
            self.assertError(r, (400, 404), "DIGEST_INVALID", "MANIFEST_UNKNOWN", "NOT_FOUND")

    def test_referrers_unknown_repo(self):
        r = self.srv.get("/v2/ref/never/referrers/%s" % digest(b"x"))
        self.assertStatus(r, (200, 404))
        if r.status == 404:
            self.assertError(r, 404, "NAME_UNKNOWN")
        else:
            self.assertEqual(r.json().get("manifests"), [])

    def test_no_subject_header_without_subject(self):
        img = make_image()
        for b in img.blobs():
            push_blob(self.srv, self.repo, b)
        r = put_manifest(self.srv, self.repo, "plain", img.manifest, OCI_MANIFEST)
        self.assertStatus(r, 201)
        self.assertIsNone(r.header("OCI-Subject"))


if __name__ == "__main__":
    main()
