#include "security/credentials.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <memory>

#include "base/sha256.h"
#include "security/jose.h"

namespace mgw::security {
namespace {

// Used for unknown users so that they cost as much as known ones.
constexpr const char* kDummyHash =
    "$6$mgwdummysalt$QKk5m1e1p3D6Y8GDyXyh2t5w1p0v2Ii6kzC4c0Zs8tS7bF2nE7o3tJ4vH1pR9cY6mU0qW8aL2dN5xK3zB7eF1.";

bool CryptMatches(std::string_view password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const std::string pw(password);
  const char* computed = crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (computed == nullptr || computed[0] == '*') {
    return false;
  }
  const std::string_view result(computed);
  return base::ConstantTimeEquals(result, hash);
}

bool ShaMatches(std::string_view password, const std::string& hash) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
  const std::string encoded =
      Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
  return base::ConstantTimeEquals(encoded, std::string_view(hash).substr(5));
}

}  // namespace

BasicUsers::BasicUsers(const std::vector<bundle::BasicUser>& users) {
  for (const auto& user : users) {
    users_.emplace(user.name, user);
  }
}

std::optional<std::vector<std::string>> BasicUsers::Verify(std::string_view user,
                                                           std::string_view password) const {
  const auto it = users_.find(std::string(user));
  if (it == users_.end()) {
    CryptMatches(password, kDummyHash);
    return std::nullopt;
  }
  const auto& hash = it->second.hash;
  const bool ok = hash.rfind("{SHA}", 0) == 0 ? ShaMatches(password, hash) : CryptMatches(password, hash);
  if (!ok) {
    return std::nullopt;
  }
  return it->second.scopes;
}

StaticApiKeys::StaticApiKeys(const std::vector<bundle::StaticApiKey>& keys) {
  for (const auto& key : keys) {
    by_digest_[key.sha256] = {key.application, key.tier};
  }
}

std::optional<StaticKeyMatch> StaticApiKeys::Find(std::string_view key) const {
  // The lookup is by digest: the presented key itself is never compared byte by byte.
  const auto it = by_digest_.find(base::Sha256Hex(key));
  if (it == by_digest_.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<BasicCredentials> ParseBasic(std::string_view encoded, bool* format_error) {
  *format_error = false;
  auto decoded = Base64Decode(encoded);
  if (!decoded) {
    *format_error = true;
    return std::nullopt;
  }
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) {
    *format_error = true;
    return std::nullopt;
  }
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace mgw::security
