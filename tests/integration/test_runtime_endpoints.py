"""Endpoint groups (contract 3, 5.1, 8): load_balance, failover, timeouts, unreachable
backends, retries, the circuit breaker and backend Basic auth, through the real gateway."""
import base64
import json
import socket
import time
import unittest

import mgwtest
from mgwtest import header_values, openapi


def dead_url(path=""):
    """A URL on a loopback port nobody listens on (it was free a moment ago)."""
    return f"http://127.0.0.1:{mgwtest.free_port()}{path}"


class EndpointsTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def setUpClass(cls):
        cls.other = mgwtest.Backend("b2")
        cls.addClassCleanup(cls.other.stop)
        # A TLS backend that never answers: the kernel completes the TCP handshake from the
        # listen backlog, and nothing ever speaks TLS on it.
        cls.silent = socket.socket()
        cls.silent.bind(("127.0.0.1", 0))
        cls.silent.listen(16)
        cls.addClassCleanup(cls.silent.close)
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.other.reset()

    @classmethod
    def definitions(cls, backend):
        b1, b2 = backend, cls.other
        any_path = {"/*": list(mgwtest.ANY_METHODS)}
        apis = {
            "lb": openapi("LB", "/lb", any_path,
                          production={"urls": [b1.url(), b2.url()], "type": "load_balance"}),
            "lbdead": openapi("LBDead", "/lbdead", any_path,
                              production={"urls": [dead_url(), b1.url(), dead_url(), b2.url()],
                                          "type": "load_balance"}),
            "fo": openapi("FO", "/fo", any_path,
                          production={"urls": [b1.url(), b2.url()], "type": "failover"}),
            "fodead": openapi("FODead", "/fodead", any_path,
                              production={"urls": [dead_url(), dead_url(), b2.url()],
                                          "type": "failover"}),
            "dead": openapi("Dead", "/dead", any_path, production=dead_url()),
            "slow": openapi("Slow", "/slow", any_path, production={
                "urls": [b1.url()], "advanceEndpointConfig": {"timeoutInMillis": 300}}),
            "silenttls": openapi("SilentTls", "/silenttls", any_path, production={
                "urls": ["https://127.0.0.1:%d" % cls.silent.getsockname()[1]],
                "advanceEndpointConfig": {"timeoutInMillis": 300}}),
            "retry": openapi("Retry", "/retry", any_path, production={
                "urls": [b1.url()],
                "advanceEndpointConfig": {"retryConfig": {"count": 2, "statusCodes": [503]}}}),
            "breaker": openapi("Breaker", "/breaker", any_path, production={
                "urls": [b2.url()],
                "advanceEndpointConfig": {"circuitBreaker": {
                    "rollingWindow": {"requestVolumeThreshold": 2, "timeWindowInMillis": 60000},
                    "failureThreshold": 0.5, "resetTimeInMillis": 1500, "statusCodes": [500]}}}),
            # By name: resolved off the event loop (on the blocking pool), completing on it.
            "byname": openapi("ByName", "/byname", any_path,
                              production=b1.url().replace("127.0.0.1", "localhost")),
            "auth": openapi("BackendAuth", "/auth", any_path, production={
                "urls": [b1.url()],
                "securityConfig": {"type": "basic", "username": "svc", "password": "p@ss:wörd"}}),
        }
        return {name + ".json": text for name, text in apis.items()}

    def get(self, path, method="GET", body=None, headers=None):
        return self.request(method, path, body=body, headers=headers, timeout=30)

    # --- load_balance ------------------------------------------------------------------------

    def test_load_balance_alternates(self):
        names = []
        for i in range(10):
            status, _, body = self.get(f"/lb/r{i}")
            self.assertEqual(status, 200, body)
            names.append(json.loads(body)["backend"])
        self.assertEqual(names.count("backend"), 5, names)
        self.assertEqual(names.count("b2"), 5, names)
        self.assertTrue(all(a != b for a, b in zip(names, names[1:])), names)

    def test_load_balance_skips_dead_urls(self):
        names = []
        for i in range(8):
            status, _, body = self.get(f"/lbdead/r{i}")
            self.assertEqual(status, 200, body)  # never a 502: a refused connection moves on
            names.append(json.loads(body)["backend"])
        self.assertEqual(set(names), {"backend", "b2"}, names)

    # --- failover ----------------------------------------------------------------------------

    def test_failover_uses_the_first_url_that_answers(self):
        for i in range(4):
            status, _, body = self.get(f"/fo/r{i}")
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["backend"], "backend")
        self.assertEqual(self.other.request_count(), 0)

    def test_failover_skips_dead_urls(self):
        for i in range(3):
            status, _, body = self.get(f"/fodead/r{i}")
            self.assertEqual(status, 200, body)  # the first request too
            self.assertEqual(json.loads(body)["backend"], "b2")

    def test_a_backend_named_by_host_name_is_resolved(self):
        for i in range(3):  # a new connection, then pooled ones
            status, _, body = self.get(f"/byname/r{i}")
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["backend"], "backend")

    # --- faults ------------------------------------------------------------------------------

    def test_dead_backend_is_502(self):
        status, headers, body = self.get("/dead/x")
        self.assertEqual(status, 502)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertFault(status, body, 101503, "Runtime Error")

    def test_dead_backend_with_a_request_body_is_502(self):
        status, _, body = self.get("/dead/x", method="POST", body=b"x" * 1000)
        self.assertEqual(status, 502)
        self.assertFault(status, body, 101503)

    def test_timeout_is_504(self):
        started = time.monotonic()
        status, headers, body = self.get("/slow/x", headers={"X-Backend-Delay-Ms": "4000"})
        elapsed = time.monotonic() - started
        self.assertEqual(status, 504, body)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertFault(status, body, 101504, "Runtime Error")
        self.assertLess(elapsed, 3.5)  # 300 ms configured; the backend would take 4 s

    def test_tls_handshake_that_never_finishes_is_504(self):
        # The endpoint timeout covers the connect and the TLS handshake together.
        started = time.monotonic()
        status, _, body = self.get("/silenttls/x")
        elapsed = time.monotonic() - started
        self.assertEqual(status, 504, body)
        self.assertFault(status, body, 101504, "Runtime Error")
        self.assertLess(elapsed, 5)  # 300 ms configured; without a deadline it would hang

    def test_backend_closing_without_answer_is_502(self):
        status, _, body = self.get("/fo/x", headers={"X-Backend-Close": "1"})
        self.assertEqual(status, 502, body)
        self.assertFault(status, body, 101503)

    # --- retries -----------------------------------------------------------------------------

    def test_retries_turn_503s_into_a_200_for_get(self):
        self.backend.script.extend([{"status": 503}, {"status": 503}])
        status, _, body = self.get("/retry/x")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.backend.request_count(), 3)

    def test_retries_stop_after_count(self):
        self.backend.script.extend([{"status": 503}] * 4)
        status, _, _ = self.get("/retry/x")
        self.assertEqual(status, 503)
        self.assertEqual(self.backend.request_count(), 3)  # 1 + count 2

    def test_no_retry_for_post(self):
        self.backend.script.extend([{"status": 503}, {"status": 503}])
        status, _, _ = self.get("/retry/x", method="POST", body=b"order")
        self.assertEqual(status, 503)
        self.assertEqual(self.backend.request_count(), 1)

    def test_no_retry_for_other_status_codes(self):
        self.backend.script.extend([{"status": 500}])
        status, _, _ = self.get("/retry/x")
        self.assertEqual(status, 500)
        self.assertEqual(self.backend.request_count(), 1)

    # --- circuit breaker ---------------------------------------------------------------------

    def test_circuit_breaker_opens_and_closes(self):
        self.other.script.extend([{"status": 500}, {"status": 500}])
        self.assertEqual(self.get("/breaker/x")[0], 500)
        self.assertEqual(self.get("/breaker/x")[0], 500)
        self.assertEqual(self.other.request_count(), 2)
        # Open: answered by the gateway, the backend is not contacted.
        status, _, body = self.get("/breaker/x")
        self.assertEqual(status, 502, body)
        self.assertFault(status, body, 101503)
        self.assertEqual(self.other.request_count(), 2)
        # After resetTimeInMillis (1.5 s) a trial request passes and closes the circuit.
        mgwtest.wait_until(lambda: self.get("/breaker/x")[0] == 200, timeout=15, interval=0.25,
                           what="the circuit to close")
        count = self.other.request_count()
        for _ in range(3):
            self.assertEqual(self.get("/breaker/x")[0], 200)
        self.assertEqual(self.other.request_count(), count + 3)

    # --- backend credentials -----------------------------------------------------------------

    def test_backend_basic_auth(self):
        status, _, body = self.get("/auth/x")
        self.assertEqual(status, 200)
        seen = json.loads(body)
        expected = "Basic " + base64.b64encode("svc:p@ss:wörd".encode()).decode()
        self.assertEqual(header_values(seen["headers"], "Authorization"), [expected])

    def test_backend_basic_auth_replaces_the_clients(self):
        status, _, body = self.get("/auth/x", headers={"Authorization": "Basic Y2xpZW50OnNlY3JldA=="})
        seen = json.loads(body)
        self.assertEqual(len(header_values(seen["headers"], "Authorization")), 1)
        self.assertNotIn("Y2xpZW50", header_values(seen["headers"], "Authorization")[0])


if __name__ == "__main__":
    unittest.main()
