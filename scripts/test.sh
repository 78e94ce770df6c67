#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to every test: installs what is missing, builds mgw
# (with tests), and runs the unit and integration tests with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${MGW_BUILD_DIR:-build}"
ctest --output-on-failure -j 2 --timeout 900 "$@"
