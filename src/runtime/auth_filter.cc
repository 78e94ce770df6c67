#include "runtime/auth_filter.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "base/ascii.h"
#include "base/log.h"
#include "base/sha256.h"

namespace mgw::runtime {
namespace {

namespace net = boost::asio;
using security::Principal;

constexpr std::int64_t kBasicCacheSeconds = 300;
constexpr auto kJwksRefetchInterval = std::chrono::seconds(10);
constexpr auto kJwksRefreshPeriod = std::chrono::seconds(300);
constexpr auto kJwksRetryPeriod = std::chrono::seconds(15);

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Runs on the hashing pool (co_spawned there): bcrypt must not stall an event loop. A plain
// coroutine, not a capturing lambda: its arguments live in its own frame.
net::awaitable<std::optional<std::vector<std::string>>> VerifyBasic(const security::BasicUsers* users,
                                                                    std::string user,
                                                                    std::string password) {
  co_return users->Verify(user, password);
}

std::int64_t SteadyNanos() {
  return std::chrono::steady_clock::now().time_since_epoch().count();
}

}  // namespace

std::int64_t Authenticator::Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Authenticator::Authenticator(const bundle::SecurityMaterial& material,
                             const config::AuthConfig& auth)
    : auth_(auth), basic_(material.basic_users), static_keys_(material.static_api_keys) {
  const auto secret_of = [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str()); value != nullptr) {
      return std::string(value);
    }
    return std::nullopt;
  };
  jwt_ = std::make_unique<security::JwtValidator>(material.jwt_issuers, secret_of);
  warnings_ = jwt_->Warnings();
  if (material.api_key_issuer) {
    bundle::JwtIssuer issuer;
    issuer.issuer = material.api_key_issuer->issuer;
    issuer.certificate_pem = material.api_key_issuer->certificate_pem;
    api_key_jwt_ = std::make_unique<security::JwtValidator>(std::vector<bundle::JwtIssuer>{issuer},
                                                            secret_of);
    for (const auto& w : api_key_jwt_->Warnings()) {
      warnings_.push_back("API keys: " + w);
    }
  }
  if (!auth.introspection.url.empty()) {
    std::string secret;
    if (const char* value = std::getenv(auth.introspection.client_secret_env.c_str()); value != nullptr) {
      secret = value;
    } else if (!auth.introspection.client_id.empty()) {
      warnings_.push_back("introspection: environment variable " +
                          auth.introspection.client_secret_env + " is not set");
    }
    if (!auth.introspection.client_id.empty()) {
      introspection_authorization_ =
          "Basic " + security::Base64Encode(auth.introspection.client_id + ":" + secret);
    }
  }
  const std::size_t issuers = jwt_->IssuerCount();
  last_fetch_.reset(new std::atomic<std::int64_t>[issuers]);
  fetching_.reset(new std::atomic<bool>[issuers]);
  for (std::size_t i = 0; i < issuers; ++i) {
    last_fetch_[i].store(0);
    fetching_[i].store(false);
  }
}

std::vector<std::string> Authenticator::Warnings() const { return warnings_; }

Awaitable<bool> Authenticator::FetchJwks(HttpFetcher& fetcher, int issuer) const {
  const auto& config = jwt_->IssuerConfig(issuer);
  if (fetching_[issuer].exchange(true)) {
    // Another request is fetching: wait for it (bounded) instead of fetching twice.
    Timer timer(co_await net::this_coro::executor);
    for (int i = 0; i < 150 && fetching_[issuer].load(); ++i) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kUseAwaitable);
    }
    co_return true;
  }
  FetchRequest request;
  request.url = config.jwks_url;
  request.headers.emplace_back("Accept", "application/json");
  auto response = co_await fetcher.Fetch(std::move(request));
  bool ok = false;
  if (!response) {
    base::LogWarn("JWKS of issuer " + config.issuer + " could not be fetched: " +
                  response.error().message + " (the current keys stay in use)");
  } else if (response->status != 200) {
    base::LogWarn("JWKS of issuer " + config.issuer + " answered HTTP " +
                  std::to_string(response->status) + " (the current keys stay in use)");
  } else if (auto keys = security::KeysFromJwks(response->body); !keys) {
    base::LogWarn("JWKS of issuer " + config.issuer + " is not usable: " + keys.error().message +
                  " (the current keys stay in use)");
  } else {
    base::LogInfo("JWKS of issuer " + config.issuer + ": " + std::to_string(keys->size()) +
                  " key(s) loaded");
    jwt_->ReplaceJwks(issuer, std::move(*keys));
    ok = true;
  }
  last_fetch_[issuer].store(SteadyNanos());
  fetching_[issuer].store(false);
  co_return ok;
}

Awaitable<void> Authenticator::RefreshJwks(HttpFetcher& fetcher,
                                                const std::atomic<bool>& stop) const {
  std::vector<int> issuers;
  for (std::size_t i = 0; i < jwt_->IssuerCount(); ++i) {
    if (!jwt_->IssuerConfig(static_cast<int>(i)).jwks_url.empty()) {
      issuers.push_back(static_cast<int>(i));
    }
  }
  if (issuers.empty()) {
    co_return;
  }
  Timer timer(co_await net::this_coro::executor);
  while (!stop.load()) {
    bool all_ok = true;
    for (const int issuer : issuers) {
      all_ok = co_await FetchJwks(fetcher, issuer) && all_ok;
    }
    // Sleep in short steps so that a drain is not held up.
    const auto period = all_ok ? kJwksRefreshPeriod : kJwksRetryPeriod;
    const auto until = std::chrono::steady_clock::now() + period;
    while (!stop.load() && std::chrono::steady_clock::now() < until) {
      timer.expires_after(std::chrono::milliseconds(200));
      co_await timer.async_wait(kUseAwaitable);
    }
  }
}

Awaitable<security::JwtResult> Authenticator::ValidateJwt(AuthWorkerState& state,
                                                               HttpFetcher& fetcher,
                                                               std::string_view token) const {
  (void)state;
  auto result = jwt_->Validate(token, Now(), auth_.clock_skew_s);
  if (result.failure == security::JwtFailure::kUnknownKey && result.issuer >= 0 &&
      !jwt_->IssuerConfig(result.issuer).jwks_url.empty()) {
    // Key rotation: an unknown kid triggers one re-fetch, at most every kJwksRefetchInterval.
    const auto since = std::chrono::nanoseconds(SteadyNanos() - last_fetch_[result.issuer].load());
    if (since >= kJwksRefetchInterval || fetching_[result.issuer].load()) {
      co_await FetchJwks(fetcher, result.issuer);
      result = jwt_->Validate(token, Now(), auth_.clock_skew_s);
    }
  }
  co_return result;
}

Awaitable<AuthDecision> Authenticator::Introspect(AuthWorkerState& state, HttpFetcher& fetcher,
                                                       std::string_view token) const {
  AuthDecision decision;
  const std::int64_t now = Now();
  if (auto cached = state.introspection.Find(token, now, 0)) {
    decision.allowed = true;
    decision.principal = std::move(cached);
    co_return decision;
  }
  if (state.introspection.Contains(token)) {  // a cached negative answer
    decision.status = 401;
    decision.code = 900901;
    decision.message = "Invalid Credentials";
    decision.description = "The access token is inactive";
    co_return decision;
  }
  FetchRequest request;
  request.method = "POST";
  request.url = auth_.introspection.url;
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.headers.emplace_back("Accept", "application/json");
  if (!introspection_authorization_.empty()) {
    request.headers.emplace_back("Authorization", introspection_authorization_);
  }
  request.body = "token=" + FormEncode(token) + "&token_type_hint=access_token";
  auto response = co_await fetcher.Fetch(std::move(request));
  if (!response || response->status < 200 || response->status > 299) {
    base::LogWarn(std::string("token introspection failed: ") +
                  (response ? "HTTP " + std::to_string(response->status) : response.error().message));
    decision.status = 503;
    decision.code = 900900;
    decision.message = "Unclassified Authentication Failure";
    decision.description = "The key manager could not be reached to validate the token";
    co_return decision;
  }
  boost::json::error_code ec;
  const auto value = boost::json::parse(response->body, ec);
  const auto* object = value.if_object();
  if (ec || object == nullptr) {
    decision.status = 503;
    decision.code = 900900;
    decision.message = "Unclassified Authentication Failure";
    decision.description = "The key manager's answer could not be read";
    co_return decision;
  }
  const auto* active = object->if_contains("active");
  const std::int64_t ttl_until = now + auth_.introspection.cache_ttl_s;
  if (active == nullptr || !active->is_bool() || !active->get_bool()) {
    state.introspection.Insert(std::string(token), nullptr, ttl_until);
    decision.status = 401;
    decision.code = 900901;
    decision.message = "Invalid Credentials";
    decision.description = "The access token is inactive";
    co_return decision;
  }
  auto principal = std::make_shared<Principal>();
  principal->auth_type = "opaque";
  auto text = [&](std::string_view name) -> std::string {
    const auto* v = object->if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  principal->user = text("username");
  if (principal->user.empty()) {
    principal->user = text("sub");
  }
  if (principal->user.empty()) {
    principal->user = "anonymous";
  }
  principal->consumer_key = text("client_id");
  const std::string scope_text = text("scope");
  std::string_view scopes = scope_text;
  while (!scopes.empty()) {
    const auto space = scopes.find(' ');
    if (space != 0) {
      principal->scopes.emplace_back(scopes.substr(0, space));
    }
    scopes = space == std::string_view::npos ? std::string_view() : scopes.substr(space + 1);
  }
  if (const auto* exp = object->if_contains("exp"); exp != nullptr && exp->is_number()) {
    principal->expires_at = exp->to_number<std::int64_t>();
  }
  if (principal->expires_at != 0 && principal->expires_at <= now) {
    state.introspection.Insert(std::string(token), nullptr, ttl_until);
    decision.status = 401;
    decision.code = 900901;
    decision.message = "Invalid Credentials";
    decision.description = "The access token expired";
    co_return decision;
  }
  std::shared_ptr<const Principal> shared = principal;
  state.introspection.Insert(std::string(token), shared, ttl_until);
  decision.allowed = true;
  decision.principal = std::move(shared);
  co_return decision;
}

Awaitable<AuthDecision> Authenticator::Authenticate(AuthWorkerState& state,
                                                         HttpFetcher& fetcher,
                                                         const bundle::Api& api,
                                                         const bundle::Resource& resource,
                                                         const AuthInput& input) const {
  const auto& security = resource.security;
  const bool oauth2 = Contains(security.types, "oauth2");
  const bool basic = Contains(security.types, "basic_auth");
  const bool api_key = Contains(security.types, "api_key");
  AuthDecision decision;
  auto deny = [&](unsigned status, int code, std::string message, std::string description,
                  bool presented_token) {
    AuthDecision out;
    out.status = status;
    out.code = code;
    out.message = std::move(message);
    out.description = std::move(description);
    if (status == 401) {
      // Built only for a refusal: an allowed request pays nothing for it.
      std::string challenge;
      if (oauth2) {
        challenge = "Bearer realm=\"mgw\"";
      }
      if (basic) {
        challenge += (challenge.empty() ? "" : ", ") + std::string("Basic realm=\"mgw\"");
      }
      out.www_authenticate = challenge.empty() ? "Bearer realm=\"mgw\"" : challenge;
      if (presented_token && oauth2) {
        out.www_authenticate = "Bearer realm=\"mgw\", error=\"invalid_token\"" +
                               (basic ? std::string(", Basic realm=\"mgw\"") : std::string());
      }
    }
    return out;
  };

  std::vector<std::string_view> keys;
  for (const auto key : input.api_keys) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(key);
    }
  }
  if (input.credentials.empty() && keys.empty()) {
    if (security.optional) {
      auto anonymous = std::make_shared<Principal>();
      anonymous->auth_type = "none";
      anonymous->user = "anonymous";
      decision.allowed = true;
      decision.principal = std::move(anonymous);
      decision.subscription_tier = "Unauthenticated";
      co_return decision;
    }
    co_return deny(401, 900902, "Missing Credentials",
                   "Missing Credentials. Make sure your API request provides required credentials",
                   false);
  }
  if (input.credentials.size() + keys.size() > 1) {
    co_return deny(401, 900901, "Invalid Credentials",
                   "Invalid Credentials. More than one credential was presented", false);
  }

  std::shared_ptr<const Principal> principal;
  const std::int64_t now = Now();
  if (!input.credentials.empty()) {
    const std::string_view value = Trim(input.credentials.front());
    const auto space = value.find(' ');
    std::string scheme(value.substr(0, space == std::string_view::npos ? 0 : space));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view rest = space == std::string_view::npos ? value : Trim(value.substr(space + 1));
    if (space == std::string_view::npos) {
      // "Bearer" (or "Basic") alone is a scheme without credentials, not a token named "Bearer".
      std::string word(value);
      std::transform(word.begin(), word.end(), word.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (word == "bearer" || word == "basic") {
        scheme = std::move(word);
        rest = {};
      }
    }
    if (scheme == "basic") {
      if (!basic) {
        co_return deny(401, 900917, "Invalid Authentication scheme",
                       "Invalid Authentication scheme. API can not be used with this authentication "
                       "scheme",
                       false);
      }
      bool format_error = false;
      auto credentials = security::ParseBasic(rest, &format_error);
      if (!credentials) {
        co_return deny(401, 900912, "Invalid Format",
                       "Invalid Format. Make sure you have given the credentials in correct format "
                       "with \":\" character",
                       false);
      }
      const std::string cache_key = base::Sha256Hex(std::string("basic\n") + std::string(rest));
      principal = state.basic.Find(cache_key, now, 0);
      if (!principal) {
        std::optional<std::vector<std::string>> scopes;
        if (!credentials->password.empty()) {
          scopes = co_await net::co_spawn(
              state.hash_pool, VerifyBasic(&basic_, credentials->user, credentials->password),
              kUseAwaitable);
        }
        if (!scopes) {
          co_return deny(401, 900911, "Invalid Credentials",
                         "Invalid Credentials. Make sure you have given the correct username and "
                         "password",
                         false);
        }
        auto p = std::make_shared<Principal>();
        p->auth_type = "basic";
        p->user = credentials->user;
        p->scopes = std::move(*scopes);
        principal = p;
        state.basic.Insert(cache_key, principal, now + kBasicCacheSeconds);
      }
    } else if (scheme == "bearer" || (scheme.empty() && oauth2)) {
      if (!oauth2) {
        co_return deny(401, 900917, "Invalid Authentication scheme",
                       "Invalid Authentication scheme. API can not be used with this authentication "
                       "scheme",
                       true);
      }
      const std::string_view token = rest;
      if (token.empty()) {
        co_return deny(401, 900902, "Missing Credentials",
                       "Missing Credentials. Make sure your API request provides required "
                       "credentials",
                       false);
      }
      if (security::SplitCompact(token)) {
        if (const auto generation = jwt_->KeyGeneration(); generation != state.jwt_key_generation) {
          state.jwt.Clear();  // a key left a JWKS: what it signed is validated again
          state.jwt_key_generation = generation;
        }
        principal = state.jwt.Find(token, now, auth_.clock_skew_s);
        if (!principal) {
          auto result = co_await ValidateJwt(state, fetcher, token);
          if (result.failure != security::JwtFailure::kNone) {
            co_return deny(401, 900901, "Invalid Credentials",
                           "Invalid Credentials. " + result.description, true);
          }
          principal = std::make_shared<Principal>(std::move(result.principal));
          state.jwt.Insert(std::string(token), principal);
        }
      } else {
        if (auth_.introspection.url.empty()) {
          co_return deny(401, 900901, "Invalid Credentials",
                         "Invalid Credentials. Make sure you have given the correct access token",
                         true);
        }
        auto introspected = co_await Introspect(state, fetcher, token);
        if (!introspected.allowed) {
          if (introspected.status == 401) {
            co_return deny(401, introspected.code, introspected.message,
                           "Invalid Credentials. " + introspected.description, true);
          }
          co_return introspected;
        }
        principal = introspected.principal;
      }
    } else {
      co_return deny(401, 900917, "Invalid Authentication scheme",
                     "Invalid Authentication scheme. API can not be used with this authentication "
                     "scheme",
                     false);
    }
  } else {
    // An API key.
    if (!api_key) {
      co_return deny(401, 900917, "Invalid Authentication scheme",
                     "Invalid Authentication scheme. API can not be used with this authentication "
                     "scheme",
                     false);
    }
    const std::string_view key = keys.front();
    if (api_key_jwt_ && security::SplitCompact(key)) {
      principal = state.api_keys.Find(key, now, auth_.clock_skew_s);
      if (!principal) {
        auto result = api_key_jwt_->Validate(key, now, auth_.clock_skew_s);
        if (result.failure != security::JwtFailure::kNone) {
          co_return deny(401, 900901, "Invalid Credentials",
                         "Invalid Credentials. " + result.description, false);
        }
        auto p = std::make_shared<Principal>(std::move(result.principal));
        p->auth_type = "api_key";
        principal = p;
        state.api_keys.Insert(std::string(key), principal);
      }
      if (principal->has_subscriptions && principal->FindSubscription(api.title, api.version) == nullptr) {
        co_return deny(401, 900901, "Invalid Credentials",
                       "Invalid Credentials. The API key does not allow this API", false);
      }
    } else if (auto match = static_keys_.Find(key)) {
      auto p = std::make_shared<Principal>();
      p->auth_type = "api_key";
      p->user = match->application;
      p->application_id = match->application;
      p->application_name = match->application;
      p->application_tier = match->tier;
      principal = p;
    } else {
      co_return deny(401, 900901, "Invalid Credentials",
                     "Invalid Credentials. Make sure you have given the correct API key", false);
    }
  }

  co_return Authorize(std::move(principal), api, resource);
}

AuthDecision Authenticator::Authorize(std::shared_ptr<const Principal> principal,
                                      const bundle::Api& api, const bundle::Resource& resource) {
  const auto& security = resource.security;
  AuthDecision decision;
  // Authorization: any one of the resource's scopes (API keys carry no scopes, as in WSO2).
  if (principal->auth_type != "api_key" && !security.scopes.empty()) {
    const bool granted = std::any_of(security.scopes.begin(), security.scopes.end(),
                                     [&](const std::string& s) { return Contains(principal->scopes, s); });
    if (!granted) {
      decision.status = 403;
      decision.code = 900910;
      decision.message = "The access token does not allow you to access the requested resource";
      decision.description = decision.message;
      return decision;
    }
  }
  const security::Subscription* subscription = principal->FindSubscription(api.title, api.version);
  if (principal->validate_subscriptions && subscription == nullptr) {
    decision.status = 403;
    decision.code = 900908;
    decision.message = "Resource forbidden";
    decision.description =
        "Resource forbidden. The application is not subscribed to " + api.title + " " + api.version;
    return decision;
  }
  decision.allowed = true;
  decision.subscription_tier = subscription != nullptr && !subscription->tier.empty()
                                  ? std::string_view(subscription->tier)
                                  : std::string_view("Default");
  decision.principal = std::move(principal);
  return decision;
}

std::optional<AuthDecision> Authenticator::AuthenticateCached(AuthWorkerState& state,
                                                              CredentialMemo& memo,
                                                              const bundle::Api& api,
                                                              const bundle::Resource& resource,
                                                              const AuthInput& input,
                                                              std::int64_t now) const {
  // Exactly the case Authenticate resolves from the JWT cache: one credential, no API key,
  // scheme Bearer (any case), a token that is cached under the current keys. Only JWT-shaped
  // tokens enter that cache (Authenticate checks SplitCompact before inserting), and a hit is a
  // byte-for-byte equal token, so the shape is not checked again here (a scan of the whole token).
  if (input.credentials.size() != 1 || !input.api_keys.empty() ||
      !Contains(resource.security.types, "oauth2")) {
    return std::nullopt;
  }
  const std::string_view value = Trim(input.credentials.front());
  const auto space = value.find(' ');
  if (space != 6 || !base::IEqualsAscii(value.substr(0, 6), "bearer")) {
    return std::nullopt;
  }
  const std::string_view token = Trim(value.substr(space + 1));
  if (token.empty() || jwt_->KeyGeneration() != state.jwt_key_generation) {
    return std::nullopt;
  }
  std::shared_ptr<const Principal> principal;
  if (memo.principal && memo.key_generation == state.jwt_key_generation && token == memo.token) {
    if (security::TokenCache::Expired(*memo.principal, now, auth_.clock_skew_s)) {
      memo.principal.reset();
      return std::nullopt;  // Authenticate finds it expired in the cache too, and says so
    }
    principal = memo.principal;
  } else {
    principal = state.jwt.Find(token, now, auth_.clock_skew_s);
    if (!principal) {
      return std::nullopt;
    }
    memo.token.assign(token);
    memo.principal = principal;
    memo.key_generation = state.jwt_key_generation;
  }
  return Authorize(std::move(principal), api, resource);
}

}  // namespace mgw::runtime
