"""Shared helpers for mgw's end-to-end tests.

Every test runs the real binaries (paths from the environment CTest sets), on 127.0.0.1 ports
chosen at run time, with every wait bounded in time, and stops every process it started by id.
"""
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

MGW = os.environ.get("MGW_BIN", "mgw")
GATEWAY = os.environ.get("MGW_GATEWAY_BIN", "mgw-gateway")
SOURCE_DIR = os.environ.get("MGW_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED_DIR = os.environ.get("MGW_SHARED_DIR", os.path.join(SOURCE_DIR, "..", "shared"))
CORPORA = os.path.join(SHARED_DIR, "corpora")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_mgw(*args, cwd=None, env=None, timeout=300):
    """Runs the mgw CLI; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    full_env["MGW_GATEWAY_BINARY"] = GATEWAY
    if env:
        full_env.update(env)
    return subprocess.run([MGW, *map(str, args)], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def make_project(root, definitions, mgw_toml="", policies=None, files=None):
    """Creates a project folder: definitions is {relative name: text} under api_definitions/."""
    os.makedirs(os.path.join(root, "api_definitions"), exist_ok=True)
    write(os.path.join(root, "mgw.toml"), mgw_toml)
    if policies is not None:
        write(os.path.join(root, "policies.yaml"), policies)
    for name, text in definitions.items():
        write(os.path.join(root, "api_definitions", name), text)
    for name, text in (files or {}).items():
        write(os.path.join(root, name), text)
    return root


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate() until it is truthy or timeout seconds pass (then raises)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - the predicate's failure is retried
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")


class Process:
    """A child process owned by a test: started in its own process group, stopped by id."""

    def __init__(self, args, env=None, cwd=None, stdout=None):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.log = tempfile.NamedTemporaryFile(prefix="mgw-test-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, env=full_env, cwd=cwd,
                                     stdout=stdout if stdout is not None else self.log,
                                     stderr=subprocess.STDOUT if stdout is None else self.log,
                                     start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        with open(self.log.name, "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after timeout seconds; returns the exit code."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)
        return self.proc.returncode


def http_request(port, method, path, body=None, headers=None, host="127.0.0.1", timeout=10):
    """One HTTP/1.1 request on a fresh connection; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def json_body(data):
    return json.loads(data.decode("utf-8"))


class TempDirTestCase(unittest.TestCase):
    """A test case with a fresh temporary folder in self.tmp, removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mgw-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)


# --- Helpers for the toolkit tests (test_cli.py, test_corpora.py). ---

import hashlib  # noqa: E402
import http.server  # noqa: E402
import re  # noqa: E402
import threading  # noqa: E402

DIAGNOSTIC = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<column>\d+): "
                        r"(?P<severity>error|warning): (?P<message>.+)$")


@contextlib.contextmanager
def serve_directory(directory):
    """Serves `directory` over HTTP on 127.0.0.1 from a thread; yields the base URL."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=directory, **kwargs)

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def inject_mock(text, is_json):
    """Returns `text` with `x-wso2-mock: true` added at the root of the OpenAPI document.

    JSON: inserted right after the first `{`. YAML: inserted as the first key, with the document's
    own indentation, after a leading `---` line and any leading comments or blank lines.
    """
    if is_json:
        brace = text.index("{")
        return text[:brace + 1] + '"x-wso2-mock": true,' + text[brace + 1:]
    lines = text.split("\n")
    index = 0

    def skippable(line):
        return not line.strip() or line.lstrip().startswith("#")

    while index < len(lines) and skippable(lines[index]):
        index += 1
    if index < len(lines) and lines[index].strip() == "---":
        index += 1
        while index < len(lines) and skippable(lines[index]):
            index += 1
    indent = re.match(r"[ \t]*", lines[index]).group(0) if index < len(lines) else ""
    lines.insert(index, indent + "x-wso2-mock: true")
    return "\n".join(lines)


def tree_snapshot(root):
    """{relative path: sha256 (files) or "<dir>"} for everything under root (empty if missing)."""
    snapshot = {}
    if not os.path.isdir(root):
        return snapshot
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            snapshot[os.path.relpath(os.path.join(folder, name), root)] = "<dir>"
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                snapshot[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return snapshot


def diagnostics(stderr, severity="error"):
    """The `file:line:col: severity: message` lines of stderr, as regex matches."""
    found = []
    for line in stderr.splitlines():
        match = DIAGNOSTIC.match(line)
        if match and match.group("severity") == severity:
            found.append(match)
    return found


# ---------------------------------------------------------------------------------------------
# Runtime helpers: OpenAPI definitions as data, a gateway built with the real `mgw build`, a
# scriptable backend, a raw-socket client, test certificates and process memory.

import base64  # noqa: E402 - kept with the helpers that use them
import collections  # noqa: E402
import hashlib  # noqa: E402
import http.server  # noqa: E402
import select  # noqa: E402
import ssl  # noqa: E402
import threading  # noqa: E402
import zlib  # noqa: E402

ANY_METHODS = ("get", "post", "put", "delete", "patch", "head", "options")


def openapi(title, base_path, paths, production=None, version="1.0", secured=False, **extensions):
    """An OpenAPI 3.0 definition as JSON text. `paths` maps a template to a list of methods (each
    answered 200) or to a ready OpenAPI path item; `production` is an x-wso2-production-endpoints
    value (a URL, a list of URLs or a dict). Security is disabled unless `secured` (this suite
    tests the proxy, not authentication). `extensions` are added at the API level, with "_" in
    the keyword written as "-" (x_wso2_cors= -> x-wso2-cors)."""
    doc = {"openapi": "3.0.3", "info": {"title": title, "version": version},
           "x-wso2-basePath": base_path, "paths": {}}
    if not secured:
        doc["x-wso2-disable-security"] = True
    if production is not None:
        if isinstance(production, str):
            production = {"urls": [production]}
        elif isinstance(production, (list, tuple)):
            production = {"urls": list(production)}
        doc["x-wso2-production-endpoints"] = production
    for template, item in paths.items():
        if isinstance(item, (list, tuple)):
            item = {m: {"responses": {"200": {"description": "ok"}}} for m in item}
        doc["paths"][template] = item
    for key, value in extensions.items():
        doc[key.replace("_", "-")] = value
    return json.dumps(doc, indent=1)


class Gateway:
    """A project built into a distribution with the real `mgw build`, and its bin/gateway run on
    127.0.0.1 with ports chosen at run time. start() waits for GET /ready on the admin port;
    stop() sends SIGTERM to the pid (SIGKILL after a bound) and returns the exit code."""

    def __init__(self, tmp, definitions, mgw_toml="", files=None, policies=None, name="gw"):
        self.project = os.path.join(tmp, name)
        make_project(self.project, definitions, mgw_toml=mgw_toml, policies=policies, files=files)
        self.dist = os.path.join(self.project, "target", name)
        self.binary = os.path.join(self.dist, "bin", "gateway")
        self.process = None
        self.port = None
        self.https_port = None
        self.admin_port = None

    def build(self):
        result = run_mgw("build", self.project, "--quiet")
        if result.returncode != 0:
            raise AssertionError(f"mgw build failed ({result.returncode}): {result.stderr}")
        return self

    def run_binary(self, *args, env=None, timeout=60):
        """Runs bin/gateway to completion (for --check and refusals)."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([self.binary, *map(str, args)], env=full_env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, *flags, env=None, https=False, workers=2, wait=True, attempts=3):
        """Starts the gateway; `flags` are extra --KEY=VALUE overrides (they come last)."""
        last = ""
        for _ in range(attempts):
            self.port, self.admin_port = free_port(), free_port()
            args = [self.binary, "--server.host=127.0.0.1", f"--server.http_port={self.port}",
                    "--admin.host=127.0.0.1", f"--admin.port={self.admin_port}",
                    f"--server.workers={workers}"]
            if https:
                self.https_port = free_port()
                args.append(f"--server.https_port={self.https_port}")
            args.extend(flags)
            self.process = Process(args, env=env)
            self.process.log.close()  # the child writes to it; output() reopens it by name
            if not wait:
                return self
            try:
                self.wait_ready()
                return self
            except AssertionError:
                last = self.process.output()
                self.process.stop()
                if "cannot listen" not in last:  # a port taken meanwhile: try others
                    break
        raise AssertionError(f"gateway did not become ready:\n{last}")

    def ready_status(self):
        status, _, _ = http_request(self.admin_port, "GET", "/ready", timeout=2)
        return status

    def wait_ready(self, timeout=20):
        def ready():
            if self.process.proc.poll() is not None:
                raise AssertionError("gateway exited with " + str(self.process.proc.returncode))
            return self.ready_status() == 200
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except AssertionError:
                raise
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("timed out waiting for /ready")

    @property
    def pid(self):
        return self.process.pid

    def output(self):
        return self.process.output() if self.process else ""

    def request(self, method, path, body=None, headers=None, timeout=15):
        return http_request(self.port, method, path, body=body, headers=headers, timeout=timeout)

    def wait_log(self, predicate, timeout=10, what="an access-log line"):
        """Waits until some line of the gateway's output satisfies predicate; returns it."""
        def find():
            for line in self.output().splitlines():
                if predicate(line):
                    return line
            return None
        return wait_until(find, timeout=timeout, what=what)

    def stop(self, timeout=20):
        if self.process is None:
            return None
        return self.process.stop(timeout=timeout)


def start_gateway(test, definitions, *flags, mgw_toml="", files=None, env=None, https=False):
    """Builds and starts a Gateway under test.tmp, stopped when the test ends."""
    gateway = Gateway(test.tmp, definitions, mgw_toml=mgw_toml, files=files).build()
    gateway.start(*flags, env=env, https=https)
    test.addCleanup(gateway.stop)
    return gateway


class _BackendServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, backend):
        self.backend = backend
        super().__init__(("127.0.0.1", 0), _BackendHandler)

    def handle_error(self, request, client_address):
        pass  # broken connections are part of the tests


class _BackendHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    rbufsize = 64 * 1024

    def log_message(self, *args):
        pass

    def setup(self):
        backend = self.server.backend
        if backend.tls_context is not None:
            tls = backend.tls_context.wrap_socket(self.request, server_side=True,
                                                  do_handshake_on_connect=False)
            tls.settimeout(10)
            try:
                tls.do_handshake()
            except (OSError, ssl.SSLError):
                backend.handshake_failures += 1
                tls.close()
                raise
            self.request = tls
        super().setup()
        with backend.lock:
            backend.connections += 1
            self.connection_id = backend.connections
            backend.sockets.add(self.request)

    def finish(self):
        with contextlib.suppress(Exception):
            super().finish()
        with self.server.backend.lock:
            self.server.backend.sockets.discard(self.request)
        if isinstance(self.request, ssl.SSLSocket):  # the server closes only the plain socket
            with contextlib.suppress(OSError):
                self.request.close()

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self, keep):
        """Reads the request body (Content-Length or chunked) in blocks; keeps at most `keep`
        bytes. Returns (kept bytes, total length, crc32)."""
        kept = bytearray()
        total = 0
        crc = 0

        def take(block):
            nonlocal total, crc
            total += len(block)
            crc = zlib.crc32(block, crc)
            if len(kept) < keep:
                kept.extend(block[:keep - len(kept)])

        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("body ended early")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    block = self.rfile.read(min(left, 256 * 1024))
                    if not block:
                        raise ConnectionError("body ended early")
                    take(block)
                    left -= len(block)
                self.rfile.readline(3)
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                block = self.rfile.read(min(left, 256 * 1024))
                if not block:
                    raise ConnectionError("body ended early")
                take(block)
                left -= len(block)
        return bytes(kept), total, crc

    def _serve(self):
        backend = self.server.backend
        with backend.lock:
            action = dict(backend.script.popleft()) if backend.script else {}
        h = self.headers
        for header, key, convert in (("X-Backend-Delay-Ms", "delay_ms", int),
                                     ("X-Backend-Status", "status", int),
                                     ("X-Backend-Close", "close", lambda v: v == "1"),
                                     ("X-Backend-Stream", "stream", int),
                                     ("X-Backend-Chunked", "chunked", lambda v: v == "1"),
                                     ("X-Backend-Sink", "sink", lambda v: v == "1")):
            if h.get(header) is not None and key not in action:
                action[key] = convert(h.get(header))
        if h.get("X-Backend-Response-Headers"):
            action.setdefault("headers", json.loads(h.get("X-Backend-Response-Headers")))
        path, _, query = self.path.partition("?")
        record = {"backend": backend.name, "method": self.command, "target": self.path,
                  "path": path, "query": query if "?" in self.path else None,
                  "version": self.request_version, "headers": list(h.items()),
                  "connection": self.connection_id}
        with backend.lock:
            backend.requests.append(record)
            record["index"] = len(backend.requests)
        record["complete"] = False  # until the whole body has arrived
        try:
            body, length, crc = self._read_body(0 if action.get("sink") else 1 << 20)
        except (ValueError, ConnectionError, OSError):
            self.close_connection = True
            return
        record.update(body_bytes=length, body_crc32=crc, complete=True)
        if action.get("delay_ms"):
            time.sleep(action["delay_ms"] / 1000.0)
        if action.get("close"):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_RDWR)
            return
        status = action.get("status", 200)
        extra = action.get("headers", [])
        if action.get("stream") is not None:
            self._send_stream(status, action["stream"], action.get("chunked", False), extra)
            return
        echo = dict(record)
        echo["body"] = body.decode("latin-1")
        payload = json.dumps(echo).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in extra:
            self.send_header(name, value)
        if self.command == "HEAD" or status in (204, 304):
            self.send_header("Content-Length", str(len(payload)) if status not in (204, 304) else "0")
            self.end_headers()
            return
        if action.get("chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(payload), 7):  # small chunks on purpose
                piece = payload[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def _send_stream(self, status, size, chunked, extra):
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        for name, value in extra:
            self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        block = pattern_block()
        left = size
        while left:
            piece = block[:min(left, len(block))]
            if chunked:
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            left -= len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def pattern_block(size=256 * 1024):
    """A block of deterministic bytes: streams are this block repeated (and cut at the end)."""
    return bytes(range(256)) * (size // 256)


def pattern_crc32(total, size=256 * 1024):
    """crc32 of `total` bytes of pattern_block() repeated, computed without holding them."""
    block = pattern_block(size)
    crc = 0
    left = total
    while left:
        piece = block[:min(left, len(block))]
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    return crc


class Backend:
    """A threaded HTTP/1.1 (keep-alive) backend on 127.0.0.1:<run-time port>. By default it echoes
    the request as JSON (method, target, path, query, headers, body, connection id). Per request,
    headers steer it: X-Backend-Delay-Ms, X-Backend-Status, X-Backend-Close: 1 (close without an
    answer), X-Backend-Stream: N (N bytes of pattern_block()), X-Backend-Chunked: 1,
    X-Backend-Sink: 1 (count the body, keep none), X-Backend-Response-Headers: JSON [[name,
    value]...]. `script` is a queue of the same settings as a dict, one per coming request (they
    win over headers). `requests` records every request; `connections` counts connections."""

    def __init__(self, name="backend", tls_context=None):
        self.name = name
        self.tls_context = tls_context
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0
        self.handshake_failures = 0
        self.sockets = set()
        self.script = collections.deque()
        self.server = _BackendServer(self)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def url(self, path=""):
        return f"{'https' if self.tls_context else 'http'}://127.0.0.1:{self.port}{path}"

    def request_count(self):
        with self.lock:
            return len(self.requests)

    def last(self):
        with self.lock:
            return self.requests[-1] if self.requests else None

    def requests_from(self, address):
        """The requests the gateway forwarded for a client at `address` (X-Forwarded-For)."""
        with self.lock:
            return [r for r in self.requests
                    if address in ",".join(header_values(r["headers"], "X-Forwarded-For")).split(", ")]

    def requests_to(self, prefix):
        with self.lock:
            return [r for r in self.requests if r["target"].startswith(prefix)]

    def wait_quiet(self, settle=0.3, timeout=10):
        """Waits until no request has arrived for `settle` seconds (requests the gateway
        forwarded just before are then recorded); returns the request count."""
        deadline = time.monotonic() + timeout
        count = self.request_count()
        while time.monotonic() < deadline:
            time.sleep(settle)
            now = self.request_count()
            if now == count:
                return now
            count = now
        return count

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.connections = 0
            self.script.clear()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            sockets = list(self.sockets)
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=10)


def start_backend(test, name="backend", tls_context=None):
    backend = Backend(name, tls_context)
    test.addCleanup(backend.stop)
    return backend


def header_values(headers, name):
    """All values of `name` in a list of (name, value) pairs, case-insensitively."""
    return [v for k, v in headers if k.lower() == name.lower()]


class RawResponse:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        values = header_values(self.headers, name)
        return values[0] if values else default

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class RawConnection:
    """A client socket that sends exact bytes and parses what comes back, for framing, pipelining
    and smuggling tests. Every read is bounded by `timeout` seconds."""

    def __init__(self, port, timeout=10, tls_context=None, server_hostname="localhost", source=None):
        """`source`: a loopback address to connect from (127.x.y.z), so that the backend can
        tell which test connection a request came from by its X-Forwarded-For."""
        self.timeout = timeout
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                        source_address=(source, 0) if source else None)
        if tls_context is not None:
            sock = tls_context.wrap_socket(sock, server_hostname=server_hostname)
        self.sock = sock
        self.buffer = bytearray()
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def shutdown_write(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def _fill(self, deadline):
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no data from the gateway in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(256 * 1024)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        except ssl.SSLError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buffer.extend(data)
        return True

    def _read_until(self, marker, deadline):
        while True:
            at = self.buffer.find(marker)
            if at >= 0:
                out = bytes(self.buffer[:at + len(marker)])
                del self.buffer[:at + len(marker)]
                return out
            if not self._fill(deadline):
                return None

    def _read_exact(self, n, deadline):
        while len(self.buffer) < n:
            if not self._fill(deadline):
                raise ConnectionError(f"connection closed with {n - len(self.buffer)} bytes missing")
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def read_response(self, head=False, timeout=None):
        """The next response (a 1xx counts as one), or None when the connection closed first."""
        deadline = time.monotonic() + (timeout or self.timeout)
        raw = self._read_until(b"\r\n\r\n", deadline)
        if raw is None:
            if self.buffer:
                raise AssertionError(f"incomplete response head: {bytes(self.buffer)[:200]!r}")
            return None
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name, value.strip()))
        response = RawResponse(status, reason, headers, b"", raw)
        if 100 <= status < 200 or head or status in (204, 304):
            return response
        te = ",".join(header_values(headers, "transfer-encoding")).lower()
        cl = header_values(headers, "content-length")
        if "chunked" in te:
            body = bytearray()
            while True:
                line = self._read_until(b"\r\n", deadline)
                if line is None:
                    raise ConnectionError("closed inside a chunked body")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_until(b"\r\n", deadline) not in (b"\r\n", None):
                        pass
                    break
                body.extend(self._read_exact(size, deadline))
                self._read_exact(2, deadline)
            response.body = bytes(body)
        elif cl:
            response.body = self._read_exact(int(cl[0]), deadline)
        else:
            while self._fill(deadline):
                pass
            response.body = bytes(self.buffer)
            self.buffer.clear()
        return response

    def read_final_response(self, head=False, timeout=None):
        """Like read_response, skipping interim 1xx answers (at most 20)."""
        for _ in range(21):
            response = self.read_response(head=head, timeout=timeout)
            if response is None or response.status >= 200 or response.status == 101:
                return response
        raise AssertionError("more than 20 interim responses")

    def closed(self, timeout=5):
        """True when the peer closes the connection within `timeout` s (pending bytes ignored)."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except TimeoutError:
            return False
        return True

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()


def chunk_encode(pieces):
    """Chunked transfer-coding of an iterable of byte strings (a generator: nothing is held)."""
    for piece in pieces:
        if piece:
            yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def pattern_stream(total, size=256 * 1024):
    """Yields `total` bytes of pattern_block() in pieces of at most `size` bytes."""
    block = pattern_block(size)
    left = total
    while left:
        piece = block if left >= len(block) else block[:left]
        yield piece
        left -= len(piece)


def openssl(*args, cwd=None):
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {result.stderr}")
    return result


def make_self_signed(directory, name="server", cn="localhost"):
    """A self-signed certificate (openssl req -x509) for localhost and 127.0.0.1: (cert, key)."""
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-days", "2", "-subj", "/CN=" + cn,
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    return cert, key


def make_ca_signed(directory, name="backend", cn="127.0.0.1",
                   san="DNS:localhost,IP:127.0.0.1"):
    """A test CA and a certificate it signed (for 127.0.0.1/localhost unless `san` says
    otherwise): (ca_cert, cert, key)."""
    os.makedirs(directory, exist_ok=True)
    ca_cert, ca_key = make_self_signed(directory, name + "-ca", cn="mgw test CA")
    # The CA made by make_self_signed has a SAN; that is harmless for a CA.
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    cert = os.path.join(directory, name + ".crt")
    ext = os.path.join(directory, name + ".ext")
    write(ext, f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext)
    return ca_cert, cert, key


def server_tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def process_memory_kib(pid):
    """{"VmRSS": kib, "VmHWM": kib} of a running process, from /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def b64(text):
    return base64.b64encode(text.encode()).decode()


class SharedGatewayTestCase(unittest.TestCase):
    """One backend and one gateway for every test of the class (building and starting a gateway
    per test would cost more than the tests). Subclasses define definitions(backend) and may set
    mgw_toml, files and flags. setUp() clears what the backend recorded."""

    mgw_toml = ""
    files = None
    flags = ()

    @classmethod
    def definitions(cls, backend):
        raise TypeError(f"{cls.__name__} must define definitions(backend)")

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mgw-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.backend = Backend("backend")
        cls.addClassCleanup(cls.backend.stop)
        cls.gateway = Gateway(cls.tmp, cls.definitions(cls.backend), mgw_toml=cls.mgw_toml,
                              files=cls.files).build()
        cls.gateway.start(*cls.flags)
        cls.addClassCleanup(cls.gateway.stop)

    def setUp(self):
        self.backend.reset()

    def request(self, method, path, body=None, headers=None, timeout=15):
        return self.gateway.request(method, path, body=body, headers=headers, timeout=timeout)

    def raw(self, timeout=10):
        connection = RawConnection(self.gateway.port, timeout=timeout)
        self.addCleanup(connection.close)
        return connection

    def assertFault(self, status, body, code, message=None):
        """A gateway fault: JSON {"fault": {code, message, description}} (contract 5.1)."""
        fault = json.loads(body.decode("utf-8"))["fault"]
        self.assertEqual(fault["code"], code, fault)
        if message is not None:
            self.assertEqual(fault["message"], message, fault)
        self.assertIsInstance(fault["description"], str)
        return fault


# ---------------------------------------------------------------------------------------------
# Rate-limiting helpers (test_ratelimit.py): a real redis-server, tokens from `mgw token`, clients
# bound to a chosen loopback address, and many requests over few connections.

EXAMPLE_ISSUER = "https://localhost:9443/oauth2/token"
EXAMPLE_ISSUER_KEY = os.path.join(SOURCE_DIR, "examples", "petstore", "dev-keys", "example-issuer.key")
EXAMPLE_ISSUER_CERT = os.path.join(SOURCE_DIR, "examples", "petstore", "certs", "example-issuer.pem")


def mint_token(app=None, apis=(), sub="admin", ttl=3600):
    """A WSO2-shaped JWT from `mgw token` with the example issuer's dev key. `app` is
    "NAME:TIER", each of `apis` "Title:Version:Tier"."""
    args = ["token", "--key", EXAMPLE_ISSUER_KEY, "--sub", sub, "--ttl", str(ttl)]
    if app:
        args += ["--app", app]
    for api in apis:
        args += ["--api", api]
    result = run_mgw(*args, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"mgw token failed: {result.stderr}")
    return result.stdout.strip()


class Redis:
    """A redis-server on 127.0.0.1:<port> (no persistence), started and stopped by pid. Redis
    rewrites its process title, so it is only ever found by the pid we started."""

    def __init__(self, tmp, port=None):
        self.dir = tempfile.mkdtemp(prefix="redis-", dir=tmp)
        self.port = port or free_port()
        self.process = None

    def start(self, timeout=15):
        self.process = Process(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", self.dir,
                                "--daemonize", "no", "--loglevel", "warning"])
        wait_until(lambda: self.command("PING") == "PONG", timeout=timeout, what="redis PING")
        return self

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *args, timeout=5):
        """One command over RESP on a fresh connection; returns the decoded reply (str, int,
        list or None). Raises OSError when Redis cannot be reached."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            payload = b"*%d\r\n" % len(args)
            for arg in args:
                data = str(arg).encode()
                payload += b"$%d\r\n%s\r\n" % (len(data), data)
            s.sendall(payload)
            reader = s.makefile("rb")
            return self._read(reader)

    def _read(self, reader):
        line = reader.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise AssertionError("redis error: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = reader.read(n + 2)[:-2]
            return data.decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(reader) for _ in range(n)]
        raise AssertionError(f"unexpected redis reply {line!r}")

    def clients(self):
        """How many client connections Redis has, not counting the one asking."""
        listing = self.command("CLIENT", "LIST")
        return max(0, len([line for line in listing.splitlines() if line.strip()]) - 1)

    def pause(self):
        self.process.signal(signal.SIGSTOP)

    def resume(self):
        self.process.signal(signal.SIGCONT)

    def stop(self, timeout=10):
        if self.process is not None:
            self.resume()
            self.process.stop(timeout=timeout)
            self.process = None


def start_redis(test, tmp=None, port=None):
    if shutil.which("redis-server") is None:
        raise unittest.SkipTest("redis-server is not installed (scripts/install-deps.sh installs it)")
    redis = Redis(tmp or test.tmp, port=port).start()
    test.addCleanup(redis.stop)
    return redis


def http_get_many(port, path, count, headers=None, source="127.0.0.1", timeout=30):
    """Sends `count` GET requests over one keep-alive connection bound to `source`; returns the
    statuses in order (a closed connection is reopened)."""
    statuses = []
    conn = None
    deadline = time.monotonic() + timeout
    while len(statuses) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} requests took more than {timeout}s")
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                              source_address=(source, 0))
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
            if response.will_close:
                conn.close()
                conn = None
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return statuses


def pipelined_gets(port, requests, source="127.0.0.1", batch=100, timeout=60):
    """Sends GET requests given as (path, headers dict) over one keep-alive connection bound to
    `source`, `batch` at a time (HTTP/1.1 pipelining); returns the statuses in order."""
    statuses = []
    deadline = time.monotonic() + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    buffer = bytearray()
    try:
        for start in range(0, len(requests), batch):
            chunk = requests[start:start + batch]
            out = bytearray()
            for path, headers in chunk:
                out += f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                for name, value in headers.items():
                    out += f"{name}: {value}\r\n".encode()
                out += b"\r\n"
            sock.sendall(out)
            want = len(statuses) + len(chunk)
            while len(statuses) < want:
                # Each response: a head with Content-Length, then that many body bytes.
                end = buffer.find(b"\r\n\r\n")
                if end >= 0:
                    head = bytes(buffer[:end]).decode("latin-1")
                    length = 0
                    for line in head.split("\r\n")[1:]:
                        name, _, value = line.partition(":")
                        if name.strip().lower() == "content-length":
                            length = int(value.strip())
                    if len(buffer) >= end + 4 + length:
                        statuses.append(int(head.split(" ", 2)[1]))
                        del buffer[:end + 4 + length]
                        continue
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("pipelined responses did not come in time")
                sock.settimeout(left)
                data = sock.recv(256 * 1024)
                if not data:
                    raise AssertionError(f"connection closed after {len(statuses)} responses")
                buffer += data
    finally:
        sock.close()
    return statuses
