#!/usr/bin/env bash
# Runs every fuzz target for SECONDS on a copy of its seed corpus, one after another.
#   tests/fuzz/run.sh BUILD_DIR SECONDS
# Prints one line per target; exits non-zero if any target crashed, naming the crash input.
# Generated inputs stay in a temporary directory (removed unless something crashed).
set -uo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)

# name:max_len, max_len bounded by what the server lets through for that input.
targets=(
  digest:256
  reference:512
  range:128
  query:2048
  route:8192
  manifest:16384
  config:4096
  cidr:128
  forwarded:1024
)

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-fuzz.XXXXXX")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

stat() {  # stat NAME LOG: the value of libFuzzer's final "stat::NAME:" line, or 0
  local v
  v=$(sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n 1)
  echo "${v:-0}"
}

failed=0
for entry in "${targets[@]}"; do
  name=${entry%%:*}
  max_len=${entry##*:}
  bin="$build_dir/tests/fuzz/fuzz_$name"
  if [[ ! -x $bin ]]; then
    echo "fuzz $name: 0 execs, 0 exec/s, 0 new units, CRASH (not built: $bin)"
    failed=1
    continue
  fi
  corpus="$work/corpus/$name"
  artifacts="$work/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  cp "$here/corpus/$name/"* "$corpus/"
  dict=()
  [[ -f $here/$name.dict ]] && dict=("-dict=$here/$name.dict")
  log="$work/$name.log"
  # In a subshell, so the shell's own "Aborted" notice lands in the log too.
  rc=0
  ("$bin" -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus"; exit $?) >"$log" 2>&1 || rc=$?
  line="fuzz $name: $(stat number_of_executed_units "$log") execs, $(stat average_exec_per_sec "$log") exec/s, $(stat new_units_added "$log") new units"
  crash=$(find "$artifacts" -type f | head -n 1)
  if [[ $rc -eq 0 && -z $crash ]]; then
    echo "$line, OK"
  else
    echo "$line, CRASH (exit $rc) input: ${crash:-none written}, log: $log"
    grep -E 'ERROR: |runtime error|invariant broken|SUMMARY' "$log" | head -n 5 | sed 's/^/    /'
    failed=1
  fi
done

if [[ $failed -eq 0 ]]; then
  rm -rf "$work"
else
  echo "fuzz: crash inputs and logs kept in $work"
fi
exit "$failed"
