// GatewayConfig: everything the workers need, built once at start from the verified bundle, the
// deployment configuration and the overrides, then shared read-only (endpoint group states hold
// the only mutable, thread-safe counters).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "bundle/model.h"
#include "config/config.h"
#include "runtime/endpoint.h"
#include "runtime/router.h"

namespace mgw::runtime {

struct ResourceRoute {
  const bundle::Resource* resource = nullptr;
  int production = -1;  // index into GatewayConfig::groups, -1 = none
  int sandbox = -1;
  std::string label;    // "GET /pets/{petId}" for logs and metrics
  std::string rate_key; // "<basePath>:<version>:<METHOD> <template>" (resource-level counter)
  // The event's API fields, written once (analytics::ApiFieldsJson) when analytics is on.
  std::string analytics_api_json;
};

struct ApiRoute {
  const bundle::Api* api = nullptr;
  bool http = true;
  bool https = true;
  std::vector<ResourceRoute> resources;
  std::string cors_allow_methods;   // joined, precomputed
  std::string cors_allow_headers;
  std::string cors_expose_headers;
  std::string rate_key;  // "<basePath>:<version>" (API-level counter)
};

struct GatewayConfig {
  std::filesystem::path root;  // the distribution folder
  bundle::Model model;
  config::Config config;
  RouteTable routes;
  std::vector<ApiRoute> apis;  // same order as model.apis
  std::vector<std::unique_ptr<EndpointGroupState>> groups;
};

// Endpoint URL overrides: group name (as written or sanitised, any case) + environment + index.
struct EndpointOverride {
  std::string name;
  std::string environment;  // production | sandbox
  std::size_t index = 0;
  std::string url;
  std::string source;  // "--endpoints.x.production.0" or "MGW_ENDPOINTS_X_PRODUCTION_0"
};

// Upper-cases and maps every non-alphanumeric character to '_' (the environment-variable form).
std::string SanitiseName(std::string_view name);

// Parses `--endpoints.<name>.<environment>.<index>=URL` (key without the leading dashes).
base::Result<EndpointOverride> ParseEndpointOverride(const std::string& key, const std::string& url);

// Collects MGW_ENDPOINTS_<NAME>_<ENV>_<I> variables from `environment` for the groups of `model`.
std::vector<EndpointOverride> EndpointOverridesFromEnvironment(
    const bundle::Model& model, const std::map<std::string, std::string>& environment);

base::Result<std::unique_ptr<GatewayConfig>> BuildGatewayConfig(
    std::filesystem::path root, bundle::Model model, config::Config config,
    const std::vector<EndpointOverride>& overrides);

}  // namespace mgw::runtime
