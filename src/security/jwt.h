// JWT validation (contract section 5.2): issuer chosen by `iss`, key by `kid` from the issuer's
// JWKS else its certificate, algorithm allow-list and key-type match, `exp` required, `nbf` and
// `iat` with clock skew, `aud`, claim renaming, and the WSO2 self-contained token claims
// (keytype, application, subscribedAPIs).
//
// JwtValidator is immutable after construction except for each issuer's key set, which is an
// atomically swapped snapshot (JWKS refresh); Validate() is thread-safe and never blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "bundle/model.h"
#include "security/jose.h"
#include "security/principal.h"

namespace mgw::security {

// The keys of one issuer at one moment.
struct KeySet {
  std::unordered_map<std::string, KeyPtr> by_kid;
  std::vector<KeyPtr> anonymous;    // JWKS keys without kid
  std::vector<KeyPtr> certificate;  // from the configured PEM
  KeyPtr secret;                    // HS* secret from the environment
};

enum class JwtFailure {
  kNone,
  kMalformed,       // not a JWS compact token, bad base64url / JSON
  kAlgorithm,       // alg missing, "none", not allowed, or unsupported header (crit)
  kUnknownIssuer,   // iss missing or not configured
  kUnknownKey,      // kid not in the key set (a JWKS re-fetch may help)
  kSignature,       // no key verified the signature
  kExpired,         // exp (+ skew) passed, or exp missing
  kNotYetValid,     // nbf / iat in the future (beyond skew)
  kAudience,        // aud does not match
};

struct JwtResult {
  JwtFailure failure = JwtFailure::kNone;
  std::string description;  // for the fault body; never contains the token
  int issuer = -1;          // index of the issuer (kUnknownKey: whose JWKS to re-fetch)
  Principal principal;
};

// The unverified claims of a token, for routing it to an issuer; nullopt when malformed.
struct TokenParts {
  std::string_view header_b64;
  std::string_view payload_b64;
  std::string_view signature_b64;
};
std::optional<TokenParts> SplitCompact(std::string_view token);

class JwtValidator {
 public:
  // `issuers` from the bundle; `secret_of` reads an environment variable (injected for tests).
  JwtValidator(const std::vector<bundle::JwtIssuer>& issuers,
               const std::function<std::optional<std::string>(const std::string&)>& secret_of);

  // Problems found while loading keys (an empty JWKS, a missing secret), for the start log.
  const std::vector<std::string>& Warnings() const { return warnings_; }

  // Validates `token` at time `now` (seconds since the epoch) with `skew_s` tolerance.
  JwtResult Validate(std::string_view token, std::int64_t now, std::int64_t skew_s) const;

  std::size_t IssuerCount() const { return issuers_.size(); }
  const bundle::JwtIssuer& IssuerConfig(int index) const { return issuers_[index]->config; }

  // Replaces the JWKS keys of issuer `index` (certificate and secret keys are kept). When a key
  // of the previous JWKS is gone (or changed), KeyGeneration() moves on.
  void ReplaceJwks(int index, std::vector<KeyPtr> keys);

  // Changes whenever a key was withdrawn from some issuer's JWKS: a principal cached under an
  // older generation may rest on a key that is no longer trusted, and must be validated again.
  std::uint64_t KeyGeneration() const { return key_generation_.load(std::memory_order_acquire); }

 private:
  struct Issuer {
    bundle::JwtIssuer config;
    std::vector<Algorithm> allowed;
    std::atomic<std::shared_ptr<const KeySet>> keys;
  };
  std::vector<std::unique_ptr<Issuer>> issuers_;
  std::unordered_map<std::string, int> by_name_;
  std::vector<std::string> warnings_;
  std::atomic<std::uint64_t> key_generation_{0};
};

}  // namespace mgw::security
