#!/usr/bin/env bash
# Configures and builds mgw into build/ (or $MGW_BUILD_DIR): Release, Ninja, 2 jobs.
#
# Release builds are profile-guided (PGO): the first build of a directory compiles the gateway
# instrumented, runs scripts/pgo-train.py (nginx backend, wrk load, about 20 s), then compiles
# everything with the measured counters. Later builds reuse the counters; functions edited since
# the training are compiled as without PGO.
#   MGW_PGO=0        no PGO (plain -O2), e.g. for quick edit-compile cycles
#   MGW_PGO=retrain  train again now (two full compiles)
#   MGW_PGO=fresh    train again only if a source under src/ is newer than the counters
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${MGW_BUILD_DIR:-build}
build_type=${MGW_BUILD_TYPE:-Release}
pgo=${MGW_PGO:-1}
jobs=${MGW_JOBS:-2}
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="$build_type" -DMGW_PGO= "$@"
fi
stamp="$build_dir/pgo-profile/trained"
if [ "$pgo" = 0 ] || [ "$build_type" != Release ]; then
  cmake -S . -B "$build_dir" -DMGW_PGO= >/dev/null
  cmake --build "$build_dir" -j "$jobs"
  exit 0
fi

train=0
if [ ! -f "$stamp" ] || [ "$pgo" = retrain ]; then
  train=1
elif [ "$pgo" = fresh ] && [ -n "$(find src -type f -newer "$stamp" -print -quit)" ]; then
  train=1
fi
if [ "$train" = 1 ]; then
  for tool in nginx wrk openssl; do
    command -v "$tool" >/dev/null || {
      echo "build: $tool is missing (bash scripts/install-deps.sh), cannot train the PGO profile;" \
           "MGW_PGO=0 builds without it" >&2
      exit 1
    }
  done
  echo "build: PGO phase 1 of 2: instrumented gateway, then the training run"
  rm -rf "$build_dir/pgo-profile" "$build_dir/pgo-train"
  cmake -S . -B "$build_dir" -DMGW_PGO=generate >/dev/null
  cmake --build "$build_dir" -j "$jobs" --target mgw mgw-gateway
  /usr/bin/python3 scripts/pgo-train.py "$build_dir/bin" "$build_dir/pgo-train"
  rm -rf "$build_dir/pgo-train"
  if ! compgen -G "$build_dir/pgo-profile/*server.cc.gcda" >/dev/null; then
    echo "build: the training run left no counters for the gateway's server" >&2
    exit 1
  fi
  touch "$stamp"
  echo "build: PGO phase 2 of 2: everything, compiled with the training's counters"
fi
cmake -S . -B "$build_dir" -DMGW_PGO=use >/dev/null
cmake --build "$build_dir" -j "$jobs"
