"""Streaming (contract 8): a 1 GiB upload and a 1 GiB download pass through the gateway with its
memory (RSS) growing by less than 64 MiB. Neither the test nor its backend ever holds the bytes:
they are produced by a generator and checked by length and CRC-32 on the fly."""
import http.client
import json
import os
import sys
import threading
import time
import unittest
import zlib

import mgwtest
from mgwtest import openapi

GIB = 1 << 30
LIMIT_KIB = 64 * 1024


class MemoryWatch:
    """Samples the gateway's VmRSS while a transfer runs; the peak growth over the baseline is
    the larger of the sampled maximum and VmHWM (reset before the transfer where the kernel lets
    us: /proc/<pid>/clear_refs with 5)."""

    def __init__(self, pid):
        self.pid = pid
        self.baseline = mgwtest.process_memory_kib(pid)["VmRSS"]
        self.hwm_reset = False
        try:
            with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as f:
                f.write("5")
            self.hwm_reset = True
        except OSError:
            pass
        self.peak = self.baseline
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_event.wait(0.05):
            try:
                self.peak = max(self.peak, mgwtest.process_memory_kib(self.pid)["VmRSS"])
            except OSError:
                return

    def growth_kib(self):
        self.stop_event.set()
        self.thread.join(timeout=5)
        memory = mgwtest.process_memory_kib(self.pid)
        peak = max(self.peak, memory["VmHWM"] if self.hwm_reset else 0)
        print(f"\n  gateway VmRSS before {self.baseline} KiB, peak {peak} KiB, after "
              f"{memory['VmRSS']} KiB (VmHWM {'reset' if self.hwm_reset else 'not reset'})",
              file=sys.stderr)
        return peak - self.baseline


class StreamingTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def definitions(cls, backend):
        return {"bulk.json": openapi("Bulk", "/bulk", {"/*": ["get", "post", "put"]},
                                     production=backend.url())}

    def warm_up(self):
        for i in range(20):
            self.assertEqual(self.request("POST", f"/bulk/warm{i}", body=b"x" * 100000)[0], 200)
        time.sleep(0.2)

    def report(self, what, growth_kib, seconds):
        print(f"\n{what}: 1 GiB in {seconds:.1f} s, gateway RSS growth {growth_kib} KiB "
              f"(limit {LIMIT_KIB} KiB)", file=sys.stderr)

    def test_upload_1_gib_chunked(self):
        self.warm_up()
        watch = MemoryWatch(self.gateway.pid)
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=120)
        try:
            connection.request("POST", "/bulk/upload", body=mgwtest.pattern_stream(GIB, 1 << 20),
                               headers={"Transfer-Encoding": "chunked", "X-Backend-Sink": "1"},
                               encode_chunked=True)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        seconds = time.monotonic() - started
        growth = watch.growth_kib()
        self.report("upload", growth, seconds)
        self.assertEqual(response.status, 200, data[:300])
        seen = json.loads(data)
        self.assertEqual(seen["body_bytes"], GIB)
        self.assertEqual(seen["body_crc32"], mgwtest.pattern_crc32(GIB))
        self.assertEqual(mgwtest.header_values(seen["headers"], "Transfer-Encoding"), ["chunked"])
        self.assertLess(growth, LIMIT_KIB, f"RSS grew by {growth} KiB")

    def test_upload_1_gib_with_content_length(self):
        self.warm_up()
        watch = MemoryWatch(self.gateway.pid)
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=120)
        try:
            connection.putrequest("PUT", "/bulk/upload-cl")
            connection.putheader("Content-Length", str(GIB))
            connection.putheader("X-Backend-Sink", "1")
            connection.endheaders()
            for piece in mgwtest.pattern_stream(GIB, 1 << 20):
                connection.send(piece)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        seconds = time.monotonic() - started
        growth = watch.growth_kib()
        self.report("upload (Content-Length)", growth, seconds)
        self.assertEqual(response.status, 200, data[:300])
        seen = json.loads(data)
        self.assertEqual((seen["body_bytes"], seen["body_crc32"]), (GIB, mgwtest.pattern_crc32(GIB)))
        self.assertLess(growth, LIMIT_KIB, f"RSS grew by {growth} KiB")

    def test_download_1_gib(self):
        self.warm_up()
        watch = MemoryWatch(self.gateway.pid)
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=120)
        total = 0
        crc = 0
        try:
            connection.request("GET", "/bulk/download", headers={"X-Backend-Stream": str(GIB)})
            response = connection.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.getheader("Content-Length"), str(GIB))
            deadline = time.monotonic() + 600
            while total <= GIB and time.monotonic() < deadline:
                block = response.read(1 << 20)
                if not block:
                    break
                total += len(block)
                crc = zlib.crc32(block, crc)
        finally:
            connection.close()
        seconds = time.monotonic() - started
        growth = watch.growth_kib()
        self.report("download", growth, seconds)
        self.assertEqual(total, GIB)
        self.assertEqual(crc, mgwtest.pattern_crc32(GIB))
        self.assertLess(growth, LIMIT_KIB, f"RSS grew by {growth} KiB")

    def test_slow_reader_does_not_make_the_gateway_buffer(self):
        # The client reads nothing for a while: the gateway must stop reading from the backend
        # (back-pressure) rather than keep the body in memory.
        self.warm_up()
        watch = MemoryWatch(self.gateway.pid)
        connection = mgwtest.RawConnection(self.gateway.port, timeout=60)
        self.addCleanup(connection.close)
        size = 256 << 20
        connection.send(b"GET /bulk/slow HTTP/1.1\r\nHost: x\r\nX-Backend-Stream: %d\r\n\r\n" % size)
        time.sleep(3)  # the backend could have sent all of it by now
        growth_while_stalled = watch.growth_kib()
        self.assertLess(growth_while_stalled, LIMIT_KIB, f"RSS grew by {growth_while_stalled} KiB")
        received = 0
        deadline = time.monotonic() + 120
        while received < size + 100 and time.monotonic() < deadline:
            connection.sock.settimeout(30)
            block = connection.sock.recv(1 << 20)
            if not block:
                break
            received += len(block)
        self.assertGreater(received, size)  # the head plus every body byte arrived


if __name__ == "__main__":
    unittest.main()
