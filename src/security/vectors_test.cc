// Independent vectors (the security issue's "done means"): every applicable case of the Wycheproof
// JOSE vectors, RFC 7515 Appendix A, RFC 7520 (JOSE cookbook) and RFC 8037, read from
// $MGW_SHARED_DIR/corpora at test time, checked against mgw's own code.
//
// How each result is decided:
//   valid       must verify (except where a JOSE rule below says otherwise, counted apart);
//   invalid     must not verify;
//   acceptable  strict: must not verify (the only ones are RSA PKCS#1 "MissingNull" legacy
//               encodings, which no JWS signer produces).
// JOSE rules that override a primitive-level "valid" (RFC 7518): an HMAC tag shorter than the
// hash is never a JWS signature (truncated-tag groups must be rejected); an HMAC key shorter
// than the hash is refused (§3.2). These cases are checked (they must be rejected) and counted
// as "rule".
// Skipped, with the reason printed and counted: ES256K and Ed448 (not supported), JWE (mgw
// accepts JWS only; every JWE is also checked to be refused as a token), JSON-serialized JWS
// (not a JWT; checked to be refused), detached payloads, and vectors whose label contradicts
// another vector with byte-identical input.
//
// Primitive files (RSA, PSS, ECDSA, EdDSA, HMAC) go through KeyFromJwk (and KeysFromPem, which
// must agree) and VerifySignature. Whole-JWS files go through VerifyCompact below, which is the
// signature half of JwtValidator::Validate built from the same functions (SplitCompact, strict
// Base64UrlDecode, ParseAlgorithm, crit refusal, key by kid, Key::Supports, VerifySignature): the
// payloads of those vectors are not JWT claims, so Validate itself cannot take them. RFC 7515
// Appendix A's payloads are claims, and go through JwtValidator::Validate too.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "security/jose.h"
#include "security/jwt.h"
#include "security/security_testing.h"

namespace mgw::security {
namespace {

namespace json = boost::json;
using testing::FromHex;
using testing::ReadText;
using testing::SharedDir;

// ---------------------------------------------------------------------------------------------
// Per-file bookkeeping, printed as one line per file.

struct Tally {
  std::string file;
  int checked = 0;   // cases whose outcome was asserted
  int passed = 0;    // ... and came out as expected
  int by_rule = 0;   // ... of which the expectation came from a JOSE rule, not the label
  std::map<std::string, int> skipped;  // reason -> count
  std::vector<std::string> failures;

  // `expect_verify` is the decided expectation; `label` and `id` are for the failure message.
  void Check(bool expect_verify, bool verified, const std::string& id, const std::string& label,
             bool rule = false) {
    ++checked;
    if (rule) {
      ++by_rule;
    }
    if (expect_verify == verified) {
      ++passed;
    } else {
      failures.push_back(id + " (" + label + "): expected " +
                         (expect_verify ? "to verify" : "to be rejected") + ", got the opposite");
    }
  }
  void Skip(const std::string& reason, int count = 1) { skipped[reason] += count; }

  int SkippedCount() const {
    int total = 0;
    for (const auto& [reason, count] : skipped) {
      total += count;
    }
    return total;
  }

  void Report() const {
    std::string line = "[vectors] " + file + ": passed " + std::to_string(passed) + " / checked " +
                       std::to_string(checked);
    if (by_rule > 0) {
      line += " (" + std::to_string(by_rule) + " decided by a JOSE rule)";
    }
    line += "; skipped " + std::to_string(SkippedCount());
    for (const auto& [reason, count] : skipped) {
      line += " [" + std::to_string(count) + ": " + reason + "]";
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    for (const auto& failure : failures) {
      ADD_FAILURE() << file << ": " << failure;
    }
  }
};

std::string CorpusPath(const std::string& relative) { return SharedDir() + "/corpora/" + relative; }

json::object ReadJson(const std::string& path) {
  return json::parse(ReadText(path)).as_object();
}

std::string Text(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string Id(const json::object& test) { return "tcId " + std::to_string(test.at("tcId").as_int64()); }

bool ExpectValid(const std::string& result) { return result == "valid"; }  // acceptable: reject

// ---------------------------------------------------------------------------------------------
// A whole compact JWS against a set of trusted keys: the signature half of JwtValidator.

struct KeyMaterial {
  bool usable = false;  // false: importing the key (set) failed, so nothing can verify
  std::string error;
  std::vector<KeyPtr> keys;
};

KeyMaterial LoadKeys(const json::value& material) {
  KeyMaterial out;
  const auto& object = material.as_object();
  if (object.contains("keys")) {
    auto keys = KeysFromJwks(json::serialize(material));
    if (!keys) {
      out.error = keys.error().message;
      return out;
    }
    out.keys = std::move(*keys);
  } else {
    auto key = KeyFromJwkObject(object);
    if (!key) {
      out.error = key.error().message;
      return out;
    }
    out.keys.push_back(std::move(*key));
  }
  out.usable = !out.keys.empty();
  return out;
}

bool VerifyCompact(std::string_view jws, const KeyMaterial& material) {
  const auto parts = SplitCompact(jws);
  if (!parts || !material.usable) {
    return false;
  }
  const auto header_text = Base64UrlDecode(parts->header_b64);
  const auto payload = Base64UrlDecode(parts->payload_b64);
  const auto signature = Base64UrlDecode(parts->signature_b64);
  if (!header_text || !payload || !signature) {
    return false;
  }
  json::error_code ec;
  const auto header = json::parse(*header_text, ec);
  if (ec || !header.is_object()) {
    return false;
  }
  const auto* alg = header.as_object().if_contains("alg");
  if (alg == nullptr || !alg->is_string()) {
    return false;
  }
  const auto algorithm = ParseAlgorithm(alg->get_string());
  if (!algorithm || header.as_object().contains("crit")) {
    return false;
  }
  const std::string kid = Text(header.as_object(), "kid");
  std::vector<const Key*> candidates;
  if (!kid.empty()) {
    for (const auto& key : material.keys) {
      if (key->Kid() == kid) {
        candidates.push_back(key.get());
      }
    }
  }
  if (candidates.empty()) {
    for (const auto& key : material.keys) {
      if (kid.empty() || key->Kid().empty()) {
        candidates.push_back(key.get());
      }
    }
  }
  const std::string_view input = jws.substr(0, parts->header_b64.size() + 1 + parts->payload_b64.size());
  return std::any_of(candidates.begin(), candidates.end(), [&](const Key* key) {
    return VerifySignature(*algorithm, *key, input, *signature);
  });
}

// A compact JWS with an empty payload: legal JWS, never a JWT (SplitCompact refuses it). The
// signature is still checked here so that the crypto is known to be right.
bool VerifiesWithEmptyPayload(std::string_view jws, const KeyMaterial& material) {
  const auto first = jws.find('.');
  if (first == std::string_view::npos || first + 1 >= jws.size() || jws[first + 1] != '.') {
    return false;
  }
  const std::string_view header_b64 = jws.substr(0, first);
  const auto signature = Base64UrlDecode(jws.substr(first + 2));
  const auto header_text = Base64UrlDecode(header_b64);
  if (!signature || !header_text || !material.usable) {
    return false;
  }
  const auto header = json::parse(*header_text).as_object();
  const auto algorithm = ParseAlgorithm(Text(header, "alg"));
  if (!algorithm) {
    return false;
  }
  const std::string_view input = jws.substr(0, first + 1);
  return std::any_of(material.keys.begin(), material.keys.end(), [&](const KeyPtr& key) {
    return VerifySignature(*algorithm, *key, input, *signature);
  });
}

// The "alg" of a compact JWS's header, or "" when it cannot be read.
std::string HeaderAlg(std::string_view jws) {
  const auto dot = jws.find('.');
  const auto header = Base64UrlDecode(jws.substr(0, dot == std::string_view::npos ? 0 : dot));
  json::error_code ec;
  const auto value = header ? json::parse(*header, ec) : json::value();
  return !ec && value.is_object() ? Text(value.as_object(), "alg") : std::string();
}

bool IsJsonSerialization(std::string_view jws) { return !jws.empty() && jws.front() == '{'; }

bool HasEmptyPayload(std::string_view jws) {
  const auto first = jws.find('.');
  const auto second = first == std::string_view::npos ? first : jws.find('.', first + 1);
  return first != std::string_view::npos && second == first + 1 && first > 0 &&
         second + 1 < jws.size() && jws.find('.', second + 1) == std::string_view::npos;
}

// ---------------------------------------------------------------------------------------------
// Wycheproof primitive files.

const std::string kWycheproof = "wycheproof-jose/testvectors_v1/";

std::optional<Algorithm> AlgorithmFor(const std::string& prefix, const std::string& sha) {
  const std::string bits = sha == "SHA-256" ? "256" : sha == "SHA-384" ? "384" : sha == "SHA-512" ? "512" : "";
  return ParseAlgorithm(prefix + bits);
}

// RSA PKCS#1 v1.5, RSA-PSS, ECDSA P1363, EdDSA: the key from the group's JWK (and PEM).
void RunSignatureFile(const std::string& name) {
  Tally tally{name};
  const auto file = ReadJson(CorpusPath(kWycheproof + name));
  const std::string schema = Text(file, "schema");
  for (const auto& group_value : file.at("testGroups").as_array()) {
    const auto& group = group_value.as_object();
    const auto& tests = group.at("tests").as_array();
    const int count = static_cast<int>(tests.size());
    const auto* jwk = group.if_contains("publicKeyJwk");
    if (jwk == nullptr) {
      jwk = group.if_contains("keyJwk");
    }
    std::optional<Algorithm> algorithm;
    if (schema.find("rsassa_pkcs1") != std::string::npos) {
      algorithm = AlgorithmFor("RS", Text(group, "sha"));
    } else if (schema.find("rsassa_pss") != std::string::npos) {
      algorithm = AlgorithmFor("PS", Text(group, "sha"));
      const auto hash_bytes = std::stoi(Text(group, "sha").substr(4)) / 8;
      if (Text(group, "mgfSha") != Text(group, "sha") || group.at("sLen").as_int64() != hash_bytes) {
        tally.Skip("PSS parameters other than RFC 7518's (MGF1 = hash, salt = hash length)", count);
        continue;
      }
    } else if (schema.find("ecdsa_p1363") != std::string::npos) {
      const std::string curve = Text(group.at("publicKey").as_object(), "curve");
      if (curve == "secp256k1") {
        tally.Skip("ES256K (secp256k1) is not supported", count);
        continue;
      }
      algorithm = AlgorithmFor("ES", Text(group, "sha"));
    } else if (schema.find("eddsa") != std::string::npos) {
      const std::string curve = Text(group.at("publicKey").as_object(), "curve");
      if (curve != "edwards25519") {
        tally.Skip("Ed448 is not supported", count);
        continue;
      }
      algorithm = Algorithm::kEdDsa;
    }
    ASSERT_TRUE(algorithm.has_value()) << name << ": no JOSE algorithm for this group";
    json::object built;
    if (jwk == nullptr) {
      // A few ECDSA edge-case groups give the point only: the JWK is built from it.
      const auto& public_key = group.at("publicKey").as_object();
      const std::string point = FromHex(Text(public_key, "uncompressed"));
      ASSERT_EQ(point.size() % 2, 1u);
      const std::size_t half = (point.size() - 1) / 2;
      const std::string curve = Text(public_key, "curve");
      built["kty"] = "EC";
      built["crv"] = curve == "secp256r1" ? "P-256" : curve == "secp384r1" ? "P-384" : "P-521";
      built["x"] = Base64UrlEncode(point.substr(1, half));
      built["y"] = Base64UrlEncode(point.substr(1 + half));
    }
    auto key = KeyFromJwkObject(jwk != nullptr ? jwk->as_object() : built);
    ASSERT_TRUE(key.has_value()) << name << ": the group's JWK does not import: " << key.error().message;
    // The same key from its PEM must give the same verdicts.
    KeyPtr pem_key;
    if (const auto pem = Text(group, "publicKeyPem"); !pem.empty()) {
      auto keys = KeysFromPem(pem);
      ASSERT_TRUE(keys.has_value()) << name << ": PEM does not import: " << keys.error().message;
      pem_key = keys->front();
    }
    for (const auto& test_value : tests) {
      const auto& test = test_value.as_object();
      const std::string msg = FromHex(Text(test, "msg"));
      const std::string sig = FromHex(Text(test, "sig"));
      const bool verified = VerifySignature(*algorithm, **key, msg, sig);
      if (pem_key) {
        EXPECT_EQ(verified, VerifySignature(*algorithm, *pem_key, msg, sig))
            << name << " " << Id(test) << ": the JWK and the PEM form of the key disagree";
      }
      tally.Check(ExpectValid(Text(test, "result")), verified, Id(test), Text(test, "result"));
    }
  }
  tally.Report();
  EXPECT_GT(tally.checked + tally.SkippedCount(), 0);
}

// HMAC: full tags with keys at least as long as the hash are JWS HS*; anything else must fail.
void RunMacFile(const std::string& name, Algorithm algorithm, int hash_bits) {
  Tally tally{name};
  const auto file = ReadJson(CorpusPath(kWycheproof + name));
  for (const auto& group_value : file.at("testGroups").as_array()) {
    const auto& group = group_value.as_object();
    const bool truncated = group.at("tagSize").as_int64() != hash_bits;
    const bool short_key = group.at("keySize").as_int64() < hash_bits;
    for (const auto& test_value : group.at("tests").as_array()) {
      const auto& test = test_value.as_object();
      const auto key = Key::FromSecret(FromHex(Text(test, "key")), "");
      const bool verified =
          VerifySignature(algorithm, *key, FromHex(Text(test, "msg")), FromHex(Text(test, "tag")));
      const bool label_valid = ExpectValid(Text(test, "result"));
      const bool rule = (truncated || short_key) && label_valid;
      tally.Check(label_valid && !truncated && !short_key, verified, Id(test),
                  Text(test, "result") + (truncated ? ", truncated tag" : "") +
                      (short_key ? ", key shorter than the hash" : ""),
                  rule);
    }
  }
  tally.Report();
}

// Whole-JWS files: json_web_signature, json_web_key, json_web_crypto (and json_web_encryption).
void RunJoseFile(const std::string& name) {
  Tally tally{name};
  const auto file = ReadJson(CorpusPath(kWycheproof + name));
  // Vectors whose input is byte-identical to another vector's but whose label differs cannot
  // both be satisfied; they are listed, not decided.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_input;
  for (const auto& group_value : file.at("testGroups").as_array()) {
    const auto& group = group_value.as_object();
    const std::string key_text =
        json::serialize(group.contains("public") ? group.at("public") : group.at("private"));
    for (const auto& test_value : group.at("tests").as_array()) {
      const auto& test = test_value.as_object();
      by_input[key_text + "|" + Text(test, "jws")].emplace_back(Id(test), Text(test, "result"));
    }
  }
  // An "invalid" vector whose input is byte-identical to a "valid" one (which is checked).
  auto contradicted = [&](const std::string& key_text, const json::object& test) {
    const auto& same = by_input[key_text + "|" + Text(test, "jws")];
    return Text(test, "result") != "valid" &&
           std::any_of(same.begin(), same.end(), [&](const auto& other) { return other.second == "valid"; });
  };

  for (const auto& group_value : file.at("testGroups").as_array()) {
    const auto& group = group_value.as_object();
    const json::value& material_json = group.contains("public") ? group.at("public") : group.at("private");
    const std::string key_text = json::serialize(material_json);
    const KeyMaterial material = LoadKeys(material_json);
    for (const auto& test_value : group.at("tests").as_array()) {
      const auto& test = test_value.as_object();
      const std::string label = Text(test, "result");
      if (test.contains("jwe")) {
        // Not a JWS: refused as a token whatever its label.
        const std::string jwe = test.at("jwe").is_string() ? Text(test, "jwe") : json::serialize(test.at("jwe"));
        EXPECT_FALSE(VerifyCompact(jwe, material)) << name << " " << Id(test) << ": a JWE was accepted";
        EXPECT_FALSE(SplitCompact(jwe).has_value()) << name << " " << Id(test) << ": a JWE split as a JWS";
        tally.Skip("JWE: mgw accepts JWS only (every one checked to be refused as a token)");
        continue;
      }
      const std::string jws = Text(test, "jws");
      if (IsJsonSerialization(jws)) {
        EXPECT_FALSE(VerifyCompact(jws, material)) << name << " " << Id(test);
        tally.Skip("JSON serialization is not a JWT (checked to be refused)");
        continue;
      }
      if (contradicted(key_text, test)) {
        tally.Skip("label contradicts a vector with byte-identical input (e.g. tcId 367/370 vs 357)");
        continue;
      }
      if (HasEmptyPayload(jws) && label == "valid") {
        EXPECT_FALSE(VerifyCompact(jws, material)) << name << " " << Id(test);
        EXPECT_TRUE(VerifiesWithEmptyPayload(jws, material))
            << name << " " << Id(test) << ": the signature over an empty payload does not verify";
        tally.Skip("empty payload: a valid JWS but never a JWT claims set (signature checked to verify)");
        continue;
      }
      // RFC 7515 section 2: each part is base64url, nothing else. A part with a character outside
      // the alphabet is refused whatever the label says.
      const bool outside_alphabet = !std::all_of(jws.begin(), jws.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
      });
      // RFC 7517 section 4.4: a JWK's "alg" names the one algorithm the key is for. A token whose
      // alg differs (or a JWK whose alg is not a registered JWS algorithm, such as "ES521") is
      // refused whatever the label says.
      const std::string pinned = material_json.is_object() ? Text(material_json.as_object(), "alg") : "";
      const bool pin_mismatch = !pinned.empty() && pinned != HeaderAlg(jws);
      const bool rule = ExpectValid(label) && (outside_alphabet || pin_mismatch);
      if (pin_mismatch && ExpectValid(label) && ParseAlgorithm(HeaderAlg(jws))) {
        // Without its "alg" the same key verifies: the pin alone refuses the token.
        json::object unpinned = material_json.as_object();
        unpinned.erase("alg");
        EXPECT_TRUE(VerifyCompact(jws, LoadKeys(json::value(unpinned)))) << name << " " << Id(test);
      }
      tally.Check(ExpectValid(label) && !rule, VerifyCompact(jws, material), Id(test),
                  label + " " + Text(test, "comment") + (material.usable ? "" : " [key: " + material.error + "]") +
                      (outside_alphabet ? " [a character outside base64url]" : "") +
                      (pin_mismatch ? " [the JWK's alg " + pinned + " pins the key]" : ""),
                  rule);
    }
  }
  tally.Report();
}

TEST(WycheproofVectors, RsaPkcs1) {
  for (const char* name : {"rsa_signature_2048_sha256_test.json", "rsa_signature_2048_sha384_test.json",
                           "rsa_signature_2048_sha512_test.json", "rsa_signature_3072_sha256_test.json",
                           "rsa_signature_3072_sha384_test.json", "rsa_signature_3072_sha512_test.json",
                           "rsa_signature_4096_sha256_test.json", "rsa_signature_4096_sha384_test.json",
                           "rsa_signature_4096_sha512_test.json"}) {
    RunSignatureFile(name);
  }
}

TEST(WycheproofVectors, RsaPss) {
  for (const char* name : {"rsa_pss_2048_sha256_mgf1_32_test.json", "rsa_pss_2048_sha384_mgf1_48_test.json",
                           "rsa_pss_3072_sha256_mgf1_32_test.json", "rsa_pss_4096_sha256_mgf1_32_test.json",
                           "rsa_pss_4096_sha384_mgf1_48_test.json", "rsa_pss_4096_sha512_mgf1_64_test.json"}) {
    RunSignatureFile(name);
  }
}

TEST(WycheproofVectors, EcdsaP1363) {
  for (const char* name : {"ecdsa_secp256r1_sha256_p1363_test.json", "ecdsa_secp384r1_sha384_p1363_test.json",
                           "ecdsa_secp521r1_sha512_p1363_test.json", "ecdsa_secp256k1_sha256_p1363_test.json"}) {
    RunSignatureFile(name);
  }
}

TEST(WycheproofVectors, EdDsa) {
  RunSignatureFile("ed25519_test.json");
  RunSignatureFile("ed448_test.json");
}

TEST(WycheproofVectors, Hmac) {
  RunMacFile("hmac_sha256_test.json", Algorithm::kHs256, 256);
  RunMacFile("hmac_sha384_test.json", Algorithm::kHs384, 384);
  RunMacFile("hmac_sha512_test.json", Algorithm::kHs512, 512);
}

TEST(WycheproofVectors, JsonWebSignature) { RunJoseFile("json_web_signature_test.json"); }
TEST(WycheproofVectors, JsonWebKey) { RunJoseFile("json_web_key_test.json"); }
TEST(WycheproofVectors, JsonWebCrypto) { RunJoseFile("json_web_crypto_test.json"); }
TEST(WycheproofVectors, JsonWebEncryption) { RunJoseFile("json_web_encryption_test.json"); }

// Every vector file of the corpus is run by one of the tests above (a new file fails here).
TEST(WycheproofVectors, EveryFileIsCovered) {
  const std::vector<std::string> covered = {
      "rsa_signature_2048_sha256_test.json", "rsa_signature_2048_sha384_test.json",
      "rsa_signature_2048_sha512_test.json", "rsa_signature_3072_sha256_test.json",
      "rsa_signature_3072_sha384_test.json", "rsa_signature_3072_sha512_test.json",
      "rsa_signature_4096_sha256_test.json", "rsa_signature_4096_sha384_test.json",
      "rsa_signature_4096_sha512_test.json", "rsa_pss_2048_sha256_mgf1_32_test.json",
      "rsa_pss_2048_sha384_mgf1_48_test.json", "rsa_pss_3072_sha256_mgf1_32_test.json",
      "rsa_pss_4096_sha256_mgf1_32_test.json", "rsa_pss_4096_sha384_mgf1_48_test.json",
      "rsa_pss_4096_sha512_mgf1_64_test.json", "ecdsa_secp256r1_sha256_p1363_test.json",
      "ecdsa_secp384r1_sha384_p1363_test.json", "ecdsa_secp521r1_sha512_p1363_test.json",
      "ecdsa_secp256k1_sha256_p1363_test.json", "ed25519_test.json", "ed448_test.json",
      "hmac_sha256_test.json", "hmac_sha384_test.json", "hmac_sha512_test.json",
      "json_web_signature_test.json", "json_web_key_test.json", "json_web_crypto_test.json",
      "json_web_encryption_test.json"};
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusPath(kWycheproof))) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() == ".json") {
      ++files;
      EXPECT_NE(std::find(covered.begin(), covered.end(), file), covered.end()) << file << " is not run";
    }
  }
  EXPECT_EQ(files, static_cast<int>(covered.size()));
}

// ---------------------------------------------------------------------------------------------
// RFC 7515 Appendix A, RFC 7520 (JOSE cookbook), RFC 8037.

json::object PublicOnly(json::object jwk) {
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
    jwk.erase(member);
  }
  return jwk;
}

// An RSA private key from a JWK (n, e, d, p, q, dp, dq, qi), to re-sign deterministic examples.
KeyPtr RsaPrivateFromJwk(const json::object& jwk) {
  OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
  std::vector<BIGNUM*> numbers;
  const std::pair<const char*, const char*> members[] = {
      {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
      {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
      {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
  for (const auto& [member, param] : members) {
    const auto bytes = Base64UrlDecode(Text(jwk, member));
    BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                           static_cast<int>(bytes->size()), nullptr);
    numbers.push_back(bn);
    OSSL_PARAM_BLD_push_BN(builder, param, bn);
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_fromdata_init(ctx);
  EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(builder);
  for (BIGNUM* bn : numbers) {
    BN_free(bn);
  }
  return pkey != nullptr ? Key::FromPkey(pkey, "") : nullptr;
}

TEST(RfcVectors, Rfc7515AppendixA) {
  Tally tally{"jose-rfc7515-rfc8037/rfc7515_appendix_a.json"};
  const auto entries = ReadJson(CorpusPath(tally.file)).at("entries").as_object();
  // The payloads are JWT claims {"iss":"joe","exp":1300819380,...}: the whole validator runs,
  // at a moment before exp.
  constexpr std::int64_t kBeforeExp = 1300819380 - 60;
  struct Example {
    const char* step;
    bool hmac;
    bool claims;  // A.4's payload is the text "Payload", not a claims set
  };
  for (const Example example : {Example{"a.1.1", true, true}, Example{"a.2.1", false, true},
                                Example{"a.3.1", false, true}, Example{"a.4.1", false, false}}) {
    const std::string step = example.step;
    const auto jwk = json::parse(Text(entries, step + ".jwk+json")).as_object();
    const std::string compact = Text(entries, step + ".compact");
    // The signing input is the base64url text as received (A.1's header has CR LF in it).
    EXPECT_EQ(compact.substr(0, compact.rfind('.')), Text(entries, step + ".signing-input"));
    bundle::JwtIssuer issuer;
    issuer.issuer = "joe";
    std::string secret;
    if (example.hmac) {
      secret = *Base64UrlDecode(Text(jwk, "k"));
      issuer.secret_env = "RFC7515_SECRET";
    } else {
      json::object jwks;
      jwks["keys"] = json::array{PublicOnly(jwk)};
      issuer.jwks_json = json::serialize(jwks);
    }
    tally.Check(true, VerifyCompact(compact, LoadKeys(json::value(example.hmac ? jwk : PublicOnly(jwk)))),
                step + " signature", "valid");
    if (!example.claims) {
      continue;
    }
    const JwtValidator validator({issuer}, [&](const std::string&) -> std::optional<std::string> {
      return secret;
    });
    const auto result = validator.Validate(compact, kBeforeExp, 0);
    tally.Check(true, result.failure == JwtFailure::kNone, step + " through JwtValidator", "valid");
    // After exp it is refused, and a flipped payload bit is refused.
    EXPECT_EQ(validator.Validate(compact, 1300819380, 0).failure, JwtFailure::kExpired) << step;
    std::string tampered = compact;
    tampered[compact.find('.') + 3] ^= 0x01;
    EXPECT_NE(validator.Validate(tampered, kBeforeExp, 0).failure, JwtFailure::kNone) << step;
  }
  // Deterministic algorithms re-sign to the same bytes with mgw's Sign().
  {
    const auto jwk = json::parse(Text(entries, "a.1.1.jwk+json")).as_object();
    const auto key = Key::FromSecret(*Base64UrlDecode(Text(jwk, "k")), "");
    const auto signature = Sign(Algorithm::kHs256, *key, Text(entries, "a.1.1.signing-input"));
    ASSERT_TRUE(signature.has_value());
    EXPECT_EQ(Base64UrlEncode(*signature), Text(entries, "a.1.1.signature-b64"));
  }
  {
    const auto key = RsaPrivateFromJwk(json::parse(Text(entries, "a.2.1.jwk+json")).as_object());
    ASSERT_NE(key, nullptr);
    const auto signature = Sign(Algorithm::kRs256, *key, Text(entries, "a.2.1.signing-input"));
    ASSERT_TRUE(signature.has_value());
    EXPECT_EQ(Base64UrlEncode(*signature), Text(entries, "a.2.1.signature-b64"));
  }
  // A.5: the unsecured JWS (alg "none") is rejected, whatever keys the issuer has.
  {
    bundle::JwtIssuer issuer;
    issuer.issuer = "joe";
    issuer.secret_env = "RFC7515_SECRET";
    json::object jwks;
    jwks["keys"] = json::array{PublicOnly(json::parse(Text(entries, "a.2.1.jwk+json")).as_object())};
    issuer.jwks_json = json::serialize(jwks);
    const JwtValidator validator({issuer}, [](const std::string&) -> std::optional<std::string> {
      return std::string(64, 'k');
    });
    const auto result = validator.Validate(Text(entries, "a.5.compact"), kBeforeExp, 0);
    tally.Check(false, result.failure == JwtFailure::kNone, "a.5 (alg none) through JwtValidator", "invalid");
    EXPECT_EQ(result.failure, JwtFailure::kAlgorithm);
  }
  tally.Report();
}

TEST(RfcVectors, Rfc8037AppendixA) {
  Tally tally{"jose-rfc7515-rfc8037/rfc8037_appendix_a.json"};
  const auto entries = ReadJson(CorpusPath(tally.file)).at("entries").as_object();
  const auto material = LoadKeys(json::parse(Text(entries, "a.2.jwk+json")));
  ASSERT_TRUE(material.usable) << material.error;
  tally.Check(true, VerifyCompact(Text(entries, "a.4.sig+compact"), material), "A.4", "valid");
  tally.Check(true, VerifyCompact(Text(entries, "a.5.sig+compact"), material), "A.5", "valid");
  // The private key (A.1) signs to A.4's signature (Ed25519 is deterministic).
  const std::string seed = FromHex(Text(entries, "a.1.secret"));
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  ASSERT_NE(pkey, nullptr);
  const auto key = Key::FromPkey(pkey, "");
  const auto signature = Sign(Algorithm::kEdDsa, *key, Text(entries, "a.4.signing-input"));
  ASSERT_TRUE(signature.has_value());
  EXPECT_EQ(testing::FromHex(Text(entries, "a.4.sig+hex")), *signature);
  // A.3's JWK is the same public key.
  EXPECT_TRUE(KeyFromJwk(Text(entries, "a.3.jwk+json")).has_value());
  tally.Skip("A.6/A.7 (X25519/X448 ECDH-ES) are JWE", 2);
  tally.Report();
}

TEST(RfcVectors, Rfc7520Cookbook) {
  Tally tally{"jose-cookbook-rfc7520"};
  const std::string root = CorpusPath("jose-cookbook-rfc7520/");
  for (const char* name : {"jws/4_1.rsa_v15_signature.json", "jws/4_2.rsa-pss_signature.json",
                           "jws/4_3.ecdsa_signature.json", "jws/4_4.hmac-sha2_integrity_protection.json",
                           "jws/4_5.signature_with_detached_content.json",
                           "jws/4_6.protecting_specific_header_fields.json",
                           "jws/4_7.protecting_content_only.json", "jws/4_8.multiple_signatures.json",
                           "curve25519/jws.json"}) {
    const auto example = ReadJson(root + name);
    const auto& input = example.at("input").as_object();
    const auto& output = example.at("output").as_object();
    if (input.at("key").is_array()) {
      tally.Skip("multiple signatures exist only in JSON serialization (not a JWT)",
                 static_cast<int>(output.size()));
      continue;
    }
    const auto material = LoadKeys(input.at("key"));
    ASSERT_TRUE(material.usable) << name << ": " << material.error;
    for (const auto& [form, value] : output) {
      if (form != "compact") {
        EXPECT_FALSE(VerifyCompact(json::serialize(value), material)) << name << " " << form;
        tally.Skip("JSON serialization is not a JWT (checked to be refused)");
        continue;
      }
      const std::string compact(value.as_string());
      if (HasEmptyPayload(compact)) {
        // Detached content: the signature covers a payload that is not in the token.
        EXPECT_FALSE(VerifyCompact(compact, material)) << name;
        EXPECT_FALSE(VerifiesWithEmptyPayload(compact, material)) << name;
        tally.Skip("detached payload: never a JWT (checked to be refused)");
        continue;
      }
      tally.Check(true, VerifyCompact(compact, material), std::string(name) + " compact", "valid");
      // The payload decodes to the example's text, exactly.
      const auto parts = SplitCompact(compact);
      ASSERT_TRUE(parts.has_value());
      EXPECT_EQ(*Base64UrlDecode(parts->payload_b64), Text(input, "payload")) << name;
    }
  }
  // RFC 7797 b64=false: the header is critical ("crit": ["b64"]) and must be refused.
  for (const char* name : {"rfc7797/hmac-sha2_b64_false.json", "rfc7797/4.2.hmac-sha2_b64_false.json"}) {
    const auto example = ReadJson(root + name);
    const auto material = LoadKeys(example.at("input").as_object().at("key"));
    for (const auto& [form, value] : example.at("output").as_object()) {
      if (form == "compact") {
        tally.Check(false, VerifyCompact(value.as_string(), material), std::string(name) + " compact",
                    "crit b64 must be refused");
      } else {
        EXPECT_FALSE(VerifyCompact(json::serialize(value), material));
        tally.Skip("JSON serialization is not a JWT (checked to be refused)");
      }
    }
  }
  // JWKs of RFC 7520 section 3: signature keys import (private ones give their public part); the
  // encryption key is refused.
  const std::pair<const char*, bool> jwks[] = {
      {"jwk/3_1.ec_public_key.json", true}, {"jwk/3_2.ec_private_key.json", true},
      {"jwk/3_3.rsa_public_key.json", true}, {"jwk/3_4.rsa_private_key.json", true},
      {"jwk/3_5.symmetric_key_mac_computation.json", true},
      {"jwk/3_6.symmetric_key_encryption.json", false}};
  for (const auto& [name, usable] : jwks) {
    tally.Check(usable, KeyFromJwk(ReadText(root + name)).has_value(), name, usable ? "import" : "refuse");
  }
  tally.Report();
}

}  // namespace
}  // namespace mgw::security
