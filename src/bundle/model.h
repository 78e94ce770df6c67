// The compiled, resolved model of a project: what `mgw build` decides and the gateway serves.
// It is the seam between toolkit and runtime (docs/architecture.md): the toolkit fills it from
// OpenAPI, policies.yaml and mgw.toml; the runtime reads it from the bundle and never sees those
// sources. Every field has a plain JSON form (bundle.h); enumerated values are the strings the
// contract uses ("load_balance", "oauth2", "min", ...). Immutable once built.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/class.hpp>

namespace mgw::bundle {

// `advanceEndpointConfig.retryConfig`. Retries happen only for idempotent methods or requests
// that were never sent (contract section 8).
struct RetryConfig {
  int count = 0;
  std::int64_t interval_ms = 0;
  double back_off_factor = 1.0;
  std::int64_t max_wait_interval_ms = 0;
  std::vector<int> status_codes;
};
BOOST_DESCRIBE_STRUCT(RetryConfig, (),
                      (count, interval_ms, back_off_factor, max_wait_interval_ms, status_codes))

// `advanceEndpointConfig.circuitBreaker`; `enabled` is false when the definition has none.
struct CircuitBreakerConfig {
  bool enabled = false;
  int request_volume_threshold = 10;
  std::int64_t time_window_ms = 60000;
  double failure_threshold = 0.0;
  std::int64_t reset_time_ms = 0;
  std::vector<int> status_codes;
};
BOOST_DESCRIBE_STRUCT(CircuitBreakerConfig, (),
                      (enabled, request_volume_threshold, time_window_ms, failure_threshold,
                       reset_time_ms, status_codes))

// `securityConfig` of an endpoint: credentials the gateway sends to the backend.
struct BackendSecurity {
  std::string type;  // "basic"
  std::string username;
  std::string password;
};
BOOST_DESCRIBE_STRUCT(BackendSecurity, (), (type, username, password))

// One endpoint group, in one role (production or sandbox). `id` is `<name>.<environment>`, the
// key of runtime overrides (`--endpoints.<name>.<environment>.<i>=URL`).
struct EndpointGroup {
  std::string id;
  std::string name;
  std::string environment;  // "production" | "sandbox"
  std::string type;         // "http" | "load_balance" | "failover"
  std::vector<std::string> urls;
  std::optional<BackendSecurity> security;
  std::int64_t timeout_ms = 60000;
  RetryConfig retry;
  CircuitBreakerConfig circuit_breaker;
  bool tls_verify = true;  // `tls: {verify: false}` turns off certificate checks for this group
};
BOOST_DESCRIBE_STRUCT(EndpointGroup, (),
                      (id, name, environment, type, urls, security, timeout_ms, retry,
                       circuit_breaker, tls_verify))

// Where an API key may be sent: `in` is "header" or "query".
struct ApiKeyLocation {
  std::string in;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(ApiKeyLocation, (), (in, name))

// The effective security of one resource, after API/resource inheritance and extensions.
struct Security {
  bool disabled = false;
  // Accepted credential kinds, any one suffices: "oauth2" (JWT or opaque bearer), "basic_auth",
  // "api_key".
  std::vector<std::string> types;
  std::vector<ApiKeyLocation> api_keys;
  // A token needs any one of these; empty means no scope check.
  std::vector<std::string> scopes;
  // x-wso2-application-security optional: a request without credentials passes.
  bool optional = false;
};
BOOST_DESCRIBE_STRUCT(Security, (), (disabled, types, api_keys, scopes, optional))

struct MockHeader {
  std::string name;
  std::string value;
};
BOOST_DESCRIBE_STRUCT(MockHeader, (), (name, value))

// One answer a mock resource can give, taken from the definition's response examples.
struct MockResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<MockHeader> headers;
};
BOOST_DESCRIBE_STRUCT(MockResponse, (), (status, content_type, body, headers))

struct Resource {
  std::string method;         // upper case: GET, POST, ...
  std::string path_template;  // as in the definition, relative to the base path: /pets/{petId}
  std::string operation_id;   // may be empty
  std::string throttling_tier;  // resource policy, empty = none
  Security security;
  std::string production_endpoint;  // EndpointGroup id, empty = none
  std::string sandbox_endpoint;     // EndpointGroup id, empty = none
  bool mock = false;
  std::vector<MockResponse> mock_responses;  // first is the default answer
};
BOOST_DESCRIBE_STRUCT(Resource, (),
                      (method, path_template, operation_id, throttling_tier, security,
                       production_endpoint, sandbox_endpoint, mock, mock_responses))

struct Cors {
  bool enabled = false;
  std::vector<std::string> allow_origins;
  std::vector<std::string> allow_headers;
  std::vector<std::string> allow_methods;
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
};
BOOST_DESCRIBE_STRUCT(Cors, (),
                      (enabled, allow_origins, allow_headers, allow_methods, expose_headers,
                       allow_credentials))

struct Api {
  std::string title;
  std::string version;
  std::string base_path;     // "/petstore/v1"; "/" for the root; never a trailing "/"
  std::string source;        // definition file, relative to api_definitions/
  std::string openapi_version;  // "2.0", "3.0.3", "3.1.0", ...
  std::vector<std::string> transports;  // "http", "https"
  std::string auth_header;   // empty = [auth] header
  std::string throttling_tier;  // API-level resource policy, empty = none
  Cors cors;
  std::vector<Resource> resources;  // sorted by path_template, then method
};
BOOST_DESCRIBE_STRUCT(Api, (),
                      (title, version, base_path, source, openapi_version, transports,
                       auth_header, throttling_tier, cors, resources))

// A rate-limit policy of policies.yaml.
struct Policy {
  std::string name;
  std::int64_t count = 0;
  std::int64_t unit_time = 1;
  std::string time_unit;        // sec | min | hour | day | week | month | year
  std::int64_t window_seconds = 0;  // unit_time x time_unit, in seconds
  bool stop_on_quota = true;
  std::int64_t burst = 0;       // at most this many per second; 0 = no burst limit
};
BOOST_DESCRIBE_STRUCT(Policy, (),
                      (name, count, unit_time, time_unit, window_seconds, stop_on_quota, burst))

struct Policies {
  std::vector<Policy> resource;      // resourcePolicies: API and resource level
  std::vector<Policy> application;   // applicationPolicies
  std::vector<Policy> subscription;  // subscriptionPolicies
};
BOOST_DESCRIBE_STRUCT(Policies, (), (resource, application, subscription))

// A trusted JWT issuer ([[auth.jwt]]), with its key material read at build time.
struct JwtIssuer {
  std::string issuer;
  std::string certificate_pem;  // PEM certificate(s) or public key(s); may be empty
  std::string jwks_json;        // JWKS document; may be empty
  std::string jwks_url;         // fetched by the runtime; may be empty
  std::string secret_env;       // HS* secret's environment variable; may be empty
  std::vector<std::string> audience;
  std::vector<std::string> algorithms;
  bool validate_subscriptions = false;
  std::string consumer_key_claim = "aud";
  std::vector<std::vector<std::string>> claims;  // [remote, local] pairs, sorted
};
BOOST_DESCRIBE_STRUCT(JwtIssuer, (),
                      (issuer, certificate_pem, jwks_json, jwks_url, secret_env, audience,
                       algorithms, validate_subscriptions, consumer_key_claim, claims))

// A Basic-auth user from users.htpasswd. `hash` is a crypt(3) hash or `{SHA}base64`.
struct BasicUser {
  std::string name;
  std::string hash;
  std::vector<std::string> scopes;
};
BOOST_DESCRIBE_STRUCT(BasicUser, (), (name, hash, scopes))

// A static API key: only its SHA-256 is kept.
struct StaticApiKey {
  std::string sha256;
  std::string application;
  std::string tier;
};
BOOST_DESCRIBE_STRUCT(StaticApiKey, (), (sha256, application, tier))

struct ApiKeyIssuer {
  std::string issuer;
  std::string certificate_pem;
};
BOOST_DESCRIBE_STRUCT(ApiKeyIssuer, (), (issuer, certificate_pem))

// Trusted keys and credentials: fixed at build time, never overridable at run time.
struct SecurityMaterial {
  std::vector<JwtIssuer> jwt_issuers;
  std::optional<ApiKeyIssuer> api_key_issuer;
  std::vector<StaticApiKey> static_api_keys;
  std::vector<BasicUser> basic_users;
};
BOOST_DESCRIBE_STRUCT(SecurityMaterial, (),
                      (jwt_issuers, api_key_issuer, static_api_keys, basic_users))

// The whole compiled project.
struct Model {
  std::string project_name;
  std::vector<Api> apis;                       // sorted by base path
  std::vector<EndpointGroup> endpoint_groups;  // sorted by id
  Policies policies;
  SecurityMaterial security;
};

}  // namespace mgw::bundle
