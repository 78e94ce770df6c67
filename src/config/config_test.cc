#include "config/config.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mgw::config {
namespace {

using ::testing::HasSubstr;

// Every diagnostic formatted and ordered as the CLI prints them.
std::vector<std::string> Messages(base::Diagnostics diagnostics) {
  diagnostics.Sort();
  std::vector<std::string> out;
  for (const auto& d : diagnostics.All()) {
    out.push_back(base::FormatDiagnostic(d));
  }
  return out;
}

Config Parse(const std::string& text, base::Diagnostics& diagnostics) {
  return ParseConfig(text, "mgw.toml", diagnostics);
}

TEST(ParseConfigTest, AnEmptyFileGivesTheContractDefaults) {
  base::Diagnostics diagnostics;
  const Config config = Parse("", diagnostics);
  EXPECT_TRUE(diagnostics.All().empty());
  EXPECT_EQ(config.project.name, "");
  EXPECT_EQ(config.server.host, "0.0.0.0");
  EXPECT_EQ(config.server.http_port, 9090);
  EXPECT_EQ(config.server.https_port, 9095);
  EXPECT_EQ(config.server.workers, 0);
  EXPECT_EQ(config.server.max_uri_bytes, 4096);
  EXPECT_EQ(config.server.max_header_bytes, 8192);
  EXPECT_EQ(config.server.max_body_bytes, 0);
  EXPECT_EQ(config.server.idle_timeout_ms, 120000);
  EXPECT_EQ(config.server.drain_timeout_ms, 30000);
  EXPECT_FALSE(config.server.tls.has_value());
  EXPECT_EQ(config.admin.host, "127.0.0.1");
  EXPECT_EQ(config.admin.port, 9797);
  EXPECT_EQ(config.auth.header, "Authorization");
  EXPECT_TRUE(config.auth.remove_auth_header);
  EXPECT_EQ(config.auth.clock_skew_s, 5);
  EXPECT_TRUE(config.auth.jwt.empty());
  EXPECT_EQ(config.auth.introspection.url, "");
  EXPECT_EQ(config.auth.introspection.client_secret_env, "MGW_INTROSPECTION_SECRET");
  EXPECT_EQ(config.auth.introspection.cache_ttl_s, 300);
  EXPECT_EQ(config.auth.basic.users_file, "users.htpasswd");
  EXPECT_EQ(config.auth.api_keys.keys_file, "");
  EXPECT_EQ(config.rate_limit.policies, "policies.yaml");
  EXPECT_EQ(config.rate_limit.store, "memory");
  EXPECT_EQ(config.rate_limit.redis_url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(config.rate_limit.on_store_failure, "local");
  EXPECT_TRUE(config.analytics.enabled);
  EXPECT_EQ(config.analytics.dir, "analytics");
  EXPECT_EQ(config.analytics.rotate_bytes, 67108864);
  EXPECT_EQ(config.analytics.rotate_interval_s, 600);
  EXPECT_EQ(config.analytics.upload_interval_s, 60);
  EXPECT_EQ(config.analytics.max_disk_bytes, 1073741824);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.log.access_log, "-");
}

TEST(ParseConfigTest, TheTextInitWritesParsesCleanlyToTheDefaults) {
  base::Diagnostics diagnostics;
  const Config config = Parse(DefaultConfigText("shop"), diagnostics);
  EXPECT_THAT(Messages(diagnostics), ::testing::IsEmpty());
  EXPECT_EQ(config.project.name, "shop");
  EXPECT_EQ(config.server.http_port, 9090);
  EXPECT_EQ(config.admin.port, 9797);
  EXPECT_EQ(config.log.level, "info");
}

TEST(ParseConfigTest, ReadsEveryKindOfValue) {
  base::Diagnostics diagnostics;
  const Config config = Parse(R"(
[project]
name = "orders"
[server]
http_port = 8080
max_body_bytes = 1048576
[server.tls]
cert = "certs/server.crt"
key = "certs/server.key"
[auth]
remove_auth_header = false
[rate_limit]
store = "redis"
trusted_proxies = ["10.0.0.1", "10.0.0.2"]
[log]
level = "debug"
)",
                              diagnostics);
  EXPECT_THAT(Messages(diagnostics), ::testing::IsEmpty());
  EXPECT_EQ(config.project.name, "orders");
  EXPECT_EQ(config.server.http_port, 8080);
  EXPECT_EQ(config.server.max_body_bytes, 1048576);
  ASSERT_TRUE(config.server.tls.has_value());
  EXPECT_EQ(config.server.tls->cert, "certs/server.crt");
  EXPECT_EQ(config.server.tls->key, "certs/server.key");
  EXPECT_FALSE(config.auth.remove_auth_header);
  EXPECT_EQ(config.rate_limit.store, "redis");
  EXPECT_EQ(config.rate_limit.trusted_proxies,
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(config.log.level, "debug");
}

TEST(ParseConfigTest, EveryTypeErrorIsReportedWithLineAndColumn) {
  base::Diagnostics diagnostics;
  const Config config = Parse(R"([server]
http_port = "9090"
host = 12
[auth]
remove_auth_header = "yes"
[rate_limit]
trusted_proxies = [1, 2]
)",
                              diagnostics);
  EXPECT_THAT(Messages(diagnostics),
              ::testing::ElementsAre("mgw.toml:2:13: error: server.http_port must be an integer",
                                     "mgw.toml:3:8: error: server.host must be a string",
                                     "mgw.toml:5:22: error: auth.remove_auth_header must be true or false",
                                     "mgw.toml:7:19: error: rate_limit.trusted_proxies must be a list "
                                     "of strings"));
  // What could not be read keeps its default.
  EXPECT_EQ(config.server.http_port, 9090);
  EXPECT_EQ(config.server.host, "0.0.0.0");
  EXPECT_TRUE(config.auth.remove_auth_header);
}

TEST(ParseConfigTest, ASyntaxErrorIsReportedWithItsPlace) {
  base::Diagnostics diagnostics;
  Parse("[server]\nhttp_port = = 1\n", diagnostics);
  ASSERT_EQ(diagnostics.ErrorCount(), 1u);
  const auto& d = diagnostics.All()[0];
  EXPECT_EQ(d.location.file, "mgw.toml");
  EXPECT_EQ(d.location.line, 2);
  EXPECT_GT(d.location.column, 0);
}

TEST(ParseConfigTest, AnUnknownKeySuggestsTheClosestKnownOne) {
  base::Diagnostics diagnostics;
  Parse("[server]\nhttp_prot = 80\n", diagnostics);
  EXPECT_THAT(Messages(diagnostics),
              ::testing::ElementsAre(
                  "mgw.toml:2:13: error: unknown key \"server.http_prot\"; did you mean "
                  "\"server.http_port\"?"));
}

TEST(ParseConfigTest, AnUnknownTableSuggestsTheClosestKnownTable) {
  base::Diagnostics diagnostics;
  Parse("[servr]\nhttp_port = 80\n", diagnostics);
  ASSERT_EQ(diagnostics.ErrorCount(), 1u);
  EXPECT_THAT(diagnostics.All()[0].message, HasSubstr("unknown key \"servr\""));
  EXPECT_THAT(diagnostics.All()[0].message, HasSubstr("did you mean \"server\"?"));
  EXPECT_EQ(diagnostics.All()[0].location.line, 1);
}

TEST(ParseConfigTest, AnUnknownKeyFarFromAnyKnownOneHasNoSuggestion) {
  base::Diagnostics diagnostics;
  Parse("[server]\ncompletely_different_thing = 1\n", diagnostics);
  ASSERT_EQ(diagnostics.ErrorCount(), 1u);
  EXPECT_EQ(diagnostics.All()[0].message,
            "unknown key \"server.completely_different_thing\"");
}

TEST(ParseConfigTest, ReadsSeveralJwtIssuersWithClaimsAndLists) {
  base::Diagnostics diagnostics;
  const Config config = Parse(R"(
[[auth.jwt]]
issuer = "https://a.example/token"
certificate = "certs/a.pem"
audience = ["gw", "api"]
algorithms = ["RS256", "ES256"]
validate_subscriptions = true
consumer_key_claim = "azp"
claims = { scp = "scope", groups = "roles" }

[[auth.jwt]]
issuer = "https://b.example"
jwks_url = "https://b.example/jwks"
audience = "single"
)",
                              diagnostics);
  EXPECT_THAT(Messages(diagnostics), ::testing::IsEmpty());
  ASSERT_EQ(config.auth.jwt.size(), 2u);
  const auto& a = config.auth.jwt[0];
  EXPECT_EQ(a.issuer, "https://a.example/token");
  EXPECT_EQ(a.certificate, "certs/a.pem");
  EXPECT_EQ(a.audience, (std::vector<std::string>{"gw", "api"}));
  EXPECT_EQ(a.algorithms, (std::vector<std::string>{"RS256", "ES256"}));
  EXPECT_TRUE(a.validate_subscriptions);
  EXPECT_EQ(a.consumer_key_claim, "azp");
  EXPECT_EQ(a.claims, (std::map<std::string, std::string>{{"groups", "roles"}, {"scp", "scope"}}));
  EXPECT_EQ(a.location.line, 2);
  const auto& b = config.auth.jwt[1];
  EXPECT_EQ(b.jwks_url, "https://b.example/jwks");
  EXPECT_EQ(b.consumer_key_claim, "aud");
  EXPECT_EQ(b.audience, std::vector<std::string>{"single"});
  EXPECT_FALSE(b.validate_subscriptions);
}

TEST(ParseConfigTest, JwtMustBeAnArrayOfTables) {
  base::Diagnostics diagnostics;
  Parse("[auth.jwt]\nissuer = \"x\"\n", diagnostics);
  ASSERT_EQ(diagnostics.ErrorCount(), 1u);
  EXPECT_THAT(diagnostics.All()[0].message, HasSubstr("write [[auth.jwt]] per issuer"));
}

TEST(ParseConfigTest, ReportsJwtProblemsWithTheirPlace) {
  base::Diagnostics diagnostics;
  const Config config = Parse(R"([[auth.jwt]]
issuer = "i"
certificat = "c.pem"
algorithms = ["RS256", "none"]
claims = { scp = 1 }
)",
                              diagnostics);
  EXPECT_THAT(Messages(diagnostics),
              ::testing::ElementsAre(
                  "mgw.toml:3:14: error: unknown key \"auth.jwt.certificat\"; did you mean "
                  "\"auth.jwt.certificate\"?",
                  "mgw.toml:4:14: error: auth.jwt.algorithms \"none\" is not one of RS256, RS384, "
                  "RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, HS256, HS384, HS512",
                  "mgw.toml:5:18: error: auth.jwt.claims.scp must be a string (the local claim "
                  "name)"));
  ASSERT_EQ(config.auth.jwt.size(), 1u);
  EXPECT_TRUE(config.auth.jwt[0].algorithms.empty());
}

TEST(ParseConfigTest, RefusesIntegersOutOfRange) {
  base::Diagnostics diagnostics;
  const Config config = Parse(R"([server]
http_port = 70000
workers = -1
max_uri_bytes = 10
[admin]
port = 65535
)",
                              diagnostics);
  EXPECT_THAT(Messages(diagnostics),
              ::testing::ElementsAre("mgw.toml:2:13: error: server.http_port must be between 0 and 65535",
                                     "mgw.toml:3:11: error: server.workers must be between 0 and 1024",
                                     "mgw.toml:4:17: error: server.max_uri_bytes must be between 64 "
                                     "and 1125899906842624"));
  EXPECT_EQ(config.server.http_port, 9090);
  EXPECT_EQ(config.admin.port, 65535);
}

TEST(ParseConfigTest, RefusesValuesOutsideTheEnumeratedOnes) {
  base::Diagnostics diagnostics;
  const Config config = Parse(R"([rate_limit]
store = "memcached"
on_store_failure = "deny"
[log]
level = "verbose"
)",
                              diagnostics);
  EXPECT_THAT(Messages(diagnostics),
              ::testing::ElementsAre("mgw.toml:2:9: error: rate_limit.store must be one of memory, redis",
                                     "mgw.toml:5:9: error: log.level must be one of trace, debug, "
                                     "info, warn, error, off"));
  EXPECT_EQ(config.rate_limit.store, "memory");
  EXPECT_EQ(config.rate_limit.on_store_failure, "deny");
}

TEST(ParseConfigTest, ReportsAllProblemsNotJustTheFirst) {
  base::Diagnostics diagnostics;
  Parse("[server]\nhttp_port = \"x\"\nhttps_port = \"y\"\nbogus = 1\n[log]\nlevel = 3\n",
        diagnostics);
  EXPECT_EQ(diagnostics.ErrorCount(), 4u);
}

TEST(ValidateConfigTest, AnIssuerWithoutAKeyIsAnErrorAtItsTable) {
  base::Diagnostics diagnostics;
  const Config config = Parse("[server]\nhttp_port = 1\n\n[[auth.jwt]]\nissuer = \"https://idp\"\n",
                              diagnostics);
  ASSERT_FALSE(diagnostics.HasErrors());
  ValidateConfig(config, "mgw.toml", diagnostics);
  ASSERT_EQ(diagnostics.ErrorCount(), 1u);
  EXPECT_EQ(base::FormatDiagnostic(diagnostics.All()[0]),
            "mgw.toml:4:1: error: issuer \"https://idp\" has no key: set certificate, jwks, "
            "jwks_url or secret_env");
}

TEST(ValidateConfigTest, AcceptsAnyOneKeySource) {
  for (const std::string source :
       {"certificate = \"c.pem\"", "jwks = \"j.json\"", "jwks_url = \"https://idp/jwks\"",
        "secret_env = \"SECRET\""}) {
    base::Diagnostics diagnostics;
    const Config config = Parse("[[auth.jwt]]\nissuer = \"https://idp\"\n" + source + "\n",
                                diagnostics);
    ValidateConfig(config, "mgw.toml", diagnostics);
    EXPECT_FALSE(diagnostics.HasErrors()) << source;
  }
}

TEST(ValidateConfigTest, ReportsIssuerProblemsAndInconsistentSettings) {
  base::Diagnostics diagnostics;
  const Config config = Parse(R"([server]
http_port = 9797
[server.tls]
cert = "c.pem"
[auth.api_keys]
issuer = "keys"
[[auth.jwt]]
certificate = "c.pem"
[[auth.jwt]]
issuer = "dup"
certificate = "c.pem"
[[auth.jwt]]
issuer = "dup"
jwks_url = "ftp://idp/jwks"
)",
                              diagnostics);
  ASSERT_FALSE(diagnostics.HasErrors());
  ValidateConfig(config, "mgw.toml", diagnostics);
  std::vector<std::string> messages;
  for (const auto& d : diagnostics.All()) {
    messages.push_back(d.message);
  }
  EXPECT_THAT(messages, ::testing::UnorderedElementsAre(
                            "[[auth.jwt]] needs an issuer",
                            "issuer \"dup\" is configured twice",
                            "jwks_url \"ftp://idp/jwks\" is not an http(s) URL",
                            "[server.tls] needs both cert and key",
                            "admin.port and server.http_port are the same port",
                            "auth.api_keys.issuer is set but auth.api_keys.certificate is empty"));
}

TEST(ApplyOverrideTest, SetsValuesOfEveryKind) {
  Config config;
  EXPECT_TRUE(ApplyOverride(config, "server.http_port", "9590"));
  EXPECT_TRUE(ApplyOverride(config, "server.host", "127.0.0.1"));
  EXPECT_TRUE(ApplyOverride(config, "auth.remove_auth_header", "false"));
  EXPECT_TRUE(ApplyOverride(config, "rate_limit.trusted_proxies", "10.0.0.1,10.0.0.2"));
  EXPECT_TRUE(ApplyOverride(config, "rate_limit.store", "redis"));
  EXPECT_TRUE(ApplyOverride(config, "server.tls.cert", "/etc/tls/crt.pem"));
  EXPECT_EQ(config.server.http_port, 9590);
  EXPECT_EQ(config.server.host, "127.0.0.1");
  EXPECT_FALSE(config.auth.remove_auth_header);
  EXPECT_EQ(config.rate_limit.trusted_proxies,
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_EQ(config.rate_limit.store, "redis");
  ASSERT_TRUE(config.server.tls.has_value());
  EXPECT_EQ(config.server.tls->cert, "/etc/tls/crt.pem");
}

TEST(ApplyOverrideTest, RefusesValuesThatDoNotParseOrAreOutOfRange) {
  Config config;
  auto port = ApplyOverride(config, "server.http_port", "90x");
  ASSERT_FALSE(port);
  EXPECT_EQ(port.error().message, "server.http_port must be an integer, got \"90x\"");
  auto range = ApplyOverride(config, "server.http_port", "65536");
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().message, "server.http_port must be between 0 and 65535");
  auto flag = ApplyOverride(config, "analytics.enabled", "yes");
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().message, "analytics.enabled must be true or false, got \"yes\"");
  auto level = ApplyOverride(config, "log.level", "loud");
  ASSERT_FALSE(level);
  EXPECT_THAT(level.error().message, HasSubstr("must be one of trace, debug"));
  EXPECT_EQ(config.server.http_port, 9090);
  EXPECT_TRUE(config.analytics.enabled);
  EXPECT_EQ(config.log.level, "info");
}

TEST(ApplyOverrideTest, RefusesTrustedKeysAndIssuers) {
  Config config;
  for (const char* key : {"auth.jwt.0.issuer", "auth.jwt.certificate", "auth.jwt"}) {
    auto result = ApplyOverride(config, key, "x");
    ASSERT_FALSE(result) << key;
    EXPECT_THAT(result.error().message, HasSubstr("cannot be overridden")) << key;
  }
}

TEST(ApplyOverrideTest, RefusesKeysFixedInTheBundle) {
  Config config;
  for (const char* key : {"rate_limit.policies", "project.name", "auth.basic.users_file",
                          "auth.api_keys.issuer", "auth.api_keys.certificate",
                          "auth.api_keys.keys_file"}) {
    auto result = ApplyOverride(config, key, "x");
    ASSERT_FALSE(result) << key;
    EXPECT_THAT(result.error().message, HasSubstr("cannot be overridden at run time")) << key;
  }
  EXPECT_EQ(config.rate_limit.policies, "policies.yaml");
}

TEST(ApplyOverrideTest, AnUnknownKeySuggestsAnOverridableOne) {
  Config config;
  auto result = ApplyOverride(config, "server.http_prot", "1");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message,
            "unknown configuration key \"server.http_prot\"; did you mean \"server.http_port\"?");
}

TEST(OverridableKeysTest, ListsRuntimeKeysButNotBundleKeys) {
  const auto keys = OverridableKeys();
  auto has = [&](const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  EXPECT_TRUE(has("server.http_port"));
  EXPECT_TRUE(has("admin.host"));
  EXPECT_TRUE(has("log.level"));
  EXPECT_TRUE(has("auth.introspection.url"));
  EXPECT_FALSE(has("rate_limit.policies"));
  EXPECT_FALSE(has("project.name"));
  EXPECT_FALSE(has("auth.api_keys.keys_file"));
  for (const auto& key : keys) {
    Config config;
    // Every listed key is accepted by ApplyOverride (with a value of the right kind).
    auto result = ApplyOverride(config, key, "1");
    if (!result) {
      EXPECT_THAT(result.error().message, ::testing::Not(HasSubstr("unknown"))) << key;
      EXPECT_THAT(result.error().message, ::testing::Not(HasSubstr("cannot be overridden")))
          << key;
    }
  }
}

TEST(RewriteStringKeysTest, SetsExistingAndNewKeysAndKeepsTheRest) {
  auto rewritten = RewriteStringKeys(R"(# comment
[server]
http_port = 8080
[server.tls]
cert = "/abs/server.crt"
)",
                                     {{"server.tls.cert", "certs/server.crt"},
                                      {"server.tls.key", "certs/server.key"},
                                      {"log.access_log", "access.log"}});
  ASSERT_TRUE(rewritten);
  base::Diagnostics diagnostics;
  const Config config = Parse(*rewritten, diagnostics);
  EXPECT_THAT(Messages(diagnostics), ::testing::IsEmpty());
  EXPECT_EQ(config.server.http_port, 8080);
  ASSERT_TRUE(config.server.tls.has_value());
  EXPECT_EQ(config.server.tls->cert, "certs/server.crt");
  EXPECT_EQ(config.server.tls->key, "certs/server.key");
  EXPECT_EQ(config.log.access_log, "access.log");
}

TEST(RewriteStringKeysTest, FailsOnInvalidToml) {
  auto rewritten = RewriteStringKeys("[server\n", {{"a.b", "c"}});
  ASSERT_FALSE(rewritten);
  EXPECT_THAT(rewritten.error().message, HasSubstr("mgw.toml"));
}

}  // namespace
}  // namespace mgw::config
