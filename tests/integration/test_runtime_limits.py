"""Server limits (contract 4, 5.1): max_uri_bytes -> 414, max_header_bytes -> 431,
max_body_bytes -> 413 (Content-Length and chunked), idle_timeout_ms closes idle connections."""
import time
import unittest

import mgwtest
from mgwtest import openapi

URI_LIMIT = 256
HEADER_LIMIT = 1024
BODY_LIMIT = 1000
IDLE_MS = 700


class LimitsTest(mgwtest.SharedGatewayTestCase):
    flags = (f"--server.max_uri_bytes={URI_LIMIT}", f"--server.max_header_bytes={HEADER_LIMIT}",
             f"--server.max_body_bytes={BODY_LIMIT}", f"--server.idle_timeout_ms={IDLE_MS}")

    @classmethod
    def definitions(cls, backend):
        return {"echo.json": openapi("Echo", "/echo", {"/*": list(mgwtest.ANY_METHODS)},
                                     production=backend.url())}

    def assertLimit(self, raw, status):
        connection = self.raw()
        connection.send(raw)
        response = connection.read_response()
        self.assertIsNotNone(response, "closed without an answer")
        self.assertEqual(response.status, status, response.body)
        self.assertEqual(response.header("Content-Type"), "application/json")
        self.assertEqual(response.json()["fault"]["code"], status)
        self.assertTrue(connection.closed(timeout=5))
        return response

    # --- URI ----------------------------------------------------------------------------------

    def test_uri_at_the_limit_is_served(self):
        target = "/echo/" + "a" * (URI_LIMIT - len("/echo/"))
        self.assertEqual(len(target), URI_LIMIT)
        status, _, _ = self.request("GET", target)
        self.assertEqual(status, 200)

    def test_uri_too_long_is_414(self):
        target = "/echo/" + "a" * (URI_LIMIT - len("/echo/") + 1)
        self.assertLimit(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target.encode(), 414)
        self.assertEqual(self.backend.requests_to("/aaa"), [])

    def test_query_counts_toward_the_uri(self):
        self.assertLimit(b"GET /echo/q?" + b"x" * URI_LIMIT + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)

    def test_huge_uri_is_414(self):
        self.assertLimit(b"GET /echo/" + b"a" * 50000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)

    # --- headers ------------------------------------------------------------------------------

    def test_headers_under_the_limit_are_served(self):
        status, _, _ = self.request("GET", "/echo/h", headers={"X-Big": "v" * (HEADER_LIMIT // 2)})
        self.assertEqual(status, 200)

    def test_one_large_header_is_431(self):
        self.assertLimit(b"GET /echo/h HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * (HEADER_LIMIT + 1) +
                         b"\r\n\r\n", 431)

    def test_many_headers_adding_up_are_431(self):
        fields = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(HEADER_LIMIT // 40))
        self.assertLimit(b"GET /echo/h HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n", 431)

    def test_huge_header_section_is_431(self):
        self.assertLimit(b"GET /echo/h HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 100000 + b"\r\n\r\n", 431)

    def test_huge_header_section_with_a_short_uri_is_not_414(self):
        # The parser's own limit (URI + headers) is reached inside the headers: 431, not 414.
        fields = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(200))
        self.assertLimit(b"GET /echo/h HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n", 431)

    # --- body ---------------------------------------------------------------------------------

    def test_body_at_the_limit_is_served(self):
        status, _, body = self.request("POST", "/echo/b", body=b"x" * BODY_LIMIT)
        self.assertEqual(status, 200)
        self.assertEqual(mgwtest.json_body(body)["body_bytes"], BODY_LIMIT)

    def test_content_length_over_the_limit_is_413(self):
        self.assertLimit(b"POST /echo/b413 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                         % (BODY_LIMIT + 1) + b"x" * (BODY_LIMIT + 1), 413)
        self.backend.wait_quiet()
        self.assertEqual(self.backend.requests_to("/b413"), [])  # refused before any forwarding

    def test_huge_content_length_is_413_without_reading_the_body(self):
        self.assertLimit(b"POST /echo/b413 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n", 413)

    def test_chunked_body_under_the_limit_is_served(self):
        connection = self.raw()
        connection.send(b"POST /echo/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        b"".join(mgwtest.chunk_encode([b"a" * 500, b"b" * 500])))
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.json()["body_bytes"], 1000)

    def test_chunked_body_over_the_limit_is_413(self):
        connection = self.raw()
        connection.send(b"POST /echo/c413 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        b"".join(mgwtest.chunk_encode([b"a" * 600, b"b" * 600])))
        response = connection.read_response()
        self.assertIsNotNone(response, "closed without an answer")
        self.assertEqual(response.status, 413, response.body)
        self.assertEqual(response.json()["fault"]["code"], 413)
        self.assertTrue(connection.closed(timeout=5))
        self.backend.wait_quiet()
        # The header went upstream before the body was known to be too large; the backend
        # never got a complete request.
        self.assertFalse([r for r in self.backend.requests_to("/c413") if r["complete"]])

    def test_chunked_body_over_the_limit_to_a_local_answer_is_not_served_twice(self):
        connection = self.raw()
        connection.send(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        b"".join(mgwtest.chunk_encode([b"a" * 600, b"b" * 600])) +
                        b"GET /echo/after HTTP/1.1\r\nHost: x\r\n\r\n")
        response = connection.read_response()
        self.assertIn(response.status, (404, 413))
        self.assertTrue(connection.closed(timeout=5))
        self.assertEqual(self.backend.requests_to("/after"), [])

    # --- idle timeout -------------------------------------------------------------------------

    def test_idle_connection_is_closed(self):
        connection = self.raw(timeout=15)
        started = time.monotonic()
        self.assertTrue(connection.closed(timeout=10))
        self.assertGreater(time.monotonic() - started, IDLE_MS / 1000 * 0.5)

    def test_idle_keep_alive_connection_is_closed_after_a_request(self):
        connection = self.raw(timeout=15)
        connection.send(b"GET /echo/k HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(connection.read_response().status, 200)
        self.assertTrue(connection.closed(timeout=10))

    def test_incomplete_request_header_is_cut_off(self):
        connection = self.raw(timeout=15)
        connection.send(b"GET /echo/slow HTTP/1.1\r\nHost: x\r\n")  # never finished
        self.assertTrue(connection.closed(timeout=10))
        self.assertEqual(self.backend.requests_to("/slow"), [])

    def test_active_connection_is_kept(self):
        connection = self.raw(timeout=15)
        for i in range(4):  # each request well within the idle timeout of the previous
            connection.send(b"GET /echo/a%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            self.assertEqual(connection.read_response().status, 200)
            time.sleep(IDLE_MS / 1000 / 4)


if __name__ == "__main__":
    unittest.main()
