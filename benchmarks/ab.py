"""Alternating A/B of gateway builds and paths: CPU time per request split into user and system,
and requests/s, each a median over rounds.

Where run_proxy.py compares mgw with its peers, this compares mgw with itself: two builds of the
gateway (MGW_BIN_DIR, and MGW_BIN_DIR_B when given), or paths of one build (TARGETS):

  plain         the plain proxied resource, analytics off (run_proxy.py's "mgw plain")
  plain-token   the same, with the full path's 700-byte bearer token sent (and ignored): what the
                request's size alone costs
  jwt           RS256 JWT (cached) + never-triggering resource rate limit, analytics off (the path
                instructions.py counts)
  full          jwt with analytics and metrics on (run_proxy.py's "mgw full")
  nginx         nginx proxying the plain path (1 worker, upstream keep-alive), for reference

Every gateway and nginx run pinned to CPU 0, wrk and the backend to CPU 1. Each round runs every
(build, target) pair once, in reversed order every other round, so drift on a shared machine
cancels. CPU time is read from /proc/<pid>/stat of the proxy (all its threads; nginx's master and worker)
just before and after the measured wrk run. Every server listens on 127.0.0.1
on a port chosen at run time and is stopped by its pid. Prints a Markdown table.
"""
import os
import shutil
import statistics
import sys
import tempfile

import bench_project
import run_proxy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_A = os.environ.get("MGW_BIN_DIR", os.path.join(REPO, "build", "bin"))
BIN_B = os.environ.get("MGW_BIN_DIR_B", "")
ROUNDS = int(os.environ.get("ROUNDS", "6"))
DURATION = int(os.environ.get("DURATION", "5"))
TARGETS = [t for t in os.environ.get("TARGETS", "plain,full").split(",") if t]
KNOWN = ("plain", "plain-token", "jwt", "full", "nginx")

WORK = tempfile.mkdtemp(prefix="mgw-ab-")


def main():
    for target in TARGETS:
        if target not in KNOWN:
            sys.exit(f"ab: unknown target {target!r} (known: {', '.join(KNOWN)})")
    builds = [("A", BIN_A)] + ([("B", BIN_B)] if BIN_B else [])
    backend_port = bench_project.free_port()
    bench_project.write(f"{WORK}/backend.conf", bench_project.backend_conf(WORK, backend_port, "x" * 100))
    backend = run_proxy.start(["taskset", "-c", "1", "nginx", "-c", f"{WORK}/backend.conf", "-p", WORK])
    run_proxy.wait_http(f"http://127.0.0.1:{backend_port}/")
    nginx_port = bench_project.free_port()
    bench_project.write(f"{WORK}/nginx.conf",
                        bench_project.nginx_proxy_conf(WORK, nginx_port, backend_port))

    gateways = {}
    key = None  # one issuer key for both builds: the same token is valid for either
    for label, bin_dir in builds:
        work = f"{WORK}/{label}"
        os.makedirs(work)
        gateways[label], key = bench_project.build(work, backend_port, bin_dir, key)
    token = bench_project.token(BIN_A, key)
    token_script = f"{WORK}/token.lua"
    bench_project.write(token_script, f'wrk.headers["Authorization"] = "Bearer {token}"\n')

    def launch(label, target):
        """Starts one proxy; returns (process, url, wrk script)."""
        if target == "nginx":
            p = run_proxy.start(["taskset", "-c", "0", "nginx", "-c", f"{WORK}/nginx.conf", "-p", WORK])
            url = f"http://127.0.0.1:{nginx_port}/api/plain"
            run_proxy.wait_http(url)
            return p, url, None
        port = bench_project.free_port()
        analytics = f"{WORK}/{label}/analytics" if target == "full" else None
        p = run_proxy.start(["taskset", "-c", "0"] +
                            bench_project.gateway_args(gateways[label], port, analytics))
        run_proxy.wait_http(f"http://127.0.0.1:{port}/api/plain")
        path = "/api/plain" if target.startswith("plain") else "/api/secure"
        return p, f"http://127.0.0.1:{port}{path}", None if target == "plain" else token_script

    pairs = [(label, target) for target in TARGETS for label, _ in builds
             if target != "nginx" or label == "A"]
    rows = {pair: [] for pair in pairs}
    for round_index in range(ROUNDS):
        for pair in pairs if round_index % 2 == 0 else list(reversed(pairs)):
            p, url, script = launch(*pair)
            run_proxy.wrk(url, script, duration=1)  # warm-up: connections, caches, token cache
            before = run_proxy.children_cpu_times(p.pid)  # nginx: its master and worker
            r = run_proxy.wrk(url, script, duration=DURATION)
            after = run_proxy.children_cpu_times(p.pid)
            bench_project.stop(p)
            n = max(1, r["requests"])
            delta = [b - a for a, b in zip(before, after)]
            rows[pair].append({"rps": r["rps"], "user": delta[0] / n * 1e6, "sys": delta[1] / n * 1e6,
                               "p99": r["p99"],
                               "errors": r["errors"]})
            print(f"round {round_index + 1}: {pair[0]} {pair[1]}: {r['rps']:.0f} req/s, "
                  f"user {rows[pair][-1]['user']:.2f} us, sys {rows[pair][-1]['sys']:.2f} us",
                  file=sys.stderr, flush=True)
    bench_project.stop(backend)

    def med(pair, key):
        return statistics.median(r[key] for r in rows[pair])

    first = pairs[0]
    print(f"A = {BIN_A}" + (f", B = {BIN_B}" if BIN_B else ""))
    print(f"{ROUNDS} alternating rounds of {DURATION} s; proxies on CPU 0, wrk (1 thread, "
          f"{run_proxy.CONNECTIONS} connections) and the backend on CPU 1; medians.\n")
    print("| build | target | req/s | vs first | user µs/req | system µs/req | CPU µs/req | "
          "vs first | p99 ms | non-2xx |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    first_cpu = statistics.median(r["user"] + r["sys"] for r in rows[first])
    for pair in pairs:
        cpu = statistics.median(r["user"] + r["sys"] for r in rows[pair])
        print(f"| {pair[0]} | {pair[1]} | {med(pair, 'rps'):.0f} | "
              f"{med(pair, 'rps') / med(first, 'rps'):.3f}x | {med(pair, 'user'):.2f} | "
              f"{med(pair, 'sys'):.2f} | {cpu:.2f} | {cpu / first_cpu:.3f}x | "
              f"{med(pair, 'p99'):.3f} | "
              f"{sum(r['errors'] for r in rows[pair])} |")


if __name__ == "__main__":
    try:
        main()
    finally:
        for proc in run_proxy.PROCS:
            try:
                bench_project.stop(proc)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        shutil.rmtree(WORK, ignore_errors=True)
        shutil.rmtree(run_proxy.WORK, ignore_errors=True)
