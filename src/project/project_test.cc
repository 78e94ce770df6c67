#include "project/project.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "project/project_testing.h"

namespace mgw::project {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Formatted;
using testing::TempDir;

// A minimal definition with a title, version and base path of our choice.
std::string Definition(const std::string& title, const std::string& version,
                       const std::string& base_path, const std::string& extra = "") {
  return "openapi: 3.0.0\ninfo: {title: " + title + ", version: \"" + version +
         "\"}\nx-wso2-basePath: " + base_path + "\nx-wso2-mock: true\n" + extra +
         "paths:\n  /a: {get: {responses: {\"200\": {description: ok}}}}\n";
}

class LoadProjectTest : public ::testing::Test {
 protected:
  LoadedProject Load(const DefinitionOverlay& overlay = {}) {
    diagnostics_ = {};
    return LoadProject(dir_.Path(), overlay, diagnostics_);
  }
  std::vector<std::string> Errors() const {
    return Formatted(diagnostics_, base::Severity::kError);
  }
  std::vector<std::string> Warnings() const {
    return Formatted(diagnostics_, base::Severity::kWarning);
  }

  TempDir dir_;
  base::Diagnostics diagnostics_;
};

TEST_F(LoadProjectTest, LoadsAProjectIntoASortedModel) {
  dir_.Write("mgw.toml", "[project]\nname = \"shop\"\n");
  dir_.Write("policies.yaml", "resourcePolicies:\n  - Gold: {count: 1, timeUnit: min}\n");
  dir_.Write("api_definitions/z.yaml", Definition("Zebra", "1", "/a-zebra"));
  dir_.Write("api_definitions/sub/a.yaml",
             Definition("Ant", "2", "/z-ant", "x-wso2-throttling-tier: Gold\n"));
  dir_.Write("api_definitions/.hidden/skip.yaml", "not: [valid");
  dir_.Write("api_definitions/notes.txt", "ignored");
  const auto project = Load();
  EXPECT_THAT(Errors(), IsEmpty());
  EXPECT_EQ(project.name, "shop");
  EXPECT_EQ(project.model.project_name, "shop");
  EXPECT_TRUE(project.has_config_file);
  EXPECT_EQ(project.definition_files, (std::vector<std::string>{"sub/a.yaml", "z.yaml"}));
  ASSERT_EQ(project.model.apis.size(), 2u);
  EXPECT_EQ(project.model.apis[0].base_path, "/a-zebra");
  EXPECT_EQ(project.model.apis[1].base_path, "/z-ant");
  EXPECT_EQ(project.model.apis[1].source, "sub/a.yaml");
  EXPECT_EQ(project.model.policies.resource.size(), 1u);
  EXPECT_EQ(ResourceCount(project.model), 2u);
}

TEST_F(LoadProjectTest, WithoutConfigTheFolderNameIsTheProjectName) {
  dir_.Write("api_definitions/api.yaml", Definition("A", "1", "/a"));
  const auto project = Load();
  EXPECT_THAT(Errors(), IsEmpty());
  EXPECT_EQ(project.name, dir_.Path().filename().string());
  EXPECT_FALSE(project.has_config_file);
  EXPECT_THAT(Warnings(), Contains("mgw.toml: warning: no mgw.toml: using the defaults"));
  EXPECT_THAT(Warnings(), Contains(HasSubstr("no policies.yaml")));
}

TEST_F(LoadProjectTest, NoDefinitionsIsAnError) {
  dir_.Write("mgw.toml", "");
  Load();
  EXPECT_THAT(Errors(), ElementsAre(HasSubstr("api_definitions: error: nothing to build")));
  dir_.Write("api_definitions/fragment.yaml", "Error: {type: object}\n");
  Load();
  EXPECT_THAT(Errors(), ElementsAre(HasSubstr("nothing to build")));
  EXPECT_THAT(Warnings(), Contains(HasSubstr("api_definitions/fragment.yaml: warning: not an "
                                             "OpenAPI definition")));
}

TEST_F(LoadProjectTest, AMissingFolderIsAnError) {
  base::Diagnostics diagnostics;
  LoadProject(dir_.Path() / "nope", {}, diagnostics);
  ASSERT_EQ(diagnostics.ErrorCount(), 1u);
  EXPECT_THAT(diagnostics.All()[0].message, HasSubstr("not a project folder"));
}

TEST_F(LoadProjectTest, DuplicateTitleAndVersionIsAnError) {
  dir_.Write("api_definitions/one.yaml", Definition("Orders", "1", "/one"));
  dir_.Write("api_definitions/two.yaml", Definition("Orders", "1", "/two"));
  dir_.Write("api_definitions/three.yaml", Definition("Orders", "2", "/three"));
  Load();
  EXPECT_THAT(Errors(), ElementsAre("api_definitions/two.yaml:1:1: error: API \"Orders\" version "
                                    "\"1\" is duplicated: it is also defined in "
                                    "api_definitions/one.yaml"));
}

TEST_F(LoadProjectTest, DuplicateBasePathIsAnError) {
  dir_.Write("api_definitions/one.yaml", Definition("One", "1", "/same/"));
  dir_.Write("api_definitions/two.yaml", Definition("Two", "1", "/same"));
  Load();
  EXPECT_THAT(Errors(), ElementsAre("api_definitions/two.yaml:3:18: error: base path \"/same\" is "
                                    "also used by api_definitions/one.yaml; set x-wso2-basePath to "
                                    "tell them apart"));
}

TEST_F(LoadProjectTest, AnUnknownTierIsAnErrorWithASuggestion) {
  dir_.Write("policies.yaml", "resourcePolicies:\n  - 10kPerMin: {count: 1, timeUnit: min}\n");
  dir_.Write("api_definitions/api.yaml",
             "openapi: 3.0.0\ninfo: {title: A, version: '1'}\nx-wso2-mock: true\n"
             "x-wso2-throttling-tier: 10kPerMn\npaths:\n"
             "  /a: {get: {x-wso2-throttling-tier: Unlimited, responses: {}}}\n"
             "  /b: {get: {x-wso2-throttling-tier: Platinum, responses: {}}}\n");
  Load();
  EXPECT_THAT(Errors(),
              ElementsAre("api_definitions/api.yaml:4:25: error: API-level throttling tier "
                          "\"10kPerMn\" is not defined in resourcePolicies of policies.yaml; did "
                          "you mean \"10kPerMin\"?",
                          "api_definitions/api.yaml:7:38: error: resource-level throttling tier "
                          "\"Platinum\" is not defined in resourcePolicies of policies.yaml"));
}

TEST_F(LoadProjectTest, EndpointNamesAreGlobalAcrossApis) {
  const std::string backend_a =
      "x-wso2-endpoints:\n  - backend: {urls: [\"http://a\"]}\n"
      "x-wso2-production-endpoints: \"#/x-wso2-endpoints/backend\"\n";
  const std::string backend_b =
      "x-wso2-endpoints:\n  - backend: {urls: [\"http://b\"]}\n"
      "x-wso2-production-endpoints: \"#/x-wso2-endpoints/backend\"\n";
  dir_.Write("api_definitions/one.yaml", Definition("One", "1", "/one", backend_a));
  dir_.Write("api_definitions/two.yaml", Definition("Two", "1", "/two", backend_a));
  auto same = Load();
  EXPECT_THAT(Errors(), IsEmpty());
  ASSERT_EQ(same.model.endpoint_groups.size(), 1u);
  EXPECT_EQ(same.model.endpoint_groups[0].id, "backend.production");

  dir_.Write("api_definitions/two.yaml", Definition("Two", "1", "/two", backend_b));
  Load();
  EXPECT_THAT(Errors(), ElementsAre("api_definitions/two.yaml:6:14: error: endpoint \"backend\" is "
                                    "defined differently in api_definitions/one.yaml; endpoint "
                                    "names are global (they name runtime overrides), so give one "
                                    "of them another name"));
}

TEST_F(LoadProjectTest, CrossFileReferencesWithinTheProjectWork) {
  dir_.Write("api_definitions/api.yaml", R"(openapi: 3.0.0
info: {title: A, version: "1"}
x-wso2-mock: true
paths:
  /pets:
    $ref: "paths/pets.yaml"
)");
  dir_.Write("api_definitions/paths/pets.yaml", R"(get:
  responses:
    "200":
      description: ok
      content: {application/json: {schema: {$ref: "../../common/pet.yaml#/Pet"}}}
)");
  dir_.Write("common/pet.yaml", "Pet: {type: object, example: {name: Rex}}\n");
  const auto project = Load();
  EXPECT_THAT(Errors(), IsEmpty());
  EXPECT_THAT(Warnings(), ::testing::Not(Contains(HasSubstr("not an OpenAPI definition"))));
  ASSERT_EQ(project.model.apis.size(), 1u);
  ASSERT_EQ(project.model.apis[0].resources.size(), 1u);
  EXPECT_EQ(project.model.apis[0].resources[0].mock_responses[0].body, R"({"name":"Rex"})");
  EXPECT_EQ(project.definition_files, std::vector<std::string>{"api.yaml"});
}

TEST_F(LoadProjectTest, ProblemsInAReferencedPathItemNameThatFile) {
  dir_.Write("api_definitions/api.yaml", R"(openapi: 3.0.0
info: {title: A, version: "1"}
x-wso2-mock: true
paths:
  /pets: {$ref: "paths/pets.yaml"}
)");
  dir_.Write("api_definitions/paths/pets.yaml", R"(get:
  x-wso2-application-security: {security-types: [oauth2], bogus: 1}
  x-wso2-production-endpoints: {urls: ["htp://backend"]}
  x-custom: 1
  responses: {"200": {description: ok}}
)");
  Load();
  EXPECT_THAT(Errors(),
              ElementsAre("api_definitions/paths/pets.yaml:2:59: error: "
                          "x-wso2-application-security: unknown field \"bogus\"",
                          "api_definitions/paths/pets.yaml:3:40: error: "
                          "x-wso2-production-endpoints: url \"htp://backend\" is not a valid "
                          "http(s) URL"));
  EXPECT_THAT(Warnings(), Contains("api_definitions/paths/pets.yaml:4: warning: unknown extension "
                                   "x-custom is ignored"));
}

TEST_F(LoadProjectTest, ReportsAllProblemsOfAllFilesAtOnce) {
  dir_.Write("mgw.toml", "[server]\nhttp_port = \"x\"\n");
  dir_.Write("policies.yaml", "resourcePolicies:\n  - A: {count: -1, timeUnit: min}\n");
  dir_.Write("api_definitions/one.yaml", "openapi: 3.0.0\ninfo: {title: One}\npaths: {}\n");
  dir_.Write("api_definitions/two.yaml", Definition("Two", "1", "/two", "x-wso2-cors: 5\n"));
  Load();
  EXPECT_THAT(Errors(), ElementsAre(HasSubstr("api_definitions/one.yaml:2:7: error: info.version"),
                                    HasSubstr("api_definitions/two.yaml:5:14: error: x-wso2-cors "
                                              "must be a map"),
                                    HasSubstr("mgw.toml:2:13: error: server.http_port"),
                                    HasSubstr("policies.yaml:2:16: error: policy \"A\"")));
}

TEST_F(LoadProjectTest, InMemoryDefinitionsAreValidatedWithTheProject) {
  dir_.Write("api_definitions/one.yaml", Definition("One", "1", "/one"));
  const auto project = Load({{"two.yaml", Definition("Two", "1", "/one")}});
  EXPECT_THAT(Errors(), ElementsAre(HasSubstr("api_definitions/two.yaml:3:18: error: base path "
                                              "\"/one\" is also used by api_definitions/one.yaml")));
  const auto fine = Load({{"two.yaml", Definition("Two", "1", "/two")}});
  EXPECT_THAT(Errors(), IsEmpty());
  EXPECT_EQ(fine.model.apis.size(), 2u);
}

TEST_F(LoadProjectTest, ReadsUsersStaticKeysAndIssuersIntoTheModel) {
  dir_.Write("mgw.toml", R"([[auth.jwt]]
issuer = "https://idp"
jwks = "certs/jwks.json"
claims = { scp = "scope" }
[auth.api_keys]
keys_file = "keys.txt"
)");
  dir_.Write("certs/jwks.json", R"({"keys": [{"kty": "oct"}]})");
  dir_.Write("users.htpasswd", "bob:$6$salt$hash:read\n");
  dir_.Write("keys.txt", std::string(64, 'f') + " app Unlimited\n" + std::string(64, 'e') +
                             " other Gold\n");
  dir_.Write("api_definitions/api.yaml", Definition("A", "1", "/a"));
  const auto project = Load();
  EXPECT_THAT(Errors(), ElementsAre("keys.txt: error: application \"other\": tier \"Gold\" is not "
                                    "defined in applicationPolicies"));
  const auto& security = project.model.security;
  ASSERT_EQ(security.jwt_issuers.size(), 1u);
  EXPECT_EQ(security.jwt_issuers[0].jwks_json, R"({"keys": [{"kty": "oct"}]})");
  EXPECT_EQ(security.jwt_issuers[0].claims, (std::vector<std::vector<std::string>>{{"scp", "scope"}}));
  ASSERT_EQ(security.basic_users.size(), 1u);
  EXPECT_EQ(security.basic_users[0].scopes, std::vector<std::string>{"read"});
  EXPECT_EQ(security.static_api_keys.size(), 2u);
}

TEST_F(LoadProjectTest, ReportsMissingAndInvalidKeyFiles) {
  dir_.Write("mgw.toml", R"([[auth.jwt]]
issuer = "https://idp"
certificate = "certs/missing.pem"
[[auth.jwt]]
issuer = "https://other"
jwks = "certs/bad.json"
algorithms = ["HS256"]
[auth.basic]
users_file = "nobody.htpasswd"
)");
  dir_.Write("certs/bad.json", "[]");
  dir_.Write("api_definitions/api.yaml", Definition("A", "1", "/a"));
  Load();
  EXPECT_THAT(Errors(), ElementsAre("mgw.toml: error: auth.jwt.certificate: cannot read "
                                    "\"certs/missing.pem\"",
                                    "mgw.toml: error: auth.basic.users_file \"nobody.htpasswd\" "
                                    "does not exist",
                                    "mgw.toml:4:1: error: jwks \"certs/bad.json\": a JWKS must be "
                                    "an object with a \"keys\" array",
                                    "mgw.toml:4:1: error: issuer \"https://other\" allows HS* "
                                    "algorithms but has no secret_env"));
}

TEST_F(LoadProjectTest, WarnsAboutSecurityNothingCanSatisfy) {
  dir_.Write("api_definitions/api.yaml",
             Definition("A", "1", "/a",
                        "x-wso2-application-security: {security-types: [oauth2, basic_auth, "
                        "api_key]}\n"));
  Load();
  EXPECT_THAT(Errors(), IsEmpty());
  EXPECT_THAT(Warnings(), Contains(HasSubstr("resources require OAuth2/JWT but no [[auth.jwt]]")));
  EXPECT_THAT(Warnings(), Contains(HasSubstr("resources accept Basic auth but there are no users")));
  EXPECT_THAT(Warnings(), Contains(HasSubstr("resources accept API keys but [auth.api_keys] has no "
                                             "issuer or keys_file")));
}

TEST_F(LoadProjectTest, RefusesAProjectNameUnfitForAFolder) {
  dir_.Write("mgw.toml", "[project]\nname = \"my shop\"\n");
  dir_.Write("api_definitions/api.yaml", Definition("A", "1", "/a"));
  Load();
  EXPECT_THAT(Errors(), ElementsAre(HasSubstr("project name \"my shop\" may contain only")));
}

TEST(IsValidProjectNameTest, AllowsLettersDigitsDotsUnderscoresAndDashes) {
  EXPECT_TRUE(IsValidProjectName("petstore"));
  EXPECT_TRUE(IsValidProjectName("Pet.Store_v1-2"));
  EXPECT_FALSE(IsValidProjectName(""));
  EXPECT_FALSE(IsValidProjectName("."));
  EXPECT_FALSE(IsValidProjectName(".."));
  EXPECT_FALSE(IsValidProjectName("a/b"));
  EXPECT_FALSE(IsValidProjectName("a b"));
  EXPECT_FALSE(IsValidProjectName(std::string(129, 'a')));
}

}  // namespace
}  // namespace mgw::project
