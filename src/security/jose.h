// JOSE primitives for JWT validation and minting: strict base64url, JWK import, JWS signature
// verification and signing, all through OpenSSL 3's EVP interface (no home-made crypto).
// Thread-safe: keys are immutable once built and may be shared by all workers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>
#include <openssl/types.h>

#include "base/result.h"

namespace mgw::security {

// The JWS algorithms mgw accepts (RFC 7518 / RFC 8037). "none" is never one of them.
enum class Algorithm : std::uint8_t {
  kRs256, kRs384, kRs512, kPs256, kPs384, kPs512, kEs256, kEs384, kEs512, kEdDsa,
  kHs256, kHs384, kHs512
};

std::optional<Algorithm> ParseAlgorithm(std::string_view name);
std::string_view AlgorithmName(Algorithm algorithm);
bool IsHmac(Algorithm algorithm);

// Decodes base64url without padding, rejecting anything else (padding, whitespace, other
// alphabets, non-zero trailing bits).
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);
// Standard base64 with padding (Basic credentials, {SHA} hashes).
std::optional<std::string> Base64Decode(std::string_view text);
std::string Base64Encode(std::string_view bytes);

// A verification (or signing) key: an OpenSSL public/private key or an HMAC secret.
class Key {
 public:
  enum class Type : std::uint8_t { kRsa, kEcP256, kEcP384, kEcP521, kEd25519, kSecret, kOther };

  static std::shared_ptr<const Key> FromPkey(EVP_PKEY* pkey, std::string kid);  // takes ownership
  static std::shared_ptr<const Key> FromSecret(std::string secret, std::string kid);

  ~Key();
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;

  Type KeyType() const { return type_; }
  const std::string& Kid() const { return kid_; }
  EVP_PKEY* Pkey() const { return pkey_; }
  const std::string& Secret() const { return secret_; }
  int Bits() const { return bits_; }

  // True when this key may verify `algorithm`: the key type matches (an RSA key never acts as
  // an HMAC secret), RSA keys have at least 2048 bits, HMAC secrets are at least as long as
  // the hash.
  bool Supports(Algorithm algorithm) const;

 private:
  Key() = default;
  Type type_ = Type::kOther;
  std::string kid_;
  EVP_PKEY* pkey_ = nullptr;
  std::string secret_;
  int bits_ = 0;
};

using KeyPtr = std::shared_ptr<const Key>;

// Imports one JWK (RSA n/e, EC P-256/384/521 x/y with an on-curve check, OKP Ed25519 x, oct k).
// A JWK whose `use` is not "sig" or whose `alg` is not a JWS algorithm we accept is refused.
base::Result<KeyPtr> KeyFromJwk(std::string_view json);
base::Result<KeyPtr> KeyFromJwkObject(const boost::json::object& jwk);

// Imports every key of a JWKS document. Keys that cannot be used are skipped and counted in
// `skipped` (a JWKS may carry encryption keys); duplicate kids are an error.
base::Result<std::vector<KeyPtr>> KeysFromJwks(std::string_view json, int* skipped = nullptr);

// Reads PEM text holding certificates and/or public keys; every key found is returned.
base::Result<std::vector<KeyPtr>> KeysFromPem(std::string_view pem);

// Reads a PEM private key (for `mgw token`).
base::Result<KeyPtr> PrivateKeyFromPem(std::string_view pem);

// Verifies `signature` (raw bytes as carried in the JWS) over `signing_input` with `key`.
// Returns false for any mismatch, including a key that does not support `algorithm`.
bool VerifySignature(Algorithm algorithm, const Key& key, std::string_view signing_input,
                     std::string_view signature);

// Signs `signing_input` (JWS encoding of the signature: r||s for ECDSA).
base::Result<std::string> Sign(Algorithm algorithm, const Key& key, std::string_view signing_input);

}  // namespace mgw::security
