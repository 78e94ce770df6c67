"""Analytics and observability end to end (contract section 7): one event per request with the
WSO2 4.x fields, rotated files that only ever hold whole lines, crash recovery, loss-free upload
to a collector (gzip NDJSON, X-MGW-Batch-Id), max_disk_bytes, /metrics, label cardinality, the
access log and `mgw analytics summary` -- all with the real `mgw build` and gateway on loopback."""
import collections
import gzip
import http.client
import http.server
import json
import math
import os
import random
import re
import shutil
import signal
import tempfile
import threading
import time
import unittest

import mgwtest
from mgwtest import free_port, wait_until

KEY = os.path.join(mgwtest.SOURCE_DIR, "examples", "petstore", "dev-keys", "example-issuer.key")
CERT = os.path.join(mgwtest.SOURCE_DIR, "examples", "petstore", "certs", "example-issuer.pem")
ISSUER = "https://localhost:9443/oauth2/token"

MGW_TOML = f"""
[server]
max_body_bytes = 1000

[[auth.jwt]]
issuer = "{ISSUER}"
certificate = "certs/example-issuer.pem"
"""

POLICIES = """
resourcePolicies:
  - 2PerHour: {count: 2, unitTime: 1, timeUnit: hour}
subscriptionPolicies:
  - Unauthenticated: {count: 1000000, unitTime: 1, timeUnit: min}
  - Default: {count: 1000000, unitTime: 1, timeUnit: min}
"""

OK = {"200": {"description": "ok"}}


def operation(secured=False, **extensions):
    op = {"responses": dict(OK)}
    if not secured:
        op["x-wso2-disable-security"] = True
    for key, value in extensions.items():
        op[key.replace("_", "-")] = value
    return op


def shop_api(backend_url, dead_url):
    """API Shop 1.0 at /shop: proxied, mock, secured, throttled, slow (300 ms timeout) and dead
    resources."""
    slow = {"urls": [backend_url], "advanceEndpointConfig": {"timeoutInMillis": 300}}
    doc = {
        "openapi": "3.0.3", "info": {"title": "Shop", "version": "1.0"},
        "x-wso2-basePath": "/shop",
        "x-wso2-production-endpoints": {"urls": [backend_url]},
        "components": {"securitySchemes": {"default": {"type": "oauth2", "flows": {"implicit": {
            "authorizationUrl": "https://idp.test/authorize", "scopes": {"read": "read"}}}}}},
        "paths": {
            "/items/{id}": {"get": operation()},
            "/items": {"post": operation()},
            "/mock": {"get": {"x-wso2-mock": True, "x-wso2-disable-security": True, "responses": {
                "200": {"description": "ok", "content": {"application/json": {
                    "example": {"mocked": True}}}}}}},
            "/secure": {"get": operation(secured=True, security=[{"default": ["read"]}])},
            "/limited": {"get": operation(x_wso2_throttling_tier="2PerHour")},
            "/slow": {"get": operation(x_wso2_production_endpoints=slow),
                      "post": operation(x_wso2_production_endpoints=slow)},
            "/dead": {"get": operation(x_wso2_production_endpoints={"urls": [dead_url]})},
        },
    }
    return json.dumps(doc, indent=1)


def mint(*args):
    result = mgwtest.run_mgw("token", "--key", KEY, *args)
    if result.returncode != 0:
        raise AssertionError("mgw token failed: " + result.stderr)
    return result.stdout.strip()


def project_files():
    with open(CERT, encoding="utf-8") as f:
        return {"certs/example-issuer.pem": f.read()}


# ---------------------------------------------------------------------------------------------
# Reading what the gateway wrote.

CLOSED = re.compile(r"^events-\d{8}T\d{6}\.\d{3}Z-\d+-\d{6}\.jsonl$")


def closed_files(directory):
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, n) for n in os.listdir(directory) if CLOSED.match(n))


def parse_lines(data, where):
    """The events of a closed file's bytes; fails unless every line is a whole JSON object."""
    if data and not data.endswith(b"\n"):
        raise AssertionError(f"{where} does not end with a newline")
    events = []
    for number, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError(f"{where}:{number} is not a JSON line: {line[:120]!r} ({e})")
        if not isinstance(event, dict) or "eventType" not in event:
            raise AssertionError(f"{where}:{number} is not an event: {line[:120]!r}")
        events.append(event)
    return events


def read_events(directory, include_open=False):
    events = []
    for path in closed_files(directory):
        with open(path, "rb") as f:
            events.extend(parse_lines(f.read(), path))
    if include_open:
        path = os.path.join(directory, "current.jsonl.open")
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            whole = data[:data.rfind(b"\n") + 1]
            events.extend(parse_lines(whole, path))
    return events


def by_correlation(events):
    found = collections.defaultdict(list)
    for event in events:
        found[event["correlationId"]].append(event)
    return found


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset(labels.items())): value}; checks the shape."""
    samples = {}
    types = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        match = line_re.match(line)
        if not match:
            raise AssertionError(f"not a sample line: {line!r}")
        labels = {}
        rest = match.group(3) or ""
        position = 0
        while position < len(rest):
            label = label_re.match(rest, position)
            if not label:
                raise AssertionError(f"bad labels in {line!r}")
            value = re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), label.group(2))
            labels[label.group(1)] = value
            position = label.end()
        family = match.group(1)
        for suffix in ("_bucket", "_sum", "_count"):
            if family.endswith(suffix) and types.get(family[:-len(suffix)]) == "histogram":
                family = family[:-len(suffix)]
        if family not in types:
            raise AssertionError(f"sample before its TYPE: {line!r}")
        samples[(match.group(1), frozenset(labels.items()))] = float(match.group(4))
    return samples


def metric(samples, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for (sample_name, sample_labels), value in samples.items():
        if sample_name == name and set(labels.items()) <= set(sample_labels):
            total += value
    return total


def series(samples, name):
    return [dict(labels) for (sample_name, labels) in samples if sample_name == name]


def scrape(gateway, timeout=10):
    status, headers, body = mgwtest.http_request(gateway.admin_port, "GET", "/metrics", timeout=timeout)
    if status != 200:
        raise AssertionError(f"/metrics answered {status}")
    if not headers.get("content-type", "").startswith("text/plain"):
        raise AssertionError("/metrics content type " + headers.get("content-type", ""))
    return parse_metrics(body.decode("utf-8"))


def nearest_rank(values, p):
    ordered = sorted(values)
    rank = math.ceil(p / 100.0 * len(ordered))
    return ordered[min(len(ordered) - 1, max(rank, 1) - 1)]


class Load:
    """Requests from several threads, each on its own keep-alive connection; bounded in count
    and time. Records (correlation id, status) per request."""

    def __init__(self, port, paths, threads=4, per_thread=100, prefix="load", headers=None):
        self.port = port
        self.paths = paths
        self.threads = threads
        self.per_thread = per_thread
        self.prefix = prefix
        self.headers = headers or {}
        self.results = []
        self.errors = []
        self.lock = threading.Lock()

    def _run(self, worker):
        conn = None
        deadline = time.monotonic() + 120
        for i in range(self.per_thread):
            if time.monotonic() > deadline:
                self.errors.append("load deadline passed")
                break
            cid = f"{self.prefix}-{worker}-{i}"
            path = self.paths[(worker * self.per_thread + i) % len(self.paths)]
            if self.errors:
                break  # the gateway is gone (or broken): stop sending
            for attempt in range(3):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                    conn.request("GET", path, headers={"X-Correlation-ID": cid, **self.headers})
                    response = conn.getresponse()
                    response.read()
                    with self.lock:
                        self.results.append((cid, response.status, path))
                    if response.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    if attempt == 2:
                        with self.lock:
                            self.errors.append(f"{cid}: {e!r}")
        if conn is not None:
            conn.close()

    def run(self):
        workers = [threading.Thread(target=self._run, args=(w,)) for w in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=180)
        return self


def analytics_gateway(test_tmp, backend, *, name="gw"):
    return mgwtest.Gateway(test_tmp, {"shop.json": shop_api(backend.url(), dead_url())},
                           mgw_toml=MGW_TOML, files=project_files(), policies=POLICIES,
                           name=name).build()


def dead_url():
    return f"http://127.0.0.1:{free_port()}"


class GatewayTestCase(unittest.TestCase):
    """A fresh temporary folder, backend and built (not started) gateway per test."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mgw-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.backend = mgwtest.start_backend(self)
        self.gateway = analytics_gateway(self.tmp, self.backend)
        self.dir = os.path.join(self.tmp, "analytics")
        self.addCleanup(self.gateway.stop)

    def start(self, *flags, workers=2):
        self.gateway.start(f"--analytics.dir={self.dir}", "--log.access_log=", *flags, workers=workers)
        return self.gateway


# ---------------------------------------------------------------------------------------------
# One run of mixed traffic; every test of the class checks one view of it (events, metrics,
# access log, summary).


class MixedTrafficTest(unittest.TestCase):
    """One gateway (2 workers) gets requests of every outcome; then it is stopped gracefully and
    the tests read its event files, the /metrics scraped before the stop and its access log."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mgw-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.backend = mgwtest.Backend("backend")
        cls.addClassCleanup(cls.backend.stop)
        cls.dead = dead_url()
        cls.gateway = mgwtest.Gateway(cls.tmp, {"shop.json": shop_api(cls.backend.url(), cls.dead)},
                                      mgw_toml=MGW_TOML, files=project_files(),
                                      policies=POLICIES).build()
        cls.dir = os.path.join(cls.tmp, "analytics")
        cls.gateway.start(f"--analytics.dir={cls.dir}")
        cls.addClassCleanup(cls.gateway.stop)
        cls.token = mint("--app", "app1:Unlimited", "--scope", "read", "--sub", "alice")
        cls.token_no_scope = mint("--app", "app2:Unlimited", "--scope", "write")
        cls.sent = {}  # correlation id -> what the client saw and what to expect
        cls.send_all()
        cls.metrics = scrape(cls.gateway)
        cls.exit_code = cls.gateway.stop()
        cls.events = read_events(cls.dir)

    @classmethod
    def send(cls, key, method, path, body=None, headers=None, cid=True, **expect):
        headers = dict(headers or {})
        headers.setdefault("User-Agent", "analytics-test/1.0")
        if cid:
            headers["X-Correlation-ID"] = "cid-" + key
        status, response_headers, data = mgwtest.http_request(cls.gateway.port, method, path, body=body,
                                                              headers=headers, timeout=20)
        correlation = response_headers.get("x-correlation-id")
        cls.sent[key] = {"method": method, "path": path, "status": status, "cid": correlation,
                         "bytes": len(data), "body": data, "request_bytes": len(body or b""),
                         "expect": expect}
        return status

    @classmethod
    def send_all(cls):
        bearer = {"Authorization": "Bearer " + cls.token}
        cls.send("proxied", "GET", "/shop/items/1?secret=q-s3cr3t")
        cls.send("backend500", "GET", "/shop/items/2", headers={"X-Backend-Status": "500"})
        cls.send("mock", "GET", "/shop/mock")
        cls.send("noapi", "GET", "/nothing/here")
        cls.send("method", "DELETE", "/shop/items/1")
        cls.send("missing", "GET", "/shop/secure")
        cls.send("scope", "GET", "/shop/secure", headers={"Authorization": "Bearer " + cls.token_no_scope})
        cls.send("jwt", "GET", "/shop/secure?access_token=hidden", headers=bearer)
        cls.send("dead", "GET", "/shop/dead")
        cls.send("timeout", "GET", "/shop/slow", headers={"X-Backend-Delay-Ms": "1500"})
        cls.send("timeout_post", "POST", "/shop/slow", body=b"x" * 100,
                 headers={"X-Backend-Delay-Ms": "1500", "Content-Type": "text/plain"})
        cls.send("too_large", "POST", "/shop/items", body=b"y" * 2000, headers={"Content-Type": "text/plain"})
        cls.send("post", "POST", "/shop/items", body=b"z" * 123, headers={"Content-Type": "text/plain"})
        cls.send("generated", "GET", "/shop/items/3", cid=False)
        for i in range(6):  # 2PerHour: two pass, then 429 (a new hour in between only delays it)
            if cls.send(f"limited{i}", "GET", "/shop/limited") == 429:
                break

    # --- events ---------------------------------------------------------------------------------

    def event(self, key):
        cid = self.sent[key]["cid"]
        found = [e for e in self.events if e["correlationId"] == cid]
        self.assertEqual(len(found), 1, f"{key}: {len(found)} events for {cid}")
        return found[0]

    def test_graceful_stop(self):
        self.assertEqual(self.exit_code, 0)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "current.jsonl.open")))

    def test_exactly_one_event_per_request(self):
        self.assertEqual(len(self.events), len(self.sent))
        ids = by_correlation(self.events)
        for key, sent in self.sent.items():
            self.assertIsNotNone(sent["cid"], key)
            self.assertEqual(len(ids[sent["cid"]]), 1, key)
        self.assertEqual(self.sent["proxied"]["cid"], "cid-proxied")

    def test_every_event_has_every_field(self):
        fields = ["eventType", "requestTime", "correlationId", "apiName", "apiVersion", "apiContext",
                  "apiResourceTemplate", "httpMethod", "applicationId", "applicationName", "keyType",
                  "userName", "endUserIP", "userAgentHeader", "proxyResponseCode", "targetResponseCode",
                  "responseLatency", "backendLatency", "requestSize", "responseSize", "errorCode",
                  "throttledOutReason", "destination"]
        for event in self.events:
            self.assertEqual(list(event), fields)
            self.assertRegex(event["requestTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertEqual(event["endUserIP"], "127.0.0.1")
            self.assertIsInstance(event["responseLatency"], (int, float))
            self.assertIsInstance(event["backendLatency"], (int, float))
            self.assertGreaterEqual(event["responseLatency"], 0)
            self.assertIn(event["eventType"], ("response", "fault", "throttle", "auth_failure"))

    def assertEvent(self, key, **expected):
        event = self.event(key)
        for field, value in expected.items():
            self.assertEqual(event[field], value, f"{key}: {field} in {event}")
        self.assertEqual(event["proxyResponseCode"], self.sent[key]["status"], key)
        self.assertEqual(event["httpMethod"], self.sent[key]["method"], key)
        self.assertEqual(event["userAgentHeader"], "analytics-test/1.0", key)
        return event

    SHOP = {"apiName": "Shop", "apiVersion": "1.0", "apiContext": "/shop"}
    NO_APP = {"applicationName": None, "applicationId": None, "keyType": None, "userName": None}

    def test_proxied_200(self):
        event = self.assertEvent("proxied", eventType="response", proxyResponseCode=200,
                                 targetResponseCode=200, errorCode=None, throttledOutReason=None,
                                 apiResourceTemplate="/items/{id}", destination=self.backend.url(),
                                 **self.SHOP, **self.NO_APP)
        self.assertEqual(event["responseSize"], self.sent["proxied"]["bytes"])
        self.assertGreater(event["backendLatency"], 0)
        self.assertGreaterEqual(event["responseLatency"], event["backendLatency"])

    def test_backend_500_is_passed_through(self):
        self.assertEqual(self.sent["backend500"]["status"], 500)
        self.assertEvent("backend500", eventType="response", targetResponseCode=500, errorCode=None,
                         apiResourceTemplate="/items/{id}", destination=self.backend.url(), **self.SHOP)

    def test_mock(self):
        self.assertEqual(self.sent["mock"]["status"], 200)
        event = self.assertEvent("mock", eventType="response", targetResponseCode=None, destination=None,
                                 errorCode=None, apiResourceTemplate="/mock", backendLatency=0,
                                 **self.SHOP)
        self.assertEqual(event["responseSize"], len(self.sent["mock"]["body"]))

    def test_no_api_404(self):
        self.assertEqual(self.sent["noapi"]["status"], 404)
        self.assertEvent("noapi", eventType="fault", errorCode=404, apiName=None, apiVersion=None,
                         apiContext=None, apiResourceTemplate=None, targetResponseCode=None,
                         destination=None)

    def test_method_not_allowed_405(self):
        self.assertEqual(self.sent["method"]["status"], 405)
        self.assertEvent("method", eventType="fault", errorCode=405, apiResourceTemplate=None,
                         targetResponseCode=None, **self.SHOP)

    def test_missing_credentials_401(self):
        self.assertEqual(self.sent["missing"]["status"], 401)
        self.assertEvent("missing", eventType="auth_failure", errorCode=900902, targetResponseCode=None,
                         apiResourceTemplate="/secure", destination=None, **self.SHOP, **self.NO_APP)

    def test_scope_403(self):
        self.assertEqual(self.sent["scope"]["status"], 403)
        self.assertEvent("scope", eventType="auth_failure", errorCode=900910, targetResponseCode=None,
                         apiResourceTemplate="/secure", **self.SHOP)

    def test_jwt_application_fields(self):
        self.assertEqual(self.sent["jwt"]["status"], 200)
        self.assertEvent("jwt", eventType="response", applicationName="app1", applicationId="app1",
                         keyType="PRODUCTION", userName="alice", targetResponseCode=200,
                         apiResourceTemplate="/secure", **self.SHOP)

    def test_throttled_429(self):
        limited = [k for k in self.sent if k.startswith("limited")]
        statuses = [self.sent[k]["status"] for k in limited]
        self.assertIn(429, statuses)
        for key in limited:
            if self.sent[key]["status"] == 429:
                self.assertEvent(key, eventType="throttle", errorCode=900802, throttledOutReason="resource",
                                 targetResponseCode=None, destination=None, apiResourceTemplate="/limited",
                                 **self.SHOP)
            else:
                self.assertEvent(key, eventType="response", errorCode=None, throttledOutReason=None,
                                 targetResponseCode=200)

    def test_dead_backend_502(self):
        self.assertEqual(self.sent["dead"]["status"], 502)
        self.assertEvent("dead", eventType="fault", errorCode=101503, targetResponseCode=None,
                         destination=self.dead, apiResourceTemplate="/dead", **self.SHOP)

    def test_timeout_504(self):
        self.assertEqual(self.sent["timeout"]["status"], 504)
        event = self.assertEvent("timeout", eventType="fault", errorCode=101504, targetResponseCode=None,
                                 destination=self.backend.url(), apiResourceTemplate="/slow", **self.SHOP)
        self.assertGreaterEqual(event["responseLatency"], 290)

    def test_timeout_504_after_the_body_was_sent(self):
        self.assertEqual(self.sent["timeout_post"]["status"], 504)
        self.assertEvent("timeout_post", eventType="fault", errorCode=101504, targetResponseCode=None,
                         requestSize=100, destination=self.backend.url(), apiResourceTemplate="/slow",
                         **self.SHOP)

    def test_payload_too_large_413(self):
        # A Content-Length past max_body_bytes is refused while the header is read, before
        # routing: no API fields, method "-", but an event and a correlation id like any other.
        sent = self.sent["too_large"]
        self.assertEqual(sent["status"], 413)
        self.assertTrue(sent["cid"])
        event = self.event("too_large")
        self.assertEqual(event["eventType"], "fault")
        self.assertEqual(event["errorCode"], 413)
        self.assertEqual(event["proxyResponseCode"], 413)
        self.assertEqual(event["responseSize"], len(sent["body"]))
        self.assertIsNone(event["targetResponseCode"])
        self.assertIsNone(event["apiName"])

    def test_sizes(self):
        event = self.assertEvent("post", eventType="response", targetResponseCode=200, requestSize=123)
        self.assertEqual(event["responseSize"], self.sent["post"]["bytes"])
        self.assertGreater(event["responseSize"], 123)  # the backend echoes the body

    def test_generated_correlation_id_is_the_one_the_client_got(self):
        cid = self.sent["generated"]["cid"]
        self.assertTrue(cid)
        self.assertNotEqual(cid, "cid-generated")
        self.assertEvent("generated", eventType="response", targetResponseCode=200)
        # And the backend got the same one.
        self.assertIn(cid, [v for r in self.backend.requests for k, v in r["headers"]
                            if k.lower() == "x-correlation-id"])

    # --- metrics --------------------------------------------------------------------------------

    def expected_codes(self):
        """{(resource, method, code): count} from what was sent."""
        counts = collections.Counter()
        for sent in self.sent.values():
            event = next(e for e in self.events if e["correlationId"] == sent["cid"])
            counts[(event["apiResourceTemplate"] or "", sent["method"] if event["apiResourceTemplate"] else "",
                    str(sent["status"]))] += 1
        return counts

    def test_metrics_requests_by_resource_and_code(self):
        for (resource, method, code), count in self.expected_codes().items():
            with self.subTest(resource=resource, method=method, code=code):
                self.assertEqual(metric(self.metrics, "mgw_requests_total", resource=resource,
                                        method=method, code=code), count)
        self.assertEqual(metric(self.metrics, "mgw_requests_total"), len(self.sent))
        # 404 without an API: empty API labels.
        self.assertEqual(metric(self.metrics, "mgw_requests_total", api="", code="404"), 1)
        self.assertEqual(metric(self.metrics, "mgw_requests_total", api="Shop", version="1.0",
                                resource="", code="405"), 1)

    def test_metrics_histograms_count_every_request(self):
        self.assertEqual(metric(self.metrics, "mgw_request_duration_seconds_count"), len(self.sent))
        self.assertEqual(metric(self.metrics, "mgw_request_duration_seconds_bucket", le="+Inf"), len(self.sent))
        # The backend answered for: proxied, backend500, jwt, post, generated, the passing /limited.
        answered = sum(1 for e in self.events if e["targetResponseCode"] is not None)
        self.assertEqual(metric(self.metrics, "mgw_backend_duration_seconds_count"), answered)
        slow = metric(self.metrics, "mgw_request_duration_seconds_bucket", resource="/slow", le="0.25")
        self.assertEqual(slow, 0, "the 504s took at least the 300 ms timeout")
        self.assertEqual(metric(self.metrics, "mgw_request_duration_seconds_count", resource="/slow"), 2)
        self.assertGreater(metric(self.metrics, "mgw_request_duration_seconds_sum", resource="/slow"), 0.59)

    def test_metrics_throttled_and_auth_failures(self):
        throttled = sum(1 for s in self.sent.values() if s["status"] == 429)
        self.assertEqual(metric(self.metrics, "mgw_throttled_total", resource="/limited", level="resource"),
                         throttled)
        self.assertEqual(metric(self.metrics, "mgw_throttled_total"), throttled)
        self.assertEqual(metric(self.metrics, "mgw_auth_failures_total", reason="missing_credentials"), 1)
        self.assertEqual(metric(self.metrics, "mgw_auth_failures_total", reason="forbidden_scope"), 1)
        self.assertEqual(metric(self.metrics, "mgw_auth_failures_total"), 2)

    def test_metrics_analytics_counters(self):
        self.assertEqual(metric(self.metrics, "mgw_analytics_dropped_total"), 0)
        self.assertEqual(metric(self.metrics, "mgw_analytics_files_dropped_total"), 0)
        # Scraped while the writer may still have events queued: at most what was sent.
        self.assertLessEqual(metric(self.metrics, "mgw_analytics_events_written_total"), len(self.sent))

    # --- summary --------------------------------------------------------------------------------

    def test_summary_json_matches_the_events(self):
        result = mgwtest.run_mgw("analytics", "summary", self.dir, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout)
        self.assertEqual(summary["events"], len(self.sent))
        self.assertEqual(summary["skipped_lines"], 0)
        self.assertEqual(summary["files"], len(closed_files(self.dir)))
        types = collections.Counter(e["eventType"] for e in self.events)
        self.assertEqual(summary["event_types"], dict(types))
        groups = collections.defaultdict(list)
        for e in self.events:
            groups[(e["apiName"] or "", e["apiVersion"] or "", e["httpMethod"], e["apiResourceTemplate"] or "")].append(e)
        self.assertEqual(len(summary["resources"]), len(groups))
        for row in summary["resources"]:
            events = groups[(row["api"], row["version"], row["method"], row["resource"])]
            with self.subTest(row=row):
                self.assertEqual(row["requests"], len(events))
                client = sum(1 for e in events if 400 <= e["proxyResponseCode"] < 500)
                server = sum(1 for e in events if e["proxyResponseCode"] >= 500)
                self.assertAlmostEqual(row["client_error_rate"], 100.0 * client / len(events), places=6)
                self.assertAlmostEqual(row["server_error_rate"], 100.0 * server / len(events), places=6)
                latencies = [e["responseLatency"] for e in events]
                for p in (50, 95, 99):
                    self.assertAlmostEqual(row["latency_ms"][f"p{p}"], nearest_rank(latencies, p), places=3)
        everything = [e["responseLatency"] for e in self.events]
        for p in (50, 95, 99):
            self.assertAlmostEqual(summary["latency_ms"][f"p{p}"], nearest_rank(everything, p), places=3)
        apps = {a["application"]: a["requests"] for a in summary["top_applications"]}
        self.assertEqual(apps.get("app1"), 1)
        self.assertEqual(apps.get("(none)"), len(self.sent) - 1)
        self.assertEqual(summary["top_applications"][0]["application"], "(none)")
        top1 = json.loads(mgwtest.run_mgw("analytics", "summary", self.dir, "--json", "--top", "1").stdout)
        self.assertEqual(len(top1["top_applications"]), 1)

    def test_summary_text(self):
        result = mgwtest.run_mgw("analytics", "summary", self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        self.assertIn(f"{len(self.sent)} events in {len(closed_files(self.dir))} file(s)", out)
        rows = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 10 and parts[0] in ("Shop", "(no"):
                rows[(parts[2], parts[3])] = parts
        self.assertEqual(rows[("GET", "/limited")][4],
                         str(sum(1 for k in self.sent if k.startswith("limited"))))
        self.assertEqual(rows[("GET", "/slow")][6], "100.00")  # 5XX%
        self.assertEqual(rows[("GET", "/secure")][5], "66.67")  # 4XX%: 401 and 403 of 3
        self.assertIn("top applications:", out)
        self.assertRegex(out, r"\n  app1  1\n")
        self.assertRegex(out, r"all: p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms")

    def test_summary_refuses_a_missing_folder(self):
        result = mgwtest.run_mgw("analytics", "summary", os.path.join(self.tmp, "nope"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("not a folder", result.stderr)


class AccessLogTest(GatewayTestCase):
    """One access-log line per request: method, path without the query, status, bytes, latency,
    correlation id, API, application; never a credential."""

    def test_one_line_per_request_without_query_or_credentials(self):
        log = os.path.join(self.tmp, "access.log")
        self.gateway.start(f"--analytics.dir={self.dir}", f"--log.access_log={log}")
        token = mint("--app", "app1:Unlimited", "--scope", "read")
        sent = []
        for i, (method, path, headers) in enumerate([
                ("GET", "/shop/items/7?api_key=k-s3cr3t&x=1", {}),
                ("GET", "/shop/secure?access_token=q-s3cr3t", {"Authorization": "Bearer " + token}),
                ("GET", "/shop/secure", {"Authorization": "Basic dXNlcjpwLXMzY3IzdA=="}),
                ("GET", "/shop/mock", {}),
                ("DELETE", "/shop/items/7", {}),
                ("GET", "/unknown?password=p", {})]):
            cid = f"log-{i}"
            status, _, data = self.gateway.request(method, path, headers={"X-Correlation-ID": cid, **headers})
            sent.append((cid, method, path.split("?")[0], status, len(data)))
        self.assertEqual(self.gateway.stop(), 0)
        with open(log, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), len(sent))
        for cid, method, path, status, size in sent:
            mine = [l for l in lines if f" {cid} " in l]
            self.assertEqual(len(mine), 1, cid)
            line = mine[0]
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 ")
            self.assertIn(f'"{method} {path}" {status} {size} ', line)
            self.assertRegex(line, r" \d+\.\d{3}ms ")
        joined = "\n".join(lines)
        for secret in ("s3cr3t", token, "dXNlcjpwLXMzY3IzdA", "Bearer", "password", "?"):
            self.assertNotIn(secret, joined)
        self.assertIn("api=Shop:1.0 app=app1", next(l for l in lines if " log-1 " in l))
        self.assertIn("api=- app=-", next(l for l in lines if " log-5 " in l))


# ---------------------------------------------------------------------------------------------
# Files: rotation under load, crash recovery, the disk bound.


class RotationTest(GatewayTestCase):

    def test_rotation_under_load_loses_nothing(self):
        self.start("--analytics.rotate_bytes=4096")
        stop = threading.Event()
        problems = []
        seen = {}

        def reader():
            # Meanwhile: every closed file seen is whole and never changes.
            deadline = time.monotonic() + 150
            while not stop.is_set() and time.monotonic() < deadline:
                for path in closed_files(self.dir):
                    name = os.path.basename(path)
                    try:
                        with open(path, "rb") as f:
                            data = f.read()
                    except FileNotFoundError:
                        continue
                    if name in seen:
                        if seen[name] != data:
                            problems.append(f"{name} changed after it was closed")
                        continue
                    try:
                        parse_lines(data, name)
                    except AssertionError as e:
                        problems.append(str(e))
                    seen[name] = data
                time.sleep(0.01)

        watcher = threading.Thread(target=reader)
        watcher.start()
        paths = ["/shop/mock", "/shop/items/1", "/shop/items/2"]
        load = Load(self.gateway.port, paths, threads=6, per_thread=250).run()
        self.assertEqual(self.gateway.stop(), 0)
        stop.set()
        watcher.join(timeout=30)
        self.assertEqual(load.errors, [])
        self.assertEqual(problems, [])
        self.assertGreater(len(seen), 5, "files were closed while the load ran")
        events = read_events(self.dir)
        self.assertEqual(len(events), 1500)
        ids = by_correlation(events)
        self.assertEqual(set(ids), {cid for cid, _, _ in load.results})
        self.assertTrue(all(len(v) == 1 for v in ids.values()))
        for path in closed_files(self.dir):
            self.assertLessEqual(os.path.getsize(path), 4096, path)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "current.jsonl.open")))

    def test_a_stop_during_load_keeps_an_event_for_every_answered_request(self):
        self.start("--analytics.rotate_bytes=8192")
        load = Load(self.gateway.port, ["/shop/mock", "/shop/items/1"], threads=4, per_thread=100000)
        runner = threading.Thread(target=load.run)
        runner.start()
        wait_until(lambda: len(load.results) >= 500, timeout=30, what="500 answers")
        self.assertEqual(self.gateway.stop(), 0)  # SIGTERM in the middle of the load
        runner.join(timeout=200)
        self.assertFalse(runner.is_alive())
        answered = {cid for cid, status, _ in load.results if status == 200}
        self.assertGreaterEqual(len(answered), 500)
        ids = by_correlation(read_events(self.dir))
        self.assertTrue(all(len(v) == 1 for v in ids.values()))
        self.assertEqual(answered - set(ids), set(), "answered requests without an event")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "current.jsonl.open")))

    def test_rotation_by_time(self):
        self.start("--analytics.rotate_interval_s=1")
        for i in range(5):
            self.gateway.request("GET", "/shop/mock", headers={"X-Correlation-ID": f"t-{i}"})
        files = wait_until(lambda: closed_files(self.dir), timeout=10, what="a file closed by time")
        self.assertEqual(len(read_events(self.dir)), 5)
        self.gateway.request("GET", "/shop/mock", headers={"X-Correlation-ID": "t-5"})
        wait_until(lambda: len(closed_files(self.dir)) == len(files) + 1, timeout=10,
                   what="a second file closed by time")
        self.assertEqual(self.gateway.stop(), 0)
        self.assertEqual(sorted(e["correlationId"] for e in read_events(self.dir)),
                         [f"t-{i}" for i in range(6)])

    def test_a_crash_loses_nothing_already_written(self):
        self.start()
        for i in range(300):
            self.gateway.request("GET", "/shop/mock", headers={"X-Correlation-ID": f"before-{i}"})
        wait_until(lambda: metric(scrape(self.gateway), "mgw_analytics_events_written_total") == 300,
                   timeout=10, what="300 events written")
        self.gateway.process.signal(signal.SIGKILL)
        self.gateway.process.wait(timeout=10)
        self.gateway.process.stop()  # already gone: only removes its log file
        open_file = os.path.join(self.dir, "current.jsonl.open")
        self.assertTrue(os.path.exists(open_file))
        self.assertEqual(closed_files(self.dir), [])
        self.assertEqual(len(read_events(self.dir, include_open=True)), 300)
        # Restart: the leftover is closed at start, before any traffic.
        self.start()
        closed = closed_files(self.dir)
        self.assertEqual(len(closed), 1)
        self.assertEqual(sorted(e["correlationId"] for e in read_events(self.dir)),
                         sorted(f"before-{i}" for i in range(300)))
        for i in range(50):
            self.gateway.request("GET", "/shop/mock", headers={"X-Correlation-ID": f"after-{i}"})
        self.assertEqual(self.gateway.stop(), 0)
        ids = by_correlation(read_events(self.dir))
        self.assertEqual(len(ids), 350)
        self.assertTrue(all(len(v) == 1 for v in ids.values()))

    def test_max_disk_bytes_drops_the_oldest_and_counts(self):
        self.start("--analytics.rotate_bytes=2048", "--analytics.max_disk_bytes=8192", workers=1)
        order = []
        for i in range(200):
            cid = f"disk-{i:03d}"
            self.gateway.request("GET", "/shop/mock", headers={"X-Correlation-ID": cid})
            order.append(cid)
        wait_until(lambda: metric(scrape(self.gateway), "mgw_analytics_events_written_total") == 200,
                   timeout=10, what="200 events written")
        dropped = metric(scrape(self.gateway), "mgw_analytics_files_dropped_total")
        self.assertGreater(dropped, 0)
        output = self.gateway.output()
        self.assertEqual(self.gateway.stop(), 0)
        warnings = [l for l in output.splitlines() if "exceed analytics.max_disk_bytes" in l]
        self.assertEqual(len(warnings), dropped)
        total = sum(os.path.getsize(p) for p in closed_files(self.dir))
        self.assertLessEqual(total, 8192)
        kept = [e["correlationId"] for e in read_events(self.dir)]
        self.assertTrue(kept)
        # The newest are kept: a run at the end of what was sent, with nothing missing in it.
        self.assertEqual(sorted(kept), order[len(order) - len(kept):])


# ---------------------------------------------------------------------------------------------
# Upload.


class Collector:
    """A local analytics collector: POST /collect takes gzip NDJSON. mode "fail" answers 500,
    "ok" answers 200 and records the batch (by X-MGW-Batch-Id) and its events. stop() closes the
    port (connection refused); start() opens it again on the same port."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.mode = "fail"
        self.delay_s = 0
        self.lock = threading.Lock()
        self.attempts = 0
        self.failures = 0
        self.batches = collections.Counter()   # acknowledged batch id -> times
        self.events = collections.Counter()    # correlation id -> times acknowledged
        self.problems = []
        self.server = None
        self.thread = None

    def url(self):
        return f"http://127.0.0.1:{self.port}/collect"

    def start(self):
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - the base class's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with collector.lock:
                    collector.attempts += 1
                    mode = collector.mode
                if collector.delay_s:
                    time.sleep(collector.delay_s)
                if mode != "ok":
                    with collector.lock:
                        collector.failures += 1
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                problems = []
                if self.path != "/collect":
                    problems.append("path " + self.path)
                if self.headers.get("Content-Type") != "application/x-ndjson":
                    problems.append("content type " + str(self.headers.get("Content-Type")))
                if self.headers.get("Content-Encoding") != "gzip":
                    problems.append("content encoding " + str(self.headers.get("Content-Encoding")))
                batch = self.headers.get("X-MGW-Batch-Id", "")
                if not CLOSED.match(batch):
                    problems.append("batch id " + batch)
                try:
                    events = parse_lines(gzip.decompress(body), batch)
                except (OSError, AssertionError) as e:
                    problems.append(str(e))
                    events = []
                with collector.lock:
                    collector.problems.extend(problems)
                    collector.batches[batch] += 1
                    for event in events:
                        collector.events[event["correlationId"]] += 1
                self.send_response(200 if not problems else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)
            self.server = None

    def count(self):
        with self.lock:
            return len(self.events)


class UploadTest(GatewayTestCase):

    def send(self, prefix, n):
        ids = []
        for i in range(n):
            cid = f"{prefix}-{i}"
            status, _, _ = self.gateway.request("GET", "/shop/mock", headers={"X-Correlation-ID": cid})
            self.assertEqual(status, 200)
            ids.append(cid)
        return ids

    def test_a_collector_outage_and_a_restart_lose_nothing(self):
        collector = Collector().start()
        self.addCleanup(collector.stop)
        flags = (f"--analytics.upload_url={collector.url()}", "--analytics.upload_interval_s=1",
                 "--analytics.rotate_interval_s=1")
        self.start(*flags)
        sent = self.send("a", 100)
        # The collector answers 500: files stay.
        wait_until(lambda: collector.failures >= 1, timeout=15, what="an upload attempt")
        wait_until(lambda: closed_files(self.dir), timeout=10, what="a closed file")
        self.assertEqual(collector.count(), 0)
        # Then refuses connections; the gateway restarts in the middle of the outage.
        collector.stop()
        output = self.gateway.output()
        self.assertEqual(self.gateway.stop(), 0)
        self.assertEqual(output.count("does not accept uploads"), 1, "the outage is logged once")
        self.assertEqual(len(read_events(self.dir)), 100, "nothing uploaded, nothing lost")
        self.start(*flags)
        sent += self.send("b", 100)
        time.sleep(2.5)  # a few refused attempts
        self.assertEqual(collector.count(), 0)
        self.assertGreater(len(closed_files(self.dir)), 0)
        # The collector comes back and accepts.
        collector.mode = "ok"
        collector.start()
        wait_until(lambda: collector.count() == 200, timeout=60, interval=0.2,
                   what="every event at the collector")
        wait_until(lambda: not closed_files(self.dir), timeout=15, what="uploaded files deleted")
        output = self.gateway.output()
        self.assertEqual(self.gateway.stop(), 0)
        self.assertEqual(collector.problems, [])
        self.assertEqual(set(collector.events), set(sent))
        self.assertEqual(max(collector.events.values()), 1, "an acknowledged event came twice")
        self.assertEqual(max(collector.batches.values()), 1, "an acknowledged batch came twice")
        self.assertEqual(output.count("does not accept uploads"), 1)
        self.assertEqual(output.count("uploads to the collector resumed"), 1)
        self.assertEqual(closed_files(self.dir), [])

    def test_files_dropped_by_the_disk_bound_during_an_upload_are_not_an_outage(self):
        # A slow collector and a small disk bound: while one file is being sent, files the
        # uploader listed earlier are dropped as the oldest. That is not a collector failure.
        collector = Collector()
        collector.mode = "ok"
        collector.delay_s = 0.3
        collector.start()
        self.addCleanup(collector.stop)
        self.start(f"--analytics.upload_url={collector.url()}", "--analytics.upload_interval_s=1",
                   "--analytics.rotate_bytes=2048", "--analytics.max_disk_bytes=6144", workers=1)
        deadline = time.monotonic() + 6
        i = 0
        while time.monotonic() < deadline:
            self.gateway.request("GET", "/shop/mock", headers={"X-Correlation-ID": f"d-{i}"})
            i += 1
        dropped = metric(scrape(self.gateway), "mgw_analytics_files_dropped_total")
        output = self.gateway.output()
        self.assertEqual(self.gateway.stop(), 0)
        self.assertGreater(dropped, 0, "the test needs files dropped by the bound")
        self.assertEqual(collector.failures, 0)
        self.assertFalse("does not accept uploads" in output, "an outage was reported")
        self.assertEqual(collector.problems, [])
        self.assertEqual(max(collector.batches.values() or [1]), 1)

    def test_files_written_at_stop_are_uploaded_at_the_next_start(self):
        collector = Collector()
        collector.mode = "ok"
        collector.start()
        self.addCleanup(collector.stop)
        flags = (f"--analytics.upload_url={collector.url()}", "--analytics.upload_interval_s=1")
        self.start(*flags)  # rotate_interval_s stays 600: the file is closed by the stop
        sent = self.send("s", 20)
        self.assertEqual(self.gateway.stop(), 0)
        self.assertEqual(len(closed_files(self.dir)), 1)
        self.start(*flags)
        wait_until(lambda: collector.count() == 20, timeout=20, what="the events at the collector")
        self.assertEqual(set(collector.events), set(sent))
        self.assertEqual(self.gateway.stop(), 0)


# ---------------------------------------------------------------------------------------------
# Metrics under load.


class MetricsLoadTest(GatewayTestCase):

    def test_label_cardinality_is_bounded_by_templates(self):
        self.start()
        rng = random.Random(7)
        paths = [f"/shop/items/{i}" for i in range(1, 5001)]
        paths += [f"/shop/{rng.getrandbits(48):x}/{i}" for i in range(500)]  # no resource: 404
        paths += [f"/r{rng.getrandbits(48):x}" for i in range(500)]          # no API: 404
        rng.shuffle(paths)
        load = Load(self.gateway.port, paths, threads=6, per_thread=1000).run()
        self.assertEqual(load.errors, [])
        statuses = collections.Counter(status for _, status, _ in load.results)
        self.assertEqual(statuses, {200: 5000, 404: 1000})
        samples = scrape(self.gateway)
        requests = series(samples, "mgw_requests_total")
        self.assertLessEqual(len(requests), 4, requests)
        self.assertEqual(metric(samples, "mgw_requests_total", resource="/items/{id}", code="200"), 5000)
        self.assertEqual(metric(samples, "mgw_requests_total", code="404"), 1000)
        for name in ("mgw_request_duration_seconds_bucket", "mgw_backend_duration_seconds_bucket"):
            self.assertLessEqual(len(series(samples, name)), 4 * 15)
        self.assertLess(len(samples), 200)
        for labels in requests:
            self.assertNotRegex(labels["resource"], r"/\d")
        self.assertEqual(self.gateway.stop(), 0)
        templates = collections.Counter(e["apiResourceTemplate"] for e in read_events(self.dir))
        self.assertEqual(templates, {"/items/{id}": 5000, None: 1000})

    def test_scraping_during_load_breaks_nothing_and_counts_match(self):
        self.start()
        done = threading.Event()
        scrapes = []
        problems = []

        def scraper():
            deadline = time.monotonic() + 120
            while not done.is_set() and time.monotonic() < deadline:
                try:
                    samples = scrape(self.gateway)
                    scrapes.append(metric(samples, "mgw_requests_total"))
                    if (metric(samples, "mgw_request_duration_seconds_bucket", le="+Inf") !=
                            metric(samples, "mgw_request_duration_seconds_count")):
                        problems.append("+Inf bucket != _count")
                except (OSError, AssertionError, http.client.HTTPException) as e:
                    problems.append(repr(e))
                time.sleep(0.005)

        thread = threading.Thread(target=scraper)
        thread.start()
        load = Load(self.gateway.port, ["/shop/mock", "/shop/items/1"], threads=4, per_thread=300).run()
        done.set()
        thread.join(timeout=30)
        self.assertEqual(load.errors, [])
        self.assertEqual(collections.Counter(s for _, s, _ in load.results), {200: 1200})
        self.assertEqual(problems, [])
        self.assertGreater(len(scrapes), 10)
        self.assertEqual(scrapes, sorted(scrapes), "counters never go backwards")
        samples = scrape(self.gateway)
        self.assertEqual(metric(samples, "mgw_requests_total", resource="/mock", code="200"), 600)
        self.assertEqual(metric(samples, "mgw_requests_total", resource="/items/{id}", code="200"), 600)
        self.assertEqual(metric(samples, "mgw_request_duration_seconds_count"), 1200)
        self.assertEqual(metric(samples, "mgw_backend_duration_seconds_count", resource="/items/{id}"), 600)
        self.assertEqual(metric(samples, "mgw_backend_duration_seconds_count", resource="/mock"), 0)

    def test_connections_gauge(self):
        self.start()
        self.assertEqual(metric(scrape(self.gateway), "mgw_connections_active"), 0)
        connections = []
        for i in range(5):
            c = mgwtest.RawConnection(self.gateway.port)
            self.addCleanup(c.close)
            c.send(b"GET /shop/mock HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(c.read_response().status, 200)
            connections.append(c)
        wait_until(lambda: metric(scrape(self.gateway), "mgw_connections_active") == 5, timeout=10,
                   what="5 active connections")
        for c in connections:
            c.close()
        wait_until(lambda: metric(scrape(self.gateway), "mgw_connections_active") == 0, timeout=10,
                   what="0 active connections")


class DisabledTest(GatewayTestCase):

    def test_analytics_off_writes_nothing_and_metrics_still_work(self):
        self.start("--analytics.enabled=false")
        for i in range(10):
            self.assertEqual(self.gateway.request("GET", "/shop/mock")[0], 200)
        # A request is counted once its response is written: the scrape may beat the last one.
        wait_until(lambda: metric(scrape(self.gateway), "mgw_requests_total", resource="/mock",
                                  code="200") == 10, timeout=10, what="10 requests counted")
        samples = scrape(self.gateway)
        self.assertEqual(metric(samples, "mgw_requests_total", resource="/mock", code="200"), 10)
        self.assertEqual(metric(samples, "mgw_analytics_events_written_total"), 0)
        self.assertEqual(self.gateway.stop(), 0)
        self.assertFalse(os.path.exists(self.dir))

    def test_an_unusable_folder_stops_the_start(self):
        blocker = os.path.join(self.tmp, "file")
        with open(blocker, "w", encoding="utf-8") as f:
            f.write("x")
        self.gateway.start(f"--analytics.dir={blocker}/analytics", wait=False)
        code = self.gateway.process.wait(timeout=30)
        self.assertEqual(code, 1)
        self.assertIn("analytics.dir", self.gateway.output())

if __name__ == "__main__":
    unittest.main()
