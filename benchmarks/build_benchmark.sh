#!/usr/bin/env bash
# Measures `mgw build` wall time and peak RSS (GNU time) for two projects, RUNS times each, and
# prints a Markdown table of the medians:
#   stripe     the Stripe definition (4.2 MB JSON, OpenAPI 3.0) with x-wso2-mock injected
#   1000x20    a generated project of 1,000 APIs x 20 resources (benchmarks/generate_project.py)
# Targets: stripe under 2 s, 1000x20 under 10 s. Not a test; every run is bounded by a timeout.
# Everything is written to a temporary folder that is removed at the end; nothing in the repo.
#
#   bash benchmarks/build_benchmark.sh            # after bash scripts/build.sh
#   RUNS=3 MGW_BIN=/path/to/mgw bash benchmarks/build_benchmark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
mgw=${MGW_BIN:-$repo/build/bin/mgw}
gateway=${MGW_GATEWAY_BIN:-$repo/build/bin/mgw-gateway}
shared=${MGW_SHARED_DIR:-$repo/../shared}
runs=${RUNS:-5}
run_timeout=${RUN_TIMEOUT_S:-120}
stripe=$shared/corpora/openapi-real-world/large/stripe-spec3-2022-04-12.json

for f in "$mgw" "$gateway" "$stripe"; do
  [ -e "$f" ] || { echo "build_benchmark: $f not found (build first: bash scripts/build.sh)" >&2; exit 1; }
done
if [ ! -x /usr/bin/time ]; then
  echo "build_benchmark: installing GNU time (Debian package \"time\")" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mgw-build-benchmark.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The Stripe project: the definition with x-wso2-mock: true at its root, default configuration.
mkdir -p "$work/stripe/api_definitions"
python3 - "$stripe" "$work/stripe/api_definitions/stripe.json" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
brace = text.index("{")
open(sys.argv[2], "w", encoding="utf-8").write(text[:brace + 1] + '"x-wso2-mock": true,' + text[brace + 1:])
PY
printf '[project]\nname = "stripe"\n' > "$work/stripe/mgw.toml"
python3 "$repo/benchmarks/generate_project.py" "$work/gen" --apis 1000 --resources 20

# measure NAME PROJECT: RUNS builds; prints one Markdown table row.
measure() {
  local name=$1 project=$2 i
  local counts
  counts=$(MGW_GATEWAY_BINARY="$gateway" "$mgw" validate --json "$project" 2>/dev/null |
           python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["api_count"], r["resource_count"])')
  : > "$work/$name.times"
  for ((i = 0; i < runs; i++)); do
    rm -rf "$work/out"
    MGW_GATEWAY_BINARY="$gateway" timeout "$run_timeout" /usr/bin/time -f '%e %M' -o "$work/time.txt" \
      "$mgw" build --quiet "$project" -o "$work/out" >/dev/null
    cat "$work/time.txt" >> "$work/$name.times"
  done
  python3 - "$name" "$counts" "$work/$name.times" <<'PY'
import statistics, sys
name, counts, path = sys.argv[1], sys.argv[2].split(), sys.argv[3]
rows = [line.split() for line in open(path) if line.strip()]
wall = [float(r[0]) for r in rows]
rss = [int(r[1]) / 1024 for r in rows]
print(f"| {name} | {counts[0]} | {counts[1]} | {len(rows)} | {statistics.median(wall):.2f} "
      f"| {min(wall):.2f} / {max(wall):.2f} | {statistics.median(rss):.0f} |")
PY
}

echo "mgw build benchmark: $("$mgw" version), $(nproc) CPU(s), median of $runs runs"
echo
echo "| project | APIs | resources | runs | wall median (s) | wall min / max (s) | peak RSS median (MiB) |"
echo "|---|---|---|---|---|---|---|"
measure stripe "$work/stripe"
measure 1000x20 "$work/gen"
