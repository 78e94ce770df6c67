"""Security end to end (contract 3, 4 [auth], 5): a real project built with `mgw build`, the real
gateway, an echoing backend, and credentials minted by INDEPENDENT code: PyJWT (Debian's
python3-jwt) with keys from python3-cryptography, htpasswd/openssl/crypt for Basic users, and
Python servers playing the key manager (RFC 7662 introspection) and a JWKS endpoint whose keys
rotate. `mgw token` is tested against PyJWT too.

Every security row of the fault table (5.1) is covered with status, code, message and
WWW-Authenticate, and nothing secret may appear in the gateway's output or in an error body."""
import base64
import contextlib
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import mgwtest

# ---------------------------------------------------------------------------------------------
# Keys, tokens and credentials, all made here (never by mgw, except in test_mgw_token).


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def private_pem(private_key):
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()


def jwk_of(private_key, kid, alg):
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    else:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def now():
    return int(time.time())


def claims(iss, **extra):
    body = {"iss": iss, "sub": "tester", "iat": now(), "exp": now() + 600}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def mint(key, alg, body, kid=None, headers=None):
    all_headers = dict(headers or {})
    if kid is not None:
        all_headers["kid"] = kid
    return jwt.encode(body, key, algorithm=alg, headers=all_headers or None)


def hs256_with(secret_bytes, body, alg="HS256"):
    """An HMAC JWT made by hand (PyJWT refuses PEM-looking secrets, which is the attack)."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = (b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." +
                     b64url(json.dumps(body).encode()))
    return signing_input + "." + b64url(hmac.new(secret_bytes, signing_input.encode(), digest).digest())


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def bearer(token):
    return {"Authorization": "Bearer " + token}


def sha1_htpasswd(password):
    return "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()


def sha512_crypt(password):
    result = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                            check=True, timeout=30)
    return result.stdout.strip()


def bcrypt_hash(user, password):
    """bcrypt from Apache's htpasswd (apache2-utils); None when it is not installed."""
    if shutil.which("htpasswd") is None:
        return None
    result = subprocess.run(["htpasswd", "-nbB", "-C", "5", user, password], capture_output=True,
                            text=True, check=True, timeout=30)
    return result.stdout.strip().split(":", 1)[1]


# ---------------------------------------------------------------------------------------------
# Small servers: the key manager (introspection) and a JWKS endpoint.


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class KeyManager:
    """RFC 7662 introspection at POST /introspect, checking the client's Basic credentials.
    `tokens` maps a token to its introspection answer; unknown tokens are inactive. `mode` may be
    "ok", "error" (HTTP 500) or "garbage" (200 with a non-JSON body)."""

    def __init__(self, client_id, client_secret):
        self.expected_auth = basic(client_id, client_secret)
        self.tokens = {}
        self.calls = []  # (token, authorization header ok)
        self.mode = "ok"
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - the base class's naming
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                token = form.get("token", [""])[0]
                auth_ok = self.headers.get("Authorization") == owner.expected_auth
                with owner.lock:
                    owner.calls.append((token, auth_ok))
                    mode = owner.mode
                if mode == "error":
                    self._send(500, b"boom")
                elif not auth_ok:
                    self._send(401, b'{"error":"invalid_client"}')
                elif mode == "garbage":
                    self._send(200, b"<html>not json</html>")
                else:
                    answer = owner.tokens.get(token, {"active": False})
                    self._send(200, json.dumps(answer).encode())

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/introspect"

    def calls_for(self, token):
        with self.lock:
            return [ok for t, ok in self.calls if t == token]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class JwksServer:
    """Serves `keys` (a list of JWKs) as a JWKS at GET /jwks and counts the fetches."""

    def __init__(self, keys):
        self.keys = list(keys)
        self.fetches = 0
        self.lock = threading.Lock()
        self.running = True
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                with owner.lock:
                    if not owner.running:  # down: a kept-alive connection gets no answer either
                        self.close_connection = True
                        return
                    owner.fetches += 1
                    body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/jwks"

    def set_keys(self, keys):
        with self.lock:
            self.keys = list(keys)

    def fetch_count(self):
        with self.lock:
            return self.fetches

    def stop(self):
        """The JWKS endpoint goes down: its port refuses connections from now on."""
        with self.lock:
            was_running, self.running = self.running, False
        if was_running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)


# ---------------------------------------------------------------------------------------------
# The project.

RESPONSES = {"200": {"description": "ok"}}
SCHEMES = {
    "default": {"type": "oauth2", "flows": {"implicit": {
        "authorizationUrl": "https://idp.test/authorize",
        "scopes": {"read": "read", "write": "write", "admin": "admin"}}}},
    "basicAuth": {"type": "http", "scheme": "basic"},
    "hdrKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "qryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
}


def op(**fields):
    operation = {"responses": RESPONSES}
    for key, value in fields.items():
        operation[key.replace("_", "-") if key.startswith("x_") else key] = value
    return operation


def api(title, base, paths, production, sandbox=None, version="1.0", **extensions):
    doc = {"openapi": "3.0.3", "info": {"title": title, "version": version},
           "x-wso2-basePath": base, "x-wso2-production-endpoints": {"urls": [production]},
           "components": {"securitySchemes": SCHEMES},
           "paths": {template: {"get": operation} for template, operation in paths.items()}}
    if sandbox:
        doc["x-wso2-sandbox-endpoints"] = {"urls": [sandbox]}
    for key, value in extensions.items():
        doc[key.replace("_", "-")] = value
    return json.dumps(doc, indent=1)


ISSUER_A = "https://idp-a.test/oauth2/token"  # certificate: every asymmetric key type
ISSUER_B = "https://idp-b.test"               # JWKS file, audience, subscriptions, claims renaming
ISSUER_HS = "https://idp-hs.test"             # HS256/384/512 with secret_env
APIKEY_ISSUER = "https://apikeys.test"
HS_SECRET = "hs-secret-" + "x" * 60           # 70 bytes: long enough for HS512
INTROSPECTION_SECRET = "km-client-secret-42"
STATIC_KEY = "static-key-0f-the-shop-7731"


# Every tier the tokens name, large enough never to throttle these tests.
POLICIES = """
resourcePolicies:
  - 10kPerMin: {count: 10000, unitTime: 1, timeUnit: min}
applicationPolicies:
  - Gold: {count: 100000, unitTime: 1, timeUnit: min}
subscriptionPolicies:
  - Gold: {count: 100000, unitTime: 1, timeUnit: min}
  - Silver: {count: 100000, unitTime: 1, timeUnit: min}
  - Unauthenticated: {count: 100000, unitTime: 1, timeUnit: min}
  - Default: {count: 100000, unitTime: 1, timeUnit: min}
"""


class SecurityTest(unittest.TestCase):
    """One gateway with every kind of credential configured; each test adds what it sent to
    `secrets`, and the last test checks that none of it reached the gateway's output."""

    secrets = set()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mgw-security-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.backend = mgwtest.Backend("production")
        cls.addClassCleanup(cls.backend.stop)
        cls.sandbox = mgwtest.Backend("sandbox")
        cls.addClassCleanup(cls.sandbox.stop)
        cls.km = KeyManager("mgw-client", INTROSPECTION_SECRET)
        cls.addClassCleanup(cls.km.stop)

        cls.rsa = rsa_key()
        cls.rsa_other = rsa_key()
        cls.ec256 = ec.generate_private_key(ec.SECP256R1())
        cls.ec384 = ec.generate_private_key(ec.SECP384R1())
        cls.ec521 = ec.generate_private_key(ec.SECP521R1())
        cls.ed = ed25519.Ed25519PrivateKey.generate()
        cls.b_rsa = rsa_key()
        cls.b_ec = ec.generate_private_key(ec.SECP256R1())
        cls.apikey_rsa = rsa_key()

        cls.passwords = {"alice": "al1ce-bcrypt-pass", "bob": "b0b-sha512-pass", "carol": "car0l-sha1-pass"}
        alice_hash = bcrypt_hash("alice", cls.passwords["alice"])
        cls.have_bcrypt = alice_hash is not None
        users = [f"bob:{sha512_crypt(cls.passwords['bob'])}:read",
                 f"carol:{sha1_htpasswd(cls.passwords['carol'])}:admin,write"]
        if cls.have_bcrypt:
            users.append(f"alice:{alice_hash}:read")
        cls.secrets.update(cls.passwords.values())
        cls.secrets.update({HS_SECRET, INTROSPECTION_SECRET, STATIC_KEY})

        jwks = {"keys": [jwk_of(cls.b_rsa, "b-rsa", "RS256"), jwk_of(cls.b_ec, "b-ec", "ES256")]}
        mgw_toml = f"""
[project]
name = "sec"

[auth]
clock_skew_s = 2

[[auth.jwt]]
issuer = "{ISSUER_A}"
certificate = "certs/idp-a.pem"

[[auth.jwt]]
issuer = "{ISSUER_B}"
jwks = "certs/jwks.json"
audience = ["mgw-tests"]
validate_subscriptions = true
claims = {{ scp = "scope" }}

[[auth.jwt]]
issuer = "{ISSUER_HS}"
secret_env = "MGW_TEST_HS_SECRET"
algorithms = ["HS256", "HS384", "HS512"]

[auth.introspection]
url = "{cls.km.url}"
client_id = "mgw-client"
client_secret_env = "MGW_INTROSPECTION_SECRET"
cache_ttl_s = 300

[auth.basic]
users_file = "users.htpasswd"

[auth.api_keys]
issuer = "{APIKEY_ISSUER}"
certificate = "certs/apikeys.pem"
keys_file = "api_keys.txt"
"""
        files = {
            "certs/idp-a.pem": "".join(public_pem(k) for k in (cls.rsa, cls.ec256, cls.ec384, cls.ec521, cls.ed)),
            "certs/jwks.json": json.dumps(jwks, indent=1),
            "certs/apikeys.pem": public_pem(cls.apikey_rsa),
            "users.htpasswd": "\n".join(users) + "\n",
            "api_keys.txt": f"{hashlib.sha256(STATIC_KEY.encode()).hexdigest()} shop Unlimited\n",
        }
        prod, sand = cls.backend.url("/prod"), cls.sandbox.url("/sand")
        definitions = {
            "secured.json": api("Secured", "/secured", {
                "/ping": op(),
                "/scoped": op(security=[{"default": ["read", "write"]}]),
                "/mixed": op(security=[{"default": []}, {"basicAuth": []}]),
                "/basic": op(security=[{"basicAuth": []}]),
                "/admin": op(security=[{"default": ["admin"]}, {"basicAuth": []}]),
                "/keys": op(security=[{"hdrKey": []}, {"qryKey": []}]),
                "/keys-header": op(security=[{"hdrKey": []}]),
            }, prod, sandbox=sand),
            "nosandbox.json": api("NoSandbox", "/nosandbox", {"/ping": op()}, prod),
            "orders.json": api("Orders", "/orders", {"/list": op()}, prod),
            "open.json": api("Open", "/open", {
                "/free": op(), "/locked": op(x_wso2_disable_security=False)}, prod,
                x_wso2_disable_security=True),
            "half.json": api("Half", "/half", {
                "/free": op(x_wso2_disable_security=True), "/locked": op()}, prod),
            "custom.json": api("Custom", "/custom", {"/ping": op()}, prod, x_wso2_auth_header="X-Custom-Auth"),
            "appsec.json": api("AppSec", "/appsec", {"/ping": op()}, prod,
                               x_wso2_application_security={"security-types": ["oauth2"], "optional": True}),
            "basiconly.json": api("BasicOnly", "/basiconly", {"/ping": op()}, prod,
                                  x_wso2_application_security={"security-types": ["basic_auth"]}),
        }
        cls.gateway = mgwtest.Gateway(cls.tmp, definitions, mgw_toml=mgw_toml, files=files, policies=POLICIES,
                                      name="sec").build()
        cls.env = {"MGW_TEST_HS_SECRET": HS_SECRET, "MGW_INTROSPECTION_SECRET": INTROSPECTION_SECRET}
        cls.gateway.start(env=cls.env)
        cls.addClassCleanup(cls.gateway.stop)

    def setUp(self):
        self.backend.reset()
        self.sandbox.reset()

    # --- helpers ---------------------------------------------------------------------------

    def token_a(self, alg="RS256", key=None, **extra):
        key = key if key is not None else self.rsa
        token = mint(key, alg, claims(ISSUER_A, **extra))
        self.secrets.add(token)
        return token

    def token_b(self, kid="b-rsa", key=None, alg="RS256", **extra):
        extra.setdefault("aud", "mgw-tests")
        key = key if key is not None else self.b_rsa
        token = mint(key, alg, claims(ISSUER_B, **extra), kid=kid)
        self.secrets.add(token)
        return token

    def get(self, path, headers=None):
        for value in (headers or {}).values():
            if len(value) > 20:
                self.secrets.add(value.split(" ", 1)[-1])
        return self.gateway.request("GET", path, headers=headers)

    def assertPasses(self, path, headers=None, backend=None):
        status, _, body = self.get(path, headers)
        self.assertEqual(status, 200, body)
        seen = json.loads(body)
        self.assertEqual(seen["backend"], (backend or self.backend).name)
        return seen

    def assertFault(self, path, headers, status, code, message, www=None, description=None):
        """A gateway fault with its status, code, message and WWW-Authenticate (None = absent);
        the body never echoes a credential."""
        got_status, got_headers, body = self.get(path, headers)
        self.assertEqual(got_status, status, body)
        self.assertEqual(got_headers.get("content-type"), "application/json")
        fault = json.loads(body)["fault"]
        self.assertEqual(fault["code"], code, fault)
        self.assertEqual(fault["message"], message, fault)
        if description is not None:
            self.assertIn(description, fault["description"].lower())
        if www is None:
            self.assertNotIn("www-authenticate", got_headers, fault)
        else:
            self.assertEqual(got_headers.get("www-authenticate"), www, fault)
        text = body.decode()
        for value in (headers or {}).values():
            credential = value.split(" ", 1)[-1]
            if len(credential) >= 6:
                self.assertNotIn(credential, text)
        for secret in self.secrets:
            self.assertNotIn(secret, text)
        return fault

    def invalid(self, path, token, description=None):
        return self.assertFault(path, bearer(token), 401, 900901, "Invalid Credentials",
                                www='Bearer realm="mgw", error="invalid_token"', description=description)

    def seen_header(self, seen, name):
        return [v for k, v in seen["headers"] if k.lower() == name.lower()]

    # --- JWT: every algorithm, minted by PyJWT ----------------------------------------------

    def test_every_asymmetric_algorithm(self):
        cases = [("RS256", self.rsa), ("RS384", self.rsa), ("RS512", self.rsa), ("PS256", self.rsa),
                 ("PS384", self.rsa), ("PS512", self.rsa), ("ES256", self.ec256), ("ES384", self.ec384),
                 ("ES512", self.ec521), ("EdDSA", self.ed)]
        for alg, key in cases:
            with self.subTest(alg=alg):
                self.assertPasses("/secured/ping", bearer(self.token_a(alg, key)))

    def test_hmac_with_the_secret_from_the_environment(self):
        for alg in ("HS256", "HS384", "HS512"):
            with self.subTest(alg=alg):
                token = mint(HS_SECRET.encode(), alg, claims(ISSUER_HS))
                self.secrets.add(token)
                self.assertPasses("/secured/ping", bearer(token))
        wrong = mint(b"another-secret-" + b"y" * 60, "HS256", claims(ISSUER_HS))
        self.invalid("/secured/ping", wrong)
        # An HS token for an issuer without a secret is refused (no RSA-key-as-secret confusion).
        self.invalid("/secured/ping", mint(HS_SECRET.encode(), "HS256", claims(ISSUER_A)))

    def test_public_key_as_hmac_secret_is_refused(self):
        for secret in (public_pem(self.rsa).encode(), public_pem(self.b_rsa).encode()):
            for iss in (ISSUER_A, ISSUER_B):
                self.invalid("/secured/ping", hs256_with(secret, claims(iss, aud="mgw-tests")))

    def test_alg_none_is_refused(self):
        for body in (claims(ISSUER_A), claims(ISSUER_B, aud="mgw-tests")):
            token = jwt.encode(body, None, algorithm="none")
            self.invalid("/secured/ping", token)
            # ... also with a real token's signature glued on.
            real = self.token_a()
            self.invalid("/secured/ping", token + real.rsplit(".", 1)[1])

    # --- the fault table ---------------------------------------------------------------------

    def test_missing_credentials(self):
        self.assertFault("/secured/ping", None, 401, 900902, "Missing Credentials", www='Bearer realm="mgw"')
        for scheme_only in ("Bearer ", "bearer", "Bearer  \t"):
            self.assertFault("/secured/ping", {"Authorization": scheme_only}, 401, 900902, "Missing Credentials",
                             www='Bearer realm="mgw"')
        self.assertEqual([t for t, _ in self.km.calls if t.lower().startswith("bearer")], [],
                         "a scheme without a token is not sent to the key manager as a token")
        self.assertFault("/secured/basic", None, 401, 900902, "Missing Credentials", www='Basic realm="mgw"')
        self.assertFault("/secured/mixed", None, 401, 900902, "Missing Credentials",
                         www='Bearer realm="mgw", Basic realm="mgw"')
        self.assertEqual(self.backend.request_count(), 0)

    def test_invalid_tokens(self):
        good = claims(ISSUER_A)
        cases = {
            "bad signature": mint(self.rsa_other, "RS256", good),
            "unknown issuer": mint(self.rsa, "RS256", claims("https://evil.test")),
            "no issuer": mint(self.rsa, "RS256", claims(None)),
            "unknown kid": mint(self.b_rsa, "RS256", claims(ISSUER_B, aud="mgw-tests"), kid="no-such-kid"),
            "kid of another key": mint(self.b_rsa, "RS256", claims(ISSUER_B, aud="mgw-tests"), kid="b-ec"),
            "malformed": "abc.def.ghi",
            "not base64url": self.token_a().replace(".", "=.", 1),
            "two parts": ".".join(self.token_a().split(".")[:2]),
            "header alg differs from the signature's": (self.token_a().split(".")[0] + "." +
                                                        mint(self.ec256, "ES256", good).split(".", 1)[1]),
            "revoked/inactive opaque": "opaque-unknown-token",
            "tampered payload": self._tampered(self.token_a()),
            "crit header": mint(self.rsa, "RS256", good, headers={"crit": ["exp"], "exp": 1}),
        }
        for name, token in cases.items():
            with self.subTest(case=name):
                self.secrets.add(token)
                self.invalid("/secured/ping", token)
        self.assertEqual(self.backend.request_count(), 0)

    def _tampered(self, token):
        header, payload, signature = token.split(".")
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        body["sub"] = "admin"
        return header + "." + b64url(json.dumps(body).encode()) + "." + signature

    def test_expired_and_not_yet_valid(self):
        expired = self.token_a(exp=now() - 60)
        self.invalid("/secured/ping", expired, description="expired")
        at_the_edge = self.token_a(exp=now() - 1)  # within clock_skew_s = 2
        self.assertPasses("/secured/ping", bearer(at_the_edge))
        early = self.token_a(nbf=now() + 600)
        self.invalid("/secured/ping", early, description="not yet valid")
        self.invalid("/secured/ping", self.token_a(exp=None), description="exp")
        # WSO2 API Manager writes iat in milliseconds: accepted.
        self.assertPasses("/secured/ping", bearer(self.token_a(iat=now() * 1000)))

    def test_one_connection_judges_each_token_on_its_own(self):
        # A keep-alive connection may change its token from one request to the next, and a token
        # may expire while the connection stays open: each request is judged as on its own
        # connection.
        def send(conn, path, token):
            conn.request("GET", path, headers=bearer(token))
            response = conn.getresponse()
            body = response.read()
            return response.status, json.loads(body)["fault"]["code"] if response.status != 200 else None

        reader = self.token_a(scope="read")
        admin = self.token_a(scope="admin")
        expires = now() + 1
        soon = self.token_a(scope="read", exp=expires)  # accepted up to 2 s later (clock skew)
        conn = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=15)
        try:
            got = [send(conn, path, token) for path, token in (
                ("/secured/scoped", reader), ("/secured/scoped", admin), ("/secured/scoped", reader),
                ("/secured/admin", reader), ("/secured/admin", admin), ("/secured/scoped", soon),
                ("/secured/scoped", soon))]
            self.assertEqual(got, [(200, None), (403, 900910), (200, None), (403, 900910),
                                   (200, None), (200, None), (200, None)])
            deadline = time.time() + 10
            while now() < expires + 3 and time.time() < deadline:
                time.sleep(0.2)
            self.assertEqual(send(conn, "/secured/scoped", soon), (401, 900901))
            self.assertEqual(send(conn, "/secured/scoped", reader), (200, None))
        finally:
            conn.close()

    def test_wrong_scheme(self):
        message = "Invalid Authentication scheme"
        self.assertFault("/secured/ping", {"Authorization": basic("bob", self.passwords["bob"])}, 401, 900917,
                         message, www='Bearer realm="mgw"')
        self.assertFault("/secured/ping", {"Authorization": "Digest username=x"}, 401, 900917, message,
                         www='Bearer realm="mgw"')
        fault = self.assertFault("/secured/basic", bearer(self.token_a()), 401, 900917, message,
                                 www='Basic realm="mgw"')
        self.assertIn("authentication scheme", fault["description"])
        self.assertFault("/basiconly/ping", bearer(self.token_a()), 401, 900917, message, www='Basic realm="mgw"')
        # An API key where only tokens are accepted: the key is not even looked at.
        self.assertFault("/secured/ping", {"X-API-Key": STATIC_KEY}, 401, 900902, "Missing Credentials",
                         www='Bearer realm="mgw"')

    def test_two_authorization_headers_are_refused(self):
        token = self.token_a()
        with mgwtest.RawConnection(self.gateway.port) as connection:
            connection.send((f"GET /secured/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                             f"Authorization: Bearer {token}\r\n\r\n").encode())
            response = connection.read_final_response()
        self.assertEqual(response.status, 401)
        fault = response.json()["fault"]
        self.assertEqual(fault["code"], 900901)
        self.assertEqual(fault["message"], "Invalid Credentials")
        self.assertIsNotNone(response.header("WWW-Authenticate"))
        self.assertEqual(self.backend.request_count(), 0)
        # A token plus an API key is two credentials too.
        self.assertFault("/secured/keys", {"Authorization": "Bearer " + token, "X-API-Key": STATIC_KEY},
                         401, 900901, "Invalid Credentials", www='Bearer realm="mgw"')

    # --- Basic --------------------------------------------------------------------------------

    def test_basic_users(self):
        users = ["bob", "carol"] + (["alice"] if self.have_bcrypt else [])
        for user in users:
            with self.subTest(user=user):
                seen = self.assertPasses("/secured/basic", {"Authorization": basic(user, self.passwords[user])})
                self.assertEqual(self.seen_header(seen, "Authorization"), [], "credentials are not forwarded")
        bad = "Invalid Credentials"
        for user, password in (("bob", "wrong"), ("carol", self.passwords["bob"]), ("mallory", "x"), ("bob", "")):
            with self.subTest(user=user, password=password):
                self.assertFault("/secured/basic", {"Authorization": basic(user, password)}, 401, 900911, bad,
                                 www='Basic realm="mgw"')
        no_colon = "Basic " + base64.b64encode(b"bob-without-colon").decode()
        self.assertFault("/secured/basic", {"Authorization": no_colon}, 401, 900912, "Invalid Format",
                         www='Basic realm="mgw"')
        self.assertFault("/secured/basic", {"Authorization": "Basic %%%"}, 401, 900912, "Invalid Format",
                         www='Basic realm="mgw"')

    @unittest.skipUnless(shutil.which("htpasswd"), "htpasswd (apache2-utils) is not installed")
    def test_basic_bcrypt_user(self):
        self.assertPasses("/secured/basic", {"Authorization": basic("alice", self.passwords["alice"])})
        self.assertFault("/secured/basic", {"Authorization": basic("alice", "nope")}, 401, 900911,
                         "Invalid Credentials", www='Basic realm="mgw"')

    def test_basic_users_scopes(self):
        self.assertPasses("/secured/admin", {"Authorization": basic("carol", self.passwords["carol"])})
        self.assertFault("/secured/admin", {"Authorization": basic("bob", self.passwords["bob"])}, 403, 900910,
                         "The access token does not allow you to access the requested resource")

    # --- scopes, subscriptions, sandbox --------------------------------------------------------

    def test_scopes_any_one_of_several(self):
        for scope in ("read", "write", "admin read", ["write"], "x y write"):
            with self.subTest(scope=scope):
                self.assertPasses("/secured/scoped", bearer(self.token_a(scope=scope)))
        message = "The access token does not allow you to access the requested resource"
        for scope in ("admin", None, "", ["reader"], "READ"):
            with self.subTest(scope=scope):
                self.assertFault("/secured/scoped", bearer(self.token_a(scope=scope)), 403, 900910, message)
        self.assertEqual(self.backend.request_count(), 5)

    def test_a_cached_token_still_gets_each_resources_checks(self):
        """After its first use a token is decided from the worker's cache, without a coroutine; every
        later request on the connection (one worker, one cache) still gets the checks of the
        resource it asks for: scopes, subscriptions, the security types the API allows."""
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=10)
        self.addCleanup(connection.close)

        def fault_or_status(path, token, scheme="Bearer"):
            connection.request("GET", path, headers={"Authorization": f"{scheme} {token}"})
            response = connection.getresponse()
            body = response.read()
            if response.status == 200:
                return 200
            fault = json.loads(body)["fault"]
            return response.status, fault["code"]

        token = self.token_a(scope="read")
        for scheme in ("Bearer", "bearer", "BEARER", "Bearer", "Bearer"):
            self.assertEqual(fault_or_status("/secured/ping", token, scheme), 200, scheme)
        self.assertEqual(fault_or_status("/secured/scoped", token), 200)
        self.assertEqual(fault_or_status("/secured/admin", token), (403, 900910))
        self.assertEqual(fault_or_status("/basiconly/ping", token), (401, 900917))
        self.assertEqual(fault_or_status("/secured/ping", token, "Basic"), (401, 900917))
        self.assertEqual(fault_or_status("/secured/ping", token), 200)

        subscribed = [{"name": "Orders", "version": "1.0", "subscriptionTier": "Gold"}]
        token_b = self.token_b(scp="read", subscribedAPIs=subscribed)
        for _ in range(3):
            self.assertEqual(fault_or_status("/orders/list", token_b), 200)
        self.assertEqual(fault_or_status("/secured/scoped", token_b), (403, 900908))
        self.assertEqual(fault_or_status("/orders/list", token_b), 200)

    def test_claims_renaming(self):
        # Issuer B renames scp -> scope.
        subscribed = [{"name": "Secured", "version": "1.0", "subscriptionTier": "Gold"}]
        self.assertPasses("/secured/scoped", bearer(self.token_b(scp="write", subscribedAPIs=subscribed)))
        self.assertPasses("/secured/scoped", bearer(self.token_b(scp=["read"], subscribedAPIs=subscribed)))
        self.assertFault("/secured/scoped", bearer(self.token_b(scp="admin", subscribedAPIs=subscribed)),
                         403, 900910, "The access token does not allow you to access the requested resource")

    def test_subscriptions(self):
        ok = [[{"name": "Orders", "version": "1.0", "context": "/orders", "subscriptionTier": "Gold",
                "publisher": "admin"}],
              [{"name": "Orders", "version": "*", "subscriptionTier": "Gold"}],
              [{"name": "Pets", "version": "1.0"}, {"name": "Orders", "version": "1.0"}]]
        for subscribed in ok:
            with self.subTest(subscribed=subscribed):
                self.assertPasses("/orders/list", bearer(self.token_b(subscribedAPIs=subscribed)))
        refused = [[{"name": "Orders", "version": "2.0"}], [{"name": "orders", "version": "1.0"}], [], None]
        for subscribed in refused:
            with self.subTest(subscribed=subscribed):
                self.assertFault("/orders/list", bearer(self.token_b(subscribedAPIs=subscribed)), 403, 900908,
                                 "Resource forbidden")
        # Issuer A does not validate subscriptions.
        self.assertPasses("/orders/list", bearer(self.token_a()))
        self.assertPasses("/orders/list", bearer(self.token_a(subscribedAPIs=[{"name": "X", "version": "1"}])))

    def test_key_type_selects_the_endpoints(self):
        seen = self.assertPasses("/secured/ping", bearer(self.token_a(keytype="SANDBOX")), backend=self.sandbox)
        self.assertTrue(seen["path"].startswith("/sand/"), seen["path"])
        self.assertPasses("/secured/ping", bearer(self.token_a(keytype="sandbox")), backend=self.sandbox)
        seen = self.assertPasses("/secured/ping", bearer(self.token_a(keytype="PRODUCTION")))
        self.assertTrue(seen["path"].startswith("/prod/"), seen["path"])
        self.assertPasses("/secured/ping", bearer(self.token_a()))
        fault = self.assertFault("/nosandbox/ping", bearer(self.token_a(keytype="SANDBOX")), 403, 900901,
                                 "Invalid Credentials")
        self.assertIn("sandbox", fault["description"].lower())
        self.assertPasses("/nosandbox/ping", bearer(self.token_a(keytype="PRODUCTION")))
        self.assertEqual(self.sandbox.request_count(), 2)

    def test_issuer_is_chosen_by_iss(self):
        self.assertPasses("/secured/ping", bearer(self.token_a()))
        self.assertPasses("/secured/ping", bearer(self.token_b(subscribedAPIs=[{"name": "Secured", "version": "1.0"}])))
        self.assertPasses("/secured/ping", bearer(self.token_b(kid="b-ec", key=self.b_ec, alg="ES256",
                                                               subscribedAPIs=[{"name": "Secured", "version": "*"}])))
        # B's claim, A's key (with B's kid or none): refused.
        self.invalid("/secured/ping", mint(self.rsa, "RS256", claims(ISSUER_B, aud="mgw-tests"), kid="b-rsa"))
        self.invalid("/secured/ping", mint(self.rsa, "RS256", claims(ISSUER_B, aud="mgw-tests")))
        # A's claim, B's key: refused.
        self.invalid("/secured/ping", mint(self.b_rsa, "RS256", claims(ISSUER_A)))

    def test_audience(self):
        subscribed = [{"name": "Secured", "version": "1.0"}]
        self.assertPasses("/secured/ping", bearer(self.token_b(aud=["other", "mgw-tests"], subscribedAPIs=subscribed)))
        self.invalid("/secured/ping", self.token_b(aud="other", subscribedAPIs=subscribed))
        self.invalid("/secured/ping", self.token_b(aud=None, subscribedAPIs=subscribed))

    # --- where credentials go -------------------------------------------------------------------

    def test_credentials_are_removed_upstream(self):
        seen = self.assertPasses("/secured/ping", {**bearer(self.token_a()), "X-Other": "kept"})
        self.assertEqual(self.seen_header(seen, "Authorization"), [])
        self.assertEqual(self.seen_header(seen, "X-Other"), ["kept"])
        seen = self.assertPasses("/secured/keys", {"X-API-Key": STATIC_KEY})
        self.assertEqual(self.seen_header(seen, "X-API-Key"), [])
        seen = self.assertPasses("/custom/ping", {"X-Custom-Auth": "Bearer " + self.token_a()})
        self.assertEqual(self.seen_header(seen, "X-Custom-Auth"), [])

    def test_credentials_are_kept_when_remove_auth_header_is_false(self):
        other = relaunch(self.gateway, "--auth.remove_auth_header=false", env=self.env)
        self.addCleanup(other.stop)
        token = self.token_a()
        status, _, body = other.request("GET", "/secured/ping", headers=bearer(token))
        self.assertEqual(status, 200, body)
        self.assertEqual(self.seen_header(json.loads(body), "Authorization"), ["Bearer " + token])
        status, _, body = other.request("GET", "/secured/keys", headers={"X-API-Key": STATIC_KEY})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.seen_header(json.loads(body), "X-API-Key"), [STATIC_KEY])
        # Unsecured resources always forward what the client sent (it was not a credential here).
        self.assertEqual(other.stop(), 0)

    def test_disable_security(self):
        self.assertPasses("/open/free")
        self.assertFault("/open/locked", None, 401, 900902, "Missing Credentials", www='Bearer realm="mgw"')
        self.assertPasses("/open/locked", bearer(self.token_a()))
        self.assertPasses("/half/free")
        self.assertFault("/half/locked", None, 401, 900902, "Missing Credentials", www='Bearer realm="mgw"')
        # An unsecured resource ignores (and forwards) whatever the client sent.
        seen = self.assertPasses("/open/free", {"Authorization": "Bearer not-checked"})
        self.assertEqual(self.seen_header(seen, "Authorization"), ["Bearer not-checked"])

    def test_custom_auth_header(self):
        self.assertPasses("/custom/ping", {"X-Custom-Auth": "Bearer " + self.token_a()})
        self.assertFault("/custom/ping", bearer(self.token_a()), 401, 900902, "Missing Credentials",
                         www='Bearer realm="mgw"')
        self.assertFault("/custom/ping", {"X-Custom-Auth": "Bearer abc.def.ghi"}, 401, 900901,
                         "Invalid Credentials", www='Bearer realm="mgw", error="invalid_token"')

    def test_application_security_optional(self):
        self.assertPasses("/appsec/ping")
        self.invalid("/appsec/ping", "abc.def.ghi")
        self.assertPasses("/appsec/ping", bearer(self.token_a()))

    # --- API keys -------------------------------------------------------------------------------

    def apikey_token(self, allowed, exp_in=600, key=None):
        body = {"iss": APIKEY_ISSUER, "sub": "shop", "iat": now(), "exp": now() + exp_in, "keytype": "PRODUCTION"}
        if allowed is not None:
            body["allowedAPIs"] = allowed
        token = mint(key or self.apikey_rsa, "RS256", body, headers={"typ": "jwt"})
        self.secrets.add(token)
        return token

    def test_static_api_keys(self):
        self.assertPasses("/secured/keys", {"X-API-Key": STATIC_KEY})
        seen = self.assertPasses(f"/secured/keys?api_key={STATIC_KEY}&x=1")
        self.assertIn("x=1", seen["query"])
        www = 'Bearer realm="mgw"'
        self.assertFault("/secured/keys", {"X-API-Key": STATIC_KEY + "x"}, 401, 900901, "Invalid Credentials", www=www)
        self.assertFault("/secured/keys", None, 401, 900902, "Missing Credentials", www=www)
        # The query parameter is not declared for this resource: the key there is not a credential.
        self.assertFault(f"/secured/keys-header?api_key={STATIC_KEY}", None, 401, 900902, "Missing Credentials",
                         www=www)
        self.assertPasses("/secured/keys-header", {"X-API-Key": STATIC_KEY})

    def test_jwt_api_keys(self):
        self.assertPasses("/secured/keys", {"X-API-Key": self.apikey_token([{"name": "Secured", "version": "1.0"}])})
        self.assertPasses("/secured/keys?api_key=" + self.apikey_token([{"name": "Secured", "version": "*"}]))
        www = 'Bearer realm="mgw"'
        for name, token in {
                "other API": self.apikey_token([{"name": "Orders", "version": "1.0"}]),
                "empty list": self.apikey_token([]),
                "expired": self.apikey_token([{"name": "Secured", "version": "1.0"}], exp_in=-60),
                "other signer": self.apikey_token([{"name": "Secured", "version": "1.0"}], key=self.rsa)}.items():
            with self.subTest(case=name):
                self.assertFault("/secured/keys", {"X-API-Key": token}, 401, 900901, "Invalid Credentials", www=www)
        # An API key is not a bearer token of a trusted issuer.
        self.invalid("/secured/ping", self.apikey_token([{"name": "Secured", "version": "1.0"}]))

    # --- opaque tokens: introspection -----------------------------------------------------------

    def test_introspection(self):
        active, inactive, scoped = "opaque-active-1d4f9e", "opaque-inactive-77aa01", "opaque-read-5c2e"
        self.secrets.update({active, inactive, scoped})
        self.km.tokens[active] = {"active": True, "client_id": "c1", "username": "ivan", "exp": now() + 600}
        self.km.tokens[scoped] = {"active": True, "scope": "read other", "exp": now() + 600}
        self.km.tokens[inactive] = {"active": False}
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=10)
        self.addCleanup(connection.close)

        def get(path, token):
            connection.request("GET", path, headers=bearer(token))
            response = connection.getresponse()
            return response.status, response.read()

        status, body = get("/secured/ping", active)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.km.calls_for(active), [True], "the client's Basic credentials are sent")
        status, body = get("/secured/ping", active)  # same connection, same worker: from the cache
        self.assertEqual(status, 200, body)
        self.assertEqual(len(self.km.calls_for(active)), 1, "the second request did not reach the key manager")

        for _ in range(2):
            status, body = get("/secured/ping", inactive)
            self.assertEqual(status, 401, body)
            fault = json.loads(body)["fault"]
            self.assertEqual((fault["code"], fault["message"]), (900901, "Invalid Credentials"))
        self.assertEqual(len(self.km.calls_for(inactive)), 1, "negative answers are cached too")

        status, body = get("/secured/scoped", scoped)
        self.assertEqual(status, 200, body)
        status, body = get("/secured/admin", scoped)
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body)["fault"]["code"], 900910)

        expired = "opaque-expired-0000aa"
        self.secrets.add(expired)
        self.km.tokens[expired] = {"active": True, "exp": now() - 10}
        self.invalid("/secured/ping", expired)
        self.assertEqual(self.backend.request_count(), 3)

    def test_introspection_failures_never_pass(self):
        fresh = ["opaque-km-error-1", "opaque-km-garbage-2"]
        self.secrets.update(fresh)
        for token in fresh:
            self.km.tokens[token] = {"active": True, "exp": now() + 600}
        try:
            self.km.mode = "error"
            self.assertFault("/secured/ping", bearer(fresh[0]), 503, 900900, "Unclassified Authentication Failure")
            self.km.mode = "garbage"
            self.assertFault("/secured/ping", bearer(fresh[1]), 503, 900900, "Unclassified Authentication Failure")
        finally:
            self.km.mode = "ok"
        # A failure is not cached: with the key manager back, the token works.
        self.assertPasses("/secured/ping", bearer(fresh[0]))
        self.assertEqual(self.backend.request_count(), 1)

    def test_introspection_key_manager_down(self):
        closed = mgwtest.free_port()
        other = relaunch(self.gateway, f"--auth.introspection.url=http://127.0.0.1:{closed}/introspect", env=self.env)
        self.addCleanup(other.stop)
        token = "opaque-while-km-down-9f"
        self.secrets.add(token)
        status, headers, body = other.request("GET", "/secured/ping", headers=bearer(token))
        self.assertEqual(status, 503, body)
        fault = json.loads(body)["fault"]
        self.assertEqual((fault["code"], fault["message"]), (900900, "Unclassified Authentication Failure"))
        self.assertNotIn(token, body.decode())
        self.assertEqual(self.backend.request_count(), 0)
        # JWTs do not need the key manager.
        status, _, body = other.request("GET", "/secured/ping", headers=bearer(self.token_a()))
        self.assertEqual(status, 200, body)
        output = other.output()
        self.assertEqual(other.stop(), 0)
        self.assertNotIn(token, output)

    # --- mgw token ------------------------------------------------------------------------------

    def test_mgw_token(self):
        key_file = os.path.join(self.tmp, "signing.pem")
        mgwtest.write(key_file, private_pem(self.rsa))
        result = mgwtest.run_mgw("token", "--key", key_file, "--alg", "RS256", "--kid", "k-1", "--iss", ISSUER_A,
                                 "--sub", "minted", "--aud", "mgw-tests", "--scope", "read write",
                                 "--keytype", "SANDBOX", "--app", "shop:Gold", "--api", "Secured:1.0:Gold",
                                 "--api", "Orders:*:Silver", "--ttl", "120", "--claim", "tenant=acme",
                                 "--claim", "level=3")
        self.assertEqual(result.returncode, 0, result.stderr)
        token = result.stdout.strip()
        self.secrets.add(token)
        # PyJWT verifies it and reads the WSO2 shape.
        decoded = jwt.decode(token, self.rsa.public_key(), algorithms=["RS256"], audience="mgw-tests",
                             issuer=ISSUER_A)
        self.assertEqual(jwt.get_unverified_header(token)["kid"], "k-1")
        self.assertEqual(decoded["sub"], "minted")
        self.assertEqual(decoded["scope"], "read write")
        self.assertEqual(decoded["keytype"], "SANDBOX")
        self.assertEqual(decoded["application"]["name"], "shop")
        self.assertEqual(decoded["application"]["tier"], "Gold")
        self.assertEqual([(s["name"], s["version"], s["subscriptionTier"]) for s in decoded["subscribedAPIs"]],
                         [("Secured", "1.0", "Gold"), ("Orders", "*", "Silver")])
        self.assertEqual(decoded["tenant"], "acme")
        self.assertEqual(decoded["level"], 3)
        self.assertLessEqual(decoded["exp"] - now(), 120)
        self.assertGreater(decoded["exp"] - now(), 100)
        # The gateway takes it: sandbox key type, scopes.
        self.assertPasses("/secured/scoped", bearer(token), backend=self.sandbox)
        # EdDSA and ES512 from mgw token too.
        for alg, key in (("EdDSA", self.ed), ("ES512", self.ec521)):
            mgwtest.write(key_file, private_pem(key))
            result = mgwtest.run_mgw("token", "--key", key_file, "--alg", alg, "--iss", ISSUER_A)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.secrets.add(result.stdout.strip())
            self.assertPasses("/secured/ping", bearer(result.stdout.strip()))
        # A wrong key/alg pair is a user error.
        result = mgwtest.run_mgw("token", "--key", key_file, "--alg", "RS256", "--iss", ISSUER_A)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertEqual(result.stdout, "")

    # --- last: nothing secret in the output -------------------------------------------------------

    def test_zz_nothing_secret_in_the_gateway_output(self):
        # Run after every other test of the class (unittest sorts by name).
        self.assertPasses("/secured/ping", bearer(self.token_a()))
        self.gateway.wait_log(lambda line: "/secured/ping" in line, what="the access log")
        output = self.gateway.output()
        self.assertIn("/secured/ping", output)
        self.assertGreater(len(self.secrets), 50)
        leaked = [s for s in self.secrets if s and s in output]
        self.assertEqual(leaked, [], "credentials in the gateway's stdout/stderr")
        # Query strings (API keys) are not logged either.
        self.assertNotIn("api_key=", output)


def relaunch(gateway, *flags, env=None):
    """A second process of an already built distribution, with its own ports and flags."""
    other = mgwtest.Gateway.__new__(mgwtest.Gateway)
    other.project, other.dist, other.binary = gateway.project, gateway.dist, gateway.binary
    other.process = None
    other.port = other.https_port = other.admin_port = None
    return other.start(*flags, env=env)


class JwksRotationTest(unittest.TestCase):
    """[[auth.jwt]] jwks_url: fetched at start, re-fetched (at most every 10 s) on an unknown kid.
    A token of a new key works after the re-fetch; tokens of a key keep working until the key
    leaves the JWKS (cached or not); a JWKS endpoint that is down breaks nothing already known."""

    ISSUER = "https://rotating.test"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mgw-jwks-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.backend = mgwtest.start_backend(self)
        self.k1, self.k2, self.k3 = rsa_key(), ec.generate_private_key(ec.SECP256R1()), rsa_key()
        self.jwks = JwksServer([jwk_of(self.k1, "k1", "RS256")])
        self.addCleanup(self.jwks.stop)
        mgw_toml = f"""
[[auth.jwt]]
issuer = "{self.ISSUER}"
jwks_url = "{self.jwks.url}"
"""
        definitions = {"api.json": api("Rotating", "/r", {"/ping": op()}, self.backend.url("/up"))}
        self.gateway = mgwtest.Gateway(self.tmp, definitions, mgw_toml=mgw_toml, name="rot").build()
        self.gateway.start()
        self.addCleanup(self.gateway.stop)
        self.connection = None

    def status(self, token):
        """The status for `token` on one kept-alive connection (one worker: its cache is used)."""
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=15)
            self.addCleanup(self.connection.close)
        self.connection.request("GET", "/r/ping", headers=bearer(token))
        response = self.connection.getresponse()
        response.read()
        return response.status

    def fresh_status(self, token):
        status, _, _ = self.gateway.request("GET", "/r/ping", headers=bearer(token))
        return status

    def token(self, key, alg, kid):
        return mint(key, alg, claims(self.ISSUER), kid=kid)

    def test_rotation(self):
        t1 = self.token(self.k1, "RS256", "k1")
        t2 = self.token(self.k2, "ES256", "k2")
        t3 = self.token(self.k3, "RS256", "k3")
        mgwtest.wait_until(lambda: self.status(t1) == 200, timeout=15, what="the JWKS fetched at start")
        started_fetches = self.jwks.fetch_count()
        self.assertGreaterEqual(started_fetches, 1)
        self.assertEqual(self.status(t2), 401)

        # A new key appears: a token signed with it works after the automatic re-fetch.
        self.jwks.set_keys([jwk_of(self.k1, "k1", "RS256"), jwk_of(self.k2, "k2", "ES256")])
        mgwtest.wait_until(lambda: self.status(t2) == 200, timeout=30, interval=1,
                           what="a token of the new key after the re-fetch")
        self.assertGreater(self.jwks.fetch_count(), started_fetches)
        self.assertEqual(self.status(t1), 200, "the old key keeps working while it is in the JWKS")
        self.assertEqual(self.fresh_status(t1), 200)

        # The old key leaves: once the JWKS was re-fetched (here for k3), its tokens stop working,
        # including the ones this worker has cached.
        self.jwks.set_keys([jwk_of(self.k2, "k2", "ES256"), jwk_of(self.k3, "k3", "RS256")])
        mgwtest.wait_until(lambda: self.status(t3) == 200, timeout=30, interval=1,
                           what="a token of the third key after the re-fetch")
        self.assertEqual(self.status(t1), 401, "a cached token of a removed key is refused")
        self.assertEqual(self.fresh_status(t1), 401)
        self.assertEqual(self.status(t2), 200)

        # The JWKS endpoint goes down: known keys keep working, unknown kids are refused.
        self.jwks.stop()
        fetches = self.jwks.fetch_count()
        self.assertEqual(self.status(t2), 200)
        self.assertEqual(self.fresh_status(t3), 200)
        time.sleep(10.5)  # past the re-fetch interval: the unknown kid makes the gateway try
        t9 = self.token(rsa_key(), "RS256", "k9")
        self.assertEqual(self.status(t9), 401)
        self.assertEqual(self.jwks.fetch_count(), fetches, "nothing was served while down")
        self.assertEqual(self.status(t2), 200)
        self.assertEqual(self.fresh_status(t3), 200)
        self.assertEqual(self.fresh_status(t1), 401)
        self.assertIn("could not be fetched", self.gateway.output())


if __name__ == "__main__":
    unittest.main()
