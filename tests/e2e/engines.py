"""The real servers the scale-out tests run Berth against, each started by the test on
loopback in a temp dir and stopped at exit: PostgreSQL (Debian's, as the postgres user),
Azurite and s3rver (npm, tests/e2e/js) and nginx in front of several nodes.

Every class has start() and stop(); start() raises EngineUnavailable when the program is
not installed, which a test turns into a skip (or a failure under CI=true, see require())."""
import atexit
import base64
import datetime
import hashlib
import hmac
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import threading
import time
import unittest
import urllib.request

from berthtest import REPO_ROOT, _can_connect, _free_port, mkdtemp

NODE_BIN = os.path.join(REPO_ROOT, "tests", "e2e", "js", "node_modules", ".bin")
PG_BIN = "/usr/lib/postgresql/15/bin"

# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
S3RVER_KEY = "S3RVER"

_RUNNING = []


class EngineUnavailable(Exception):
    pass


def require(engine):
    """Starts `engine`; skips the test when its program is missing, except under CI=true,
    where a missing engine is a failure (make test installs them all)."""
    try:
        return engine.start()
    except EngineUnavailable as e:
        if os.environ.get("CI") == "true":
            raise AssertionError("CI=true and %s" % e)
        raise unittest.SkipTest(str(e))


def _wait(what, ready, proc, log, timeout=30):
    deadline = time.monotonic() + timeout
    while not ready():
        if proc is not None and proc.poll() is not None:
            raise AssertionError("%s exited with %s:\n%s" % (what, proc.returncode, _tail(log)))
        if time.monotonic() > deadline:
            raise AssertionError("%s not ready within %ds:\n%s" % (what, timeout, _tail(log)))
        time.sleep(0.05)


def _tail(path, n=4000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return "(no log)"


class _Process:
    def _spawn(self, argv, log, **kw):
        self.log = log
        self.argv, self.spawn_kw = argv, kw
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         start_new_session=True, **kw)
        _RUNNING.append(self)

    def stop(self, graceful=False):
        """Kills the program (SIGKILL), or with graceful=True asks it to exit (SIGTERM), as
        Azurite needs to keep its data for resume()."""
        p = getattr(self, "proc", None)
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)

    def resume(self):
        """Starts the program again after stop(), on the same port and data (an outage ends)."""
        self.stop(graceful=True)
        _RUNNING.remove(self)
        self._spawn(self.argv, self.log, **self.spawn_kw)
        _wait(self.argv[0], lambda: _can_connect("127.0.0.1", self.port), self.proc, self.log)
        return self


class Postgres(_Process):
    """PostgreSQL 15 in a temp dir, listening on 127.0.0.1:<free port> (trust auth), user
    berth. initdb refuses root, so as root it runs as the postgres user."""

    def start(self):
        if not os.path.exists(os.path.join(PG_BIN, "initdb")):
            raise EngineUnavailable("PostgreSQL is not installed (%s/initdb)" % PG_BIN)
        self.dir = mkdtemp("berth-e2e-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        as_user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chmod(self.dir, 0o755)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        self.as_user = as_user
        log = os.path.join(self.dir, "initdb.log")
        with open(log, "wb") as out:
            rc = subprocess.call(as_user + [os.path.join(PG_BIN, "initdb"), "-D", self.data, "-A", "trust",
                                            "-U", "berth", "--no-sync"], stdout=out, stderr=out)
        if rc != 0:
            raise AssertionError("initdb failed:\n" + _tail(log))
        self._spawn(as_user + [os.path.join(PG_BIN, "postgres"), "-D", self.data, "-p", str(self.port),
                               "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + self.dir,
                               "-c", "fsync=on", "-c", "max_connections=200"],
                    os.path.join(self.dir, "postgres.log"))
        _wait("postgres", lambda: self._psql("postgres", "select 1", check=False) == 0, self.proc, self.log)
        return self

    def stop(self, graceful=False):
        """Fast shutdown (SIGINT: clients are disconnected, nothing committed is lost), and
        waits until the postmaster is gone, so that resume() can start it again."""
        p = getattr(self, "proc", None)
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
        deadline = time.monotonic() + 30
        while os.path.exists(os.path.join(self.data, "postmaster.pid")) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _psql(self, db, sql, check=True):
        rc = subprocess.call(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "berth", "-d", db,
                              "-v", "ON_ERROR_STOP=1", "-qc", sql],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if check and rc != 0:
            raise AssertionError("psql %r failed (%d)" % (sql, rc))
        return rc

    def create_database(self, name):
        self._psql("postgres", "CREATE DATABASE %s" % name)
        return self.dsn(name)

    def dsn(self, db):
        return "postgresql://berth@127.0.0.1:%d/%s" % (self.port, db)


class S3rver(_Process):
    """s3rver (npm) with one bucket, keys S3RVER / S3RVER, behind js/s3rver_sigv4.mjs: a
    front that checks every request's SigV4 signature with the AWS SDK's signer (s3rver
    itself accepts any) and answers 403 as S3 does. virtual_host=True configures Berth for
    virtual-host style: the endpoint is http://s3.localhost:PORT, so the bucket's host is
    BUCKET.s3.localhost:PORT (libcurl resolves *.localhost to loopback; other clients can
    use `proxy` as their HTTP proxy to reach it)."""

    def __init__(self, bucket="registry", virtual_host=False):
        self.bucket = bucket
        self.virtual_host = virtual_host

    def start(self):
        js = os.path.join(REPO_ROOT, "tests", "e2e", "js")
        for need in ("s3rver", os.path.join("@smithy", "signature-v4")):
            if not os.path.isdir(os.path.join(js, "node_modules", need)):
                raise EngineUnavailable("%s is not installed (scripts/install-npm.sh)" % need)
        self.dir = mkdtemp("berth-e2e-s3-")
        self.port = _free_port()
        self.checks_log = os.path.join(self.dir, "..checks.jsonl")
        self._spawn(["node", os.path.join(js, "s3rver_sigv4.mjs"), "--directory", self.dir,
                     "--port", str(self.port), "--bucket", self.bucket, "--log", self.checks_log],
                    os.path.join(self.dir, "..log"))
        _wait("s3rver", lambda: _can_connect("127.0.0.1", self.port), self.proc, self.log)
        return self

    @property
    def endpoint(self):
        return "http://%s:%d" % ("s3.localhost" if self.virtual_host else "127.0.0.1", self.port)

    @property
    def proxy(self):
        return "http://127.0.0.1:%d" % self.port

    def env(self):
        return {"AWS_ACCESS_KEY_ID": S3RVER_KEY, "AWS_SECRET_ACCESS_KEY": S3RVER_KEY}

    def config(self):
        return ("storage:\n  driver: s3\n  s3: {bucket: %s, region: us-east-1, endpoint: '%s', path_style: %s}\n"
                % (self.bucket, self.endpoint, "false" if self.virtual_host else "true"))

    def signature_checks(self):
        """The front's verdict on each request so far: dicts of method, host, path, auth
        ("header" or "query" when it passed, else S3's error code), ok, reason."""
        try:
            with open(self.checks_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


class Azurite(_Process):
    """Azurite's blob service (npm) with the well-known development account and one
    container, created with a Shared Key request."""

    def __init__(self, container="registry"):
        self.container = container

    def start(self):
        exe = os.path.join(NODE_BIN, "azurite-blob")
        if not os.path.exists(exe):
            raise EngineUnavailable("azurite is not installed (%s; scripts/install-npm.sh)" % exe)
        self.dir = mkdtemp("berth-e2e-azurite-")
        self.port = _free_port()
        self._spawn([exe, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", self.dir,
                     "--skipApiVersionCheck", "--silent"], os.path.join(self.dir, "..log"))
        _wait("azurite", lambda: _can_connect("127.0.0.1", self.port), self.proc, self.log)
        self.create_container(self.container)
        return self

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d/%s" % (self.port, AZURITE_ACCOUNT)

    def env(self):
        return {"AZURE_STORAGE_ACCOUNT": AZURITE_ACCOUNT, "AZURE_STORAGE_KEY": AZURITE_KEY}

    def config(self):
        return "storage:\n  driver: azure\n  azure: {container: %s, endpoint: '%s'}\n" % (self.container,
                                                                                      self.endpoint)

    def create_container(self, name):
        """PUT ?restype=container signed with Shared Key (the documented string-to-sign)."""
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
        version = "2021-08-06"
        path = "/%s/%s" % (AZURITE_ACCOUNT, name)
        to_sign = "\n".join(["PUT", "", "", "", "", "", "", "", "", "", "", "",
                             "x-ms-date:" + date, "x-ms-version:" + version,
                             "/%s%s\nrestype:container" % (AZURITE_ACCOUNT, path)])
        sig = base64.b64encode(hmac.new(base64.b64decode(AZURITE_KEY), to_sign.encode(), hashlib.sha256).digest())
        req = urllib.request.Request("http://127.0.0.1:%d%s?restype=container" % (self.port, path), method="PUT",
                                     headers={"x-ms-date": date, "x-ms-version": version,
                                              "Authorization": "SharedKey %s:%s" % (AZURITE_ACCOUNT, sig.decode())})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 201, r.status


def start_together(servers):
    """Starts Berth nodes at the same time, as a fleet restarts (the schema, the first admin
    and the signing key are made once, whichever node gets there first); raises the first
    start error."""
    errors = []

    def start(node):
        try:
            node.start()
        except Exception as e:  # noqa: BLE001 - raised below
            errors.append(e)
    threads = [threading.Thread(target=start, args=(node,)) for node in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return servers


def docs_cluster_nginx_config():
    """The nginx block of docs/scale-out.md: the documented configuration is the tested one."""
    with open(os.path.join(REPO_ROOT, "docs", "scale-out.md")) as f:
        m = re.search(r"```nginx\n(.*?)```", f.read(), re.S)
    assert m, "no nginx block in docs/scale-out.md"
    return m.group(1)


class Nginx(_Process):
    """nginx in front of several Berth nodes, with docs/scale-out.md's configuration (round
    robin; the nodes' addresses and the listen port substituted)."""

    def __init__(self, nodes):
        self.nodes = nodes

    def start(self):
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(exe):
            raise EngineUnavailable("nginx is not installed")
        self.dir = mkdtemp("berth-e2e-nginx-")
        self.port = _free_port()
        block = docs_cluster_nginx_config()
        servers = "".join("    server %s max_fails=1 fail_timeout=2s;\n" % n for n in self.nodes)
        block = re.sub(r"upstream berth \{\n(?:\s+server [^\n]*\n)+", "upstream berth {\n" + servers, block)
        block = block.replace("listen 80;", "listen 127.0.0.1:%d;" % self.port)
        tmp = os.path.join(self.dir, "tmp")
        os.makedirs(tmp)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("daemon off;\nmaster_process off;\npid %s;\nerror_log %s info;\n"
                    "events {}\nhttp {\n  access_log off;\n" % (os.path.join(self.dir, "nginx.pid"),
                                                              os.path.join(self.dir, "error.log")))
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                f.write("  %s_temp_path %s;\n" % (kind, os.path.join(tmp, kind)))
            f.write(block + "}\n")
        self._spawn([exe, "-p", self.dir, "-c", conf, "-e", os.path.join(self.dir, "error.log")],
                    os.path.join(self.dir, "error.log"))
        _wait("nginx", lambda: _can_connect("127.0.0.1", self.port), self.proc, self.log)
        return self

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port


@atexit.register
def _stop_all():
    for e in reversed(_RUNNING):
        try:
            e.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
