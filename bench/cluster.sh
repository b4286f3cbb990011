#!/usr/bin/env bash
# Berth cluster benchmark: 1 node vs 3 nodes behind nginx over PostgreSQL + Azurite,
# beside the embedded default (see cluster.py and README.md).
#
#   bench/cluster.sh [BERTH_BINARY]     (default build/berth; about 6 minutes)
#   BENCH_QUICK=1 bench/cluster.sh ...  smoke run (5 s runs, 1 manifest round)
#   BENCH_ROUNDS=N bench/cluster.sh ... interleaved manifest GET rounds (default 3)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec python3 "$HERE/cluster.py" "${1:-$HERE/../build/berth}"
