"""Starting bin/gateway (contract 1, 2, 4.3): bundle verification, --check, overrides by flag and
environment (endpoint URLs too), and `mgw run`."""
import json
import os
import signal
import stat
import unittest

import mgwtest
from mgwtest import openapi


def definitions(backend_url, named_url=None):
    echo = openapi("Echo", "/echo", {"/*": ["get", "post"]}, production=backend_url)
    out = {"echo.json": echo}
    if named_url:
        named = json.loads(openapi("Named", "/named", {}))
        named["x-wso2-endpoints"] = [{"backendA": {"urls": [named_url]}}]
        named["paths"]["/x"] = {"get": {"x-wso2-production-endpoints": "#/x-wso2-endpoints/backendA",
                                        "responses": {"200": {"description": "ok"}}}}
        out["named.json"] = json.dumps(named)
    return out


def make_writable(path):
    os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)


class BundleVerificationTest(mgwtest.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.gateway = mgwtest.Gateway(self.tmp, definitions("http://127.0.0.1:9/")).build()
        self.bundle = os.path.join(self.gateway.dist, "bundle")

    def assertRefuses(self, *extra):
        result = self.gateway.run_binary("--server.host=127.0.0.1",
                                         f"--server.http_port={mgwtest.free_port()}",
                                         f"--admin.port={mgwtest.free_port()}", *extra, timeout=30)
        self.assertEqual(result.returncode, 1, result.stderr + result.stdout)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("gateway", lines[0])
        return lines[0]

    def test_check_passes_on_an_untouched_bundle(self):
        result = self.gateway.run_binary("--check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("bundle verified", result.stdout)

    def test_edited_byte_is_refused(self):
        path = os.path.join(self.bundle, "apis.json")
        make_writable(path)
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            at = data.index(b"/echo")
            data[at + 1] = ord("E")  # /echo -> /Echo: still valid JSON, different API
            f.seek(0)
            f.write(data)
        reason = self.assertRefuses()
        self.assertIn("apis.json", reason)
        self.assertEqual(self.gateway.run_binary("--check").returncode, 1)

    def test_added_file_is_refused(self):
        os.chmod(self.bundle, os.stat(self.bundle).st_mode | stat.S_IWUSR)
        mgwtest.write(os.path.join(self.bundle, "extra.json"), "{}")
        reason = self.assertRefuses()
        self.assertIn("extra.json", reason)

    def test_removed_file_is_refused(self):
        os.chmod(self.bundle, os.stat(self.bundle).st_mode | stat.S_IWUSR)
        os.unlink(os.path.join(self.bundle, "endpoints.json"))
        self.assertIn("endpoints.json", self.assertRefuses())

    def test_edited_manifest_is_refused(self):
        path = os.path.join(self.bundle, "manifest.json")
        make_writable(path)
        with open(path, encoding="utf-8") as f:
            manifest = f.read()
        # Flip one hex digit of the first digest.
        at = manifest.index("sha256") if "sha256" in manifest else 0
        at = next(i for i in range(at, len(manifest)) if manifest[i] in "0123456789abcdef"
                  and manifest[i - 1] in "0123456789abcdef\":")
        flipped = "0" if manifest[at] != "0" else "1"
        with open(path, "w", encoding="utf-8") as f:
            f.write(manifest[:at] + flipped + manifest[at + 1:])
        self.assertRefuses()

    def test_tampered_bundle_is_refused_even_with_overrides(self):
        path = os.path.join(self.bundle, "endpoints.json")
        make_writable(path)
        with open(path, "a", encoding="utf-8") as f:
            f.write(" ")
        self.assertRefuses("--endpoints.Echo_1.0.production.0=http://127.0.0.1:1/")


class OverridesTest(mgwtest.TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.first = mgwtest.start_backend(self, "first")
        self.second = mgwtest.start_backend(self, "second")
        # conf/mgw.toml names a port that the overrides must replace.
        self.conf_port = mgwtest.free_port()
        toml = f'[server]\nhost = "127.0.0.1"\nhttp_port = {self.conf_port}\n[admin]\nhost = "127.0.0.1"\n'
        self.gateway = mgwtest.Gateway(self.tmp, definitions(self.first.url(), self.first.url()),
                                       mgw_toml=toml).build()
        self.addCleanup(self.gateway.stop)

    def run_gateway(self, *flags, env=None):
        admin = mgwtest.free_port()
        self.gateway.admin_port = admin
        self.gateway.process = mgwtest.Process([self.gateway.binary, f"--admin.port={admin}",
                                                "--server.workers=1", *flags], env=env)
        self.gateway.wait_ready()

    def answers(self, port, path="/echo/x"):
        status, _, body = mgwtest.http_request(port, "GET", path)
        self.assertEqual(status, 200, body)
        return json.loads(body)["backend"]

    def refused(self, port):
        try:
            mgwtest.http_request(port, "GET", "/echo/x", timeout=2)
        except OSError:
            return True
        return False

    def test_http_port_flag(self):
        port = mgwtest.free_port()
        self.run_gateway(f"--server.http_port={port}")
        self.assertEqual(self.answers(port), "first")
        self.assertTrue(self.refused(self.conf_port))

    def test_http_port_environment(self):
        port = mgwtest.free_port()
        self.run_gateway(env={"MGW_SERVER_HTTP_PORT": str(port)})
        self.assertEqual(self.answers(port), "first")
        self.assertTrue(self.refused(self.conf_port))

    def test_flag_beats_environment(self):
        env_port, flag_port = mgwtest.free_port(), mgwtest.free_port()
        self.run_gateway(f"--server.http_port={flag_port}", env={"MGW_SERVER_HTTP_PORT": str(env_port)})
        self.assertEqual(self.answers(flag_port), "first")
        self.assertTrue(self.refused(env_port))

    def test_without_overrides_the_configured_port_serves(self):
        self.run_gateway()
        self.assertEqual(self.answers(self.conf_port), "first")

    def test_unknown_key_is_a_usage_error(self):
        for flag in ("--server.no_such_key=1", "--nosection.key=1", "--server.http_port=abc",
                     "--endpoints.Echo_1.0.production.x=http://127.0.0.1:1/", "positional"):
            with self.subTest(flag=flag):
                result = self.gateway.run_binary(flag)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertTrue(result.stderr.strip())

    def test_endpoint_url_flag(self):
        port = mgwtest.free_port()
        self.run_gateway(f"--server.http_port={port}",
                         f"--endpoints.Echo_1.0.production.0={self.second.url()}")
        self.assertEqual(self.answers(port), "second")
        self.assertEqual(self.first.request_count(), 0)

    def test_endpoint_url_environment(self):
        port = mgwtest.free_port()
        self.run_gateway(f"--server.http_port={port}",
                         env={"MGW_ENDPOINTS_ECHO_1_0_PRODUCTION_0": self.second.url()})
        self.assertEqual(self.answers(port), "second")

    def test_endpoint_url_flag_beats_environment(self):
        port = mgwtest.free_port()
        third = mgwtest.start_backend(self, "third")
        self.run_gateway(f"--server.http_port={port}",
                         f"--endpoints.Echo_1.0.production.0={third.url()}",
                         env={"MGW_ENDPOINTS_ECHO_1_0_PRODUCTION_0": self.second.url()})
        self.assertEqual(self.answers(port), "third")

    def test_named_endpoint_override(self):
        port = mgwtest.free_port()
        self.run_gateway(f"--server.http_port={port}",
                         f"--endpoints.backendA.production.0={self.second.url()}")
        self.assertEqual(self.answers(port, "/named/x"), "second")
        self.assertEqual(self.answers(port, "/echo/x"), "first")  # other endpoints unchanged
        self.gateway.stop()
        port = mgwtest.free_port()
        self.run_gateway(f"--server.http_port={port}",
                         env={"MGW_ENDPOINTS_BACKENDA_PRODUCTION_0": self.second.url()})
        self.assertEqual(self.answers(port, "/named/x"), "second")

    def test_unknown_endpoint_name_is_refused(self):
        result = self.gateway.run_binary("--endpoints.NoSuch.production.0=http://127.0.0.1:1/")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("NoSuch", result.stderr)

    def test_check_applies_overrides(self):
        result = self.gateway.run_binary("--check", "--server.http_port=99999999")
        self.assertNotEqual(result.returncode, 0, result.stdout)


class MgwRunTest(mgwtest.TempDirTestCase):

    def test_run_builds_serves_and_prints_the_urls(self):
        backend = mgwtest.start_backend(self)
        project = mgwtest.make_project(os.path.join(self.tmp, "proj"), definitions(backend.url()))
        port, admin = mgwtest.free_port(), mgwtest.free_port()
        env = {"MGW_GATEWAY_BINARY": mgwtest.GATEWAY}
        process = mgwtest.Process([mgwtest.MGW, "run", project, "--server.host=127.0.0.1",
                                   f"--server.http_port={port}", f"--admin.port={admin}",
                                   "--server.workers=1"], env=env)
        self.addCleanup(process.stop)
        mgwtest.wait_until(lambda: mgwtest.http_request(admin, "GET", "/ready", timeout=2)[0] == 200,
                           timeout=60, what="mgw run to serve")
        status, _, body = mgwtest.http_request(port, "GET", "/echo/hello")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["target"], "/hello")
        output = process.output()
        self.assertIn(f"http://127.0.0.1:{port}/echo", output)
        self.assertIn(f":{admin}/health", output)
        self.assertTrue(os.path.isdir(os.path.join(project, "target", "proj", "bundle")))
        process.signal(signal.SIGTERM)
        self.assertEqual(process.wait(30), 0)  # mgw exec'd the gateway: it drains and exits 0

    def test_run_takes_a_distribution(self):
        backend = mgwtest.start_backend(self)
        gateway = mgwtest.Gateway(self.tmp, definitions(backend.url())).build()
        port, admin = mgwtest.free_port(), mgwtest.free_port()
        process = mgwtest.Process([mgwtest.MGW, "run", gateway.dist, "--server.host=127.0.0.1",
                                   f"--server.http_port={port}", f"--admin.port={admin}"])
        self.addCleanup(process.stop)
        mgwtest.wait_until(lambda: mgwtest.http_request(admin, "GET", "/ready", timeout=2)[0] == 200,
                           timeout=30, what="mgw run to serve")
        self.assertEqual(mgwtest.http_request(port, "GET", "/echo/x")[0], 200)
        self.assertEqual(process.stop(), 0)

    def test_run_with_a_broken_project_fails(self):
        project = mgwtest.make_project(os.path.join(self.tmp, "bad"), {"bad.yaml": "openapi: 3.0.3\n"})
        result = mgwtest.run_mgw("run", project, "--server.http_port=1")
        self.assertEqual(result.returncode, 1, result.stderr)


if __name__ == "__main__":
    unittest.main()
