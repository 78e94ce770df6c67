"""Proxying (contract 7, 8): header handling, correlation ids, bodies in both directions with
Content-Length and chunked framing, Expect: 100-continue, keep-alive and pipelining downstream,
pooled upstream connections, and the access log."""
import json
import re
import time
import unittest
import uuid
import zlib

import mgwtest
from mgwtest import header_values, openapi

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class ProxyTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def definitions(cls, backend):
        return {"echo.json": openapi("Echo", "/echo", {"/*": list(mgwtest.ANY_METHODS)},
                                     production=backend.url("/up"))}

    def echo(self, method="GET", path="/echo/x", body=None, headers=None):
        status, response_headers, data = self.request(method, path, body=body, headers=headers)
        self.assertEqual(status, 200, data)
        return json.loads(data), response_headers

    # --- headers ---------------------------------------------------------------------------

    def test_hop_by_hop_request_headers_are_removed(self):
        seen, _ = self.echo(headers={
            "Connection": "keep-alive, X-Drop-Me, x-drop-too", "X-Drop-Me": "1", "X-Drop-Too": "2",
            "Keep-Alive": "timeout=5", "TE": "trailers", "Trailer": "X-T",
            "Proxy-Authorization": "Basic Zm9vOmJhcg==", "Proxy-Connection": "keep-alive",
            "X-Keep": "kept"})
        names = {k.lower() for k, _ in seen["headers"]}
        for hop in ("connection", "x-drop-me", "x-drop-too", "keep-alive", "te", "trailer",
                    "proxy-authorization", "proxy-connection"):
            self.assertNotIn(hop, names, seen["headers"])
        self.assertEqual(header_values(seen["headers"], "X-Keep"), ["kept"])

    def test_hop_by_hop_response_headers_are_removed(self):
        extra = [["Connection", "X-Resp-Hop"], ["X-Resp-Hop", "1"], ["Keep-Alive", "timeout=5"],
                 ["Proxy-Authenticate", "Basic"], ["Upgrade", "h2c"], ["X-Resp-Keep", "yes"]]
        _, headers = self.echo(headers={"X-Backend-Response-Headers": json.dumps(extra)})
        for hop in ("x-resp-hop", "keep-alive", "proxy-authenticate", "upgrade"):
            self.assertNotIn(hop, headers)
        self.assertNotIn("x-resp-hop", headers.get("connection", "").lower())
        self.assertEqual(headers.get("x-resp-keep"), "yes")

    def test_x_forwarded_headers_and_host(self):
        seen, _ = self.echo(headers={"Host": "api.example:8443"})
        h = seen["headers"]
        self.assertEqual(header_values(h, "X-Forwarded-For"), ["127.0.0.1"])
        self.assertEqual(header_values(h, "X-Forwarded-Proto"), ["http"])
        self.assertEqual(header_values(h, "X-Forwarded-Host"), ["api.example:8443"])
        self.assertEqual(header_values(h, "Host"), [f"127.0.0.1:{self.backend.port}"])

    def test_x_forwarded_for_is_appended_to(self):
        seen, _ = self.echo(headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.2"})
        self.assertEqual(header_values(seen["headers"], "X-Forwarded-For"),
                         ["203.0.113.9, 198.51.100.2, 127.0.0.1"])

    def test_client_forwarded_proto_and_host_are_replaced(self):
        seen, _ = self.echo(headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "spoofed"})
        self.assertEqual(header_values(seen["headers"], "X-Forwarded-Proto"), ["http"])
        self.assertNotIn("spoofed", header_values(seen["headers"], "X-Forwarded-Host"))

    def test_end_to_end_headers_pass_both_ways(self):
        seen, headers = self.echo(headers={"X-Custom": "a b  c", "Accept": "text/x-test",
                                           "X-Backend-Response-Headers": json.dumps(
                                               [["X-Resp", "v1"], ["Cache-Control", "no-store"]])})
        self.assertEqual(header_values(seen["headers"], "X-Custom"), ["a b  c"])
        self.assertEqual(header_values(seen["headers"], "Accept"), ["text/x-test"])
        self.assertEqual(headers.get("x-resp"), "v1")
        self.assertEqual(headers.get("cache-control"), "no-store")

    # --- correlation id ----------------------------------------------------------------------

    def test_correlation_id_is_generated_and_returned(self):
        seen, headers = self.echo()
        sent = header_values(seen["headers"], "X-Correlation-ID")
        self.assertEqual(len(sent), 1)
        self.assertRegex(sent[0], UUID_RE)
        self.assertEqual(headers.get("x-correlation-id"), sent[0])
        other, _ = self.echo()
        self.assertNotEqual(header_values(other["headers"], "X-Correlation-ID"), sent)

    def test_client_correlation_id_is_kept(self):
        seen, headers = self.echo(headers={"X-Correlation-ID": "client-id-42"})
        self.assertEqual(header_values(seen["headers"], "X-Correlation-ID"), ["client-id-42"])
        self.assertEqual(headers.get("x-correlation-id"), "client-id-42")

    def test_backend_correlation_id_does_not_replace_ours(self):
        extra = [["X-Correlation-ID", "from-backend"]]
        _, headers = self.echo(headers={"X-Correlation-ID": "mine",
                                        "X-Backend-Response-Headers": json.dumps(extra)})
        self.assertEqual(headers.get("x-correlation-id"), "mine")

    def test_gateway_faults_carry_the_correlation_id(self):
        status, headers, _ = self.request("GET", "/nowhere", headers={"X-Correlation-ID": "f-1"})
        self.assertEqual(status, 404)
        self.assertEqual(headers.get("x-correlation-id"), "f-1")

    # --- bodies ------------------------------------------------------------------------------

    def test_request_body_with_content_length(self):
        body = bytes(range(256)) * 400
        seen, _ = self.echo("POST", body=body)
        self.assertEqual(seen["body_bytes"], len(body))
        self.assertEqual(seen["body_crc32"], zlib.crc32(body))
        self.assertEqual(header_values(seen["headers"], "Content-Length"), [str(len(body))])
        self.assertEqual(header_values(seen["headers"], "Transfer-Encoding"), [])

    def test_request_body_chunked(self):
        pieces = [b"a" * 10, b"b" * 70000, b"c"]
        connection = self.raw()
        connection.send(b"POST /echo/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        b"".join(mgwtest.chunk_encode(pieces)))
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        seen = response.json()
        whole = b"".join(pieces)
        self.assertEqual((seen["body_bytes"], seen["body_crc32"]), (len(whole), zlib.crc32(whole)))
        self.assertEqual(header_values(seen["headers"], "Transfer-Encoding"), ["chunked"])
        self.assertEqual(header_values(seen["headers"], "Content-Length"), [])

    def test_chunked_request_with_extensions_and_trailer(self):
        connection = self.raw()
        connection.send(b"PUT /echo/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5;name=value\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
                        b"GET /echo/after HTTP/1.1\r\nHost: x\r\n\r\n")
        first = connection.read_response()
        self.assertEqual(first.status, 200)
        self.assertEqual(first.json()["body"], "hello")
        second = connection.read_response()
        self.assertEqual(second.json()["target"], "/up/after")

    def test_empty_post_gets_content_length_zero(self):
        seen, _ = self.echo("POST", body=b"")
        self.assertEqual(seen["body_bytes"], 0)
        self.assertEqual(header_values(seen["headers"], "Content-Length"), ["0"])

    def test_response_body_with_content_length(self):
        connection = self.raw()
        connection.send(b"GET /echo/s HTTP/1.1\r\nHost: x\r\nX-Backend-Stream: 300000\r\n\r\n")
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("Content-Length"), "300000")
        self.assertIsNone(response.header("Transfer-Encoding"))
        self.assertEqual(zlib.crc32(response.body), mgwtest.pattern_crc32(300000))

    def test_response_body_chunked(self):
        connection = self.raw()
        connection.send(b"GET /echo/s HTTP/1.1\r\nHost: x\r\nX-Backend-Stream: 300001\r\n"
                        b"X-Backend-Chunked: 1\r\n\r\n")
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("Transfer-Encoding"), "chunked")
        self.assertEqual(len(response.body), 300001)
        self.assertEqual(zlib.crc32(response.body), mgwtest.pattern_crc32(300001))
        # The connection is still usable: the chunked framing ended cleanly.
        connection.send(b"GET /echo/next HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(connection.read_response().json()["target"], "/up/next")

    def test_chunked_response_to_an_http10_client_is_close_delimited(self):
        connection = self.raw()
        connection.send(b"GET /echo/s HTTP/1.0\r\nX-Backend-Stream: 1000\r\nX-Backend-Chunked: 1\r\n\r\n")
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        self.assertIsNone(response.header("Transfer-Encoding"))
        self.assertEqual(len(response.body), 1000)  # read until the gateway closed

    def test_backend_status_and_reason_pass_through(self):
        for status in (201, 204, 302, 401, 403, 418, 500, 503, 599):
            with self.subTest(status=status):
                got, _, data = self.request("GET", "/echo/s", headers={"X-Backend-Status": str(status)})
                self.assertEqual(got, status)
                if status == 204:
                    self.assertEqual(data, b"")

    # --- Expect: 100-continue ------------------------------------------------------------------

    def test_expect_100_continue(self):
        connection = self.raw()
        connection.send(b"POST /echo/e HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
                        b"Expect: 100-continue\r\n\r\n")
        interim = connection.read_response()
        self.assertEqual(interim.status, 100)
        connection.send(b"hello world")
        final = connection.read_response()
        self.assertEqual(final.status, 200)
        seen = final.json()
        self.assertEqual(seen["body"], "hello world")
        self.assertEqual(header_values(seen["headers"], "Expect"), [])

    def test_expect_100_continue_refused_locally_gets_no_100(self):
        connection = self.raw()
        connection.send(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
                        b"Expect: 100-continue\r\n\r\n")
        response = connection.read_response()
        self.assertEqual(response.status, 404)

    # --- keep-alive, pipelining, pooling -------------------------------------------------------

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        connection = self.raw()
        for i in range(5):
            connection.send(b"GET /echo/k%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            response = connection.read_response()
            self.assertEqual(response.json()["target"], "/up/k%d" % i)

    def test_pipelined_requests_are_answered_in_order(self):
        connection = self.raw()
        connection.send(b"GET /echo/p1 HTTP/1.1\r\nHost: x\r\nX-Backend-Delay-Ms: 200\r\n\r\n"
                        b"POST /echo/p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                        b"PUT /echo/p3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"2\r\nde\r\n0\r\n\r\n"
                        b"HEAD /echo/p4 HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /echo/p5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = [connection.read_response(head=(i == 3)) for i in range(5)]
        self.assertEqual([a.status for a in answers], [200] * 5)
        self.assertEqual(answers[0].json()["target"], "/up/p1")
        self.assertEqual(answers[1].json()["body"], "abc")
        self.assertEqual(answers[2].json()["body"], "de")
        self.assertEqual(answers[2].json()["method"], "PUT")
        self.assertEqual(answers[4].json()["target"], "/up/p5")
        self.assertTrue(connection.closed(timeout=5))
        self.assertEqual([r["path"] for r in self.backend.requests],
                         ["/up/p1", "/up/p2", "/up/p3", "/up/p4", "/up/p5"])

    def test_upstream_connections_are_reused(self):
        count = 20
        for i in range(count):
            status, _, _ = self.request("GET", f"/echo/pool{i}")  # a new client connection each
            self.assertEqual(status, 200)
        # Two workers, each with its own pool: a few connections at most, far fewer than requests.
        self.assertLessEqual(self.backend.connections, 4, self.backend.connections)
        self.assertEqual(self.backend.request_count(), count)

    def test_pooled_connection_closed_by_the_backend_is_not_an_error(self):
        self.assertEqual(self.request("GET", "/echo/a")[0], 200)
        # The backend closes its side after this answer; the next request must not fail.
        extra = [["Connection", "close"]]
        self.assertEqual(self.request("GET", "/echo/b", headers={
            "X-Backend-Response-Headers": json.dumps(extra)})[0], 200)
        for i in range(6):
            self.assertEqual(self.request("GET", f"/echo/c{i}")[0], 200)


class AccessLogTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def definitions(cls, backend):
        return {"echo.json": openapi("Echo", "/echo", {"/items": ["get", "post"]},
                                     production=backend.url())}

    LINE = re.compile(r'^(?P<time>\S+) (?P<peer>\S+) "(?P<method>\S+) (?P<path>\S+)" (?P<status>\d{3}) '
                      r'(?P<bytes>\d+) (?P<latency>\d+(\.\d+)?)ms (?P<cid>\S+) api=(?P<api>\S+)')

    def log_lines(self, cid):
        return [line for line in self.gateway.output().splitlines() if cid in line]

    def logged(self, cid, count=1):
        mgwtest.wait_until(lambda: len(self.log_lines(cid)) >= count, timeout=10,
                           what=f"access-log line for {cid}")
        time.sleep(0.3)  # a duplicate line would show up in the next flush
        lines = self.log_lines(cid)
        self.assertEqual(len(lines), count, lines)
        match = self.LINE.match(lines[0])
        self.assertIsNotNone(match, lines[0])
        return match

    def test_one_line_per_proxied_request(self):
        cid = "log-" + uuid.uuid4().hex
        status, _, body = self.request("GET", "/echo/items?token=secret-value&x=1",
                                       headers={"X-Correlation-ID": cid})
        self.assertEqual(status, 200)
        line = self.logged(cid)
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["path"], "/echo/items")
        self.assertEqual(line["status"], "200")
        self.assertEqual(int(line["bytes"]), len(body))
        self.assertEqual(line["api"], "Echo:1.0")
        self.assertEqual(line["peer"], "127.0.0.1")
        self.assertNotIn("secret-value", self.gateway.output())

    def test_generated_correlation_id_is_logged(self):
        status, headers, _ = self.request("POST", "/echo/items", body=b"x")
        cid = headers["x-correlation-id"]
        line = self.logged(cid)
        self.assertEqual((line["method"], line["status"]), ("POST", "200"))

    def test_local_faults_are_logged(self):
        cid = "log-" + uuid.uuid4().hex
        self.request("DELETE", "/echo/items", headers={"X-Correlation-ID": cid})
        line = self.logged(cid)
        self.assertEqual((line["method"], line["path"], line["status"]), ("DELETE", "/echo/items", "405"))
        cid = "log-" + uuid.uuid4().hex
        self.request("GET", "/unknown", headers={"X-Correlation-ID": cid})
        self.assertEqual(self.logged(cid)["status"], "404")

    def test_each_request_of_a_keep_alive_connection_is_logged(self):
        cid = "log-" + uuid.uuid4().hex
        connection = self.raw()
        for i in range(3):
            connection.send(b"GET /echo/items HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: %s-%d\r\n\r\n"
                            % (cid.encode(), i))
            self.assertEqual(connection.read_response().status, 200)
        for i in range(3):
            self.logged(f"{cid}-{i}")


if __name__ == "__main__":
    unittest.main()
