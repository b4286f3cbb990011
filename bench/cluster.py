#!/usr/bin/env python3
"""Berth cluster benchmark: one node vs three behind nginx, over PostgreSQL + Azurite.

    bench/cluster.sh build/berth          (BENCH_QUICK=1: 5 s runs, 1 round)

Configurations, all behind nginx (docs/scale-out.md's block, 2 workers), all started at
once so that the manifest GET rounds can be interleaved:
  a  embedded default: 1 node, SQLite + filesystem
  b  1 node, PostgreSQL + Azurite
  c  3 nodes, PostgreSQL + Azurite, round robin
  d  as c with storage.redirect: true (blob GETs answer 307 to an Azurite SAS URL)
plus nginx serving the same bytes as static files (the ceiling). Every node runs with
`auth: none` (the load is about the data path, not credentials), log level warn and no
access log. Each PostgreSQL configuration has its own database and container.

The cached-manifest claim: pg_stat_database of c's database is read around the manifest
GET run of c and around an idle window of the same length (the change feed's heartbeats
and the leases run all the time); the difference, per 1,000 GETs, must be ~0.

Everything listens on 127.0.0.1 in temp dirs; every process started here is killed on
exit (also on Ctrl-C / SIGTERM). Output: the table on stdout, bench/out/cluster.json.
"""
import atexit
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import berthtest  # noqa: E402
import engines  # noqa: E402

OCI_MT = "application/vnd.oci.image.manifest.v1+json"
REPO = "bench/app"
QUICK = os.environ.get("BENCH_QUICK") == "1"
DUR = 5 if QUICK else 10
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or (1 if QUICK else 3))
PUSH_MIB = 64
PUSH_TRIES = 3
FOLLOW_GETS = 160 if QUICK else 480   # 1 MiB GETs per configuration in the curl follow run
SETTLE = 11   # PostgreSQL 15 flushes an idle backend's statistics within 10 s

START = time.monotonic()
PROCS = []    # (name, Popen) started here, killed on exit
TMP = tempfile.mkdtemp(prefix="berth-cluster-bench-")
os.chmod(TMP, 0o755)  # nginx workers may run as nobody


def log(msg):
    sys.stderr.write("[%5.0fs] %s\n" % (time.monotonic() - START, msg))
    sys.stderr.flush()


def cleanup():
    for _, p in reversed(PROCS):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for _, p in PROCS:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)
    engines._stop_all()
    for d in berthtest._TEMP_DIRS + [TMP]:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))


def spawn(name, argv, logpath, env=None):
    with open(logpath, "ab") as out:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             start_new_session=True, env=env)
    PROCS.append((name, p))
    return p


def http_status(url, method="GET", headers=None):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=2) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except OSError:
        return 0, {}, b""


def wait_v2(port, proc, logpath, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("exited with %s:\n%s" % (proc.returncode, engines._tail(logpath)))
        if http_status("http://127.0.0.1:%d/v2/" % port)[0] == 200:
            return
        time.sleep(0.1)
    raise SystemExit("127.0.0.1:%d/v2/ not ready in %d s:\n%s" % (port, seconds, engines._tail(logpath)))


# ------------------------------------------------------------------------- servers

class Config:
    def __init__(self, key, title, nodes, db=None, container=None, redirect=False):
        self.key, self.title, self.n, self.db, self.container, self.redirect = \
            key, title, nodes, db, container, redirect
        self.nodes = []   # (port, Popen)
        self.port = None  # nginx in front


def start_config(cfg, berth, pg, az):
    d = os.path.join(TMP, cfg.key)
    os.makedirs(d)
    text = "auth: none\nlog:\n  level: warn\n  access: false\nserver:\n  trusted_proxies: [127.0.0.1/32]\n"
    env = dict(os.environ)
    if cfg.db:
        dsn = pg.create_database(cfg.db)
        az.create_container(cfg.container)
        text += "meta:\n  driver: postgresql\n  dsn: '%s'\n" % dsn
        text += "storage:\n  driver: azure\n"
        if cfg.redirect:
            text += "  redirect: true\n"
        text += "  azure: {container: %s, endpoint: '%s'}\n" % (cfg.container, az.endpoint)
        env.update(az.env())
    conf = os.path.join(d, "berth.yml")
    with open(conf, "w") as f:
        f.write(text)
    for i in range(cfg.n):
        port = berthtest._free_port()
        nd = os.path.join(d, "node%d" % i)
        os.makedirs(os.path.join(nd, "data"))
        lp = os.path.join(nd, "stderr.log")
        p = spawn("berth-%s%d" % (cfg.key, i), [berth, "serve", "--config", conf, "--listen", "127.0.0.1:%d" % port,
                                                "--data", os.path.join(nd, "data")], lp, env=env)
        wait_v2(port, p, lp)
        cfg.nodes.append((port, p, lp))
    cfg.port = start_nginx(os.path.join(d, "nginx"), ["127.0.0.1:%d" % p for p, _, _ in cfg.nodes])
    log("%s: %s; nodes %s; nginx 127.0.0.1:%d" % (cfg.key, cfg.title, " ".join(str(p) for p, _, _ in cfg.nodes),
                                                   cfg.port))


def nginx_head(d):
    tmp = os.path.join(d, "tmp")
    os.makedirs(tmp)
    temps = "".join("  %s_temp_path %s;\n" % (k, os.path.join(tmp, k))
                    for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return ("worker_processes 2;\ndaemon off;\nmaster_process on;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
            "events { worker_connections 4096; }\nhttp {\n  access_log off;\n%s" % (d, d, temps))


def run_nginx(d, conf_text):
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    p = spawn("nginx", ["nginx", "-p", d + "/", "-c", conf, "-e", os.path.join(d, "error.log")],
              os.path.join(d, "stdout.log"))
    return p


def start_nginx(d, upstreams):
    """docs/scale-out.md's block, the nodes' loopback addresses substituted, 2 workers."""
    os.makedirs(d)
    port = berthtest._free_port()
    block = engines.docs_cluster_nginx_config()
    servers = "".join("    server %s;\n" % u for u in upstreams)
    block = re.sub(r"upstream berth \{\n(?:\s+server [^\n]*\n)+", "upstream berth {\n" + servers, block)
    block = block.replace("listen 80;", "listen 127.0.0.1:%d backlog=4096;" % port)
    p = run_nginx(d, nginx_head(d) + block + "}\n")
    engines._wait("nginx", lambda: engines._can_connect("127.0.0.1", port), p, os.path.join(d, "error.log"))
    return port


def start_static_nginx(www):
    d = os.path.join(TMP, "static")
    os.makedirs(d)
    port = berthtest._free_port()
    p = run_nginx(d, nginx_head(d) + """
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 300;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=300s;
  types { }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:%d backlog=4096;
    root %s;
    location ~ ^/v2/.+/manifests/ { default_type %s; }
    location / { }
  }
}
""" % (port, www, OCI_MT))
    engines._wait("nginx", lambda: engines._can_connect("127.0.0.1", port), p, os.path.join(d, "error.log"))
    return port


# ------------------------------------------------------------------------- load tools

DONE_LUA = os.path.join(TMP, "done.lua")
with open(DONE_LUA, "w") as f:
    f.write("""function done(s, lat, req)
  io.write(string.format(
    '\\n{"tool":"wrk","duration_s":%.3f,"requests":%d,"rps":%.1f,"bytes":%d,"errors":{"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d},"lat_us":{"p50":%d,"p99":%d,"max":%d}}\\n',
    s.duration / 1e6, s.requests, s.requests / (s.duration / 1e6), s.bytes,
    s.errors.status, s.errors.connect, s.errors.read, s.errors.write, s.errors.timeout,
    lat:percentile(50), lat:percentile(99), lat.max))
end
""")


def wrk(url, threads, conns, headers=()):
    argv = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % DUR, "--timeout", "5s", "-s", DONE_LUA]
    for h in headers:
        argv += ["-H", h]
    try:
        out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=DUR + 60).stdout
    except subprocess.TimeoutExpired:
        out = ""
    lines = [l for l in out.splitlines() if l.startswith('{"tool":"wrk"')]
    if not lines:
        return {"tool": "wrk", "requests": 0, "rps": 0.0, "bytes": 0, "duration_s": 0, "errors": {"wrk_failed": 1}}
    d = json.loads(lines[-1])
    d["errors"] = {k: v for k, v in d["errors"].items() if v}
    d["mbps"] = round(d["bytes"] / d["duration_s"] / 1e6, 1) if d["duration_s"] else 0.0
    return d


def curl_follow(url, n):
    """n GETs of the 1 MiB blob, 16 at a time on reused connections, following redirects
    (to Azurite for d): what a client gets."""
    cfgfile = os.path.join(TMP, "curl-%d.cfg" % len(os.listdir(TMP)))
    with open(cfgfile, "w") as f:
        for _ in range(n):
            f.write('url = "%s"\noutput = "/dev/null"\n' % url)
    t0 = time.monotonic()
    r = subprocess.run(["curl", "-s", "-L", "-Z", "--parallel-max", "16", "-K", cfgfile,
                        "-w", "%{http_code} %{size_download} %{num_redirects}\\n"],
                       capture_output=True, text=True, timeout=300)
    wall = time.monotonic() - t0
    rows = [l.split() for l in r.stdout.splitlines() if l.strip()]
    ok = [int(b) for c, b, _ in rows if c == "200" and int(b) == 1 << 20]
    redirected = sum(1 for _, _, k in rows if k != "0")
    errs = {"bad_responses": n - len(ok)} if len(ok) != n else {}
    return {"tool": "curl -Z --parallel-max 16 -L", "gets": n, "ok": len(ok), "redirected": redirected,
            "wall_s": round(wall, 3), "mbps": round(sum(ok) / wall / 1e6, 1), "errors": errs}


def push(port, src, tries):
    """POST + monolithic PUT (curl -T) of a PUSH_MIB blob through the front, new content
    each try; HEAD must then answer 200."""
    rows = []
    for t in range(1, tries + 1):
        dg = json.loads(subprocess.run([sys.executable, os.path.join(HERE, "seed.py"), "patch", src,
                                        "push-%d-%d" % (port, t)], capture_output=True, text=True).stdout)["digest"]
        repo = "bench/push%d" % t
        t0 = time.monotonic()
        st, h, _ = http_status("http://127.0.0.1:%d/v2/%s/blobs/uploads/" % (port, repo), "POST",
                               {"Content-Length": "0"})
        loc = h.get("Location", "") if st == 202 else ""
        if not loc:
            rows.append({"post": st, "ok": False})
            continue
        if loc.startswith("/"):
            loc = "http://127.0.0.1:%d%s" % (port, loc)
        loc += ("&" if "?" in loc else "?") + "digest=" + dg.replace(":", "%3A")
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "300", "-X", "PUT", "-H", "Expect:",
                            "-H", "Content-Type: application/octet-stream", "-T", src, "-w", "%{http_code}", loc],
                           capture_output=True, text=True)
        secs = time.monotonic() - t0
        head = http_status("http://127.0.0.1:%d/v2/%s/blobs/%s" % (port, repo, dg), "HEAD")[0]
        rows.append({"put": r.stdout.strip(), "head": head, "s": round(secs, 3),
                     "ok": r.stdout.strip() == "201" and head == 200})
    ok = [r["s"] for r in rows if r["ok"]]
    size = os.path.getsize(src)
    return {"tool": "POST + curl -T PUT, best of %d" % tries, "tries": rows,
            "mbps": round(size / min(ok) / 1e6, 1) if ok else 0.0,
            "median_mbps": round(size / statistics.median(ok) / 1e6, 1) if ok else 0.0,
            "errors": {"failed_pushes": len(rows) - len(ok)} if len(ok) != len(rows) else {}}


def cpu_s(pid):
    """user + system CPU seconds of a process and its waited-for children."""
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")


def with_cpu(who, fn):
    """fn()'s result with the CPU seconds each of `who` (name -> [pids]) spent meanwhile."""
    before = {k: sum(cpu_s(p) for p in v) for k, v in who.items()}
    r = fn()
    r["cpu_s"] = {k: round(sum(cpu_s(p) for p in v) - before[k], 2) for k, v in who.items()}
    return r


def pg_counters(pg, db):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "berth", "-d", "postgres", "-Atqc",
                          "SELECT xact_commit + xact_rollback, tup_returned, tup_fetched FROM pg_stat_database "
                          "WHERE datname = '%s'" % db], capture_output=True, text=True, check=True).stdout
    x, r, f = (int(v) for v in out.strip().split("|"))
    return {"xact": x, "tup_returned": r, "tup_fetched": f, "t": time.monotonic()}


def pg_pids(pg):
    """the postmaster and its backends (runuser's child and its children)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pg.proc.pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pg_cost(pg, db, load):
    """PostgreSQL work caused by `load()` (returns a wrk result) above the background:
    an idle window and the load window, each followed by SETTLE s for statistics to be
    flushed, counters scaled by the window lengths."""
    # autovacuum after the pushes would count in one window and not the other
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "berth", "-d", db, "-qc", "VACUUM ANALYZE"],
                   check=True, capture_output=True)
    time.sleep(SETTLE)
    s0 = pg_counters(pg, db)
    time.sleep(DUR + SETTLE)
    s1 = pg_counters(pg, db)
    res = load()
    time.sleep(SETTLE)
    s2 = pg_counters(pg, db)
    t_idle, t_load = s1["t"] - s0["t"], s2["t"] - s1["t"]
    out = {"idle_window_s": round(t_idle, 1), "load_window_s": round(t_load, 1), "requests": res["requests"]}
    for k in ("xact", "tup_returned", "tup_fetched"):
        idle, busy = s1[k] - s0[k], s2[k] - s1[k]
        extra = busy - idle * t_load / t_idle
        out[k] = {"idle": idle, "load": busy, "above_idle": round(extra, 1),
                  "per_1000_requests": round(extra * 1000 / res["requests"], 3) if res["requests"] else None}
    return res, out


# ------------------------------------------------------------------------- run

def main():
    berth_src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "berth")
    for tool in ("nginx", "wrk", "curl", "psql"):
        if not shutil.which(tool):
            raise SystemExit("cluster.sh: missing %s" % tool)
    berth = os.path.join(TMP, "berth")
    shutil.copy(berth_src, berth)   # a rebuild during the run must not change what is measured
    load_start = open("/proc/loadavg").read().split()[:3]
    if float(load_start[0]) > 1.0:
        log("WARNING: load average %s before the run: other work skews the figures" % " ".join(load_start))
    log("mode %s: wrk %d s, %d manifest round(s), push %d MiB x%d" % ("QUICK" if QUICK else "FULL", DUR, ROUNDS,
                                                                      PUSH_MIB, PUSH_TRIES))

    pg = engines.Postgres().start()
    az = engines.Azurite(container="unused").start()
    log("postgres 127.0.0.1:%d, azurite %s" % (pg.port, az.endpoint))
    cfgs = [Config("a", "1 node, SQLite + filesystem (embedded default)", 1),
            Config("b", "1 node, PostgreSQL + Azurite", 1, "bench_b", "benchb"),
            Config("c", "3 nodes, PostgreSQL + Azurite", 3, "bench_c", "benchc"),
            Config("d", "3 nodes, PostgreSQL + Azurite, storage.redirect", 3, "bench_d", "benchd", redirect=True)]
    for c in cfgs:
        start_config(c, berth, pg, az)

    content = os.path.join(TMP, "content")
    subprocess.run([sys.executable, os.path.join(HERE, "seed.py"), "content", content, "--big-mib", str(PUSH_MIB)],
                   check=True, stdout=subprocess.DEVNULL)
    ct = json.load(open(os.path.join(content, "content.json")))
    mid = ct["blobs"]["mid"]["digest"]
    mbytes = open(ct["manifest"]["path"], "rb").read()
    www = os.path.join(TMP, "www")
    subprocess.run([sys.executable, os.path.join(HERE, "seed.py"), "nginx-tree", content, www, REPO], check=True,
                   stdout=subprocess.DEVNULL)
    static_port = start_static_nginx(www)
    fronts = [(c.key, c.port) for c in cfgs] + [("nginx", static_port)]

    problems = []
    for c in cfgs:
        log("seeding %s through nginx" % c.key)
        r = subprocess.run([sys.executable, os.path.join(HERE, "seed.py"), "push", str(c.port), REPO, content],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            problems.append("seeding %s failed: %s" % (c.key, (r.stdout + r.stderr)[-300:]))
    # every node must serve the pushed manifest (and so has it cached before timing)
    for key, port in fronts:
        nodes = next((c.nodes for c in cfgs if c.key == key), [(port, None, None)])
        for p, _, _ in nodes:
            st, h, body = http_status("http://127.0.0.1:%d/v2/%s/manifests/latest" % (p, REPO),
                                      headers={"Accept": OCI_MT})
            if st != 200 or body != mbytes:
                problems.append("%s 127.0.0.1:%d manifest GET -> %d, not the pushed bytes" % (key, p, st))
    st, h, _ = http_status("http://127.0.0.1:%d/v2/%s/blobs/%s" % (cfgs[3].port, REPO, mid))
    redirect_to = h.get("Location", "") if st == 307 else ""
    if not redirect_to.startswith("http://127.0.0.1:%d/" % az.port):
        problems.append("d: blob GET -> %d, Location %r (expected 307 to Azurite)" % (st, redirect_to[:80]))

    res = {"manifest": {k: [] for k, _ in fronts}}
    man_url = "http://127.0.0.1:%d/v2/" + REPO + "/manifests/latest"
    for rnd in range(1, ROUNDS + 1):
        for key, port in fronts:
            log("manifest GET by tag, c32: %s (round %d/%d)" % (key, rnd, ROUNDS))
            res["manifest"][key].append(wrk(man_url % port, 1, 32, ["Accept: " + OCI_MT]))

    def cpu_who(key):
        c = next((c for c in cfgs if c.key == key), None)
        who = {"azurite": [az.proc.pid], "postgres": pg_pids(pg)}
        if c:
            who["berth nodes"] = [p.pid for _, p, _ in c.nodes]
        return who
    res["blob1m"] = {}
    for key, port in fronts:
        log("blob GET 1 MiB, wrk c16: %s" % key)
        res["blob1m"][key] = with_cpu(cpu_who(key), lambda: wrk("http://127.0.0.1:%d/v2/%s/blobs/%s"
                                                                 % (port, REPO, mid), 2, 16))
    res["follow"] = {}
    for key, port in fronts:
        log("blob GET 1 MiB x%d, curl c16 following redirects: %s" % (FOLLOW_GETS, key))
        res["follow"][key] = curl_follow("http://127.0.0.1:%d/v2/%s/blobs/%s" % (port, REPO, mid), FOLLOW_GETS)
    if redirect_to:
        log("blob GET 1 MiB x%d, curl c16: Azurite directly (d's redirect URL)" % FOLLOW_GETS)
        res["follow_azurite_direct"] = curl_follow(redirect_to, FOLLOW_GETS)
    res["push"] = {}
    src = os.path.join(TMP, "push.bin")
    shutil.copy(ct["blobs"]["big"]["path"], src)
    for c in cfgs:
        log("push %d MiB x%d through nginx: %s" % (PUSH_MIB, PUSH_TRIES, c.key))
        res["push"][c.key] = with_cpu(cpu_who(c.key), lambda: push(c.port, src, PUSH_TRIES))
    os.unlink(src)

    log("PostgreSQL work of the manifest GET on c (idle window, then wrk, %d s each + %d s settle)" % (DUR, SETTLE))
    man_c, pg_man = pg_cost(pg, "bench_c", lambda: wrk(man_url % cfgs[2].port, 1, 32, ["Accept: " + OCI_MT]))
    log("PostgreSQL work of the redirected blob GET on d (same)")
    blob_d, pg_blob = pg_cost(pg, "bench_d", lambda: wrk("http://127.0.0.1:%d/v2/%s/blobs/%s"
                                                         % (cfgs[3].port, REPO, mid), 2, 16))
    res["pg"] = {"manifest_get_c": dict(pg_man, wrk=man_c), "redirect_blob_get_d": dict(pg_blob, wrk=blob_d)}

    for c in cfgs:
        for p, proc, lp in c.nodes:
            if proc.poll() is not None:
                problems.append("%s node 127.0.0.1:%d exited with %s" % (c.key, p, proc.returncode))
            errs = [l[:200] for l in open(lp, errors="replace") if re.search(r'"level":\s*"(error|fatal)"', l)]
            if errs:
                problems.append("%s node %d: %d error lines, first: %s" % (c.key, p, len(errs), errs[0]))
    load_end = open("/proc/loadavg").read().split()[:3]
    meta = {"quick": QUICK, "wrk_duration_s": DUR, "manifest_rounds": ROUNDS, "push_mib": PUSH_MIB,
            "follow_gets": FOLLOW_GETS, "settle_s": SETTLE, "cores": os.cpu_count(),
            "loadavg_start": " ".join(load_start), "loadavg_end": " ".join(load_end),
            "seconds": round(time.monotonic() - START), "date": time.strftime("%Y-%m-%d %H:%M"),
            "berth_binary": berth_src, "configs": {c.key: c.title for c in cfgs},
            "berth_config": "auth: none, log.level warn, log.access false, trusted_proxies 127.0.0.1/32",
            "nginx_front": "docs/scale-out.md block (keepalive 32, no buffering), 2 workers",
            "redirect_location": redirect_to[:120],
            "versions": {"nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
                         "postgres": subprocess.run([os.path.join(engines.PG_BIN, "postgres"), "--version"],
                                                    capture_output=True, text=True).stdout.strip()}}
    report(res, meta, problems)


def fmt(v):
    if v is None:
        return "n/a"
    return "{:,.0f}".format(v) if v >= 100 else "{:.1f}".format(v)


def ratio(x, a):
    return "%.2fx" % (x / a) if x is not None and a else "n/a"


def merge_errors(dicts):
    out = {}
    for d in dicts:
        for e, n in d.items():
            out[e] = out.get(e, 0) + n
    return out


def report(res, meta, problems):
    keys = ["a", "b", "c", "d", "nginx"]
    rows = []   # (label, {key: value}, {key: errors}, {key: ratio text or None})
    man = res["manifest"]
    med = {k: statistics.median(r["rps"] for r in man[k]) for k in keys}
    # per-round ratio to a, median: noise of the shared box hits a round's a and x alike
    man_ratio = {k: statistics.median(r["rps"] / ra["rps"] if ra["rps"] else 0 for r, ra in zip(man[k], man["a"]))
                 for k in keys}
    rows.append(("manifest GET by tag, c32 (req/s)", med,
                 {k: merge_errors(r["errors"] for r in man[k]) for k in keys},
                 {k: "%.2fx" % man_ratio[k] for k in keys}))
    b = res["blob1m"]
    rows.append(("blob GET 1 MiB, wrk c16: answers/s (d: 307s)", {k: b[k]["rps"] for k in keys},
                 {k: b[k]["errors"] for k in keys}, None))
    rows.append(("  bytes leaving the nodes (MB/s)", {k: b[k]["mbps"] for k in keys},
                 {k: {} for k in keys}, None))
    f = res["follow"]
    rows.append(("blob GET 1 MiB, client following redirects, curl c16 (MB/s)", {k: f[k]["mbps"] for k in keys},
                 {k: f[k]["errors"] for k in keys}, None))
    p = res["push"]
    rows.append(("push %d MiB through nginx, best of %d (MB/s)" % (meta["push_mib"], PUSH_TRIES),
                 {k: (p[k]["mbps"] if k in p else None) for k in keys},
                 {k: p.get(k, {}).get("errors", {}) for k in keys}, None))
    rows.append(("  median of %d (MB/s)" % PUSH_TRIES, {k: (p[k]["median_mbps"] if k in p else None) for k in keys},
                 {k: {} for k in keys}, None))

    lines = []
    lines.append("Berth cluster benchmark, %s, %d cores, load average %s at start, %s at end, %d s%s"
                 % (meta["date"], meta["cores"], meta["loadavg_start"], meta["loadavg_end"], meta["seconds"],
                    " (QUICK)" if meta["quick"] else ""))
    for k, t in meta["configs"].items():
        lines.append("  %s = %s" % (k, t))
    lines.append("  every configuration behind nginx (docs/scale-out.md, 2 workers); nodes: %s" % meta["berth_config"])
    lines.append("")
    lines.append("| row | a | b | c | d | nginx static | b/a | c/a | d/a | nginx/a |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    table = []
    for label, vals, errs, ratios in rows:
        bad = any(errs[k] for k in keys)
        cells = []
        for k in keys:
            c = fmt(vals[k])
            if errs[k]:
                c += " !!" + ",".join("%s=%s" % kv for kv in errs[k].items())
            cells.append(c)
        rs = [ratios[k] if ratios else ratio(vals[k], vals["a"]) for k in ("b", "c", "d", "nginx")]
        lines.append("| %s%s | %s | %s |" % ("!! " if bad else "", label, " | ".join(cells), " | ".join(rs)))
        table.append({"row": label, "values": vals, "errors": errs, "ratios_to_a": dict(zip(("b", "c", "d", "nginx"),
                                                                                              rs))})
    pm, pb = res["pg"]["manifest_get_c"], res["pg"]["redirect_blob_get_d"]
    lines.append("")
    lines.append("PostgreSQL work above the idle baseline (pg_stat_database of the configuration's database; "
                 "idle %.0f s vs load %.0f s windows):" % (pm["idle_window_s"], pm["load_window_s"]))
    for name, d in (("c: manifest GET by tag, c32", pm), ("d: blob GET (307), c16", pb)):
        lines.append("  %s: %s requests at %s req/s; transactions %d idle / %d load -> %s per 1,000 requests; "
                     "tup_returned %s per 1,000 (%d idle / %d load); tup_fetched %s per 1,000"
                     % (name, "{:,}".format(d["requests"]), fmt(d["wrk"]["rps"]), d["xact"]["idle"], d["xact"]["load"],
                        d["xact"]["per_1000_requests"], d["tup_returned"]["per_1000_requests"],
                        d["tup_returned"]["idle"], d["tup_returned"]["load"],
                        d["tup_fetched"]["per_1000_requests"]))
    if "follow_azurite_direct" in res:
        lines.append("  Azurite itself (d's SAS URL fetched directly, curl c16): %s MB/s"
                     % fmt(res["follow_azurite_direct"]["mbps"]))
    lines.append("")
    lines.append("CPU seconds during the 1 MiB blob GET wrk run / the pushes (Azurite, PostgreSQL, Berth nodes):")
    for k in keys:
        if "cpu_s" in b[k]:
            lines.append("  %s: GET %s; push %s" % (k, b[k]["cpu_s"], p[k]["cpu_s"] if k in p else "n/a"))
    lines.append("")
    lines.append("Manifest rounds (req/s): " + "; ".join("%s %s" % (k, " ".join(fmt(r["rps"]) for r in man[k]))
                                                        for k in keys))
    lines.append("Push tries (s): " + "; ".join("%s %s" % (k, " ".join(str(t.get("s", "fail")) for t in p[k]["tries"]))
                                               for k in p))
    if problems:
        lines.append("")
        lines.append("Problems:")
        lines.extend("  !! " + x for x in problems)
    print("\n".join(lines))
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    with open(os.path.join(HERE, "out", "cluster.json"), "w") as fh:
        json.dump({"meta": meta, "table": table, "raw": res, "problems": problems}, fh, indent=1)
    log("wrote bench/out/cluster.json")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
