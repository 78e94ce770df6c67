"""Request framing and smuggling (contract 8): ambiguous framing is refused with 400 and the
connection closed, and nothing smuggled ever reaches the backend. Uses the corpora in
$MGW_SHARED_DIR/corpora: http1-smuggling-te-obfuscations (defparam/smuggler gadgets) and
http1-parser-llhttp (llhttp's request parser cases)."""
import base64
import json
import os
import re
import unittest

import mgwtest
from mgwtest import openapi

SMUGGLED = b"GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


class FramingTest(mgwtest.SharedGatewayTestCase):
    """Hand-written ambiguous framings. Each carries a second request that would reach the
    backend if the gateway read the framing the other way."""

    @classmethod
    def definitions(cls, backend):
        return {"echo.json": openapi("Echo", "/echo", {"/*": list(mgwtest.ANY_METHODS)},
                                     production=backend.url())}

    def setUp(self):
        super().setUp()
        self.p = b"/echo/" + self._testMethodName.encode()  # this test's requests

    def assertNotForwarded(self):
        self.backend.wait_quiet()
        self.assertEqual(self.backend.requests_to("/" + self._testMethodName), [])

    def assertRefused(self, raw, status=400):
        connection = self.raw()
        connection.send(raw)
        response = connection.read_response()
        self.assertIsNotNone(response, "closed without an answer")
        self.assertEqual(response.status, status, response.body)
        self.assertEqual(response.header("Content-Type"), "application/json")
        self.assertTrue(connection.closed(timeout=5), "connection left open after a framing error")
        self.assertNoSmuggling()
        return response

    def assertNoSmuggling(self):
        targets = [r["target"] for r in self.backend.requests]
        self.assertFalse([t for t in targets if "smuggled" in t], targets)

    def test_content_length_and_transfer_encoding(self):
        body = b"0\r\n\r\n" + SMUGGLED
        for order in ((b"Content-Length: %d\r\n" % len(body), b"Transfer-Encoding: chunked\r\n"),
                      (b"Transfer-Encoding: chunked\r\n", b"Content-Length: %d\r\n" % len(body))):
            with self.subTest(order=order):
                self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(order) +
                                   b"\r\n" + body)
        self.assertNotForwarded()

    def test_content_length_and_transfer_encoding_on_a_get(self):
        self.assertRefused(b"GET " + self.p + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED)
        self.assertNotForwarded()

    def test_duplicate_differing_content_length(self):
        for headers in (b"Content-Length: 5\r\nContent-Length: %d\r\n" % (5 + len(SMUGGLED)),
                        b"Content-Length: %d\r\nContent-Length: 5\r\n" % (5 + len(SMUGGLED)),
                        b"Content-Length: 5, %d\r\n" % (5 + len(SMUGGLED))):
            with self.subTest(headers=headers):
                self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\nhello" +
                                   SMUGGLED)
        self.assertNotForwarded()

    def test_bad_content_length_values(self):
        for value in (b"-1", b"+5", b"0x05", b"5 5", b"18446744073709551617", b"", b"1e3"):
            with self.subTest(value=value):
                self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\nContent-Length: " + value +
                                   b"\r\n\r\nhello" + SMUGGLED)
        self.assertNotForwarded()

    def test_bad_chunk_sizes(self):
        for chunks in (b"zz\r\nhello\r\n0\r\n\r\n", b"-5\r\nhello\r\n0\r\n\r\n",
                       b"0x5\r\nhello\r\n0\r\n\r\n", b"5 \r\nhello\r\n0\r\n\r\n",
                       b"fffffffffffffffff\r\nhello\r\n0\r\n\r\n",
                       b"5\r\nhello!!\r\n0\r\n\r\n",  # chunk data longer than its size
                       b"5\nhello\n0\n\n"):  # bare LF line ends
            with self.subTest(chunks=chunks):
                self.backend.reset()
                self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n" + chunks + SMUGGLED)

    def test_body_cut_short(self):
        # An unterminated quoted chunk extension, a missing last chunk, a short Content-Length
        # body: at the end of the client's data the gateway answers 400 (never a smuggled request).
        for raw in (b"Transfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n" + SMUGGLED,
                    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                    b"Content-Length: 100\r\n\r\nhello" + SMUGGLED):
            with self.subTest(raw=raw):
                connection = self.raw()
                connection.send(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\n" + raw)
                connection.shutdown_write()
                response = connection.read_response()
                self.assertIsNotNone(response, "closed without an answer")
                self.assertEqual(response.status, 400, response.body)
                self.assertTrue(connection.closed(timeout=5))
                self.assertNoSmuggling()

    def test_obs_fold_is_replaced_by_a_space(self):
        # RFC 9112 5.2: a server either refuses obs-fold or replaces it with SP before
        # interpreting or forwarding. The gateway (Beast) replaces: the folded "Content-Length"
        # is part of X-Folded's value, never a framing header, and the backend gets one line.
        connection = self.raw()
        connection.send(b"GET " + self.p + b" HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n Content-Length: 5"
                        b"\r\n\tmore\r\n\r\n")
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        seen = response.json()
        self.assertEqual(mgwtest.header_values(seen["headers"], "X-Folded"),
                         ["a Content-Length: 5 more"])
        self.assertEqual(seen["body_bytes"], 0)

    def test_empty_lines_before_a_request_line_are_ignored(self):
        # RFC 9112 2.2: a server SHOULD ignore at least one empty line before a request-line;
        # a stray CRLF after a body (a common client bug) must not cost the next request.
        connection = self.raw()
        connection.send(b"\r\n\r\nPOST " + self.p + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
                        b"abc\r\nGET " + self.p + b"?second HTTP/1.1\r\nHost: x\r\n\r\n")
        first, second = connection.read_response(), connection.read_response()
        self.assertEqual((first.status, second.status), (200, 200))
        self.assertEqual(first.json()["body_bytes"], 3)
        self.assertEqual([r["target"] for r in self.backend.requests_to("/" + self._testMethodName)],
                         ["/" + self._testMethodName, "/" + self._testMethodName + "?second"])

    def test_a_head_arriving_in_pieces_with_a_long_field(self):
        # The head is read until its empty line, however it is cut; a 3 KiB value is forwarded
        # whole, and control characters deep inside a long value are still refused.
        token = b"t" * 3000
        connection = self.raw()
        head = b"GET " + self.p + b" HTTP/1.1\r\nHost: x\r\nX-Token: " + token + b"\r\n\r\n"
        for at in range(0, len(head), 7):
            connection.send(head[at:at + 7])
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        self.assertEqual(mgwtest.header_values(response.json()["headers"], "X-Token"), [token.decode()])
        for bad in (b"\x01", b"\x7f", b"\rX", b"\n"):
            with self.subTest(bad=bad):
                self.assertRefused(b"GET " + self.p + b" HTTP/1.1\r\nHost: x\r\nX-Token: " + token[:1500] +
                                   bad + token[:1500] + b"\r\n\r\n")

    def test_transfer_encoding_other_than_chunked(self):
        for value in (b"gzip, chunked", b"chunked, identity", b"identity", b"chunked;q=1",
                      b"\"chunked\"", b"chunked chunked", b"xchunked"):
            with self.subTest(value=value):
                self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " +
                                   value + b"\r\n\r\n0\r\n\r\n" + SMUGGLED)
        self.assertNotForwarded()

    def test_repeated_transfer_encoding(self):
        self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED)

    def test_transfer_encoding_in_http10(self):
        raw = (b"POST " + self.p + b" HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Length: 5\r\n\r\n0\r\n\r\n" + SMUGGLED)
        self.assertRefused(raw)

    def test_underscore_spellings_of_framing_headers(self):
        # CGI-style backends (HTTP_TRANSFER_ENCODING) read these as the real headers.
        for header in (b"Transfer_Encoding: chunked", b"Content_Length: 0"):
            with self.subTest(header=header):
                self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\n" + header +
                                   b"\r\nContent-Length: %d\r\n\r\n0\r\n\r\n" % (5 + len(SMUGGLED)) +
                                   SMUGGLED)
        self.assertNotForwarded()

    def test_header_syntax_errors(self):
        for line in (b"Content-Length : 5", b"Bad\x01Name: x", b"Bad Name: x",
                     b"X: a\rContent-Length: 5", b"X: a\x00b", b"NoColon", b"X: a\nContent-Length: 5"):
            with self.subTest(line=line):
                self.assertRefused(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\n" + line +
                                   b"\r\n\r\nhello" + SMUGGLED)
        self.assertNotForwarded()

    def test_valid_request_after_refusal_is_not_processed(self):
        connection = self.raw()
        connection.send(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                        b"GET /echo/second HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(connection.read_response().status, 400)
        self.assertIsNone(connection.read_response())  # closed, the second never answered
        self.assertNotForwarded()
        self.assertEqual(self.backend.requests_to("/second"), [])

    def test_request_inside_a_body_stays_a_body(self):
        # Well-framed bodies that contain a request are forwarded as data, framed by length.
        body = b"0\r\n\r\n" + SMUGGLED
        connection = self.raw()
        connection.send(b"POST " + self.p + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
                        + body)
        response = connection.read_response()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.json()["body"].encode("latin-1"), body)
        self.assertEqual(len(self.backend.requests_to("/" + self._testMethodName)), 1)
        self.assertNoSmuggling()


# --- TE obfuscation gadgets ------------------------------------------------------------------

# Gadgets that, inserted into smuggler's request template, make a valid request in which no
# header means Transfer-Encoding to anyone: they get a normal answer, framed by Content-Length.
# Each is checked to reach the backend as one request with its body intact and without any
# Transfer-Encoding header, so nothing can be read differently upstream.
TE_GADGETS_ACCEPTED = {
    "xprespace-09": "header X with value \"X<HTAB>Transfer-Encoding: chunked\": HTAB is valid in a value",
    "xprespace-20": "header X with value \"X Transfer-Encoding: chunked\": an ordinary value",
    "xprespace-a0": "header X with an obs-text (0xA0) byte in its value: valid (RFC 9110 5.5)",
    "xprespace-ff": "header X with an obs-text (0xFF) byte in its value: valid (RFC 9110 5.5)",
    "contentEnc": "Content-Encoding: chunked is an (unusual) content coding, not framing",
}


class TransferEncodingGadgetsTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def definitions(cls, backend):
        return {"echo.json": openapi("Echo", "/echo", {"/*": list(mgwtest.ANY_METHODS)},
                                     production=backend.url())}

    def test_every_gadget_is_refused(self):
        path = os.path.join(mgwtest.CORPORA, "http1-smuggling-te-obfuscations", "te_obfuscation_gadgets.json")
        with open(path, encoding="utf-8") as f:
            corpus = json.load(f)
        gadgets = corpus["gadgets"]
        self.assertEqual(len(gadgets), corpus["count"])
        # smuggler's template: a CL request whose body, read as chunked, ends early and leaves a
        # second request behind.
        body = b"0\r\n\r\n" + SMUGGLED
        answers = {}
        for index, gadget in enumerate(gadgets):
            line = base64.b64decode(gadget["gadget_b64"])
            raw = (b"POST /echo/x?cb=%d HTTP/1.1\r\n" % index + line + b"\r\nHost: x\r\n"
                   b"User-Agent: Mozilla/5.0\r\n"
                   b"Content-type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body) + body)
            # Each gadget from its own loopback address: the backend's X-Forwarded-For tells
            # which gadget a forwarded request belongs to.
            source = source_address(index)
            with mgwtest.RawConnection(self.gateway.port, timeout=10, source=source) as connection:
                connection.send(raw)
                response = connection.read_response()
                closed = connection.closed(timeout=5) if response and response.status == 400 else None
                answers[index] = (response.status if response else None, closed)
        self.backend.wait_quiet()
        failures = []
        accepted = set()
        for index, gadget in enumerate(gadgets):
            status, closed = answers[index]
            seen = [r for r in self.backend.requests_from(source_address(index)) if r["complete"]]
            what = (gadget["config"], gadget["name"], gadget["gadget_escaped"], status, closed, len(seen))
            if gadget["name"] in TE_GADGETS_ACCEPTED:
                accepted.add(gadget["name"])
                if not (status == 200 and len(seen) == 1 and seen[0]["body_bytes"] == len(body)
                        and not [h for h, _ in seen[0]["headers"] if "transfer" in h.lower()]):
                    failures.append(what + ("should be forwarded intact, framed by length",))
            elif status != 400 or not closed or seen:
                failures.append(what + ("not refused with 400 and closed",))
        self.assertEqual(failures, [], f"{len(failures)} gadget(s) handled wrongly")
        self.assertEqual(accepted, set(TE_GADGETS_ACCEPTED))
        smuggled = [r["target"] for r in self.backend.requests if "smuggled" in r["target"]]
        self.assertEqual(smuggled, [])


def source_address(index):
    """A distinct loopback address per test connection (127.1.0.1, 127.1.0.2, ...)."""
    return f"127.1.{index // 250}.{index % 250 + 1}"


# --- llhttp request cases --------------------------------------------------------------------

def _decode_llhttp_block(block):
    """SOURCE.md's rules: drop the final newline; remove backslash-newline; newline -> CRLF;
    then decode \\r \\n \\t \\f \\xHH and \\OOO escapes (other characters are UTF-8)."""
    if block.endswith("\n"):
        block = block[:-1]
    block = block.replace("\\\n", "").replace("\n", "\r\n")
    out = bytearray()
    i = 0
    while i < len(block):
        ch = block[i]
        if ch == "\\" and i + 1 < len(block):
            nxt = block[i + 1]
            if nxt in "rntf":
                out += {"r": b"\r", "n": b"\n", "t": b"\t", "f": b"\f"}[nxt]
                i += 2
                continue
            if nxt == "x":
                out.append(int(block[i + 2:i + 4], 16))
                i += 4
                continue
            octal = re.match(r"[0-7]{1,3}", block[i + 1:])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
        out += ch.encode("utf-8")
        i += 1
    return bytes(out)


def llhttp_request_cases():
    """The request cases of llhttp_cases.json, each with its exact bytes. The JSON's raw_b64
    drops the last CRLF of blocks that end in an empty line (166 of 272 cases: e.g. "Setting
    flag" is 43 bytes there but 45 in llhttp's log), so the bytes are decoded again here from
    original/*.md with SOURCE.md's rules; the JSON still gives the cases and their verdicts, and
    its bytes must be a prefix of ours. Non-ASCII text is UTF-8, as llhttp's logs count it
    ("Extended Characters": the value "Düsseldorf" is 11 bytes); the JSON has it in latin-1."""
    root = os.path.join(mgwtest.CORPORA, "http1-parser-llhttp")
    with open(os.path.join(root, "llhttp_cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    blocks = {}
    for file in sorted({c["file"] for c in cases}):
        with open(os.path.join(root, "original", file), encoding="utf-8") as f:
            text = f.read()
        title = None
        for m in re.finditer(r"^(#+) ([^\n]*)$|^```(http|url)\n(.*?)^```$", text, re.M | re.S):
            if m.group(1):
                title = m.group(2).strip()
            else:
                blocks.setdefault((file, title), []).append(_decode_llhttp_block(m.group(4)))
    used = {}
    out = []
    for case in cases:
        key = (case["file"], case["title"])
        index = used.get(key, 0)
        used[key] = index + 1
        if not case["parser_mode"].startswith("request"):
            continue
        raw = blocks[key][index]
        if raw.isascii():  # the JSON writes non-ASCII text as latin-1; llhttp (and we) as UTF-8
            assert raw.startswith(base64.b64decode(case["raw_b64"])), key
        out.append((case, raw))
    return out


# Valid requests (llhttp: ok in strict request mode) that the gateway refuses, and why.
LLHTTP_VALID_REFUSED = {
    "M-SEARCH request": "asterisk-form target (SSDP): the gateway routes paths only",
    "SOURCE request with ICE": "ICE/1.0, not HTTP",
    "OPTIONS request with RTSP": "RTSP/1.0, not HTTP",
    "ANNOUNCE request with RTSP": "RTSP/1.0, not HTTP",
    "No HTTP version": "HTTP/0.9 request-line; not supported",
    "POST with `chunked` as last transfer-encoding":
        "a transfer coding besides chunked (deflate): only chunked alone is accepted (RFC 9112 "
        "6.1 allows refusing unknown codings)",
    "POST with `chunked` as last transfer-encoding (multiple headers)": "as above",
}

# Invalid requests (llhttp: error in strict mode) that the gateway answers, and why that is sound.
LLHTTP_INVALID_ACCEPTED = {
    "Spaces before headers":
        "a header line starting with SP is obs-fold: RFC 9112 5.2 lets a server replace it with SP "
        "(Beast does) instead of refusing; the backend gets one unfolded line",
    "Disallow UTF-8 in URI path in strict mode":
        "raw UTF-8 in the path is percent-encoded again before forwarding (/%CE%B4...)",
    "Line folding in header value with CRLF": "obs-fold, replaced by SP (as above)",
    "X-SSL-Nonsense": "a certificate folded over many lines: obs-fold, replaced by SP (as above)",
    "HTTP protocol and ANNOUNCE method":
        "ANNOUNCE is a valid method token in HTTP; the gateway routes no such method: 404, not "
        "forwarded",
}


class LlhttpRequestCasesTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def definitions(cls, backend):
        return {"root.json": openapi("Root", "/", {"/*": list(mgwtest.ANY_METHODS)},
                                     production=backend.url())}

    def exchange(self, raw, source):
        """Sends the bytes from `source`, half-closes, and reads every answer until the gateway
        closes. Returns the statuses and, for 400s, the fault descriptions."""
        methods = re.findall(rb"(?:^|\r\n\r\n)([A-Z-]+) ", raw)
        statuses = []
        faults = []
        with mgwtest.RawConnection(self.gateway.port, timeout=10, source=source) as connection:
            connection.send(raw)
            connection.shutdown_write()
            for _ in range(50):  # far more answers than any case has messages
                head = len(statuses) < len(methods) and methods[len(statuses)] == b"HEAD"
                response = connection.read_response(head=head)
                if response is None:
                    break
                statuses.append(response.status)
                faults.append(response.json()["fault"]["description"]
                              if response.status == 400 else "")
        return statuses, faults

    @staticmethod
    def with_host(raw):
        """Adds a Host field to the first request when it has none (HTTP/1.1 requires it:
        without one the gateway rightly answers 400 before looking at anything else)."""
        if b"\nhost:" in raw.lower() or b"HTTP/1.1\r\n" not in raw[:400]:
            return raw
        start = len(raw) - len(raw.lstrip(b"\r\n"))  # empty lines before the request line
        at = raw.index(b"\r\n", start) + 2
        return raw[:at] + b"Host: llhttp.test\r\n" + raw[at:]

    def test_llhttp_request_cases(self):
        cases = llhttp_request_cases()
        self.assertGreater(len(cases), 150)
        results = []
        for index, (case, raw) in enumerate(cases):
            raw = self.with_host(raw) if case["expected"] == "ok" else raw
            results.append(self.exchange(raw, source_address(index)))
        self.backend.wait_quiet()
        problems = []
        seen_listed = set()
        for index, ((case, raw), (statuses, faults)) in enumerate(zip(cases, results)):
            title, expected, mode = case["title"], case["expected"], case["parser_mode"]
            completed = case["messages_completed"] or 0
            strict = mode in ("request", "request-finish")
            # Requests the backend received whole (a request whose body turns out malformed
            # has its header forwarded already, then the upstream connection is dropped).
            forwarded = len([r for r in self.backend.requests_from(source_address(index))
                             if r["complete"]])
            summary = (mode, expected, title, statuses, forwarded)
            listed_accepted = title.replace(" (lenient)", "") in LLHTTP_INVALID_ACCEPTED
            if listed_accepted:
                seen_listed.add(title.replace(" (lenient)", ""))
                continue
            if forwarded > completed:
                problems.append(summary + ("backend got more requests than the case holds",))
                continue
            # 400s a valid case may get: a later message without Host, an incomplete message
            # cut by the end of the data.
            refusals = [f for s, f in zip(statuses, faults) if s == 400 and "missing Host" not in f
                        and "partial message" not in f]
            if strict and expected == "ok":
                valid = not refusals and len(statuses) >= completed
                if title in LLHTTP_VALID_REFUSED:
                    seen_listed.add(title)
                    if valid:
                        problems.append(summary + ("listed as refused but answered normally",))
                elif case["meta"].get("skipBody"):
                    pass  # only valid when the parser's user skips the body; here it is a body
                elif not valid:
                    problems.append(summary + ("valid request refused",))
            elif expected == "error" or (not strict and expected == "ok"):
                # Strict refuses what llhttp refuses, and what llhttp accepts only when lenient.
                if mode == "request-lenient-keep-alive":
                    # data after a message that closes the connection: answer it, ignore the rest
                    refused = len(statuses) <= 1 and forwarded <= 1
                elif expected == "error":
                    # the complete messages before the error may be answered; then 400 or close
                    after = statuses[completed:]
                    refused = (not after and completed > 0) or after[:1] == [400]
                else:
                    refused = 400 in statuses
                if not refused:
                    problems.append(summary + ("invalid request not refused with 400",))
            # pause_upgrade (CONNECT, Upgrade, PRI): anything but a tunnel; the count is checked
        self.assertEqual(problems, [], "\n".join(map(str, problems)))
        self.assertEqual(seen_listed, set(LLHTTP_VALID_REFUSED) | set(LLHTTP_INVALID_ACCEPTED))
        smuggled = [r["target"] for r in self.backend.requests if "smuggled" in r["target"]]
        self.assertEqual(smuggled, [])


if __name__ == "__main__":
    unittest.main()
