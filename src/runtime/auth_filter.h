// Authentication and authorization of one request (contract section 5): picks the credential
// (auth header, or an API key in a declared header/query parameter), validates it (JWT with a
// per-worker cache, RFC 7662 introspection, Basic, API keys), checks scopes and subscriptions,
// and says who the caller is. Shared by all workers: immutable except the JWT key sets
// (atomically swapped by JWKS refreshes). Per-worker caches live in AuthWorkerState.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/container/small_vector.hpp>

#include "bundle/model.h"
#include "config/config.h"
#include "runtime/http_fetch.h"
#include "security/credentials.h"
#include "security/jwt.h"
#include "security/principal.h"
#include "security/token_cache.h"

namespace mgw::runtime {

// What the filter needs from the request, gathered by the HTTP layer: views of the request, with
// room for two of each without a heap allocation (one is the rule).
struct AuthInput {
  boost::container::small_vector<std::string_view, 2> credentials;  // every value of the auth header
  boost::container::small_vector<std::string_view, 2> api_keys;  // every API key in the declared places
};

struct AuthDecision {
  bool allowed = false;
  unsigned status = 401;
  int code = 900902;
  std::string message;
  std::string description;
  std::string www_authenticate;
  std::shared_ptr<const security::Principal> principal;  // set when allowed
  // For rate limiting: the token's tier for this API (a view into `principal`, or a literal).
  std::string_view subscription_tier;
};

// The bearer JWT a connection presented last and the principal the token cache had for it: the
// connection's next request with the same token (compared whole) takes the principal from here,
// without the cache's hash of the token and lookup. Its expiry and the key generation are checked
// as the cache would. One per connection.
struct CredentialMemo {
  std::string token;
  std::shared_ptr<const security::Principal> principal;  // null: nothing remembered
  std::uint64_t key_generation = 0;
};

struct AuthWorkerState {
  explicit AuthWorkerState(boost::asio::thread_pool& pool)
      : jwt(8192), introspection(8192), basic(2048), api_keys(2048), hash_pool(pool) {}
  security::TokenCache jwt;
  security::TokenCache introspection;
  security::TokenCache basic;
  security::TokenCache api_keys;
  boost::asio::thread_pool& hash_pool;  // bcrypt and friends run here, not on the event loop
  std::uint64_t jwt_key_generation = 0;  // JwtValidator::KeyGeneration() the jwt cache rests on
};

class Authenticator {
 public:
  Authenticator(const bundle::SecurityMaterial& material, const config::AuthConfig& auth);

  // Problems to log at start (missing secrets, unusable keys).
  std::vector<std::string> Warnings() const;

  Awaitable<AuthDecision> Authenticate(AuthWorkerState& state, HttpFetcher& fetcher,
                                                    const bundle::Api& api,
                                                    const bundle::Resource& resource,
                                                    const AuthInput& input) const;

  // The same decision without a coroutine when it needs nothing but this worker's caches: one
  // bearer JWT found in the connection's memo or the token cache (the memo then remembers it).
  // Otherwise nullopt, and the caller awaits Authenticate. `now`: seconds since the epoch (the
  // request's arrival), for the token's expiry.
  std::optional<AuthDecision> AuthenticateCached(AuthWorkerState& state, CredentialMemo& memo,
                                                 const bundle::Api& api,
                                                 const bundle::Resource& resource,
                                                 const AuthInput& input, std::int64_t now) const;

  // Fetches every jwks_url now and then periodically; runs until `stop` is set.
  Awaitable<void> RefreshJwks(HttpFetcher& fetcher, const std::atomic<bool>& stop) const;

  // Seconds since the epoch; injectable for tests.
  static std::int64_t Now();

 private:
  Awaitable<security::JwtResult> ValidateJwt(AuthWorkerState& state,
                                                          HttpFetcher& fetcher,
                                                          std::string_view token) const;
  Awaitable<bool> FetchJwks(HttpFetcher& fetcher, int issuer) const;
  // The scope and subscription checks every authenticated request ends with.
  static AuthDecision Authorize(std::shared_ptr<const security::Principal> principal,
                                const bundle::Api& api,
                                const bundle::Resource& resource);
  Awaitable<AuthDecision> Introspect(AuthWorkerState& state, HttpFetcher& fetcher,
                                                  std::string_view token) const;

  config::AuthConfig auth_;
  std::unique_ptr<security::JwtValidator> jwt_;
  std::unique_ptr<security::JwtValidator> api_key_jwt_;
  security::BasicUsers basic_;
  security::StaticApiKeys static_keys_;
  std::string introspection_authorization_;  // "Basic ..." from client_id + secret
  std::vector<std::string> warnings_;
  // Per issuer: when its JWKS was last fetched (steady ns), to rate-limit unknown-kid re-fetches.
  std::unique_ptr<std::atomic<std::int64_t>[]> last_fetch_;
  std::unique_ptr<std::atomic<bool>[]> fetching_;
};

}  // namespace mgw::runtime
