#!/usr/bin/env bash
# The benchmark in one command: installs what it needs (Debian packages), builds mgw in release
# mode, then measures mgw side by side with nginx and haproxy doing the same proxying on loopback
# (alternating runs A B A B so machine drift cancels), plus memory, start-up, build time, the
# Google Benchmark micro-benchmarks and instructions per request (callgrind), and writes
# benchmarks/RESULTS.md. Bounded: about 6 minutes with the defaults.
#
#   bash benchmarks/run.sh                 # ROUNDS=3 DURATION=8 by default
#   ROUNDS=5 DURATION=10 bash benchmarks/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
# The profile-guided build trains again when a source changed since its last training.
MGW_PGO=${MGW_PGO:-fresh} bash scripts/build.sh
timeout 1500 /usr/bin/python3 benchmarks/run_proxy.py "$@"
# Instructions per request (callgrind): the figure that does not move with the machine's load.
{
  echo
  timeout 900 /usr/bin/python3 benchmarks/instructions.py
} >> benchmarks/RESULTS.md
