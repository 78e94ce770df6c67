"""Side-by-side proxy benchmark: backend direct, nginx, haproxy, mgw (plain / full / fresh token).

Every server the script starts listens on 127.0.0.1 on a port chosen at run time, is stopped by
its pid, and every run is bounded in time. The gateway and the proxies are pinned to CPU 0 and
wrk to CPU 1 (the machines have 2 cores), so each proxy gets one core, as configured (1 worker /
1 thread each).
"""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import bench_project

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("MGW_BIN_DIR", os.path.join(REPO, "build", "bin"))
SHARED = os.environ.get("MGW_SHARED_DIR", os.path.join(REPO, "..", "shared"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "8"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "50"))
BODY = "x" * 100

WORK = tempfile.mkdtemp(prefix="mgw-bench-")
PROCS = []


def start(args, **kw):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, **kw)
    PROCS.append(p)
    return p


def wait_http(url, timeout=20, headers=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001 - retried until the deadline
            time.sleep(0.05)
    raise RuntimeError("not answering: " + url)


def proc_cpu_times(pid):
    """(user, system) CPU seconds of a process, all its threads; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / ticks, int(fields[12]) / ticks
    except OSError:
        return 0.0, 0.0


def children_cpu_times(pid):
    """(user, system) CPU seconds of pid and its children (nginx / haproxy workers)."""
    user, system = proc_cpu_times(pid)
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        for child in out.split():
            child_user, child_system = proc_cpu_times(int(child))
            user += child_user
            system += child_system
    except OSError:
        pass
    return user, system


def children_cpu(pid):
    """CPU seconds of pid and its children."""
    return sum(children_cpu_times(pid))


def rss_kib(pid, field="VmRSS"):
    total = 0
    pids = [pid]
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    pids += [int(c) for c in out.split()]
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def wrk(url, script=None, duration=DURATION):
    args = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency",
            "--timeout", "5s"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))

    def lat(label):
        m = re.search(r"\s" + label + r"\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat("50%"), "p99": lat("99%"), "requests": total,
            "errors": int(non2xx.group(1)) if non2xx else 0}


write = bench_project.write


def main():
    results = {}
    backend_port = bench_project.free_port()
    write(f"{WORK}/backend.conf", bench_project.backend_conf(WORK, backend_port, BODY))
    backend = start(["taskset", "-c", "1", "nginx", "-c", f"{WORK}/backend.conf", "-p", WORK])
    wait_http(f"http://127.0.0.1:{backend_port}/")

    nginx_port = bench_project.free_port()
    write(f"{WORK}/nginx.conf", bench_project.nginx_proxy_conf(WORK, nginx_port, backend_port))
    haproxy_port = bench_project.free_port()
    write(f"{WORK}/haproxy.cfg", f"""
global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:{haproxy_port}
  http-request replace-path /api(/.*)? \\1
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:{backend_port}
""")

    # The mgw project: a plain proxied resource, a secured + limited one.
    gateway, key = bench_project.build(WORK, backend_port, BIN)

    def mgw(analytics_dir=None):
        port = bench_project.free_port()
        p = start(["taskset", "-c", "0"] + bench_project.gateway_args(gateway, port, analytics_dir))
        wait_http(f"http://127.0.0.1:{port}/api/plain")
        return p, port

    token = bench_project.token(BIN, key)
    # Fresh tokens: more distinct tokens (10,000) than the per-worker cache holds (8,192), cycled
    # by wrk, so every request verifies a signature.
    tokens_file = f"{WORK}/tokens.txt"
    subprocess.run([sys.executable, "-c", f"""
import jwt, time
from cryptography.hazmat.primitives import serialization
key = serialization.load_pem_private_key(open({key!r}, 'rb').read(), password=None)
now = int(time.time())
with open({tokens_file!r}, 'w') as f:
    for i in range(10000):
        f.write(jwt.encode({{'iss': {bench_project.ISSUER!r}, 'sub': 'u%d' % i, 'scope': 'read',
                            'exp': now + 86400, 'iat': now}}, key, algorithm='RS256') + '\\n')
"""], check=True, timeout=300)
    write(f"{WORK}/fresh.lua", f"""
local tokens = {{}}
for line in io.lines("{tokens_file}") do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/api/secure", {{["Authorization"] = "Bearer " .. tokens[i]}})
end
""")
    write(f"{WORK}/cached.lua", f"""
wrk.headers["Authorization"] = "Bearer {token}"
""")

    order = [
        "backend direct (nginx, the ceiling)",
        "nginx reverse proxy (1 worker, upstream keep-alive)",
        "haproxy reverse proxy (1 thread)",
        "mgw plain proxy (1 worker)",
        "mgw JWT RS256 cached + rate limit + analytics + metrics",
        "mgw fresh RS256 token per request (uncached)",
    ]
    for name in order:
        results[name] = []

    def run_target(name):
        if name.startswith("backend"):
            return None, backend_port, "/", None
        if name.startswith("nginx"):
            p = start(["taskset", "-c", "0", "nginx", "-c", f"{WORK}/nginx.conf", "-p", WORK])
            wait_http(f"http://127.0.0.1:{nginx_port}/api/plain")
            return p, nginx_port, "/api/plain", None
        if name.startswith("haproxy"):
            p = start(["taskset", "-c", "0", "haproxy", "-f", f"{WORK}/haproxy.cfg", "-db"])
            wait_http(f"http://127.0.0.1:{haproxy_port}/api/plain")
            return p, haproxy_port, "/api/plain", None
        if name.startswith("mgw plain"):
            p, port = mgw()
            return p, port, "/api/plain", None
        if name.startswith("mgw JWT"):
            p, port = mgw(f"{WORK}/analytics")
            return p, port, "/api/secure", f"{WORK}/cached.lua"
        p, port = mgw(f"{WORK}/analytics")
        return p, port, "/api/secure", f"{WORK}/fresh.lua"

    for round_index in range(ROUNDS):
        names = order if round_index % 2 == 0 else list(reversed(order))
        for name in names:
            p, port, path, script = run_target(name)
            pid = p.pid if p else backend.pid
            wrk(f"http://127.0.0.1:{port}{path}", script, duration=2)  # warm-up
            cpu0 = children_cpu(pid)
            r = wrk(f"http://127.0.0.1:{port}{path}", script)
            cpu1 = children_cpu(pid)
            r["cpu_per_10k"] = (cpu1 - cpu0) / max(1, r["requests"]) * 10000
            r["rss_mib"] = rss_kib(pid, "VmHWM") / 1024
            results[name].append(r)
            print(f"round {round_index + 1}: {name}: {r['rps']:.0f} req/s p50 {r['p50']:.3f} ms "
                  f"p99 {r['p99']:.3f} ms non-2xx {r['errors']}", flush=True)
            if p:
                bench_project.stop(p)

    # Memory: idle with analytics on (as configured by default), then idle and with 10,000 idle
    # keep-alive connections with analytics off.
    p, port = mgw(f"{WORK}/idle-analytics")
    time.sleep(0.5)
    idle_rss_analytics = rss_kib(p.pid) / 1024
    bench_project.stop(p)
    p, port = mgw()
    time.sleep(0.5)
    idle_rss = rss_kib(p.pid) / 1024
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    sockets = []
    request = b"GET /api/plain HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(10000):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        sockets.append(s)
    for s in sockets:
        s.recv(4096)
    time.sleep(0.5)
    rss_10k = rss_kib(p.pid) / 1024
    for s in sockets:
        s.close()
    bench_project.stop(p)

    # Start to first served request with the Stripe bundle, and its build time.
    stripe_src = os.path.join(SHARED, "corpora/openapi-real-world/large/stripe-spec3-2022-04-12.json")
    stripe = f"{WORK}/stripe"
    os.makedirs(f"{stripe}/api_definitions")
    text = open(stripe_src).read()
    brace = text.index("{")
    write(f"{stripe}/api_definitions/stripe.json", text[:brace + 1] + '"x-wso2-mock": true,' + text[brace + 1:])
    write(f"{stripe}/mgw.toml", '[project]\nname = "stripe"\n')
    builds = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([f"{BIN}/mgw", "build", stripe, "-q"], check=True, capture_output=True,
                       env={**os.environ, "MGW_GATEWAY_BINARY": f"{BIN}/mgw-gateway"})
        builds.append(time.perf_counter() - t0)
    starts = []
    for _ in range(5):
        port = bench_project.free_port()
        t0 = time.perf_counter()
        p = start([f"{stripe}/target/stripe/bin/gateway", f"--server.http_port={port}", "--admin.port=0",
                   "--log.access_log=", "--analytics.enabled=false", "--server.workers=1"])
        url = f"http://127.0.0.1:{port}/v1/customers"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1"):
                        break
            except OSError:
                time.sleep(0.001)
        starts.append((time.perf_counter() - t0) * 1000)
        bench_project.stop(p)

    micro = subprocess.run([f"{BIN}/mgw_benchmarks", "--benchmark_repetitions=3",
                            "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.2",
                            "--benchmark_format=json"], capture_output=True, text=True, timeout=600)
    micro_rows = []
    try:
        for b in json.loads(micro.stdout)["benchmarks"]:
            if b.get("aggregate_name") == "median":
                micro_rows.append((b["run_name"], b["cpu_time"], b["time_unit"]))
    except (ValueError, KeyError):
        pass

    bench_project.stop(backend)
    report(results, idle_rss, rss_10k, builds, starts, micro_rows, idle_rss_analytics)


def build_kind():
    """How the measured mgw was compiled, from its CMake cache (scripts/build.sh)."""
    cache = os.path.join(os.path.dirname(BIN), "CMakeCache.txt")
    settings = {}
    with open(cache) as f:
        for line in f:
            name, _, value = line.strip().partition("=")
            settings[name.split(":")[0]] = value
    kind = settings.get("CMAKE_BUILD_TYPE", "?")
    if settings.get("MGW_PGO") == "use":
        return f"{kind}, -O2, profile-guided (trained by scripts/pgo-train.py)"
    return f"{kind}, -O2, without PGO"


def report(results, idle_rss, rss_10k, builds, starts, micro_rows, idle_rss_analytics):
    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    nginx = "nginx reverse proxy (1 worker, upstream keep-alive)"
    cpu = subprocess.run(["sh", "-c", "lscpu | grep 'Model name' | sed 's/.*: *//'"],
                         capture_output=True, text=True).stdout.strip()
    lines = ["# Benchmark results", "",
             f"Machine: {os.cpu_count()} cores ({cpu}), Linux {os.uname().release}; loopback; "
             f"proxies pinned to CPU 0, wrk (1 thread, {CONNECTIONS} connections) to CPU 1; "
             f"{ROUNDS} rounds of {DURATION} s per target in alternating order, medians shown.",
             "Backend: nginx returning a fixed 100-byte body. Command: `bash benchmarks/run.sh`.",
             f"mgw build: {build_kind()}; nginx and haproxy: Debian 12's packages.",
             f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             "| target | req/s | vs nginx | p50 ms | p99 ms | p99 vs nginx | CPU s / 10k req | peak RSS MiB | non-2xx |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in results:
        rps, p50, p99 = med(name, "rps"), med(name, "p50"), med(name, "p99")
        lines.append(f"| {name} | {rps:.0f} | {rps / med(nginx, 'rps'):.2f}x | {p50:.3f} | {p99:.3f} | "
                     f"{p99 / med(nginx, 'p99'):.2f}x | {med(name, 'cpu_per_10k'):.3f} | "
                     f"{med(name, 'rss_mib'):.1f} | {sum(r['errors'] for r in results[name])} |")
    plain = med("mgw plain proxy (1 worker)", "rps")
    full = med("mgw JWT RS256 cached + rate limit + analytics + metrics", "rps")
    # The same ratios round by round: their spread is the machine's noise.
    def spread(a, b):
        ratios = [x["rps"] / y["rps"] for x, y in zip(results[a], results[b])]
        return f"{min(ratios):.2f}x-{max(ratios):.2f}x"
    plain_name = "mgw plain proxy (1 worker)"
    full_name = "mgw JWT RS256 cached + rate limit + analytics + metrics"
    lines += ["", f"mgw full / mgw plain: {full / plain:.2f}x (target >= 0.9x; per round {spread(full_name, plain_name)}).",
              f"mgw plain / nginx: {plain / med(nginx, 'rps'):.2f}x requests/s (target >= 1.0x; per round "
              f"{spread(plain_name, nginx)}), "
              f"p99 {med(plain_name, 'p99') / med(nginx, 'p99'):.2f}x (target <= 1.2x).", "",
              "| memory and start-up | value | target |", "|---|---|---|",
              f"| gateway RSS idle (analytics off) | {idle_rss:.1f} MiB | < 20 MiB |",
              f"| gateway RSS idle, analytics on | {idle_rss_analytics:.1f} MiB | — |",
              f"| gateway RSS with 10,000 idle keep-alive connections | {rss_10k:.1f} MiB (+{rss_10k - idle_rss:.1f}) | < +100 MiB |",
              f"| start to first served request, Stripe bundle (median of 5) | {statistics.median(starts):.1f} ms | < 100 ms |",
              f"| `mgw build` of the Stripe project (median of 3) | {statistics.median(builds):.2f} s | < 2 s |", ""]
    if micro_rows:
        lines += ["| micro-benchmark (median of 3, CPU time) | time |", "|---|---|"]
        for name, t, unit in micro_rows:
            lines.append(f"| {name} | {t:.1f} {unit} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(REPO, "benchmarks", "RESULTS.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in PROCS:
            try:
                bench_project.stop(p)
            except Exception:  # noqa: BLE001
                pass
        shutil.rmtree(WORK, ignore_errors=True)
