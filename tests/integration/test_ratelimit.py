"""Rate limiting end to end (contract 6 and 5.1), through the real `mgw build` and gateway:
the four levels and their fault codes, the RateLimit / X-RateLimit-* / Retry-After headers,
stopOnQuota: false, Unlimited, undefined tiers (900809), all-or-nothing counting across levels,
exact counting under concurrency on a 2-worker gateway, the key-table bound under a flood of
client IPs, trusted proxies, and counters shared through a real redis-server (exactness across two
gateways, outage handling, recovery).

Windows: almost every policy here is per hour, and a test that counts waits out the last seconds
of the hour (wait_out_window) so a window boundary cannot split it."""
import collections
import http.client
import json
import shutil
import signal
import tempfile
import threading
import time
import unittest

import mgwtest
from mgwtest import openapi

THROTTLED = "Message throttled out"


def fault_of(body):
    return json.loads(body.decode("utf-8"))["fault"]


def wait_out_window(window_s, need_s):
    """Sleeps past the end of the current fixed window (aligned to the epoch) when fewer than
    `need_s` seconds are left in it; bounded by need_s + 1 s."""
    left = window_s - (time.time() % window_s)
    if left < need_s:
        time.sleep(left + 0.2)


def mock_api(title, base_path, resources, tier=None, secured=False, version="1.0"):
    """An OpenAPI definition answered by the gateway itself (x-wso2-mock). `resources` maps a
    path to a resource tier or None; each path has a GET."""
    paths = {}
    for path, resource_tier in resources.items():
        operation = {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"example": {"api": title, "path": path}}}}}}
        if resource_tier:
            operation["x-wso2-throttling-tier"] = resource_tier
        paths[path] = {"get": operation}
    extensions = {"x_wso2_mock": True}
    if tier:
        extensions["x_wso2_throttling_tier"] = tier
    return openapi(title, base_path, paths, version=version, secured=secured, **extensions)


JWT_TOML = f"""
[[auth.jwt]]
issuer = "{mgwtest.EXAMPLE_ISSUER}"
certificate = "certs/example-issuer.pem"
"""


def issuer_files():
    with open(mgwtest.EXAMPLE_ISSUER_CERT, encoding="ascii") as f:
        return {"certs/example-issuer.pem": f.read()}


def bearer(token):
    return {"Authorization": "Bearer " + token}


def count_statuses(statuses):
    return collections.Counter(statuses)


def get(port, path, headers=None, source="127.0.0.1"):
    """One GET on a fresh connection from `source`: (status, headers lowercased, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# The levels, their codes and headers, on one 2-worker gateway with in-memory counters.

LEVEL_POLICIES = """
resourcePolicies:
  - Three: {count: 3, unitTime: 1, timeUnit: hour}
  - Two: {count: 2, unitTime: 1, timeUnit: hour}
  - Five: {count: 5, unitTime: 1, timeUnit: hour}
  - ThreePerMin: {count: 3, unitTime: 1, timeUnit: min}
  - Exact: {count: 300, unitTime: 1, timeUnit: hour}
  - BurstThree: {count: 1000, unitTime: 1, timeUnit: hour, burst: 3}
applicationPolicies:
  - AppTwo: {count: 2, unitTime: 1, timeUnit: hour}
  - AppFive: {count: 5, unitTime: 1, timeUnit: hour}
subscriptionPolicies:
  - SubTwo: {count: 2, unitTime: 1, timeUnit: hour}
  - Soft: {count: 2, unitTime: 1, timeUnit: hour, stopOnQuota: false}
  - Unauthenticated: {count: 4, unitTime: 1, timeUnit: hour}
"""
# Default is deliberately not defined: an implicit tier that is not defined does not limit.


class LevelsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mgw-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        definitions = {
            # unsecured: the subscription level is Unauthenticated, per client IP
            "apitier.json": mock_api("ApiTier", "/apitier", {"/r": None}, tier="Three"),
            "restier.json": mock_api("ResTier", "/restier", {"/r": "Two", "/s": None}),
            "anon.json": mock_api("Anon", "/anon", {"/r": None}),
            "hdr.json": mock_api("Hdr", "/hdr", {"/min": "ThreePerMin", "/free": None}),
            # secured (JWT): subscription and application tiers come from the token
            "sub.json": mock_api("Sub", "/sub", {"/r": None}, secured=True),
            "app.json": mock_api("App", "/app", {"/r": None}, secured=True),
            "soft.json": mock_api("Soft", "/soft", {"/r": None}, secured=True),
            "free.json": mock_api("Free", "/free", {"/r": None}, tier="Unlimited", secured=True),
            "order.json": mock_api("Order", "/order", {"/r": None}, tier="Five", secured=True),
            "gate.json": mock_api("Gate", "/gate", {"/r": None}, tier="Two", secured=True),
            "exact.json": mock_api("Exact", "/exact", {"/r": "Exact"}, secured=True),
            "burst.json": mock_api("Burst", "/burst", {"/r": "BurstThree"}, secured=True),
            "ka.json": mock_api("Ka", "/ka", {"/r": "Two", "/s": None}, secured=True),
        }
        cls.backend = mgwtest.Backend("backend")
        cls.addClassCleanup(cls.backend.stop)
        definitions["proxied.json"] = openapi("Proxied", "/proxied", {"/r": {"get": {
            "x-wso2-throttling-tier": "Two", "responses": {"200": {"description": "ok"}}}}},
            production=cls.backend.url("/b"))
        definitions["echoed.json"] = openapi("Echoed", "/echoed", {"/r": {"get": {
            "x-wso2-throttling-tier": "Five", "responses": {"200": {"description": "ok"}}}}},
            production=cls.backend.url("/b"))
        cls.gateway = mgwtest.Gateway(cls.tmp, definitions, mgw_toml=JWT_TOML,
                                      files=issuer_files(), policies=LEVEL_POLICIES).build()
        cls.gateway.start()  # two workers
        cls.addClassCleanup(cls.gateway.stop)

    def setUp(self):
        wait_out_window(3600, 20)

    def get(self, path, token=None, source="127.0.0.1"):
        return get(self.gateway.port, path, bearer(token) if token else {}, source)

    def assertThrottled(self, status, body, code):
        self.assertEqual(status, 429, body)
        fault = fault_of(body)
        self.assertEqual(fault["code"], code, fault)
        self.assertEqual(fault["message"], THROTTLED)
        self.assertEqual(fault["description"], "You have exceeded your quota")

    def statuses(self, path, n, token=None, source="127.0.0.1"):
        out = []
        for _ in range(n):
            status, _, body = self.get(path, token=token, source=source)
            out.append((status, fault_of(body)["code"] if status != 200 else None))
        return out

    # --- one test per level and code -----------------------------------------------------

    def test_api_level_rejects_with_900800(self):
        got = self.statuses("/apitier/r", 5)
        self.assertEqual(got, [(200, None)] * 3 + [(429, 900800)] * 2)
        status, headers, body = self.get("/apitier/r")
        self.assertThrottled(status, body, 900800)

    def test_resource_level_rejects_with_900802(self):
        got = self.statuses("/restier/r", 4)
        self.assertEqual(got, [(200, None)] * 2 + [(429, 900802)] * 2)
        # The two rejected requests were not counted in the later (subscription) level: the
        # Unauthenticated tier (4 per client IP and API) still has room for exactly two.
        got = self.statuses("/restier/s", 4)
        self.assertEqual(got, [(200, None)] * 2 + [(429, 900804)] * 2)

    def test_unauthenticated_subscription_level_is_per_client_ip_with_900804(self):
        got = self.statuses("/anon/r", 6)
        self.assertEqual(got, [(200, None)] * 4 + [(429, 900804)] * 2)
        # Another client address (no trusted proxies here: the peer address is the client).
        got = self.statuses("/anon/r", 6, source="127.0.0.2")
        self.assertEqual(got, [(200, None)] * 4 + [(429, 900804)] * 2)

    def test_subscription_level_from_the_token_rejects_with_900804(self):
        token = mgwtest.mint_token(app="subapp:Unlimited", apis=["Sub:1.0:SubTwo"])
        got = self.statuses("/sub/r", 4, token=token)
        self.assertEqual(got, [(200, None)] * 2 + [(429, 900804)] * 2)
        # The key is <appId>:<basePath>:<version>: another application has its own count.
        other = mgwtest.mint_token(app="subapp2:Unlimited", apis=["Sub:1.0:SubTwo"])
        self.assertEqual(self.statuses("/sub/r", 3, token=other),
                         [(200, None)] * 2 + [(429, 900804)])

    def test_application_level_from_the_token_rejects_with_900803(self):
        token = mgwtest.mint_token(app="appx:AppTwo")
        got = self.statuses("/app/r", 4, token=token)
        self.assertEqual(got, [(200, None)] * 2 + [(429, 900803)] * 2)
        # The key is <appId>:<user>: the same application for another user has its own count.
        other_user = mgwtest.mint_token(app="appx:AppTwo", sub="bob")
        self.assertEqual(self.statuses("/app/r", 3, token=other_user),
                         [(200, None)] * 2 + [(429, 900803)])

    # --- headers -----------------------------------------------------------------------------

    def test_every_response_of_a_limited_resource_carries_the_headers(self):
        # /hdr/min: resource ThreePerMin, and Unauthenticated (4 per hour, per client IP and API).
        wait_out_window(60, 5)
        seen = []
        for i in range(6):
            status, headers, body = self.get("/hdr/min")
            seen.append(status)
            for name in ("ratelimit-policy", "ratelimit", "x-ratelimit-limit",
                         "x-ratelimit-remaining", "x-ratelimit-reset"):
                self.assertIn(name, headers, f"request {i + 1}: {headers}")
            # Structured-field form of draft-ietf-httpapi-ratelimit-headers.
            self.assertEqual(headers["ratelimit-policy"],
                             '"resource";q=3;w=60, "subscription";q=4;w=3600')
            # The most restrictive level, the resource one, is the one reported.
            limit = int(headers["x-ratelimit-limit"])
            remaining = int(headers["x-ratelimit-remaining"])
            reset = int(headers["x-ratelimit-reset"])
            self.assertEqual(limit, 3)
            self.assertEqual(remaining, max(0, 2 - i))
            self.assertTrue(0 < reset <= 60, reset)
            self.assertEqual(headers["ratelimit"], f'"resource";r={remaining};t={reset}')
            if status == 429:
                self.assertThrottled(status, body, 900802)
                retry = int(headers["retry-after"])
                self.assertTrue(1 <= retry <= 60, retry)
                self.assertEqual(retry, reset)
            else:
                self.assertNotIn("retry-after", headers)
        self.assertEqual(seen, [200] * 3 + [429] * 3)

    def test_proxied_responses_carry_the_headers_and_rejected_requests_stay_at_the_gateway(self):
        before = self.backend.request_count()
        for i in range(3):
            status, headers, body = self.get("/proxied/r")
            self.assertEqual(headers.get("x-ratelimit-limit"), "2", headers)
            self.assertEqual(headers.get("x-ratelimit-remaining"), str(max(0, 1 - i)))
            self.assertIn("ratelimit-policy", headers)
            self.assertIn("ratelimit", headers)
            if i < 2:
                self.assertEqual(status, 200, body)
                self.assertEqual(json.loads(body)["path"], "/b/r", "answered by the backend")
            else:
                self.assertThrottled(status, body, 900802)
        self.assertEqual(self.backend.request_count() - before, 2)

    def test_a_backends_own_rate_limit_fields_are_replaced_and_its_retry_after_kept(self):
        # The backend answers with fields of the gateway's names: the gateway's values replace
        # them (each name once), while Retry-After, which the gateway sets only on its own 429,
        # and every other field pass through.
        backend_fields = [["X-RateLimit-Limit", "999"], ["ratelimit-policy", '"backend";q=999'],
                          ["RateLimit", '"backend";r=1;t=1'], ["X-RateLimit-Remaining", "998"],
                          ["x-ratelimit-reset", "1"], ["Retry-After", "7"], ["X-Kept", "yes"]]
        conn = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=15)
        try:
            conn.request("GET", "/echoed/r",
                         headers={"X-Backend-Response-Headers": json.dumps(backend_fields)})
            response = conn.getresponse()
            body = response.read()
            fields = [(k.lower(), v) for k, v in response.getheaders()]
        finally:
            conn.close()
        self.assertEqual(response.status, 200, body)
        names = [name for name, _ in fields]
        for name in ("ratelimit-policy", "ratelimit", "x-ratelimit-limit",
                     "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after", "x-kept"):
            self.assertEqual(names.count(name), 1, f"{name} in {fields}")
        got = dict(fields)
        self.assertEqual(got["ratelimit-policy"], '"resource";q=5;w=3600, "subscription";q=4;w=3600')
        self.assertEqual(got["x-ratelimit-limit"], "4")  # Unauthenticated: 4 per hour, the tighter
        self.assertEqual(got["x-ratelimit-remaining"], "3")
        self.assertTrue(got["ratelimit"].startswith('"subscription";r=3;t='), got)
        self.assertEqual(got["retry-after"], "7")
        self.assertEqual(got["x-kept"], "yes")

    def test_the_most_restrictive_level_is_reported(self):
        # /hdr/free has the subscription level only (its count is per client address and API,
        # so this test uses its own address).
        status, headers, _ = self.get("/hdr/free", source="127.0.0.3")
        self.assertEqual(status, 200)
        self.assertEqual(headers["ratelimit-policy"], '"subscription";q=4;w=3600')
        self.assertEqual(headers["x-ratelimit-limit"], "4")
        self.assertEqual(headers["x-ratelimit-remaining"], "3")
        self.assertTrue(headers["ratelimit"].startswith('"subscription";r=3;t='), headers)
        self.assertTrue(0 < int(headers["x-ratelimit-reset"]) <= 3600)
        # A second level with more room left does not change what is reported.
        token = mgwtest.mint_token(app="mr:AppFive", apis=["Sub:1.0:SubTwo"])
        status, headers, _ = self.get("/sub/r", token=token)
        self.assertEqual(status, 200)
        self.assertEqual(headers["ratelimit-policy"],
                         '"subscription";q=2;w=3600, "application";q=5;w=3600')
        self.assertEqual(headers["x-ratelimit-limit"], "2")
        self.assertEqual(headers["x-ratelimit-remaining"], "1")

    def test_one_connection_counts_each_caller_and_resource_on_its_own(self):
        # The requests of one keep-alive connection may change caller and resource from one to
        # the next: each is counted and described as if it came on a connection of its own.
        def send(conn, path, token):
            conn.request("GET", path, headers=bearer(token))
            response = conn.getresponse()
            body = response.read()
            code = fault_of(body)["code"] if response.status != 200 else None
            return response.status, code, response.getheader("RateLimit-Policy")

        a = mgwtest.mint_token(app="kaA:AppTwo", apis=["Sub:1.0:SubTwo"])
        b = mgwtest.mint_token(app="kaB:AppFive", apis=["Sub:1.0:SubTwo"])
        policy_a = '"subscription";q=2;w=3600, "application";q=2;w=3600'
        policy_b = '"subscription";q=2;w=3600, "application";q=5;w=3600'
        conn = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=15)
        try:
            got = [send(conn, "/sub/r", token) for token in (a, b, a, b, a, b)]
        finally:
            conn.close()
        self.assertEqual(got, [(200, None, policy_a), (200, None, policy_b)] * 2 +
                         [(429, 900804, policy_a), (429, 900804, policy_b)])
        # One caller, two resources in turn: the application level (5, per application and user)
        # counts both, the resource level (Two) only /ka/r; the third /ka/r is rejected there and
        # not counted by the application level, so the last /ka/s still passes.
        c = mgwtest.mint_token(app="kaC:AppFive")
        conn = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=15)
        try:
            got = [send(conn, path, c) for path in ("/ka/r", "/ka/s") * 3]
        finally:
            conn.close()
        limited = '"resource";q=2;w=3600, "application";q=5;w=3600'
        free = '"application";q=5;w=3600'
        self.assertEqual(got, [(200, None, limited), (200, None, free)] * 2 +
                         [(429, 900802, limited), (200, None, free)])

    def test_unlimited_never_limits_and_adds_no_headers(self):
        token = mgwtest.mint_token(app="free:Unlimited", apis=["Free:1.0:Unlimited"])
        for i in range(30):
            status, headers, body = self.get("/free/r", token=token)
            self.assertEqual(status, 200, (i, body))
            self.assertNotIn("ratelimit-policy", headers)
            self.assertNotIn("x-ratelimit-limit", headers)

    def test_stop_on_quota_false_counts_but_never_rejects(self):
        token = mgwtest.mint_token(app="softapp:Unlimited", apis=["Soft:1.0:Soft"])
        remaining = []
        for _ in range(8):
            status, headers, body = self.get("/soft/r", token=token)
            self.assertEqual(status, 200, body)
            self.assertNotIn("retry-after", headers)
            remaining.append(int(headers["x-ratelimit-remaining"]))
        self.assertEqual(remaining, [1, 0, 0, 0, 0, 0, 0, 0])

    def test_a_tier_named_by_a_token_but_not_defined_is_a_500_900809(self):
        for token in (mgwtest.mint_token(app="plat:Unlimited", apis=["Free:1.0:Platinum"]),
                      mgwtest.mint_token(app="plat2:Platinum")):
            status, headers, body = self.get("/free/r", token=token)
            self.assertEqual(status, 500, body)
            self.assertEqual(headers.get("content-type"), "application/json")
            fault = fault_of(body)
            self.assertEqual(fault["code"], 900809)
            self.assertEqual(fault["message"], "Internal server error occured")

    def test_an_implicit_default_tier_that_is_not_defined_does_not_limit(self):
        token = mgwtest.mint_token(app="dflt:Unlimited")  # no subscribedAPIs: tier Default
        for _ in range(10):
            status, headers, body = self.get("/sub/r", token=token)
            self.assertEqual(status, 200, body)
            self.assertNotIn("x-ratelimit-limit", headers)

    # --- all or nothing ------------------------------------------------------------------

    def test_a_later_levels_rejection_is_not_counted_in_earlier_levels(self):
        # API level Five, application level AppTwo: the application rejects the 3rd and 4th.
        tight = mgwtest.mint_token(app="ord:AppTwo")
        self.assertEqual(self.statuses("/order/r", 4, token=tight),
                         [(200, None)] * 2 + [(429, 900803)] * 2)
        # The API level counted only the two that passed: three more fit for another app.
        loose = mgwtest.mint_token(app="ord2:Unlimited")
        self.assertEqual(self.statuses("/order/r", 5, token=loose),
                         [(200, None)] * 3 + [(429, 900800)] * 2)

    def test_a_rejected_request_is_not_counted_in_later_levels(self):
        # API level Two rejects three of five; the application level (AppFive, per app and user,
        # shared by every API) counted only the two that passed.
        token = mgwtest.mint_token(app="gate:AppFive")
        self.assertEqual(self.statuses("/gate/r", 5, token=token),
                         [(200, None)] * 2 + [(429, 900800)] * 3)
        self.assertEqual(self.statuses("/free/r", 5, token=token),
                         [(200, None)] * 3 + [(429, 900803)] * 2)

    # --- burst ---------------------------------------------------------------------------

    def test_burst_allows_at_most_n_requests_in_one_second(self):
        token = mgwtest.mint_token(app="burst:Unlimited")
        self.get("/free/r", token=token)  # the token is validated and cached before timing
        for attempt in range(3):
            # Start right after a second begins, so ten quick requests share one second.
            time.sleep(1.02 - (time.time() % 1.0))
            started = time.time()
            got = mgwtest.http_get_many(self.gateway.port, "/burst/r", 10, headers=bearer(token))
            if int(time.time()) != int(started):
                continue  # the second ended under us (a slow machine); try again
            self.assertEqual(count_statuses(got), {200: 3, 429: 7}, got)
            return
        self.skipTest("ten requests never fitted into one second on this machine")

    # --- exactness under concurrency ------------------------------------------------------

    def test_exactly_count_requests_pass_with_many_concurrent_clients(self):
        token = mgwtest.mint_token(app="exact:Unlimited")
        self.get("/free/r", token=token)
        wait_out_window(3600, 60)
        threads, per_thread = 8, 100
        results = []
        lock = threading.Lock()
        errors = []

        def client():
            try:
                got = mgwtest.http_get_many(self.gateway.port, "/exact/r", per_thread,
                                            headers=bearer(token), timeout=120)
                with lock:
                    results.extend(got)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        workers = [threading.Thread(target=client) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=180)
        self.assertFalse(errors, errors)
        self.assertEqual(len(results), threads * per_thread)
        self.assertEqual(count_statuses(results), {200: 300, 429: threads * per_thread - 300})


# ---------------------------------------------------------------------------------------------
# Client addresses: trusted proxies, and the key table's bound under a flood of client IPs.

PROXY_POLICIES = """
subscriptionPolicies:
  - Unauthenticated: {count: 3, unitTime: 1, timeUnit: hour}
"""
PROXY_TOML = """
[rate_limit]
max_keys = 1024
trusted_proxies = ["127.0.0.2", "127.0.1.0/24"]
"""


class ClientAddressTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mgw-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.gateway = mgwtest.Gateway(cls.tmp, {
            "who.json": mock_api("Who", "/who", {"/r": None}),
            "flood.json": mock_api("Flood", "/flood", {"/r": None}),
        }, mgw_toml=PROXY_TOML, policies=PROXY_POLICIES).build()
        cls.gateway.start()
        cls.addClassCleanup(cls.gateway.stop)

    def setUp(self):
        wait_out_window(3600, 30)

    def get(self, path, source="127.0.0.1", forwarded=None):
        headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
        return mgwtest.http_get_many(self.gateway.port, path, 1, headers=headers, source=source)[0]

    def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(self):
        self.assertEqual([self.get("/who/r", forwarded="10.0.0.1") for _ in range(3)], [200] * 3)
        # Spoofing a new address does not escape the limit: the key is the peer's address.
        for spoof in ("10.0.0.2", "10.0.0.3, 10.0.0.4", "", None, "127.0.0.2"):
            self.assertEqual(self.get("/who/r", forwarded=spoof), 429, spoof)

    def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(self):
        self.assertEqual([self.get("/who/r", "127.0.0.2", "10.1.0.1") for _ in range(4)],
                         [200] * 3 + [429])
        # Another client behind the same proxy has its own count.
        self.assertEqual([self.get("/who/r", "127.0.0.2", "10.1.0.2") for _ in range(4)],
                         [200] * 3 + [429])
        # The client is the nearest untrusted hop: what the client itself wrote further left
        # does not count, and trusted hops (127.0.1.0/24) are skipped.
        self.assertEqual(self.get("/who/r", "127.0.0.2", "6.6.6.6, 10.1.0.1"), 429)
        self.assertEqual(self.get("/who/r", "127.0.0.2", "10.1.0.1, 127.0.1.9"), 429)
        self.assertEqual(self.get("/who/r", "127.0.1.5", "10.1.0.1"), 429, "a peer in the CIDR")
        self.assertEqual(self.get("/who/r", "127.0.0.2", "10.1.0.1, 10.1.0.3"), 200)
        # The trusted proxy itself, without X-Forwarded-For, is one client like any other.
        self.assertEqual([self.get("/who/r", "127.0.0.2") for _ in range(4)], [200] * 3 + [429])

    def test_a_flood_of_client_addresses_keeps_memory_bounded_and_limits_working(self):
        # A client that used its quota before the flood.
        self.assertEqual([self.get("/flood/r", "127.0.0.2", "10.200.0.1") for _ in range(4)],
                         [200] * 3 + [429])
        pid = self.gateway.pid
        # Warm up allocator and connection buffers with a flood that fits the table.
        self.flood(0, 2_000)
        before = mgwtest.process_memory_kib(pid)["VmRSS"]
        total = 120_000
        started = time.monotonic()
        self.flood(2_000, total)
        elapsed = time.monotonic() - started
        after = mgwtest.process_memory_kib(pid)["VmRSS"]
        # 120,000 counters would take ~15-20 MB; the table holds at most 1,024.
        self.assertLess(after - before, 8 * 1024,
                        f"RSS {before} -> {after} KiB after {total} client addresses in {elapsed:.1f}s")
        # Limits still work: the exhausted client is still limited (a busy counter outlives a
        # flood of one-off keys), and a new client gets exactly its quota.
        self.assertEqual(self.get("/flood/r", "127.0.0.2", "10.200.0.1"), 429)
        self.assertEqual([self.get("/flood/r", "127.0.0.2", "10.200.0.2") for _ in range(4)],
                         [200] * 3 + [429])

    def flood(self, first, last, connections=4):
        """One request from each client address first..last-1 (X-Forwarded-For from the trusted
        proxy), over `connections` pipelined connections in parallel; all must pass."""
        def address(i):
            return f"10.{64 + (i >> 16) % 64}.{(i >> 8) & 255}.{i & 255}"

        errors = []
        statuses = []
        lock = threading.Lock()

        def run(part):
            requests = [("/flood/r", {"X-Forwarded-For": address(i)})
                        for i in range(first + part, last, connections)]
            try:
                got = mgwtest.pipelined_gets(self.gateway.port, requests, source="127.0.0.2",
                                             timeout=240)
                with lock:
                    statuses.extend(got)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(p,)) for p in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertFalse(errors, errors)
        self.assertEqual(count_statuses(statuses), {200: last - first})


# ---------------------------------------------------------------------------------------------
# Counters shared through Redis by several gateways.

REDIS_POLICIES = """
resourcePolicies:
  - Shared: {count: 200, unitTime: 1, timeUnit: hour}
  - Five: {count: 5, unitTime: 1, timeUnit: hour}
  - Four: {count: 4, unitTime: 1, timeUnit: hour}
"""
REDIS_TOML = """
[rate_limit]
store = "redis"
on_store_failure = "local"
"""
OUTAGE = "is unreachable"
BACK = "is reachable again"


class RedisStoreTest(unittest.TestCase):
    """Two gateways (A, B: on_store_failure local) and a third (C: deny) share one redis-server.
    Each test starts its own Redis and gateways: the outage tests stop Redis."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mgw-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.redis = mgwtest.start_redis(self)
        definitions = {"r.json": mock_api("R", "/r", {
            "/exact": "Shared", "/fallback": "Five", "/resumed": "Four", "/stall": "Five",
            "/deny": "Five", "/free": None})}
        self.gateways = {}
        for name, failure in (("a", "local"), ("b", "local"), ("c", "deny")):
            gateway = mgwtest.Gateway(self.tmp, definitions, mgw_toml=REDIS_TOML,
                                      policies=REDIS_POLICIES, name="gw" + name).build()
            gateway.start(f"--rate_limit.redis_url={self.redis.url}",
                          f"--rate_limit.on_store_failure={failure}")
            self.addCleanup(gateway.stop)
            self.gateways[name] = gateway
        self.wait_connected()
        wait_out_window(3600, 60)

    def wait_connected(self, timeout=20):
        # Two workers per gateway, one connection each.
        mgwtest.wait_until(lambda: self.redis.clients() >= 2 * len(self.gateways), timeout=timeout,
                           what="every gateway worker connected to Redis")

    def statuses(self, name, path, n):
        return mgwtest.http_get_many(self.gateways[name].port, path, n)

    def outage_lines(self, name, text=OUTAGE):
        return [line for line in self.gateways[name].output().splitlines() if text in line]

    def test_exactly_count_pass_across_two_gateways_hammered_concurrently(self):
        results = []
        errors = []
        lock = threading.Lock()

        def client(name):
            try:
                got = self.statuses(name, "/r/exact", 100)
                with lock:
                    results.extend(got)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=client, args=(name,)) for name in "abab" * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        self.assertFalse(errors, errors)
        counts = count_statuses(results)
        log = "\n".join(self.outage_lines("a") + self.outage_lines("b"))
        self.assertEqual(counts, {200: 200, 429: 600}, "outages logged:\n" + log)
        self.assertEqual(log, "", "Redis answered throughout")
        # The third gateway sees the same count: the window is used up for everyone.
        self.assertEqual(self.statuses("c", "/r/exact", 1), [429])

    def test_redis_down_then_back(self):
        # Shared while Redis is up: four in total across A and B.
        self.assertEqual(self.statuses("a", "/r/resumed", 2) + self.statuses("b", "/r/resumed", 3),
                         [200, 200, 200, 200, 429])
        # Killed (SIGKILL): no goodbye, the kernel closes the connections.
        self.redis.process.signal(signal.SIGKILL)
        self.redis.process.wait(timeout=10)
        self.redis.stop()
        for name in "abc":
            self.gateways[name].wait_log(lambda line: OUTAGE in line, timeout=15,
                                         what=f"gateway {name} logging the outage")
        # local: still limited, by each gateway's own counters (Five: five each).
        self.assertEqual(self.statuses("a", "/r/fallback", 7), [200] * 5 + [429] * 2)
        self.assertEqual(self.statuses("b", "/r/fallback", 7), [200] * 5 + [429] * 2)
        # deny: 503 for every limited request; an unlimited resource is not affected.
        status, headers, body = self.gateways["c"].request("GET", "/r/deny")
        self.assertEqual(status, 503, body)
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(fault_of(body)["code"], 503)
        self.assertEqual(self.gateways["c"].request("GET", "/r/free")[0], 200)
        # Reconnection attempts go on (one a second) without logging the outage again.
        time.sleep(2.5)
        for name in "abc":
            self.assertEqual(len(self.outage_lines(name)), 1, self.gateways[name].output())
        # Redis comes back on the same port: every gateway reconnects by itself.
        self.redis.start()
        self.wait_connected(timeout=20)
        for name in "abc":
            self.gateways[name].wait_log(lambda line: BACK in line, timeout=15,
                                         what=f"gateway {name} logging the recovery")
        self.assertEqual(self.gateways["c"].request("GET", "/r/deny")[0], 200)
        # Sharing resumed: Four in total across A and B again (Redis came back empty).
        got = []
        for i in range(8):
            got += self.statuses("ab"[i % 2], "/r/resumed", 1)
        self.assertEqual(count_statuses(got), {200: 4, 429: 4}, got)

    def test_a_stalled_redis_is_an_outage_and_the_next_outage_is_logged_too(self):
        self.assertEqual(self.statuses("a", "/r/stall", 1), [200])
        self.redis.pause()  # SIGSTOP: the connections stay open, nothing answers
        try:
            started = time.monotonic()
            self.assertEqual(self.statuses("a", "/r/stall", 1), [200], "decided locally")
            self.assertLess(time.monotonic() - started, 5, "a stalled Redis delays boundedly")
            self.assertEqual(self.statuses("c", "/r/deny", 1), [503])
        finally:
            self.redis.resume()
        self.assertEqual(len(self.outage_lines("a")), 1, self.gateways["a"].output())
        # Redis answers again: the outage is over, and the gateway says so.
        mgwtest.wait_until(lambda: self.statuses("a", "/r/stall", 1) and self.outage_lines("a", BACK),
                           timeout=10, what="gateway a logging the recovery")
        mgwtest.wait_until(lambda: self.statuses("c", "/r/deny", 1) == [200], timeout=10,
                           what="the deny gateway passing again")
        # A second outage is a new one: logged again.
        self.redis.stop()
        mgwtest.wait_until(lambda: len(self.outage_lines("a")) == 2, timeout=15,
                           what="the second outage logged")


if __name__ == "__main__":
    unittest.main()
