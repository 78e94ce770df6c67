#include "config/config.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>
#include <sstream>
#include <variant>

// Debian's toml++ is a compiled library built with exceptions; parse errors are caught right here
// and never cross this file's interface.
#include <toml++/toml.h>

namespace mgw::config {
namespace {

using base::Diagnostics;
using base::SourceLocation;

enum class Kind { kString, kInt, kBool, kStringList };

using Value = std::variant<std::string, std::int64_t, bool, std::vector<std::string>>;

template <class Section>
using Setter = std::function<void(Section&, const Value&)>;

template <class Section>
struct Field {
  std::string key;  // dotted path relative to the section
  Kind kind;
  Setter<Section> set;
  bool overridable = true;
  std::int64_t min = 0;
  std::int64_t max = 0;                // min == max == 0: no range check
  std::vector<std::string> allowed;    // for strings: the accepted values, empty = any
};

template <class Section, class Member>
Setter<Section> Assign(Member Section::*member) {
  return [member](Section& section, const Value& value) {
    if constexpr (std::is_same_v<Member, int>) {
      section.*member = static_cast<int>(std::get<std::int64_t>(value));
    } else {
      section.*member = std::get<Member>(value);
    }
  };
}

// Composes a setter for a member of a nested section.
template <class Outer, class Inner>
Setter<Outer> Nested(Inner Outer::*section, Setter<Inner> inner) {
  return [section, inner = std::move(inner)](Outer& outer, const Value& value) {
    inner(outer.*section, value);
  };
}

const std::vector<Field<Config>>& ConfigFields() {
  static const std::vector<Field<Config>> fields = [] {
    std::vector<Field<Config>> f;
    auto server = [](auto member) { return Nested<Config, ServerConfig>(&Config::server, Assign(member)); };
    auto admin = [](auto member) { return Nested<Config, AdminConfig>(&Config::admin, Assign(member)); };
    auto auth = [](auto member) { return Nested<Config, AuthConfig>(&Config::auth, Assign(member)); };
    auto rate = [](auto member) {
      return Nested<Config, RateLimitConfig>(&Config::rate_limit, Assign(member));
    };
    auto analytics = [](auto member) {
      return Nested<Config, AnalyticsConfig>(&Config::analytics, Assign(member));
    };
    auto log = [](auto member) { return Nested<Config, LogConfig>(&Config::log, Assign(member)); };
    auto upstream = [](auto member) {
      return Nested<Config, UpstreamConfig>(&Config::upstream, Assign(member));
    };
    auto tls = [](std::string TlsConfig::*member) {
      return Setter<Config>([member](Config& config, const Value& value) {
        if (!config.server.tls) {
          config.server.tls.emplace();
        }
        (*config.server.tls).*member = std::get<std::string>(value);
      });
    };
    auto intro = [](auto member) {
      return Nested<Config, AuthConfig>(
          &Config::auth, Nested<AuthConfig, IntrospectionConfig>(&AuthConfig::introspection,
                                                                 Assign(member)));
    };
    auto basic = [](auto member) {
      return Nested<Config, AuthConfig>(
          &Config::auth, Nested<AuthConfig, BasicAuthConfig>(&AuthConfig::basic, Assign(member)));
    };
    auto keys = [](auto member) {
      return Nested<Config, AuthConfig>(
          &Config::auth, Nested<AuthConfig, ApiKeysConfig>(&AuthConfig::api_keys, Assign(member)));
    };
    constexpr std::int64_t kPortMax = 65535;
    constexpr std::int64_t kHuge = std::int64_t{1} << 50;
    f.push_back({"project.name", Kind::kString,
                 Nested<Config, ProjectConfig>(&Config::project, Assign(&ProjectConfig::name)), false});
    f.push_back({"server.host", Kind::kString, server(&ServerConfig::host)});
    f.push_back({"server.http_port", Kind::kInt, server(&ServerConfig::http_port), true, 0, kPortMax});
    f.push_back({"server.https_port", Kind::kInt, server(&ServerConfig::https_port), true, 0, kPortMax});
    f.push_back({"server.workers", Kind::kInt, server(&ServerConfig::workers), true, 0, 1024});
    f.push_back({"server.max_uri_bytes", Kind::kInt, server(&ServerConfig::max_uri_bytes), true, 64, kHuge});
    f.push_back({"server.max_header_bytes", Kind::kInt, server(&ServerConfig::max_header_bytes), true, 256, kHuge});
    f.push_back({"server.max_body_bytes", Kind::kInt, server(&ServerConfig::max_body_bytes), true, 0, kHuge});
    f.push_back({"server.idle_timeout_ms", Kind::kInt, server(&ServerConfig::idle_timeout_ms), true, 1, kHuge});
    f.push_back({"server.drain_timeout_ms", Kind::kInt, server(&ServerConfig::drain_timeout_ms), true, 0, kHuge});
    f.push_back({"server.tls.cert", Kind::kString, tls(&TlsConfig::cert)});
    f.push_back({"server.tls.key", Kind::kString, tls(&TlsConfig::key)});
    f.push_back({"admin.host", Kind::kString, admin(&AdminConfig::host)});
    f.push_back({"admin.port", Kind::kInt, admin(&AdminConfig::port), true, 0, kPortMax});
    f.push_back({"auth.header", Kind::kString, auth(&AuthConfig::header)});
    f.push_back({"auth.remove_auth_header", Kind::kBool, auth(&AuthConfig::remove_auth_header)});
    f.push_back({"auth.clock_skew_s", Kind::kInt, auth(&AuthConfig::clock_skew_s), true, 0, 86400});
    f.push_back({"auth.introspection.url", Kind::kString, intro(&IntrospectionConfig::url)});
    f.push_back({"auth.introspection.client_id", Kind::kString, intro(&IntrospectionConfig::client_id)});
    f.push_back({"auth.introspection.client_secret_env", Kind::kString,
                 intro(&IntrospectionConfig::client_secret_env)});
    f.push_back({"auth.introspection.cache_ttl_s", Kind::kInt, intro(&IntrospectionConfig::cache_ttl_s),
                 true, 0, kHuge});
    f.push_back({"auth.basic.users_file", Kind::kString, basic(&BasicAuthConfig::users_file), false});
    f.push_back({"auth.api_keys.issuer", Kind::kString, keys(&ApiKeysConfig::issuer), false});
    f.push_back({"auth.api_keys.certificate", Kind::kString, keys(&ApiKeysConfig::certificate), false});
    f.push_back({"auth.api_keys.keys_file", Kind::kString, keys(&ApiKeysConfig::keys_file), false});
    f.push_back({"rate_limit.policies", Kind::kString, rate(&RateLimitConfig::policies), false});
    f.push_back({"rate_limit.store", Kind::kString, rate(&RateLimitConfig::store), true, 0, 0,
                 {"memory", "redis"}});
    f.push_back({"rate_limit.redis_url", Kind::kString, rate(&RateLimitConfig::redis_url)});
    f.push_back({"rate_limit.on_store_failure", Kind::kString, rate(&RateLimitConfig::on_store_failure),
                 true, 0, 0, {"local", "deny"}});
    f.push_back({"rate_limit.trusted_proxies", Kind::kStringList,
                 rate(&RateLimitConfig::trusted_proxies)});
    f.push_back({"rate_limit.max_keys", Kind::kInt, rate(&RateLimitConfig::max_keys), true, 64,
                 std::int64_t{1} << 32});
    f.push_back({"analytics.enabled", Kind::kBool, analytics(&AnalyticsConfig::enabled)});
    f.push_back({"analytics.dir", Kind::kString, analytics(&AnalyticsConfig::dir)});
    f.push_back({"analytics.rotate_bytes", Kind::kInt, analytics(&AnalyticsConfig::rotate_bytes), true,
                 1024, kHuge});
    f.push_back({"analytics.rotate_interval_s", Kind::kInt,
                 analytics(&AnalyticsConfig::rotate_interval_s), true, 1, kHuge});
    f.push_back({"analytics.upload_url", Kind::kString, analytics(&AnalyticsConfig::upload_url)});
    f.push_back({"analytics.upload_interval_s", Kind::kInt,
                 analytics(&AnalyticsConfig::upload_interval_s), true, 1, kHuge});
    f.push_back({"analytics.max_disk_bytes", Kind::kInt, analytics(&AnalyticsConfig::max_disk_bytes),
                 true, 0, kHuge});
    f.push_back({"upstream.ca_file", Kind::kString, upstream(&UpstreamConfig::ca_file)});
    f.push_back({"upstream.verify", Kind::kBool, upstream(&UpstreamConfig::verify)});
    f.push_back({"upstream.max_idle_per_host", Kind::kInt, upstream(&UpstreamConfig::max_idle_per_host),
                 true, 0, 100000});
    f.push_back({"upstream.idle_timeout_ms", Kind::kInt, upstream(&UpstreamConfig::idle_timeout_ms),
                 true, 1, kHuge});
    f.push_back({"log.level", Kind::kString, log(&LogConfig::level), true, 0, 0,
                 {"trace", "debug", "info", "warn", "error", "off"}});
    f.push_back({"log.access_log", Kind::kString, log(&LogConfig::access_log)});
    return f;
  }();
  return fields;
}

const std::vector<Field<JwtIssuerConfig>>& JwtFields() {
  static const std::vector<Field<JwtIssuerConfig>> fields = {
      {"issuer", Kind::kString, Assign(&JwtIssuerConfig::issuer)},
      {"certificate", Kind::kString, Assign(&JwtIssuerConfig::certificate)},
      {"jwks", Kind::kString, Assign(&JwtIssuerConfig::jwks)},
      {"jwks_url", Kind::kString, Assign(&JwtIssuerConfig::jwks_url)},
      {"secret_env", Kind::kString, Assign(&JwtIssuerConfig::secret_env)},
      {"audience", Kind::kStringList, Assign(&JwtIssuerConfig::audience)},
      {"algorithms", Kind::kStringList, Assign(&JwtIssuerConfig::algorithms), true, 0, 0,
       {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
        "HS256", "HS384", "HS512"}},
      {"validate_subscriptions", Kind::kBool, Assign(&JwtIssuerConfig::validate_subscriptions)},
      {"consumer_key_claim", Kind::kString, Assign(&JwtIssuerConfig::consumer_key_claim)},
  };
  return fields;
}

SourceLocation Locate(const toml::node& node, const std::string& file) {
  const auto& begin = node.source().begin;
  return {file, static_cast<int>(begin.line), static_cast<int>(begin.column)};
}

std::string KindName(Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "a string";
    case Kind::kInt:
      return "an integer";
    case Kind::kBool:
      return "true or false";
    case Kind::kStringList:
      return "a list of strings";
  }
  return "a value";
}

std::optional<Value> ReadTomlValue(const toml::node& node, Kind kind) {
  switch (kind) {
    case Kind::kString:
      if (auto v = node.value<std::string>(); v && node.is_string()) {
        return Value(*v);
      }
      return std::nullopt;
    case Kind::kInt:
      if (node.is_integer()) {
        return Value(*node.value<std::int64_t>());
      }
      return std::nullopt;
    case Kind::kBool:
      if (node.is_boolean()) {
        return Value(*node.value<bool>());
      }
      return std::nullopt;
    case Kind::kStringList: {
      const auto* array = node.as_array();
      if (array == nullptr) {
        // A single string is accepted where a list is expected (audience = "x").
        if (node.is_string()) {
          return Value(std::vector<std::string>{*node.value<std::string>()});
        }
        return std::nullopt;
      }
      std::vector<std::string> list;
      for (const auto& element : *array) {
        if (!element.is_string()) {
          return std::nullopt;
        }
        list.push_back(*element.value<std::string>());
      }
      return Value(std::move(list));
    }
  }
  return std::nullopt;
}

template <class Section>
std::optional<std::string> CheckValue(const Field<Section>& field, const Value& value) {
  if (field.kind == Kind::kInt && (field.min != 0 || field.max != 0)) {
    const auto v = std::get<std::int64_t>(value);
    if (v < field.min || v > field.max) {
      return "must be between " + std::to_string(field.min) + " and " + std::to_string(field.max);
    }
  }
  if (!field.allowed.empty()) {
    auto ok = [&](const std::string& s) {
      return std::find(field.allowed.begin(), field.allowed.end(), s) != field.allowed.end();
    };
    std::string joined;
    for (const auto& a : field.allowed) {
      joined += (joined.empty() ? "" : ", ") + a;
    }
    if (field.kind == Kind::kString && !ok(std::get<std::string>(value))) {
      return "must be one of " + joined;
    }
    if (field.kind == Kind::kStringList) {
      for (const auto& s : std::get<std::vector<std::string>>(value)) {
        if (!ok(s)) {
          return "\"" + s + "\" is not one of " + joined;
        }
      }
    }
  }
  return std::nullopt;
}

template <class Section>
void UnknownKey(const std::string& path, const std::string& prefix,
                const std::vector<Field<Section>>& fields, const std::set<std::string>& tables,
                SourceLocation location, Diagnostics& diagnostics) {
  std::vector<std::string> candidates(tables.begin(), tables.end());
  for (const auto& field : fields) {
    candidates.push_back(prefix + field.key);
  }
  std::string message = "unknown key \"" + path + "\"";
  if (auto hint = base::ClosestMatch(path, candidates); !hint.empty()) {
    message += "; did you mean \"" + hint + "\"?";
  }
  diagnostics.Error(std::move(location), std::move(message));
}

void ParseJwtIssuer(const toml::table& table, const std::string& file, Diagnostics& diagnostics,
                    JwtIssuerConfig& issuer) {
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    const std::string path = "auth.jwt." + name;
    if (name == "claims") {
      const auto* claims = node.as_table();
      if (claims == nullptr) {
        diagnostics.Error(Locate(node, file), path + " must be a table of \"remote\" = \"local\"");
        continue;
      }
      for (const auto& [remote, local] : *claims) {
        if (!local.is_string()) {
          diagnostics.Error(Locate(local, file), path + "." + std::string(remote.str()) +
                                                     " must be a string (the local claim name)");
          continue;
        }
        issuer.claims[std::string(remote.str())] = *local.value<std::string>();
      }
      continue;
    }
    const auto& fields = JwtFields();
    auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.key == name; });
    if (it == fields.end()) {
      UnknownKey(path, "auth.jwt.", fields, {"auth.jwt.claims"}, Locate(node, file), diagnostics);
      continue;
    }
    auto value = ReadTomlValue(node, it->kind);
    if (!value) {
      diagnostics.Error(Locate(node, file), path + " must be " + KindName(it->kind));
      continue;
    }
    if (auto problem = CheckValue(*it, *value)) {
      diagnostics.Error(Locate(node, file), path + " " + *problem);
      continue;
    }
    it->set(issuer, *value);
  }
}

std::set<std::string> KnownTables() {
  return {"project", "server", "server.tls", "admin", "auth", "auth.jwt", "auth.introspection",
          "auth.basic", "auth.api_keys", "rate_limit", "analytics", "upstream", "log"};
}

void Walk(const toml::table& table, const std::string& prefix, const std::string& file,
          Diagnostics& diagnostics, Config& config) {
  static const std::set<std::string> tables = KnownTables();
  const auto& fields = ConfigFields();
  for (const auto& [key, node] : table) {
    const std::string path = prefix + std::string(key.str());
    if (path == "auth.jwt") {
      const auto* array = node.as_array();
      if (array == nullptr || !array->is_array_of_tables()) {
        diagnostics.Error(Locate(node, file),
                          "auth.jwt must be an array of tables: write [[auth.jwt]] per issuer");
        continue;
      }
      for (const auto& element : *array) {
        JwtIssuerConfig issuer;
        issuer.location = Locate(element, file);
        ParseJwtIssuer(*element.as_table(), file, diagnostics, issuer);
        config.auth.jwt.push_back(std::move(issuer));
      }
      continue;
    }
    if (tables.contains(path)) {
      if (const auto* sub = node.as_table()) {
        Walk(*sub, path + ".", file, diagnostics, config);
      } else {
        diagnostics.Error(Locate(node, file), path + " must be a table");
      }
      continue;
    }
    auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.key == path; });
    if (it == fields.end()) {
      UnknownKey(path, "", fields, tables, Locate(node, file), diagnostics);
      continue;
    }
    auto value = ReadTomlValue(node, it->kind);
    if (!value) {
      diagnostics.Error(Locate(node, file), path + " must be " + KindName(it->kind));
      continue;
    }
    if (auto problem = CheckValue(*it, *value)) {
      diagnostics.Error(Locate(node, file), path + " " + *problem);
      continue;
    }
    it->set(config, *value);
  }
}

}  // namespace

Config ParseConfig(std::string_view text, const std::string& file_label,
                   base::Diagnostics& diagnostics) {
  Config config;
  toml::table table;
  try {
    table = toml::parse(text, file_label);
  } catch (const toml::parse_error& error) {
    diagnostics.Error({file_label, static_cast<int>(error.source().begin.line),
                       static_cast<int>(error.source().begin.column)},
                      std::string(error.description()));
    return config;
  }
  Walk(table, "", file_label, diagnostics, config);
  return config;
}

void ValidateConfig(const Config& config, const std::string& file_label,
                    base::Diagnostics& diagnostics) {
  std::set<std::string> issuers;
  for (const auto& issuer : config.auth.jwt) {
    if (issuer.issuer.empty()) {
      diagnostics.Error(issuer.location, "[[auth.jwt]] needs an issuer");
    } else if (!issuers.insert(issuer.issuer).second) {
      diagnostics.Error(issuer.location, "issuer \"" + issuer.issuer + "\" is configured twice");
    }
    const int sources = static_cast<int>(!issuer.certificate.empty()) +
                        static_cast<int>(!issuer.jwks.empty()) +
                        static_cast<int>(!issuer.jwks_url.empty()) +
                        static_cast<int>(!issuer.secret_env.empty());
    if (sources == 0) {
      diagnostics.Error(issuer.location, "issuer \"" + issuer.issuer +
                                             "\" has no key: set certificate, jwks, jwks_url or "
                                             "secret_env");
    }
    if (!issuer.jwks_url.empty() && issuer.jwks_url.rfind("https://", 0) != 0 &&
        issuer.jwks_url.rfind("http://", 0) != 0) {
      diagnostics.Error(issuer.location, "jwks_url \"" + issuer.jwks_url +
                                             "\" is not an http(s) URL");
    }
  }
  if (config.server.tls && (config.server.tls->cert.empty() || config.server.tls->key.empty())) {
    diagnostics.Error({file_label, 0, 0}, "[server.tls] needs both cert and key");
  }
  if (config.admin.port != 0 && config.admin.port == config.server.http_port) {
    diagnostics.Error({file_label, 0, 0}, "admin.port and server.http_port are the same port");
  }
  if (!config.auth.api_keys.issuer.empty() && config.auth.api_keys.certificate.empty()) {
    diagnostics.Error({file_label, 0, 0},
                      "auth.api_keys.issuer is set but auth.api_keys.certificate is empty");
  }
}

base::Status ApplyOverride(Config& config, std::string_view key, std::string_view value) {
  const auto& fields = ConfigFields();
  auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.key == key; });
  if (it == fields.end()) {
    if (key.rfind("auth.jwt", 0) == 0) {
      return base::MakeError("\"" + std::string(key) +
                             "\" cannot be overridden: trusted issuers and keys are fixed at "
                             "build time");
    }
    std::vector<std::string> keys = OverridableKeys();
    std::string message = "unknown configuration key \"" + std::string(key) + "\"";
    if (auto hint = base::ClosestMatch(std::string(key), keys); !hint.empty()) {
      message += "; did you mean \"" + hint + "\"?";
    }
    return base::MakeError(std::move(message));
  }
  if (!it->overridable) {
    return base::MakeError("\"" + std::string(key) +
                           "\" cannot be overridden at run time: it is fixed in the bundle; "
                           "change the project and build again");
  }
  Value parsed;
  switch (it->kind) {
    case Kind::kString:
      parsed = std::string(value);
      break;
    case Kind::kInt: {
      std::int64_t number = 0;
      const auto* end = value.data() + value.size();
      auto [ptr, ec] = std::from_chars(value.data(), end, number);
      if (ec != std::errc() || ptr != end) {
        return base::MakeError(std::string(key) + " must be an integer, got \"" +
                               std::string(value) + "\"");
      }
      parsed = number;
      break;
    }
    case Kind::kBool:
      if (value == "true") {
        parsed = true;
      } else if (value == "false") {
        parsed = false;
      } else {
        return base::MakeError(std::string(key) + " must be true or false, got \"" +
                               std::string(value) + "\"");
      }
      break;
    case Kind::kStringList: {
      std::vector<std::string> list;
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        list.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      parsed = std::move(list);
      break;
    }
  }
  if (auto problem = CheckValue(*it, parsed)) {
    return base::MakeError(std::string(key) + " " + *problem);
  }
  it->set(config, parsed);
  return {};
}

base::Result<std::string> RewriteStringKeys(std::string_view text,
                                            const std::map<std::string, std::string>& values) {
  toml::table table;
  try {
    table = toml::parse(text);
  } catch (const toml::parse_error& error) {
    return base::MakeError("mgw.toml: " + std::string(error.description()));
  }
  for (const auto& [key, value] : values) {
    toml::table* current = &table;
    std::string_view rest = key;
    while (true) {
      const auto dot = rest.find('.');
      const std::string part(rest.substr(0, dot));
      if (dot == std::string_view::npos) {
        current->insert_or_assign(part, value);
        break;
      }
      auto* next = (*current)[part].as_table();
      if (next == nullptr) {
        current->insert_or_assign(part, toml::table{});
        next = (*current)[part].as_table();
      }
      current = next;
      rest = rest.substr(dot + 1);
    }
  }
  std::ostringstream out;
  out << toml::toml_formatter(table) << '\n';
  return out.str();
}

std::vector<std::string> OverridableKeys() {
  std::vector<std::string> keys;
  for (const auto& field : ConfigFields()) {
    if (field.overridable) {
      keys.push_back(field.key);
    }
  }
  return keys;
}

std::string DefaultConfigText(const std::string& project_name) {
  return R"(# mgw project configuration. Every key is optional; the values shown are the defaults.
# Deployment-specific values can be overridden at start: bin/gateway --server.http_port=9590
# or MGW_SERVER_HTTP_PORT=9590 (see the project README).

[project]
name = ")" + project_name +
         R"("

[server]
host = "0.0.0.0"
http_port = 9090
https_port = 9095            # served when [server.tls] is set; 0 = off
workers = 0                  # 0 = one per CPU core
max_uri_bytes = 4096         # longer -> 414
max_header_bytes = 8192      # larger -> 431
max_body_bytes = 0           # 0 = unlimited; larger -> 413
idle_timeout_ms = 120000
drain_timeout_ms = 30000     # on SIGTERM: stop accepting, finish in-flight requests, then exit 0

# [server.tls]
# cert = "certs/server.crt"
# key = "certs/server.key"

[admin]
host = "127.0.0.1"
port = 9797                  # GET /health, /ready, /metrics

[auth]
header = "Authorization"
remove_auth_header = true    # credentials are not forwarded upstream
clock_skew_s = 5

# One table per trusted JWT issuer:
# [[auth.jwt]]
# issuer = "https://localhost:9443/oauth2/token"
# certificate = "certs/wso2carbon.pem"   # PEM certificate or public key; or
# jwks = "certs/jwks.json"               # a JWKS file; or
# jwks_url = "https://idp.example/jwks"  # fetched at start, refreshed; or
# secret_env = "MGW_JWT_SECRET"          # HS256/384/512 shared secret from the environment
# audience = []
# algorithms = []
# validate_subscriptions = false
# consumer_key_claim = "aud"
# claims = { scp = "scope" }

[auth.introspection]
url = ""                     # RFC 7662 endpoint for opaque tokens; empty = off
client_id = ""
client_secret_env = "MGW_INTROSPECTION_SECRET"
cache_ttl_s = 300

[auth.basic]
users_file = "users.htpasswd"

[auth.api_keys]
issuer = ""
certificate = ""
keys_file = ""

[rate_limit]
policies = "policies.yaml"
store = "memory"             # memory | redis
redis_url = "redis://127.0.0.1:6379/0"
on_store_failure = "local"   # local | deny
trusted_proxies = []         # peers (IPs or CIDRs) whose X-Forwarded-For names the client
max_keys = 1000000           # counters kept in memory at most (expired windows are reclaimed)

[analytics]
enabled = true
dir = "analytics"
rotate_bytes = 67108864
rotate_interval_s = 600
upload_url = ""
upload_interval_s = 60
max_disk_bytes = 1073741824

[upstream]
ca_file = ""                 # extra trusted CA certificates (PEM) for https backends
verify = true                # verify backend certificates and host names
max_idle_per_host = 64       # pooled keep-alive connections per worker and backend
idle_timeout_ms = 60000

[log]
level = "info"
access_log = "-"             # "-" stdout, "" off, or a file path
)";
}

}  // namespace mgw::config
