// The gateway's configuration, `mgw.toml` (contract section 4): its schema, defaults, parser and
// run-time overrides. Shared by the toolkit (which validates it at build time) and the gateway
// (which reads conf/mgw.toml at start and applies `--key=value` / `MGW_KEY` overrides).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/diagnostics.h"
#include "base/result.h"

namespace mgw::config {

struct TlsConfig {
  std::string cert;
  std::string key;
};

struct ServerConfig {
  std::string host = "0.0.0.0";
  int http_port = 9090;
  int https_port = 9095;
  int workers = 0;
  std::int64_t max_uri_bytes = 4096;
  std::int64_t max_header_bytes = 8192;
  std::int64_t max_body_bytes = 0;
  std::int64_t idle_timeout_ms = 120000;
  std::int64_t drain_timeout_ms = 30000;
  std::optional<TlsConfig> tls;
};

struct AdminConfig {
  std::string host = "127.0.0.1";
  int port = 9797;
};

struct JwtIssuerConfig {
  std::string issuer;
  std::string certificate;
  std::string jwks;
  std::string jwks_url;
  std::string secret_env;
  std::vector<std::string> audience;
  std::vector<std::string> algorithms;
  bool validate_subscriptions = false;
  std::string consumer_key_claim = "aud";
  std::map<std::string, std::string> claims;  // remote -> local
  base::SourceLocation location;              // of the [[auth.jwt]] table, for diagnostics
};

struct IntrospectionConfig {
  std::string url;
  std::string client_id;
  std::string client_secret_env = "MGW_INTROSPECTION_SECRET";
  std::int64_t cache_ttl_s = 300;
};

struct BasicAuthConfig {
  std::string users_file = "users.htpasswd";
};

struct ApiKeysConfig {
  std::string issuer;
  std::string certificate;
  std::string keys_file;
};

struct AuthConfig {
  std::string header = "Authorization";
  bool remove_auth_header = true;
  std::int64_t clock_skew_s = 5;
  std::vector<JwtIssuerConfig> jwt;
  IntrospectionConfig introspection;
  BasicAuthConfig basic;
  ApiKeysConfig api_keys;
};

struct RateLimitConfig {
  std::string policies = "policies.yaml";
  std::string store = "memory";
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string on_store_failure = "local";
  std::vector<std::string> trusted_proxies;  // peers whose X-Forwarded-For is believed
  std::int64_t max_keys = 1000000;           // bound of the local counter table
};

struct AnalyticsConfig {
  bool enabled = true;
  std::string dir = "analytics";
  std::int64_t rotate_bytes = 67108864;
  std::int64_t rotate_interval_s = 600;
  std::string upload_url;
  std::int64_t upload_interval_s = 60;
  std::int64_t max_disk_bytes = 1073741824;
};

// Connections to backends.
struct UpstreamConfig {
  std::string ca_file;           // extra trusted CAs (PEM), on top of the system store
  bool verify = true;            // verify backend certificates and host names
  int max_idle_per_host = 64;    // pooled keep-alive connections per worker and backend
  std::int64_t idle_timeout_ms = 60000;  // a pooled connection unused this long is closed
};

struct LogConfig {
  std::string level = "info";
  std::string access_log = "-";
};

struct ProjectConfig {
  std::string name;  // empty: the project folder's name
};

struct Config {
  ProjectConfig project;
  ServerConfig server;
  AdminConfig admin;
  AuthConfig auth;
  RateLimitConfig rate_limit;
  AnalyticsConfig analytics;
  UpstreamConfig upstream;
  LogConfig log;
};

// Parses mgw.toml. Every problem (syntax, unknown key with a "did you mean", wrong type, value
// out of range) goes to `diagnostics` with `file_label` and the line and column; the returned
// Config holds the defaults for whatever could not be read.
Config ParseConfig(std::string_view text, const std::string& file_label,
                   base::Diagnostics& diagnostics);

// Checks values that are well-typed but wrong together (e.g. a JWT issuer with no key source).
void ValidateConfig(const Config& config, const std::string& file_label,
                    base::Diagnostics& diagnostics);

// Applies one override, `key` being the TOML path ("server.http_port") and `value` its text.
// Fails for an unknown key, a value that does not parse, and keys that may not be overridden at
// run time (trusted keys, policies: they live in the bundle).
base::Status ApplyOverride(Config& config, std::string_view key, std::string_view value);

// The keys ApplyOverride() accepts, e.g. "server.http_port" (for the environment form, each is
// upper-cased with "." -> "_" and prefixed with "MGW_").
std::vector<std::string> OverridableKeys();

// Sets string keys (dotted TOML paths) in mgw.toml text and re-serialises it. Comments are lost,
// so callers use it only when a value must change (paths moved into a distribution).
base::Result<std::string> RewriteStringKeys(std::string_view text,
                                            const std::map<std::string, std::string>& values);

// The mgw.toml that `mgw init` writes: every key with its default and a comment.
std::string DefaultConfigText(const std::string& project_name);

}  // namespace mgw::config
