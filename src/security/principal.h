// Who a request is from, once its credentials were validated: the result of authentication that
// authorization, endpoint selection (key type), rate limiting and analytics read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mgw::security {

struct Subscription {
  std::string name;     // API title
  std::string version;  // API version or "*"
  std::string context;
  std::string tier;     // subscriptionTier
  std::string publisher;
};

struct Principal {
  std::string auth_type;  // "jwt" | "opaque" | "basic" | "api_key"
  std::string issuer;
  std::string user;       // sub / username; "anonymous" when unknown
  std::string key_type = "PRODUCTION";  // PRODUCTION | SANDBOX
  std::string application_id = "anonymous";
  std::string application_name = "anonymous";
  std::string application_tier = "Unlimited";
  std::string application_owner;
  std::string consumer_key;
  std::vector<std::string> scopes;
  bool has_subscriptions = false;  // the token carries subscribedAPIs / allowedAPIs
  std::vector<Subscription> subscriptions;
  bool validate_subscriptions = false;
  std::int64_t expires_at = 0;  // seconds since the epoch; 0 = no expiry (Basic, static keys)

  // The subscription entry for an API (name = title, version = version or "*"), or nullptr.
  const Subscription* FindSubscription(const std::string& title, const std::string& version) const {
    for (const auto& s : subscriptions) {
      if (s.name == title && (s.version == version || s.version == "*")) {
        return &s;
      }
    }
    return nullptr;
  }
};

}  // namespace mgw::security
