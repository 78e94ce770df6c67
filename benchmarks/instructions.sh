#!/usr/bin/env bash
# Instructions per request of the gateway (callgrind), for the plain proxy and the JWT + rate
# limit path: unlike requests/s, the count does not move with the load of a shared machine, so
# two builds can be compared exactly. About 2 minutes.
#
#   bash benchmarks/instructions.sh            # after bash scripts/build.sh
#   TOP=25 REQUESTS=5000 bash benchmarks/instructions.sh
#   ATOMICS=1 bash benchmarks/instructions.sh  # adds locked (atomic) instructions per request
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for tool in valgrind ab nginx; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  apt-get update -qq && apt-get install -y -qq valgrind apache2-utils nginx-light >/dev/null
fi
exec timeout 900 /usr/bin/python3 benchmarks/instructions.py "$@"
