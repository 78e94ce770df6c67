#include "project/openapi.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "base/ascii.h"
#include "project/yaml_util.h"

namespace mgw::project {
namespace {

using base::Diagnostics;
using base::SourceLocation;

const std::vector<std::string>& HttpMethods() {
  static const std::vector<std::string> methods = {"get",  "put",     "post", "delete",
                                                   "options", "head", "patch", "trace"};
  return methods;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Extensions we implement, by their suffix after "x-wso2-" / "x-mgw-".
const std::set<std::string>& KnownExtensionSuffixes() {
  static const std::set<std::string> known = {
      "basePath",       "production-endpoints", "sandbox-endpoints",    "endpoints",
      "throttling-tier", "disable-security",    "auth-header",          "cors",
      "application-security", "transports",     "mock",                 "owner"};
  return known;
}

// WSO2 extensions that mgw does not implement; they are accepted with a warning saying so.
const std::set<std::string>& UnsupportedWso2Suffixes() {
  static const std::set<std::string> unsupported = {"request-interceptor", "response-interceptor",
                                                    "mutual-ssl", "response-cache"};
  return unsupported;
}

class ApiReader {
 public:
  ApiReader(const Document& document, std::string source, DocumentSet& documents,
            Diagnostics& diagnostics)
      : document_(document),
        source_(std::move(source)),
        documents_(documents),
        diagnostics_(diagnostics) {}

  std::optional<ApiDraft> Read();

 private:
  Located Root() const { return {document_.root, &document_}; }
  void Error(const Located& at, const std::string& message) {
    diagnostics_.Error(at.Location(), message);
  }
  void Warning(const Located& at, const std::string& message) {
    diagnostics_.Warning(at.Location(), message);
  }

  // The value of extension `suffix` on `owner`, under x-wso2- or x-mgw-; `name` receives the
  // spelling found (for messages).
  Located Extension(const Located& owner, const std::string& suffix, std::string* name = nullptr);
  void CheckExtensionNames(const Located& owner);

  std::optional<Located> Resolve(const Located& value) { return documents_.Resolve(value, diagnostics_); }

  bool ReadVersion();
  void CheckTopLevelKeys();
  bool ReadInfo();
  void ReadServers();
  void ReadSecuritySchemes();
  void ReadApiExtensions();
  void ReadEndpointDefinitions();
  void CheckComponents();
  void ReadPaths();
  void ReadOperation(const std::string& path, const std::string& method, const Located& operation,
                     const std::vector<Located>& path_parameters);

  // Structural checks shared by every place the object can appear.
  void CheckParameter(const Located& parameter);
  void CheckHeader(const Located& header);
  void CheckLink(const Located& link);
  void CheckMediaTypes(const Located& content);
  void CheckExampleExclusive(const Located& object, const std::string& what);
  void CheckSchema(const Located& schema);

  // Endpoints: returns the group id, or "" after reporting a problem.
  std::string ReadEndpoints(const Located& value, const std::string& extension_name,
                            const std::string& environment, const std::string& inline_name);
  std::optional<bundle::EndpointGroup> ReadEndpointObject(const Located& value,
                                                          const std::string& what);
  std::string AddGroup(bundle::EndpointGroup group, const SourceLocation& location);

  std::optional<bundle::Security> ReadSecurityRequirements(const Located& requirements,
                                                           bool* optional);
  std::optional<bool> ReadDisableSecurity(const Located& owner);
  struct AppSecurity {
    std::vector<std::string> types;
    bool optional = false;
  };
  std::optional<AppSecurity> ReadApplicationSecurity(const Located& owner);
  std::string ReadTier(const Located& owner, const std::string& level);
  std::vector<bundle::MockResponse> ReadMockResponses(const Located& responses);
  std::optional<bool> ReadMockFlag(const Located& owner);

  const Document& document_;
  std::string source_;
  DocumentSet& documents_;
  Diagnostics& diagnostics_;

  int major_ = 0;  // 2 or 3
  int minor_ = 0;  // for 3.x
  ApiDraft draft_;
  std::string id_prefix_;  // "<title>_<version>"

  struct SchemeInfo {
    std::string type;  // oauth2 | basic_auth | api_key | "" (unsupported)
    bundle::ApiKeyLocation key;
  };
  std::map<std::string, SchemeInfo> schemes_;
  std::vector<std::string> server_urls_;
  std::string api_production_;
  std::string api_sandbox_;
  bool api_endpoints_failed_ = false;
  std::map<std::string, Located> named_endpoints_;  // x-wso2-endpoints
  bool api_security_disabled_ = false;
  std::optional<AppSecurity> api_app_security_;
  bool api_mock_ = false;
  Located api_security_;
  // name -> places (file label, line), for one warning per name
  std::map<std::string, std::set<std::pair<std::string, int>>> unknown_extensions_;
  std::set<std::string> routes_;  // "<route shape> <method>" already read
};

Located ApiReader::Extension(const Located& owner, const std::string& suffix, std::string* name) {
  const std::string wso2 = "x-wso2-" + suffix;
  const std::string mgw = "x-mgw-" + suffix;
  Located a = owner[wso2];
  Located b = owner[mgw];
  if (a.node.IsDefined() && b.node.IsDefined()) {
    Warning(b, mgw + " is ignored: " + wso2 + " is also set here");
  }
  if (a.node.IsDefined()) {
    if (name != nullptr) {
      *name = wso2;
    }
    return a;
  }
  if (name != nullptr) {
    *name = mgw;
  }
  return b;
}

void ApiReader::CheckExtensionNames(const Located& owner) {
  if (!owner.node.IsMap()) {
    return;
  }
  for (const auto& member : owner.node) {
    auto key = ScalarText(member.first);
    if (!key || !StartsWith(*key, "x-")) {
      continue;
    }
    std::string suffix;
    if (StartsWith(*key, "x-wso2-")) {
      suffix = key->substr(7);
    } else if (StartsWith(*key, "x-mgw-")) {
      suffix = key->substr(6);
    } else {
      if (*key != "x-throttling-tier" && *key != "x-auth-type" && *key != "x-scope") {
        unknown_extensions_[*key].insert({owner.document->label, member.first.Mark().line + 1});
      }
      continue;
    }
    if (KnownExtensionSuffixes().contains(suffix)) {
      continue;
    }
    const Located at{member.first, owner.document};
    if (UnsupportedWso2Suffixes().contains(suffix)) {
      Warning(at, *key + " is not supported by mgw and is ignored");
      continue;
    }
    std::vector<std::string> candidates;
    for (const auto& known : KnownExtensionSuffixes()) {
      candidates.push_back(key->substr(0, key->size() - suffix.size()) + known);
    }
    std::string message = "unknown extension " + *key + " is ignored";
    if (auto hint = base::ClosestMatch(*key, candidates); !hint.empty()) {
      message += "; did you mean " + hint + "?";
    }
    Warning(at, message);
  }
}

bool ApiReader::ReadVersion() {
  const Located root = Root();
  const Located openapi = root["openapi"];
  const Located swagger = root["swagger"];
  if (swagger.node.IsDefined()) {
    auto text = ScalarText(swagger.node);
    if (!text || *text != "2.0") {
      Error(swagger, "swagger: only \"2.0\" is supported");
      return false;
    }
    major_ = 2;
    draft_.api.openapi_version = "2.0";
    return true;
  }
  auto text = ScalarText(openapi.node);
  if (!text) {
    Error(openapi.IsDefined() ? openapi : root, "openapi must be a version string such as \"3.0.3\"");
    return false;
  }
  if (StartsWith(*text, "3.0.") || *text == "3.0") {
    minor_ = 0;
  } else if (StartsWith(*text, "3.1.") || *text == "3.1") {
    minor_ = 1;
  } else {
    Error(openapi, "openapi \"" + *text + "\" is not supported (2.0, 3.0.x and 3.1.x are)");
    return false;
  }
  major_ = 3;
  draft_.api.openapi_version = *text;
  return true;
}

void ApiReader::CheckTopLevelKeys() {
  static const std::set<std::string> v2 = {
      "swagger",    "info",       "host",          "basePath",    "schemes",
      "consumes",   "produces",   "paths",         "definitions", "parameters",
      "responses",  "securityDefinitions", "security", "tags",      "externalDocs"};
  static const std::set<std::string> v30 = {"openapi", "info",     "servers", "paths",
                                            "components", "security", "tags", "externalDocs"};
  static const std::set<std::string> v31 = {"openapi",  "info",     "jsonSchemaDialect",
                                            "servers",  "paths",    "webhooks",
                                            "components", "security", "tags", "externalDocs"};
  const auto& allowed = major_ == 2 ? v2 : (minor_ == 0 ? v30 : v31);
  const Located root = Root();
  for (const auto& member : root.node) {
    auto key = ScalarText(member.first);
    if (!key || StartsWith(*key, "x-") || allowed.contains(*key)) {
      continue;
    }
    std::vector<std::string> candidates(allowed.begin(), allowed.end());
    std::string message = "unknown top-level field \"" + *key + "\"";
    if (auto hint = base::ClosestMatch(*key, candidates); !hint.empty()) {
      message += "; did you mean \"" + hint + "\"?";
    }
    Error({member.first, &document_}, message);
  }
  const bool has_paths = root["paths"].node.IsDefined();
  if (major_ == 3 && minor_ == 1) {
    if (!has_paths && !root["components"].node.IsDefined() && !root["webhooks"].node.IsDefined()) {
      Error(root, "an OpenAPI 3.1 definition needs at least one of paths, components, webhooks");
    }
  } else if (!has_paths) {
    Error(root, "paths is required");
  }
  if (has_paths && !root["paths"].node.IsMap()) {
    Error(root["paths"], "paths must be a map of path templates");
  }
  if (root["webhooks"].node.IsDefined()) {
    Warning(root["webhooks"], "webhooks are outgoing calls; the gateway does not serve them");
  }
}

bool ApiReader::ReadInfo() {
  const Located info = Root()["info"];
  if (!info.node.IsMap()) {
    Error(info.IsDefined() ? info : Root(), "info (with title and version) is required");
    return false;
  }
  auto title = ScalarText(info["title"].node);
  auto version = ScalarText(info["version"].node);
  bool ok = true;
  if (!title || title->empty()) {
    Error(info, "info.title is required");
    ok = false;
  }
  if (!version || version->empty()) {
    Error(info, "info.version is required");
    ok = false;
  }
  if (!ok) {
    return false;
  }
  draft_.api.title = *title;
  draft_.api.version = *version;
  id_prefix_ = *title + "_" + *version;
  return true;
}

// The path of a URL: "https://h:1/a/b?q" -> "/a/b"; "/v1" -> "/v1"; "v1" -> "/v1".
std::string UrlPath(const std::string& url) {
  std::string rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string::npos) {
    rest = rest.substr(scheme + 3);
    const auto slash = rest.find('/');
    rest = slash == std::string::npos ? std::string() : rest.substr(slash);
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (rest.empty() || rest[0] != '/') {
    rest = "/" + rest;
  }
  return rest;
}

std::string NormaliseBasePath(std::string path) {
  if (path.empty() || path[0] != '/') {
    path = "/" + path;
  }
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  return path;
}

void ApiReader::ReadServers() {
  const Located root = Root();
  if (major_ == 2) {
    auto host = ScalarText(root["host"].node);
    auto base_path = ScalarText(root["basePath"].node).value_or("/");
    if (host && !host->empty()) {
      std::string scheme = "http";
      if (auto schemes = StringList(root["schemes"].node); schemes && !schemes->empty()) {
        scheme = (*schemes)[0];
        // Prefer https when the API offers it.
        if (std::find(schemes->begin(), schemes->end(), "https") != schemes->end()) {
          scheme = "https";
        }
      }
      std::string url = scheme + "://" + *host + NormaliseBasePath(base_path);
      if (url.back() == '/') {
        url.pop_back();
      }
      server_urls_.push_back(url);
    }
    draft_.api.base_path = NormaliseBasePath(base_path);
    draft_.base_path_location = root["basePath"].IsDefined() ? root["basePath"].Location()
                                                             : root.Location();
    return;
  }
  const Located servers = root["servers"];
  draft_.api.base_path = "/";
  draft_.base_path_location = root.Location();
  if (!servers.node.IsDefined()) {
    return;
  }
  if (!servers.node.IsSequence()) {
    Error(servers, "servers must be a list of server objects");
    return;
  }
  bool first = true;
  for (const auto& element : servers.node) {
    const Located server{element, &document_};
    auto url = ScalarText(server["url"].node);
    if (!server.node.IsMap() || !url) {
      Error(server, "a server needs a url");
      continue;
    }
    std::string resolved = *url;
    const Located variables = server["variables"];
    if (variables.node.IsDefined()) {
      if (!variables.node.IsMap()) {
        Error(variables, "server variables must be a map");
        continue;
      }
      for (const auto& variable : variables.node) {
        const Located v{variable.second, &document_};
        auto name = ScalarText(variable.first).value_or("");
        auto default_value = ScalarText(v["default"].node);
        if (!default_value) {
          Error(v, "server variable \"" + name + "\" needs a default");
          continue;
        }
        const Located values = v["enum"];
        if (values.node.IsDefined()) {
          auto list = StringList(values.node);
          if (!list || list->empty()) {
            Error(values, "server variable \"" + name + "\": enum must be a non-empty list");
          } else if (std::find(list->begin(), list->end(), *default_value) == list->end()) {
            Warning(values, "server variable \"" + name + "\": default \"" + *default_value +
                                "\" is not in its enum");
          }
        }
        const std::string placeholder = "{" + name + "}";
        for (auto at = resolved.find(placeholder); at != std::string::npos;
             at = resolved.find(placeholder)) {
          resolved.replace(at, placeholder.size(), *default_value);
        }
      }
    }
    if (resolved.find('{') != std::string::npos) {
      Error(server["url"], "server url \"" + *url + "\" uses a variable that is not defined");
      continue;
    }
    if (first) {
      draft_.api.base_path = NormaliseBasePath(UrlPath(resolved));
      draft_.base_path_location = server["url"].Location();
      first = false;
    }
    if (StartsWith(resolved, "http://") || StartsWith(resolved, "https://")) {
      while (!resolved.empty() && resolved.back() == '/') {
        resolved.pop_back();
      }
      if (auto problem = CheckEndpointUrl(resolved)) {
        Error(server["url"], *problem);
        continue;
      }
      server_urls_.push_back(resolved);
    }
  }
}

void ApiReader::ReadSecuritySchemes() {
  const Located root = Root();
  const Located schemes =
      major_ == 2 ? root["securityDefinitions"] : root["components"]["securitySchemes"];
  if (!schemes.node.IsDefined()) {
    return;
  }
  if (!schemes.node.IsMap()) {
    Error(schemes, "security schemes must be a map");
    return;
  }
  for (const auto& member : schemes.node) {
    const std::string name = ScalarText(member.first).value_or("");
    auto scheme = documents_.ResolveLenient({member.second, &document_}, diagnostics_);
    if (!scheme) {
      continue;
    }
    auto type = ScalarText((*scheme)["type"].node);
    if (!type) {
      Error(*scheme, "security scheme \"" + name + "\" needs a type");
      continue;
    }
    SchemeInfo info;
    if (*type == "oauth2" || *type == "openIdConnect") {
      info.type = "oauth2";
    } else if (*type == "basic") {
      info.type = "basic_auth";  // OpenAPI 2.0
    } else if (*type == "http") {
      const std::string http_scheme = Lower(ScalarText((*scheme)["scheme"].node).value_or(""));
      if (http_scheme == "basic") {
        info.type = "basic_auth";
      } else if (http_scheme == "bearer" || http_scheme == "jwt") {
        info.type = "oauth2";
      } else {
        Warning(*scheme, "security scheme \"" + name + "\": http scheme \"" + http_scheme +
                             "\" is not supported; requirements naming it are ignored");
      }
    } else if (*type == "apiKey") {
      auto in = ScalarText((*scheme)["in"].node);
      auto key_name = ScalarText((*scheme)["name"].node);
      if (!in || !key_name || key_name->empty()) {
        Error(*scheme, "apiKey security scheme \"" + name + "\" needs in and name");
        continue;
      }
      if (*in != "header" && *in != "query") {
        Warning(*scheme, "apiKey security scheme \"" + name + "\": keys in " + *in +
                             " are not supported; only header and query");
        continue;
      }
      info.type = "api_key";
      info.key = {*in, *key_name};
    } else if (*type == "mutualTLS") {
      Warning(*scheme, "security scheme \"" + name +
                           "\": mutualTLS is not supported; requirements naming it are ignored");
    } else {
      Error((*scheme)["type"], "security scheme \"" + name + "\": unknown type \"" + *type + "\"");
      continue;
    }
    schemes_[name] = info;
  }
}

std::optional<bool> ApiReader::ReadDisableSecurity(const Located& owner) {
  std::string name;
  const Located value = Extension(owner, "disable-security", &name);
  if (!value.node.IsDefined()) {
    // APIM exports mark unsecured resources this way.
    if (auto auth_type = ScalarText(owner["x-auth-type"].node)) {
      return Lower(*auth_type) == "none";
    }
    return std::nullopt;
  }
  auto flag = BoolValue(value.node);
  if (!flag) {
    Error(value, name + " must be true or false");
    return std::nullopt;
  }
  return flag;
}

std::optional<ApiReader::AppSecurity> ApiReader::ReadApplicationSecurity(const Located& owner) {
  std::string name;
  const Located value = Extension(owner, "application-security", &name);
  if (!value.node.IsDefined()) {
    return std::nullopt;
  }
  if (!value.node.IsMap()) {
    Error(value, name + " must be a map with security-types and optional");
    return std::nullopt;
  }
  AppSecurity security;
  Located types = value["security-types"];
  if (!types.node.IsDefined()) {
    types = value["securityTypes"];
  }
  if (types.node.IsDefined()) {
    auto list = StringList(types.node);
    if (!list) {
      Error(types, name + ": security-types must be a list");
      return std::nullopt;
    }
    for (const auto& type : *list) {
      std::string t = Lower(type);
      if (t == "basic" || t == "basicauth") {
        t = "basic_auth";
      } else if (t == "apikey" || t == "api-key") {
        t = "api_key";
      }
      if (t != "oauth2" && t != "basic_auth" && t != "api_key") {
        Error(types, name + ": unknown security type \"" + type +
                         "\" (expected oauth2, basic_auth, api_key)");
        return std::nullopt;
      }
      if (std::find(security.types.begin(), security.types.end(), t) == security.types.end()) {
        security.types.push_back(t);
      }
    }
  }
  const Located optional = value["optional"];
  if (optional.node.IsDefined()) {
    auto flag = BoolValue(optional.node);
    if (!flag) {
      Error(optional, name + ": optional must be true or false");
      return std::nullopt;
    }
    security.optional = *flag;
  }
  for (const auto& member : value.node) {
    auto key = ScalarText(member.first).value_or("");
    if (key != "security-types" && key != "securityTypes" && key != "optional" &&
        !StartsWith(key, "x-")) {
      Error({member.first, value.document}, name + ": unknown field \"" + key + "\"");
    }
  }
  return security;
}

std::string ApiReader::ReadTier(const Located& owner, const std::string& level) {
  std::string name;
  Located value = Extension(owner, "throttling-tier", &name);
  if (!value.node.IsDefined()) {
    value = owner["x-throttling-tier"];
    name = "x-throttling-tier";
  }
  if (!value.node.IsDefined()) {
    return {};
  }
  auto tier = ScalarText(value.node);
  if (!tier || tier->empty()) {
    Error(value, name + " must be the name of a policy");
    return {};
  }
  draft_.tiers.push_back({*tier, level, value.Location()});
  return *tier;
}

std::optional<bool> ApiReader::ReadMockFlag(const Located& owner) {
  std::string name;
  const Located value = Extension(owner, "mock", &name);
  if (!value.node.IsDefined()) {
    return std::nullopt;
  }
  auto flag = BoolValue(value.node);
  if (!flag) {
    Error(value, name + " must be true or false");
    return std::nullopt;
  }
  return flag;
}

void ApiReader::ReadApiExtensions() {
  const Located root = Root();
  CheckExtensionNames(root);

  std::string name;
  const Located base_path = Extension(root, "basePath", &name);
  if (base_path.node.IsDefined()) {
    auto text = ScalarText(base_path.node);
    if (!text || text->empty()) {
      Error(base_path, name + " must be a path such as /petstore/v1");
    } else {
      std::string path = *text;
      const std::string placeholder = "{version}";
      for (auto at = path.find(placeholder); at != std::string::npos; at = path.find(placeholder)) {
        path.replace(at, placeholder.size(), draft_.api.version);
      }
      if (path.find_first_of("{}?# \t") != std::string::npos) {
        Error(base_path, name + " \"" + *text +
                             "\" may not contain '{', '}', '?', '#' or spaces (only {version} is "
                             "replaced)");
      }
      draft_.api.base_path = NormaliseBasePath(path);
      draft_.base_path_location = base_path.Location();
    }
  } else if (major_ == 3 && draft_.api.base_path == "/" && !root["servers"].node.IsDefined()) {
    Warning(root, "no x-wso2-basePath and no servers: the API is served at /");
  }

  const Located transports = Extension(root, "transports", &name);
  if (transports.node.IsDefined()) {
    auto list = StringList(transports.node);
    if (!list || list->empty()) {
      Error(transports, name + " must be a list of http, https");
    } else {
      for (auto transport : *list) {
        transport = Lower(transport);
        if (transport != "http" && transport != "https") {
          Error(transports, name + ": unknown transport \"" + transport + "\"");
        } else if (std::find(draft_.api.transports.begin(), draft_.api.transports.end(),
                             transport) == draft_.api.transports.end()) {
          draft_.api.transports.push_back(transport);
        }
      }
      std::sort(draft_.api.transports.begin(), draft_.api.transports.end());
    }
  }
  if (draft_.api.transports.empty()) {
    draft_.api.transports = {"http", "https"};
  }

  const Located auth_header = Extension(root, "auth-header", &name);
  if (auth_header.node.IsDefined()) {
    auto text = ScalarText(auth_header.node);
    if (!text || !base::IsToken(*text)) {
      Error(auth_header, name + " must be an HTTP header name");
    } else {
      draft_.api.auth_header = *text;
    }
  }

  const Located cors = Extension(root, "cors", &name);
  if (cors.node.IsDefined()) {
    if (!cors.node.IsMap()) {
      Error(cors, name + " must be a map");
    } else {
      bundle::Cors& out = draft_.api.cors;
      out.enabled = true;
      out.allow_origins = {"*"};
      out.allow_headers = {"authorization", "Access-Control-Allow-Origin", "Content-Type",
                           "SOAPAction"};
      out.allow_methods = {"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"};
      struct ListKey {
        const char* dashed;
        const char* camel;
        const char* snake;
        std::vector<std::string>* target;
      };
      const ListKey lists[] = {
          {"access-control-allow-origins", "accessControlAllowOrigins",
           "access_control_allow_origins", &out.allow_origins},
          {"access-control-allow-headers", "accessControlAllowHeaders",
           "access_control_allow_headers", &out.allow_headers},
          {"access-control-allow-methods", "accessControlAllowMethods",
           "access_control_allow_methods", &out.allow_methods},
          {"access-control-expose-headers", "accessControlExposeHeaders",
           "access_control_expose_headers", &out.expose_headers},
      };
      std::set<std::string> known;
      for (const auto& key : lists) {
        known.insert({key.dashed, key.camel, key.snake});
        for (const char* spelling : {key.dashed, key.camel, key.snake}) {
          const Located value = cors[spelling];
          if (!value.node.IsDefined()) {
            continue;
          }
          auto list = StringList(value.node);
          if (!list) {
            Error(value, name + ": " + spelling + " must be a list of strings");
          } else {
            *key.target = *list;
          }
        }
      }
      for (const char* spelling : {"access-control-allow-credentials",
                                   "accessControlAllowCredentials",
                                   "access_control_allow_credentials"}) {
        known.insert(spelling);
        const Located value = cors[spelling];
        if (value.node.IsDefined()) {
          auto flag = BoolValue(value.node);
          if (!flag) {
            Error(value, name + ": " + spelling + " must be true or false");
          } else {
            out.allow_credentials = *flag;
          }
        }
      }
      for (const char* spelling : {"cors-configuration-enabled", "corsConfigurationEnabled",
                                   "cors_configuration_enabled"}) {
        known.insert(spelling);
        const Located value = cors[spelling];
        if (value.node.IsDefined()) {
          auto flag = BoolValue(value.node);
          if (!flag) {
            Error(value, name + ": " + spelling + " must be true or false");
          } else {
            out.enabled = *flag;
          }
        }
      }
      for (const auto& member : cors.node) {
        auto key = ScalarText(member.first).value_or("");
        if (!known.contains(key) && !StartsWith(key, "x-")) {
          std::string message = name + ": unknown field \"" + key + "\"";
          std::vector<std::string> candidates(known.begin(), known.end());
          if (auto hint = base::ClosestMatch(key, candidates); !hint.empty()) {
            message += "; did you mean \"" + hint + "\"?";
          }
          Error({member.first, &document_}, message);
        }
      }
      if (out.allow_credentials &&
          std::find(out.allow_origins.begin(), out.allow_origins.end(), "*") !=
              out.allow_origins.end()) {
        Warning(cors, name + ": credentials with origin \"*\": the gateway answers with the "
                             "request's own Origin, as browsers require");
      }
    }
  }

  draft_.api.throttling_tier = ReadTier(root, "API");
  api_security_disabled_ = ReadDisableSecurity(root).value_or(false);
  api_app_security_ = ReadApplicationSecurity(root);
  api_mock_ = ReadMockFlag(root).value_or(false);
  api_security_ = root["security"];
}

void ApiReader::ReadEndpointDefinitions() {
  std::string name;
  const Located endpoints = Extension(Root(), "endpoints", &name);
  if (!endpoints.node.IsDefined()) {
    return;
  }
  auto add = [&](const std::string& key, const Located& value, const Located& at) {
    if (key.empty()) {
      Error(at, name + ": an endpoint needs a name");
      return;
    }
    if (!named_endpoints_.emplace(key, value).second) {
      Error(at, name + ": endpoint \"" + key + "\" is defined twice");
    }
  };
  if (endpoints.node.IsSequence()) {
    for (const auto& element : endpoints.node) {
      const Located item{element, &document_};
      if (!element.IsMap() || element.size() != 1) {
        Error(item, name + ": each entry must be a single \"<name>: {urls: [...]}\" map");
        continue;
      }
      for (const auto& member : element) {
        add(ScalarText(member.first).value_or(""), {member.second, &document_},
            {member.first, &document_});
      }
    }
  } else if (endpoints.node.IsMap()) {
    for (const auto& member : endpoints.node) {
      add(ScalarText(member.first).value_or(""), {member.second, &document_},
          {member.first, &document_});
    }
  } else {
    Error(endpoints, name + " must be a list of \"<name>: {urls: [...]}\" entries");
  }
}

std::optional<std::string> CheckEndpointUrlImpl(const std::string& url) {
  if (url.rfind("etcd(", 0) == 0) {
    return "url \"" + url + "\": etcd service discovery is not supported; use a URL and "
           "override it at start (--endpoints.<name>.production.0=URL)";
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return "url \"" + url + "\" is not a valid http(s) URL";
  }
  const std::string scheme = Lower(std::string(parsed->scheme()));
  if (scheme != "http" && scheme != "https") {
    return "url \"" + url + "\" is not a valid http(s) URL";
  }
  if (!parsed->has_authority() || parsed->host().empty()) {
    return "url \"" + url + "\" has no host";
  }
  if (parsed->has_port() && (parsed->port_number() == 0 || parsed->port().size() > 5)) {
    return "url \"" + url + "\" has an invalid port";
  }
  if (parsed->has_userinfo()) {
    return "url \"" + url + "\": credentials in the URL are not allowed; use securityConfig";
  }
  if (parsed->has_fragment()) {
    return "url \"" + url + "\" has a fragment";
  }
  return std::nullopt;
}

std::optional<bundle::EndpointGroup> ApiReader::ReadEndpointObject(const Located& value,
                                                                   const std::string& what) {
  if (!value.node.IsMap()) {
    Error(value, what + " must be a map with urls (or a \"#/x-wso2-endpoints/<name>\" reference)");
    return std::nullopt;
  }
  bundle::EndpointGroup group;
  bool ok = true;
  static const std::vector<std::string> known = {"urls", "type", "securityConfig",
                                                 "advanceEndpointConfig", "tls"};
  for (const auto& member : value.node) {
    auto key = ScalarText(member.first).value_or("");
    if (std::find(known.begin(), known.end(), key) == known.end() && !StartsWith(key, "x-")) {
      std::string message = what + ": unknown field \"" + key + "\"";
      if (auto hint = base::ClosestMatch(key, known); !hint.empty()) {
        message += "; did you mean \"" + hint + "\"?";
      }
      Error({member.first, value.document}, message);
      ok = false;
    }
  }
  const Located urls = value["urls"];
  auto list = StringList(urls.node);
  if (!list || list->empty()) {
    Error(urls.node.IsDefined() ? urls : value, what + ": urls must be a non-empty list of URLs");
    ok = false;
  } else {
    std::size_t index = 0;
    for (const auto& url : *list) {
      const YAML::Node& sequence = urls.node;
      const Located at{sequence[index++], urls.document};
      if (auto problem = CheckEndpointUrlImpl(url)) {
        Error(at, what + ": " + *problem);
        ok = false;
      } else {
        std::string trimmed = url;
        while (trimmed.size() > 1 && trimmed.back() == '/' &&
               trimmed.find("://") + 3 < trimmed.size() - 1) {
          trimmed.pop_back();
        }
        group.urls.push_back(trimmed);
      }
    }
  }
  const Located type = value["type"];
  if (type.node.IsDefined()) {
    auto text = ScalarText(type.node);
    if (!text || (*text != "http" && *text != "load_balance" && *text != "failover")) {
      Error(type, what + ": type must be http, load_balance or failover");
      ok = false;
    } else {
      group.type = *text;
    }
  }
  if (group.type.empty() || (group.type == "http" && group.urls.size() > 1)) {
    group.type = group.urls.size() > 1 ? "load_balance" : "http";
  }
  if (group.urls.size() == 1) {
    group.type = "http";
  }
  const Located security = value["securityConfig"];
  if (security.node.IsDefined()) {
    auto type_text = ScalarText(security["type"].node).value_or("basic");
    auto username = ScalarText(security["username"].node);
    if (!security.node.IsMap() || Lower(type_text) != "basic" || !username || username->empty()) {
      Error(security, what + ": securityConfig must be {type: basic, username, password}");
      ok = false;
    } else {
      group.security = bundle::BackendSecurity{"basic", *username,
                                               ScalarText(security["password"].node).value_or("")};
    }
  }
  const Located tls = value["tls"];
  if (tls.node.IsDefined()) {
    auto verify = BoolValue(tls["verify"].node);
    if (!tls.node.IsMap() || !verify || tls.node.size() != 1) {
      Error(tls, what + ": tls must be {verify: true|false}");
      ok = false;
    } else {
      group.tls_verify = *verify;
    }
  }
  const Located advance = value["advanceEndpointConfig"];
  if (advance.node.IsDefined()) {
    if (!advance.node.IsMap()) {
      Error(advance, what + ": advanceEndpointConfig must be a map");
      return std::nullopt;
    }
    auto positive_int = [&](const Located& at, const std::string& field, std::int64_t min,
                            std::int64_t& out) {
      if (!at.node.IsDefined()) {
        return;
      }
      auto v = IntValue(at.node);
      if (!v || *v < min) {
        Error(at, what + ": " + field + " must be an integer >= " + std::to_string(min));
        ok = false;
      } else {
        out = *v;
      }
    };
    auto status_codes = [&](const Located& at, const std::string& field, std::vector<int>& out) {
      if (!at.node.IsDefined()) {
        return;
      }
      bool good = at.node.IsSequence();
      if (good) {
        for (const auto& element : at.node) {
          auto code = IntValue(element);
          if (!code || *code < 100 || *code > 599) {
            good = false;
            break;
          }
          out.push_back(static_cast<int>(*code));
        }
      }
      if (!good) {
        Error(at, what + ": " + field + " must be a list of HTTP status codes");
        ok = false;
      }
    };
    auto check_keys = [&](const Located& object, const std::vector<std::string>& keys,
                          const std::string& object_name) {
      if (!object.node.IsMap()) {
        if (object.node.IsDefined()) {
          Error(object, what + ": " + object_name + " must be a map");
          ok = false;
        }
        return;
      }
      for (const auto& member : object.node) {
        auto key = ScalarText(member.first).value_or("");
        if (std::find(keys.begin(), keys.end(), key) == keys.end() && !StartsWith(key, "x-")) {
          std::string message = what + ": " + object_name + ": unknown field \"" + key + "\"";
          if (auto hint = base::ClosestMatch(key, keys); !hint.empty()) {
            message += "; did you mean \"" + hint + "\"?";
          }
          Error({member.first, object.document}, message);
          ok = false;
        }
      }
    };
    check_keys(advance, {"timeoutInMillis", "retryConfig", "circuitBreaker", "poolConfig"},
               "advanceEndpointConfig");
    positive_int(advance["timeoutInMillis"], "timeoutInMillis", 1, group.timeout_ms);
    const Located retry = advance["retryConfig"];
    check_keys(retry, {"count", "intervalInMillis", "backOffFactor", "maxWaitIntervalInMillis",
                       "statusCodes"},
               "retryConfig");
    if (retry.node.IsMap()) {
      std::int64_t count = 0;
      positive_int(retry["count"], "retryConfig.count", 0, count);
      group.retry.count = static_cast<int>(std::min<std::int64_t>(count, 100));
      positive_int(retry["intervalInMillis"], "retryConfig.intervalInMillis", 0,
                   group.retry.interval_ms);
      positive_int(retry["maxWaitIntervalInMillis"], "retryConfig.maxWaitIntervalInMillis", 0,
                   group.retry.max_wait_interval_ms);
      if (retry["backOffFactor"].node.IsDefined()) {
        auto factor = NumberValue(retry["backOffFactor"].node);
        if (!factor || *factor < 0) {
          Error(retry["backOffFactor"], what + ": retryConfig.backOffFactor must be a number >= 0");
          ok = false;
        } else {
          group.retry.back_off_factor = *factor == 0 ? 1.0 : *factor;
        }
      }
      status_codes(retry["statusCodes"], "retryConfig.statusCodes", group.retry.status_codes);
    }
    const Located breaker = advance["circuitBreaker"];
    check_keys(breaker, {"rollingWindow", "failureThreshold", "resetTimeInMillis", "statusCodes"},
               "circuitBreaker");
    if (breaker.node.IsMap()) {
      auto& cb = group.circuit_breaker;
      cb.enabled = true;
      const Located window = breaker["rollingWindow"];
      check_keys(window, {"requestVolumeThreshold", "timeWindowInMillis", "bucketSizeInMillis"},
                 "rollingWindow");
      if (window.node.IsMap()) {
        std::int64_t threshold = cb.request_volume_threshold;
        positive_int(window["requestVolumeThreshold"], "requestVolumeThreshold", 1, threshold);
        cb.request_volume_threshold = static_cast<int>(std::min<std::int64_t>(threshold, 1 << 20));
        positive_int(window["timeWindowInMillis"], "timeWindowInMillis", 1, cb.time_window_ms);
      }
      if (breaker["failureThreshold"].node.IsDefined()) {
        auto threshold = NumberValue(breaker["failureThreshold"].node);
        if (!threshold || *threshold < 0 || *threshold > 1) {
          Error(breaker["failureThreshold"], what + ": failureThreshold must be between 0 and 1");
          ok = false;
        } else {
          cb.failure_threshold = *threshold;
        }
      }
      positive_int(breaker["resetTimeInMillis"], "resetTimeInMillis", 0, cb.reset_time_ms);
      status_codes(breaker["statusCodes"], "circuitBreaker.statusCodes", cb.status_codes);
    }
  }
  if (!ok) {
    return std::nullopt;
  }
  return group;
}

std::string ApiReader::AddGroup(bundle::EndpointGroup group, const SourceLocation& location) {
  group.id = group.name + "." + group.environment;
  for (const auto& existing : draft_.endpoint_groups) {
    if (existing.group.id == group.id) {
      return group.id;  // the same definition used by several resources
    }
  }
  draft_.endpoint_groups.push_back({group, location});
  return group.id;
}

std::string ApiReader::ReadEndpoints(const Located& value, const std::string& extension_name,
                                     const std::string& environment,
                                     const std::string& inline_name) {
  if (auto reference = ScalarText(value.node)) {
    const std::string prefix = "#/x-wso2-endpoints/";
    const std::string alt_prefix = "#/x-mgw-endpoints/";
    std::string name;
    if (StartsWith(*reference, prefix)) {
      name = reference->substr(prefix.size());
    } else if (StartsWith(*reference, alt_prefix)) {
      name = reference->substr(alt_prefix.size());
    } else {
      Error(value, extension_name + ": \"" + *reference +
                       "\" is not a reference of the form \"#/x-wso2-endpoints/<name>\"");
      return {};
    }
    auto it = named_endpoints_.find(name);
    if (it == named_endpoints_.end()) {
      std::vector<std::string> names;
      for (const auto& [known, unused] : named_endpoints_) {
        names.push_back(known);
      }
      std::string message = extension_name + ": unknown endpoint reference \"" + name + "\"";
      if (auto hint = base::ClosestMatch(name, names); !hint.empty()) {
        message += "; did you mean \"" + hint + "\"?";
      }
      Error(value, message);
      return {};
    }
    auto group = ReadEndpointObject(it->second, "x-wso2-endpoints " + name);
    if (!group) {
      return {};
    }
    group->name = name;
    group->environment = environment;
    return AddGroup(std::move(*group), it->second.Location());
  }
  auto group = ReadEndpointObject(value, extension_name);
  if (!group) {
    return {};
  }
  group->name = inline_name;
  group->environment = environment;
  return AddGroup(std::move(*group), value.Location());
}

std::optional<bundle::Security> ApiReader::ReadSecurityRequirements(const Located& requirements,
                                                                    bool* optional) {
  if (!requirements.node.IsDefined() || requirements.node.IsNull()) {
    return std::nullopt;
  }
  if (!requirements.node.IsSequence()) {
    Error(requirements, "security must be a list of security requirements");
    return std::nullopt;
  }
  if (requirements.node.size() == 0) {
    return std::nullopt;  // WSO2: an empty list inherits; use x-wso2-disable-security to disable
  }
  bundle::Security security;
  for (const auto& element : requirements.node) {
    const Located requirement{element, requirements.document};
    if (!element.IsMap()) {
      Error(requirement, "a security requirement must be a map of scheme name to scopes");
      continue;
    }
    if (element.size() == 0) {
      *optional = true;  // {} : anonymous access is one of the alternatives
      continue;
    }
    for (const auto& member : element) {
      const std::string name = ScalarText(member.first).value_or("");
      auto it = schemes_.find(name);
      if (it == schemes_.end()) {
        std::vector<std::string> names;
        for (const auto& [known, unused] : schemes_) {
          names.push_back(known);
        }
        std::string message = "security requirement names an undefined scheme \"" + name +
                              "\"; it is treated as OAuth2";
        if (auto hint = base::ClosestMatch(name, names); !hint.empty()) {
          message += " (did you mean \"" + hint + "\"?)";
        }
        Warning({member.first, requirements.document}, message);
        it = schemes_.emplace(name, SchemeInfo{"oauth2", {}}).first;
      }
      const SchemeInfo& scheme = it->second;
      if (scheme.type.empty()) {
        continue;  // unsupported scheme, already warned about
      }
      if (std::find(security.types.begin(), security.types.end(), scheme.type) ==
          security.types.end()) {
        security.types.push_back(scheme.type);
      }
      if (scheme.type == "api_key") {
        const bool known = std::any_of(security.api_keys.begin(), security.api_keys.end(),
                                       [&](const auto& k) {
                                         return k.in == scheme.key.in && k.name == scheme.key.name;
                                       });
        if (!known) {
          security.api_keys.push_back(scheme.key);
        }
      }
      auto scopes = StringList(member.second);
      if (!scopes) {
        Error({member.second, requirements.document}, "the scopes of \"" + name + "\" must be a list");
        continue;
      }
      for (const auto& scope : *scopes) {
        if (std::find(security.scopes.begin(), security.scopes.end(), scope) ==
            security.scopes.end()) {
          security.scopes.push_back(scope);
        }
      }
    }
  }
  return security;
}

void ApiReader::CheckExampleExclusive(const Located& object, const std::string& what) {
  if (object["example"].node.IsDefined() && object["examples"].node.IsDefined()) {
    Error(object["examples"], what + ": example and examples are mutually exclusive");
  }
}

void ApiReader::CheckSchema(const Located& schema) {
  if (!schema.node.IsDefined()) {
    return;
  }
  if (schema.node.IsMap()) {
    return;
  }
  if (major_ == 3 && minor_ == 1 && BoolValue(schema.node).has_value()) {
    return;
  }
  Error(schema, major_ == 3 && minor_ == 1 ? "a schema must be an object or a boolean"
                                           : "a schema must be an object");
}

void ApiReader::CheckParameter(const Located& value) {
  auto resolved = Resolve(value);
  if (!resolved) {
    return;
  }
  const Located& p = *resolved;
  if (!p.node.IsMap()) {
    Error(p, "a parameter must be a map");
    return;
  }
  auto name = ScalarText(p["name"].node);
  auto in = ScalarText(p["in"].node);
  if (!name) {
    Error(p, "a parameter needs a name");
  }
  static const std::set<std::string> kIn2 = {"query", "header", "path", "formData", "body"};
  static const std::set<std::string> kIn3 = {"query", "header", "path", "cookie"};
  if (!in || !(major_ == 2 ? kIn2 : kIn3).contains(*in)) {
    Error(p["in"].node.IsDefined() ? p["in"] : p,
          "parameter \"" + name.value_or("") + "\": in must be one of " +
              (major_ == 2 ? "query, header, path, formData, body" : "query, header, path, cookie"));
    return;
  }
  if (major_ == 2) {
    return;
  }
  CheckExampleExclusive(p, "parameter \"" + name.value_or("") + "\"");
  if (*in == "path") {
    auto required = BoolValue(p["required"].node);
    if (!required || !*required) {
      Warning(p, "path parameter \"" + name.value_or("") + "\" should say required: true");
    }
  }
  if (p["allowReserved"].node.IsDefined() && *in != "query") {
    Error(p["allowReserved"], "parameter \"" + name.value_or("") +
                                  "\": allowReserved applies only to query parameters");
  }
  if (auto style = ScalarText(p["style"].node)) {
    static const std::map<std::string, std::set<std::string>> kStyles = {
        {"path", {"matrix", "label", "simple"}},
        {"query", {"form", "spaceDelimited", "pipeDelimited", "deepObject"}},
        {"header", {"simple"}},
        {"cookie", {"form"}}};
    if (!kStyles.at(*in).contains(*style)) {
      Error(p["style"], "parameter \"" + name.value_or("") + "\": style \"" + *style +
                            "\" is not allowed for " + *in + " parameters");
    }
  }
  if (p["schema"].node.IsDefined()) {
    CheckSchema(p["schema"]);
  }
  if (p["content"].node.IsDefined()) {
    CheckMediaTypes(p["content"]);
  }
}

void ApiReader::CheckHeader(const Located& value) {
  auto resolved = Resolve(value);
  if (!resolved) {
    return;
  }
  const Located& h = *resolved;
  if (!h.node.IsMap()) {
    Error(h, "a header must be a map");
    return;
  }
  if (major_ == 3) {
    CheckExampleExclusive(h, "header");
    if (h["allowReserved"].node.IsDefined()) {
      Error(h["allowReserved"], "allowReserved is not allowed in a header object");
    }
    if (h["name"].node.IsDefined() || h["in"].node.IsDefined()) {
      Error(h, "a header object must not have name or in");
    }
  }
}

void ApiReader::CheckLink(const Located& value) {
  auto resolved = Resolve(value);
  if (!resolved) {
    return;
  }
  static const std::vector<std::string> kKeys = {"operationRef", "operationId", "parameters",
                                                 "requestBody",  "description", "server"};
  if (!resolved->node.IsMap()) {
    Error(*resolved, "a link must be a map");
    return;
  }
  for (const auto& member : resolved->node) {
    auto key = ScalarText(member.first).value_or("");
    if (!StartsWith(key, "x-") && std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::string message = "link: unknown field \"" + key + "\"";
      if (auto hint = base::ClosestMatch(key, kKeys); !hint.empty()) {
        message += "; did you mean \"" + hint + "\"?";
      }
      Error({member.first, resolved->document}, message);
    }
  }
}

void ApiReader::CheckMediaTypes(const Located& content) {
  if (!content.node.IsDefined()) {
    return;
  }
  if (!content.node.IsMap()) {
    Error(content, "content must be a map of media types");
    return;
  }
  for (const auto& member : content.node) {
    const Located media{member.second, content.document};
    if (!media.node.IsMap()) {
      if (!media.node.IsNull()) {
        Error(media, "a media type object must be a map");
      }
      continue;
    }
    CheckExampleExclusive(media, "media type " + ScalarText(member.first).value_or(""));
    if (media["schema"].node.IsDefined()) {
      CheckSchema(media["schema"]);
    }
  }
}

void ApiReader::CheckComponents() {
  if (major_ != 3) {
    return;
  }
  const Located components = Root()["components"];
  if (!components.node.IsDefined()) {
    return;
  }
  if (!components.node.IsMap()) {
    Error(components, "components must be a map");
    return;
  }
  auto each = [&](const char* section, auto&& check) {
    const Located map = components[section];
    if (!map.node.IsDefined()) {
      return;
    }
    if (!map.node.IsMap()) {
      Error(map, std::string("components.") + section + " must be a map");
      return;
    }
    for (const auto& member : map.node) {
      check(Located{member.second, &document_});
    }
  };
  each("schemas", [&](const Located& schema) { CheckSchema(schema); });
  each("parameters", [&](const Located& p) { CheckParameter(p); });
  each("headers", [&](const Located& h) { CheckHeader(h); });
  each("links", [&](const Located& l) { CheckLink(l); });
  each("requestBodies", [&](const Located& body) {
    if (auto resolved = Resolve(body)) {
      CheckMediaTypes((*resolved)["content"]);
    }
  });
  each("responses", [&](const Located& response) {
    if (auto resolved = Resolve(response)) {
      CheckMediaTypes((*resolved)["content"]);
    }
  });
}

std::optional<std::string> CheckPathTemplateImpl(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return "path \"" + path + "\" must start with '/'";
  }
  std::set<std::string> names;
  std::size_t i = 0;
  while (i < path.size()) {
    const char c = path[i];
    if (c == '{') {
      const auto close = path.find('}', i);
      if (close == std::string::npos) {
        return "path \"" + path + "\": '{' without a matching '}'";
      }
      const std::string name = path.substr(i + 1, close - i - 1);
      if (name.empty()) {
        return "path \"" + path + "\": empty parameter name";
      }
      for (const char n : name) {
        if (std::isalnum(static_cast<unsigned char>(n)) == 0 && n != '-' && n != '_' && n != '.' &&
            n != '$' && n != '@' && n != '~') {
          return "path \"" + path + "\": parameter name \"" + name + "\" contains '" + n + "'";
        }
      }
      if (!names.insert(name).second) {
        return "path \"" + path + "\": parameter \"" + name + "\" appears twice";
      }
      if (close + 1 < path.size() && path[close + 1] == '{') {
        return "path \"" + path + "\": two parameters with nothing between them cannot be told "
               "apart";
      }
      i = close + 1;
      continue;
    }
    if (c == '}') {
      return "path \"" + path + "\": '}' without a matching '{'";
    }
    if (c == '?' || c == '#' || c == ' ' || static_cast<unsigned char>(c) < 0x20) {
      return "path \"" + path + "\" contains a character not allowed in a path";
    }
    if (c == '*' && !(i + 1 == path.size() && i > 0 && path[i - 1] == '/')) {
      return "path \"" + path + "\": '*' is allowed only as the whole last segment (/*)";
    }
    ++i;
  }
  return std::nullopt;
}

// "/pets/{petId}" and "/pets/{id}" are the same route.
std::string RouteShape(const std::string& path) {
  std::string out;
  bool in_param = false;
  for (const char c : path) {
    if (c == '{') {
      in_param = true;
      out += "{}";
    } else if (c == '}') {
      in_param = false;
    } else if (!in_param) {
      out += c;
    }
  }
  while (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  return out;
}

std::vector<bundle::MockResponse> ApiReader::ReadMockResponses(const Located& responses) {
  std::vector<bundle::MockResponse> out;
  if (!responses.node.IsMap()) {
    return out;
  }
  struct Candidate {
    int status;
    int order;
    Located response;
  };
  std::vector<Candidate> candidates;
  int order = 0;
  for (const auto& member : responses.node) {
    const std::string code = ScalarText(member.first).value_or("");
    int status = 0;
    if (code == "default") {
      status = 0;
    } else if (code.size() == 3 && std::all_of(code.begin(), code.end(), ::isdigit)) {
      status = std::stoi(code);
    } else if (code.size() == 3 && (code[1] == 'X' || code[1] == 'x')) {
      status = (code[0] - '0') * 100;
    } else {
      continue;
    }
    candidates.push_back({status, order++, {member.second, responses.document}});
  }
  // 2xx first (lowest code), then "default" (answered as 200), then the rest by code.
  auto rank = [](int status) {
    if (status >= 200 && status < 300) {
      return 0;
    }
    if (status == 0) {
      return 1;
    }
    return 2;
  };
  std::stable_sort(candidates.begin(), candidates.end(), [&](const auto& a, const auto& b) {
    if (rank(a.status) != rank(b.status)) {
      return rank(a.status) < rank(b.status);
    }
    return a.status < b.status;
  });
  for (const auto& candidate : candidates) {
    auto response = Resolve(candidate.response);
    if (!response) {
      continue;
    }
    bundle::MockResponse mock;
    mock.status = candidate.status == 0 ? 200 : candidate.status;
    std::optional<Located> example;
    auto example_of = [&](const Located& holder) -> std::optional<Located> {
      if (holder["example"].node.IsDefined()) {
        return holder["example"];
      }
      const Located examples = holder["examples"];
      if (examples.node.IsMap()) {
        for (const auto& item : examples.node) {
          auto resolved = Resolve({item.second, examples.document});
          if (resolved && (*resolved)["value"].node.IsDefined()) {
            return (*resolved)["value"];
          }
        }
      }
      if (holder["schema"].node.IsDefined()) {
        if (auto schema = Resolve(holder["schema"]); schema && (*schema)["example"].node.IsDefined()) {
          return (*schema)["example"];
        }
      }
      return std::nullopt;
    };
    if (major_ == 2) {
      const Located examples = (*response)["examples"];
      if (examples.node.IsMap()) {
        for (const auto& item : examples.node) {
          mock.content_type = ScalarText(item.first).value_or("application/json");
          example = Located{item.second, examples.document};
          if (mock.content_type.find("json") != std::string::npos) {
            break;
          }
        }
      }
      if (!example && (*response)["schema"].node.IsDefined()) {
        if (auto schema = Resolve((*response)["schema"]);
            schema && (*schema)["example"].node.IsDefined()) {
          example = (*schema)["example"];
          mock.content_type = "application/json";
        }
      }
    } else {
      const Located content = (*response)["content"];
      if (content.node.IsMap()) {
        // Prefer a JSON media type with an example, then any media type with one.
        for (int pass = 0; pass < 2 && !example; ++pass) {
          for (const auto& item : content.node) {
            const std::string type = ScalarText(item.first).value_or("");
            if (pass == 0 && type.find("json") == std::string::npos) {
              continue;
            }
            if (auto found = example_of({item.second, content.document})) {
              example = found;
              mock.content_type = type;
              break;
            }
          }
        }
        if (!example && content.node.size() > 0) {
          mock.content_type = ScalarText(content.node.begin()->first).value_or("");
        }
      }
    }
    if (example) {
      auto resolved = Resolve(*example);
      if (resolved) {
        std::optional<std::string> text;
        if (resolved->node.IsScalar() && mock.content_type.find("json") == std::string::npos) {
          if (const auto value = YamlToJson(resolved->node); value.is_string()) {
            text = std::string(value.get_string());
          }
        }
        mock.body = text ? *text : YamlToJsonText(resolved->node);
      }
      if (mock.content_type.empty()) {
        mock.content_type = "application/json";
      }
    }
    out.push_back(std::move(mock));
  }
  return out;
}

std::string OperationName(const std::string& operation_id, const std::string& method,
                          const std::string& path) {
  if (!operation_id.empty()) {
    return operation_id;
  }
  return Upper(method) + "_" + path;
}

void ApiReader::ReadOperation(const std::string& path, const std::string& method,
                              const Located& operation,
                              const std::vector<Located>& path_parameters) {
  if (!operation.node.IsMap()) {
    Error(operation, Upper(method) + " " + path + ": an operation must be a map");
    return;
  }
  CheckExtensionNames(operation);
  bundle::Resource resource;
  resource.method = Upper(method);
  resource.path_template = path;
  resource.operation_id = ScalarText(operation["operationId"].node).value_or("");
  const std::string label = resource.method + " " + path;

  // Structure checks of what the operation carries.
  std::set<std::string> declared_path_params;
  auto note_parameter = [&](const Located& p) {
    CheckParameter(p);
    if (auto resolved = documents_.Resolve(p, diagnostics_)) {
      if (ScalarText((*resolved)["in"].node).value_or("") == "path") {
        declared_path_params.insert(ScalarText((*resolved)["name"].node).value_or(""));
      }
    }
  };
  for (const auto& p : path_parameters) {
    note_parameter(p);
  }
  const Located parameters = operation["parameters"];
  if (parameters.node.IsDefined()) {
    if (!parameters.node.IsSequence()) {
      Error(parameters, label + ": parameters must be a list");
    } else {
      for (const auto& p : parameters.node) {
        note_parameter({p, parameters.document});
      }
    }
  }
  for (std::size_t open = path.find('{'); open != std::string::npos;
       open = path.find('{', open + 1)) {
    const auto close = path.find('}', open);
    if (close == std::string::npos) {
      break;
    }
    const std::string name = path.substr(open + 1, close - open - 1);
    if (!declared_path_params.contains(name)) {
      Warning(operation, label + ": path parameter \"" + name + "\" is not declared");
    }
  }
  if (major_ == 3) {
    if (const Located body = operation["requestBody"]; body.node.IsDefined()) {
      if (auto resolved = Resolve(body)) {
        CheckMediaTypes((*resolved)["content"]);
      }
    }
  }
  const Located responses = operation["responses"];
  if (responses.node.IsDefined() && !responses.node.IsMap()) {
    Error(responses, label + ": responses must be a map");
  } else if (responses.node.IsMap()) {
    for (const auto& member : responses.node) {
      auto response = Resolve({member.second, responses.document});
      if (!response) {
        continue;
      }
      if (major_ == 3) {
        CheckMediaTypes((*response)["content"]);
        if (const Located headers = (*response)["headers"]; headers.node.IsMap()) {
          for (const auto& header : headers.node) {
            CheckHeader({header.second, headers.document});
          }
        }
        if (const Located links = (*response)["links"]; links.node.IsMap()) {
          for (const auto& link : links.node) {
            CheckLink({link.second, links.document});
          }
        }
      }
    }
  }

  // Throttling.
  resource.throttling_tier = ReadTier(operation, "resource");

  // Security.
  bool optional = false;
  std::optional<bundle::Security> security =
      ReadSecurityRequirements(operation["security"], &optional);
  if (!security) {
    security = ReadSecurityRequirements(api_security_, &optional);
  }
  if (!security) {
    security = bundle::Security{};
    security->types = {"oauth2"};  // no security anywhere: OAuth2/JWT (WSO2 behaviour)
  }
  if (auto x_scope = ScalarText(operation["x-scope"].node); x_scope && !x_scope->empty()) {
    security->scopes = {*x_scope};
  }
  auto app_security = ReadApplicationSecurity(operation);
  if (!app_security) {
    app_security = api_app_security_;
  }
  if (app_security) {
    if (!app_security->types.empty()) {
      security->types = app_security->types;
    }
    optional = optional || app_security->optional;
  }
  const bool wants_api_key = std::find(security->types.begin(), security->types.end(),
                                       "api_key") != security->types.end();
  if (wants_api_key && security->api_keys.empty()) {
    // WSO2 default when api_key is required without an apiKey scheme.
    security->api_keys = {{"header", "apikey"}, {"query", "apikey"}};
  }
  if (!wants_api_key) {
    security->api_keys.clear();
  }
  security->optional = optional;
  security->disabled = ReadDisableSecurity(operation).value_or(api_security_disabled_);
  std::sort(security->scopes.begin(), security->scopes.end());
  for (const auto& type : security->types) {
    draft_.uses_basic = draft_.uses_basic || (type == "basic_auth" && !security->disabled);
    draft_.uses_api_key = draft_.uses_api_key || (type == "api_key" && !security->disabled);
    draft_.uses_oauth2 = draft_.uses_oauth2 || (type == "oauth2" && !security->disabled);
  }
  resource.security = std::move(*security);

  // Mock.
  resource.mock = ReadMockFlag(operation).value_or(api_mock_);
  if (resource.mock) {
    resource.mock_responses = ReadMockResponses(responses);
    if (resource.mock_responses.empty()) {
      Warning(operation, label + ": mocked, but the definition has no responses; it will answer "
                                 "200 with an empty body");
      resource.mock_responses.push_back({200, "", "", {}});
    }
  }

  // Endpoints.
  const std::string operation_name = OperationName(resource.operation_id, method, path);
  std::string name;
  const Located production = Extension(operation, "production-endpoints", &name);
  if (production.node.IsDefined()) {
    resource.production_endpoint =
        ReadEndpoints(production, name, "production", id_prefix_ + "_" + operation_name);
  } else {
    resource.production_endpoint = api_production_;
  }
  const Located sandbox = Extension(operation, "sandbox-endpoints", &name);
  if (sandbox.node.IsDefined()) {
    resource.sandbox_endpoint =
        ReadEndpoints(sandbox, name, "sandbox", id_prefix_ + "_" + operation_name);
  } else {
    resource.sandbox_endpoint = api_sandbox_;
  }
  const bool endpoints_failed =
      (production.node.IsDefined() && resource.production_endpoint.empty()) ||
      (sandbox.node.IsDefined() && resource.sandbox_endpoint.empty()) || api_endpoints_failed_;
  if (!resource.mock && resource.production_endpoint.empty() && resource.sandbox_endpoint.empty() &&
      !endpoints_failed) {
    Error(operation, label +
                         " has no endpoint: add servers (with an absolute http(s) URL) or "
                         "x-wso2-production-endpoints to the API or the operation, or mark it "
                         "x-wso2-mock: true");
  }
  draft_.api.resources.push_back(std::move(resource));
}

void ApiReader::ReadPaths() {
  const Located paths = Root()["paths"];
  if (!paths.node.IsMap()) {
    return;
  }
  std::map<std::string, std::string> shapes;  // route shape -> first path with it
  for (const auto& member : paths.node) {
    const Located key{member.first, &document_};
    const std::string written = ScalarText(member.first).value_or("");
    if (StartsWith(written, "x-")) {
      continue;
    }
    // Some real-world definitions tell operations apart with "#variant" or "?query=value" in the
    // path; HTTP routing cannot, so they are routed on the path before it.
    const std::string path = written.substr(0, written.find_first_of("?#"));
    if (path != written) {
      Warning(key, "path \"" + written + "\" is routed as \"" + path +
                       "\" (a path template cannot carry '?' or '#')");
    }
    if (auto problem = CheckPathTemplateImpl(path)) {
      Error(key, *problem);
      continue;
    }
    const std::string shape = RouteShape(path);
    if (auto [it, inserted] = shapes.emplace(shape, written); !inserted) {
      Warning(key, "path \"" + written + "\" is the same route as \"" + it->second +
                       "\"; their operations are merged");
    }
    auto item = Resolve({member.second, &document_});
    if (!item) {
      continue;
    }
    if (item->node.IsNull()) {
      continue;
    }
    if (!item->node.IsMap()) {
      Error(*item, "path item \"" + path + "\" must be a map");
      continue;
    }
    CheckExtensionNames(*item);
    std::vector<Located> path_parameters;
    if (const Located parameters = (*item)["parameters"]; parameters.node.IsDefined()) {
      if (!parameters.node.IsSequence()) {
        Error(parameters, "path item \"" + path + "\": parameters must be a list");
      } else {
        for (const auto& p : parameters.node) {
          path_parameters.push_back({p, item->document});
        }
      }
    }
    static const std::set<std::string> kPathItemKeys = {"$ref", "summary", "description",
                                                        "servers", "parameters"};
    for (const auto& field : item->node) {
      const std::string field_name = ScalarText(field.first).value_or("");
      if (StartsWith(field_name, "x-") || kPathItemKeys.contains(field_name)) {
        continue;
      }
      const auto& methods = HttpMethods();
      if (std::find(methods.begin(), methods.end(), field_name) == methods.end()) {
        Error({field.first, item->document},
              "path item \"" + path + "\": unknown field \"" + field_name + "\"");
        continue;
      }
      if (!routes_.insert(shape + " " + field_name).second) {
        Warning({field.first, item->document},
                Upper(field_name) + " " + written +
                    ": the same route and method are already defined; this operation is ignored");
        continue;
      }
      ReadOperation(path, field_name, {field.second, item->document}, path_parameters);
    }
  }
}

std::optional<ApiDraft> ApiReader::Read() {
  draft_.location = Root().Location();
  draft_.api.source = source_;
  if (!document_.root.IsMap()) {
    Error(Root(), "an OpenAPI definition must be a map");
    return std::nullopt;
  }
  if (!ReadVersion()) {
    return std::nullopt;
  }
  CheckTopLevelKeys();
  if (!ReadInfo()) {
    return std::nullopt;
  }
  ReadServers();
  ReadSecuritySchemes();
  ReadApiExtensions();
  ReadEndpointDefinitions();
  CheckComponents();

  std::string name;
  const Located production = Extension(Root(), "production-endpoints", &name);
  if (production.node.IsDefined()) {
    api_production_ = ReadEndpoints(production, name, "production", id_prefix_);
    api_endpoints_failed_ = api_production_.empty();
  } else if (!server_urls_.empty()) {
    bundle::EndpointGroup group;
    group.name = id_prefix_;
    group.environment = "production";
    group.urls = server_urls_;
    group.type = server_urls_.size() > 1 ? "load_balance" : "http";
    api_production_ = AddGroup(std::move(group), draft_.base_path_location);
  }
  const Located sandbox = Extension(Root(), "sandbox-endpoints", &name);
  if (sandbox.node.IsDefined()) {
    api_sandbox_ = ReadEndpoints(sandbox, name, "sandbox", id_prefix_);
    api_endpoints_failed_ = api_endpoints_failed_ || api_sandbox_.empty();
  }

  ReadPaths();
  std::sort(draft_.api.resources.begin(), draft_.api.resources.end(),
            [](const auto& a, const auto& b) {
              return std::tie(a.path_template, a.method) < std::tie(b.path_template, b.method);
            });
  for (const auto& [extension, places] : unknown_extensions_) {
    diagnostics_.Warning({places.begin()->first, places.begin()->second, 0},
                         "unknown extension " + extension + " is ignored" +
                             (places.size() > 1 ? " (" + std::to_string(places.size()) + " places)"
                                                : std::string()));
  }
  return draft_;
}

}  // namespace

bool IsApiDefinition(const Document& document) {
  return document.root.IsMap() &&
         (Child(document.root, "openapi").IsDefined() || Child(document.root, "swagger").IsDefined());
}

std::optional<ApiDraft> ReadApi(const Document& document, const std::string& source,
                                DocumentSet& documents, base::Diagnostics& diagnostics) {
  ApiReader reader(document, source, documents, diagnostics);
  return reader.Read();
}

std::optional<std::string> CheckPathTemplate(const std::string& path) {
  return CheckPathTemplateImpl(path);
}

std::optional<std::string> CheckEndpointUrl(const std::string& url) {
  return CheckEndpointUrlImpl(url);
}

}  // namespace mgw::project
