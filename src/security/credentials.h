// Basic-auth users and static API keys, as carried by the bundle. Thread-safe (immutable).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bundle/model.h"

namespace mgw::security {

class BasicUsers {
 public:
  explicit BasicUsers(const std::vector<bundle::BasicUser>& users);

  // The user's scopes when `password` matches the stored hash (bcrypt $2y$/$2b$/$2a$,
  // SHA-512-crypt $6$, SHA-256-crypt $5$ via crypt_r, or {SHA}); nullopt otherwise. Costly for
  // bcrypt (tens of ms): call it off the event loop. An unknown user costs the same as a known
  // one, and hashes are compared in constant time.
  std::optional<std::vector<std::string>> Verify(std::string_view user,
                                                 std::string_view password) const;
  bool Empty() const { return users_.empty(); }

 private:
  std::unordered_map<std::string, bundle::BasicUser> users_;
};

struct StaticKeyMatch {
  std::string application;
  std::string tier;
};

class StaticApiKeys {
 public:
  explicit StaticApiKeys(const std::vector<bundle::StaticApiKey>& keys);
  // Looks a presented key up by its SHA-256.
  std::optional<StaticKeyMatch> Find(std::string_view key) const;
  bool Empty() const { return by_digest_.empty(); }

 private:
  std::unordered_map<std::string, StaticKeyMatch> by_digest_;
};

// Splits "Basic <base64>" credentials. `format_error` is set when there is no ':' (900912).
struct BasicCredentials {
  std::string user;
  std::string password;
};
std::optional<BasicCredentials> ParseBasic(std::string_view encoded, bool* format_error);

}  // namespace mgw::security
