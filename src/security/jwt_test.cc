#include "security/jwt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "security/security_testing.h"

namespace mgw::security {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::PrivateKey;
using testing::PublicJwk;
using testing::PublicPem;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr const char* kIssuer = "https://idp.example/oauth2/token";
const std::string kSecret(48, 'q');

std::string JwksOf(std::vector<std::pair<std::string, std::string>> kind_and_kid) {
  json::array keys;
  for (const auto& [kind, kid] : kind_and_kid) {
    auto jwk = PublicJwk(kind);
    jwk["kid"] = kid;
    keys.push_back(jwk);
  }
  return json::serialize(json::object{{"keys", keys}});
}

bundle::JwtIssuer IssuerWithJwks(std::string name = kIssuer) {
  bundle::JwtIssuer issuer;
  issuer.issuer = std::move(name);
  issuer.jwks_json = JwksOf({{"RSA-2048", "rsa"}, {"P-256", "ec"}, {"Ed25519", "ed"}});
  return issuer;
}

std::optional<std::string> Environment(const std::string& name) {
  if (name == "MGW_TEST_SECRET") {
    return kSecret;
  }
  if (name == "MGW_SHORT_SECRET") {
    return std::string(16, 's');
  }
  return std::nullopt;
}

json::object Claims(std::int64_t exp = kNow + 600) {
  return json::object{{"iss", kIssuer}, {"sub", "alice"}, {"exp", exp}};
}

std::string Token(Algorithm algorithm, const Key& key, const json::object& claims, std::string kid = "",
                  json::object header = {}) {
  header["alg"] = AlgorithmName(algorithm);
  header["typ"] = "JWT";
  if (!kid.empty()) {
    header["kid"] = kid;
  }
  return testing::SignCompact(algorithm, key, json::serialize(header), json::serialize(claims));
}

std::string RsaToken(const json::object& claims, std::string kid = "rsa") {
  return Token(Algorithm::kRs256, *PrivateKey("RSA-2048"), claims, std::move(kid));
}

// An unsigned token: header {"alg": alg}, empty signature.
std::string Unsecured(std::string_view alg, const json::object& claims) {
  return Base64UrlEncode(R"({"alg":")" + std::string(alg) + R"("})") + "." +
         Base64UrlEncode(json::serialize(claims)) + ".";
}

class JwtValidatorTest : public ::testing::Test {
 protected:
  JwtResult Validate(const JwtValidator& validator, const std::string& token, std::int64_t skew = 0,
                     std::int64_t now = kNow) {
    return validator.Validate(token, now, skew);
  }
};

TEST_F(JwtValidatorTest, AcceptsEveryAsymmetricAlgorithmByKid) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  EXPECT_THAT(validator.Warnings(), IsEmpty());
  struct Case {
    Algorithm algorithm;
    const char* kind;
    const char* kid;
  };
  for (const Case c : {Case{Algorithm::kRs256, "RSA-2048", "rsa"}, Case{Algorithm::kRs384, "RSA-2048", "rsa"},
                       Case{Algorithm::kRs512, "RSA-2048", "rsa"}, Case{Algorithm::kPs256, "RSA-2048", "rsa"},
                       Case{Algorithm::kPs384, "RSA-2048", "rsa"}, Case{Algorithm::kPs512, "RSA-2048", "rsa"},
                       Case{Algorithm::kEs256, "P-256", "ec"}, Case{Algorithm::kEdDsa, "Ed25519", "ed"}}) {
    const auto result = Validate(validator, Token(c.algorithm, *PrivateKey(c.kind), Claims(), c.kid));
    EXPECT_EQ(result.failure, JwtFailure::kNone) << AlgorithmName(c.algorithm) << ": " << result.description;
    EXPECT_EQ(result.issuer, 0);
    EXPECT_EQ(result.principal.user, "alice");
    EXPECT_EQ(result.principal.issuer, kIssuer);
    EXPECT_EQ(result.principal.auth_type, "jwt");
    EXPECT_EQ(result.principal.expires_at, kNow + 600);
  }
}

TEST_F(JwtValidatorTest, AlgNoneIsAlwaysRejected) {
  auto issuer = IssuerWithJwks();
  issuer.secret_env = "MGW_TEST_SECRET";
  issuer.algorithms = {"RS256", "HS256"};
  const JwtValidator validator({issuer}, Environment);
  for (const char* alg : {"none", "None", "NONE", "nOnE", ""}) {
    const auto result = Validate(validator, Unsecured(alg, Claims()));
    EXPECT_EQ(result.failure, JwtFailure::kAlgorithm) << alg;
  }
  // A "none" token carrying the signature of a real token is still refused.
  const std::string real = RsaToken(Claims());
  const std::string forged = Unsecured("none", Claims()) + real.substr(real.rfind('.') + 1);
  EXPECT_EQ(Validate(validator, forged).failure, JwtFailure::kAlgorithm);
  // No alg at all.
  const std::string no_alg = Base64UrlEncode(R"({"typ":"JWT"})") + "." +
                             Base64UrlEncode(json::serialize(Claims())) + "." + real.substr(real.rfind('.') + 1);
  EXPECT_EQ(Validate(validator, no_alg).failure, JwtFailure::kAlgorithm);
}

TEST_F(JwtValidatorTest, CriticalHeadersAreRejected) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  const auto token = Token(Algorithm::kRs256, *PrivateKey("RSA-2048"), Claims(), "rsa",
                           json::object{{"crit", json::array{"exp"}}, {"exp", 1}});
  EXPECT_EQ(Validate(validator, token).failure, JwtFailure::kAlgorithm);
}

TEST_F(JwtValidatorTest, UnknownIssuerAndUnknownKid) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  auto claims = Claims();
  claims["iss"] = "https://evil.example";
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kUnknownIssuer);
  claims.erase("iss");
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kUnknownIssuer);
  claims["iss"] = 42;
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kUnknownIssuer);

  const auto unknown = Validate(validator, RsaToken(Claims(), "rotated-away"));
  EXPECT_EQ(unknown.failure, JwtFailure::kUnknownKey);
  EXPECT_EQ(unknown.issuer, 0) << "the issuer is named so that its JWKS can be re-fetched";
  // A kid of another key type does not help a forger.
  EXPECT_EQ(Validate(validator, RsaToken(Claims(), "ec")).failure, JwtFailure::kSignature);
}

TEST_F(JwtValidatorTest, WithoutKidEveryKeyOfTheIssuerIsTried) {
  bundle::JwtIssuer issuer;
  issuer.issuer = kIssuer;
  issuer.certificate_pem = PublicPem("P-384") + PublicPem("RSA-2048");
  const JwtValidator validator({issuer}, Environment);
  EXPECT_EQ(Validate(validator, RsaToken(Claims(), "")).failure, JwtFailure::kNone);
  EXPECT_EQ(Validate(validator, Token(Algorithm::kEs384, *PrivateKey("P-384"), Claims())).failure,
            JwtFailure::kNone);
  // A kid that no JWKS knows falls back to the certificate keys.
  EXPECT_EQ(Validate(validator, RsaToken(Claims(), "any")).failure, JwtFailure::kNone);
  EXPECT_EQ(Validate(validator, Token(Algorithm::kRs256, *PrivateKey("RSA-3072"), Claims())).failure,
            JwtFailure::kSignature);
}

TEST_F(JwtValidatorTest, ExpiryIsRequiredAndExpIsExclusive) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  EXPECT_EQ(Validate(validator, RsaToken(Claims(kNow + 1))).failure, JwtFailure::kNone);
  const auto at_exp = Validate(validator, RsaToken(Claims(kNow)));
  EXPECT_EQ(at_exp.failure, JwtFailure::kExpired) << "exp == now is expired (RFC 7519 4.1.4)";
  EXPECT_THAT(at_exp.description, ::testing::HasSubstr("expired"));
  EXPECT_EQ(Validate(validator, RsaToken(Claims(kNow - 1000))).failure, JwtFailure::kExpired);
  auto no_exp = Claims();
  no_exp.erase("exp");
  EXPECT_EQ(Validate(validator, RsaToken(no_exp)).failure, JwtFailure::kExpired);
  no_exp["exp"] = "1900000000";  // a string is not a NumericDate
  EXPECT_EQ(Validate(validator, RsaToken(no_exp)).failure, JwtFailure::kExpired);
  auto fractional = Claims();
  fractional["exp"] = static_cast<double>(kNow) + 0.5;
  EXPECT_EQ(Validate(validator, RsaToken(fractional)).failure, JwtFailure::kExpired);
}

TEST_F(JwtValidatorTest, ClockSkewAppliesToExpNbfAndIat) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  EXPECT_EQ(Validate(validator, RsaToken(Claims(kNow - 4)), 5).failure, JwtFailure::kNone);
  EXPECT_EQ(Validate(validator, RsaToken(Claims(kNow - 5)), 5).failure, JwtFailure::kExpired);

  auto nbf = Claims();
  nbf["nbf"] = kNow + 5;
  EXPECT_EQ(Validate(validator, RsaToken(nbf), 5).failure, JwtFailure::kNone);
  nbf["nbf"] = kNow + 6;
  const auto early = Validate(validator, RsaToken(nbf), 5);
  EXPECT_EQ(early.failure, JwtFailure::kNotYetValid);
  EXPECT_THAT(early.description, ::testing::HasSubstr("not yet valid"));
  EXPECT_EQ(Validate(validator, RsaToken(nbf), 0, kNow + 6).failure, JwtFailure::kNone);

  auto iat = Claims();
  iat["iat"] = kNow + 60;
  EXPECT_EQ(Validate(validator, RsaToken(iat), 5).failure, JwtFailure::kNotYetValid);
  iat["iat"] = kNow - 60;
  EXPECT_EQ(Validate(validator, RsaToken(iat), 5).failure, JwtFailure::kNone);
}

TEST_F(JwtValidatorTest, Wso2IatInMillisecondsIsAccepted) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  auto claims = Claims();
  claims["iat"] = kNow * 1000 - 1500;  // WSO2 API Manager writes iat in ms
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kNone);
  claims["iat"] = (kNow + 3600) * 1000;  // ... and an iat in ms in the future is still refused
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kNotYetValid);
}

TEST_F(JwtValidatorTest, AudienceWhenConfigured) {
  auto issuer = IssuerWithJwks();
  issuer.audience = {"https://api.example", "gateway"};
  const JwtValidator validator({issuer}, Environment);
  auto claims = Claims();
  claims["aud"] = "gateway";
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kNone);
  claims["aud"] = json::array{"other", "https://api.example"};
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kNone);
  claims["aud"] = "other";
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kAudience);
  claims.erase("aud");
  EXPECT_EQ(Validate(validator, RsaToken(claims)).failure, JwtFailure::kAudience);
  // Without a configured audience, aud is not checked.
  const JwtValidator open({IssuerWithJwks()}, Environment);
  claims["aud"] = "anything";
  EXPECT_EQ(Validate(open, RsaToken(claims)).failure, JwtFailure::kNone);
}

TEST_F(JwtValidatorTest, ScopeIsAStringOrAnArray) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  auto claims = Claims();
  claims["scope"] = "read  write admin ";
  EXPECT_THAT(Validate(validator, RsaToken(claims)).principal.scopes, ElementsAre("read", "write", "admin"));
  claims["scope"] = json::array{"read", "write", 3};
  EXPECT_THAT(Validate(validator, RsaToken(claims)).principal.scopes, ElementsAre("read", "write"));
  claims.erase("scope");
  EXPECT_THAT(Validate(validator, RsaToken(claims)).principal.scopes, IsEmpty());
}

TEST_F(JwtValidatorTest, ClaimsAreRenamedBeforeUse) {
  auto issuer = IssuerWithJwks();
  issuer.claims = {{"scp", "scope"}, {"azp", "sub"}};
  const JwtValidator validator({issuer}, Environment);
  auto claims = Claims();
  claims.erase("sub");
  claims["scp"] = json::array{"orders:read", "orders:write"};
  claims["azp"] = "client-app";
  const auto result = Validate(validator, RsaToken(claims));
  ASSERT_EQ(result.failure, JwtFailure::kNone);
  EXPECT_THAT(result.principal.scopes, ElementsAre("orders:read", "orders:write"));
  EXPECT_EQ(result.principal.user, "client-app");
  // Without the renaming the remote claim means nothing.
  const JwtValidator plain({IssuerWithJwks()}, Environment);
  EXPECT_THAT(Validate(plain, RsaToken(claims)).principal.scopes, IsEmpty());
}

TEST_F(JwtValidatorTest, Wso2SelfContainedTokenClaims) {
  auto issuer = IssuerWithJwks();
  issuer.validate_subscriptions = true;
  const JwtValidator validator({issuer}, Environment);
  auto claims = Claims();
  claims["aud"] = json::array{"consumer-key-1", "other"};
  claims["keytype"] = "sandbox";
  claims["application"] = json::object{{"id", 7}, {"name", "shop"}, {"tier", "10PerMin"}, {"owner", "bob"}};
  claims["subscribedAPIs"] = json::array{
      json::object{{"name", "Orders"}, {"version", "1.0"}, {"context", "/orders/1.0"},
                   {"subscriptionTier", "Gold"}, {"publisher", "admin"}},
      json::object{{"name", "Pets"}, {"version", "*"}, {"subscriptionTier", "Bronze"}}};
  const auto result = Validate(validator, RsaToken(claims));
  ASSERT_EQ(result.failure, JwtFailure::kNone) << result.description;
  const Principal& p = result.principal;
  EXPECT_EQ(p.key_type, "SANDBOX");
  EXPECT_EQ(p.application_id, "7");
  EXPECT_EQ(p.application_name, "shop");
  EXPECT_EQ(p.application_tier, "10PerMin");
  EXPECT_EQ(p.application_owner, "bob");
  EXPECT_EQ(p.consumer_key, "consumer-key-1");
  EXPECT_TRUE(p.validate_subscriptions);
  EXPECT_TRUE(p.has_subscriptions);
  ASSERT_EQ(p.subscriptions.size(), 2u);
  ASSERT_NE(p.FindSubscription("Orders", "1.0"), nullptr);
  EXPECT_EQ(p.FindSubscription("Orders", "1.0")->tier, "Gold");
  EXPECT_EQ(p.FindSubscription("Orders", "1.0")->context, "/orders/1.0");
  EXPECT_EQ(p.FindSubscription("Orders", "2.0"), nullptr);
  ASSERT_NE(p.FindSubscription("Pets", "3.1"), nullptr) << "version * matches every version";
  EXPECT_EQ(p.FindSubscription("orders", "1.0"), nullptr) << "names are compared exactly";
}

TEST_F(JwtValidatorTest, TokensWithoutWso2ClaimsGetTheDefaults) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  auto claims = Claims();
  claims.erase("sub");
  const auto result = Validate(validator, RsaToken(claims));
  ASSERT_EQ(result.failure, JwtFailure::kNone);
  EXPECT_EQ(result.principal.user, "anonymous");
  EXPECT_EQ(result.principal.key_type, "PRODUCTION");
  EXPECT_EQ(result.principal.application_id, "anonymous");
  EXPECT_EQ(result.principal.application_tier, "Unlimited");
  EXPECT_FALSE(result.principal.has_subscriptions);
  EXPECT_FALSE(result.principal.validate_subscriptions);
}

TEST_F(JwtValidatorTest, IssuerIsChosenByIss) {
  bundle::JwtIssuer a;
  a.issuer = "https://a.example";
  a.certificate_pem = PublicPem("RSA-2048");
  bundle::JwtIssuer b;
  b.issuer = "https://b.example";
  b.certificate_pem = PublicPem("P-256");
  b.audience = {"b-api"};
  const JwtValidator validator({a, b}, Environment);
  ASSERT_EQ(validator.IssuerCount(), 2u);
  auto claims_a = Claims();
  claims_a["iss"] = "https://a.example";
  auto claims_b = Claims();
  claims_b["iss"] = "https://b.example";
  claims_b["aud"] = "b-api";
  const auto ok_a = Validate(validator, Token(Algorithm::kRs256, *PrivateKey("RSA-2048"), claims_a));
  EXPECT_EQ(ok_a.failure, JwtFailure::kNone);
  EXPECT_EQ(ok_a.issuer, 0);
  const auto ok_b = Validate(validator, Token(Algorithm::kEs256, *PrivateKey("P-256"), claims_b));
  EXPECT_EQ(ok_b.failure, JwtFailure::kNone);
  EXPECT_EQ(ok_b.issuer, 1);
  EXPECT_EQ(ok_b.principal.issuer, "https://b.example");
  // Signed by A's key but claiming to be from B: B's keys do not verify it.
  EXPECT_EQ(Validate(validator, Token(Algorithm::kRs256, *PrivateKey("RSA-2048"), claims_b)).failure,
            JwtFailure::kSignature);
  // Each issuer's own rules apply: B's audience is not A's.
  claims_b.erase("aud");
  EXPECT_EQ(Validate(validator, Token(Algorithm::kEs256, *PrivateKey("P-256"), claims_b)).failure,
            JwtFailure::kAudience);
}

TEST_F(JwtValidatorTest, HmacOnlyForIssuersWithASecret) {
  const auto secret = Key::FromSecret(kSecret, "");
  auto with_secret = IssuerWithJwks();
  with_secret.secret_env = "MGW_TEST_SECRET";
  const JwtValidator validator({with_secret}, Environment);
  for (Algorithm hs : {Algorithm::kHs256, Algorithm::kHs384}) {
    EXPECT_EQ(Validate(validator, Token(hs, *secret, Claims())).failure, JwtFailure::kNone) << AlgorithmName(hs);
  }
  EXPECT_EQ(Validate(validator, Token(Algorithm::kHs256, *Key::FromSecret(std::string(48, 'x'), ""), Claims())).failure,
            JwtFailure::kSignature);
  // The 48-byte secret is too short for HS512: a correct HMAC-SHA512 made with it is refused
  // rather than accepted with a weakened key.
  const std::string input = Base64UrlEncode(R"({"alg":"HS512"})") + "." + Base64UrlEncode(json::serialize(Claims()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha512(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_length);
  const std::string hs512 = input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_length));
  EXPECT_EQ(Validate(validator, hs512).failure, JwtFailure::kSignature);

  const JwtValidator no_secret({IssuerWithJwks()}, Environment);
  EXPECT_EQ(Validate(no_secret, Token(Algorithm::kHs256, *secret, Claims())).failure, JwtFailure::kAlgorithm);

  auto unset = IssuerWithJwks();
  unset.secret_env = "MGW_UNSET_VARIABLE";
  const JwtValidator missing({unset}, Environment);
  ASSERT_EQ(missing.Warnings().size(), 1u);
  EXPECT_THAT(missing.Warnings()[0], ::testing::HasSubstr("MGW_UNSET_VARIABLE"));
  EXPECT_EQ(Validate(missing, Token(Algorithm::kHs256, *secret, Claims())).failure, JwtFailure::kAlgorithm);

  auto short_secret = IssuerWithJwks();
  short_secret.secret_env = "MGW_SHORT_SECRET";
  const JwtValidator weak({short_secret}, Environment);
  EXPECT_NE(Validate(weak, Token(Algorithm::kHs256, *Key::FromSecret(std::string(32, 's'), ""), Claims())).failure,
            JwtFailure::kNone);
}

TEST_F(JwtValidatorTest, PublicKeyAsHmacSecretNeverVerifies) {
  // The issuer trusts an RSA certificate; the attacker signs HS256 with its PEM as the secret.
  bundle::JwtIssuer issuer;
  issuer.issuer = kIssuer;
  issuer.certificate_pem = PublicPem("RSA-2048");
  for (const std::vector<std::string>& algorithms : {std::vector<std::string>{},
                                                     std::vector<std::string>{"HS256", "RS256"}}) {
    issuer.algorithms = algorithms;
    const JwtValidator validator({issuer}, Environment);
    const auto forged = Token(Algorithm::kHs256, *Key::FromSecret(PublicPem("RSA-2048"), ""), Claims());
    EXPECT_NE(Validate(validator, forged).failure, JwtFailure::kNone);
  }
  // Same with a JWKS: the JWK's n as the secret.
  const JwtValidator jwks({IssuerWithJwks()}, Environment);
  const auto n = *Base64UrlDecode(PublicJwk("RSA-2048")["n"].as_string());
  EXPECT_NE(Validate(jwks, Token(Algorithm::kHs256, *Key::FromSecret(n, ""), Claims(), "rsa")).failure,
            JwtFailure::kNone);
}

TEST_F(JwtValidatorTest, AlgorithmAllowListPins) {
  auto issuer = IssuerWithJwks();
  issuer.algorithms = {"ES256"};
  const JwtValidator validator({issuer}, Environment);
  EXPECT_EQ(Validate(validator, RsaToken(Claims())).failure, JwtFailure::kAlgorithm);
  EXPECT_EQ(Validate(validator, Token(Algorithm::kEs256, *PrivateKey("P-256"), Claims(), "ec")).failure,
            JwtFailure::kNone);
}

TEST_F(JwtValidatorTest, MalformedTokens) {
  const JwtValidator validator({IssuerWithJwks()}, Environment);
  const std::string good = RsaToken(Claims());
  const auto first = good.find('.');
  const auto second = good.find('.', first + 1);
  for (const std::string& token :
       {std::string(), std::string("abc"), good.substr(0, second), good + ".", good + ".x",
        "." + good.substr(first + 1), good.substr(0, first) + ".." + good.substr(second + 1),
        good.substr(0, first) + "=" + good.substr(first), good + "=",
        Base64UrlEncode("not json") + good.substr(first),
        good.substr(0, first + 1) + Base64UrlEncode("[1,2]") + good.substr(second),
        good.substr(0, first + 1) + Base64UrlEncode("\"text\"") + good.substr(second)}) {
    EXPECT_EQ(Validate(validator, token).failure, JwtFailure::kMalformed) << token;
  }
  std::string tampered = good;
  tampered[second - 2] = tampered[second - 2] == 'A' ? 'B' : 'A';
  EXPECT_NE(Validate(validator, tampered).failure, JwtFailure::kNone);
  std::string bad_signature = good;
  bad_signature[bad_signature.size() - 5] = bad_signature[bad_signature.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Validate(validator, bad_signature).failure, JwtFailure::kSignature);
}

TEST_F(JwtValidatorTest, ReplaceJwksRotatesKeysAndKeepsCertificates) {
  auto issuer = IssuerWithJwks();
  issuer.certificate_pem = PublicPem("P-384");
  JwtValidator validator({issuer}, Environment);
  const std::string old_token = RsaToken(Claims(), "rsa");
  const std::string new_token = Token(Algorithm::kRs256, *PrivateKey("RSA-3072"), Claims(), "rsa-2");
  EXPECT_EQ(Validate(validator, old_token).failure, JwtFailure::kNone);
  // kid rsa-2 is unknown; the certificate (P-384) is tried, does not verify it, and the failure
  // says "unknown key" so that a jwks_url would be re-fetched despite the certificate.
  const auto unknown = Validate(validator, new_token);
  EXPECT_EQ(unknown.failure, JwtFailure::kUnknownKey);
  EXPECT_EQ(unknown.issuer, 0);

  auto keys = KeysFromJwks(JwksOf({{"RSA-2048", "rsa"}, {"RSA-3072", "rsa-2"}}));
  ASSERT_TRUE(keys.has_value());
  validator.ReplaceJwks(0, std::move(*keys));
  EXPECT_EQ(Validate(validator, old_token).failure, JwtFailure::kNone);
  EXPECT_EQ(Validate(validator, new_token).failure, JwtFailure::kNone);

  keys = KeysFromJwks(JwksOf({{"RSA-3072", "rsa-2"}}));
  validator.ReplaceJwks(0, std::move(*keys));
  EXPECT_NE(Validate(validator, old_token).failure, JwtFailure::kNone) << "the old key left the JWKS";
  EXPECT_EQ(Validate(validator, new_token).failure, JwtFailure::kNone);
  EXPECT_EQ(Validate(validator, Token(Algorithm::kEs384, *PrivateKey("P-384"), Claims())).failure,
            JwtFailure::kNone)
      << "certificate keys survive a JWKS replacement";
}

TEST_F(JwtValidatorTest, KeyGenerationMovesOnlyWhenAKeyIsWithdrawn) {
  JwtValidator validator({IssuerWithJwks()}, Environment);
  const auto start = validator.KeyGeneration();
  // The same keys again (a periodic refresh): nothing changes.
  validator.ReplaceJwks(0, *KeysFromJwks(JwksOf({{"RSA-2048", "rsa"}, {"P-256", "ec"}, {"Ed25519", "ed"}})));
  EXPECT_EQ(validator.KeyGeneration(), start);
  // A key added: what the others signed stays valid.
  validator.ReplaceJwks(
      0, *KeysFromJwks(JwksOf({{"RSA-2048", "rsa"}, {"P-256", "ec"}, {"Ed25519", "ed"}, {"RSA-3072", "new"}})));
  EXPECT_EQ(validator.KeyGeneration(), start);
  // A key withdrawn.
  validator.ReplaceJwks(0, *KeysFromJwks(JwksOf({{"RSA-2048", "rsa"}, {"P-256", "ec"}, {"RSA-3072", "new"}})));
  const auto after_removal = validator.KeyGeneration();
  EXPECT_NE(after_removal, start);
  // Another key under a known kid.
  validator.ReplaceJwks(0, *KeysFromJwks(JwksOf({{"RSA-3072", "rsa"}, {"P-256", "ec"}, {"RSA-3072", "new"}})));
  EXPECT_NE(validator.KeyGeneration(), after_removal);
}

TEST_F(JwtValidatorTest, SplitCompactNeedsThreePartsWithHeaderAndPayload) {
  EXPECT_TRUE(SplitCompact("a.b.c").has_value());
  EXPECT_TRUE(SplitCompact("a.b.").has_value());
  EXPECT_FALSE(SplitCompact("a.b").has_value());
  EXPECT_FALSE(SplitCompact("a..c").has_value());
  EXPECT_FALSE(SplitCompact(".b.c").has_value());
  EXPECT_FALSE(SplitCompact("a.b.c.d.e").has_value());
  EXPECT_FALSE(SplitCompact("opaque-token").has_value());
}

}  // namespace
}  // namespace mgw::security
