"""The mgw command line, end to end with the real binaries (contract sections 1 and 2).

Every command's exit codes (0 success, 1 user error, 2 usage error), --help, --json, diagnostics,
init/import from files and from a local HTTP server, the distribution layout, its archive,
reproducibility and all-or-nothing writes.
"""
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import unittest

import yaml

from mgwtest import (SOURCE_DIR, TempDirTestCase, diagnostics, make_project, run_mgw,
                     serve_directory, tree_snapshot, write)

SHOP = """openapi: 3.0.3
info: {title: Shop, version: "1.0"}
x-wso2-basePath: /shop/{version}
x-wso2-mock: true
paths:
  /items:
    get:
      x-wso2-disable-security: true
      responses:
        "200":
          description: the items
          content: {application/json: {example: [{id: 1}]}}
  /items/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: one item}}
"""

ORDERS = """{"openapi": "3.0.0",
 "info": {"title": "Orders", "version": "2"},
 "servers": [{"url": "http://127.0.0.1:9/orders"}],
 "x-wso2-disable-security": true,
 "paths": {"/orders": {"get": {"responses": {"200": {"description": "ok"}}}}}}
"""

SHOP_TOML = """[project]
name = "shop"

[admin]
port = 9898
"""


class CliTestCase(TempDirTestCase):
    """A temporary folder plus helpers to make projects in it."""

    def project(self, definitions=None, mgw_toml=SHOP_TOML, policies="", name="proj", files=None):
        root = os.path.join(self.tmp, name)
        return make_project(root, {"shop.yaml": SHOP} if definitions is None else definitions,
                            mgw_toml=mgw_toml, policies=policies, files=files)

    def assert_dockerfile_installs_the_gateway_libraries(self, dockerfile, gateway):
        """Every shared library the gateway binary needs comes from a package the Dockerfile
        installs (or from debian:12-slim itself): a missing one means a container that cannot
        start."""
        base_image = {"libc6", "libstdc++6", "libgcc-s1"}
        installed = set(re.search(r"apt-get install -y --no-install-recommends ([^\\]+)",
                                  dockerfile).group(1).split())
        needed = [line.split("Shared library: [", 1)[1].rstrip("]")
                  for line in subprocess.run(["readelf", "-d", gateway], check=True,
                                             capture_output=True, text=True).stdout.splitlines()
                  if "(NEEDED)" in line]
        self.assertTrue(needed)
        resolved = {}
        for line in subprocess.run(["ldd", gateway], check=True, capture_output=True,
                                   text=True).stdout.splitlines():
            if "=>" in line:
                name, rest = line.strip().split(" => ", 1)
                resolved[name] = rest.split(" (", 1)[0]
        for library in needed:
            path = resolved[library]
            candidates = [path, path[4:] if path.startswith("/usr/") else "/usr" + path]
            owner = None
            for candidate in candidates:
                found = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
                if found.returncode == 0:
                    owner = found.stdout.split(":", 1)[0]
                    break
            self.assertIsNotNone(owner, f"no package owns {path}")
            self.assertTrue(owner in installed or owner in base_image,
                            f"the gateway needs {library} from {owner}, which the Dockerfile "
                            f"does not install")

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         f"exit {result.returncode}, expected {code}\nstdout:\n{result.stdout}\n"
                         f"stderr:\n{result.stderr}")
        self.assertNotIn("internal error", result.stderr)


class CommandLineTest(CliTestCase):

    def test_version_prints_the_toolkit_version(self):
        result = run_mgw("version")
        self.assertExit(result, 0)
        self.assertRegex(result.stdout, r"^mgw \d+\.\d+\.\d+\n$")

    def test_every_command_has_help(self):
        top = run_mgw("--help")
        self.assertExit(top, 0)
        commands = []
        in_list = False
        for line in top.stdout.splitlines():
            if line.startswith("Subcommands:"):
                in_list = True
            elif in_list and line.strip():
                commands.append(line.split()[0])
        for expected in ("init", "import", "validate", "build", "version"):
            self.assertIn(expected, commands)
        options = {
            "init": ["--api-definition", "--force"],
            "import": ["--api-definition"],
            "validate": ["--quiet", "--verbose", "--json"],
            "build": ["--output", "--docker-image", "--k8s", "--quiet", "--verbose", "--json"],
        }
        for command in commands:
            with self.subTest(command=command):
                result = run_mgw(command, "--help")
                self.assertExit(result, 0)
                self.assertIn("Usage:", result.stdout)
                self.assertIn(command, result.stdout)
                for option in options.get(command, []):
                    self.assertIn(option, result.stdout)

    def test_usage_errors_exit_with_2(self):
        cases = [
            [],                                          # no command
            ["frobnicate"],                              # unknown command
            ["validate"],                                # missing argument
            ["build"],
            ["init"],
            ["import", "somewhere"],                     # missing required -a
            ["validate", "p", "--bogus"],                # unknown option
            ["build", "p", "--no-such-flag"],
            ["build", "p", "-o"],                        # option without its value
            ["init", "p", "-a"],
            ["version", "extra"],                        # unexpected argument
        ]
        for args in cases:
            with self.subTest(args=args):
                result = run_mgw(*args, cwd=self.tmp)
                self.assertExit(result, 2)
                self.assertTrue(result.stderr.strip(), "a usage error says why on stderr")
        self.assertEqual(os.listdir(self.tmp), [], "a usage error writes nothing")


class ValidateTest(CliTestCase):

    def test_a_valid_project_exits_0_and_prints_a_summary(self):
        root = self.project()
        result = run_mgw("validate", root)
        self.assertExit(result, 0)
        self.assertIn("shop: 1 API(s), 2 resource(s)", result.stdout)
        self.assertIn("valid", result.stdout)
        self.assertEqual(diagnostics(result.stderr), [])
        self.assertFalse(os.path.exists(os.path.join(root, "target")), "validate writes nothing")

    def test_quiet_prints_nothing_and_verbose_lists_resources(self):
        root = self.project()
        quiet = run_mgw("validate", "--quiet", root)
        self.assertExit(quiet, 0)
        self.assertEqual(quiet.stdout, "")
        self.assertNotIn("warning:", quiet.stderr)
        verbose = run_mgw("validate", "--verbose", root)
        self.assertExit(verbose, 0)
        self.assertIn("GET /items  [mock]  [no auth]", verbose.stdout)
        self.assertIn("GET /items/{id}  [mock]", verbose.stdout)

    def test_a_missing_project_exits_1(self):
        result = run_mgw("validate", os.path.join(self.tmp, "nowhere"))
        self.assertExit(result, 1)
        self.assertIn("error:", result.stderr)

    def test_every_error_of_every_file_is_reported_at_once(self):
        root = self.project(
            definitions={
                "a.yaml": """openapi: 3.0.0
info: {title: A, version: "1"}
x-wso2-basePath: /a
x-wso2-production-endpoints:
  urls: ["htp://x"]
paths:
  /a: {get: {responses: {"200": {description: ok}}}}
""",
                "b.yaml": """openapi: 3.0.0
info: {title: B, version: "1"}
x-wso2-basePath: /b
x-wso2-mock: true
x-wso2-throttling-tier: Gld
paths:
  /b: {get: {x-wso2-disable-security: "true", responses: {}}}
""",
            },
            mgw_toml='[server]\nhttp_port = "9090"\n',
            policies="resourcePolicies:\n  - Gold: {count: -5, unitTime: 1, timeUnit: min}\n")
        result = run_mgw("validate", root)
        self.assertExit(result, 1)
        found = {(m.group("file"), int(m.group("line")), int(m.group("column")), m.group("message"))
                 for m in diagnostics(result.stderr)}
        expected = {
            ("api_definitions/a.yaml", 5, 10,
             'x-wso2-production-endpoints: url "htp://x" is not a valid http(s) URL'),
            ("api_definitions/b.yaml", 5, 25, 'API-level throttling tier "Gld" is not defined in '
             'resourcePolicies of policies.yaml'),
            ("api_definitions/b.yaml", 7, 39, "x-wso2-disable-security must be true or false"),
            ("mgw.toml", 2, 13, "server.http_port must be an integer"),
            ("policies.yaml", 2, 19, 'policy "Gold": count must be an integer >= 0'),
        }
        self.assertEqual(found, expected, result.stderr)
        self.assertIn(f"validation failed: {len(expected)} error(s)", result.stderr)
        # Printed sorted by file, line and column.
        lines = [m.group(0) for m in diagnostics(result.stderr)]
        self.assertEqual(lines, sorted(lines, key=lambda text: (text.split(":")[0],
                                                              int(text.split(":")[1]))))

    def test_json_output_describes_a_valid_project(self):
        root = self.project(definitions={"shop.yaml": SHOP, "orders.json": ORDERS})
        result = run_mgw("validate", "--json", root)
        self.assertExit(result, 0)
        report = json.loads(result.stdout)
        self.assertIs(report["ok"], True)
        self.assertEqual(report["project"], "shop")
        self.assertEqual(report["api_count"], 2)
        self.assertEqual(report["resource_count"], 3)
        self.assertEqual(report["errors"], [])
        self.assertIsInstance(report["warnings"], list)
        by_title = {api["title"]: api for api in report["apis"]}
        self.assertEqual(by_title["Shop"]["base_path"], "/shop/1.0")
        self.assertEqual(by_title["Shop"]["source"], "api_definitions/shop.yaml")
        self.assertEqual(by_title["Orders"]["base_path"], "/orders")
        resources = {(r["method"], r["path"]): r for r in by_title["Shop"]["resources"]}
        self.assertEqual(resources[("GET", "/items")]["security"], "none")
        self.assertEqual(resources[("GET", "/items/{id}")]["security"], ["oauth2"])
        self.assertIs(resources[("GET", "/items")]["mock"], True)

    def test_json_output_lists_every_error(self):
        root = self.project(definitions={"bad.yaml": SHOP.replace("/items/{id}", "/items/{id")})
        result = run_mgw("validate", "--json", root)
        self.assertExit(result, 1)
        report = json.loads(result.stdout)
        self.assertIs(report["ok"], False)
        self.assertEqual(len(report["errors"]), 1)
        error = report["errors"][0]
        self.assertEqual(error["file"], "api_definitions/bad.yaml")
        self.assertEqual((error["line"], error["column"]), (13, 3))
        self.assertEqual(error["message"], "path \"/items/{id\": '{' without a matching '}'")
        self.assertEqual(error["text"], "api_definitions/bad.yaml:13:3: error: " + error["message"])


class InitTest(CliTestCase):

    def test_init_creates_a_project_folder(self):
        root = os.path.join(self.tmp, "fresh")
        result = run_mgw("init", root)
        self.assertExit(result, 0)
        for name in ("mgw.toml", "policies.yaml", ".gitignore"):
            self.assertTrue(os.path.isfile(os.path.join(root, name)), name)
        for name in ("api_definitions", "certs"):
            self.assertTrue(os.path.isdir(os.path.join(root, name)), name)
        with open(os.path.join(root, ".gitignore"), encoding="utf-8") as f:
            self.assertIn("target/", f.read())
        with open(os.path.join(root, "mgw.toml"), encoding="utf-8") as f:
            self.assertIn('name = "fresh"', f.read())
        with open(os.path.join(root, "policies.yaml"), encoding="utf-8") as f:
            policies = yaml.safe_load(f)
        self.assertIn({"Unauthenticated": {"count": 500, "unitTime": 1, "timeUnit": "min"}},
                      policies["subscriptionPolicies"])
        # Nothing to build yet, but the configuration itself is valid.
        validate = run_mgw("validate", root)
        self.assertExit(validate, 1)
        self.assertEqual([m.group("file") for m in diagnostics(validate.stderr)], [])
        self.assertIn("nothing to build", validate.stderr)

    def test_init_refuses_a_non_empty_folder_without_force(self):
        root = os.path.join(self.tmp, "busy")
        write(os.path.join(root, "keep.txt"), "mine")
        result = run_mgw("init", root)
        self.assertExit(result, 1)
        self.assertIn("not empty", result.stderr)
        self.assertIn("--force", result.stderr)
        self.assertEqual(os.listdir(root), ["keep.txt"])

        forced = run_mgw("init", root, "--force")
        self.assertExit(forced, 0)
        self.assertTrue(os.path.isfile(os.path.join(root, "mgw.toml")))
        with open(os.path.join(root, "keep.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "mine")

    def test_init_with_a_definition_file(self):
        source = os.path.join(self.tmp, "shop.yaml")
        write(source, SHOP)
        root = os.path.join(self.tmp, "withfile")
        result = run_mgw("init", root, "-a", source)
        self.assertExit(result, 0)
        with open(os.path.join(root, "api_definitions", "shop.yaml"), encoding="utf-8") as f:
            self.assertEqual(f.read(), SHOP)
        self.assertExit(run_mgw("validate", root), 0)

    def test_init_with_an_invalid_definition_writes_nothing(self):
        source = os.path.join(self.tmp, "broken.yaml")
        write(source, SHOP.replace('version: "1.0"', 'versio: "1.0"'))
        root = os.path.join(self.tmp, "never")
        result = run_mgw("init", root, "-a", source)
        self.assertExit(result, 1)
        self.assertTrue(diagnostics(result.stderr), result.stderr)
        self.assertFalse(os.path.exists(root))
        self.assertEqual(sorted(os.listdir(self.tmp)), ["broken.yaml"], "no temporary folder left")

    def test_init_with_a_definition_url(self):
        served = os.path.join(self.tmp, "www")
        write(os.path.join(served, "apis", "shop.yaml"), SHOP)
        root = os.path.join(self.tmp, "fromurl")
        with serve_directory(served) as base:
            result = run_mgw("init", root, "--api-definition", base + "/apis/shop.yaml")
            missing = run_mgw("init", os.path.join(self.tmp, "missing"), "-a",
                              base + "/apis/nope.yaml")
        self.assertExit(result, 0)
        with open(os.path.join(root, "api_definitions", "shop.yaml"), encoding="utf-8") as f:
            self.assertEqual(f.read(), SHOP)
        self.assertExit(missing, 1)
        self.assertIn("404", missing.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "missing")))


class ImportTest(CliTestCase):

    def test_import_adds_files_and_urls(self):
        root = self.project()
        source = os.path.join(self.tmp, "orders.json")
        write(source, ORDERS)
        result = run_mgw("import", root, "-a", source)
        self.assertExit(result, 0)
        self.assertIn("added api_definitions/orders.json", result.stdout)
        with open(os.path.join(root, "api_definitions", "orders.json"), encoding="utf-8") as f:
            self.assertEqual(f.read(), ORDERS)

        served = os.path.join(self.tmp, "www")
        write(os.path.join(served, "inventory"), SHOP.replace("Shop", "Inventory")
              .replace("/shop/", "/inventory/"))
        with serve_directory(served) as base:
            from_url = run_mgw("import", root, "-a", base + "/inventory")
        self.assertExit(from_url, 0)
        # A URL without an extension gets one from the content.
        self.assertTrue(os.path.isfile(os.path.join(root, "api_definitions", "inventory.yaml")))
        report = json.loads(run_mgw("validate", "--json", root).stdout)
        self.assertEqual(report["api_count"], 3)

    def test_import_refuses_an_invalid_definition_and_changes_nothing(self):
        root = self.project()
        before = tree_snapshot(os.path.join(root, "api_definitions"))
        clash = os.path.join(self.tmp, "clash.yaml")
        write(clash, SHOP.replace("title: Shop", "title: Other"))  # same base path
        good = os.path.join(self.tmp, "orders.json")
        write(good, ORDERS)
        result = run_mgw("import", root, "-a", good, "-a", clash)
        self.assertExit(result, 1)
        self.assertIn('base path "/shop/1.0" is also used by api_definitions/', result.stderr)
        self.assertIn("nothing was written", result.stderr)
        self.assertEqual(tree_snapshot(os.path.join(root, "api_definitions")), before)

        garbage = os.path.join(self.tmp, "garbage.json")
        write(garbage, '{"openapi": "3.0.0", "info": ')
        result = run_mgw("import", root, "-a", garbage)
        self.assertExit(result, 1)
        self.assertTrue(diagnostics(result.stderr))
        self.assertEqual(tree_snapshot(os.path.join(root, "api_definitions")), before)

    def test_import_of_a_missing_url_or_file_changes_nothing(self):
        root = self.project()
        before = tree_snapshot(root)
        with serve_directory(self.tmp) as base:
            result = run_mgw("import", root, "-a", base + "/no/such.yaml")
        self.assertExit(result, 1)
        self.assertIn("HTTP status 404", result.stderr)
        missing = run_mgw("import", root, "-a", os.path.join(self.tmp, "no-such-file.yaml"))
        self.assertExit(missing, 1)
        self.assertEqual(tree_snapshot(root), before)

    def test_import_refuses_a_taken_name_and_a_folder_that_is_no_project(self):
        root = self.project()
        again = os.path.join(self.tmp, "shop.yaml")
        write(again, SHOP)
        result = run_mgw("import", root, "-a", again)
        self.assertExit(result, 1)
        self.assertIn("already exists", result.stderr)
        nowhere = run_mgw("import", os.path.join(self.tmp, "nowhere"), "-a", again)
        self.assertExit(nowhere, 1)
        self.assertIn("not an mgw project", nowhere.stderr)


class BuildTest(CliTestCase):

    def build(self, root, *args, **kwargs):
        result = run_mgw("build", root, *args, **kwargs)
        self.assertExit(result, 0)
        return result

    def test_build_writes_the_distribution_layout(self):
        root = self.project(files={"certs/issuer.pem": "issuer certificate\n"})
        result = self.build(root)
        out = os.path.join(root, "target", "shop")
        self.assertIn("shop: 1 API(s), 2 resource(s)", result.stdout)
        self.assertIn(out, result.stdout)
        gateway = os.path.join(out, "bin", "gateway")
        self.assertTrue(os.path.isfile(gateway))
        self.assertTrue(os.access(gateway, os.X_OK))
        with open(os.path.join(out, "conf", "mgw.toml"), encoding="utf-8") as f:
            self.assertEqual(f.read(), SHOP_TOML)
        with open(os.path.join(out, "certs", "issuer.pem"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "issuer certificate\n")
        self.assertTrue(os.listdir(os.path.join(out, "LICENSES")))
        with open(os.path.join(out, "README.txt"), encoding="utf-8") as f:
            self.assertIn("/shop/1.0", f.read())
        with open(os.path.join(out, "Dockerfile"), encoding="utf-8") as f:
            dockerfile = f.read()
        self.assertIn("ENTRYPOINT", dockerfile)
        self.assertRegex(dockerfile, r"EXPOSE 9090 9898\n")
        self.assert_dockerfile_installs_the_gateway_libraries(dockerfile, gateway)
        self.assertFalse(os.path.exists(os.path.join(out, "k8s")), "k8s/ only with --k8s")
        self.assertTrue(os.path.isfile(os.path.join(root, "target", "shop.tar.gz")))

        # The manifest lists every other bundle file with its SHA-256 and size, and nothing else.
        bundle = os.path.join(out, "bundle")
        with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual(manifest["project"], "shop")
        listed = {entry["name"] for entry in manifest["files"]}
        self.assertEqual(listed, {"apis.json", "endpoints.json", "policies.json", "security.json"})
        self.assertEqual(set(os.listdir(bundle)), listed | {"manifest.json"})
        for entry in manifest["files"]:
            with open(os.path.join(bundle, entry["name"]), "rb") as f:
                data = f.read()
            self.assertEqual(entry["sha256"], hashlib.sha256(data).hexdigest(), entry["name"])
            self.assertEqual(entry["bytes"], len(data), entry["name"])
        with open(os.path.join(bundle, "apis.json"), encoding="utf-8") as f:
            apis = json.load(f)
        self.assertEqual([api["base_path"] for api in apis["apis"]], ["/shop/1.0"])

    def test_build_json_reports_the_output(self):
        root = self.project()
        result = self.build(root, "--json")
        report = json.loads(result.stdout)
        self.assertIs(report["ok"], True)
        self.assertEqual(report["output"], os.path.join(root, "target", "shop"))
        self.assertEqual(report["archive"], os.path.join(root, "target", "shop.tar.gz"))
        self.assertEqual((report["api_count"], report["resource_count"]), (1, 2))
        self.assertTrue(os.path.isdir(report["output"]))

        broken = self.project(definitions={"x.yaml": "openapi: 3.0.0\n"}, name="broken")
        failed = run_mgw("build", "--json", broken)
        self.assertExit(failed, 1)
        report = json.loads(failed.stdout)
        self.assertIs(report["ok"], False)
        self.assertTrue(report["errors"])
        self.assertNotIn("output", report)

    def test_build_with_k8s_and_a_docker_image(self):
        root = self.project()
        self.build(root, "--k8s", "--docker-image", "registry.example:5000/team/shop:1.2")
        out = os.path.join(root, "target", "shop")
        with open(os.path.join(out, "Dockerfile"), encoding="utf-8") as f:
            self.assertIn("registry.example:5000/team/shop:1.2", f.read())
        self.assertEqual(sorted(os.listdir(os.path.join(out, "k8s"))),
                         ["deployment.yaml", "hpa.yaml", "service.yaml"])
        with open(os.path.join(out, "k8s", "deployment.yaml"), encoding="utf-8") as f:
            deployment = yaml.safe_load(f)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["image"], "registry.example:5000/team/shop:1.2")
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        self.assertEqual(ports, {"http": 9090, "admin": 9898})
        self.assertEqual(container["livenessProbe"]["httpGet"], {"path": "/health", "port": "admin"})
        self.assertEqual(container["readinessProbe"]["httpGet"], {"path": "/ready", "port": "admin"})
        with open(os.path.join(out, "k8s", "service.yaml"), encoding="utf-8") as f:
            service = yaml.safe_load(f)
        self.assertEqual(service["kind"], "Service")
        self.assertEqual(service["spec"]["selector"], {"app": "shop"})
        with open(os.path.join(out, "k8s", "hpa.yaml"), encoding="utf-8") as f:
            self.assertEqual(yaml.safe_load(f)["kind"], "HorizontalPodAutoscaler")

    def test_an_invalid_image_name_is_refused_before_anything_is_written(self):
        root = self.project()
        for image in ("Shop:latest", "shop:", "has space:1", "shop:bad tag"):
            with self.subTest(image=image):
                result = run_mgw("build", root, "--docker-image", image)
                self.assertExit(result, 1)
                self.assertIn("is not a valid image name", result.stderr)
                self.assertFalse(os.path.exists(os.path.join(root, "target")))

    def test_output_folder_option(self):
        root = self.project()
        out = os.path.join(self.tmp, "elsewhere", "dist")
        result = self.build(root, "-o", out)
        self.assertIn(os.path.join(out, "shop"), result.stdout)
        self.assertTrue(os.path.isfile(os.path.join(out, "shop", "bin", "gateway")))
        self.assertTrue(os.path.isfile(os.path.join(out, "shop.tar.gz")))
        self.assertFalse(os.path.exists(os.path.join(root, "target")))
        relative = self.build(root, "--output", "rel-out", cwd=self.tmp)
        self.assertIn(os.path.join(self.tmp, "rel-out", "shop"), relative.stdout)
        self.assertTrue(os.path.isfile(os.path.join(self.tmp, "rel-out", "shop.tar.gz")))

    def test_the_archive_holds_the_same_files(self):
        root = self.project(files={"certs/a.pem": "a\n"})
        self.build(root, "--k8s")
        out = os.path.join(root, "target", "shop")
        on_disk = tree_snapshot(out)
        in_archive = {}
        mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
        with tarfile.open(os.path.join(root, "target", "shop.tar.gz"), "r:gz") as archive:
            for member in archive.getmembers():
                self.assertTrue(member.name.startswith("shop/"), member.name)
                relative = member.name[len("shop/"):]
                self.assertEqual((member.uid, member.gid, member.mtime), (0, 0, mtime), member.name)
                if member.isdir():
                    in_archive[relative] = "<dir>"
                    self.assertEqual(member.mode, 0o755)
                else:
                    data = archive.extractfile(member).read()
                    in_archive[relative] = hashlib.sha256(data).hexdigest()
                    self.assertEqual(member.mode, 0o755 if relative == "bin/gateway" else 0o644,
                                     relative)
            names = archive.getnames()
        self.assertEqual(in_archive, on_disk)
        self.assertEqual(names, sorted(names), "entries are sorted")

    def test_builds_are_reproducible(self):
        root = self.project(definitions={"shop.yaml": SHOP, "orders.json": ORDERS},
                            files={"certs/a.pem": "a\n", "users.htpasswd": "u:$6$s$h\n"})

        def outputs():
            out = os.path.join(root, "target")
            bundle = {}
            for name in sorted(os.listdir(os.path.join(out, "shop", "bundle"))):
                with open(os.path.join(out, "shop", "bundle", name), "rb") as f:
                    bundle[name] = f.read()
            with open(os.path.join(out, "shop.tar.gz"), "rb") as f:
                return bundle, f.read()

        self.build(root)
        first_bundle, first_archive = outputs()
        # Another working directory, and the project named by a relative path.
        self.build(os.path.basename(root), cwd=os.path.dirname(root))
        self.assertEqual(outputs(), (first_bundle, first_archive))
        self.build(root, cwd="/")
        self.assertEqual(outputs(), (first_bundle, first_archive))
        # Every file touched: modification times change, contents do not.
        for folder, _, files in os.walk(root):
            for name in files:
                os.utime(os.path.join(folder, name), (1_000_000_000, 1_000_000_000))
        self.build(root)
        bundle, archive = outputs()
        self.assertEqual(bundle, first_bundle)
        self.assertEqual(archive, first_archive)

    def test_a_failed_build_leaves_the_previous_output_untouched(self):
        root = self.project()
        self.build(root)
        target = os.path.join(root, "target")
        before = tree_snapshot(target)

        write(os.path.join(root, "api_definitions", "shop.yaml"), SHOP.replace("/items:", "items:"))
        result = run_mgw("build", root)
        self.assertExit(result, 1)
        self.assertIn("nothing was written", result.stderr)
        self.assertEqual(tree_snapshot(target), before)

        # A failure while writing (the output folder cannot be created) leaves nothing either.
        write(os.path.join(root, "api_definitions", "shop.yaml"), SHOP)
        write(os.path.join(self.tmp, "plain-file"), "x")
        blocked = run_mgw("build", root, "-o", os.path.join(self.tmp, "plain-file", "out"))
        self.assertExit(blocked, 1)
        self.assertEqual(tree_snapshot(target), before)
        leftovers = [name for folder in (root, target, self.tmp) for name in os.listdir(folder)
                     if ".tmp-" in name]
        self.assertEqual(leftovers, [])

    def test_a_missing_gateway_runtime_is_a_user_error(self):
        root = self.project()
        result = run_mgw("build", root, env={"MGW_GATEWAY_BINARY": os.path.join(self.tmp, "none")})
        self.assertExit(result, 1)
        self.assertIn("MGW_GATEWAY_BINARY", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(root, "target")))


class ExampleProjectTest(CliTestCase):

    def test_the_example_petstore_validates_and_builds(self):
        example = os.path.join(SOURCE_DIR, "examples", "petstore")
        root = os.path.join(self.tmp, "petstore")
        shutil.copytree(example, root, ignore=shutil.ignore_patterns("target"))
        validate = run_mgw("validate", "--json", root)
        self.assertExit(validate, 0)
        report = json.loads(validate.stdout)
        self.assertEqual(report["project"], "petstore")
        self.assertEqual(report["api_count"], 2)
        self.assertEqual(report["errors"], [])
        build = run_mgw("build", "--json", root, "--k8s")
        self.assertExit(build, 0)
        out = json.loads(build.stdout)["output"]
        mode = os.stat(os.path.join(out, "bin", "gateway")).st_mode
        self.assertTrue(mode & stat.S_IXUSR)
        with open(os.path.join(out, "bundle", "security.json"), encoding="utf-8") as f:
            security = json.load(f)
        self.assertEqual([user["name"] for user in security["basic_users"]], ["admin"])
        self.assertEqual(len(security["static_api_keys"]), 1)
        self.assertEqual(len(security["jwt_issuers"]), 1)


if __name__ == "__main__":
    unittest.main()
