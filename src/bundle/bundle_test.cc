#include "bundle/bundle.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/files.h"
#include "base/sha256.h"

namespace mgw::bundle {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A model that sets every field to something other than its default.
Model FullModel() {
  Model model;
  model.project_name = "shop";

  Api api;
  api.title = "Orders";
  api.version = "v2";
  api.base_path = "/orders/v2";
  api.source = "sub/orders.yaml";
  api.openapi_version = "3.1.0";
  api.transports = {"https"};
  api.auth_header = "X-Token";
  api.throttling_tier = "10kPerMin";
  api.cors = {true, {"https://a.example"}, {"authorization"}, {"GET", "POST"}, {"X-Id"}, true};
  Resource resource;
  resource.method = "POST";
  resource.path_template = "/orders/{id}";
  resource.operation_id = "createOrder";
  resource.throttling_tier = "20kPerMin";
  resource.security = {false, {"oauth2", "api_key"}, {{"header", "apikey"}}, {"write"}, true};
  resource.production_endpoint = "Orders_v2.production";
  resource.sandbox_endpoint = "backend.sandbox";
  resource.mock = true;
  resource.mock_responses = {{201, "application/json", "{\"id\":1}", {{"X-Mock", "yes"}}},
                             {404, "text/plain", "no \"order\"\n", {}}};
  api.resources.push_back(resource);
  Resource open;
  open.method = "GET";
  open.path_template = "/health";
  open.security.disabled = true;
  api.resources.push_back(open);
  model.apis.push_back(api);

  EndpointGroup group;
  group.id = "Orders_v2.production";
  group.name = "Orders_v2";
  group.environment = "production";
  group.type = "failover";
  group.urls = {"https://a.example:8443/api", "https://b.example/api"};
  group.security = BackendSecurity{"basic", "svc", "p@ss:word"};
  group.timeout_ms = 1500;
  group.retry = {3, 100, 1.5, 2000, {502, 503}};
  group.circuit_breaker = {true, 20, 30000, 0.25, 5000, {500}};
  model.endpoint_groups.push_back(group);
  EndpointGroup plain;
  plain.id = "backend.sandbox";
  plain.name = "backend";
  plain.environment = "sandbox";
  plain.type = "http";
  plain.urls = {"http://127.0.0.1:8080"};
  model.endpoint_groups.push_back(plain);

  model.policies.resource = {{"10kPerMin", 10000, 1, "min", 60, true, 0}};
  model.policies.application = {{"Burst", 100, 2, "hour", 7200, false, 5}};
  model.policies.subscription = {{"Gold", 5000, 1, "month", 2592000, true, 0}};

  JwtIssuer issuer;
  issuer.issuer = "https://idp.example/token";
  issuer.certificate_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  issuer.jwks_json = "{\"keys\":[]}";
  issuer.jwks_url = "https://idp.example/jwks";
  issuer.secret_env = "JWT_SECRET";
  issuer.audience = {"gw"};
  issuer.algorithms = {"RS256", "HS256"};
  issuer.validate_subscriptions = true;
  issuer.consumer_key_claim = "azp";
  issuer.claims = {{"scp", "scope"}};
  model.security.jwt_issuers.push_back(issuer);
  model.security.api_key_issuer = ApiKeyIssuer{"keys", "-----BEGIN PUBLIC KEY-----\n"};
  model.security.static_api_keys = {{std::string(64, 'a'), "app", "Gold"}};
  model.security.basic_users = {{"alice", "$2y$05$abc", {"read", "write"}}};
  return model;
}

std::string Contents(const std::vector<BundleFile>& files, const std::string& name) {
  for (const auto& file : files) {
    if (file.name == name) {
      return file.contents;
    }
  }
  return "<missing " + name + ">";
}

TEST(SerializeBundleTest, WritesTheFourFilesThenTheManifest) {
  const auto files = SerializeBundle(FullModel(), "1.2.3");
  std::vector<std::string> names;
  for (const auto& file : files) {
    names.push_back(file.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"apis.json", "endpoints.json", "policies.json",
                                             "security.json", "manifest.json"}));
}

TEST(SerializeBundleTest, IsDeterministic) {
  const auto first = SerializeBundle(FullModel(), "1.2.3");
  const auto second = SerializeBundle(FullModel(), "1.2.3");
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].name, second[i].name);
    EXPECT_EQ(first[i].contents, second[i].contents) << first[i].name;
  }
}

TEST(SerializeBundleTest, WritesCanonicalJsonWithoutWhitespace) {
  const auto files = SerializeBundle(FullModel(), "1.2.3");
  for (const auto& file : files) {
    ASSERT_FALSE(file.contents.empty());
    EXPECT_EQ(file.contents.back(), '\n') << file.name;
    EXPECT_EQ(file.contents.find('\n'), file.contents.size() - 1) << file.name;
    EXPECT_EQ(file.contents.front(), '{') << file.name;
  }
  EXPECT_EQ(Contents(files, "policies.json").rfind("{\"application\":[", 0), 0u);
}

TEST(SerializeBundleTest, TheManifestRecordsTheDigestAndSizeOfEveryFile) {
  const auto files = SerializeBundle(FullModel(), "1.2.3");
  const std::string manifest = Contents(files, "manifest.json");
  EXPECT_THAT(manifest, HasSubstr("\"format\":1"));
  EXPECT_THAT(manifest, HasSubstr("\"toolkit_version\":\"1.2.3\""));
  EXPECT_THAT(manifest, HasSubstr("\"project\":\"shop\""));
  for (const auto& file : files) {
    if (file.name == "manifest.json") {
      continue;
    }
    EXPECT_THAT(manifest, HasSubstr("{\"bytes\":" + std::to_string(file.contents.size()) +
                                    ",\"name\":\"" + file.name + "\",\"sha256\":\"" +
                                    base::Sha256Hex(file.contents) + "\"}"));
  }
}

TEST(SerializeBundleTest, ADifferentModelGivesADifferentDigest) {
  Model changed = FullModel();
  changed.endpoint_groups[0].urls[0] = "https://c.example/api";
  EXPECT_NE(Contents(SerializeBundle(FullModel(), "1"), "manifest.json"),
            Contents(SerializeBundle(changed, "1"), "manifest.json"));
  EXPECT_EQ(Contents(SerializeBundle(FullModel(), "1"), "apis.json"),
            Contents(SerializeBundle(changed, "1"), "apis.json"));
}

TEST(ParseBundleTest, RoundTripsAFullModel) {
  const Model original = FullModel();
  const auto files = SerializeBundle(original, "1.2.3");
  auto parsed = ParseBundle(files);
  ASSERT_TRUE(parsed) << parsed.error().message;

  // Serialising the parsed model gives the same bytes: nothing was lost or changed.
  const auto again = SerializeBundle(*parsed, "1.2.3");
  ASSERT_EQ(again.size(), files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(again[i].contents, files[i].contents) << files[i].name;
  }

  EXPECT_EQ(parsed->project_name, "shop");
  ASSERT_EQ(parsed->apis.size(), 1u);
  const Api& api = parsed->apis[0];
  EXPECT_EQ(api.base_path, "/orders/v2");
  EXPECT_EQ(api.cors.allow_origins, std::vector<std::string>{"https://a.example"});
  EXPECT_TRUE(api.cors.allow_credentials);
  ASSERT_EQ(api.resources.size(), 2u);
  const Resource& resource = api.resources[0];
  EXPECT_EQ(resource.security.types, (std::vector<std::string>{"oauth2", "api_key"}));
  ASSERT_EQ(resource.security.api_keys.size(), 1u);
  EXPECT_EQ(resource.security.api_keys[0].name, "apikey");
  EXPECT_TRUE(resource.security.optional);
  ASSERT_EQ(resource.mock_responses.size(), 2u);
  EXPECT_EQ(resource.mock_responses[0].status, 201);
  EXPECT_EQ(resource.mock_responses[0].headers[0].value, "yes");
  EXPECT_EQ(resource.mock_responses[1].body, "no \"order\"\n");
  EXPECT_TRUE(api.resources[1].security.disabled);

  ASSERT_EQ(parsed->endpoint_groups.size(), 2u);
  const EndpointGroup& group = parsed->endpoint_groups[0];
  ASSERT_TRUE(group.security.has_value());
  EXPECT_EQ(group.security->password, "p@ss:word");
  EXPECT_EQ(group.timeout_ms, 1500);
  EXPECT_EQ(group.retry.count, 3);
  EXPECT_DOUBLE_EQ(group.retry.back_off_factor, 1.5);
  EXPECT_EQ(group.retry.status_codes, (std::vector<int>{502, 503}));
  EXPECT_TRUE(group.circuit_breaker.enabled);
  EXPECT_DOUBLE_EQ(group.circuit_breaker.failure_threshold, 0.25);
  EXPECT_FALSE(parsed->endpoint_groups[1].security.has_value());

  EXPECT_EQ(parsed->policies.application[0].window_seconds, 7200);
  EXPECT_FALSE(parsed->policies.application[0].stop_on_quota);
  EXPECT_EQ(parsed->policies.application[0].burst, 5);
  EXPECT_EQ(parsed->policies.subscription[0].time_unit, "month");

  ASSERT_EQ(parsed->security.jwt_issuers.size(), 1u);
  EXPECT_EQ(parsed->security.jwt_issuers[0].certificate_pem,
            original.security.jwt_issuers[0].certificate_pem);
  EXPECT_EQ(parsed->security.jwt_issuers[0].claims,
            (std::vector<std::vector<std::string>>{{"scp", "scope"}}));
  ASSERT_TRUE(parsed->security.api_key_issuer.has_value());
  EXPECT_EQ(parsed->security.api_key_issuer->issuer, "keys");
  EXPECT_EQ(parsed->security.basic_users[0].scopes, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(parsed->security.static_api_keys[0].tier, "Gold");
}

TEST(ParseBundleTest, RoundTripsAnEmptyModel) {
  const auto files = SerializeBundle(Model{}, "1");
  auto parsed = ParseBundle(files);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->apis.empty());
  EXPECT_FALSE(parsed->security.api_key_issuer.has_value());
}

TEST(ParseBundleTest, NamesAMissingFile) {
  auto files = SerializeBundle(FullModel(), "1");
  files.erase(files.begin() + 1);  // endpoints.json
  auto parsed = ParseBundle(files);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "bundle file endpoints.json is missing");
}

TEST(ParseBundleTest, RefusesInvalidJsonAndUnexpectedContent) {
  auto files = SerializeBundle(FullModel(), "1");
  files[0].contents = "{\"project\":";
  auto broken = ParseBundle(files);
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message, HasSubstr("bundle/apis.json: not valid JSON"));

  files = SerializeBundle(FullModel(), "1");
  files[2].contents = "{\"application\":\"nope\",\"resource\":[],\"subscription\":[]}\n";
  auto unexpected = ParseBundle(files);
  ASSERT_FALSE(unexpected);
  EXPECT_THAT(unexpected.error().message, HasSubstr("bundle/policies.json: unexpected content"));
}

class BundleFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("mgw-bundle-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(WriteBundle(dir_, FullModel(), "1.2.3"));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

TEST_F(BundleFilesTest, AnUntouchedBundleVerifiesAndReadsBack) {
  EXPECT_TRUE(VerifyBundle(dir_));
  auto model = ReadBundle(dir_);
  ASSERT_TRUE(model) << model.error().message;
  EXPECT_EQ(model->project_name, "shop");
  EXPECT_EQ(model->apis[0].resources[0].operation_id, "createOrder");
}

TEST_F(BundleFilesTest, VerifyDetectsAnAlteredFile) {
  auto text = base::ReadFile(dir_ / "apis.json");
  ASSERT_TRUE(text);
  std::string altered = *text;
  altered.replace(altered.find("/orders/v2"), 10, "/orders/v3");
  ASSERT_TRUE(base::WriteFile(dir_ / "apis.json", altered));
  auto verified = VerifyBundle(dir_);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().message,
            "bundle file apis.json was altered (its SHA-256 differs from the manifest)");
  EXPECT_FALSE(ReadBundle(dir_));
}

TEST_F(BundleFilesTest, VerifyDetectsAMissingFile) {
  fs::remove(dir_ / "security.json");
  auto verified = VerifyBundle(dir_);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().message, "bundle file security.json is missing");
}

TEST_F(BundleFilesTest, VerifyDetectsAnExtraFile) {
  ASSERT_TRUE(base::WriteFile(dir_ / "extra.json", "{}\n"));
  auto verified = VerifyBundle(dir_);
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().message, "bundle holds a file the manifest does not list: extra.json");
}

TEST_F(BundleFilesTest, VerifyDetectsAnExtraFolder) {
  fs::create_directories(dir_ / "apis.d");
  auto verified = VerifyBundle(dir_);
  ASSERT_FALSE(verified);
  EXPECT_THAT(verified.error().message, HasSubstr("apis.d"));
}

TEST_F(BundleFilesTest, VerifyDetectsAMissingOrUnsupportedManifest) {
  auto manifest = base::ReadFile(dir_ / "manifest.json");
  ASSERT_TRUE(manifest);
  std::string future = *manifest;
  future.replace(future.find("\"format\":1"), 10, "\"format\":9");
  ASSERT_TRUE(base::WriteFile(dir_ / "manifest.json", future));
  auto unsupported = VerifyBundle(dir_);
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().message, "bundle format 9 is not supported (expected 1)");

  fs::remove(dir_ / "manifest.json");
  auto missing = VerifyBundle(dir_);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("bundle is missing its manifest"));
}

}  // namespace
}  // namespace mgw::bundle
