"""Real-world and reference OpenAPI definitions through `mgw validate` and `mgw build`.

Each definition of the shared corpora becomes a one-API project (made build-able by injecting
`x-wso2-mock: true` at its root); the OAS 3.1 "fail" fixtures and malformed files must give exit 1
with a clear error and never a crash.
"""
import glob
import json
import os
import shutil
import unittest

from mgwtest import CORPORA, TempDirTestCase, diagnostics, inject_mock, run_mgw, write

OAI = os.path.join(CORPORA, "openapi-oai-examples")
EXAMPLES = os.path.join(OAI, "examples")
SEPARATE = "petstore-separate"


def definitions(pattern_root, recursive=True):
    """Every .json/.yaml/.yml under pattern_root, sorted, without the multi-file example's parts."""
    found = []
    for extension in ("json", "yaml", "yml"):
        pattern = os.path.join(pattern_root, "**" if recursive else "", "*." + extension)
        found += glob.glob(pattern, recursive=recursive)
    return sorted(path for path in found if SEPARATE not in path.split(os.sep))


class CorpusTestCase(TempDirTestCase):

    def assertExit(self, result, code, what):
        self.assertEqual(result.returncode, code,
                         f"{what}: exit {result.returncode}, expected {code}\n"
                         f"stderr:\n{result.stderr[-4000:]}")
        self.assertNotIn("internal error", result.stderr, what)

    def project_with(self, source, name):
        """A one-API project holding a mock-injected copy of `source`."""
        root = os.path.join(self.tmp, name)
        if os.path.exists(root):
            shutil.rmtree(root)
        with open(source, encoding="utf-8") as f:
            text = f.read()
        target = os.path.join(root, "api_definitions", os.path.basename(source))
        write(target, inject_mock(text, source.endswith(".json")))
        write(os.path.join(root, "mgw.toml"), f'[project]\nname = "{name}"\n')
        return root

    def validate_and_build(self, root, what, resources_at_least=1):
        validate = run_mgw("validate", "--json", root)
        self.assertExit(validate, 0, what + " (validate)")
        report = json.loads(validate.stdout)
        self.assertEqual(report["api_count"], 1, what)
        self.assertGreaterEqual(report["resource_count"], resources_at_least, what)
        build = run_mgw("build", "--quiet", root)
        self.assertExit(build, 0, what + " (build)")
        name = os.path.basename(root)
        self.assertTrue(os.path.isfile(os.path.join(root, "target", name, "bundle",
                                                    "manifest.json")), what)
        self.assertTrue(os.path.isfile(os.path.join(root, "target", name + ".tar.gz")), what)
        shutil.rmtree(os.path.join(root, "target"))
        return report


class PassingCorpusTest(CorpusTestCase):

    def check_all(self, sources, count):
        self.assertEqual(len(sources), count, "the whole corpus is where it should be")
        for index, source in enumerate(sources):
            what = os.path.relpath(source, CORPORA)
            with self.subTest(definition=what):
                self.validate_and_build(self.project_with(source, f"api{index}"), what,
                                        resources_at_least=0)

    def test_every_oai_example_builds(self):
        self.check_all(definitions(EXAMPLES), 30)

    def test_every_oas31_passing_fixture_builds(self):
        self.check_all(definitions(os.path.join(OAI, "oas31-schema-tests", "pass")), 35)

    def test_every_real_world_definition_builds(self):
        sources = (definitions(os.path.join(CORPORA, "openapi-real-world", "large"))
                   + definitions(os.path.join(CORPORA, "openapi-real-world", "medium")))
        self.assertEqual(len(sources), 12)
        for index, source in enumerate(sources):
            what = os.path.relpath(source, CORPORA)
            with self.subTest(definition=what):
                report = self.validate_and_build(self.project_with(source, f"real{index}"), what)
                # Large definitions really are read in full.
                if "/large/" in source:
                    self.assertGreater(report["resource_count"], 50, what)

    def test_the_multi_file_petstore_builds_with_its_relative_refs(self):
        for flavour in ("json", "yaml"):
            with self.subTest(flavour=flavour):
                root = os.path.join(self.tmp, "separate-" + flavour)
                shutil.copytree(os.path.join(EXAMPLES, "v2.0", flavour, SEPARATE),
                                os.path.join(root, "api_definitions"))
                main = os.path.join(root, "api_definitions", "spec", "swagger." + flavour)
                with open(main, encoding="utf-8") as f:
                    text = f.read()
                write(main, inject_mock(text, flavour == "json"))
                write(os.path.join(root, "mgw.toml"), "")
                report = self.validate_and_build(root, SEPARATE + " " + flavour)
                self.assertEqual(report["resource_count"], 4)
                self.assertEqual(report["apis"][0]["source"], "api_definitions/spec/swagger." +
                                 flavour)
                # The referenced parts are used, not reported as stray files.
                self.assertEqual([w["file"] for w in report["warnings"]
                                  if "not an OpenAPI definition" in w["message"]], [])


class FailingCorpusTest(CorpusTestCase):

    def test_every_oas31_failing_fixture_is_a_user_error(self):
        sources = definitions(os.path.join(OAI, "oas31-schema-tests", "fail"))
        self.assertEqual(len(sources), 11)
        for index, source in enumerate(sources):
            what = os.path.relpath(source, CORPORA)
            with self.subTest(definition=what):
                root = self.project_with(source, f"fail{index}")
                label = "api_definitions/" + os.path.basename(source)
                for command in ("validate", "build"):
                    result = run_mgw(command, root)
                    self.assertExit(result, 1, f"{what} ({command})")
                    errors = diagnostics(result.stderr)
                    self.assertTrue(errors, f"{what}: no file:line:col: error: line\n"
                                            f"{result.stderr}")
                    self.assertIn(label, {m.group("file") for m in errors}, what)
                self.assertFalse(os.path.exists(os.path.join(root, "target")), what)


def alias_bomb():
    lines = ["openapi: 3.0.0", "info: {title: Bomb, version: '1'}", "x-wso2-mock: true",
             "paths: {}", "x-lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 12):
        lines.append(f"x-lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


MALFORMED = {
    # name: (bytes, a substring of the error the user sees)
    "garbage.yaml": (bytes(range(256)) * 64 + b"\x00\xff\xfe", None),
    "truncated.json": (b'{"openapi": "3.0.0", "info": {"title": "T", "version": "1"}, "paths": {"/a',
                       "cannot parse"),
    "bomb.yaml": (alias_bomb().encode(), "alias bomb"),
    "deep.json": (b'{"openapi": "3.0.0", "info": {"title": "T", "version": "1"}, "paths": {},'
                  b' "x-deep": ' + b"[" * 10000 + b"]" * 10000 + b"}", "nested too deeply"),
    "deep.yaml": (b"openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {}\nx-deep:\n"
                  + b"".join(b" " * (i + 1) + b"a:\n" for i in range(10000)), "nested too deeply"),
    "empty.yaml": (b"", None),
    "list.yaml": (b"- openapi: 3.0.0\n- info: {title: T, version: '1'}\n", None),
    "scalar.json": (b'"openapi 3.0.0"', None),
    "nulls.yaml": (b"~\n", None),
}


class MalformedFileTest(CorpusTestCase):

    def test_malformed_files_are_user_errors_with_a_clear_message(self):
        for name, (data, message) in sorted(MALFORMED.items()):
            with self.subTest(file=name):
                root = os.path.join(self.tmp, name.replace(".", "-"))
                os.makedirs(os.path.join(root, "api_definitions"))
                with open(os.path.join(root, "api_definitions", name), "wb") as f:
                    f.write(data)
                write(os.path.join(root, "mgw.toml"), "")
                for command in ("validate", "build"):
                    result = run_mgw(command, root, timeout=60)
                    self.assertExit(result, 1, f"{name} ({command})")
                    self.assertIn("error:", result.stderr)
                    label = "api_definitions/" + name
                    self.assertIn(label, result.stderr, "the file is named")
                    if message is not None:
                        own = [m.group(0) for m in diagnostics(result.stderr)
                               if m.group("file") == label]
                        own += [line for line in result.stderr.splitlines()
                                if line.startswith(label + ": error:")]
                        self.assertTrue(any(message in line for line in own), result.stderr)
                    else:
                        # Not a definition at all: it is named, and nothing is built.
                        self.assertIn("nothing to build", result.stderr)
                self.assertFalse(os.path.exists(os.path.join(root, "target")))

    def test_a_malformed_file_beside_a_good_one_fails_the_build(self):
        root = os.path.join(self.tmp, "mixed")
        write(os.path.join(root, "mgw.toml"), "")
        write(os.path.join(root, "api_definitions", "good.yaml"),
              "openapi: 3.0.0\ninfo: {title: Good, version: '1'}\nx-wso2-mock: true\n"
              "paths: {/a: {get: {responses: {}}}}\n")
        write(os.path.join(root, "api_definitions", "bomb.yaml"), alias_bomb())
        write(os.path.join(root, "api_definitions", "truncated.json"), '{"openapi": "3.0.0", ')
        result = run_mgw("build", root)
        self.assertExit(result, 1, "mixed")
        errors = {m.group("file") for m in diagnostics(result.stderr)}
        self.assertIn("api_definitions/truncated.json", errors)
        self.assertIn("api_definitions/bomb.yaml: error: cannot parse", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(root, "target")))


if __name__ == "__main__":
    unittest.main()
