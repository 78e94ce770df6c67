#include "project/project.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <system_error>

#include "base/files.h"
#include "project/credentials.h"
#include "project/documents.h"
#include "project/openapi.h"
#include "project/policies.h"

namespace mgw::project {
namespace {

namespace fs = std::filesystem;
using base::Diagnostics;

bool IsDefinitionFile(const fs::path& path) {
  const std::string extension = path.extension().string();
  return extension == ".yaml" || extension == ".yml" || extension == ".json";
}

bool IsHidden(const fs::path& relative) {
  return std::any_of(relative.begin(), relative.end(),
                     [](const fs::path& part) { return part.string().rfind('.', 0) == 0; });
}

// Reads a file named in mgw.toml, relative to the project root. Reports under `key`.
std::optional<std::string> ReadConfigured(const fs::path& root, const std::string& configured,
                                          const std::string& key, Diagnostics& diagnostics) {
  const fs::path path = fs::path(configured).is_absolute() ? fs::path(configured) : root / configured;
  auto text = base::ReadFile(path);
  if (!text) {
    diagnostics.Error({"mgw.toml", 0, 0}, key + ": cannot read \"" + configured + "\"");
    return std::nullopt;
  }
  return std::move(*text);
}

bool SameGroup(const bundle::EndpointGroup& a, const bundle::EndpointGroup& b) {
  const auto security = [](const bundle::EndpointGroup& g) {
    return g.security ? g.security->username + ":" + g.security->password : std::string();
  };
  return a.type == b.type && a.urls == b.urls && a.timeout_ms == b.timeout_ms &&
         a.tls_verify == b.tls_verify &&
         security(a) == security(b) && a.retry.count == b.retry.count &&
         a.retry.interval_ms == b.retry.interval_ms &&
         a.retry.status_codes == b.retry.status_codes &&
         a.circuit_breaker.enabled == b.circuit_breaker.enabled &&
         a.circuit_breaker.failure_threshold == b.circuit_breaker.failure_threshold &&
         a.circuit_breaker.reset_time_ms == b.circuit_breaker.reset_time_ms;
}

void LoadSecurity(LoadedProject& project, const std::vector<ApiDraft>& drafts,
                  Diagnostics& diagnostics) {
  const auto& auth = project.config.auth;
  auto& security = project.model.security;
  for (const auto& issuer_config : auth.jwt) {
    bundle::JwtIssuer issuer;
    issuer.issuer = issuer_config.issuer;
    issuer.jwks_url = issuer_config.jwks_url;
    issuer.secret_env = issuer_config.secret_env;
    issuer.audience = issuer_config.audience;
    issuer.algorithms = issuer_config.algorithms;
    issuer.validate_subscriptions = issuer_config.validate_subscriptions;
    issuer.consumer_key_claim = issuer_config.consumer_key_claim;
    for (const auto& [remote, local] : issuer_config.claims) {
      issuer.claims.push_back({remote, local});
    }
    if (!issuer_config.certificate.empty()) {
      if (auto pem = ReadConfigured(project.root, issuer_config.certificate, "auth.jwt.certificate",
                                    diagnostics)) {
        if (auto problem = CheckPublicKeyPem(*pem); !problem.empty()) {
          diagnostics.Error(issuer_config.location,
                            "certificate \"" + issuer_config.certificate + "\": " + problem);
        }
        issuer.certificate_pem = std::move(*pem);
      }
    }
    if (!issuer_config.jwks.empty()) {
      if (auto jwks = ReadConfigured(project.root, issuer_config.jwks, "auth.jwt.jwks", diagnostics)) {
        if (auto problem = CheckJwks(*jwks); !problem.empty()) {
          diagnostics.Error(issuer_config.location, "jwks \"" + issuer_config.jwks + "\": " + problem);
        }
        issuer.jwks_json = std::move(*jwks);
      }
    }
    const bool has_hmac = std::any_of(issuer.algorithms.begin(), issuer.algorithms.end(),
                                      [](const auto& a) { return a.rfind("HS", 0) == 0; });
    if (has_hmac && issuer.secret_env.empty()) {
      diagnostics.Error(issuer_config.location,
                        "issuer \"" + issuer.issuer + "\" allows HS* algorithms but has no secret_env");
    }
    security.jwt_issuers.push_back(std::move(issuer));
  }
  std::sort(security.jwt_issuers.begin(), security.jwt_issuers.end(),
            [](const auto& a, const auto& b) { return a.issuer < b.issuer; });

  // Basic users.
  const std::string users_file = auth.basic.users_file;
  const fs::path users_path =
      fs::path(users_file).is_absolute() ? fs::path(users_file) : project.root / users_file;
  std::error_code ec;
  if (!users_file.empty() && fs::exists(users_path, ec)) {
    if (auto text = base::ReadFile(users_path)) {
      security.basic_users = ParseHtpasswd(*text, users_file, diagnostics);
    } else {
      diagnostics.Error({users_file, 0, 0}, text.error().message);
    }
  } else if (users_file != "users.htpasswd") {
    diagnostics.Error({"mgw.toml", 0, 0}, "auth.basic.users_file \"" + users_file + "\" does not exist");
  }

  // API keys.
  if (!auth.api_keys.issuer.empty()) {
    bundle::ApiKeyIssuer issuer;
    issuer.issuer = auth.api_keys.issuer;
    if (auto pem = ReadConfigured(project.root, auth.api_keys.certificate, "auth.api_keys.certificate",
                                  diagnostics)) {
      if (auto problem = CheckPublicKeyPem(*pem); !problem.empty()) {
        diagnostics.Error({"mgw.toml", 0, 0}, "auth.api_keys.certificate: " + problem);
      }
      issuer.certificate_pem = std::move(*pem);
    }
    security.api_key_issuer = std::move(issuer);
  }
  if (!auth.api_keys.keys_file.empty()) {
    if (auto text = ReadConfigured(project.root, auth.api_keys.keys_file, "auth.api_keys.keys_file",
                                   diagnostics)) {
      security.static_api_keys = ParseStaticKeys(*text, auth.api_keys.keys_file, diagnostics);
      for (const auto& key : security.static_api_keys) {
        if (!HasPolicy(project.model.policies.application, key.tier)) {
          diagnostics.Error({auth.api_keys.keys_file, 0, 0},
                            "application \"" + key.application + "\": tier \"" + key.tier +
                                "\" is not defined in applicationPolicies");
        }
      }
    }
  }

  // Server TLS.
  if (const auto& tls = project.config.server.tls) {
    if (auto pem = ReadConfigured(project.root, tls->cert, "server.tls.cert", diagnostics)) {
      if (auto problem = CheckPublicKeyPem(*pem); !problem.empty()) {
        diagnostics.Error({"mgw.toml", 0, 0}, "server.tls.cert \"" + tls->cert + "\": " + problem);
      }
    }
    if (auto pem = ReadConfigured(project.root, tls->key, "server.tls.key", diagnostics)) {
      if (auto problem = CheckPrivateKeyPem(*pem); !problem.empty()) {
        diagnostics.Error({"mgw.toml", 0, 0}, "server.tls.key \"" + tls->key + "\": " + problem);
      }
    }
  }

  // Helpful warnings: security that nothing can satisfy.
  bool basic = false;
  bool api_key = false;
  bool oauth2 = false;
  for (const auto& draft : drafts) {
    basic = basic || draft.uses_basic;
    api_key = api_key || draft.uses_api_key;
    oauth2 = oauth2 || draft.uses_oauth2;
  }
  if (oauth2 && security.jwt_issuers.empty() && auth.introspection.url.empty()) {
    diagnostics.Warning({"mgw.toml", 0, 0},
                        "resources require OAuth2/JWT but no [[auth.jwt]] issuer or "
                        "[auth.introspection] is configured: they will answer 401");
  }
  if (basic && security.basic_users.empty()) {
    diagnostics.Warning({"mgw.toml", 0, 0},
                        "resources accept Basic auth but there are no users (" + users_file + ")");
  }
  if (api_key && !security.api_key_issuer && security.static_api_keys.empty()) {
    diagnostics.Warning({"mgw.toml", 0, 0},
                        "resources accept API keys but [auth.api_keys] has no issuer or keys_file");
  }
}

}  // namespace

bool IsValidProjectName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
         });
}

std::size_t ResourceCount(const bundle::Model& model) {
  std::size_t count = 0;
  for (const auto& api : model.apis) {
    count += api.resources.size();
  }
  return count;
}

LoadedProject LoadProject(const fs::path& root_in, const DefinitionOverlay& overlay,
                          Diagnostics& diagnostics) {
  LoadedProject project;
  std::error_code ec;
  project.root = fs::weakly_canonical(fs::absolute(root_in), ec);
  if (!fs::is_directory(project.root, ec)) {
    diagnostics.Error({root_in.string(), 0, 0}, "not a project folder (it does not exist)");
    return project;
  }

  // mgw.toml
  const fs::path config_path = project.root / "mgw.toml";
  if (fs::exists(config_path, ec)) {
    auto text = base::ReadFile(config_path);
    if (!text) {
      diagnostics.Error({"mgw.toml", 0, 0}, text.error().message);
    } else {
      project.has_config_file = true;
      project.config_text = *text;
      project.config = config::ParseConfig(*text, "mgw.toml", diagnostics);
      config::ValidateConfig(project.config, "mgw.toml", diagnostics);
    }
  } else {
    diagnostics.Warning({"mgw.toml", 0, 0}, "no mgw.toml: using the defaults");
  }
  project.name = project.config.project.name.empty() ? project.root.filename().string()
                                                     : project.config.project.name;
  if (!IsValidProjectName(project.name)) {
    diagnostics.Error({"mgw.toml", 0, 0},
                      "project name \"" + project.name +
                          "\" may contain only letters, digits, '.', '_' and '-' (set [project] "
                          "name)");
  }
  project.model.project_name = project.name;

  // policies.yaml
  const std::string policies_file = project.config.rate_limit.policies;
  const fs::path policies_path = project.root / policies_file;
  if (fs::exists(policies_path, ec)) {
    if (auto text = base::ReadFile(policies_path)) {
      project.model.policies = ParsePolicies(*text, policies_file, diagnostics);
    } else {
      diagnostics.Error({policies_file, 0, 0}, text.error().message);
    }
  } else {
    diagnostics.Warning({policies_file, 0, 0}, "no " + policies_file + ": no rate-limit policies");
  }

  // api_definitions/
  const fs::path definitions_root = project.root / "api_definitions";
  std::map<fs::path, std::string> in_memory;
  std::set<fs::path> files;
  if (fs::is_directory(definitions_root, ec)) {
    for (auto it = fs::recursive_directory_iterator(definitions_root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path relative = fs::relative(it->path(), definitions_root, ec);
      if (IsHidden(relative)) {
        if (it->is_directory(ec)) {
          it.disable_recursion_pending();
        }
        continue;
      }
      if (it->is_regular_file(ec) && IsDefinitionFile(it->path())) {
        files.insert(fs::weakly_canonical(it->path(), ec));
      }
    }
  }
  for (const auto& [relative, text] : overlay) {
    const fs::path path = fs::weakly_canonical(definitions_root / relative, ec);
    in_memory[path] = text;
    files.insert(path);
  }
  DocumentSet documents(project.root, in_memory);
  std::vector<ApiDraft> drafts;
  std::vector<const Document*> fragments;
  for (const auto& path : files) {
    const Document* document = documents.Load(path, diagnostics);
    if (document == nullptr) {
      continue;
    }
    const std::string source = fs::relative(path, definitions_root, ec).generic_string();
    if (!IsApiDefinition(*document)) {
      fragments.push_back(document);
      continue;
    }
    project.definition_files.push_back(source);
    documents.CheckAllReferences(*document, diagnostics);
    if (auto draft = ReadApi(*document, source, documents, diagnostics)) {
      drafts.push_back(std::move(*draft));
    }
  }
  for (const Document* fragment : fragments) {
    if (!documents.ReferencedFiles().contains(fragment->path)) {
      diagnostics.Warning({fragment->label, 0, 0},
                          "not an OpenAPI definition (no openapi or swagger field) and not "
                          "referenced by one: ignored");
    }
  }
  if (files.empty() || project.definition_files.empty()) {
    diagnostics.Error({"api_definitions", 0, 0},
                      "nothing to build: api_definitions/ holds no OpenAPI definition (.yaml, "
                      ".yml or .json); add one with: mgw import " + root_in.string() + " -a FILE");
  }

  // Cross-API checks.
  std::map<std::string, const ApiDraft*> by_identity;
  std::map<std::string, const ApiDraft*> by_base_path;
  std::map<std::string, std::pair<const EndpointGroupDraft*, std::string>> groups;
  for (const auto& draft : drafts) {
    const std::string identity = draft.api.title + ":" + draft.api.version;
    if (auto [it, inserted] = by_identity.emplace(identity, &draft); !inserted) {
      diagnostics.Error(draft.location, "API \"" + draft.api.title + "\" version \"" +
                                            draft.api.version +
                                            "\" is duplicated: it is also defined in "
                                            "api_definitions/" + it->second->api.source);
    }
    if (auto [it, inserted] = by_base_path.emplace(draft.api.base_path, &draft); !inserted) {
      diagnostics.Error(draft.base_path_location,
                        "base path \"" + draft.api.base_path + "\" is also used by api_definitions/" +
                            it->second->api.source + "; set x-wso2-basePath to tell them apart");
    }
    for (const auto& tier : draft.tiers) {
      if (!HasPolicy(project.model.policies.resource, tier.tier)) {
        std::vector<std::string> names;
        for (const auto& p : project.model.policies.resource) {
          names.push_back(p.name);
        }
        std::string message = tier.level + "-level throttling tier \"" + tier.tier +
                              "\" is not defined in resourcePolicies of " + policies_file;
        if (auto hint = base::ClosestMatch(tier.tier, names); !hint.empty()) {
          message += "; did you mean \"" + hint + "\"?";
        }
        diagnostics.Error(tier.location, message);
      }
    }
    for (const auto& group : draft.endpoint_groups) {
      auto [it, inserted] = groups.emplace(group.group.id, std::make_pair(&group, draft.api.source));
      if (inserted) {
        project.model.endpoint_groups.push_back(group.group);
      } else if (!SameGroup(it->second.first->group, group.group)) {
        diagnostics.Error(group.location, "endpoint \"" + group.group.name +
                                              "\" is defined differently in api_definitions/" +
                                              it->second.second +
                                              "; endpoint names are global (they name runtime "
                                              "overrides), so give one of them another name");
      }
    }
  }
  for (auto& draft : drafts) {
    project.model.apis.push_back(std::move(draft.api));
  }
  std::sort(project.model.apis.begin(), project.model.apis.end(),
            [](const auto& a, const auto& b) { return a.base_path < b.base_path; });
  std::sort(project.model.endpoint_groups.begin(), project.model.endpoint_groups.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  LoadSecurity(project, drafts, diagnostics);
  return project;
}

}  // namespace mgw::project
