#!/usr/bin/env bash
# What analytics costs in throughput: wrk against two gateways (1 worker each, loopback) built
# from the same project and serving the same mock resource, one with analytics on (an event per
# request into the per-worker queue, the writer thread appending JSON lines to files; metrics
# are always on) and one started with --analytics.enabled=false. Access logs are off in both.
# Runs alternate (on, off, on, off, ...) RUNS times each; prints a Markdown table of the medians
# and the ratios -- throughput, and the gateway's CPU time per request (user + system, all its
# threads, from /proc: steadier than req/s on a shared machine) -- and checks that no event was
# dropped and every request of the "on" gateway was written. Target: analytics costs < 5 %.
# Not a test; every wrk run is bounded by a timeout; the gateways are stopped by their pids.
# Gateways are pinned to CPU 0 and wrk to CPU 1 when taskset exists and there are 2+ CPUs.
#
#   bash benchmarks/analytics_wrk.sh                 # after bash scripts/build.sh
#   RUNS=7 DURATION=10 CONNECTIONS=32 bash benchmarks/analytics_wrk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
mgw=${MGW_BIN:-$repo/build/bin/mgw}
runs=${RUNS:-5}
duration=${DURATION:-5}
connections=${CONNECTIONS:-16}
threads=${THREADS:-1}

for f in "$mgw" "$repo/build/bin/mgw-gateway"; do
  [ -x "$f" ] || { echo "analytics_wrk: $f not found (build first: bash scripts/build.sh)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "analytics_wrk: wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }

pin_gateway=()
pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_gateway=(taskset -c 0)
  pin_wrk=(taskset -c 1)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mgw-analytics-wrk.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# The project: one mock API, security off, no rate limiting.
mkdir -p "$work/bench/api_definitions"
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
  /pets/{id}:
    get:
      responses:
        "200": {description: ok, content: {application/json: {example: {id: 1, name: Rex}}}}
EOF
"$mgw" build "$work/bench" --quiet

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME FLAGS...: starts a gateway; sets port_NAME and admin_NAME.
start() {
  local name=$1 port admin
  shift
  port=$(free_port)
  admin=$(free_port)
  "${pin_gateway[@]}" "$work/bench/target/bench/bin/gateway" --server.host=127.0.0.1 \
    --server.http_port="$port" --admin.host=127.0.0.1 --admin.port="$admin" --server.workers=1 \
    --log.access_log= "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$admin/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$admin/ready" >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
  printf -v "port_$name" '%s' "$port"
  printf -v "admin_$name" '%s' "$admin"
  printf -v "pid_$name" '%s' "${pids[-1]}"
}
start on --analytics.enabled=true --analytics.dir="$work/analytics" \
  --analytics.max_disk_bytes=$((512 << 20))
start off --analytics.enabled=false

metric() {  # ADMIN_PORT NAME -> value
  curl -fs "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2}'
}
total_requests() {
  curl -fs "http://127.0.0.1:$1/metrics" | awk '/^mgw_requests_total\{/ {s += $2} END {print s + 0}'
}

cpu_ticks() {  # PID -> user + system clock ticks of the process (all its threads)
  awk '{print $14 + $15}' "/proc/$1/stat"
}
# run PORT PID -> "<requests/s> <gateway CPU microseconds per request>" of one wrk run
run() {
  local before after out
  before=$(cpu_ticks "$2")
  out=$(timeout $((duration + 20)) "${pin_wrk[@]}" wrk -t"$threads" -c"$connections" -d"${duration}s" \
    "http://127.0.0.1:$1/bench/pets/1")
  after=$(cpu_ticks "$2")
  awk -v b="$before" -v a="$after" -v hz="$(getconf CLK_TCK)" '
    /^Requests\/sec:/ {rps = $2}
    / requests in / {n = $1}
    END {printf "%s %.2f\n", rps, (a - b) / hz * 1e6 / n}' <<< "$out"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

run "$port_on" "$pid_on" >/dev/null    # warm-up, both
run "$port_off" "$pid_off" >/dev/null
on=(); off=(); cpu_on=(); cpu_off=()
for i in $(seq "$runs"); do
  read -r r c < <(run "$port_on" "$pid_on"); on+=("$r"); cpu_on+=("$c")
  read -r r c < <(run "$port_off" "$pid_off"); off+=("$r"); cpu_off+=("$c")
  echo "run $i: analytics on ${on[-1]} req/s (${cpu_on[-1]} us CPU/req), off ${off[-1]} req/s (${cpu_off[-1]} us CPU/req)" >&2
done

# Every request of the "on" gateway became an event on disk; none was dropped.
requests=$(total_requests "$admin_on")
for _ in $(seq 50); do
  [ "$(metric "$admin_on" mgw_analytics_events_written_total)" = "$requests" ] && break
  sleep 0.1
done
written=$(metric "$admin_on" mgw_analytics_events_written_total)
dropped=$(metric "$admin_on" mgw_analytics_dropped_total)
bytes=$(du -sb "$work/analytics" | cut -f1)

mon=$(printf '%s\n' "${on[@]}" | median)
moff=$(printf '%s\n' "${off[@]}" | median)
con=$(printf '%s\n' "${cpu_on[@]}" | median)
coff=$(printf '%s\n' "${cpu_off[@]}" | median)
echo
echo "| gateway (1 worker, mock resource, wrk -t$threads -c$connections -d${duration}s, $runs runs each, alternating) | median req/s | median gateway CPU us/req | runs (req/s) |"
echo "|---|---|---|---|"
echo "| analytics off (--analytics.enabled=false; metrics on) | $moff | $coff | ${off[*]} |"
echo "| analytics on (events to files; metrics on) | $mon | $con | ${on[*]} |"
awk -v a="$mon" -v b="$moff" -v ca="$con" -v cb="$coff" 'BEGIN {
  printf "\nthroughput on / off = %.3f (cost %.1f %%; target < 5 %%)\n", a / b, (1 - a / b) * 100
  printf "CPU per request on / off = %.3f (cost %.1f %%)\n", ca / cb, (ca / cb - 1) * 100}'
echo "analytics on: $requests requests, $written events written, $dropped dropped, $((bytes >> 20)) MiB of event files"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$dropped" = "0" ] && [ "$written" = "$requests" ] ||
  { echo "analytics_wrk: events were lost ($written of $requests written, $dropped dropped)" >&2; exit 1; }
