#!/usr/bin/env bash
# What local rate limiting costs in throughput: wrk against one gateway (1 worker, loopback)
# serving the same mock resource twice, once limited by a policy that never triggers
# (resource level, in-memory counters: one counter per request, plus the RateLimit headers) and
# once unlimited. Runs alternate (limited, unlimited, limited, ...) RUNS times each; prints a
# Markdown table of the medians and the ratio. Target: limited costs < 5 %.
# Not a test; every wrk run is bounded by a timeout; the gateway is stopped by its pid.
#
#   bash benchmarks/ratelimit_wrk.sh                 # after bash scripts/build.sh
#   RUNS=7 DURATION=10 CONNECTIONS=32 bash benchmarks/ratelimit_wrk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
mgw=${MGW_BIN:-$repo/build/bin/mgw}
runs=${RUNS:-5}
duration=${DURATION:-5}
connections=${CONNECTIONS:-16}
threads=${THREADS:-1}

for f in "$mgw" "$repo/build/bin/mgw-gateway"; do
  [ -x "$f" ] || { echo "ratelimit_wrk: $f not found (build first: bash scripts/build.sh)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "ratelimit_wrk: wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mgw-ratelimit-wrk.XXXXXX")
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then
    kill "$gateway_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$gateway_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The project: one mock API, security off, two identical resources; /limited has a resource tier
# of a billion an hour. Unauthenticated is not defined, so /unlimited has no level at all.
mkdir -p "$work/bench/api_definitions"
cat > "$work/bench/policies.yaml" <<'EOF'
resourcePolicies:
  - Huge: {count: 1000000000, unitTime: 1, timeUnit: hour}
EOF
cat > "$work/bench/mgw.toml" <<'EOF'
[project]
name = "bench"
EOF
cat > "$work/bench/api_definitions/bench.yaml" <<'EOF'
openapi: 3.0.3
info: {title: Bench, version: "1.0"}
x-wso2-basePath: /bench
x-wso2-mock: true
x-wso2-disable-security: true
paths:
  /limited:
    get:
      x-wso2-throttling-tier: Huge
      responses:
        "200": {description: ok, content: {application/json: {example: {ok: true}}}}
  /unlimited:
    get:
      responses:
        "200": {description: ok, content: {application/json: {example: {ok: true}}}}
EOF
"$mgw" build "$work/bench" --quiet

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
admin=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/bench/target/bench/bin/gateway" --server.host=127.0.0.1 --server.http_port="$port" \
  --admin.host=127.0.0.1 --admin.port="$admin" --server.workers=1 \
  --log.access_log= --analytics.enabled=false > "$work/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$admin/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$admin/ready" >/dev/null || { cat "$work/gateway.log" >&2; exit 1; }

# Sanity: the limited resource is counted (headers present), the other is not.
curl -fsi "http://127.0.0.1:$port/bench/limited" | grep -qi '^x-ratelimit-limit: 1000000000' ||
  { echo "ratelimit_wrk: /bench/limited carries no X-RateLimit-Limit" >&2; exit 1; }
if curl -fsi "http://127.0.0.1:$port/bench/unlimited" | grep -qi '^x-ratelimit'; then
  echo "ratelimit_wrk: /bench/unlimited is limited" >&2; exit 1
fi

# One wrk run: prints "<requests/s> <gateway CPU microseconds per request>". The CPU figure
# (user + system time of the gateway process, from /proc) is steadier than requests/s on a
# machine shared with other work.
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$gateway_pid/stat"; }
run() {
  local before after out
  before=$(cpu_ticks)
  out=$(timeout $((duration + 20)) wrk -t"$threads" -c"$connections" -d"${duration}s" \
    "http://127.0.0.1:$port/bench/$1")
  after=$(cpu_ticks)
  echo "$out" | awk -v b="$before" -v a="$after" -v t="$ticks" '
    /requests in/ {n = $1} /^Requests\/sec:/ {r = $2}
    END {printf "%s %.2f\n", r, (a - b) / t * 1e6 / n}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

run limited >/dev/null   # warm-up
lr=() lc=() ur=() uc=()
for i in $(seq "$runs"); do
  read -r r c < <(run limited); lr+=("$r"); lc+=("$c")
  read -r r c < <(run unlimited); ur+=("$r"); uc+=("$c")
  echo "run $i: limited ${lr[-1]} req/s ${lc[-1]} us/req, unlimited ${ur[-1]} req/s ${uc[-1]} us/req" >&2
done
mlr=$(printf '%s\n' "${lr[@]}" | median); mlc=$(printf '%s\n' "${lc[@]}" | median)
mur=$(printf '%s\n' "${ur[@]}" | median); muc=$(printf '%s\n' "${uc[@]}" | median)
echo
echo "| resource (1 worker, wrk -t$threads -c$connections -d${duration}s, $runs runs each) | median req/s | median gateway CPU us/request |"
echo "|---|---|---|"
echo "| unlimited | $mur | $muc |"
echo "| limited (policy never reached) | $mlr | $mlc |"
awk -v l="$mlr" -v u="$mur" -v lc="$mlc" -v uc="$muc" 'BEGIN {
  printf "\nthroughput limited/unlimited = %.3f (cost %.1f %%); CPU per request limited/unlimited = %.3f\n",
    l / u, (1 - l / u) * 100, lc / uc }'
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
