"""Routing (contract 3, 5.1, 8): base paths, query strings, 404/405 faults, path templates,
path normalisation, HEAD, mock answers and CORS, through the real gateway to a backend."""
import json
import unittest

import mgwtest
from mgwtest import openapi


def fault_of(body):
    return json.loads(body.decode("utf-8"))["fault"]


class RoutingTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def definitions(cls, backend):
        shop = openapi("Shop", "/shop/v1", {
            "/items": ["get", "post"],
            "/items/{id}": ["get", "put", "delete"],
            "/items/special": ["get"],
            "/files/{name}.{ext}": ["get"],
            "/releases/{version}/notes": ["get"],
            "/tree/*": ["get"],
        }, production=backend.url("/backend-base"))
        root = openapi("Other", "/other", {"/*": list(mgwtest.ANY_METHODS)},
                       production=backend.url())
        return {"shop.json": shop, "other.json": root}

    def forwarded(self, path, method="GET", **kw):
        """Sends a request; asserts the backend answered; returns what the backend saw."""
        status, headers, body = self.request(method, path, **kw)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.backend.request_count(), 1)
        return self.backend.last()

    def assertNotForwarded(self, path, status=404, method="GET"):
        got, headers, body = self.request(method, path)
        self.assertEqual(got, status, body)
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(self.backend.request_count(), 0, self.backend.requests)
        return fault_of(body), headers

    # --- base path and query ---------------------------------------------------------------

    def test_base_path_is_replaced_by_the_endpoint_path(self):
        seen = self.forwarded("/shop/v1/items/42")
        self.assertEqual(seen["target"], "/backend-base/items/42")
        self.assertEqual(seen["method"], "GET")

    def test_resource_at_the_base_path_root(self):
        seen = self.forwarded("/shop/v1/items")
        self.assertEqual(seen["target"], "/backend-base/items")

    def test_query_is_forwarded_byte_for_byte(self):
        for query in ("a=1&a=2&b=%20x&c", "x=%2F%2f+%2B&y=&&z==1;w=%e2%82%ac", "q=a%26b&empty"):
            with self.subTest(query=query):
                self.backend.reset()
                seen = self.forwarded("/shop/v1/items?" + query)
                self.assertEqual(seen["target"], "/backend-base/items?" + query)

    def test_empty_query_is_not_invented(self):
        seen = self.forwarded("/shop/v1/items")
        self.assertIsNone(seen["query"])

    # --- faults ----------------------------------------------------------------------------

    def test_no_api_is_a_404_fault(self):
        fault, _ = self.assertNotForwarded("/nothing/here")
        self.assertEqual((fault["code"], fault["message"]), (404, "Not Found"))

    def test_no_resource_of_the_api_is_a_404_fault(self):
        fault, _ = self.assertNotForwarded("/shop/v1/unknown")
        self.assertEqual((fault["code"], fault["message"]), (404, "Not Found"))

    def test_wrong_method_is_a_405_fault_with_allow(self):
        fault, headers = self.assertNotForwarded("/shop/v1/items/7", status=405, method="POST")
        self.assertEqual((fault["code"], fault["message"]), (405, "Method Not Allowed"))
        allowed = {m.strip() for m in headers["allow"].split(",")}
        self.assertTrue({"GET", "PUT", "DELETE"} <= allowed, allowed)
        self.assertNotIn("POST", allowed)

    def test_405_lists_the_methods_of_the_matched_template_only(self):
        _, headers = self.assertNotForwarded("/shop/v1/items", status=405, method="DELETE")
        allowed = {m.strip() for m in headers["allow"].split(",")}
        self.assertTrue({"GET", "POST"} <= allowed, allowed)
        self.assertFalse({"PUT", "DELETE"} & allowed, allowed)

    # --- templates -------------------------------------------------------------------------

    def test_literal_segment_beats_parameter(self):
        seen = self.forwarded("/shop/v1/items/special")
        self.assertEqual(seen["target"], "/backend-base/items/special")
        # OpenAPI: a concrete path is matched before a templated one, so PUT /items/special is
        # a 405 from /items/special, not a PUT /items/{id}.
        self.backend.reset()
        _, headers = self.assertNotForwarded("/shop/v1/items/special", status=405, method="PUT")
        self.assertEqual(headers["allow"], "GET")

    def test_template_with_two_parameters_in_one_segment(self):
        seen = self.forwarded("/shop/v1/files/report.v2.pdf")
        self.assertEqual(seen["target"], "/backend-base/files/report.v2.pdf")
        self.backend.reset()
        self.assertNotForwarded("/shop/v1/files/report")   # no "." : no match
        self.assertNotForwarded("/shop/v1/files/.pdf")     # {name} needs a character

    def test_parameter_named_version(self):
        seen = self.forwarded("/shop/v1/releases/2.1.0/notes")
        self.assertEqual(seen["target"], "/backend-base/releases/2.1.0/notes")

    def test_wildcard_template(self):
        seen = self.forwarded("/shop/v1/tree/a/b/c")
        self.assertEqual(seen["target"], "/backend-base/tree/a/b/c")

    # --- normalisation ---------------------------------------------------------------------

    def test_duplicate_slashes_and_dot_segments(self):
        for raw in ("/shop/v1//items/42", "//shop///v1/items/42", "/shop/v1/./items/./42",
                    "/shop/v1/items/x/../42", "/shop/v2/../v1/items/42", "/shop/v1/items/%2e/42",
                    "/shop/v1/items/y/%2E%2E/42"):
            with self.subTest(raw=raw):
                self.backend.reset()
                seen = self.forwarded(raw)
                self.assertEqual(seen["target"], "/backend-base/items/42")

    def test_dot_dot_cannot_climb_out_of_the_base_path(self):
        # Each normalises to a path outside /shop/v1: never sent to the Shop backend.
        for raw in ("/shop/v1/../../etc/passwd", "/shop/v1/%2e%2e/%2e%2e/etc/passwd",
                    "/shop/v1/items/../../../../etc/passwd", "/shop/v1/..%2f..%2fetc/passwd"):
            with self.subTest(raw=raw):
                self.backend.reset()
                status, _, body = self.request("GET", raw)
                self.assertIn(status, (400, 404), body)
                self.assertEqual(self.backend.request_count(), 0, self.backend.requests)

    def test_climbing_above_the_root_stays_at_the_root(self):
        # /other/../../../other/x = /other/x (".." at the root is dropped, as in RFC 3986 5.2.4)
        seen = self.forwarded("/other/../../../other/x")
        self.assertEqual(seen["target"], "/x")

    def test_encoded_slash_is_data_inside_its_segment(self):
        seen = self.forwarded("/shop/v1/items/a%2Fb")  # {id} = "a/b", one segment
        self.assertEqual(seen["target"], "/backend-base/items/a%2Fb")
        self.backend.reset()
        seen = self.forwarded("/shop/v1/files/dir%2Fname.txt")
        self.assertEqual(seen["target"], "/backend-base/files/dir%2Fname.txt")
        self.backend.reset()
        # "items%2F42" is one segment, not "items" + "42": no resource matches.
        self.assertNotForwarded("/shop/v1/items%2F42")
        # "shop%2Fv1" is not the base path /shop/v1.
        self.assertNotForwarded("/shop%2Fv1/items/42")

    def test_encoded_dot_dot_slash_stays_one_segment_under_the_base(self):
        # "..%2F..%2Fsecret" is one segment (data), not two steps up: forwarded, still encoded,
        # below the endpoint's path.
        seen = self.forwarded("/shop/v1/tree/..%2F..%2Fsecret")
        self.assertEqual(seen["target"], "/backend-base/tree/..%2F..%2Fsecret")

    def test_encoded_unreserved_characters_are_decoded(self):
        seen = self.forwarded("/shop/v1/items/%41bc%7e")
        self.assertEqual(seen["target"], "/backend-base/items/Abc~")
        self.backend.reset()
        seen = self.forwarded("/%73hop/v1/%69tems")  # routed on the decoded "shop", "items"
        self.assertEqual(seen["target"], "/backend-base/items")

    def test_reserved_and_other_characters_stay_encoded(self):
        seen = self.forwarded("/shop/v1/items/a%20b%3Fc%23d%25")
        self.assertEqual(seen["target"], "/backend-base/items/a%20b%3Fc%23d%25")

    def test_bad_percent_encoding_is_a_400(self):
        for raw in ("/shop/v1/items/%zz", "/shop/v1/items/%4", "/shop/v1/items/%00"):
            with self.subTest(raw=raw):
                self.backend.reset()
                status, _, body = self.request("GET", raw)
                self.assertEqual(status, 400, body)
                self.assertEqual(self.backend.request_count(), 0)

    def test_trailing_slash_is_kept(self):
        seen = self.forwarded("/other/dir/")
        self.assertEqual(seen["target"], "/dir/")

    # --- HEAD ------------------------------------------------------------------------------

    def test_head_is_routed_to_get_and_has_no_body(self):
        connection = self.raw()
        connection.send(b"HEAD /shop/v1/items/5 HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /shop/v1/items/6 HTTP/1.1\r\nHost: x\r\n\r\n")
        head = connection.read_response(head=True)
        self.assertEqual(head.status, 200)
        self.assertGreater(int(head.header("Content-Length")), 0)  # the GET's length
        after = connection.read_response()  # parses only if HEAD carried no body bytes
        self.assertEqual(after.status, 200)
        self.assertEqual(after.json()["target"], "/backend-base/items/6")
        self.assertEqual([r["method"] for r in self.backend.requests], ["HEAD", "GET"])


class MockAndCorsTest(mgwtest.SharedGatewayTestCase):

    @classmethod
    def definitions(cls, backend):
        pets = {
            "/pets": {
                "get": {"responses": {"200": {"description": "list", "content": {
                    "application/json": {"example": [{"id": 1, "name": "Rex"}]}}}}},
                "post": {"responses": {"201": {"description": "made", "content": {
                    "text/plain": {"example": "created"}}}}},
            },
            "/pets/{id}": {
                "get": {"responses": {
                    "200": {"description": "one", "content": {
                        "application/json": {"example": {"id": 1, "name": "Rex"}}}},
                    "404": {"description": "none", "content": {
                        "application/json": {"example": {"code": 404, "message": "no such pet"}}}},
                }},
            },
        }
        mock = openapi("Pets", "/pets-mock", pets, x_wso2_mock=True)
        cors = {"access-control-allow-origins": ["https://app.example"],
                "access-control-allow-headers": ["authorization", "content-type", "x-custom"],
                "access-control-allow-methods": ["GET", "POST", "DELETE"],
                "access-control-expose-headers": ["X-Correlation-ID"]}
        api = openapi("Cors", "/cors", {"/things": ["get", "post", "options"]},
                      production=backend.url(), x_wso2_cors=cors)
        return {"mock.json": mock, "cors.json": api}

    # --- mock ------------------------------------------------------------------------------

    def test_mock_answers_the_example(self):
        status, headers, body = self.request("GET", "/pets-mock/pets")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body), [{"id": 1, "name": "Rex"}])
        status, headers, body = self.request("POST", "/pets-mock/pets", body=b"{}")
        self.assertEqual(status, 201)
        self.assertEqual(headers["content-type"], "text/plain")
        self.assertEqual(body, b"created")
        self.assertEqual(self.backend.request_count(), 0)

    def test_prefer_code_picks_another_example(self):
        status, _, body = self.request("GET", "/pets-mock/pets/9")
        self.assertEqual((status, json.loads(body)), (200, {"id": 1, "name": "Rex"}))
        status, headers, body = self.request("GET", "/pets-mock/pets/9", headers={"Prefer": "code=404"})
        self.assertEqual(status, 404)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body), {"code": 404, "message": "no such pet"})

    def test_mock_head_has_no_body(self):
        connection = self.raw()
        connection.send(b"HEAD /pets-mock/pets HTTP/1.1\r\nHost: x\r\n\r\n"
                        b"GET /pets-mock/pets/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(connection.read_response(head=True).status, 200)
        self.assertEqual(connection.read_response().json(), {"id": 1, "name": "Rex"})

    # --- CORS ------------------------------------------------------------------------------

    def preflight(self, origin, method="POST", headers="content-type, x-custom"):
        return self.request("OPTIONS", "/cors/things", headers={
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers})

    def test_preflight_for_an_allowed_origin(self):
        status, headers, _ = self.preflight("https://app.example")
        self.assertIn(status, (200, 204))
        self.assertEqual(headers.get("access-control-allow-origin"), "https://app.example")
        methods = {m.strip() for m in headers["access-control-allow-methods"].split(",")}
        self.assertEqual(methods, {"GET", "POST", "DELETE"})
        allowed_headers = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
        self.assertTrue({"content-type", "x-custom", "authorization"} <= allowed_headers)
        self.assertEqual(self.backend.request_count(), 0)  # the gateway answers preflights

    def test_preflight_for_another_origin_allows_nothing(self):
        status, headers, _ = self.preflight("https://evil.example")
        self.assertNotIn("access-control-allow-origin", headers)
        self.assertNotIn("access-control-allow-methods", headers)
        self.assertNotIn("access-control-allow-headers", headers)
        self.assertEqual(self.backend.request_count(), 0)

    def test_actual_response_carries_allow_origin_only_for_allowed_origins(self):
        status, headers, _ = self.request("GET", "/cors/things", headers={"Origin": "https://app.example"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("access-control-allow-origin"), "https://app.example")
        self.assertIn("x-correlation-id", headers.get("access-control-expose-headers", "").lower())
        self.assertIn("origin", headers.get("vary", "").lower())
        status, headers, _ = self.request("GET", "/cors/things", headers={"Origin": "https://evil.example"})
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", headers)
        status, headers, _ = self.request("GET", "/cors/things")
        self.assertNotIn("access-control-allow-origin", headers)

    def test_plain_options_without_preflight_headers_goes_to_the_backend(self):
        status, _, body = self.request("OPTIONS", "/cors/things")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.backend.last()["method"], "OPTIONS")


if __name__ == "__main__":
    unittest.main()
