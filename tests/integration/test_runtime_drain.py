"""Graceful shutdown (contract 4, 7): on SIGTERM or SIGINT /ready answers 503, the listeners
close, an in-flight request completes, idle keep-alive connections do not hold the exit, and
the gateway exits 0; past drain_timeout_ms it exits anyway."""
import json
import signal
import socket
import threading
import time
import unittest

import mgwtest
from mgwtest import openapi


class DrainTest(mgwtest.TempDirTestCase):

    def start(self, *flags):
        self.backend = mgwtest.start_backend(self)
        definitions = {"echo.json": openapi("Echo", "/echo", {"/*": list(mgwtest.ANY_METHODS)},
                                            production=self.backend.url())}
        self.gateway = mgwtest.Gateway(self.tmp, definitions).build()
        self.gateway.start(*flags)
        self.addCleanup(self.gateway.stop)

    def slow_request_in_background(self, delay_ms):
        result = {}

        def run():
            try:
                result["answer"] = self.gateway.request(
                    "GET", "/echo/slow", headers={"X-Backend-Delay-Ms": str(delay_ms)}, timeout=30)
            except Exception as e:  # noqa: BLE001 - reported by the test
                result["error"] = e

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        mgwtest.wait_until(lambda: self.backend.requests_to("/slow"), timeout=10,
                           what="the slow request to reach the backend")
        return thread, result

    def refuses_connections(self):
        try:
            with socket.create_connection(("127.0.0.1", self.gateway.port), timeout=2) as s:
                s.sendall(b"GET /echo/late HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(2)
                return s.recv(1) == b""  # accepted by a closing listener: closed unanswered
        except OSError:
            return True

    def drain(self, sig):
        self.start()
        idle = mgwtest.RawConnection(self.gateway.port, timeout=30)
        self.addCleanup(idle.close)
        idle.send(b"GET /echo/idle HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(idle.read_response().status, 200)  # now idle, kept alive

        thread, result = self.slow_request_in_background(3000)
        self.gateway.process.signal(sig)
        mgwtest.wait_until(lambda: self.gateway.ready_status() == 503, timeout=5, interval=0.02,
                           what="/ready to answer 503 while draining")
        self.assertTrue(thread.is_alive(), "the slow request ended before the drain was seen")
        mgwtest.wait_until(self.refuses_connections, timeout=5, what="the listeners to close")
        self.assertTrue(idle.closed(timeout=5), "an idle keep-alive connection was left open")

        thread.join(timeout=20)
        self.assertNotIn("error", result)
        status, headers, body = result["answer"]
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["target"], "/slow")
        self.assertEqual(headers.get("connection", "").lower(), "close")
        finished = time.monotonic()
        self.assertEqual(self.gateway.process.wait(timeout=15), 0, self.gateway.output())
        self.assertLess(time.monotonic() - finished, 10)  # not held by the idle connection
        self.assertEqual(self.backend.requests_to("/late"), [])

    def test_sigterm_drains(self):
        self.drain(signal.SIGTERM)

    def test_sigint_drains(self):
        self.drain(signal.SIGINT)

    def test_idle_connections_alone_do_not_delay_the_exit(self):
        self.start()
        connections = []
        for _ in range(5):
            connection = mgwtest.RawConnection(self.gateway.port, timeout=30)
            self.addCleanup(connection.close)
            connection.send(b"GET /echo/i HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(connection.read_response().status, 200)
            connections.append(connection)
        silent = mgwtest.RawConnection(self.gateway.port, timeout=30)  # never sent a byte
        self.addCleanup(silent.close)
        time.sleep(0.2)
        started = time.monotonic()
        self.gateway.process.signal(signal.SIGTERM)
        self.assertEqual(self.gateway.process.wait(timeout=15), 0)
        self.assertLess(time.monotonic() - started, 10)
        for connection in connections + [silent]:
            self.assertTrue(connection.closed(timeout=5))

    def test_drain_deadline(self):
        self.start("--server.drain_timeout_ms=500")
        thread, result = self.slow_request_in_background(6000)
        started = time.monotonic()
        self.gateway.process.signal(signal.SIGTERM)
        code = self.gateway.process.wait(timeout=20)
        self.assertLess(time.monotonic() - started, 5)  # the backend would take 6 s
        self.assertEqual(code, 0)
        thread.join(timeout=20)
        # The client got no complete answer: the connection went away with the process.
        self.assertTrue("error" in result or result["answer"][0] != 200, result)


if __name__ == "__main__":
    unittest.main()
