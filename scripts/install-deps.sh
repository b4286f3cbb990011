#!/usr/bin/env bash
# Installs the Debian packages Berth needs to build, test and benchmark, skipping those
# already installed. Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libspdlog-dev libcli11-dev
  libyaml-cpp-dev libsodium-dev libarchive-dev libgtest-dev libgmock-dev libbenchmark-dev
  curl jq openssl nginx-light skopeo buildah podman busybox-static clang libclang-rt-14-dev
  python3-cryptography nodejs npm prometheus
  postgresql  # the metadata tests start their own server from its binaries (never the service)
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(docker-registry wrk)
fi
missing=()
for p in "${packages[@]}"; do
  # A Node.js build that bundles npm (NodeSource's nodejs) provides the npm command and
  # conflicts with Debian's npm package: the command is what the build needs.
  if [[ "$p" == npm ]] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
