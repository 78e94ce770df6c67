#include "security/jose.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <set>

#include <boost/json.hpp>

namespace mgw::security {
namespace {

using base::MakeError;

constexpr std::array<std::string_view, 13> kAlgorithmNames = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"};

const EVP_MD* Digest(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kRs256:
    case Algorithm::kPs256:
    case Algorithm::kEs256:
    case Algorithm::kHs256:
      return EVP_sha256();
    case Algorithm::kRs384:
    case Algorithm::kPs384:
    case Algorithm::kEs384:
    case Algorithm::kHs384:
      return EVP_sha384();
    case Algorithm::kRs512:
    case Algorithm::kPs512:
    case Algorithm::kEs512:
    case Algorithm::kHs512:
      return EVP_sha512();
    case Algorithm::kEdDsa:
      return nullptr;
  }
  return nullptr;
}

struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  return -1;
}

std::optional<std::string> DecodeBase64(std::string_view text, bool url) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t accumulator = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    int value = DecodeChar(c);
    if (value < 0) {
      if (url && c == '-') {
        value = 62;
      } else if (url && c == '_') {
        value = 63;
      } else if (!url && c == '+') {
        value = 62;
      } else if (!url && c == '/') {
        value = 63;
      } else if (!url && c == '=') {
        break;
      } else {
        return std::nullopt;
      }
    }
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((accumulator >> bits) & 0xff);
    }
  }
  // Padding (standard alphabet only): exactly what completes the last quantum.
  const std::size_t data_chars = i;
  if (!url) {
    const std::size_t padding = text.size() - data_chars;
    for (std::size_t k = data_chars; k < text.size(); ++k) {
      if (text[k] != '=') {
        return std::nullopt;
      }
    }
    if ((data_chars + padding) % 4 != 0 || padding > 2) {
      return std::nullopt;
    }
  }
  if (data_chars % 4 == 1) {
    return std::nullopt;
  }
  // The unused low bits of the last character must be zero (canonical encoding).
  if (bits > 0 && (accumulator & ((1u << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

std::string EncodeBase64(std::string_view bytes, bool url) {
  static constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* alphabet = url ? kUrl : kStd;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (!url) {
      out += "==";
    }
  } else if (rest == 2) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    if (!url) {
      out += '=';
    }
  }
  return out;
}

Key::Type TypeOf(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    return Key::Type::kRsa;
  }
  if (EVP_PKEY_is_a(pkey, "ED25519")) {
    return Key::Type::kEd25519;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) == 1) {
      const std::string_view name(group, length);
      if (name == "prime256v1" || name == "P-256") {
        return Key::Type::kEcP256;
      }
      if (name == "secp384r1" || name == "P-384") {
        return Key::Type::kEcP384;
      }
      if (name == "secp521r1" || name == "P-521") {
        return Key::Type::kEcP521;
      }
    }
  }
  return Key::Type::kOther;
}

std::size_t EcCoordinateBytes(Key::Type type) {
  switch (type) {
    case Key::Type::kEcP256:
      return 32;
    case Key::Type::kEcP384:
      return 48;
    case Key::Type::kEcP521:
      return 66;
    default:
      return 0;
  }
}

std::optional<std::string> Member(const boost::json::object& object, std::string_view name) {
  if (const auto* value = object.if_contains(name); value != nullptr && value->is_string()) {
    return std::string(value->get_string());
  }
  return std::nullopt;
}

base::Result<EVP_PKEY*> FromParams(const char* type, OSSL_PARAM_BLD* builder) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(builder));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return MakeError("invalid key parameters");
  }
  // Reject keys that are not valid public keys (e.g. an EC point off the curve).
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    return MakeError("invalid public key");
  }
  return pkey;
}

}  // namespace

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  for (std::size_t i = 0; i < kAlgorithmNames.size(); ++i) {
    if (kAlgorithmNames[i] == name) {
      return static_cast<Algorithm>(i);
    }
  }
  return std::nullopt;
}

std::string_view AlgorithmName(Algorithm algorithm) {
  return kAlgorithmNames[static_cast<std::size_t>(algorithm)];
}

bool IsHmac(Algorithm algorithm) {
  return algorithm == Algorithm::kHs256 || algorithm == Algorithm::kHs384 ||
         algorithm == Algorithm::kHs512;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) { return DecodeBase64(text, true); }
std::string Base64UrlEncode(std::string_view bytes) { return EncodeBase64(bytes, true); }
std::optional<std::string> Base64Decode(std::string_view text) { return DecodeBase64(text, false); }
std::string Base64Encode(std::string_view bytes) { return EncodeBase64(bytes, false); }

Key::~Key() { EVP_PKEY_free(pkey_); }

std::shared_ptr<const Key> Key::FromPkey(EVP_PKEY* pkey, std::string kid,
                                         std::optional<Algorithm> algorithm) {
  std::shared_ptr<Key> key(new Key());
  key->pkey_ = pkey;
  key->kid_ = std::move(kid);
  key->type_ = TypeOf(pkey);
  key->bits_ = EVP_PKEY_get_bits(pkey);
  key->declared_ = algorithm;
  return key;
}

std::shared_ptr<const Key> Key::FromSecret(std::string secret, std::string kid,
                                           std::optional<Algorithm> algorithm) {
  std::shared_ptr<Key> key(new Key());
  key->type_ = Type::kSecret;
  key->bits_ = static_cast<int>(secret.size() * 8);
  key->secret_ = std::move(secret);
  key->kid_ = std::move(kid);
  key->declared_ = algorithm;
  return key;
}

bool Key::SameAs(const Key& other) const {
  if (type_ != other.type_ || kid_ != other.kid_ || declared_ != other.declared_) {
    return false;
  }
  if (type_ == Type::kSecret) {
    return secret_.size() == other.secret_.size() &&
           CRYPTO_memcmp(secret_.data(), other.secret_.data(), secret_.size()) == 0;
  }
  return pkey_ != nullptr && other.pkey_ != nullptr && EVP_PKEY_eq(pkey_, other.pkey_) == 1;
}

bool Key::Supports(Algorithm algorithm) const {
  if (declared_ && *declared_ != algorithm) {
    return false;
  }
  switch (algorithm) {
    case Algorithm::kRs256:
    case Algorithm::kRs384:
    case Algorithm::kRs512:
    case Algorithm::kPs256:
    case Algorithm::kPs384:
    case Algorithm::kPs512:
      return type_ == Type::kRsa && bits_ >= 2048;
    case Algorithm::kEs256:
      return type_ == Type::kEcP256;
    case Algorithm::kEs384:
      return type_ == Type::kEcP384;
    case Algorithm::kEs512:
      return type_ == Type::kEcP521;
    case Algorithm::kEdDsa:
      return type_ == Type::kEd25519;
    case Algorithm::kHs256:
      return type_ == Type::kSecret && secret_.size() >= 32;
    case Algorithm::kHs384:
      return type_ == Type::kSecret && secret_.size() >= 48;
    case Algorithm::kHs512:
      return type_ == Type::kSecret && secret_.size() >= 64;
  }
  return false;
}

base::Result<KeyPtr> KeyFromJwkObject(const boost::json::object& jwk) {
  const auto kty = Member(jwk, "kty");
  if (!kty) {
    return MakeError("JWK without kty");
  }
  if (const auto use = Member(jwk, "use"); use && *use != "sig") {
    return MakeError("JWK is not a signature key (use=" + *use + ")");
  }
  if (const auto* key_ops = jwk.if_contains("key_ops"); key_ops != nullptr) {
    bool verify = false;
    if (key_ops->is_array()) {
      for (const auto& op : key_ops->get_array()) {
        verify = verify || (op.is_string() && op.get_string() == "verify");
      }
    }
    if (!verify) {
      return MakeError("JWK key_ops does not allow verify");
    }
  }
  std::optional<Algorithm> declared;
  if (const auto alg = Member(jwk, "alg")) {
    declared = ParseAlgorithm(*alg);
    if (!declared) {
      return MakeError("JWK alg \"" + *alg + "\" is not a JWS algorithm mgw accepts");
    }
  }
  const std::string kid = Member(jwk, "kid").value_or("");
  auto decode = [&](std::string_view name) -> std::optional<std::string> {
    auto text = Member(jwk, name);
    if (!text) {
      return std::nullopt;
    }
    return Base64UrlDecode(*text);
  };
  KeyPtr key;
  if (*kty == "RSA") {
    auto n = decode("n");
    auto e = decode("e");
    if (!n || !e || n->empty() || e->empty()) {
      return MakeError("RSA JWK needs n and e");
    }
    std::unique_ptr<BIGNUM, BnDeleter> bn_n(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
    std::unique_ptr<BIGNUM, BnDeleter> bn_e(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
    // e must be odd and > 1 (e = 1 makes every signature "valid").
    if (!bn_n || !bn_e || BN_is_one(bn_e.get()) || !BN_is_odd(bn_e.get())) {
      return MakeError("RSA JWK has an invalid exponent");
    }
    if (HasRocaFingerprint(bn_n.get())) {
      return MakeError("RSA JWK is a weak key with the ROCA fingerprint (CVE-2017-15361)");
    }
    std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> builder(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
    OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
    auto pkey = FromParams("RSA", builder.get());
    if (!pkey) {
      return pkey.error();
    }
    key = Key::FromPkey(*pkey, kid, declared);
  } else if (*kty == "EC") {
    const auto crv = Member(jwk, "crv").value_or("");
    const char* group = crv == "P-256" ? "prime256v1"
                        : crv == "P-384" ? "secp384r1"
                        : crv == "P-521" ? "secp521r1"
                                         : nullptr;
    const std::size_t size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : crv == "P-521" ? 66 : 0;
    if (group == nullptr) {
      return MakeError("EC JWK curve \"" + crv + "\" is not supported");
    }
    auto x = decode("x");
    auto y = decode("y");
    if (!x || !y || x->size() != size || y->size() != size) {
      return MakeError("EC JWK needs x and y of the curve's size");
    }
    std::string point = "\x04" + *x + *y;
    std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> builder(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    auto pkey = FromParams("EC", builder.get());
    if (!pkey) {
      return pkey.error();
    }
    key = Key::FromPkey(*pkey, kid, declared);
  } else if (*kty == "OKP") {
    const auto crv = Member(jwk, "crv").value_or("");
    auto x = decode("x");
    if (crv != "Ed25519") {
      return MakeError("OKP JWK curve \"" + crv + "\" is not supported (Ed25519 is)");
    }
    if (!x || x->size() != 32) {
      return MakeError("Ed25519 JWK needs a 32-byte x");
    }
    EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
    if (pkey == nullptr) {
      ERR_clear_error();
      return MakeError("invalid Ed25519 key");
    }
    key = Key::FromPkey(pkey, kid, declared);
  } else if (*kty == "oct") {
    auto k = decode("k");
    if (!k || k->empty()) {
      return MakeError("oct JWK needs k");
    }
    key = Key::FromSecret(std::move(*k), kid, declared);
  } else {
    return MakeError("JWK kty \"" + *kty + "\" is not supported");
  }
  if (declared && !key->Supports(*declared)) {
    return MakeError("JWK alg " + std::string(AlgorithmName(*declared)) + " does not fit the key");
  }
  if (key->KeyType() == Key::Type::kRsa && key->Bits() < 2048) {
    return MakeError("RSA key shorter than 2048 bits");
  }
  return key;
}

base::Result<KeyPtr> KeyFromJwk(std::string_view json) {
  boost::json::error_code ec;
  const auto value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) {
    return MakeError("JWK is not a JSON object");
  }
  return KeyFromJwkObject(value.get_object());
}

base::Result<std::vector<KeyPtr>> KeysFromJwks(std::string_view json, int* skipped) {
  boost::json::error_code ec;
  const auto value = boost::json::parse(json, ec);
  const auto* object = value.if_object();
  const auto* keys = object != nullptr ? object->if_contains("keys") : nullptr;
  if (ec || keys == nullptr || !keys->is_array()) {
    return MakeError("a JWKS must be a JSON object with a \"keys\" array");
  }
  // Checks on the set as published, before any entry is imported: a kid must name one entry
  // (even when the other one would be skipped), no entry may carry private key material, and
  // secret (oct) keys are not mixed with public keys.
  std::set<std::string> kids;
  bool secret_keys = false;
  bool public_keys = false;
  for (const auto& item : keys->get_array()) {
    const auto* entry = item.if_object();
    if (entry == nullptr) {
      continue;
    }
    const auto kid = Member(*entry, "kid");
    if (kid && !kid->empty() && !kids.insert(*kid).second) {
      return MakeError("JWKS has two keys with kid \"" + *kid + "\"");
    }
    const auto kty = Member(*entry, "kty").value_or("");
    (kty == "oct" ? secret_keys : public_keys) = true;
    if (secret_keys && public_keys) {
      return MakeError("JWKS mixes secret (oct) keys with public keys");
    }
    if (kty != "oct") {
      for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
        if (entry->contains(member)) {
          return MakeError("JWKS holds private key material (\"" + std::string(member) + "\" of kid \"" +
                           kid.value_or("") + "\"); publish public keys only");
        }
      }
    }
  }
  std::vector<KeyPtr> out;
  int dropped = 0;
  for (const auto& item : keys->get_array()) {
    if (!item.is_object()) {
      ++dropped;
      continue;
    }
    auto key = KeyFromJwkObject(item.get_object());
    if (!key) {
      ++dropped;
      continue;
    }
    out.push_back(std::move(*key));
  }
  if (skipped != nullptr) {
    *skipped = dropped;
  }
  return out;
}

base::Result<std::vector<KeyPtr>> KeysFromPem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<KeyPtr> out;
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;  // NOLINT(google-runtime-int): OpenSSL's type
  while (PEM_read_bio(bio.get(), &name, &header, &data, &length) == 1) {
    const std::string block(name);
    const unsigned char* cursor = data;
    EVP_PKEY* pkey = nullptr;
    if (block == "CERTIFICATE" || block == "TRUSTED CERTIFICATE") {
      X509* cert = d2i_X509(nullptr, &cursor, length);
      if (cert != nullptr) {
        pkey = X509_get_pubkey(cert);
        X509_free(cert);
      }
    } else if (block == "PUBLIC KEY") {
      pkey = d2i_PUBKEY(nullptr, &cursor, length);
    } else if (block == "RSA PUBLIC KEY") {
      pkey = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, length);  // PKCS#1 RSAPublicKey
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (pkey != nullptr && EVP_PKEY_is_a(pkey, "RSA")) {
      BIGNUM* n = nullptr;
      const bool weak = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 && HasRocaFingerprint(n);
      BN_free(n);
      if (weak) {
        EVP_PKEY_free(pkey);
        pkey = nullptr;
      }
    }
    if (pkey != nullptr) {
      out.push_back(Key::FromPkey(pkey, ""));
    }
  }
  ERR_clear_error();
  if (out.empty()) {
    return MakeError("no certificate or public key found in PEM");
  }
  return out;
}

bool HasRocaFingerprint(const BIGNUM* modulus) {
  // A ROCA prime is k * M + (65537^a mod M) with M the product of the first primes, so n mod p is
  // a power of 65537 mod p for each of them; a random modulus passes all 38 with probability
  // below 2^-150.
  static constexpr unsigned kPrimes[] = {3,   5,   7,   11,  13,  17,  19,  23,  29,  31,
                                         37,  41,  43,  47,  53,  59,  61,  67,  71,  73,
                                         79,  83,  89,  97,  101, 103, 107, 109, 113, 127,
                                         131, 137, 139, 149, 151, 157, 163, 167};
  if (modulus == nullptr || BN_is_zero(modulus)) {
    return false;
  }
  for (const unsigned p : kPrimes) {
    const BN_ULONG residue = BN_mod_word(modulus, p);
    if (residue == static_cast<BN_ULONG>(-1)) {
      return false;
    }
    const unsigned generator = 65537 % p;
    unsigned power = 1;
    bool in_subgroup = false;
    do {
      if (power == residue) {
        in_subgroup = true;
        break;
      }
      power = power * generator % p;
    } while (power != 1);
    if (!in_subgroup) {
      return false;
    }
  }
  return true;
}

base::Result<KeyPtr> PrivateKeyFromPem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (pkey == nullptr) {
    return MakeError("no readable (unencrypted) PEM private key");
  }
  return Key::FromPkey(pkey, "");
}

bool VerifySignature(Algorithm algorithm, const Key& key, std::string_view signing_input,
                     std::string_view signature) {
  if (!key.Supports(algorithm)) {
    return false;
  }
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (IsHmac(algorithm)) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    if (HMAC(Digest(algorithm), key.Secret().data(), static_cast<int>(key.Secret().size()), input,
             signing_input.size(), mac, &mac_length) == nullptr) {
      return false;
    }
    return signature.size() == mac_length &&
           CRYPTO_memcmp(mac, signature.data(), mac_length) == 0;
  }
  std::string der;
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  std::size_t sig_length = signature.size();
  if (algorithm == Algorithm::kEs256 || algorithm == Algorithm::kEs384 ||
      algorithm == Algorithm::kEs512) {
    // JWS carries r||s of fixed width; OpenSSL wants DER.
    const std::size_t half = EcCoordinateBytes(key.KeyType());
    if (half == 0 || signature.size() != 2 * half) {
      return false;
    }
    std::unique_ptr<ECDSA_SIG, SigDeleter> ecdsa(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(sig, static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(sig + half, static_cast<int>(half), nullptr);
    if (!ecdsa || r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return false;
    }
    unsigned char* out = nullptr;
    const int length = i2d_ECDSA_SIG(ecdsa.get(), &out);
    if (length <= 0) {
      return false;
    }
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(length));
    OPENSSL_free(out);
    sig = reinterpret_cast<const unsigned char*>(der.data());
    sig_length = der.size();
  } else if (algorithm == Algorithm::kEdDsa && signature.size() != 64) {
    return false;
  } else if (algorithm != Algorithm::kEdDsa &&
             signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.Pkey()))) {
    // RSASSA-PKCS1-v1_5 and RSASSA-PSS signatures are exactly k octets (RFC 8017, 8.1.2 and
    // 8.2.2, step 1). OpenSSL would left-pad a shorter one, so a signature stripped of a leading
    // zero byte would still verify: one token, two encodings.
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, Digest(algorithm), nullptr, key.Pkey()) != 1) {
    ERR_clear_error();
    return false;
  }
  if (algorithm == Algorithm::kPs256 || algorithm == Algorithm::kPs384 ||
      algorithm == Algorithm::kPs512) {
    // RFC 7518 3.5: MGF1 with the same hash, salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, Digest(algorithm)) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(Digest(algorithm))) != 1) {
      ERR_clear_error();
      return false;
    }
  } else if (key.KeyType() == Key::Type::kRsa) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
      ERR_clear_error();
      return false;
    }
  }
  const int ok = EVP_DigestVerify(ctx.get(), sig, sig_length, input, signing_input.size());
  ERR_clear_error();
  return ok == 1;
}

base::Result<std::string> Sign(Algorithm algorithm, const Key& key, std::string_view signing_input) {
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (IsHmac(algorithm)) {
    if (!key.Supports(algorithm)) {
      return MakeError("the secret is too short for " + std::string(AlgorithmName(algorithm)));
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    HMAC(Digest(algorithm), key.Secret().data(), static_cast<int>(key.Secret().size()), input,
         signing_input.size(), mac, &mac_length);
    return std::string(reinterpret_cast<char*>(mac), mac_length);
  }
  if (!key.Supports(algorithm)) {
    return MakeError("the key does not fit " + std::string(AlgorithmName(algorithm)));
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, Digest(algorithm), nullptr, key.Pkey()) != 1) {
    ERR_clear_error();
    return MakeError("cannot sign with this key");
  }
  if (algorithm == Algorithm::kPs256 || algorithm == Algorithm::kPs384 ||
      algorithm == Algorithm::kPs512) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, Digest(algorithm));
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(Digest(algorithm)));
  }
  std::size_t length = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &length, input, signing_input.size()) != 1) {
    ERR_clear_error();
    return MakeError("signing failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, input,
                     signing_input.size()) != 1) {
    ERR_clear_error();
    return MakeError("signing failed");
  }
  signature.resize(length);
  if (algorithm == Algorithm::kEs256 || algorithm == Algorithm::kEs384 ||
      algorithm == Algorithm::kEs512) {
    const auto* cursor = reinterpret_cast<const unsigned char*>(signature.data());
    std::unique_ptr<ECDSA_SIG, SigDeleter> ecdsa(
        d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(signature.size())));  // NOLINT(google-runtime-int)
    if (!ecdsa) {
      return MakeError("signing failed");
    }
    const std::size_t half = EcCoordinateBytes(key.KeyType());
    std::string raw(2 * half, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(half));
    BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), reinterpret_cast<unsigned char*>(raw.data() + half),
                 static_cast<int>(half));
    return raw;
  }
  return signature;
}

}  // namespace mgw::security
