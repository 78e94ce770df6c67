// Micro-benchmarks of the credential hot paths: one JWS signature verification per algorithm, a
// whole JwtValidator::Validate (RS256, ES256), a TokenCache hit, and Basic parsing plus a static
// API key lookup. Compare RS256 with `openssl speed -seconds 3 rsa2048` (verify/s) on the same
// machine: the target is within 1.5x of OpenSSL's raw RSA-2048 verify; a cache hit under 1 us.
//
//   build/bin/mgw_security_benchmark --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "base/sha256.h"
#include "security/credentials.h"
#include "security/jose.h"
#include "security/jwt.h"
#include "security/security_testing.h"
#include "security/token_cache.h"

namespace mgw::security {
namespace {

namespace json = boost::json;

constexpr std::int64_t kNow = 1'800'000'000;

// A realistic WSO2-style claims set (about 600 bytes once encoded).
std::string ClaimsJson() {
  json::object claims{{"iss", "https://idp.example/oauth2/token"},
                      {"sub", "alice@example.com"},
                      {"aud", "consumer-key-0123456789abcdef"},
                      {"exp", kNow + 3600},
                      {"iat", kNow},
                      {"nbf", kNow},
                      {"jti", "8f14e45f-ceea-467f-a8f5-4e3b1c2d9a77"},
                      {"scope", "orders:read orders:write pets:read"},
                      {"keytype", "PRODUCTION"},
                      {"application", json::object{{"id", "42"}, {"name", "shop"}, {"tier", "Gold"}, {"owner", "bob"}}},
                      {"subscribedAPIs", json::array{json::object{{"name", "Orders"},
                                                                  {"version", "1.0"},
                                                                  {"context", "/orders/1.0"},
                                                                  {"subscriptionTier", "Gold"},
                                                                  {"publisher", "admin"}}}}};
  return json::serialize(claims);
}

struct Case {
  Algorithm algorithm;
  const char* kind;  // key kind, "" = HMAC secret
};

KeyPtr SigningKey(const Case& c) {
  return c.kind[0] == '\0' ? Key::FromSecret(std::string(64, 's'), "") : testing::PrivateKey(c.kind);
}

KeyPtr VerifyingKey(const Case& c) {
  if (c.kind[0] == '\0') {
    return Key::FromSecret(std::string(64, 's'), "");
  }
  return KeysFromPem(testing::PublicPem(c.kind))->front();
}

void BM_Verify(benchmark::State& state, Case c) {
  const std::string header = R"({"alg":")" + std::string(AlgorithmName(c.algorithm)) + R"(","typ":"JWT"})";
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(ClaimsJson());
  const auto signature = *Sign(c.algorithm, *SigningKey(c), input);
  const auto key = VerifyingKey(c);
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifySignature(c.algorithm, *key, input, signature));
  }
  state.SetLabel(std::to_string(input.size()) + " B signing input");
}
BENCHMARK_CAPTURE(BM_Verify, RS256, Case{Algorithm::kRs256, "RSA-2048"});
BENCHMARK_CAPTURE(BM_Verify, RS384, Case{Algorithm::kRs384, "RSA-2048"});
BENCHMARK_CAPTURE(BM_Verify, RS512, Case{Algorithm::kRs512, "RSA-2048"});
BENCHMARK_CAPTURE(BM_Verify, PS256, Case{Algorithm::kPs256, "RSA-2048"});
BENCHMARK_CAPTURE(BM_Verify, ES256, Case{Algorithm::kEs256, "P-256"});
BENCHMARK_CAPTURE(BM_Verify, ES384, Case{Algorithm::kEs384, "P-384"});
BENCHMARK_CAPTURE(BM_Verify, ES512, Case{Algorithm::kEs512, "P-521"});
BENCHMARK_CAPTURE(BM_Verify, EdDSA, Case{Algorithm::kEdDsa, "Ed25519"});
BENCHMARK_CAPTURE(BM_Verify, HS256, Case{Algorithm::kHs256, ""});

// The whole validation: split, strict base64url, JSON, issuer by iss, key by kid, signature,
// claims, principal.
void BM_ValidateJwt(benchmark::State& state, Case c) {
  auto jwk = testing::PublicJwk(c.kind);
  jwk["kid"] = "k1";
  bundle::JwtIssuer issuer;
  issuer.issuer = "https://idp.example/oauth2/token";
  issuer.jwks_json = json::serialize(json::object{{"keys", json::array{jwk}}});
  issuer.audience = {"consumer-key-0123456789abcdef"};
  const JwtValidator validator({issuer}, [](const std::string&) { return std::optional<std::string>(); });
  const std::string header = R"({"alg":")" + std::string(AlgorithmName(c.algorithm)) + R"(","typ":"JWT","kid":"k1"})";
  const std::string token = testing::SignCompact(c.algorithm, *testing::PrivateKey(c.kind), header, ClaimsJson());
  if (validator.Validate(token, kNow, 5).failure != JwtFailure::kNone) {
    state.SkipWithError("the token does not validate");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(validator.Validate(token, kNow, 5));
  }
  state.SetLabel(std::to_string(token.size()) + " B token");
}
BENCHMARK_CAPTURE(BM_ValidateJwt, RS256, Case{Algorithm::kRs256, "RSA-2048"});
BENCHMARK_CAPTURE(BM_ValidateJwt, ES256, Case{Algorithm::kEs256, "P-256"});

// A cached token: what every request after the first pays (a full cache, like a busy worker).
void BM_TokenCacheHit(benchmark::State& state) {
  TokenCache cache(8192);
  std::vector<std::string> tokens;
  const std::string body(750, 'x');
  for (int i = 0; i < 8192; ++i) {
    tokens.push_back("eyJhbGciOiJSUzI1NiJ9." + std::to_string(i) + body);
    auto principal = std::make_shared<Principal>();
    principal->expires_at = kNow + 3600;
    cache.Insert(tokens.back(), principal);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.Find(tokens[i], kNow, 5));
    i = (i + 7919) % tokens.size();
  }
}
BENCHMARK(BM_TokenCacheHit);

// Basic credentials parsed, then a static API key looked up by its SHA-256.
void BM_ParseBasicAndStaticKey(benchmark::State& state) {
  const std::string encoded = Base64Encode("alice@example.com:correct horse battery staple");
  std::vector<bundle::StaticApiKey> entries;
  for (int i = 0; i < 1000; ++i) {
    entries.push_back({base::Sha256Hex("key-" + std::to_string(i)), "app" + std::to_string(i), "Unlimited"});
  }
  const StaticApiKeys keys(entries);
  const std::string key = "key-500";
  for (auto _ : state) {
    bool format_error = false;
    benchmark::DoNotOptimize(ParseBasic(encoded, &format_error));
    benchmark::DoNotOptimize(keys.Find(key));
  }
}
BENCHMARK(BM_ParseBasicAndStaticKey);

}  // namespace
}  // namespace mgw::security
