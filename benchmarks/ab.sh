#!/usr/bin/env bash
# Alternating A/B of gateway builds or paths: user and system CPU per request and requests/s,
# medians over rounds (see benchmarks/ab.py). Run after bash scripts/build.sh. Bounded: about
# ROUNDS x targets x (DURATION + 3) seconds, under 15 minutes with the defaults.
#
#   bash benchmarks/ab.sh                                     # plain vs full, this build
#   TARGETS=plain,plain-token,jwt,full,nginx bash benchmarks/ab.sh
#   MGW_BIN_DIR_B=/path/to/other/build/bin TARGETS=jwt bash benchmarks/ab.sh   # two builds
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null || { bash scripts/install-deps.sh; break; }
done
exec timeout 1800 /usr/bin/python3 benchmarks/ab.py "$@"
