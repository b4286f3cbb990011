#!/usr/bin/env bash
# Geo-replication benchmark: lag and catch-up between two replicas (see replication.py).
#   bench/replication.sh [BERTH_BINARY]     (default build/berth)
#   BENCH_QUICK=1 bench/replication.sh      smoke run
#   BENCH_DELAY_MS=N                        WAN delay each way for the second row (default 40)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec python3 "$HERE/replication.py" "${1:-$HERE/../build/berth}"
