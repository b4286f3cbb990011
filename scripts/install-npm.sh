#!/usr/bin/env bash
# Installs the tests' npm packages (the Azure SDK for JavaScript; s3rver and Azurite, the
# object-store servers of the storage tests) from the committed lock file, when
# node_modules is missing or older than the lock. Idempotent.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/e2e/js"
lock="$dir/package-lock.json"
stamp="$dir/node_modules/.package-lock.json"  # npm writes it on every install
if [[ -f "$stamp" && ! "$lock" -nt "$stamp" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "install-npm: npm not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
echo "installing npm packages in tests/e2e/js"
cd "$dir"
npm ci --no-audit --no-fund
