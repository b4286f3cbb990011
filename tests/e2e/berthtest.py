"""Harness for Berth's end-to-end tests (Python 3 stdlib only).

Every tests/e2e/test_*.py starts its own server(s) on port 0 with a fresh data dir,
talks to it with http.client (raw, so paths and bodies go out exactly as written) or
with real clients (skopeo, buildah, podman, curl), and exits non-zero on failure via
berthtest.main(), which also dumps each server's stderr when something failed.

Environment:
  BERTH_BIN            the server binary (default: <repo>/build/berth)
  BERTH_E2E_KEEP=1     keep temp dirs even when everything passed
  BERTH_E2E_REFERENCE  path of CNCF distribution's `registry` binary (Debian:
                       /usr/bin/docker-registry): runs the same tests against it, to
                       check a test's expectation against the reference implementation.
                       Development aid only; distribution 2.8 lacks OCI 1.1 features.
"""
import base64
import contextlib
import faulthandler
import fcntl
import hashlib
import http.client
import json
import os
import re
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

# What real clients (containers/image, docker) send when fetching a manifest.
ACCEPT_MANIFESTS = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST,
                              DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1])

_SERVERS = []    # every Server started in this process, for log dumps
_TEMP_DIRS = []  # removed at exit when everything passed


def berth_bin():
    return os.environ.get("BERTH_BIN") or os.path.join(REPO_ROOT, "build", "berth")


def mkdtemp(prefix="berth-e2e-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _TEMP_DIRS.append(d)
    return d


# ---------------------------------------------------------------------------------------
# Digests and small helpers


def digest(data, alg="sha256"):
    return alg + ":" + hashlib.new(alg, data).hexdigest()


def rand_bytes(n, seed=None):
    r = random.Random(seed) if seed is not None else random
    return r.randbytes(n)


def rand_name(prefix="r"):
    return "%s%08x" % (prefix, random.getrandbits(32))


def location_path(location):
    """The path+query of a Location header, which may be absolute or relative."""
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def add_query(path, **params):
    q = urllib.parse.urlencode(params)
    return path + ("&" if "?" in path else "?") + q


def parse_link_next(link):
    """Parses `<URL>; rel="next"`; returns (path, {param: value}) or None."""
    if not link:
        return None
    link = link.strip()
    if not link.startswith("<") or ">" not in link:
        raise AssertionError("malformed Link header: %r" % link)
    url, rest = link[1:].split(">", 1)
    if 'rel="next"' not in rest.replace(" ", ""):
        raise AssertionError("Link header without rel=\"next\": %r" % link)
    u = urllib.parse.urlsplit(url)
    return u.path, dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))


def json_bytes(obj, **kw):
    return json.dumps(obj, **kw).encode()


# ---------------------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()
        self.body = body
        self.reason = reason

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        body = self.body[:600]
        return "<HTTP %d %s headers=%s body=%r%s>" % (
            self.status, self.reason, dict(self.headers.items()), body,
            "..." if len(self.body) > 600 else "")


def http_request(host, port, method, path, body=None, headers=None, timeout=60, source=None,
                 tls=None):
    """One request on a fresh connection. `path` goes out byte for byte. `body` is bytes,
    a file object or an iterable of bytes (streamed; give Content-Length in `headers` or
    it is sent chunked). If the server answers and closes before reading the whole body
    (e.g. 413), the response it sent is still returned. `source`: the local address to
    connect from (127.0.0.2 ...). `tls`: an ssl.SSLContext to speak HTTPS with."""
    src = (source, 0) if source else None
    if tls is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls,
                                           source_address=src)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=src)
    try:
        hdrs = dict(headers or {})
        try:
            conn.request(method, path, body=body, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered early; read what it said
        resp = conn.getresponse()
        try:
            data = resp.read() if method != "HEAD" else b""
        except http.client.IncompleteRead as e:
            raise AssertionError("%s %s: HTTP %d body shorter than Content-Length (%d bytes read, "
                                 "%s more expected); headers=%s body=%r" % (
                                     method, path, resp.status, len(e.partial), e.expected,
                                     dict(resp.msg.items()), e.partial[:300]))
        return Response(resp.status, resp.msg, data, resp.reason)
    finally:
        conn.close()


def raw_http(host, port, data, timeout=10):
    """Sends raw bytes and returns everything the server sends until it closes (or the
    timeout passes): for checks http.client cannot make (HEAD bodies, odd framing)."""
    out = b""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            pass
    return out


# ---------------------------------------------------------------------------------------
# Server


class ServerStartError(Exception):
    pass


class RequestVerbs:
    """get/head/delete/json over the class's request()."""

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def json(self, method, path, doc=None, **kw):
        body = json.dumps(doc).encode() if doc is not None else None
        return self.request(method, path, body=body,
                            headers={"Content-Type": "application/json"} if body else {}, **kw)


class Server(RequestVerbs):
    """A Berth server on 127.0.0.1:<free port>, as a context manager.

    On a clean exit the server is stopped with SIGTERM and must exit 0. On an exception
    it is killed and its stderr is dumped. `config` is YAML text for --config. `tls`: an
    ssl.SSLContext the harness's own requests use (for a server configured for HTTPS)."""

    ADMIN_PASSWORD = "berth-e2e-admin-pw"

    def __init__(self, data_dir=None, config=None, extra_args=(), start_timeout=20, auth=False,
                 env=None, tls=None, listen=None, netns=None, connect_host=None):
        """auth=False runs with `auth: none` (the distribution API tests); auth=True
        starts with authentication on and the admin password ADMIN_PASSWORD."""
        self.tmp = mkdtemp()
        self.auth = auth
        self.env = env
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.tmp, "stderr.log")
        self.config = config
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.tls = tls
        self.listen = listen or "127.0.0.1:0"  # a fixed port: peers that must know it first
        self.netns = netns                # run inside this network namespace (ip netns exec)
        self.connect_host = connect_host  # where the harness reaches it, when not the listen host
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.starts = 0
        _SERVERS.append(self)

    # -- lifecycle

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        ref = os.environ.get("BERTH_E2E_REFERENCE")
        log = open(self.log_path, "ab")
        offset = log.tell()
        log.write(b"\n==== start #%d ====\n" % self.starts)
        log.flush()
        offset = log.tell()
        if ref:
            self.port = _free_port()
            cfg = os.path.join(self.tmp, "reference.yml")
            with open(cfg, "w") as f:
                f.write("version: 0.1\nlog:\n  level: info\n  formatter: json\n"
                        "storage:\n  filesystem:\n    rootdirectory: %s\n"
                        "  delete:\n    enabled: true\n"
                        "http:\n  addr: 127.0.0.1:%d\n  secret: berth-e2e\n  draintimeout: 30s\n"
                        % (self.data_dir, self.port))
            argv = [ref, "serve", cfg]
        else:
            argv = [berth_bin(), "serve", "--listen", self.listen, "--data", self.data_dir]
            text = self.config or ""
            if not self.auth and not re.search(r"^auth:", text, re.M):
                text = "auth: none\n" + text
            cfg = os.path.join(self.tmp, "config.yaml")
            with open(cfg, "w") as f:
                f.write(text)
            argv += ["--config", cfg]
            argv += self.extra_args
            if self.netns:
                argv = ["ip", "netns", "exec", self.netns] + argv
        env = dict(os.environ)
        if self.auth:
            env["BERTH_ADMIN_PASSWORD"] = self.ADMIN_PASSWORD
        env.update(self.env or {})
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while True:
            if ref:
                if _can_connect(self.host, self.port):
                    return self
            else:
                addr = self._find_listening(offset)
                if addr:
                    host, _, port = addr.rpartition(":")
                    self.host, self.port = host.strip("[]") or "127.0.0.1", int(port)
                    if self.connect_host:
                        self.host = self.connect_host
                    return self
            rc = self.proc.poll()
            if rc is not None:
                raise ServerStartError("server exited with %d before listening:\n%s"
                                       % (rc, self.log_tail()))
            if time.monotonic() > deadline:
                self.kill()
                raise ServerStartError("no \"listening\" log line within %ds:\n%s"
                                       % (self.start_timeout, self.log_tail()))
            time.sleep(0.02)

    def _find_listening(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            for line in f.read().splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and rec.get("msg") == "listening" and rec.get("address"):
                    return rec["address"]
        return None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code (kills and raises on timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("server did not exit within %ds of SIGTERM" % timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.kill()
            sys.stderr.write("\n---- server stderr (%s) ----\n%s\n" % (self.log_path, self.log_tail()))
            return False
        self.assert_alive()
        rc = self.stop()
        if rc != 0:
            raise AssertionError("server exited %s on SIGTERM (want 0)\n%s" % (rc, self.log_tail()))
        return False

    def assert_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError("server died (exit %s):\n%s" % (self.proc.returncode, self.log_tail()))

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=200):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_records(self, msg=None):
        """The JSON log lines so far (those with `msg` if given), as dicts."""
        out = []
        for line in self.log_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and (msg is None or rec.get("msg") == msg):
                out.append(rec)
        return out

    def access_record(self, path, timeout=5):
        """The access log record of the last request with target `path` (waits for the
        asynchronous logger to write it)."""
        deadline = time.monotonic() + timeout
        while True:
            recs = [r for r in self.log_records("request") if r.get("path") == path]
            if recs:
                return recs[-1]
            if time.monotonic() > deadline:
                raise AssertionError("no access log line for %s:\n%s" % (path, self.log_tail(30)))
            time.sleep(0.05)

    # -- HTTP

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def request(self, method, path, body=None, headers=None, timeout=60):
        return http_request(self.host, self.port, method, path, body, headers, timeout, tls=self.tls)

    def raw(self, data, timeout=10):
        return raw_http(self.host, self.port, data, timeout)

    def basic(self, user, password, source=None):
        """A client of this server sending Basic credentials (from `source` address)."""
        cred = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        return Client(self, "Basic " + cred, source)

    def bearer(self, token, source=None):
        return Client(self, "Bearer " + token, source)

    def admin(self, source=None):
        return self.basic("admin", self.ADMIN_PASSWORD, source)

    def berth(self, *args, check=True, timeout=120):
        """Runs the `berth` client against this server as the admin (password on stdin);
        with check, a non-zero exit fails with its stderr. Returns the CompletedProcess."""
        url = "http://127.0.0.1:%d" % self.port
        p = subprocess.run([berth_bin()] + list(args) + ["-r", url, "-u", "admin", "--password-stdin"],
                           input=self.ADMIN_PASSWORD.encode(), capture_output=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("berth %s exited %d: %s" % (" ".join(args), p.returncode,
                                                             p.stderr.decode(errors="replace")))
        return p


class Client(RequestVerbs):
    """The request helpers of a Server, with an Authorization header and optionally a
    source address (127.0.0.2 ...): push_image and friends accept it as `srv`."""

    def __init__(self, srv, authorization=None, source=None):
        self.srv, self.authorization, self.source = srv, authorization, source
        self.host, self.port = srv.host, srv.port

    @property
    def address(self):
        return self.srv.address

    def request(self, method, path, body=None, headers=None, timeout=60):
        hdrs = {"Authorization": self.authorization} if self.authorization else {}
        hdrs.update(headers or {})
        return http_request(self.host, self.port, method, path, body, hdrs, timeout,
                            source=self.source, tls=self.srv.tls)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _can_connect(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# Registry client helpers (raw API). They assert the happy path; tests that check error
# cases speak HTTP directly.


class RegistryError(AssertionError):
    pass


def _expect(resp, status, what):
    if resp.status != status:
        raise RegistryError("%s: want %d, got %r" % (what, status, resp))
    return resp


def start_upload(srv, repo):
    r = _expect(srv.request("POST", "/v2/%s/blobs/uploads/" % repo), 202, "POST upload")
    loc = r.header("Location")
    if not loc:
        raise RegistryError("POST upload: no Location: %r" % r)
    return location_path(loc)


def push_blob(srv, repo, data, how="post_put", chunk=None, alg="sha256"):
    """Pushes `data`; returns its digest. how: monolithic (single POST ?digest=),
    post_put (POST then PUT with the body), chunked (POST, PATCHes with Content-Range,
    empty PUT)."""
    d = digest(data, alg)
    if how == "monolithic":
        r = srv.request("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, d), body=data,
                        headers={"Content-Type": "application/octet-stream"})
        _expect(r, 201, "monolithic POST")
    elif how == "post_put":
        loc = start_upload(srv, repo)
        r = srv.request("PUT", add_query(loc, digest=d), body=data,
                        headers={"Content-Type": "application/octet-stream"})
        _expect(r, 201, "PUT upload")
    elif how == "chunked":
        loc = start_upload(srv, repo)
        chunk = chunk or max(1, len(data) // 3 + 1)
        for off in range(0, len(data), chunk):
            part = data[off:off + chunk]
            r = srv.request("PATCH", loc, body=part, headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": "%d-%d" % (off, off + len(part) - 1)})
            _expect(r, 202, "PATCH %d" % off)
            loc = location_path(r.header("Location"))
        r = srv.request("PUT", add_query(loc, digest=d))
        _expect(r, 201, "PUT (close chunked upload)")
    else:
        raise ValueError(how)
    got = r.header("Docker-Content-Digest")
    if got != d:
        raise RegistryError("Docker-Content-Digest %r, want %r" % (got, d))
    return d


def put_manifest(srv, repo, ref, body, media_type):
    return srv.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                       headers={"Content-Type": media_type} if media_type else {})


def push_manifest(srv, repo, ref, body, media_type):
    r = put_manifest(srv, repo, ref, body, media_type)
    _expect(r, 201, "PUT manifest %s:%s" % (repo, ref))
    d = digest(body)
    if r.header("Docker-Content-Digest") != d:
        raise RegistryError("manifest Docker-Content-Digest %r, want %r" %
                            (r.header("Docker-Content-Digest"), d))
    return d


def descriptor(media_type, data, **extra):
    d = {"mediaType": media_type, "digest": digest(data), "size": len(data)}
    d.update(extra)
    return d


class Image:
    """A small image pushed by push_image: its blobs and manifest bytes."""

    def __init__(self, media_type, manifest, config, layers):
        self.media_type = media_type
        self.manifest = manifest          # bytes as pushed
        self.digest = digest(manifest)
        self.config = config              # bytes
        self.layers = layers              # list of bytes

    def descriptor(self, **extra):
        return descriptor(self.media_type, self.manifest, **extra)

    def blobs(self):
        return [self.config] + list(self.layers)


def image_manifest(config, layers, docker=False, **extra):
    if docker:
        m = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
             "config": descriptor(DOCKER_CONFIG, config),
             "layers": [descriptor(DOCKER_LAYER, l) for l in layers]}
    else:
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "config": descriptor(OCI_CONFIG, config),
             "layers": [descriptor(OCI_LAYER, l) for l in layers]}
    m.update(extra)
    return json_bytes(m)


def make_image(docker=False, n_layers=1, layer_size=1024, arch="amd64", **extra):
    config = json_bytes({"architecture": arch, "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": []},
                         "nonce": rand_name()})
    layers = [rand_bytes(layer_size) for _ in range(n_layers)]
    body = image_manifest(config, layers, docker=docker, **extra)
    return Image(DOCKER_MANIFEST if docker else OCI_MANIFEST, body, config, layers)


def push_image(srv, repo, ref=None, image=None, **kw):
    image = image or make_image(**kw)
    for b in image.blobs():
        push_blob(srv, repo, b)
    push_manifest(srv, repo, ref or image.digest, image.manifest, image.media_type)
    return image


def index_manifest(children, docker=False, **extra):
    """children: list of (Image, arch)."""
    mt = DOCKER_LIST if docker else OCI_INDEX
    m = {"schemaVersion": 2, "mediaType": mt,
         "manifests": [img.descriptor(platform={"architecture": arch, "os": "linux"})
                       for img, arch in children]}
    m.update(extra)
    return mt, json_bytes(m)


# ---------------------------------------------------------------------------------------
# Test case base


class BerthTestCase(unittest.TestCase):
    """Starts one server for the class (cls.srv); it must still be alive at the end and
    exit 0 on SIGTERM."""
    maxDiff = 4000
    start_server = True

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start() if cls.start_server else None

    @classmethod
    def tearDownClass(cls):
        if cls.srv is not None:
            cls.srv.__exit__(None, None, None)

    def assertStatus(self, resp, status, msg=""):
        if isinstance(status, int):
            status = (status,)
        if resp.status not in status:
            self.fail("want HTTP %s, got %r %s" % ("/".join(map(str, status)), resp, msg))

    def assertError(self, resp, status, *codes):
        """Status is `status` (int or tuple) and the body is the spec's error JSON with
        one of `codes` (any code if none given) as the code of an entry."""
        self.assertStatus(resp, status)
        self.assertNot5xx(resp)
        ctype = resp.header("Content-Type", "")
        self.assertTrue(ctype.startswith("application/json"),
                        "error Content-Type %r: %r" % (ctype, resp))
        try:
            doc = resp.json()
        except ValueError:
            self.fail("error body is not JSON: %r" % resp)
        self.assertIsInstance(doc, dict, resp)
        errs = doc.get("errors")
        self.assertIsInstance(errs, list, "no errors array: %r" % resp)
        self.assertGreater(len(errs), 0, resp)
        for e in errs:
            self.assertIsInstance(e, dict, resp)
            self.assertIsInstance(e.get("code"), str, "error without code: %r" % resp)
            if "message" in e:
                self.assertIsInstance(e["message"], str, resp)
        self.assertTrue(all("message" in e for e in errs), "error without message: %r" % resp)
        if codes:
            got = [e["code"] for e in errs]
            self.assertTrue(any(c in codes for c in got),
                            "want error code %s, got %s: %r" % ("|".join(codes), got, resp))
        return doc

    def assertNot5xx(self, resp):
        if resp.status >= 500:
            self.fail("server error: %r" % resp)

    def assertBlob(self, srv, repo, data, d=None):
        d = d or digest(data)
        r = srv.get("/v2/%s/blobs/%s" % (repo, d))
        self.assertStatus(r, 200, "GET blob %s" % d)
        self.assertEqual(r.body, data, "blob %s content differs" % d)
        self.assertEqual(r.header("Docker-Content-Digest"), d)
        self.assertEqual(r.header("Content-Length"), str(len(data)))
        return r


# ---------------------------------------------------------------------------------------
# Running


def main():
    """unittest.main() that exits non-zero on failure and dumps server logs then."""
    faulthandler.enable()
    faulthandler.dump_traceback_later(570, exit=False)
    prog = unittest.main(exit=False, verbosity=2)
    ok = prog.result.wasSuccessful()
    for s in _SERVERS:
        s.kill()
    if not ok:
        for s in _SERVERS:
            sys.stderr.write("\n==== server log %s (last 150 lines) ====\n%s\n"
                             % (s.log_path, s.log_tail(150)))
        sys.stderr.write("temp dirs kept: %s\n" % " ".join(_TEMP_DIRS))
    elif not os.environ.get("BERTH_E2E_KEEP"):
        for d in _TEMP_DIRS:
            shutil.rmtree(d, ignore_errors=True)
    r = prog.result
    # Class fixtures that fail (e.g. a server that does not exit 0) count as failures too.
    bad = r.failures + r.errors
    bad_tests = {t.id() for t, _ in bad if isinstance(t, unittest.TestCase)}
    print("%d passed, %d failed" % (r.testsRun - len(bad_tests) - len(r.skipped), len(bad)))
    sys.exit(0 if ok else 1)


# ---------------------------------------------------------------------------------------
# Real clients: skopeo, buildah, podman with private storage and configuration


class ContainerTools:
    """Runs skopeo/buildah/podman with private storage (vfs), a private policy and a
    registries.conf marking `registry` (host:port) insecure and searching nothing, so
    nothing reaches for the network."""

    def __init__(self, registry=None):
        self.dir = mkdtemp("berth-e2e-tools-")
        self.root = os.path.join(self.dir, "root")
        self.runroot = os.path.join(self.dir, "run")
        self.tmpdir = os.path.join(self.dir, "tmp")
        for d in (self.root, self.runroot, self.tmpdir):
            os.makedirs(d, exist_ok=True)
        self.policy = os.path.join(self.dir, "policy.json")
        with open(self.policy, "w") as f:
            json.dump({"default": [{"type": "insecureAcceptAnything"}]}, f)
        self.registries = os.path.join(self.dir, "registries.conf")
        with open(self.registries, "w") as f:
            f.write("unqualified-search-registries = []\nshort-name-mode = \"disabled\"\n")
            if registry:
                f.write('[[registry]]\nlocation = "%s"\ninsecure = true\n' % registry)
        self.auth = os.path.join(self.dir, "auth.json")
        with open(self.auth, "w") as f:
            f.write('{"auths":{}}')
        self.containers_conf = os.path.join(self.dir, "containers.conf")
        with open(self.containers_conf, "w") as f:
            f.write('[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n'
                    'events_logfile_path = "%s"\n' % os.path.join(self.dir, "events.log"))
        self.env = dict(os.environ)
        self.env.update({
            "CONTAINERS_REGISTRIES_CONF": self.registries,
            "REGISTRIES_CONFIG_PATH": self.registries,
            "CONTAINERS_CONF": self.containers_conf,
            "REGISTRY_AUTH_FILE": self.auth,
            "TMPDIR": self.tmpdir,
            "BUILDAH_ISOLATION": "chroot",
        })
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            self.env.pop(k, None)
        self.env["NO_PROXY"] = self.env["no_proxy"] = "127.0.0.1,localhost"

    def _storage(self):
        return ["--root", self.root, "--runroot", self.runroot, "--storage-driver", "vfs"]

    def run(self, argv, check=True, timeout=300, input=None):
        p = subprocess.run(argv, env=self.env, capture_output=True, timeout=timeout,
                           input=input, stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
                " ".join(argv), p.returncode, p.stdout.decode(errors="replace")[-4000:],
                p.stderr.decode(errors="replace")[-4000:]))
        return p

    def skopeo(self, *args, **kw):
        return self.run(["skopeo", "--policy", self.policy, "--registries-conf",
                         self.registries] + list(args), **kw)

    def buildah(self, *args, **kw):
        return self.run(["buildah"] + self._storage() + list(args), **kw)

    def podman(self, *args, **kw):
        return self.run(["podman"] + self._storage() + [
            "--tmpdir", self.tmpdir, "--cgroup-manager", "cgroupfs",
            "--events-backend", "file"] + list(args), **kw)


IMAGE_CACHE = os.environ.get("BERTH_E2E_IMAGES", "/tmp/berth-e2e-images")
IMAGE_VERSION = "v1"


def build_test_images():
    """Builds (once per machine, under a lock since tests run in parallel) and returns
    {"single": DIR, "multi": DIR}: OCI layout dirs, each with tag "latest". single is a
    linux/amd64 busybox image; multi an OCI index of linux/amd64 and linux/arm64/v8."""
    base = os.path.join(IMAGE_CACHE, IMAGE_VERSION)
    out = {"single": os.path.join(base, "single"), "multi": os.path.join(base, "multi")}
    os.makedirs(IMAGE_CACHE, exist_ok=True)
    with open(os.path.join(IMAGE_CACHE, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(base, "done")):
            return out
        shutil.rmtree(base, ignore_errors=True)
        work = base + ".build"
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        try:
            _build_images(work)
            os.rename(work, base)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with open(os.path.join(base, "done"), "w") as f:
            f.write("ok\n")
    return out


def _build_images(work):
    busybox = shutil.which("busybox") or "/bin/busybox"
    t = ContainerTools()
    try:
        names = {}
        for arch, variant in (("amd64", ""), ("arm64", "v8")):
            marker = os.path.join(t.dir, "arch-" + arch)
            with open(marker, "w") as f:
                f.write(arch + "\n")
            c = t.buildah("from", "--pull-never", "scratch").stdout.decode().strip()
            t.buildah("copy", c, busybox, "/bin/busybox")
            t.buildah("copy", c, marker, "/etc/berth-arch")
            cfg = ["config", "--arch", arch, "--os", "linux", "--cmd", '["/bin/busybox", "sh"]',
                   "--label", "org.berth.e2e=" + arch]
            if variant:
                cfg += ["--variant", variant]
            t.buildah(*(cfg + [c]))
            name = "localhost/berth-e2e:" + arch
            t.buildah("commit", "--format", "oci", c, name)
            t.buildah("rm", c)
            names[arch] = name
        t.buildah("push", names["amd64"], "oci:%s:latest" % os.path.join(work, "single"))
        t.buildah("manifest", "create", "localhost/berth-e2e-multi:latest")
        t.buildah("manifest", "add", "localhost/berth-e2e-multi:latest", names["amd64"])
        t.buildah("manifest", "add", "--arch", "arm64", "--variant", "v8",
                  "localhost/berth-e2e-multi:latest", names["arm64"])
        t.buildah("manifest", "push", "--all", "--format", "oci",
                  "localhost/berth-e2e-multi:latest", "oci:%s:latest" % os.path.join(work, "multi"))
    finally:
        shutil.rmtree(t.dir, ignore_errors=True)


def oci_layout_manifest(layout, tag="latest"):
    """(digest, mediaType, bytes) of `tag` in an OCI layout dir."""
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m["digest"], m["mediaType"], read_layout_blob(layout, m["digest"])
    raise KeyError("tag %s not in %s" % (tag, layout))


def read_layout_blob(layout, d):
    alg, hexd = d.split(":", 1)
    with open(os.path.join(layout, "blobs", alg, hexd), "rb") as f:
        return f.read()


def layout_blobs(layout):
    """{digest: bytes} of every blob in an OCI layout dir."""
    out = {}
    bdir = os.path.join(layout, "blobs")
    for alg in os.listdir(bdir):
        for h in os.listdir(os.path.join(bdir, alg)):
            with open(os.path.join(bdir, alg, h), "rb") as f:
                out["%s:%s" % (alg, h)] = f.read()
    return out


@contextlib.contextmanager
def timeout_alarm(seconds):
    """Raises TimeoutError in the main thread after `seconds`."""
    def handler(signum, frame):
        raise TimeoutError("timed out after %ss" % seconds)
    old = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------------------
# Raw connections and process figures, for hostile-client and limits tests

import io as _io


def proc_memory_kib(pid):
    """(VmRSS, VmHWM) of a process in KiB, from /proc/PID/status."""
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


def open_fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def raise_nofile(want):
    """Raises this process's RLIMIT_NOFILE soft limit to `want` (capped by the hard limit);
    returns the new soft limit."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


class RawConn:
    """A socket that sends bytes exactly as given and parses responses itself, so tests
    can see interim (100) responses, pipelined answers and where the server closes."""

    def __init__(self, host, port, timeout=10, tls=None, server_hostname=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buf = bytearray()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def read_response(self, method="GET"):
        """Reads one response (interim ones too) and returns a Response."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        head = bytes(self.buf[:end + 4])
        del self.buf[:end + 4]
        status_line, _, rest = head.partition(b"\r\n")
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise AssertionError("bad status line %r" % status_line)
        status = int(parts[1])
        headers = http.client.parse_headers(_io.BytesIO(rest))
        n = 0
        if method != "HEAD" and status >= 200 and status not in (204, 304):
            n = int(headers.get("Content-Length", "0"))
        while len(self.buf) < n:
            self._fill()
        body = bytes(self.buf[:n])
        del self.buf[:n]
        return Response(status, headers, body, parts[2] if len(parts) > 2 else "")

    def closed_by_peer(self, timeout):
        """True if the server closes (EOF or reset) within `timeout`; data is discarded."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        except ssl.SSLError:  # e.g. the peer closed without close_notify
            return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def recv_until_closed(sock, chunk=1 << 20):
    """Reads until the peer closes (or resets) the connection; returns the bytes received."""
    got = 0
    try:
        while True:
            data = sock.recv(chunk)
            if not data:
                break
            got += len(data)
    except ConnectionResetError:
        pass
    return got
