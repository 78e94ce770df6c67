#include "project/openapi.h"

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
using testing::ReadDefinition;
using testing::ReadResult;

// Replaces every "x-PFX-" in `text` with `prefix` ("x-wso2-" or "x-mgw-").
std::string WithPrefix(std::string text, const std::string& prefix) {
  for (auto at = text.find("x-PFX-"); at != std::string::npos; at = text.find("x-PFX-")) {
    text.replace(at, 6, prefix);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// The basics.

TEST(ReadApiTest, ReadsInfoVersionAndOperationsSortedByPathThenMethod) {
  const auto r = ReadDefinition(R"(openapi: 3.0.3
info: {title: Shop, version: v1}
servers: [{url: "https://backend.example/shop/"}]
paths:
  /orders:
    post: {operationId: createOrder, responses: {"201": {description: ok}}}
    get: {operationId: listOrders, responses: {"200": {description: ok}}}
  /items/{id}:
    delete: {responses: {"204": {description: ok}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto& api = r.draft->api;
  EXPECT_EQ(api.title, "Shop");
  EXPECT_EQ(api.version, "v1");
  EXPECT_EQ(api.openapi_version, "3.0.3");
  EXPECT_EQ(api.source, "api.yaml");
  EXPECT_EQ(api.base_path, "/shop");
  EXPECT_EQ(api.transports, (std::vector<std::string>{"http", "https"}));
  ASSERT_EQ(api.resources.size(), 3u);
  EXPECT_EQ(api.resources[0].method, "DELETE");
  EXPECT_EQ(api.resources[0].path_template, "/items/{id}");
  EXPECT_EQ(api.resources[0].operation_id, "");
  EXPECT_EQ(api.resources[1].method, "GET");
  EXPECT_EQ(api.resources[1].operation_id, "listOrders");
  EXPECT_EQ(api.resources[2].method, "POST");
}

TEST(ReadApiTest, AcceptsOpenApi31AndSwagger20) {
  const auto v31 = ReadDefinition(R"(openapi: 3.1.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths: {/a: {get: {responses: {"200": {description: ok}}}}}
)");
  ASSERT_TRUE(v31.draft);
  EXPECT_EQ(v31.draft->api.openapi_version, "3.1.0");
  EXPECT_THAT(v31.Errors(), IsEmpty());
  const auto v2 = ReadDefinition(R"(swagger: "2.0"
info: {title: T, version: "1"}
host: api.example
paths: {/a: {get: {responses: {"200": {description: ok}}}}}
)");
  ASSERT_TRUE(v2.draft);
  EXPECT_EQ(v2.draft->api.openapi_version, "2.0");
  EXPECT_THAT(v2.Errors(), IsEmpty());
}

TEST(ReadApiTest, RefusesUnsupportedVersions) {
  const auto v4 = ReadDefinition("openapi: 4.0.0\ninfo: {title: T, version: '1'}\npaths: {}\n");
  EXPECT_FALSE(v4.draft);
  EXPECT_THAT(v4.Errors(), ElementsAre("api_definitions/api.yaml:1:10: error: openapi \"4.0.0\" is "
                                       "not supported (2.0, 3.0.x and 3.1.x are)"));
  const auto v12 = ReadDefinition("swagger: '1.2'\ninfo: {title: T, version: '1'}\npaths: {}\n");
  EXPECT_FALSE(v12.draft);
  EXPECT_THAT(v12.Errors(), ElementsAre(HasSubstr("only \"2.0\" is supported")));
}

TEST(ReadApiTest, RequiresTitleAndVersion) {
  const auto r = ReadDefinition("openapi: 3.0.0\ninfo: {description: x}\npaths: {}\n");
  EXPECT_FALSE(r.draft);
  EXPECT_THAT(r.Errors(), ElementsAre(HasSubstr("info.title is required"),
                                      HasSubstr("info.version is required")));
}

TEST(ReadApiTest, AnUnknownTopLevelFieldIsAnErrorWithASuggestion) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
pathz: {}
paths: {}
)");
  EXPECT_THAT(r.Errors(), ElementsAre("api_definitions/api.yaml:4:1: error: unknown top-level field "
                                      "\"pathz\"; did you mean \"paths\"?"));
}

// ---------------------------------------------------------------------------------------------
// Every extension, under x-wso2- and under its x-mgw- synonym.

class ExtensionTest : public ::testing::TestWithParam<std::string> {
 protected:
  ReadResult Read(const std::string& text) { return ReadDefinition(WithPrefix(text, GetParam())); }
};

INSTANTIATE_TEST_SUITE_P(Prefixes, ExtensionTest, ::testing::Values("x-wso2-", "x-mgw-"),
                         [](const ::testing::TestParamInfo<std::string>& prefix) {
                           return prefix.param == "x-wso2-" ? std::string("Wso2")
                                                            : std::string("Mgw");
                         });

TEST_P(ExtensionTest, BasePathReplacesVersionAndDropsTheTrailingSlash) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: v2}
servers: [{url: "https://backend.example/other"}]
x-PFX-basePath: /shop/{version}/
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.draft->api.base_path, "/shop/v2");
  EXPECT_EQ(r.draft->base_path_location.line, 4);
}

TEST_P(ExtensionTest, BasePathMayNotHoldOtherTemplates) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: v2}
x-PFX-basePath: /shop/{tenant}
paths: {}
)");
  EXPECT_THAT(r.Errors(), ElementsAre(HasSubstr("api.yaml:3:" + std::to_string(GetParam().size() + 11) + ": error: " + GetParam() +
                                                "basePath \"/shop/{tenant}\" may not contain")));
}

TEST_P(ExtensionTest, ApiLevelEndpointsAreNamedAfterTitleAndVersion) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: Shop, version: v1}
x-PFX-production-endpoints:
  urls: ["https://prod.example/api/"]
x-PFX-sandbox-endpoints:
  urls: ["https://sandbox-1.example", "https://sandbox-2.example"]
paths:
  /a: {get: {responses: {"200": {description: ok}}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto* production = r.Group("Shop_v1.production");
  ASSERT_NE(production, nullptr);
  EXPECT_EQ(production->name, "Shop_v1");
  EXPECT_EQ(production->environment, "production");
  EXPECT_EQ(production->urls, std::vector<std::string>{"https://prod.example/api"});
  EXPECT_EQ(production->type, "http");
  EXPECT_EQ(production->timeout_ms, 60000);
  const auto* sandbox = r.Group("Shop_v1.sandbox");
  ASSERT_NE(sandbox, nullptr);
  EXPECT_EQ(sandbox->type, "load_balance");
  const auto* resource = r.Resource("GET", "/a");
  ASSERT_NE(resource, nullptr);
  EXPECT_EQ(resource->production_endpoint, "Shop_v1.production");
  EXPECT_EQ(resource->sandbox_endpoint, "Shop_v1.sandbox");
}

TEST_P(ExtensionTest, NamedEndpointsAreReferencedByName) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: Shop, version: v1}
x-PFX-endpoints:
  - backend:
      urls: ["http://10.0.0.1:8080", "http://10.0.0.2:8080"]
      type: failover
  - other:
      urls: ["http://10.0.0.3"]
x-PFX-production-endpoints: "#/x-PFX-endpoints/backend"
paths:
  /a:
    get:
      x-PFX-sandbox-endpoints: "#/x-wso2-endpoints/other"
      responses: {"200": {description: ok}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto* backend = r.Group("backend.production");
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->name, "backend");
  EXPECT_EQ(backend->type, "failover");
  EXPECT_EQ(backend->urls.size(), 2u);
  const auto* other = r.Group("other.sandbox");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->environment, "sandbox");
  EXPECT_EQ(r.Resource("GET", "/a")->production_endpoint, "backend.production");
  EXPECT_EQ(r.Resource("GET", "/a")->sandbox_endpoint, "other.sandbox");
}

TEST_P(ExtensionTest, ThrottlingTierAtBothLevels) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: true
x-PFX-throttling-tier: 10kPerMin
paths:
  /a:
    get: {x-PFX-throttling-tier: Gold, responses: {"200": {description: ok}}}
    put: {responses: {"200": {description: ok}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.draft->api.throttling_tier, "10kPerMin");
  EXPECT_EQ(r.Resource("GET", "/a")->throttling_tier, "Gold");
  EXPECT_EQ(r.Resource("PUT", "/a")->throttling_tier, "");
  ASSERT_EQ(r.draft->tiers.size(), 2u);
  EXPECT_EQ(r.draft->tiers[0].tier, "10kPerMin");
  EXPECT_EQ(r.draft->tiers[0].level, "API");
  EXPECT_EQ(r.draft->tiers[0].location.line, 4);
  EXPECT_EQ(r.draft->tiers[1].level, "resource");
}

TEST_P(ExtensionTest, DisableSecurityAtTheResourceWinsOverTheApi) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: true
x-PFX-disable-security: true
paths:
  /open: {get: {responses: {"200": {description: ok}}}}
  /closed: {get: {x-PFX-disable-security: false, responses: {"200": {description: ok}}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_TRUE(r.Resource("GET", "/open")->security.disabled);
  EXPECT_FALSE(r.Resource("GET", "/closed")->security.disabled);
  EXPECT_EQ(r.Resource("GET", "/closed")->security.types, std::vector<std::string>{"oauth2"});
}

TEST_P(ExtensionTest, DisableSecurityMustBeABooleanNotAString) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: true
paths:
  /a: {get: {x-PFX-disable-security: "true", responses: {"200": {description: ok}}}}
  /b: {get: {x-PFX-disable-security: yes, responses: {"200": {description: ok}}}}
)");
  ASSERT_TRUE(r.draft);
  const std::string name = GetParam() + "disable-security";
  EXPECT_THAT(r.Errors(),
              ElementsAre("api_definitions/api.yaml:5:" + std::to_string(name.size() + 16) +
                              ": error: " + name + " must be true or false",
                          HasSubstr("api.yaml:6:")));
  EXPECT_FALSE(r.Resource("GET", "/a")->security.disabled);
}

TEST_P(ExtensionTest, AuthHeaderNamesTheCredentialsHeader) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: true
x-PFX-auth-header: X-Api-Token
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.draft->api.auth_header, "X-Api-Token");
  const auto bad = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-auth-header: "Not A Header"
paths: {}
)");
  EXPECT_THAT(bad.Errors(),
              ElementsAre(HasSubstr(GetParam() + "auth-header must be an HTTP header name")));
}

TEST_P(ExtensionTest, CorsReadsEveryListAndFlag) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: true
x-PFX-cors:
  access-control-allow-origins: ["https://a.example"]
  access-control-allow-headers: [authorization, x-custom]
  access-control-allow-methods: [GET]
  access-control-expose-headers: [X-Correlation-ID]
  access-control-allow-credentials: true
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto& cors = r.draft->api.cors;
  EXPECT_TRUE(cors.enabled);
  EXPECT_EQ(cors.allow_origins, std::vector<std::string>{"https://a.example"});
  EXPECT_EQ(cors.allow_headers, (std::vector<std::string>{"authorization", "x-custom"}));
  EXPECT_EQ(cors.allow_methods, std::vector<std::string>{"GET"});
  EXPECT_EQ(cors.expose_headers, std::vector<std::string>{"X-Correlation-ID"});
  EXPECT_TRUE(cors.allow_credentials);
}

TEST_P(ExtensionTest, ApplicationSecurityReplacesTheTypes) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: true
x-PFX-application-security:
  security-types: [basic_auth, api_key]
  optional: true
paths:
  /a: {get: {responses: {"200": {description: ok}}}}
  /b:
    get:
      x-PFX-application-security: {security-types: [oauth2]}
      responses: {"200": {description: ok}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto& a = r.Resource("GET", "/a")->security;
  EXPECT_EQ(a.types, (std::vector<std::string>{"basic_auth", "api_key"}));
  EXPECT_TRUE(a.optional);
  // WSO2's default places for an API key when no apiKey scheme names one.
  ASSERT_EQ(a.api_keys.size(), 2u);
  EXPECT_EQ(a.api_keys[0].in, "header");
  EXPECT_EQ(a.api_keys[0].name, "apikey");
  EXPECT_EQ(a.api_keys[1].in, "query");
  EXPECT_EQ(a.api_keys[1].name, "apikey");
  const auto& b = r.Resource("GET", "/b")->security;
  EXPECT_EQ(b.types, std::vector<std::string>{"oauth2"});
  EXPECT_FALSE(b.optional);
  EXPECT_TRUE(b.api_keys.empty());
}

TEST_P(ExtensionTest, TransportsAreALowerCasedSortedSet) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: true
x-PFX-transports: [HTTPS, https]
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.draft->api.transports, std::vector<std::string>{"https"});
  const auto bad = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-transports: [http, ftp]
paths: {}
)");
  EXPECT_THAT(bad.Errors(), ElementsAre(HasSubstr("unknown transport \"ftp\"")));
}

TEST_P(ExtensionTest, MockAtTheApiOrTheResource) {
  const auto r = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-production-endpoints: {urls: ["http://backend"]}
paths:
  /real: {get: {responses: {"200": {description: ok}}}}
  /fake: {get: {x-PFX-mock: true, responses: {"200": {description: ok}}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_FALSE(r.Resource("GET", "/real")->mock);
  EXPECT_TRUE(r.Resource("GET", "/fake")->mock);
  const auto bad = Read(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-PFX-mock: "yes"
paths: {}
)");
  EXPECT_THAT(bad.Errors(), ElementsAre(HasSubstr(GetParam() + "mock must be true or false")));
}

TEST(ExtensionNamesTest, TheWso2SpellingWinsWhenBothAreSet) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-basePath: /wso2
x-mgw-basePath: /mgw
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_EQ(r.draft->api.base_path, "/wso2");
  EXPECT_THAT(r.Warnings(), Contains("api_definitions/api.yaml:4:17: warning: x-mgw-basePath is "
                                     "ignored: x-wso2-basePath is also set here"));
}

TEST(ExtensionNamesTest, UnknownAndUnsupportedExtensionsAreWarnings) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
x-wso2-basepath: /typo
x-wso2-request-interceptor: intercept
x-internal-id: 7
paths:
  /a: {get: {x-internal-id: 8, responses: {"200": {description: ok}}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_THAT(r.Warnings(),
              ElementsAre("api_definitions/api.yaml:1:1: warning: no x-wso2-basePath and no servers: "
                          "the API is served at /",
                          "api_definitions/api.yaml:4:1: warning: unknown extension x-wso2-basepath "
                          "is ignored; did you mean x-wso2-basePath?",
                          "api_definitions/api.yaml:5:1: warning: x-wso2-request-interceptor is "
                          "not supported by mgw and is ignored",
                          "api_definitions/api.yaml:6: warning: unknown extension x-internal-id is "
                          "ignored (2 places)"));
}

TEST(ExtensionNamesTest, TheThrottlingTierHasTheShortAlias) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
x-throttling-tier: Silver
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_EQ(r.draft->api.throttling_tier, "Silver");
  EXPECT_THAT(r.Warnings(), ::testing::Not(Contains(HasSubstr("x-throttling-tier"))));
}

TEST(ExtensionNamesTest, CorsAcceptsCamelCaseAndSnakeCaseAndHasDefaults) {
  const auto camel = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
x-wso2-cors:
  accessControlAllowOrigins: ["https://camel.example"]
  access_control_allow_methods: [PATCH]
  accessControlAllowCredentials: false
paths: {}
)");
  ASSERT_TRUE(camel.draft);
  EXPECT_THAT(camel.Errors(), IsEmpty());
  const auto& cors = camel.draft->api.cors;
  EXPECT_EQ(cors.allow_origins, std::vector<std::string>{"https://camel.example"});
  EXPECT_EQ(cors.allow_methods, std::vector<std::string>{"PATCH"});
  EXPECT_EQ(cors.allow_headers, (std::vector<std::string>{"authorization",
                                                          "Access-Control-Allow-Origin",
                                                          "Content-Type", "SOAPAction"}));
  EXPECT_FALSE(cors.allow_credentials);

  const auto defaults = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
x-wso2-cors: {}
paths: {}
)");
  ASSERT_TRUE(defaults.draft);
  EXPECT_TRUE(defaults.draft->api.cors.enabled);
  EXPECT_EQ(defaults.draft->api.cors.allow_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(defaults.draft->api.cors.allow_methods,
            (std::vector<std::string>{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"}));

  const auto off = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
x-wso2-cors: {corsConfigurationEnabled: false}
paths: {}
)");
  ASSERT_TRUE(off.draft);
  EXPECT_FALSE(off.draft->api.cors.enabled);
  EXPECT_FALSE(ReadDefinition("openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {}\n")
                   .draft->api.cors.enabled);
}

TEST(ExtensionNamesTest, CorsRefusesUnknownFieldsAndWarnsAboutCredentialsWithAnyOrigin) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
x-wso2-cors:
  access-control-allow-origin: ["https://a.example"]
  access-control-allow-credentials: true
paths: {}
)");
  EXPECT_THAT(r.Errors(),
              ElementsAre("api_definitions/api.yaml:5:3: error: x-wso2-cors: unknown field "
                          "\"access-control-allow-origin\"; did you mean "
                          "\"access-control-allow-origins\"?"));
  EXPECT_THAT(r.Warnings(), Contains(HasSubstr("credentials with origin \"*\"")));
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

TEST(EndpointsTest, ResourceEndpointsOverrideTheApiAndAreNamedAfterTheOperation) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: Shop, version: v1}
x-wso2-production-endpoints: {urls: ["http://api-backend"]}
paths:
  /items/{id}:
    get:
      operationId: getItem
      x-wso2-production-endpoints: {urls: ["http://item-backend"]}
      responses: {"200": {description: ok}}
    put:
      x-wso2-sandbox-endpoints: {urls: ["http://sandbox-a", "http://sandbox-b"], type: failover}
      responses: {"200": {description: ok}}
    delete: {responses: {"200": {description: ok}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.Resource("GET", "/items/{id}")->production_endpoint, "Shop_v1_getItem.production");
  EXPECT_EQ(r.Resource("PUT", "/items/{id}")->production_endpoint, "Shop_v1.production");
  EXPECT_EQ(r.Resource("PUT", "/items/{id}")->sandbox_endpoint,
            "Shop_v1_PUT_/items/{id}.sandbox");
  EXPECT_EQ(r.Resource("DELETE", "/items/{id}")->production_endpoint, "Shop_v1.production");
  EXPECT_EQ(r.Resource("DELETE", "/items/{id}")->sandbox_endpoint, "");
  const auto* item = r.Group("Shop_v1_getItem.production");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->urls, std::vector<std::string>{"http://item-backend"});
  EXPECT_EQ(r.Group("Shop_v1_PUT_/items/{id}.sandbox")->type, "failover");
  EXPECT_EQ(r.draft->endpoint_groups.size(), 3u);
}

TEST(EndpointsTest, ServersAreTheDefaultProductionEndpoints) {
  const auto one = ReadDefinition(R"(openapi: 3.0.0
info: {title: Shop, version: v1}
servers: [{url: "https://one.example/api/"}]
paths: {/a: {get: {responses: {"200": {description: ok}}}}}
)");
  ASSERT_TRUE(one.draft);
  const auto* group = one.Group("Shop_v1.production");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->urls, std::vector<std::string>{"https://one.example/api"});
  EXPECT_EQ(group->type, "http");
  EXPECT_EQ(one.Resource("GET", "/a")->production_endpoint, "Shop_v1.production");

  const auto two = ReadDefinition(R"(openapi: 3.0.0
info: {title: Shop, version: v1}
servers: [{url: "https://one.example/api"}, {url: "/relative"}, {url: "http://two.example/api"}]
paths: {/a: {get: {responses: {"200": {description: ok}}}}}
)");
  ASSERT_TRUE(two.draft);
  EXPECT_EQ(two.Group("Shop_v1.production")->urls,
            (std::vector<std::string>{"https://one.example/api", "http://two.example/api"}));
  EXPECT_EQ(two.Group("Shop_v1.production")->type, "load_balance");
}

TEST(EndpointsTest, TypeDefaultsFollowTheNumberOfUrls) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-endpoints:
  - one: {urls: ["http://a"]}
  - many: {urls: ["http://a", "http://b"]}
  - fail: {urls: ["http://a", "http://b"], type: failover}
  - single-failover: {urls: ["http://a"], type: failover}
paths:
  /1: {get: {x-wso2-production-endpoints: "#/x-wso2-endpoints/one", responses: {}}}
  /2: {get: {x-wso2-production-endpoints: "#/x-wso2-endpoints/many", responses: {}}}
  /3: {get: {x-wso2-production-endpoints: "#/x-wso2-endpoints/fail", responses: {}}}
  /4: {get: {x-wso2-production-endpoints: "#/x-wso2-endpoints/single-failover", responses: {}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.Group("one.production")->type, "http");
  EXPECT_EQ(r.Group("many.production")->type, "load_balance");
  EXPECT_EQ(r.Group("fail.production")->type, "failover");
  EXPECT_EQ(r.Group("single-failover.production")->type, "http");
}

TEST(EndpointsTest, AnUnknownReferenceSuggestsAKnownName) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-endpoints:
  - backend: {urls: ["http://a"]}
x-wso2-production-endpoints: "#/x-wso2-endpoints/backnd"
paths: {/a: {get: {responses: {}}}}
)");
  EXPECT_THAT(r.Errors(),
              ElementsAre("api_definitions/api.yaml:5:30: error: x-wso2-production-endpoints: "
                          "unknown endpoint reference \"backnd\"; did you mean \"backend\"?"));
}

TEST(EndpointsTest, AReferenceMustPointIntoTheEndpointsExtension) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-production-endpoints: "backend"
paths: {}
)");
  EXPECT_THAT(r.Errors(), ElementsAre(HasSubstr("\"backend\" is not a reference of the form "
                                                "\"#/x-wso2-endpoints/<name>\"")));
}

TEST(EndpointsTest, EveryBadUrlIsReportedAtItsPlace) {
  const auto r = ReadDefinition(R"yaml(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-production-endpoints:
  urls:
    - "htp://x"
    - "http://"
    - "http://user:pw@host"
    - "etcd(key, http://default)"
    - "http://host/#frag"
    - "http://good.example"
paths: {}
)yaml");
  EXPECT_THAT(r.Errors(),
              ElementsAre("api_definitions/api.yaml:5:7: error: x-wso2-production-endpoints: url "
                          "\"htp://x\" is not a valid http(s) URL",
                          "api_definitions/api.yaml:6:7: error: x-wso2-production-endpoints: url "
                          "\"http://\" has no host",
                          HasSubstr("api.yaml:7:7: error: x-wso2-production-endpoints: url "
                                    "\"http://user:pw@host\": credentials in the URL are not "
                                    "allowed"),
                          HasSubstr("api.yaml:8:7: error: x-wso2-production-endpoints: url "
                                    "\"etcd(key, http://default)\": etcd service discovery is not "
                                    "supported"),
                          HasSubstr("api.yaml:9:7: error: x-wso2-production-endpoints: url "
                                    "\"http://host/#frag\" is not a valid http(s) URL")));
}

TEST(EndpointsTest, EndpointObjectsRefuseUnknownFieldsAndEmptyUrls) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-production-endpoints: {url: ["http://a"]}
x-wso2-sandbox-endpoints: {urls: [], type: round_robin}
paths: {}
)");
  EXPECT_THAT(r.Errors(),
              ElementsAre(HasSubstr("3:30: error: x-wso2-production-endpoints: urls must be a "
                                    "non-empty list of URLs"),
                          HasSubstr("3:31: error: x-wso2-production-endpoints: unknown field "
                                    "\"url\"; did you mean \"urls\"?"),
                          HasSubstr("4:34: error: x-wso2-sandbox-endpoints: urls must be a "
                                    "non-empty list"),
                          HasSubstr("4:44: error: x-wso2-sandbox-endpoints: type must be http, "
                                    "load_balance or failover")));
}

TEST(EndpointsTest, AResourceWithNeitherEndpointNorMockIsAnError) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
paths:
  /a:
    get: {responses: {"200": {description: ok}}}
)");
  EXPECT_THAT(r.Errors(), ElementsAre(HasSubstr("api.yaml:5:10: error: GET /a has no endpoint")));
}

TEST(EndpointsTest, ReadsEveryAdvanceEndpointConfigField) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-production-endpoints:
  urls: ["http://a"]
  securityConfig: {type: basic, username: svc, password: "s3cret"}
  advanceEndpointConfig:
    timeoutInMillis: 5000
    retryConfig:
      count: 3
      intervalInMillis: 100
      backOffFactor: 2.5
      maxWaitIntervalInMillis: 1000
      statusCodes: [502, 503]
    circuitBreaker:
      rollingWindow: {requestVolumeThreshold: 5, timeWindowInMillis: 10000}
      failureThreshold: 0.5
      resetTimeInMillis: 30000
      statusCodes: [500]
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto* group = r.Group("T_1.production");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->timeout_ms, 5000);
  EXPECT_EQ(group->retry.count, 3);
  EXPECT_EQ(group->retry.interval_ms, 100);
  EXPECT_DOUBLE_EQ(group->retry.back_off_factor, 2.5);
  EXPECT_EQ(group->retry.max_wait_interval_ms, 1000);
  EXPECT_EQ(group->retry.status_codes, (std::vector<int>{502, 503}));
  EXPECT_TRUE(group->circuit_breaker.enabled);
  EXPECT_EQ(group->circuit_breaker.request_volume_threshold, 5);
  EXPECT_EQ(group->circuit_breaker.time_window_ms, 10000);
  EXPECT_DOUBLE_EQ(group->circuit_breaker.failure_threshold, 0.5);
  EXPECT_EQ(group->circuit_breaker.reset_time_ms, 30000);
  EXPECT_EQ(group->circuit_breaker.status_codes, std::vector<int>{500});
  ASSERT_TRUE(group->security.has_value());
  EXPECT_EQ(group->security->type, "basic");
  EXPECT_EQ(group->security->username, "svc");
  EXPECT_EQ(group->security->password, "s3cret");
}

TEST(EndpointsTest, WithoutAdvanceEndpointConfigTheDefaultsApply) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-production-endpoints: {urls: ["http://a"]}
paths: {}
)");
  const auto* group = r.Group("T_1.production");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->timeout_ms, 60000);
  EXPECT_EQ(group->retry.count, 0);
  EXPECT_FALSE(group->circuit_breaker.enabled);
  EXPECT_FALSE(group->security.has_value());
}

TEST(EndpointsTest, ReportsEveryAdvanceEndpointConfigProblem) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-production-endpoints:
  urls: ["http://a"]
  securityConfig: {type: digest, username: svc}
  advanceEndpointConfig:
    timeoutInMilis: 5
    retryConfig: {count: -1, statusCodes: [700]}
    circuitBreaker: {failureThreshold: 1.5, rollingWindow: {requestVolumeThreshold: 0}}
paths: {}
)");
  EXPECT_FALSE(r.Group("T_1.production"));
  EXPECT_THAT(r.Errors(),
              ElementsAre(HasSubstr("5:19: error: x-wso2-production-endpoints: securityConfig must "
                                    "be {type: basic, username, password}"),
                          HasSubstr("7:5: error: x-wso2-production-endpoints: "
                                    "advanceEndpointConfig: unknown field \"timeoutInMilis\"; did "
                                    "you mean \"timeoutInMillis\"?"),
                          HasSubstr("8:26: error: x-wso2-production-endpoints: retryConfig.count "
                                    "must be an integer >= 0"),
                          HasSubstr("8:43: error: x-wso2-production-endpoints: "
                                    "retryConfig.statusCodes must be a list of HTTP status codes"),
                          HasSubstr("9:40: error: x-wso2-production-endpoints: failureThreshold "
                                    "must be between 0 and 1"),
                          HasSubstr("9:85: error: x-wso2-production-endpoints: "
                                    "requestVolumeThreshold must be an integer >= 1")));
}

// ---------------------------------------------------------------------------------------------
// Security requirements.

constexpr const char* kSchemes = R"(components:
  securitySchemes:
    oauth: {type: oauth2, flows: {implicit: {authorizationUrl: "https://idp/auth", scopes: {}}}}
    bearer: {type: http, scheme: bearer}
    basic: {type: http, scheme: basic}
    headerKey: {type: apiKey, in: header, name: X-API-Key}
    queryKey: {type: apiKey, in: query, name: key}
    cookieKey: {type: apiKey, in: cookie, name: session}
)";

ReadResult ReadWithSecurity(const std::string& root_security, const std::string& operation) {
  return ReadDefinition(std::string(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
)") + root_security + kSchemes + "paths:\n  /a:\n    get:\n" + operation +
                        "      responses: {\"200\": {description: ok}}\n");
}

TEST(SecurityTest, WithoutAnySecurityOAuth2IsRequired) {
  const auto r = ReadWithSecurity("", "");
  ASSERT_TRUE(r.draft);
  const auto& security = r.Resource("GET", "/a")->security;
  EXPECT_EQ(security.types, std::vector<std::string>{"oauth2"});
  EXPECT_TRUE(security.scopes.empty());
  EXPECT_FALSE(security.disabled);
  EXPECT_FALSE(security.optional);
  EXPECT_TRUE(r.draft->uses_oauth2);
}

TEST(SecurityTest, MapsEachSchemeTypeAndCollectsScopes) {
  const auto r = ReadWithSecurity("security: [{oauth: [write, read]}, {basic: []}]\n", "");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto& security = r.Resource("GET", "/a")->security;
  EXPECT_EQ(security.types, (std::vector<std::string>{"oauth2", "basic_auth"}));
  EXPECT_EQ(security.scopes, (std::vector<std::string>{"read", "write"}));
  EXPECT_TRUE(security.api_keys.empty());
  EXPECT_TRUE(r.draft->uses_basic);
}

TEST(SecurityTest, OperationSecurityOverridesTheRoot) {
  const auto r = ReadWithSecurity("security: [{oauth: [read]}]\n",
                                  "      security: [{bearer: [admin]}, {headerKey: []}, "
                                  "{queryKey: []}]\n");
  ASSERT_TRUE(r.draft);
  const auto& security = r.Resource("GET", "/a")->security;
  EXPECT_EQ(security.types, (std::vector<std::string>{"oauth2", "api_key"}));
  EXPECT_EQ(security.scopes, std::vector<std::string>{"admin"});
  ASSERT_EQ(security.api_keys.size(), 2u);
  EXPECT_EQ(security.api_keys[0].in, "header");
  EXPECT_EQ(security.api_keys[0].name, "X-API-Key");
  EXPECT_EQ(security.api_keys[1].in, "query");
  EXPECT_EQ(security.api_keys[1].name, "key");
  EXPECT_TRUE(r.draft->uses_api_key);
}

TEST(SecurityTest, AnEmptyRequirementMakesCredentialsOptional) {
  const auto r = ReadWithSecurity("", "      security: [{basic: []}, {}]\n");
  ASSERT_TRUE(r.draft);
  const auto& security = r.Resource("GET", "/a")->security;
  EXPECT_EQ(security.types, std::vector<std::string>{"basic_auth"});
  EXPECT_TRUE(security.optional);
}

TEST(SecurityTest, AnEmptyOperationListInheritsTheRoot) {
  const auto r = ReadWithSecurity("security: [{basic: []}]\n", "      security: []\n");
  ASSERT_TRUE(r.draft);
  EXPECT_EQ(r.Resource("GET", "/a")->security.types, std::vector<std::string>{"basic_auth"});
}

TEST(SecurityTest, AnUndefinedSchemeIsAWarningAndTreatedAsOAuth2) {
  const auto r = ReadWithSecurity("", "      security: [{basik: []}]\n");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_THAT(r.Warnings(), Contains(HasSubstr("security requirement names an undefined scheme "
                                               "\"basik\"; it is treated as OAuth2 (did you mean "
                                               "\"basic\"?)")));
  EXPECT_EQ(r.Resource("GET", "/a")->security.types, std::vector<std::string>{"oauth2"});
}

TEST(SecurityTest, ApiKeysInACookieAreNotSupported) {
  const auto r = ReadWithSecurity("", "      security: [{cookieKey: []}]\n");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Warnings(), Contains(HasSubstr("keys in cookie are not supported")));
}

TEST(SecurityTest, Swagger20SecurityDefinitionsAreRead) {
  const auto r = ReadDefinition(R"(swagger: "2.0"
info: {title: T, version: "1"}
x-wso2-mock: true
securityDefinitions:
  basicAuth: {type: basic}
  key: {type: apiKey, in: header, name: X-Key}
  petstore_auth: {type: oauth2, flow: implicit, authorizationUrl: "https://idp", scopes: {}}
security: [{petstore_auth: ["write:pets"]}]
paths:
  /a: {get: {security: [{basicAuth: []}, {key: []}], responses: {"200": {description: ok}}}}
  /b: {get: {responses: {"200": {description: ok}}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.Resource("GET", "/a")->security.types,
            (std::vector<std::string>{"basic_auth", "api_key"}));
  EXPECT_EQ(r.Resource("GET", "/a")->security.api_keys[0].name, "X-Key");
  EXPECT_EQ(r.Resource("GET", "/b")->security.types, std::vector<std::string>{"oauth2"});
  EXPECT_EQ(r.Resource("GET", "/b")->security.scopes, std::vector<std::string>{"write:pets"});
}

TEST(SecurityTest, ApplicationSecurityKeepsTheSchemesApiKeyPlaces) {
  const auto r = ReadWithSecurity(
      "security: [{headerKey: []}]\n",
      "      x-wso2-application-security: {security-types: [api_key, oauth2]}\n");
  ASSERT_TRUE(r.draft);
  const auto& security = r.Resource("GET", "/a")->security;
  EXPECT_EQ(security.types, (std::vector<std::string>{"api_key", "oauth2"}));
  ASSERT_EQ(security.api_keys.size(), 1u);
  EXPECT_EQ(security.api_keys[0].name, "X-API-Key");
}

TEST(SecurityTest, ApplicationSecurityAcceptsWso2SpellingsAndRefusesUnknownTypes) {
  const auto spellings = ReadWithSecurity(
      "", "      x-wso2-application-security: {securityTypes: [basic, apikey]}\n");
  ASSERT_TRUE(spellings.draft);
  EXPECT_THAT(spellings.Errors(), IsEmpty());
  EXPECT_EQ(spellings.Resource("GET", "/a")->security.types,
            (std::vector<std::string>{"basic_auth", "api_key"}));
  const auto bad = ReadWithSecurity(
      "", "      x-wso2-application-security: {security-types: [saml], optional: maybe, x: 1}\n");
  EXPECT_THAT(bad.Errors(),
              ElementsAre(HasSubstr("x-wso2-application-security: unknown security type \"saml\" "
                                    "(expected oauth2, basic_auth, api_key)")));
}

TEST(SecurityTest, DisabledSecurityDoesNotCountAsUse) {
  const auto r = ReadWithSecurity("security: [{basic: []}]\n",
                                  "      x-wso2-disable-security: true\n");
  ASSERT_TRUE(r.draft);
  EXPECT_TRUE(r.Resource("GET", "/a")->security.disabled);
  EXPECT_FALSE(r.draft->uses_basic);
}

TEST(SecurityTest, WSO2AuthTypeNoneAndScopeAreHonoured) {
  const auto r = ReadWithSecurity("", "      x-auth-type: None\n      x-scope: admin\n");
  ASSERT_TRUE(r.draft);
  EXPECT_TRUE(r.Resource("GET", "/a")->security.disabled);
  EXPECT_EQ(r.Resource("GET", "/a")->security.scopes, std::vector<std::string>{"admin"});
}

TEST(SecurityTest, DisableSecurityInJsonMustBeABooleanToo) {
  const auto r = ReadDefinition(R"({"openapi": "3.0.0", "info": {"title": "T", "version": "1"},
 "x-wso2-mock": true,
 "x-wso2-disable-security": "true",
 "paths": {}})",
                                {}, "api.json");
  EXPECT_THAT(r.Errors(), ElementsAre("api_definitions/api.json:3:29: error: "
                                      "x-wso2-disable-security must be true or false"));
  const auto ok = ReadDefinition(R"({"openapi": "3.0.0", "info": {"title": "T", "version": "1"},
 "x-wso2-mock": true, "x-wso2-disable-security": true,
 "paths": {"/a": {"get": {"responses": {}}}}})",
                                 {}, "api.json");
  ASSERT_TRUE(ok.draft);
  EXPECT_THAT(ok.Errors(), IsEmpty());
  EXPECT_TRUE(ok.Resource("GET", "/a")->security.disabled);
}

// ---------------------------------------------------------------------------------------------
// Base paths and servers.

TEST(BasePathTest, ComesFromTheFirstServerWithVariablesResolved) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
servers:
  - url: "{scheme}://{env}.example.com:{port}/api/{ver}"
    variables:
      scheme: {default: https, enum: [https, http]}
      env: {default: prod}
      port: {default: "8443"}
      ver: {default: v3}
paths: {}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.draft->api.base_path, "/api/v3");
  EXPECT_EQ(r.Group("T_1.production")->urls,
            std::vector<std::string>{"https://prod.example.com:8443/api/v3"});
}

TEST(BasePathTest, ReportsUndefinedServerVariablesAndBadEnums) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
servers:
  - url: "https://{region}.example.com"
  - url: "https://{a}.example.com"
    variables:
      a: {default: x, enum: [y, z]}
  - url: "https://{b}.example.com"
    variables:
      b: {enum: [y]}
paths: {}
)");
  EXPECT_THAT(r.Errors(),
              ElementsAre(HasSubstr("4:10: error: server url \"https://{region}.example.com\" uses "
                                    "a variable that is not defined"),
                          HasSubstr("8:10: error: server url \"https://{b}.example.com\" uses"),
                          HasSubstr("10:10: error: server variable \"b\" needs a default")));
  EXPECT_THAT(r.Warnings(), Contains(HasSubstr("server variable \"a\": default \"x\" is not in "
                                               "its enum")));
}

TEST(BasePathTest, ARelativeServerUrlGivesOnlyTheBasePath) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
servers: [{url: /v1/}]
paths: {/a: {get: {responses: {}}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_EQ(r.draft->api.base_path, "/v1");
  EXPECT_TRUE(r.draft->endpoint_groups.empty());
  EXPECT_THAT(r.Errors(), ElementsAre(HasSubstr("GET /a has no endpoint")));
}

TEST(BasePathTest, WithoutServersOrBasePathTheApiIsAtTheRoot) {
  const auto r = ReadDefinition("openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths: {}\n");
  ASSERT_TRUE(r.draft);
  EXPECT_EQ(r.draft->api.base_path, "/");
  EXPECT_THAT(r.Warnings(), Contains(HasSubstr("the API is served at /")));
}

TEST(BasePathTest, Swagger20UsesHostBasePathAndPrefersHttps) {
  const auto r = ReadDefinition(R"(swagger: "2.0"
info: {title: T, version: "1"}
host: api.example.com:8080
basePath: /v2/
schemes: [http, https]
paths: {/a: {get: {responses: {"200": {description: ok}}}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.draft->api.base_path, "/v2");
  EXPECT_EQ(r.draft->base_path_location.line, 4);
  EXPECT_EQ(r.Group("T_1.production")->urls,
            std::vector<std::string>{"https://api.example.com:8080/v2"});
  const auto http_only = ReadDefinition(R"(swagger: "2.0"
info: {title: T, version: "1"}
host: api.example.com
paths: {}
)");
  ASSERT_TRUE(http_only.draft);
  EXPECT_EQ(http_only.draft->api.base_path, "/");
  EXPECT_EQ(http_only.Group("T_1.production")->urls,
            std::vector<std::string>{"http://api.example.com"});
  const auto no_host = ReadDefinition(R"(swagger: "2.0"
info: {title: T, version: "1"}
basePath: /v2
paths: {}
)");
  ASSERT_TRUE(no_host.draft);
  EXPECT_TRUE(no_host.draft->endpoint_groups.empty());
}

// ---------------------------------------------------------------------------------------------
// Mock responses.

TEST(MockTest, AnswersFromExamples2xxFirstAndJsonPreferred) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /a:
    get:
      responses:
        "404":
          description: missing
          content: {application/json: {example: {code: 404}}}
        "201":
          description: created
          content: {application/json: {example: {id: 2}}}
        "200":
          description: ok
          content:
            text/plain: {example: plain text}
            application/json: {example: {id: 1, tags: [a, b], ok: true, note: "quoted 1"}}
        default:
          description: error
          content: {application/json: {example: {error: true}}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  const auto* resource = r.Resource("GET", "/a");
  ASSERT_TRUE(resource->mock);
  ASSERT_EQ(resource->mock_responses.size(), 4u);
  EXPECT_EQ(resource->mock_responses[0].status, 200);
  EXPECT_EQ(resource->mock_responses[0].content_type, "application/json");
  EXPECT_EQ(resource->mock_responses[0].body,
            R"({"id":1,"tags":["a","b"],"ok":true,"note":"quoted 1"})");
  EXPECT_EQ(resource->mock_responses[1].status, 201);
  EXPECT_EQ(resource->mock_responses[1].body, R"({"id":2})");
  EXPECT_EQ(resource->mock_responses[2].status, 200);  // default
  EXPECT_EQ(resource->mock_responses[2].body, R"({"error":true})");
  EXPECT_EQ(resource->mock_responses[3].status, 404);
}

TEST(MockTest, UsesNamedExamplesSchemaExamplesAndPlainText) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
components:
  examples:
    rex: {value: {name: Rex}}
  schemas:
    Pet: {type: object, example: {name: Tom}}
paths:
  /named:
    get:
      responses:
        "200":
          description: ok
          content: {application/json: {examples: {first: {$ref: "#/components/examples/rex"}}}}
  /schema:
    get:
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}
  /text:
    get:
      responses:
        "200":
          description: ok
          content: {text/plain: {example: "hello, world"}}
  /none:
    get:
      responses:
        "204": {description: nothing}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.Resource("GET", "/named")->mock_responses[0].body, R"({"name":"Rex"})");
  EXPECT_EQ(r.Resource("GET", "/schema")->mock_responses[0].body, R"({"name":"Tom"})");
  const auto& text = r.Resource("GET", "/text")->mock_responses[0];
  EXPECT_EQ(text.content_type, "text/plain");
  EXPECT_EQ(text.body, "hello, world");
  const auto& none = r.Resource("GET", "/none")->mock_responses[0];
  EXPECT_EQ(none.status, 204);
  EXPECT_EQ(none.body, "");
}

TEST(MockTest, NumbersKeepTheirTextAndOtherScalarsFollowTheYamlCoreSchema) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              example:
                price: 9.5
                big: 12345678901234567890
                n: 10
                exp: 1e3
                neg: -0.25
                flag: true
                nothing: null
                quoted: "9.5"
                hex: 0x1F
                version: 1.0.0
                list: [1.50, "x"]
)");
  ASSERT_TRUE(r.draft);
  EXPECT_EQ(r.Resource("GET", "/a")->mock_responses[0].body,
            R"({"price":9.5,"big":12345678901234567890,"n":10,"exp":1e3,"neg":-0.25,"flag":true,)"
            R"("nothing":null,"quoted":"9.5","hex":"0x1F","version":"1.0.0","list":[1.50,"x"]})");
}

TEST(MockTest, Swagger20ExamplesPreferJson) {
  const auto r = ReadDefinition(R"(swagger: "2.0"
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          examples:
            text/plain: plain
            application/json: {id: 7}
            application/xml: <id>7</id>
)");
  ASSERT_TRUE(r.draft);
  const auto& mock = r.Resource("GET", "/a")->mock_responses[0];
  EXPECT_EQ(mock.content_type, "application/json");
  EXPECT_EQ(mock.body, R"({"id":7})");
}

TEST(MockTest, AMockWithoutResponsesAnswersAnEmpty200WithAWarning) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /a:
    get: {responses: {}}
)");
  ASSERT_TRUE(r.draft);
  ASSERT_EQ(r.Resource("GET", "/a")->mock_responses.size(), 1u);
  EXPECT_EQ(r.Resource("GET", "/a")->mock_responses[0].status, 200);
  EXPECT_THAT(r.Warnings(), Contains(HasSubstr("6:10: warning: GET /a: mocked, but the "
                                               "definition has no responses")));
}

// ---------------------------------------------------------------------------------------------
// Path templates.

TEST(CheckPathTemplateTest, AcceptsTemplatesWso2ChokedOn) {
  for (const char* path : {"/", "/pets", "/pets/{petId}", "/api/{version}/items",
                           "/a/{my-id}", "/a/{my_id}", "/a/{my.id}", "/a/{1st}",
                           "/files/{name}.{ext}", "/a/{id}/b/{other}", "/static/*", "/a/"}) {
    EXPECT_EQ(CheckPathTemplate(path), std::nullopt) << path;
  }
}

TEST(CheckPathTemplateTest, RefusesMalformedTemplates) {
  EXPECT_EQ(CheckPathTemplate("pets"), "path \"pets\" must start with '/'");
  EXPECT_EQ(CheckPathTemplate(""), "path \"\" must start with '/'");
  EXPECT_EQ(CheckPathTemplate("/a/{id"), "path \"/a/{id\": '{' without a matching '}'");
  EXPECT_EQ(CheckPathTemplate("/a/id}"), "path \"/a/id}\": '}' without a matching '{'");
  EXPECT_EQ(CheckPathTemplate("/a/{}"), "path \"/a/{}\": empty parameter name");
  EXPECT_EQ(CheckPathTemplate("/a/{id}/{id}"), "path \"/a/{id}/{id}\": parameter \"id\" appears twice");
  EXPECT_EQ(CheckPathTemplate("/a/{x}{y}"),
            "path \"/a/{x}{y}\": two parameters with nothing between them cannot be told apart");
  EXPECT_EQ(CheckPathTemplate("/a/{b c}"), "path \"/a/{b c}\": parameter name \"b c\" contains ' '");
  EXPECT_EQ(CheckPathTemplate("/a/{b/c}"), "path \"/a/{b/c}\": parameter name \"b/c\" contains '/'");
  EXPECT_EQ(CheckPathTemplate("/a b"), "path \"/a b\" contains a character not allowed in a path");
  EXPECT_EQ(CheckPathTemplate("/a/*/b"),
            "path \"/a/*/b\": '*' is allowed only as the whole last segment (/*)");
}

TEST(PathTemplateTest, DefinitionsWithUnusualParameterNamesBuild) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
x-wso2-basePath: /t
paths:
  /api/{version}/items:
    get:
      parameters: [{name: version, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /things/{thing-id}/{sub_id}/{v.2}:
    get:
      parameters:
        - {name: thing-id, in: path, required: true}
        - {name: sub_id, in: path, required: true}
        - {name: v.2, in: path, required: true}
      responses: {"200": {description: ok}}
  /n/{1st}:
    get:
      parameters: [{name: 1st, in: path, required: true}]
      responses: {"200": {description: ok}}
  /files/{name}.{ext}:
    get:
      parameters: [{name: name, in: path, required: true}, {name: ext, in: path, required: true}]
      responses: {"200": {description: ok}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_THAT(r.Warnings(), IsEmpty());
  EXPECT_EQ(r.draft->api.resources.size(), 4u);
  EXPECT_NE(r.Resource("GET", "/files/{name}.{ext}"), nullptr);
  EXPECT_NE(r.Resource("GET", "/api/{version}/items"), nullptr);
}

TEST(PathTemplateTest, BadTemplatesAreReportedAtTheirKey) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /good: {get: {responses: {}}}
  /bad/{id:
    get: {responses: {}}
  noslash:
    get: {responses: {}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), ElementsAre("api_definitions/api.yaml:6:3: error: path \"/bad/{id\": '{' "
                                      "without a matching '}'",
                                      "api_definitions/api.yaml:8:3: error: path \"noslash\" must "
                                      "start with '/'"));
  EXPECT_EQ(r.draft->api.resources.size(), 1u);
}

TEST(PathTemplateTest, SameRouteShapesAreMergedAndDuplicatesIgnoredWithWarnings) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /pets/{id}:
    get: {operationId: first, responses: {}}
  /pets/{petId}:
    get: {operationId: second, responses: {}}
    put: {responses: {}}
  /search?kind=cat:
    get: {responses: {}}
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(), IsEmpty());
  EXPECT_EQ(r.Resource("GET", "/pets/{id}")->operation_id, "first");
  EXPECT_NE(r.Resource("PUT", "/pets/{petId}"), nullptr);
  EXPECT_NE(r.Resource("GET", "/search"), nullptr);
  const auto warnings = r.Warnings();
  EXPECT_THAT(warnings, Contains(HasSubstr("7:3: warning: path \"/pets/{petId}\" is the same route "
                                           "as \"/pets/{id}\"; their operations are merged")));
  EXPECT_THAT(warnings, Contains(HasSubstr("8:5: warning: GET /pets/{petId}: the same route and "
                                           "method are already defined; this operation is "
                                           "ignored")));
  EXPECT_THAT(warnings, Contains(HasSubstr("10:3: warning: path \"/search?kind=cat\" is routed as "
                                           "\"/search\"")));
}

TEST(PathTemplateTest, UndeclaredPathParametersAreWarnings) {
  const auto r = ReadDefinition(R"(openapi: 3.0.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /pets/{id}:
    get: {responses: {}}
)");
  EXPECT_THAT(r.Warnings(), Contains("api_definitions/api.yaml:6:10: warning: GET /pets/{id}: path "
                                     "parameter \"id\" is not declared"));
}

// ---------------------------------------------------------------------------------------------
// Structure checks that go with the OpenAPI 3.1 schema tests.

TEST(StructureTest, ReportsEveryProblemNotJustTheFirst) {
  const auto r = ReadDefinition(R"(openapi: 3.1.0
info: {title: T, version: "1"}
x-wso2-mock: true
paths:
  /a/{p}:
    get:
      parameters:
        - {name: p, in: path, required: true, allowReserved: true}
        - {name: c, in: cookie, style: simple}
        - {name: h, in: body}
        - {name: e, in: query, example: 1, examples: {}}
      responses:
        "200":
          description: ok
          headers:
            X-H: {schema: {type: string}, allowReserved: true}
          links:
            l: {operationId: x, body: y}
components:
  schemas:
    Bad: 42
)");
  ASSERT_TRUE(r.draft);
  EXPECT_THAT(r.Errors(),
              ElementsAre(HasSubstr("8:62: error: parameter \"p\": allowReserved applies only to "
                                    "query parameters"),
                          HasSubstr("9:40: error: parameter \"c\": style \"simple\" is not "
                                    "allowed for cookie parameters"),
                          HasSubstr("10:25: error: parameter \"h\": in must be one of query, "
                                    "header, path, cookie"),
                          HasSubstr("11:54: error: parameter \"e\": example and examples are "
                                    "mutually exclusive"),
                          HasSubstr("16:58: error: allowReserved is not allowed in a header object"),
                          HasSubstr("18:33: error: link: unknown field \"body\""),
                          HasSubstr("21:10: error: a schema must be an object or a boolean")));
}

}  // namespace
}  // namespace mgw::project
