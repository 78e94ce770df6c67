"""TLS (contract 3, 4, 8): HTTPS termination with [server.tls] (TLS 1.2 and 1.3 only), the
x-wso2-transports split between the listeners, and HTTPS backends: certificates verified by
default, trusted through [upstream] ca_file, and `tls: {verify: false}` per endpoint."""
import json
import os
import shutil
import ssl
import threading
import unittest
import warnings

import mgwtest
from mgwtest import header_values, openapi


# TLS 1.0/1.1 are deprecated in Python's ssl: the tests use them on purpose, to see them refused.
warnings.filterwarnings("ignore", category=DeprecationWarning, message="ssl.TLSVersion")


def client_context(cafile, minimum=None, maximum=None):
    context = ssl.create_default_context(cafile=cafile)
    if minimum:
        context.minimum_version = minimum
    if maximum:
        context.maximum_version = maximum
    return context


def https_get(port, context, path, timeout=10):
    with mgwtest.RawConnection(port, timeout=timeout, tls_context=context,
                               server_hostname="localhost") as connection:
        connection.send(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path.encode())
        response = connection.read_response()
        return response, connection.sock.version()


def client_can_speak(version):
    """Whether this Python/OpenSSL can negotiate `version` at all (else a refusal proves
    nothing about the gateway): tries it against a throw-away local TLS server."""
    tmp = os.path.join(mgwtest.tempfile.mkdtemp(prefix="mgw-tls-probe-"))
    try:
        cert, key = mgwtest.make_self_signed(tmp, "probe")
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert, key)
        server.set_ciphers("DEFAULT:@SECLEVEL=0")
        server.minimum_version = server.maximum_version = version
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        client.set_ciphers("DEFAULT:@SECLEVEL=0")
        client.minimum_version = client.maximum_version = version
        import socket
        listener = socket.create_server(("127.0.0.1", 0))
        outcome = {}

        def serve():
            try:
                raw, _ = listener.accept()
                with server.wrap_socket(raw, server_side=True) as s:
                    outcome["server"] = s.version()
            except (OSError, ssl.SSLError) as e:
                outcome["server_error"] = e

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname(), timeout=5) as raw:
                with client.wrap_socket(raw) as s:
                    return s.version() is not None
        except (OSError, ssl.SSLError):
            return False
        finally:
            thread.join(timeout=5)
            listener.close()
    except (ValueError, ssl.SSLError):
        return False
    finally:
        shutil.rmtree(tmp, True)


class DownstreamTlsTest(mgwtest.TempDirTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = mgwtest.tempfile.mkdtemp(prefix="mgw-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.backend = mgwtest.Backend()
        cls.addClassCleanup(cls.backend.stop)
        certs = os.path.join(cls.tmp, "made")
        cls.cert, key = mgwtest.make_self_signed(certs, "server")
        with open(cls.cert, encoding="ascii") as f:
            cert_text = f.read()
        with open(key, encoding="ascii") as f:
            key_text = f.read()
        any_path = {"/*": ["get", "post"]}
        definitions = {
            "both.json": openapi("Both", "/both", any_path, production=cls.backend.url()),
            "secure.json": openapi("Secure", "/secure", any_path, production=cls.backend.url(),
                                   x_wso2_transports=["https"]),
            "plain.json": openapi("Plain", "/plain", any_path, production=cls.backend.url(),
                                  x_wso2_transports=["http"]),
        }
        toml = '[server.tls]\ncert = "certs/server.crt"\nkey = "certs/server.key"\n'
        cls.gateway = mgwtest.Gateway(cls.tmp, definitions, mgw_toml=toml,
                                      files={"certs/server.crt": cert_text,
                                             "certs/server.key": key_text}).build()
        cls.gateway.start(https=True)
        cls.addClassCleanup(cls.gateway.stop)

    def setUp(self):
        pass  # no per-test folder

    def test_https_is_served_with_the_configured_certificate(self):
        response, version = https_get(self.gateway.https_port, client_context(self.cert), "/both/x")
        self.assertEqual(response.status, 200)
        seen = response.json()
        self.assertEqual(header_values(seen["headers"], "X-Forwarded-Proto"), ["https"])
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))

    def test_tls_1_2_and_1_3_are_accepted(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version):
                context = client_context(self.cert, minimum=version, maximum=version)
                response, negotiated = https_get(self.gateway.https_port, context, "/both/x")
                self.assertEqual(response.status, 200)
                self.assertEqual(negotiated, version.name.replace("TLSv1_", "TLSv1."))

    def test_tls_1_1_and_1_0_are_refused(self):
        for version in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
            with self.subTest(version=version):
                if not client_can_speak(version):
                    self.skipTest(f"this OpenSSL cannot speak {version.name} even to itself")
                context = client_context(self.cert, minimum=version, maximum=version)
                context.set_ciphers("DEFAULT:@SECLEVEL=0")
                with self.assertRaises((ssl.SSLError, OSError)):
                    https_get(self.gateway.https_port, context, "/both/x")

    def test_keep_alive_over_tls(self):
        with mgwtest.RawConnection(self.gateway.https_port, tls_context=client_context(self.cert)) as c:
            for i in range(3):
                c.send(b"POST /both/k%d HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\nhi" % i)
                response = c.read_response()
                self.assertEqual(response.json()["target"], "/k%d" % i)

    def test_untrusted_client_sees_the_self_signed_certificate_refused(self):
        with self.assertRaises(ssl.SSLCertVerificationError):
            https_get(self.gateway.https_port, ssl.create_default_context(), "/both/x")

    def test_plain_http_on_the_https_port_gets_no_answer(self):
        with mgwtest.RawConnection(self.gateway.https_port, timeout=10) as connection:
            connection.send(b"GET /both/x HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(connection.closed(timeout=15))

    def test_transports_split_the_apis_between_listeners(self):
        context = client_context(self.cert)
        self.assertEqual(https_get(self.gateway.https_port, context, "/secure/x")[0].status, 200)
        self.assertEqual(https_get(self.gateway.https_port, context, "/plain/x")[0].status, 404)
        self.assertEqual(self.gateway.request("GET", "/secure/x")[0], 404)
        self.assertEqual(self.gateway.request("GET", "/plain/x")[0], 200)
        self.assertEqual(self.gateway.request("GET", "/both/x")[0], 200)


class UpstreamTlsTest(mgwtest.TempDirTestCase):

    def setUp(self):
        super().setUp()
        made = os.path.join(self.tmp, "made")
        self.ca, cert, key = mgwtest.make_ca_signed(made, "backend")
        _, wrong_cert, wrong_key = mgwtest.make_ca_signed(made, "wrong-name", cn="other.example",
                                                          san="DNS:other.example")
        alien_cert, alien_key = mgwtest.make_self_signed(made, "alien")
        self.trusted = mgwtest.start_backend(self, "trusted", mgwtest.server_tls_context(cert, key))
        # Signed by its own CA: the same trust question as the first, a different name.
        self.wrong_name = mgwtest.start_backend(self, "wrong-name",
                                                self._signed_by(made, self.ca, wrong_cert, wrong_key))
        self.alien = mgwtest.start_backend(self, "alien", mgwtest.server_tls_context(alien_cert, alien_key))
        with open(self.ca, encoding="ascii") as f:
            self.ca_text = f.read()

    def _signed_by(self, made, ca, cert, key):
        # make_ca_signed made a second CA for wrong-name: sign it with the first one instead.
        csr = os.path.join(made, "wrong2.csr")
        ext = os.path.join(made, "wrong2.ext")
        mgwtest.write(ext, "subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\n")
        mgwtest.openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/CN=other.example")
        signed = os.path.join(made, "wrong2.crt")
        mgwtest.openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca[:-4] + ".key",
                        "-CAcreateserial", "-out", signed, "-days", "2", "-extfile", ext)
        return mgwtest.server_tls_context(signed, key)

    def definitions(self):
        return {
            "trusted.json": openapi("Trusted", "/trusted", {"/*": ["get", "post"]},
                                    production=self.trusted.url()),
            "noverify.json": openapi("NoVerify", "/noverify", {"/*": ["get"]},
                                     production={"urls": [self.alien.url()], "tls": {"verify": False}}),
            "wrong.json": openapi("Wrong", "/wrong", {"/*": ["get"]}, production=self.wrong_name.url()),
            "alien.json": openapi("Alien", "/alien", {"/*": ["get"]}, production=self.alien.url()),
        }

    def start(self, mgw_toml="", files=None, *flags):
        gateway = mgwtest.Gateway(self.tmp, self.definitions(), mgw_toml=mgw_toml, files=files).build()
        gateway.start(*flags)
        self.addCleanup(gateway.stop)
        return gateway

    def test_verification_is_on_by_default(self):
        gateway = self.start()
        status, _, body = gateway.request("GET", "/trusted/x")
        self.assertEqual(status, 502, body)
        self.assertEqual(json.loads(body)["fault"]["code"], 101503)
        self.assertEqual(self.trusted.request_count(), 0)
        self.assertEqual(gateway.request("GET", "/alien/x")[0], 502)
        # ... except where the endpoint turns it off.
        status, _, body = gateway.request("GET", "/noverify/x")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["backend"], "alien")

    def test_ca_file_makes_a_backend_trusted(self):
        gateway = self.start('[upstream]\nca_file = "certs/backend-ca.pem"\n',
                             {"certs/backend-ca.pem": self.ca_text})
        for i in range(3):  # the second and third on a pooled TLS connection
            status, _, body = gateway.request("POST", f"/trusted/x{i}", body=b"over tls")
            self.assertEqual(status, 200, body)
            seen = json.loads(body)
            self.assertEqual((seen["backend"], seen["target"], seen["body"]), ("trusted", f"/x{i}", "over tls"))
            self.assertEqual(header_values(seen["headers"], "Host"), [f"127.0.0.1:{self.trusted.port}"])
        self.assertLessEqual(self.trusted.connections, 2)
        # A certificate from the trusted CA for another name is still refused.
        self.assertEqual(gateway.request("GET", "/wrong/x")[0], 502)
        self.assertEqual(self.wrong_name.request_count(), 0)
        # A self-signed one is not trusted by the CA file.
        self.assertEqual(gateway.request("GET", "/alien/x")[0], 502)
        self.assertEqual(gateway.request("GET", "/noverify/x")[0], 200)

    def test_verify_can_be_turned_off_for_one_deployment(self):
        gateway = self.start("", None, "--upstream.verify=false")
        self.assertEqual(gateway.request("GET", "/trusted/x")[0], 200)
        self.assertEqual(gateway.request("GET", "/alien/x")[0], 200)


if __name__ == "__main__":
    unittest.main()
