#!/usr/bin/env python3
"""Berth benchmark helper: make content, seed registries, page listings.

Python 3 standard library only. Talks plain HTTP to 127.0.0.1 only.

Subcommands (all print one JSON object on stdout when they have a result):
  content OUTDIR --big-mib N     make blobs + manifest, write OUTDIR/content.json
  nginx-tree CONTENT_DIR WWW REPO  lay the same bytes out as static files
  push PORT REPO CONTENT_DIR     push every blob (POST+PUT) and the manifest (tag "latest")
  patch FILE TAG                 overwrite FILE's first 16 bytes with TAG, print new digest
  listing PORT --repos N --tags N --threads T
                                 seed N repos (one tiny manifest each) + one repo with N tags
  page PORT --kind catalog|tags --n 100 [--repo R]
                                 page through _catalog / tags/list to the end, time it
"""
import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

HOST = "127.0.0.1"  # the only host this script ever contacts
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
CHUNK = 1 << 20


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(8 * CHUNK)
            if not b:
                break
            h.update(b)
    return "sha256:" + h.hexdigest()


def sha256_bytes(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Client:
    """Keep-alive HTTP/1.1 client bound to 127.0.0.1:port; reconnects once on a dropped connection."""

    def __init__(self, port, timeout=120):
        self.port = int(port)
        self.timeout = timeout
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)

    def request(self, method, path, body=None, headers=None, retry=True):
        if path.startswith("http://") or path.startswith("https://"):
            u = urllib.parse.urlsplit(path)
            if u.hostname not in ("127.0.0.1", "localhost"):
                raise RuntimeError("refusing non-loopback URL %r" % path)
            path = urllib.parse.urlunsplit(("", "", u.path, u.query, ""))
        if self.conn is None:
            self._connect()
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return r.status, r.headers, data
        except (http.client.HTTPException, ConnectionError, OSError):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            # a body that is a file object cannot be resent; only retry byte bodies
            if retry and (body is None or isinstance(body, (bytes, bytearray))):
                return self.request(method, path, body, headers, retry=False)
            raise


class PushError(Exception):
    pass


def _upload_url(location, digest):
    sep = "&" if "?" in location else "?"
    return location + sep + "digest=" + urllib.parse.quote(digest, safe="")


def push_blob(c, repo, digest, size, body, mount_from=None):
    """Monolithic POST+PUT (or cross-repo mount when mount_from is given). Returns 'mounted'/'pushed'/'exists'."""
    st, _, _ = c.request("HEAD", "/v2/%s/blobs/%s" % (repo, digest))
    if st == 200:
        return "exists"
    path = "/v2/%s/blobs/uploads/" % repo
    if mount_from:
        path += "?mount=%s&from=%s" % (urllib.parse.quote(digest, safe=""), urllib.parse.quote(mount_from, safe="/"))
    st, h, data = c.request("POST", path, body=b"", headers={"Content-Length": "0"})
    if st == 201 and mount_from:
        return "mounted"
    if st != 202:
        raise PushError("POST %s -> %d %s" % (path, st, data[:200]))
    loc = h.get("Location")
    if not loc:
        raise PushError("POST %s -> 202 without Location" % path)
    if callable(body):
        body = body()
    st, h, data = c.request("PUT", _upload_url(loc, digest), body=body,
                            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
    if st != 201:
        raise PushError("PUT upload %s -> %d %s" % (repo, st, data[:200]))
    return "pushed"


def put_manifest(c, repo, ref, body, media_type=OCI_MANIFEST):
    st, h, data = c.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                            headers={"Content-Type": media_type, "Content-Length": str(len(body))})
    if st != 201:
        raise PushError("PUT manifest %s:%s -> %d %s" % (repo, ref, st, data[:300]))
    return h.get("Docker-Content-Digest")


# ---------------------------------------------------------------- content

def write_random(path, size, tag):
    """Pseudo-random, incompressible bytes; first 16 bytes identify the blob."""
    with open(path, "wb") as f:
        head = tag.encode()[:16].ljust(16, b"\0")
        f.write(head)
        left = size - len(head)
        while left > 0:
            n = min(left, 8 * CHUNK)
            f.write(os.urandom(n))
            left -= n


def cmd_content(a):
    os.makedirs(a.outdir, exist_ok=True)
    blobs = {}
    for name, size in (("small", 4096), ("mid", 1 << 20), ("big", a.big_mib << 20)):
        p = os.path.join(a.outdir, name + ".bin")
        write_random(p, size, "berth-bench-" + name)
        blobs[name] = {"path": p, "size": size, "digest": sha256_file(p), "mediaType": OCI_LAYER}
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [blobs[k]["digest"] for k in ("small", "mid", "big")]},
                      "config": {}}, sort_keys=True).encode()
    cp = os.path.join(a.outdir, "config.json")
    with open(cp, "wb") as f:
        f.write(cfg)
    blobs["config"] = {"path": cp, "size": len(cfg), "digest": sha256_bytes(cfg), "mediaType": OCI_CONFIG}
    man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": {"mediaType": OCI_CONFIG, "digest": blobs["config"]["digest"], "size": blobs["config"]["size"]},
           "layers": [{"mediaType": OCI_LAYER, "digest": blobs[k]["digest"], "size": blobs[k]["size"]}
                      for k in ("small", "mid", "big")],
           "annotations": {"org.opencontainers.image.title": "berth-bench"}}
    mb = json.dumps(man, indent=3).encode()
    mp = os.path.join(a.outdir, "manifest.json")
    with open(mp, "wb") as f:
        f.write(mb)
    out = {"blobs": blobs, "manifest": {"path": mp, "size": len(mb), "digest": sha256_bytes(mb)}}
    with open(os.path.join(a.outdir, "content.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out))


def load_content(d):
    with open(os.path.join(d, "content.json")) as f:
        return json.load(f)


def cmd_nginx_tree(a):
    ct = load_content(a.content_dir)
    base = os.path.join(a.www, "v2", a.repo)
    os.makedirs(os.path.join(base, "blobs"), exist_ok=True)
    os.makedirs(os.path.join(base, "manifests"), exist_ok=True)
    for b in ct["blobs"].values():
        dst = os.path.join(base, "blobs", b["digest"])
        try:
            os.link(b["path"], dst)  # same bytes, no copy
        except OSError:
            with open(b["path"], "rb") as s, open(dst, "wb") as d:
                d.write(s.read())
    with open(ct["manifest"]["path"], "rb") as f:
        mb = f.read()
    for ref in ("latest", ct["manifest"]["digest"]):
        with open(os.path.join(base, "manifests", ref), "wb") as f:
            f.write(mb)
    print(json.dumps({"www": a.www, "repo": a.repo}))


def cmd_push(a):
    ct = load_content(a.content_dir)
    c = Client(a.port, timeout=600)
    t0 = time.monotonic()
    res = {}
    for name, b in ct["blobs"].items():
        with open(b["path"], "rb") as f:
            res[name] = push_blob(c, a.repo, b["digest"], b["size"], f)
    with open(ct["manifest"]["path"], "rb") as f:
        mb = f.read()
    dg = put_manifest(c, a.repo, "latest", mb)
    if dg and dg != ct["manifest"]["digest"]:
        raise PushError("manifest digest mismatch: server %s, expected %s" % (dg, ct["manifest"]["digest"]))
    # verify the tag resolves to the same bytes
    st, h, data = c.request("GET", "/v2/%s/manifests/latest" % a.repo, headers={"Accept": OCI_MANIFEST})
    if st != 200 or data != mb:
        raise PushError("GET manifest back -> %d, %d bytes (expected %d)" % (st, len(data), len(mb)))
    print(json.dumps({"repo": a.repo, "blobs": res, "manifest_digest": ct["manifest"]["digest"],
                      "seconds": round(time.monotonic() - t0, 3)}))


def cmd_patch(a):
    with open(a.file, "r+b") as f:
        f.write(a.tag.encode()[:16].ljust(16, b"\0"))
    print(json.dumps({"digest": sha256_file(a.file), "size": os.path.getsize(a.file)}))


# ---------------------------------------------------------------- listing

def tiny_manifest(cfg_digest, cfg_size, idx):
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": OCI_CONFIG, "digest": cfg_digest, "size": cfg_size},
                       "layers": [], "annotations": {"i": str(idx)}}, separators=(",", ":")).encode()


def cmd_listing(a):
    cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    cd, cs = sha256_bytes(cfg), len(cfg)
    base = "lst/base"
    c0 = Client(a.port)
    push_blob(c0, base, cd, cs, cfg)
    put_manifest(c0, base, "v1", tiny_manifest(cd, cs, -1))
    local = threading.local()
    errors = []
    stats = {"mounted": 0, "pushed": 0, "exists": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + a.max_seconds

    def cl():
        if not hasattr(local, "c"):
            local.c = Client(a.port)
        return local.c

    def one_repo(i):
        if time.monotonic() > deadline:
            raise PushError("listing seed deadline exceeded")
        c = cl()
        repo = "lst/r%05d" % i
        how = push_blob(c, repo, cd, cs, cfg, mount_from=base)
        put_manifest(c, repo, "v1", tiny_manifest(cd, cs, i))
        with lock:
            stats[how] += 1

    def one_tag(i):
        if time.monotonic() > deadline:
            raise PushError("listing seed deadline exceeded")
        put_manifest(cl(), a.tag_repo, "t%05d" % i, tag_body)

    tag_body = tiny_manifest(cd, cs, -2)
    push_blob(c0, a.tag_repo, cd, cs, cfg, mount_from=base)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        for fut in concurrent.futures.as_completed([ex.submit(one_repo, i) for i in range(a.repos)]):
            if fut.exception():
                errors.append(str(fut.exception()))
    t1 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        for fut in concurrent.futures.as_completed([ex.submit(one_tag, i) for i in range(a.tags)]):
            if fut.exception():
                errors.append(str(fut.exception()))
    t2 = time.monotonic()
    print(json.dumps({"repos": a.repos, "tags": a.tags, "repo_seed_s": round(t1 - t0, 2),
                      "tag_seed_s": round(t2 - t1, 2), "config_blob": stats,
                      "errors": len(errors), "first_errors": errors[:3]}))


def next_link(h, cur_path):
    """Parse RFC 5988 Link: <url>; rel="next". Returns a path or None."""
    link = h.get("Link")
    if not link:
        return None
    for part in link.split(","):
        if 'rel="next"' in part or "rel=next" in part:
            u = part[part.find("<") + 1:part.find(">")]
            if u.startswith("http"):
                s = urllib.parse.urlsplit(u)
                u = urllib.parse.urlunsplit(("", "", s.path, s.query, ""))
            if not u.startswith("/"):
                u = urllib.parse.urljoin(cur_path, u)
            return u
    return None


def cmd_page(a):
    c = Client(a.port)
    if a.kind == "catalog":
        path, key = "/v2/_catalog?n=%d" % a.n, "repositories"
    else:
        path, key = "/v2/%s/tags/list?n=%d" % (a.repo, a.n), "tags"
    seen, pages, errs, first_err = [], 0, 0, None
    max_pages = a.max_pages
    t0 = time.monotonic()
    while path and pages < max_pages and time.monotonic() - t0 < a.max_seconds:
        st, h, data = c.request("GET", path)
        pages += 1
        if st != 200:
            errs += 1
            first_err = first_err or "GET %s -> %d %s" % (path, st, data[:200])
            break
        try:
            items = json.loads(data).get(key) or []
        except ValueError:
            errs += 1
            first_err = first_err or "GET %s -> bad JSON" % path
            break
        seen.extend(items)
        if len(items) > a.n:
            first_err = first_err or "page of %d entries > n=%d (server ignored n)" % (len(items), a.n)
        path = next_link(h, path)
    dt = time.monotonic() - t0
    uniq = len(set(seen))
    out = {"kind": a.kind, "n": a.n, "pages": pages, "entries": len(seen), "unique": uniq,
           "seconds": round(dt, 4), "pages_per_s": round(pages / dt, 1) if dt > 0 else None,
           "entries_per_s": round(len(seen) / dt, 1) if dt > 0 else None,
           "complete": path is None and errs == 0, "errors": errs, "note": first_err}
    if a.expect_min and uniq < a.expect_min:
        out["complete"] = False
        out["note"] = (first_err or "") + " saw %d unique < expected %d" % (uniq, a.expect_min)
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = p.add_subparsers(dest="cmd", required=True)
    s = sp.add_parser("content"); s.add_argument("outdir"); s.add_argument("--big-mib", type=int, default=256)
    s = sp.add_parser("nginx-tree"); s.add_argument("content_dir"); s.add_argument("www"); s.add_argument("repo")
    s = sp.add_parser("push"); s.add_argument("port"); s.add_argument("repo"); s.add_argument("content_dir")
    s = sp.add_parser("patch"); s.add_argument("file"); s.add_argument("tag")
    s = sp.add_parser("listing"); s.add_argument("port")
    s.add_argument("--repos", type=int, default=10000); s.add_argument("--tags", type=int, default=10000)
    s.add_argument("--tag-repo", default="lsttags/many"); s.add_argument("--threads", type=int, default=8)
    s.add_argument("--max-seconds", type=float, default=300)
    s = sp.add_parser("page"); s.add_argument("port"); s.add_argument("--kind", choices=("catalog", "tags"), required=True)
    s.add_argument("--n", type=int, default=100); s.add_argument("--repo", default="lsttags/many")
    s.add_argument("--expect-min", type=int, default=0); s.add_argument("--max-pages", type=int, default=100000)
    s.add_argument("--max-seconds", type=float, default=120)
    a = p.parse_args()
    {"content": cmd_content, "nginx-tree": cmd_nginx_tree, "push": cmd_push, "patch": cmd_patch,
     "listing": cmd_listing, "page": cmd_page}[a.cmd](a)


if __name__ == "__main__":
    try:
        main()
    except PushError as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(2)
