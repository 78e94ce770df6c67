#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to every test: installs what is missing, builds mgw
# (with tests), and runs the unit tests (in parallel) and then the integration tests (one at a
# time: each starts gateways, backends and servers of its own on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${MGW_BUILD_DIR:-build}"
status=0
ctest --output-on-failure -j 2 --timeout 900 -L unit "$@" || status=1
ctest --output-on-failure -j 1 --timeout 1200 -L integration "$@" || status=1
exit $status
