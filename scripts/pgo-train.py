#!/usr/bin/python3
"""The training run of the profile-guided build (scripts/build.sh): runs the instrumented gateway
on a project of its own, behind an nginx backend, under a mix of what a gateway serves — plain
proxying, JWT (cached), API keys, request bodies (sized and chunked), a rate limit that refuses,
mock answers, refusals (401, 403, 404) — with analytics and metrics on. The counters are written
when the gateway exits; the build then compiles with them.

    /usr/bin/python3 scripts/pgo-train.py BIN_DIR WORK_DIR

Exits non-zero (and the build fails) when a step fails or an answer is not what this project
should give: a profile of a broken gateway would be worse than none. Loopback only; about 20 s."""
import hashlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks"))
import bench_project  # noqa: E402  (free_port, write, stop, backend_conf, issuer_key, token)

ISSUER = "https://train.example/issuer"
API_KEY = "train-key-7f3c9a"
DURATION_S = 6

DEFINITION = """openapi: 3.0.3
info: {{title: Train, version: "1"}}
x-wso2-basePath: /train
x-wso2-production-endpoints: {{urls: ["http://127.0.0.1:{backend}"]}}
paths:
  /plain:
    get:
      x-wso2-disable-security: true
      responses: {{"200": {{description: ok}}}}
  /items/{{id}}:
    get:
      x-wso2-throttling-tier: Huge
      security: [{{jwt: [read]}}]
      responses: {{"200": {{description: ok}}}}
    post:
      x-wso2-throttling-tier: Huge
      security: [{{jwt: [write]}}]
      responses: {{"201": {{description: created}}}}
  /keyed:
    get:
      security: [{{key: []}}]
      responses: {{"200": {{description: ok}}}}
  /limited:
    get:
      x-wso2-disable-security: true
      x-wso2-throttling-tier: Tiny
      responses: {{"200": {{description: ok}}}}
  /mocked:
    get:
      x-wso2-disable-security: true
      x-wso2-mock: true
      responses:
        "200":
          description: ok
          content:
            application/json:
              example: {{id: 7, name: "mocked"}}
components:
  securitySchemes:
    jwt: {{type: http, scheme: bearer}}
    key: {{type: apiKey, in: header, name: X-API-Key}}
"""

POLICIES = """resourcePolicies:
  - Huge: {count: 1000000000, unitTime: 1, timeUnit: min}
  - Tiny: {count: 5, unitTime: 1, timeUnit: min}
subscriptionPolicies:
  - Default: {count: 1000000000, unitTime: 1, timeUnit: min}
  - Unlimited: {count: 1000000000, unitTime: 1, timeUnit: min}
"""

MGW_TOML = f"""[project]
name = "train"
[[auth.jwt]]
issuer = "{ISSUER}"
certificate = "certs/issuer.pem"
[auth.api_keys]
keys_file = "api_keys.txt"
"""

# wrk cycles through these requests, one kind after another on each connection.
WRK_SCRIPT = """
local reqs = {}
local i = 0
function init(args)
  local bearer = "Bearer " .. args[1]
  local chunked = "5\\r\\nhello\\r\\n6\\r\\n world\\r\\n0\\r\\n\\r\\n"
  local json = '{"name":"widget","size":42,"tags":["a","b","c"]}'
  reqs = {
    wrk.format("GET", "/train/plain"),
    wrk.format("GET", "/train/plain?page=2&sort=name%20asc", {["Accept"] = "application/json",
               ["User-Agent"] = "train/1.0", ["X-Request-Tag"] = "pgo"}),
    wrk.format("GET", "/train/items/42", {["Authorization"] = bearer}),
    wrk.format("GET", "/train/items/43?x=1", {["Authorization"] = bearer, ["Connection"] = "keep-alive"}),
    wrk.format("POST", "/train/items/44", {["Authorization"] = bearer,
               ["Content-Type"] = "application/json"}, json),
    wrk.format("POST", "/train/items/45", {["Authorization"] = bearer,
               ["Transfer-Encoding"] = "chunked"}, chunked),
    wrk.format("GET", "/train/keyed", {["X-API-Key"] = args[2]}),
    wrk.format("GET", "/train/limited"),
    wrk.format("GET", "/train/mocked"),
    wrk.format("GET", "/train/items/46"),
    wrk.format("GET", "/train/items/47", {["Authorization"] = "Bearer not.a.token"}),
    wrk.format("GET", "/train/nowhere"),
  }
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
"""

# One request of each kind with the answer this project must give, checked before the load.
EXPECTED = [
    ("GET", "/train/plain", {}, None, 200),
    ("GET", "/train/items/42", {"Authorization": "Bearer {token}"}, None, 200),
    ("POST", "/train/items/44", {"Authorization": "Bearer {token}", "Content-Type": "application/json"},
     b'{"a":1}', 200),
    ("GET", "/train/keyed", {"X-API-Key": API_KEY}, None, 200),
    ("GET", "/train/mocked", {}, None, 200),
    ("GET", "/train/items/46", {}, None, 401),
    ("GET", "/train/nowhere", {}, None, 404),
]


def check(port, token):
    for method, path, headers, body, status in EXPECTED:
        headers = {k: v.format(token=token) for k, v in headers.items()}
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                got = answer.status
        except urllib.error.HTTPError as error:
            got = error.code
        if got != status:
            sys.exit(f"pgo-train: {method} {path} answered {got}, expected {status}")


def wait_ready(port, process):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"pgo-train: the gateway exited with {process.returncode} before serving")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/train/plain", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    sys.exit("pgo-train: the gateway did not serve within 20 s")


def main():
    bin_dir, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    project = f"{work}/project"
    backend_port, port, admin_port = (bench_project.free_port() for _ in range(3))

    key = bench_project.issuer_key(work, project)
    bench_project.write(f"{project}/api_definitions/train.yaml", DEFINITION.format(backend=backend_port))
    bench_project.write(f"{project}/policies.yaml", POLICIES)
    bench_project.write(f"{project}/mgw.toml", MGW_TOML)
    bench_project.write(f"{project}/api_keys.txt",
                        f"{hashlib.sha256(API_KEY.encode()).hexdigest()} train-app Unlimited\n")
    bench_project.write(f"{work}/train.lua", WRK_SCRIPT)
    bench_project.write(f"{work}/backend.conf", bench_project.backend_conf(work, backend_port, "x" * 300))
    env = {**os.environ, "MGW_GATEWAY_BINARY": f"{bin_dir}/mgw-gateway"}
    subprocess.run([f"{bin_dir}/mgw", "build", project, "-q"], check=True, env=env, timeout=120)
    token = bench_project.token(bin_dir, key, issuer=ISSUER, scope="read write")

    backend = subprocess.Popen(["nginx", "-c", f"{work}/backend.conf"], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gateway = None
    try:
        gateway = subprocess.Popen(
            [f"{project}/target/train/bin/gateway", f"--server.http_port={port}",
             f"--admin.port={admin_port}", "--server.workers=1", f"--analytics.dir={work}/analytics"],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(port, gateway)
        check(port, token)
        load = subprocess.run(["wrk", "-t1", "-c16", f"-d{DURATION_S}s", "-s", f"{work}/train.lua",
                               f"http://127.0.0.1:{port}", "--", token, API_KEY],
                              capture_output=True, text=True, timeout=DURATION_S + 60)
        if load.returncode != 0 or "requests in" not in load.stdout:
            sys.exit(f"pgo-train: wrk failed: {load.stdout}{load.stderr}")
        urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=10).read()
        requests = load.stdout.split("requests in")[0].split()[-1]
        print(f"pgo-train: {requests} requests through the instrumented gateway")
    finally:
        if gateway is not None:
            bench_project.stop(gateway)  # SIGTERM: the gateway drains and exits, writing its counters
        bench_project.stop(backend)
    if gateway.returncode != 0:
        sys.exit(f"pgo-train: the gateway exited with {gateway.returncode}")


if __name__ == "__main__":
    main()
