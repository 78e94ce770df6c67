"""Instructions per request of the gateway's worker, counted by callgrind: a figure that does not
move with the load of a shared machine, for comparing two builds of the relay path.

For each path (plain proxy; RS256 JWT cached + resource rate limit, with analytics off and on),
the gateway (1 worker) runs under valgrind (all its threads are counted: with analytics on, the
writer's too), and so does nginx proxying the plain path (1 worker, upstream
keep-alive), as the reference; `ab -k` sends warm-up requests, the counters are zeroed, then
REQUESTS requests are sent and the counters dumped. Prints total user-space instructions per
request and, with TOP=N, the N functions with the most instructions of their own; with ATOMICS=1,
also the locked (atomic) instructions per request, each of which costs tens of cycles.
Every server is bound to 127.0.0.1 on a port chosen at run time and stopped by its pid.
"""
import collections
import glob
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import bench_project

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("MGW_BIN_DIR", os.path.join(REPO, "build", "bin"))
REQUESTS = int(os.environ.get("REQUESTS", "5000"))
TOP = int(os.environ.get("TOP", "0"))
# ATOMICS=1: also count locked (atomic) instructions per request (callgrind --collect-bus).
ATOMICS = os.environ.get("ATOMICS", "") not in ("", "0")
WORK = tempfile.mkdtemp(prefix="mgw-instr-")


def wait_port(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def self_costs(path):
    """Instructions per function (self cost) from a callgrind output file."""
    names, costs, fn, skip = {}, collections.Counter(), None, False
    for line in open(path):
        m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            kind, index, name = m.groups()
            if name:
                names[index] = name
            if kind == "fn":
                fn = index
            continue
        if line.startswith("calls="):
            skip = True
            continue
        if re.match(r"^[+-]?\d", line):
            if skip:
                skip = False
                continue
            parts = line.split()
            if len(parts) >= 2 and fn is not None:
                costs[fn] += int(parts[1])
    return {names.get(k, "?"): v for k, v in costs.items()}


def locked_total(path):
    """Locked (atomic) instructions in all, when counted (the `Ge` event of --collect-bus)."""
    events, totals = [], []
    for line in open(path):
        if line.startswith("events:"):
            events = line.split()[1:]
        elif line.startswith(("totals:", "summary:")):
            totals = [int(v) for v in line.split()[1:]]
    return totals[events.index("Ge")] if "Ge" in events and len(totals) == len(events) else None


def gateway_command(gateway, port, analytics=False):
    return bench_project.gateway_args(gateway, port, f"{WORK}/analytics-{port}" if analytics else None)


def nginx_command(port, backend_port):
    """nginx proxying like run_proxy.py's reference, in one process (valgrind follows one)."""
    conf = f"{WORK}/proxy-{port}.conf"
    bench_project.write(conf, bench_project.nginx_proxy_conf(WORK, port, backend_port, master_process=False))
    return ["nginx", "-c", conf, "-p", WORK]


def measure(command, port, path, headers):
    out = f"{WORK}/callgrind.out"
    bus = ["--collect-bus=yes"] if ATOMICS else []
    p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p"] + bus + command,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_port(port)
        ab = ["ab", "-q", "-k", "-c", "10"] + sum((["-H", h] for h in headers), [])
        url = f"http://127.0.0.1:{port}{path}"
        subprocess.run(ab + ["-n", "500", url], check=True, capture_output=True, timeout=300)
        subprocess.run(["callgrind_control", "-z", str(p.pid)], check=True, capture_output=True, timeout=60)
        result = subprocess.run(ab + ["-n", str(REQUESTS), url], check=True, capture_output=True,
                                text=True, timeout=600)
        subprocess.run(["callgrind_control", "-d", str(p.pid)], check=True, capture_output=True, timeout=60)
        time.sleep(1)
        failed = re.search(r"Failed requests:\s+(\d+)", result.stdout)
        non2xx = re.search(r"Non-2xx responses:\s+(\d+)", result.stdout)
        if (failed and int(failed.group(1))) or non2xx:
            raise RuntimeError("requests failed:\n" + result.stdout)
        dump = max(glob.glob(f"{out}.{p.pid}.*"), key=os.path.getmtime)
        return self_costs(dump), locked_total(dump)
    finally:
        bench_project.stop(p)


def main():
    backend_port = bench_project.free_port()
    bench_project.write(f"{WORK}/backend.conf", bench_project.backend_conf(WORK, backend_port, "x" * 100))
    backend = subprocess.Popen(["nginx", "-c", f"{WORK}/backend.conf", "-p", WORK],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_port(backend_port)
        gateway, key = bench_project.build(WORK, backend_port, BIN)
        token = bench_project.token(BIN, key)
        rows = [("mgw plain proxy", "/api/plain", [], gateway_command),
                ("mgw JWT RS256 cached + rate limit", "/api/secure", [f"Authorization: Bearer {token}"],
                 gateway_command),
                ("mgw JWT RS256 cached + rate limit + analytics", "/api/secure",
                 [f"Authorization: Bearer {token}"],
                 lambda gateway, port: gateway_command(gateway, port, analytics=True)),
                ("nginx plain proxy (reference)", "/api/plain", [],
                 lambda _, port: nginx_command(port, backend_port))]
        extra = " locked instructions / request |" if ATOMICS else ""
        print(f"| path ({REQUESTS} requests, ab -k -c 10; analytics off unless named) | "
              f"instructions / request |{extra}")
        print("|---|---|" + ("---|" if ATOMICS else ""))
        profiles = []
        for name, path, headers, command in rows:
            port = bench_project.free_port()
            costs, locked = measure(command(gateway, port), port, path, headers)
            total = sum(costs.values())
            column = f" {locked / REQUESTS:,.1f} |" if ATOMICS and locked is not None else ""
            print(f"| {name} | {total / REQUESTS:,.0f} |{column}", flush=True)
            profiles.append((name, costs, total))
        for name, costs, total in profiles if TOP else []:
            print(f"\n{name}: top {TOP} functions by own instructions per request")
            for function, cost in sorted(costs.items(), key=lambda kv: -kv[1])[:TOP]:
                print(f"  {cost / REQUESTS:8,.0f}  {100 * cost / total:4.1f}%  {function[:110]}")
    finally:
        bench_project.stop(backend)
        subprocess.run(["rm", "-rf", WORK])


if __name__ == "__main__":
    sys.exit(main())
