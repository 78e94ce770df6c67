"""The project the proxy benchmarks build: one API at /api on a given backend, with a plain
resource (security disabled) and a secured one (RS256 JWT with scope `read`, resource tier Huge,
which never triggers), and the nginx configurations they run as backend and as reference proxy.
Shared by run_proxy.py and instructions.py."""
import os
import signal
import socket
import subprocess

ISSUER = "https://bench.example/issuer"


def free_port():
    """A loopback port free at the time of the call."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def stop(p):
    """Stops a process started in its own session: SIGTERM to its group, SIGKILL after 10 s."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


def backend_conf(work, port, body):
    """nginx answering every request with a fixed 200 text body."""
    return f"""
worker_processes 1; daemon off; error_log /dev/null; pid {work}/backend.pid;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port} reuseport;
    location / {{ default_type text/plain; return 200 "{body}"; }} }} }}
"""


def nginx_proxy_conf(work, port, backend_port, master_process=True):
    """nginx as the reference reverse proxy: 1 worker, upstream keep-alive, /api/ stripped like
    the gateway's base path. master_process=False runs one process (for valgrind)."""
    master = "" if master_process else "master_process off; "
    return f"""
worker_processes 1; daemon off; {master}error_log /dev/null; pid {work}/nginx.pid;
events {{ worker_connections 8192; }}
http {{ access_log off; keepalive_requests 1000000;
  upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; }}
  server {{ listen 127.0.0.1:{port};
    location /api/ {{ proxy_pass http://backend/; proxy_http_version 1.1;
      proxy_set_header Connection ""; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }} }} }}
"""


def issuer_key(work, project, key=None):
    """The issuer key (a fresh RSA 2048 one at work/issuer.key unless `key` names one), its public
    key at project/certs/issuer.pem; returns the key file."""
    if key is None:
        key = f"{work}/issuer.key"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", key], check=True, capture_output=True)
    os.makedirs(f"{project}/certs", exist_ok=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", f"{project}/certs/issuer.pem"],
                   check=True, capture_output=True)
    return key


def build(work, backend_port, bin_dir, key=None):
    """Writes and builds the project under `work` (trusting `key`, or a fresh key); returns
    (gateway binary, issuer key file)."""
    project = f"{work}/project"
    key = issuer_key(work, project, key)
    write(f"{project}/api_definitions/api.yaml", f"""openapi: 3.0.3
info: {{title: Bench, version: "1"}}
x-wso2-basePath: /api
x-wso2-production-endpoints: {{urls: ["http://127.0.0.1:{backend_port}"]}}
paths:
  /plain:
    get:
      x-wso2-disable-security: true
      responses: {{"200": {{description: ok}}}}
  /secure:
    get:
      x-wso2-throttling-tier: Huge
      security: [{{jwt: [read]}}]
      responses: {{"200": {{description: ok}}}}
components:
  securitySchemes:
    jwt: {{type: http, scheme: bearer}}
""")
    write(f"{project}/policies.yaml", """resourcePolicies:
  - Huge: {count: 1000000000, unitTime: 1, timeUnit: min}
subscriptionPolicies:
  - Default: {count: 1000000000, unitTime: 1, timeUnit: min}
""")
    write(f"{project}/mgw.toml", f"""[project]
name = "bench"
[[auth.jwt]]
issuer = "{ISSUER}"
certificate = "certs/issuer.pem"
""")
    subprocess.run([f"{bin_dir}/mgw", "build", project, "-q"], check=True,
                   env={**os.environ, "MGW_GATEWAY_BINARY": f"{bin_dir}/mgw-gateway"})
    return f"{project}/target/bench/bin/gateway", key


def gateway_args(gateway, port, analytics_dir=None):
    """The measured gateway's command line: 1 worker, no access log, analytics into
    `analytics_dir` or off, the admin port on a free port."""
    return [gateway, f"--server.http_port={port}", f"--admin.port={free_port()}",
            "--server.workers=1", "--log.access_log="] + (
                [f"--analytics.dir={analytics_dir}"] if analytics_dir else ["--analytics.enabled=false"])


def token(bin_dir, key, issuer=ISSUER, scope="read"):
    """A day-long RS256 token (by default with scope `read`, from the bench issuer)."""
    return subprocess.run([f"{bin_dir}/mgw", "token", "--key", key, "--iss", issuer, "--scope", scope,
                           "--ttl", "86400"], check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()
