#include "security/jose.h"

#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "security/security_testing.h"

namespace mgw::security {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using testing::GeneratedKey;
using testing::PrivateKey;
using testing::PublicJwk;
using testing::PublicPem;

// ---------------------------------------------------------------------------------------------
// Base64url (JWS) and base64 (Basic, {SHA}).

TEST(Base64Url, DecodesCanonicalUnpaddedText) {
  EXPECT_EQ(Base64UrlDecode(""), "");
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
  EXPECT_EQ(Base64UrlDecode("Zm8"), "fo");
  EXPECT_EQ(Base64UrlDecode("Zm9v"), "foo");
  EXPECT_EQ(Base64UrlDecode("-_8"), std::string("\xfb\xff", 2));
}

TEST(Base64Url, RejectsEverythingElse) {
  // "Zh" and "Zm9" leave non-zero unused low bits (non-canonical: "f" is only "Zg", "fo" only
  // "Zm8"); "Z" and "Zm9vY" cannot end a quantum; padding, whitespace, '+', '/' and anything
  // outside the alphabet are refused.
  for (const char* text : {"Zg==", "Zg=", "Zm9v=", "+/8", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v.", "Z",
                           "Zm9vY", "Zh", "Zm9", "?Zm9v", "Zm9v%3D", "\xc3\xa9", "Zm9v\t"}) {
    EXPECT_FALSE(Base64UrlDecode(text).has_value()) << text;
  }
  EXPECT_EQ(Base64UrlDecode("Zm9w"), "fop");
}

TEST(Base64Url, RoundTripsEveryLength) {
  std::mt19937 random(7);
  for (std::size_t length = 0; length < 70; ++length) {
    std::string bytes(length, '\0');
    for (auto& c : bytes) {
      c = static_cast<char>(random() & 0xff);
    }
    const std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("=+/"), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(encoded), bytes) << length;
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes) << length;
  }
}

TEST(Base64, StandardAlphabetNeedsExactPadding) {
  EXPECT_EQ(Base64Decode("Zg=="), "f");
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_EQ(Base64Decode("+/8="), std::string("\xfb\xff", 2));
  for (const char* text : {"Zg", "Zg=", "Zg===", "Zm8", "-_8=", "Zg==Zg==", "Zh==", "Z===", " Zg=="}) {
    EXPECT_FALSE(Base64Decode(text).has_value()) << text;
  }
}

TEST(Algorithms, NamesRoundTripAndNoneIsNotOne) {
  for (const char* name : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                           "ES512", "EdDSA", "HS256", "HS384", "HS512"}) {
    const auto algorithm = ParseAlgorithm(name);
    ASSERT_TRUE(algorithm.has_value()) << name;
    EXPECT_EQ(AlgorithmName(*algorithm), name);
  }
  for (const char* name : {"none", "None", "NONE", "", "rs256", "ES256K", "Ed25519", "RSA1_5", "ES521"}) {
    EXPECT_FALSE(ParseAlgorithm(name).has_value()) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// JWK import.

std::string Serialize(const json::object& o) { return json::serialize(o); }

TEST(KeyFromJwk, ImportsEachKeyType) {
  struct Case {
    const char* kind;
    Key::Type type;
  };
  for (const Case c : {Case{"RSA-2048", Key::Type::kRsa}, Case{"P-256", Key::Type::kEcP256},
                       Case{"P-384", Key::Type::kEcP384}, Case{"P-521", Key::Type::kEcP521},
                       Case{"Ed25519", Key::Type::kEd25519}}) {
    auto jwk = PublicJwk(c.kind);
    jwk["kid"] = "k1";
    jwk["use"] = "sig";
    auto key = KeyFromJwk(Serialize(jwk));
    ASSERT_TRUE(key.has_value()) << c.kind << ": " << key.error().message;
    EXPECT_EQ((*key)->KeyType(), c.type) << c.kind;
    EXPECT_EQ((*key)->Kid(), "k1");
    EXPECT_FALSE((*key)->DeclaredAlgorithm().has_value());
  }
  auto secret = KeyFromJwk(R"({"kty":"oct","k":")" + Base64UrlEncode(std::string(32, 'x')) + R"("})");
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ((*secret)->KeyType(), Key::Type::kSecret);
  EXPECT_EQ((*secret)->Secret(), std::string(32, 'x'));
}

TEST(KeyFromJwk, VerifiesWhatTheMatchingPrivateKeySigned) {
  struct Case {
    const char* kind;
    Algorithm algorithm;
  };
  for (const Case c : {Case{"RSA-2048", Algorithm::kRs256}, Case{"RSA-2048", Algorithm::kPs256},
                       Case{"P-256", Algorithm::kEs256}, Case{"P-384", Algorithm::kEs384},
                       Case{"P-521", Algorithm::kEs512}, Case{"Ed25519", Algorithm::kEdDsa}}) {
    auto key = KeyFromJwk(Serialize(PublicJwk(c.kind)));
    ASSERT_TRUE(key.has_value()) << c.kind;
    const auto signature = Sign(c.algorithm, *PrivateKey(c.kind), "payload");
    ASSERT_TRUE(signature.has_value());
    EXPECT_TRUE(VerifySignature(c.algorithm, **key, "payload", *signature)) << c.kind;
  }
}

TEST(KeyFromJwk, RefusesWeakRsaKeys) {
  auto jwk = PublicJwk("RSA-2048");
  jwk["e"] = "AQ";  // e = 1: every "signature" would verify
  EXPECT_THAT(KeyFromJwk(Serialize(jwk)).error().message, HasSubstr("exponent"));
  jwk["e"] = "Ag";  // even
  EXPECT_FALSE(KeyFromJwk(Serialize(jwk)).has_value());
  jwk["e"] = "";
  EXPECT_FALSE(KeyFromJwk(Serialize(jwk)).has_value());
  EXPECT_THAT(KeyFromJwk(Serialize(PublicJwk("RSA-1024"))).error().message, HasSubstr("2048"));
  auto no_n = PublicJwk("RSA-2048");
  no_n.erase("n");
  EXPECT_FALSE(KeyFromJwk(Serialize(no_n)).has_value());
  auto bad_n = PublicJwk("RSA-2048");
  bad_n["n"] = std::string(bad_n["n"].as_string()) + "=";
  EXPECT_FALSE(KeyFromJwk(Serialize(bad_n)).has_value());
}

TEST(KeyFromJwk, RefusesBadEcKeys) {
  // A point off the curve (y changed).
  auto off_curve = PublicJwk("P-256");
  std::string y = *Base64UrlDecode(off_curve["y"].as_string());
  y.back() = static_cast<char>(y.back() ^ 1);
  off_curve["y"] = Base64UrlEncode(y);
  EXPECT_FALSE(KeyFromJwk(Serialize(off_curve)).has_value());
  // The coordinates of a P-256 key under another curve name.
  auto wrong_crv = PublicJwk("P-256");
  wrong_crv["crv"] = "P-384";
  EXPECT_FALSE(KeyFromJwk(Serialize(wrong_crv)).has_value());
  for (const char* crv : {"secp256k1", "P-224", ""}) {
    auto unsupported = PublicJwk("P-256");
    unsupported["crv"] = crv;
    EXPECT_FALSE(KeyFromJwk(Serialize(unsupported)).has_value()) << crv;
  }
  auto short_x = PublicJwk("P-256");
  short_x["x"] = Base64UrlEncode(Base64UrlDecode(short_x["x"].as_string())->substr(1));
  EXPECT_FALSE(KeyFromJwk(Serialize(short_x)).has_value());
  auto ed448 = PublicJwk("Ed25519");
  ed448["crv"] = "Ed448";
  EXPECT_FALSE(KeyFromJwk(Serialize(ed448)).has_value());
}

TEST(KeyFromJwk, RefusesKeysNotMeantForVerification) {
  auto enc = PublicJwk("RSA-2048");
  enc["use"] = "enc";
  EXPECT_THAT(KeyFromJwk(Serialize(enc)).error().message, HasSubstr("use=enc"));
  auto ops = PublicJwk("RSA-2048");
  ops["key_ops"] = json::array{"encrypt", "wrapKey"};
  EXPECT_FALSE(KeyFromJwk(Serialize(ops)).has_value());
  ops["key_ops"] = json::array{"verify"};
  EXPECT_TRUE(KeyFromJwk(Serialize(ops)).has_value());
  auto rsa_oaep = PublicJwk("RSA-2048");
  rsa_oaep["alg"] = "RSA-OAEP";
  EXPECT_FALSE(KeyFromJwk(Serialize(rsa_oaep)).has_value());
  EXPECT_FALSE(KeyFromJwk(R"({"kty":"oct","k":"","alg":"HS256"})").has_value());
  EXPECT_FALSE(KeyFromJwk(R"({"kty":"oct","k":"AAAA","alg":"A256GCM"})").has_value());
  EXPECT_FALSE(KeyFromJwk(R"({"kty":"PBES2"})").has_value());
  EXPECT_FALSE(KeyFromJwk(R"({"n":"AQAB"})").has_value());
  EXPECT_FALSE(KeyFromJwk("[1]").has_value());
  EXPECT_FALSE(KeyFromJwk("not json").has_value());
}

TEST(KeyFromJwk, AlgMustFitTheKeyAndThenPinsIt) {
  auto ec = PublicJwk("P-256");
  ec["alg"] = "RS256";
  EXPECT_THAT(KeyFromJwk(Serialize(ec)).error().message, HasSubstr("does not fit"));
  ec["alg"] = "ES384";  // right family, wrong curve
  EXPECT_FALSE(KeyFromJwk(Serialize(ec)).has_value());
  auto short_secret = R"({"kty":"oct","alg":"HS512","k":")" + Base64UrlEncode(std::string(32, 's')) + R"("})";
  EXPECT_FALSE(KeyFromJwk(short_secret).has_value());

  auto rsa = PublicJwk("RSA-2048");
  rsa["alg"] = "PS256";
  auto key = KeyFromJwk(Serialize(rsa));
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ((*key)->DeclaredAlgorithm(), Algorithm::kPs256);
  EXPECT_TRUE((*key)->Supports(Algorithm::kPs256));
  EXPECT_FALSE((*key)->Supports(Algorithm::kRs256));
  EXPECT_FALSE((*key)->Supports(Algorithm::kPs384));
  const auto rs256 = Sign(Algorithm::kRs256, *PrivateKey("RSA-2048"), "x");
  EXPECT_FALSE(VerifySignature(Algorithm::kRs256, **key, "x", *rs256));
}

// ---------------------------------------------------------------------------------------------
// JWKS and PEM.

TEST(KeysFromJwks, ImportsSignatureKeysAndCountsTheOthers) {
  auto rsa = PublicJwk("RSA-2048");
  rsa["kid"] = "rsa";
  auto ec = PublicJwk("P-256");
  ec["kid"] = "ec";
  auto enc = PublicJwk("RSA-3072");
  enc["kid"] = "enc";
  enc["use"] = "enc";
  json::object jwks{{"keys", json::array{rsa, ec, enc, json::object{{"kty", "OKP"}, {"crv", "X25519"}}}}};
  int skipped = -1;
  auto keys = KeysFromJwks(Serialize(jwks), &skipped);
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0]->Kid(), "rsa");
  EXPECT_EQ((*keys)[1]->Kid(), "ec");
  EXPECT_EQ(skipped, 2);
}

TEST(KeysFromJwks, RefusesAmbiguousOrLeakingSets) {
  auto a = PublicJwk("RSA-2048");
  a["kid"] = "same";
  auto b = PublicJwk("P-256");
  b["kid"] = "same";
  EXPECT_THAT(KeysFromJwks(Serialize({{"keys", json::array{a, b}}})).error().message, HasSubstr("two keys"));
  // Even when the second one would not import.
  auto broken = json::object{{"kty", "RSA"}, {"kid", "same"}, {"n", "!"}, {"e", "AQAB"}};
  EXPECT_FALSE(KeysFromJwks(Serialize({{"keys", json::array{a, broken}}})).has_value());
  // Private key material.
  auto with_d = PublicJwk("P-256");
  with_d["d"] = "AAAA";
  EXPECT_THAT(KeysFromJwks(Serialize({{"keys", json::array{with_d}}})).error().message,
              HasSubstr("private key material"));
  // Secrets beside public keys.
  auto oct = json::object{{"kty", "oct"}, {"k", Base64UrlEncode(std::string(32, 'k'))}};
  EXPECT_THAT(KeysFromJwks(Serialize({{"keys", json::array{oct, PublicJwk("P-256")}}})).error().message,
              HasSubstr("mixes"));
  EXPECT_FALSE(KeysFromJwks(R"({"keys":{}})").has_value());
  EXPECT_FALSE(KeysFromJwks(R"([])").has_value());
  EXPECT_TRUE(KeysFromJwks(R"({"keys":[]})").has_value());
}

// A self-signed certificate for a generated key.
std::string CertificatePem(const std::string& kind) {
  EVP_PKEY* pkey = GeneratedKey(kind);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, pkey);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("mgw test"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, pkey, kind == "Ed25519" ? nullptr : EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int)
  std::string out(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  X509_free(cert);
  return out;
}

TEST(KeysFromPem, ReadsCertificatesAndPublicKeys) {
  const std::string pem = CertificatePem("RSA-2048") + PublicPem("P-256") + CertificatePem("Ed25519");
  auto keys = KeysFromPem(pem);
  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0]->KeyType(), Key::Type::kRsa);
  EXPECT_EQ((*keys)[1]->KeyType(), Key::Type::kEcP256);
  EXPECT_EQ((*keys)[2]->KeyType(), Key::Type::kEd25519);
  const auto signature = Sign(Algorithm::kRs256, *PrivateKey("RSA-2048"), "m");
  EXPECT_TRUE(VerifySignature(Algorithm::kRs256, *(*keys)[0], "m", *signature));
  EXPECT_FALSE(KeysFromPem("no pem here").has_value());
  EXPECT_FALSE(KeysFromPem(testing::PrivatePem("P-256")).has_value()) << "a private key is not a trust anchor";
}

TEST(KeysFromPem, ReadsPkcs1RsaPublicKeys) {
  // "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1), as `openssl rsa -RSAPublicKey_out` writes it; the
  // build accepts such files, so the runtime must read them.
  OSSL_ENCODER_CTX* encoder = OSSL_ENCODER_CTX_new_for_pkey(GeneratedKey("RSA-2048"), EVP_PKEY_PUBLIC_KEY, "PEM",
                                                            "type-specific", nullptr);
  ASSERT_NE(encoder, nullptr);
  unsigned char* data = nullptr;
  std::size_t length = 0;
  ASSERT_EQ(OSSL_ENCODER_to_data(encoder, &data, &length), 1);
  OSSL_ENCODER_CTX_free(encoder);
  const std::string pem(reinterpret_cast<char*>(data), length);
  OPENSSL_free(data);
  ASSERT_NE(pem.find("BEGIN RSA PUBLIC KEY"), std::string::npos) << pem;
  auto keys = KeysFromPem(pem);
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  ASSERT_EQ(keys->size(), 1u);
  const auto signature = Sign(Algorithm::kRs256, *PrivateKey("RSA-2048"), "m");
  EXPECT_TRUE(VerifySignature(Algorithm::kRs256, *keys->front(), "m", *signature));
}

TEST(PrivateKeyFromPem, ReadsWhatOpenSslWrote) {
  auto key = PrivateKeyFromPem(testing::PrivatePem("P-384"));
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ((*key)->KeyType(), Key::Type::kEcP384);
  EXPECT_FALSE(PrivateKeyFromPem(PublicPem("P-384")).has_value());
}

TEST(Roca, GeneratedKeysHaveNoFingerprint) {
  for (const char* kind : {"RSA-2048", "RSA-3072"}) {
    BIGNUM* n = nullptr;
    EVP_PKEY_get_bn_param(GeneratedKey(kind), "n", &n);
    EXPECT_FALSE(HasRocaFingerprint(n)) << kind;
    BN_free(n);
  }
  EXPECT_FALSE(HasRocaFingerprint(nullptr));
}

// ---------------------------------------------------------------------------------------------
// Sign and verify, every algorithm.

struct AlgorithmCase {
  Algorithm algorithm;
  const char* kind;  // key kind, or "" for an HMAC secret
  std::size_t signature_bytes;
};

class SignVerify : public ::testing::TestWithParam<AlgorithmCase> {};

TEST_P(SignVerify, RoundTripsAndRejectsAnyChange) {
  const auto& c = GetParam();
  KeyPtr signer;
  KeyPtr verifier;
  if (IsHmac(c.algorithm)) {
    signer = verifier = Key::FromSecret(std::string(c.signature_bytes, 'S'), "");
  } else {
    signer = PrivateKey(c.kind);
    auto keys = KeysFromPem(PublicPem(c.kind));
    ASSERT_TRUE(keys.has_value());
    verifier = keys->front();
  }
  const std::string input = "eyJhbGciOiJ4In0.eyJzdWIiOiJ5In0";
  const auto signature = Sign(c.algorithm, *signer, input);
  ASSERT_TRUE(signature.has_value()) << signature.error().message;
  if (c.signature_bytes != 0) {
    EXPECT_EQ(signature->size(), c.signature_bytes);
  }
  EXPECT_TRUE(VerifySignature(c.algorithm, *verifier, input, *signature));
  std::string flipped = *signature;
  flipped[flipped.size() / 2] ^= 0x20;
  EXPECT_FALSE(VerifySignature(c.algorithm, *verifier, input, flipped));
  EXPECT_FALSE(VerifySignature(c.algorithm, *verifier, input + "x", *signature));
  EXPECT_FALSE(VerifySignature(c.algorithm, *verifier, input, signature->substr(1)));
  EXPECT_FALSE(VerifySignature(c.algorithm, *verifier, input, *signature + '\0'));
  EXPECT_FALSE(VerifySignature(c.algorithm, *verifier, input, ""));
}

// An RSA signature is exactly as long as the modulus: one with a leading zero byte stripped is
// refused, although OpenSSL alone would left-pad it and accept it. Signs until a signature starts
// with a zero byte (PS256 salts are random: about 1 in 256, so at most a few thousand tries).
TEST(SignVerify, RefusesAnRsaSignatureWithoutItsLeadingZeroByte) {
  KeyPtr signer = PrivateKey("RSA-2048");
  auto keys = KeysFromPem(PublicPem("RSA-2048"));
  ASSERT_TRUE(keys.has_value());
  const std::string input = "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ5In0";
  std::optional<std::string> leading_zero;
  for (int attempt = 0; attempt < 5000 && !leading_zero; ++attempt) {
    auto signature = Sign(Algorithm::kPs256, *signer, input);
    ASSERT_TRUE(signature.has_value());
    if ((*signature)[0] == '\0') {
      leading_zero = *signature;
    }
  }
  ASSERT_TRUE(leading_zero.has_value()) << "no signature with a leading zero byte in 5000 tries";
  EXPECT_TRUE(VerifySignature(Algorithm::kPs256, *keys->front(), input, *leading_zero));
  EXPECT_FALSE(VerifySignature(Algorithm::kPs256, *keys->front(), input, leading_zero->substr(1)));
}

INSTANTIATE_TEST_SUITE_P(
    EveryAlgorithm, SignVerify,
    ::testing::Values(AlgorithmCase{Algorithm::kRs256, "RSA-2048", 256}, AlgorithmCase{Algorithm::kRs384, "RSA-2048", 256},
                      AlgorithmCase{Algorithm::kRs512, "RSA-2048", 256}, AlgorithmCase{Algorithm::kPs256, "RSA-2048", 256},
                      AlgorithmCase{Algorithm::kPs384, "RSA-2048", 256}, AlgorithmCase{Algorithm::kPs512, "RSA-2048", 256},
                      AlgorithmCase{Algorithm::kRs256, "RSA-3072", 384}, AlgorithmCase{Algorithm::kEs256, "P-256", 64},
                      AlgorithmCase{Algorithm::kEs384, "P-384", 96}, AlgorithmCase{Algorithm::kEs512, "P-521", 132},
                      AlgorithmCase{Algorithm::kEdDsa, "Ed25519", 64}, AlgorithmCase{Algorithm::kHs256, "", 32},
                      AlgorithmCase{Algorithm::kHs384, "", 48}, AlgorithmCase{Algorithm::kHs512, "", 64}),
    [](const auto& test_info) {
      return std::string(AlgorithmName(test_info.param.algorithm)) + "_" + std::to_string(test_info.index);
    });

TEST(SignVerify, PsSignaturesAreRandomisedEcToo) {
  const auto a = Sign(Algorithm::kPs256, *PrivateKey("RSA-2048"), "m");
  const auto b = Sign(Algorithm::kPs256, *PrivateKey("RSA-2048"), "m");
  EXPECT_NE(*a, *b);
  const auto c = Sign(Algorithm::kRs256, *PrivateKey("RSA-2048"), "m");
  const auto d = Sign(Algorithm::kRs256, *PrivateKey("RSA-2048"), "m");
  EXPECT_EQ(*c, *d);
}

TEST(SignVerify, ShortSecretsAndWrongKeysCannotSign) {
  EXPECT_FALSE(Sign(Algorithm::kHs256, *Key::FromSecret(std::string(31, 's'), ""), "m").has_value());
  EXPECT_FALSE(Sign(Algorithm::kEs256, *PrivateKey("RSA-2048"), "m").has_value());
  EXPECT_FALSE(Sign(Algorithm::kRs256, *PrivateKey("RSA-1024"), "m").has_value());
}

// ---------------------------------------------------------------------------------------------
// Key type / algorithm confusion.

TEST(Confusion, RsaPublicKeyBytesAsAnHmacSecretNeverVerify) {
  // The classic attack: sign HS256 with the issuer's public key (PEM bytes, or its DER, or the
  // JWK's n) as the secret, and hope the verifier feeds the RSA key to HMAC.
  const std::string input = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0";
  auto rsa_keys = KeysFromPem(PublicPem("RSA-2048"));
  ASSERT_TRUE(rsa_keys.has_value());
  const Key& rsa = *rsa_keys->front();
  for (const std::string& secret : {PublicPem("RSA-2048"), *Base64UrlDecode(PublicJwk("RSA-2048")["n"].as_string()),
                                    std::string(PublicJwk("RSA-2048")["n"].as_string())}) {
    const auto forged = Sign(Algorithm::kHs256, *Key::FromSecret(secret, ""), input);
    ASSERT_TRUE(forged.has_value());
    for (Algorithm hs : {Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512}) {
      EXPECT_FALSE(VerifySignature(hs, rsa, input, *forged));
    }
  }
  EXPECT_FALSE(rsa.Supports(Algorithm::kHs256));
}

TEST(Confusion, KeysOnlyVerifyTheirOwnFamily) {
  const std::string input = "a.b";
  auto ec = KeyFromJwk(Serialize(PublicJwk("P-256")));
  auto rsa = KeyFromJwk(Serialize(PublicJwk("RSA-2048")));
  auto ed = KeyFromJwk(Serialize(PublicJwk("Ed25519")));
  const auto rs = Sign(Algorithm::kRs256, *PrivateKey("RSA-2048"), input);
  const auto es = Sign(Algorithm::kEs256, *PrivateKey("P-256"), input);
  const auto eddsa = Sign(Algorithm::kEdDsa, *PrivateKey("Ed25519"), input);
  EXPECT_FALSE(VerifySignature(Algorithm::kRs256, **ec, input, *rs));
  EXPECT_FALSE(VerifySignature(Algorithm::kEs256, **rsa, input, *es));
  EXPECT_FALSE(VerifySignature(Algorithm::kEdDsa, **ec, input, *eddsa));
  EXPECT_FALSE(VerifySignature(Algorithm::kEs256, **ed, input, *es));
  EXPECT_FALSE(VerifySignature(Algorithm::kEs384, **ec, input, *es));
  // PKCS#1 v1.5 and PSS are not interchangeable.
  EXPECT_FALSE(VerifySignature(Algorithm::kPs256, **rsa, input, *rs));
  const auto ps = Sign(Algorithm::kPs256, *PrivateKey("RSA-2048"), input);
  EXPECT_FALSE(VerifySignature(Algorithm::kRs256, **rsa, input, *ps));
  // An HMAC secret is not a public key.
  const auto secret = Key::FromSecret(std::string(64, 'k'), "");
  EXPECT_FALSE(VerifySignature(Algorithm::kRs256, *secret, input, *rs));
  EXPECT_FALSE(secret->Supports(Algorithm::kEdDsa));
}

TEST(Confusion, HmacSecretsMustBeAsLongAsTheHash) {
  EXPECT_TRUE(Key::FromSecret(std::string(32, 'k'), "")->Supports(Algorithm::kHs256));
  EXPECT_FALSE(Key::FromSecret(std::string(31, 'k'), "")->Supports(Algorithm::kHs256));
  EXPECT_FALSE(Key::FromSecret(std::string(47, 'k'), "")->Supports(Algorithm::kHs384));
  EXPECT_TRUE(Key::FromSecret(std::string(48, 'k'), "")->Supports(Algorithm::kHs384));
  EXPECT_FALSE(Key::FromSecret(std::string(63, 'k'), "")->Supports(Algorithm::kHs512));
  EXPECT_TRUE(Key::FromSecret(std::string(64, 'k'), "")->Supports(Algorithm::kHs512));
}

}  // namespace
}  // namespace mgw::security
