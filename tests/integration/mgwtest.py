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
