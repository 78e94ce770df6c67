#!/usr/bin/env bash
# Configures and builds mgw into build/ (or $MGW_BUILD_DIR): RelWithDebInfo, Ninja, 2 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${MGW_BUILD_DIR:-build}
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${MGW_BUILD_TYPE:-Release}" "$@"
fi
cmake --build "$build_dir" -j "${MGW_JOBS:-2}"
