#!/usr/bin/env bash
# Installs, from Debian 12 packages only, everything mgw needs to build, test and benchmark.
# Idempotent: packages already present are left alone; safe to run twice. Needs root (or sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # libraries (see docs/adr/0001-dependencies.md)
  libboost1.81-dev libyaml-cpp-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libssl-dev libcrypt-dev zlib1g-dev libarchive-dev libcurl4-openssl-dev nlohmann-json3-dev
  libhiredis-dev libnghttp2-dev libxxhash-dev libmimalloc-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-yaml python3-jwt python3-cryptography apache2-utils curl openssl time
  redis-server nginx-light haproxy wrk
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The services are started by the tests that need them, on ports they choose; do not leave
# the distribution's default instances running.
for svc in redis-server nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
echo "install-deps: done"
