#!/usr/bin/env bash
# Berth benchmark: Berth vs CNCF distribution (docker-registry) vs nginx (static ceiling).
#
#   bench/run.sh [BERTH_BINARY]        (make bench)
#   BENCH_QUICK=1 bench/run.sh ...     smoke run: smaller sizes, 5 s wrk runs
#   BENCH_ROUNDS=N bench/run.sh ...    interleaved rounds of the manifest GET (default 3; 1 quick)
#   BENCH_ONLY="manifest head blob1m bigget push c1000 listing"   subset of measurements
#
# Everything runs on 127.0.0.1 with fresh temp dirs; all processes and temp dirs
# are removed on exit. Results: printed table + bench/out/results.json.
# A missing/non-executable BERTH_BINARY leaves the Berth column "n/a".
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BERTH=${1:-}
QUICK=${BENCH_QUICK:-0}
ONLY=${BENCH_ONLY:-manifest auth head blob1m bigget push c1000 listing}
OUT=$HERE/out
OCI_MT="application/vnd.oci.image.manifest.v1+json"
REPO=bench/app

if [[ $QUICK == 1 ]]; then
  DUR=5; BIG_MIB=64; LIST_REPOS=1000; LIST_TAGS=1000; BIG_GETS=3
else
  DUR=10; BIG_MIB=256; LIST_REPOS=10000; LIST_TAGS=10000; BIG_GETS=5
fi
PUSH_TRIES=3
C1000=1000
ROUNDS=${BENCH_ROUNDS:-$([[ $QUICK == 1 ]] && echo 1 || echo 3)}
C1000_ROUNDS=$([[ $QUICK == 1 ]] && echo 1 || echo 3)
C1000_MAX_S=$([[ $QUICK == 1 ]] && echo 30 || echo 60)
SEED_THREADS=${BENCH_SEED_THREADS:-8}
BENCH_START=$(date +%s)
BENCH_MAX_S=${BENCH_MAX_S:-1200}   # hard bound on the whole run

for tool in docker-registry nginx wrk curl python3 cc timeout; do
  command -v "$tool" >/dev/null || { echo "run.sh: missing $tool (make deps / scripts/install-deps.sh --bench)" >&2; exit 2; }
done

mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/berth-bench.XXXXXX)
chmod 755 "$TMP"   # nginx workers may run as nobody
RES=$TMP/results.jsonl
: > "$RES"
declare -A PID=()
SERVERS=()

cleanup() {
  local p
  for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in "${PID[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for p in "${PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

HARD=$(ulimit -Hn)
[[ $HARD == unlimited ]] && HARD=65536
(( HARD > 65536 )) && HARD=65536
ulimit -n "$HARD" || true
if (( $(ulimit -n) < C1000 + 200 )); then
  echo "run.sh: ulimit -n is $(ulimit -n); lowering the concurrent test to $(( $(ulimit -n) - 200 )) connections" >&2
  C1000=$(( $(ulimit -n) - 200 ))
fi

log() { printf '[%5ss] %s\n' "$(( $(date +%s) - BENCH_START ))" "$*" >&2; }
over_budget() { (( $(date +%s) - BENCH_START > BENCH_MAX_S )); }
want() { [[ " $ONLY " == *" $1 "* ]]; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# emit METRIC SERVER VALUE UNIT ERRORS_JSON DETAIL_JSON
emit() {
  python3 - "$@" >>"$RES" <<'EOF'
import json, sys
m, s, v, u, e, d = sys.argv[1:7]
try:
    v = float(v)
except ValueError:
    v = None
print(json.dumps({"metric": m, "server": s, "value": v, "unit": u,
                  "errors": json.loads(e or "{}"), "detail": json.loads(d or "{}")}))
EOF
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

wait_http() {  # PORT SECONDS
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/v2/" && return 0
    sleep 0.1
  done
  return 1
}

# ----------------------------------------------------------------- servers
start_distribution() {
  local d=$TMP/distribution
  mkdir -p "$d/data"
  DIST_PORT=$(free_port)
  cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  redirect:
    disable: true
http:
  addr: 127.0.0.1:$DIST_PORT
  secret: berth-bench-local-secret
EOF
  docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
  PID[distribution]=$!
  if wait_http "$DIST_PORT" 20; then
    SERVERS+=(distribution); log "distribution pid ${PID[distribution]} on 127.0.0.1:$DIST_PORT"
  else
    log "distribution failed to start:"; tail -5 "$d/log" >&2
  fi
}

launch_berth() {  # [CONFIG]; sets PID[berth], returns 0 when it serves /v2/
  local d=$TMP/berth i
  rm -rf "$d/data"; mkdir -p "$d/data"
  BERTH_PORT=$(free_port)
  if [[ -n ${1:-} ]]; then
    "$d/berth" serve --config "$1" --listen "127.0.0.1:$BERTH_PORT" --data "$d/data" 2>"$d/log" >"$d/stdout" &
  else
    "$d/berth" serve --listen "127.0.0.1:$BERTH_PORT" --data "$d/data" 2>"$d/log" >"$d/stdout" &
  fi
  PID[berth]=$!
  for i in $(seq 1 200); do
    alive berth || return 1
    # ready: the "listening" log line (not printed at log level warn) or /v2/ answering
    if grep -q '"msg": *"listening"' "$d/log" 2>/dev/null || curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$BERTH_PORT/v2/"; then
      wait_http "$BERTH_PORT" 5 && return 0
      return 1
    fi
    sleep 0.1
  done
  return 1
}

start_berth() {
  BERTH_STATUS="not run (no binary given)"
  BERTH_LOGCFG="n/a"
  [[ -z $BERTH ]] && return
  if [[ ! -x $BERTH ]]; then BERTH_STATUS="not run ($BERTH missing)"; log "$BERTH_STATUS"; return; fi
  local d=$TMP/berth
  mkdir -p "$d"
  cp "$BERTH" "$d/berth"   # a rebuild of build/berth during the run must not change what we measure
  BERTH_STATUS="failed to start"
  if [[ ${BENCH_BERTH_QUIET:-1} == 1 ]] && "$d/berth" serve --help 2>&1 | grep -q -- '--config'; then
    # match distribution: log level warn, no access log
    printf 'auth: none\nlog:\n  level: warn\n  access: false\n' >"$d/config.yml"
    if launch_berth "$d/config.yml"; then
      BERTH_STATUS=ok; BERTH_LOGCFG="--config: log.level warn, log.access false (access log DISABLED)"
    else
      log "berth did not start with $d/config.yml: $(tail -2 "$d/log")"; kill "${PID[berth]}" 2>/dev/null; wait "${PID[berth]}" 2>/dev/null
    fi
  fi
  if [[ $BERTH_STATUS != ok ]]; then
    printf 'auth: none\n' >"$d/auth-none.yml"
    if launch_berth "$d/auth-none.yml"; then BERTH_STATUS=ok; BERTH_LOGCFG="defaults (auth: none): log level info, access log ON"; fi
  fi
  if [[ $BERTH_STATUS == ok ]]; then
    SERVERS=(berth "${SERVERS[@]}")
    log "berth pid ${PID[berth]} on 127.0.0.1:$BERTH_PORT; logging: $BERTH_LOGCFG"
  else
    log "berth failed to start; stderr tail:"; tail -5 "$d/log" >&2
  fi
}

start_nginx() {
  local d=$TMP/nginx tp
  mkdir -p "$d/www" "$d/tmp" "$d/logs"
  NGINX_PORT=$(free_port)
  local temps=""
  for tp in $(nginx -V 2>&1 | grep -o -- '--http-[a-z]*-temp-path' | sed 's/--http-//;s/-temp-path//;s/-/_/g'); do
    mkdir -p "$d/tmp/$tp"; temps+="  ${tp}_temp_path $d/tmp/$tp;"$'\n'
  done
  cat >"$d/nginx.conf" <<EOF
worker_processes 2;
worker_rlimit_nofile $(( $(ulimit -n) ));
daemon off;
master_process on;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 300;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=300s;
  open_file_cache_valid 300s;
$temps
  types { }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    root $d/www;
    location ~ ^/v2/.+/manifests/ { default_type $OCI_MT; }
    location / { }
  }
}
EOF
  nginx -p "$d/" -c "$d/nginx.conf" -e "$d/logs/error.log" >"$d/logs/stdout" 2>&1 &
  PID[nginx]=$!
  if wait_http "$NGINX_PORT" 10 || curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/"; then
    SERVERS+=(nginx); log "nginx pid ${PID[nginx]} on 127.0.0.1:$NGINX_PORT"
  else
    log "nginx failed to start:"; tail -5 "$d/logs/error.log" "$d/logs/stdout" >&2
  fi
}

port_of() { case $1 in berth) echo "$BERTH_PORT" ;; distribution) echo "$DIST_PORT" ;; nginx) echo "$NGINX_PORT" ;; esac; }
is_registry() { [[ $1 == berth || $1 == distribution ]]; }

# ------------------------------------------------------------------ tools
cat >"$TMP/done.lua" <<'EOF'
function done(s, lat, req)
  io.write(string.format(
    '\n{"tool":"wrk","duration_s":%.3f,"requests":%d,"rps":%.1f,"bytes":%d,"errors":{"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d},"lat_us":{"p50":%d,"p99":%d,"max":%d}}\n',
    s.duration / 1e6, s.requests, s.requests / (s.duration / 1e6), s.bytes,
    s.errors.status, s.errors.connect, s.errors.read, s.errors.write, s.errors.timeout,
    lat:percentile(50), lat:percentile(99), lat.max))
end
EOF
cc -O2 -pthread -o "$TMP/loadgen" "$HERE/loadgen.c" || { echo "run.sh: cannot build loadgen.c" >&2; exit 2; }

# run_wrk OUTFILE wrk-args... ; leaves the JSON summary line in OUTFILE.json
run_wrk() {
  local out=$1; shift
  timeout $(( DUR + 60 )) wrk "$@" >"$out.txt" 2>&1
  grep '^{"tool":"wrk"' "$out.txt" | tail -1 >"$out.json"
  [[ -s $out.json ]] || echo '{"tool":"wrk","requests":0,"rps":0,"bytes":0,"errors":{"wrk_failed":1}}' >"$out.json"
}

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": d}))' "$@"; }

# record a wrk/headload JSON as a metric. KIND rps|mbps
record_load() {
  local metric=$1 srv=$2 kind=$3 json=$4 extra=${5:-"{}"}
  python3 - "$metric" "$srv" "$kind" "$json" "$extra" >>"$RES" <<'EOF'
import json, sys
metric, srv, kind, path, extra = sys.argv[1:6]
d = json.load(open(path))
d.update(json.loads(extra))
dur = d.get("duration_s") or 0
if kind == "mbps":
    v, unit = (d["bytes"] / dur / 1e6 if dur else 0.0), "MB/s"
else:
    v, unit = d.get("rps", 0.0), "req/s"
errs = {k: n for k, n in d.get("errors", {}).items() if n}
print(json.dumps({"metric": metric, "server": srv, "value": round(v, 1), "unit": unit, "errors": errs, "detail": d}))
EOF
}

died_check() {
  local s
  for s in "${SERVERS[@]}"; do
    if ! alive "$s"; then
      log "!! $s (pid ${PID[$s]}) is no longer running"
      emit "server_exit" "$s" "" "" '{"died":1}' "{\"after\":\"$1\"}"
      SERVERS=("${SERVERS[@]/$s}")
    fi
  done
  local keep=() x
  for x in "${SERVERS[@]}"; do [[ -n $x ]] && keep+=("$x"); done
  SERVERS=("${keep[@]}")
}

vm() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status" 2>/dev/null; }

# -------------------------------------------------------------------- run
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" 'BEGIN{exit !(l > 1.0)}'; then
  log "WARNING: load average is $LOAD_START before the run: other work on this 2-core box will skew the figures"
fi
log "mode: $([[ $QUICK == 1 ]] && echo QUICK || echo FULL); wrk ${DUR}s; big blob ${BIG_MIB} MiB; listing ${LIST_REPOS} repos/${LIST_TAGS} tags; ulimit -n $(ulimit -n)"
start_distribution
start_berth
start_nginx

log "generating content"
python3 "$HERE/seed.py" content "$TMP/content" --big-mib "$BIG_MIB" >/dev/null || { echo "content generation failed" >&2; exit 1; }
MDIGEST=$(jget "$TMP/content/content.json" 'd["manifest"]["digest"]')
MSIZE=$(jget "$TMP/content/content.json" 'd["manifest"]["size"]')
SMALL=$(jget "$TMP/content/content.json" 'd["blobs"]["small"]["digest"]')
MID=$(jget "$TMP/content/content.json" 'd["blobs"]["mid"]["digest"]')
BIG=$(jget "$TMP/content/content.json" 'd["blobs"]["big"]["digest"]')
BIGSIZE=$(jget "$TMP/content/content.json" 'd["blobs"]["big"]["size"]')
python3 "$HERE/seed.py" nginx-tree "$TMP/content" "$TMP/nginx/www" "$REPO" >/dev/null

for s in "${SERVERS[@]}"; do
  is_registry "$s" || continue
  log "seeding $s"
  if ! timeout 300 python3 "$HERE/seed.py" push "$(port_of "$s")" "$REPO" "$TMP/content" >"$TMP/seed-$s.json"; then
    log "!! seeding $s failed: $(cat "$TMP/seed-$s.json")"
    emit "seed" "$s" "" "" '{"seed_failed":1}' "$(tail -1 "$TMP/seed-$s.json" 2>/dev/null || echo '{}')"
  fi
done
died_check seed

# correctness probe before timing: every server must return the same manifest bytes
for s in "${SERVERS[@]}"; do
  p=$(port_of "$s")
  read -r code ctype size < <(curl -s -o "$TMP/probe-$s" -w '%{http_code} %{content_type} %{size_download}\n' \
       -H "Accept: $OCI_MT" "http://127.0.0.1:$p/v2/$REPO/manifests/latest")
  if [[ $code != 200 ]] || ! cmp -s "$TMP/probe-$s" "$TMP/content/manifest.json"; then
    log "!! $s manifest GET by tag: HTTP $code, $size bytes, not the pushed bytes"
    emit "probe" "$s" "" "" '{"manifest_mismatch":1}' "{\"code\":\"$code\",\"size\":\"$size\"}"
  fi
  [[ $ctype == "$OCI_MT"* ]] || { log "!! $s manifest Content-Type '$ctype'"; emit "probe" "$s" "" "" '{"content_type":1}' "{\"content_type\":\"$ctype\"}"; }
  hcode=$(curl -s -o /dev/null -I -w '%{http_code}' -H "Accept: $OCI_MT" "http://127.0.0.1:$p/v2/$REPO/manifests/$MDIGEST")
  [[ $hcode == 200 ]] || { log "!! $s manifest HEAD by digest: HTTP $hcode"; emit "probe" "$s" "" "" '{"head":1}' "{\"code\":\"$hcode\"}"; }
done

BASE_MAN=/v2/$REPO/manifests
BASE_BLOB=/v2/$REPO/blobs

# The manifest GET by tag: nginx (the ceiling), Berth without auth, distribution, and
# a second Berth with authentication on, run in ROUNDS interleaved rounds so that the
# noise of a shared 2-core machine hits every server alike. The report takes each
# round's ratio to that round's nginx and prints the median.
#
# The authenticated Berth serves the same data, started as an operator would (no
# --config: authentication on, log level info, the access log on stderr, the audit
# log recording every pull); it serves the same manifest to a client sending Basic
# admin credentials, then a Bearer token from /oauth2/token. Both are verified once
# (argon2id / ECDSA) and answered from the credential cache afterwards.
AUTH_PID=""; TOKEN=""
if want auth && [[ $BERTH_STATUS == ok ]] && ! over_budget; then
  ad=$TMP/berth-auth; mkdir -p "$ad"
  AUTH_PORT=$(free_port)
  # A data directory is one process's: the authenticated Berth serves a copy (taken while
  # the first Berth is idle, after seeding).
  cp -a "$TMP/berth/data" "$ad/data"
  BERTH_ADMIN_PASSWORD=bench-admin-password "$TMP/berth/berth" serve \
    --listen "127.0.0.1:$AUTH_PORT" --data "$ad/data" 2>"$ad/log" >"$ad/stdout" &
  AUTH_PID=$!
  for _ in $(seq 50); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' -u admin:bench-admin-password "http://127.0.0.1:$AUTH_PORT/v2/") == 200 ]] && break
    sleep 0.2
  done
  TOKEN=$(curl -s -u admin:bench-admin-password "http://127.0.0.1:$AUTH_PORT/oauth2/token?service=berth&scope=repository:$REPO:pull" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' 2>/dev/null || true)
  [[ -n $TOKEN ]] || log "!! berth with auth on: no token; stderr tail: $(tail -2 "$ad/log")"
fi

for round in $(seq "$ROUNDS"); do
  if want manifest; then
    for s in "${SERVERS[@]}"; do
      over_budget && break
      # distribution serves ~1k req/s: one round tells all there is to know
      [[ $s == distribution && $round -gt 1 ]] && continue
      log "manifest GET by tag: $s (round $round/$ROUNDS)"
      run_wrk "$TMP/man-$s-$round" -t1 -c32 -d${DUR}s --timeout 5s -H "Accept: $OCI_MT" -s "$TMP/done.lua" \
        "http://127.0.0.1:$(port_of "$s")$BASE_MAN/latest"
      record_load manifest_get_tag "$s" rps "$TMP/man-$s-$round.json" "{\"round\":$round}"
    done
    died_check manifest
  fi
  if [[ -n $AUTH_PID ]] && ! over_budget; then
    log "manifest GET by tag with Basic credentials: berth (auth on, access log and audit on; round $round/$ROUNDS)"
    run_wrk "$TMP/manbasic-$round" -t1 -c32 -d${DUR}s --timeout 5s -H "Accept: $OCI_MT" \
      -H "Authorization: Basic $(printf 'admin:bench-admin-password' | base64)" \
      -s "$TMP/done.lua" "http://127.0.0.1:$AUTH_PORT$BASE_MAN/latest"
    record_load manifest_get_tag_basic berth rps "$TMP/manbasic-$round.json" \
      "{\"round\":$round,\"access_log_lines\":$(grep -c '"msg":"request"' "$ad/log")}"
    if [[ -n $TOKEN ]]; then
      log "manifest GET by tag with a Bearer token: berth (auth on, access log and audit on; round $round/$ROUNDS)"
      run_wrk "$TMP/manbearer-$round" -t1 -c32 -d${DUR}s --timeout 5s -H "Accept: $OCI_MT" -H "Authorization: Bearer $TOKEN" \
        -s "$TMP/done.lua" "http://127.0.0.1:$AUTH_PORT$BASE_MAN/latest"
      record_load manifest_get_tag_bearer berth rps "$TMP/manbearer-$round.json" "{\"round\":$round}"
    elif [[ $round == 1 ]]; then
      emit manifest_get_tag_bearer berth "" req/s '{"no_token":1}' '{}'
    fi
  fi
done
if [[ -n $AUTH_PID ]]; then kill "$AUTH_PID" 2>/dev/null; wait "$AUTH_PID" 2>/dev/null || true; fi

if want head; then
  for s in "${SERVERS[@]}"; do
    over_budget && break
    log "manifest HEAD by digest: $s"
    timeout $(( DUR + 30 )) "$TMP/loadgen" -t2 -c32 -d"$DUR" -m HEAD -H "Accept: $OCI_MT" "$(port_of "$s")" "$BASE_MAN/$MDIGEST" \
      >"$TMP/head-$s.json" 2>"$TMP/head-$s.err" || echo '{"requests":0,"rps":0,"errors":{"loadgen_failed":1}}' >"$TMP/head-$s.json"
    record_load manifest_head_digest "$s" rps "$TMP/head-$s.json"
  done
  died_check head
fi

if want blob1m; then
  for s in "${SERVERS[@]}"; do
    over_budget && break
    log "1 MiB blob GET: $s"
    run_wrk "$TMP/mid-$s" -t2 -c16 -d${DUR}s --timeout 5s -s "$TMP/done.lua" "http://127.0.0.1:$(port_of "$s")$BASE_BLOB/$MID"
    record_load blob_get_1mib "$s" mbps "$TMP/mid-$s.json"
  done
  died_check blob1m
fi

if want bigget; then
  for s in "${SERVERS[@]}"; do
    over_budget && break
    log "${BIG_MIB} MiB blob GET x$BIG_GETS (curl, 1 connection): $s"
    : >"$TMP/big-$s.txt"
    for i in $(seq 1 "$BIG_GETS"); do
      curl -s -o /dev/null --max-time 120 -w '%{http_code} %{size_download} %{time_total}\n' \
        "http://127.0.0.1:$(port_of "$s")$BASE_BLOB/$BIG" >>"$TMP/big-$s.txt" || echo "000 0 0" >>"$TMP/big-$s.txt"
    done
    python3 - "$s" "$BIGSIZE" "$TMP/big-$s.txt" "$BIG_MIB" >>"$RES" <<'EOF'
import json, sys
s, size, path, mib = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = [l.split() for l in open(path) if l.strip()]
ok = [(int(b), float(t)) for c, b, t in rows if c == "200" and int(b) == size and float(t) > 0]
bad = len(rows) - len(ok)
tot_b, tot_t = sum(b for b, _ in ok), sum(t for _, t in ok)
v = tot_b / tot_t / 1e6 if tot_t else 0.0
best = max((b / t / 1e6 for b, t in ok), default=0.0)
print(json.dumps({"metric": "blob_get_big", "server": s, "value": round(v, 1), "unit": "MB/s",
                  "errors": {"bad_responses": bad} if bad else {},
                  "detail": {"tool": "curl", "gets": len(rows), "mib": int(mib), "best_mbps": round(best, 1),
                             "responses": [" ".join(r) for r in rows]}}))
EOF
  done
  died_check bigget
fi

if want push; then
  cp "$TMP/content/big.bin" "$TMP/push.bin"
  for s in "${SERVERS[@]}"; do
    is_registry "$s" || continue
    over_budget && break
    p=$(port_of "$s")
    : >"$TMP/push-$s.txt"
    for t in $(seq 1 "$PUSH_TRIES"); do
      # fresh content per trial (first 16 bytes differ), so no server can short-cut an existing blob
      dg=$(python3 "$HERE/seed.py" patch "$TMP/push.bin" "push-trial-$t" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
      log "${BIG_MIB} MiB monolithic push (POST+PUT) $t/$PUSH_TRIES: $s"
      hdr=$(curl -s -D - -o /dev/null --max-time 30 -X POST -H 'Content-Length: 0' -w 'TIME %{time_total}\n' \
            "http://127.0.0.1:$p/v2/bench/push$t/blobs/uploads/")
      pcode=$(printf '%s' "$hdr" | awk 'NR==1{print $2}')
      ptime=$(printf '%s' "$hdr" | awk '/^TIME/{print $2}')
      loc=$(printf '%s' "$hdr" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
      if [[ $pcode != 202 || -z $loc ]]; then
        echo "POST $pcode 0 0 no-location" >>"$TMP/push-$s.txt"; continue
      fi
      case $loc in
        /*) loc="http://127.0.0.1:$p$loc" ;;
        http://127.0.0.1:*|http://localhost:*) ;;
        *) echo "POST $pcode 0 0 foreign-location" >>"$TMP/push-$s.txt"; continue ;;
      esac
      [[ $loc == *\?* ]] && sep='&' || sep='?'
      read -r ucode utime < <(curl -s -o "$TMP/push-resp" --max-time 300 -X PUT -H 'Expect:' \
        -H 'Content-Type: application/octet-stream' -T "$TMP/push.bin" -w '%{http_code} %{time_total}\n' \
        "$loc${sep}digest=${dg/:/%3A}")
      hcode=$(curl -s -o /dev/null -I -w '%{http_code}' "http://127.0.0.1:$p/v2/bench/push$t/blobs/$dg")
      echo "PUT $ucode $ptime $utime HEAD=$hcode" >>"$TMP/push-$s.txt"
      [[ $ucode == 201 ]] || log "!! $s push PUT -> $ucode: $(head -c 300 "$TMP/push-resp")"
    done
    python3 - "$s" "$BIGSIZE" "$TMP/push-$s.txt" >>"$RES" <<'EOF'
import json, sys
s, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [l.split() for l in open(path) if l.strip()]
ok = [float(r[2]) + float(r[3]) for r in rows if r[0] == "PUT" and r[1] == "201" and r[4] == "HEAD=200"]
bad = len(rows) - len(ok)
best = min(ok) if ok else 0
print(json.dumps({"metric": "blob_push_big", "server": s, "value": round(size / best / 1e6, 1) if best else 0.0,
                  "unit": "MB/s", "errors": {"failed_pushes": bad} if bad else {},
                  "detail": {"tool": "curl POST+PUT", "tries": len(rows), "best_s": best,
                             "rows": [" ".join(r) for r in rows]}}))
EOF
  done
  rm -f "$TMP/push.bin"
  died_check push
fi

if want c1000; then
  for s in "${SERVERS[@]}"; do
    over_budget && break
    log "$C1000 concurrent connections, each >= $C1000_ROUNDS rounds of (manifest GET + 4 KiB blob GET), >= ${DUR}s: $s"
    reset=0
    if is_registry "$s"; then echo 5 >"/proc/${PID[$s]}/clear_refs" 2>/dev/null && reset=1; fi
    timeout $(( C1000_MAX_S + 30 )) "$TMP/loadgen" -t2 -c"$C1000" -r"$C1000_ROUNDS" -s"$DUR" -d"$C1000_MAX_S" -H "Accept: $OCI_MT" \
      "$(port_of "$s")" "$BASE_MAN/latest" "$BASE_BLOB/$SMALL" >"$TMP/c1k-$s.json" 2>"$TMP/c1k-$s.err" \
      || echo '{"requests":0,"rps":0,"errors":{"loadgen_failed":1}}' >"$TMP/c1k-$s.json"
    record_load c1000_mixed "$s" rps "$TMP/c1k-$s.json"
    if is_registry "$s" && alive "$s"; then
      hwm=$(vm "${PID[$s]}" VmHWM); thr=$(vm "${PID[$s]}" Threads)
      emit c1000_peak_rss "$s" "$(( hwm / 1024 ))" MiB '{}' \
        "{\"VmHWM_kB\":$hwm,\"reset_before_test\":$reset,\"threads\":${thr:-0}}"
    fi
  done
  died_check c1000
fi

if want listing; then
  for s in "${SERVERS[@]}"; do
    is_registry "$s" || continue
    over_budget && break
    p=$(port_of "$s")
    log "listing: seeding $LIST_REPOS repos + $LIST_TAGS tags into $s ($SEED_THREADS threads)"
    timeout 600 python3 "$HERE/seed.py" listing "$p" --repos "$LIST_REPOS" --tags "$LIST_TAGS" \
      --threads "$SEED_THREADS" --max-seconds 500 >"$TMP/lseed-$s.json" 2>"$TMP/lseed-$s.err" \
      || log "!! listing seed for $s exited non-zero: $(tail -c 300 "$TMP/lseed-$s.err")"
    python3 - "$s" "$TMP/lseed-$s.json" >>"$RES" <<'EOF'
import json, sys
s, path = sys.argv[1], sys.argv[2]
try:
    d = json.loads(open(path).read().strip().splitlines()[-1])
except Exception as e:
    d = {"error": "no output (%s)" % e}
err = {"seed_errors": d.get("errors", 1)} if d.get("errors", 1) else {}
if "error" in d: err = {"seed_failed": 1}
v = d["repos"] / d["repo_seed_s"] if d.get("repo_seed_s") else 0.0
print(json.dumps({"metric": "listing_seed_repos", "server": s, "value": round(v, 1), "unit": "repos/s",
                  "errors": err, "detail": d}))
if d.get("tag_seed_s"):
    print(json.dumps({"metric": "listing_seed_tags", "server": s, "value": round(d["tags"] / d["tag_seed_s"], 1),
                      "unit": "tags/s", "errors": err, "detail": {"tags": d["tags"], "seconds": d["tag_seed_s"]}}))
EOF
    log "listing: paging _catalog?n=100 and tags/list?n=100: $s"
    for kind in catalog tags; do
      exp=$LIST_REPOS; [[ $kind == tags ]] && exp=$LIST_TAGS
      timeout 200 python3 "$HERE/seed.py" page "$p" --kind "$kind" --n 100 --expect-min "$exp" --max-seconds 150 \
        >"$TMP/page-$kind-$s.json" 2>"$TMP/page-$kind-$s.err" || true
      python3 - "$s" "$kind" "$TMP/page-$kind-$s.json" >>"$RES" <<'EOF'
import json, sys
s, kind, path = sys.argv[1:4]
try:
    d = json.loads(open(path).read().strip().splitlines()[-1])
except Exception as e:
    d = {"errors": 1, "complete": False, "note": "no output (%s)" % e}
err = {}
if d.get("errors"): err["http_errors"] = d["errors"]
if not d.get("complete"): err["incomplete"] = 1
v = d.get("entries_per_s") or 0.0
print(json.dumps({"metric": "list_" + kind, "server": s, "value": v, "unit": "entries/s", "errors": err, "detail": d}))
EOF
    done
  done
  died_check listing
fi

# final RSS / liveness
for s in berth distribution; do
  [[ -n ${PID[$s]:-} ]] || continue
  if alive "$s"; then
    hwm=$(vm "${PID[$s]}" VmHWM); rss=$(vm "${PID[$s]}" VmRSS)
    emit final_rss "$s" "$(( rss / 1024 ))" MiB '{}' "{\"VmRSS_kB\":$rss,\"VmHWM_kB_since_c1000_reset\":$hwm}"
  fi
done

BERTH_LOG_LINES=0; BERTH_LOG_ERRORS=""
if [[ -f $TMP/berth/log ]]; then
  BERTH_LOG_LINES=$(wc -l <"$TMP/berth/log")
  BERTH_LOG_ERRORS=$(grep -iE '"level":"(error|fatal|critical)"|panic|abort|terminate' "$TMP/berth/log" | head -5 | cut -c1-300)
fi

python3 - "$RES" "$OUT/results.json" <<EOF
import json, sys
sys.path.insert(0, "$HERE")
import report
meta = {
  "quick": $QUICK == 1, "wrk_duration_s": $DUR, "big_blob_mib": $BIG_MIB, "list_repos": $LIST_REPOS,
  "list_tags": $LIST_TAGS, "c1000_connections": $C1000, "push_tries": $PUSH_TRIES, "big_gets": $BIG_GETS,
  "berth_binary": "$BERTH", "berth_status": "$BERTH_STATUS", "berth_logging": "$BERTH_LOGCFG",
  "berth_version": "$([[ -x $TMP/berth/berth ]] && "$TMP/berth/berth" version 2>&1 | head -1 | tr -d '"\\')",
  "berth_stderr_lines": $BERTH_LOG_LINES, "berth_stderr_errors": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$BERTH_LOG_ERRORS"),
  "distribution": "$(docker-registry --version 2>&1 | head -1)",
  "distribution_config": "filesystem driver, blobdescriptor cache inmemory, log level warn, access log DISABLED",
  "nginx": "$(nginx -v 2>&1 | head -1)",
  "nginx_config": "2 workers, sendfile on, open_file_cache, keepalive 300 s / 1000000 requests, access_log off, static files",
  "wrk": "$(wrk -v 2>&1 | head -1 | cut -c1-60)",
  "head_tool": "bench/loadgen.c (wrk 4.1 cannot do HEAD with Content-Length)",
  "manifest_rounds": $ROUNDS, "c1000_rounds": $C1000_ROUNDS, "c1000_max_s": $C1000_MAX_S,
  "cores": $(nproc), "loadavg_start": "$LOAD_START", "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)", "seconds": $(( $(date +%s) - BENCH_START )),
}
report.main(sys.argv[1], sys.argv[2], meta)
EOF
