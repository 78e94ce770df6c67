#include "runtime/gateway_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "analytics/event.h"

namespace mgw::runtime {

std::string SanitiseName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) != 0 ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

base::Result<EndpointOverride> ParseEndpointOverride(const std::string& key, const std::string& url) {
  // endpoints.<name>.<environment>.<index>; the name itself may contain dots.
  const std::string prefix = "endpoints.";
  if (key.rfind(prefix, 0) != 0) {
    return base::MakeError("not an endpoint override: " + key);
  }
  const auto last = key.rfind('.');
  const auto middle = last == std::string::npos || last <= prefix.size()
                          ? std::string::npos
                          : key.rfind('.', last - 1);
  if (middle == std::string::npos || middle < prefix.size()) {
    return base::MakeError("endpoint override \"" + key +
                           "\" must look like endpoints.<name>.production.<index>");
  }
  EndpointOverride out;
  out.name = key.substr(prefix.size(), middle - prefix.size());
  out.environment = key.substr(middle + 1, last - middle - 1);
  const std::string index = key.substr(last + 1);
  auto [ptr, ec] = std::from_chars(index.data(), index.data() + index.size(), out.index);
  if (out.name.empty() || ec != std::errc() || ptr != index.data() + index.size() ||
      (out.environment != "production" && out.environment != "sandbox")) {
    return base::MakeError("endpoint override \"" + key +
                           "\" must look like endpoints.<name>.production.<index> or "
                           "endpoints.<name>.sandbox.<index>");
  }
  out.url = url;
  out.source = "--" + key;
  return out;
}

std::vector<EndpointOverride> EndpointOverridesFromEnvironment(
    const bundle::Model& model, const std::map<std::string, std::string>& environment) {
  std::vector<EndpointOverride> out;
  for (const auto& group : model.endpoint_groups) {
    const std::string prefix = "MGW_ENDPOINTS_" + SanitiseName(group.name) + "_" +
                               SanitiseName(group.environment) + "_";
    for (auto it = environment.lower_bound(prefix);
         it != environment.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      const std::string index = it->first.substr(prefix.size());
      std::size_t value = 0;
      auto [ptr, ec] = std::from_chars(index.data(), index.data() + index.size(), value);
      if (ec != std::errc() || ptr != index.data() + index.size()) {
        continue;
      }
      out.push_back({group.name, group.environment, value, it->second, it->first});
    }
  }
  return out;
}

namespace {

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) {
      out += ", ";
    }
    out += v;
  }
  return out;
}

}  // namespace

base::Result<std::unique_ptr<GatewayConfig>> BuildGatewayConfig(
    std::filesystem::path root, bundle::Model model, config::Config config,
    const std::vector<EndpointOverride>& overrides) {
  auto gateway = std::make_unique<GatewayConfig>();
  gateway->root = std::move(root);
  gateway->model = std::move(model);
  gateway->config = std::move(config);

  // Endpoint groups, with URL overrides applied.
  std::map<std::string, int> group_index;
  for (auto group : gateway->model.endpoint_groups) {
    for (const auto& o : overrides) {
      const bool same_name = o.name == group.name || SanitiseName(o.name) == SanitiseName(group.name);
      if (!same_name || o.environment != group.environment) {
        continue;
      }
      if (o.index < group.urls.size()) {
        group.urls[o.index] = o.url;
      } else if (o.index == group.urls.size()) {
        group.urls.push_back(o.url);
      } else {
        return base::MakeError(o.source + ": index " + std::to_string(o.index) + " is past the " +
                               std::to_string(group.urls.size()) + " URL(s) of endpoint " +
                               group.name);
      }
    }
    std::vector<UpstreamTarget> targets;
    for (const auto& url : group.urls) {
      auto target = ParseUpstreamUrl(url);
      if (!target) {
        return base::MakeError("endpoint " + group.id + ": " + target.error().message);
      }
      targets.push_back(std::move(*target));
    }
    if (group.type == "http" && targets.size() > 1) {
      group.type = "load_balance";
    }
    group_index[group.id] = static_cast<int>(gateway->groups.size());
    gateway->groups.push_back(std::make_unique<EndpointGroupState>(group, std::move(targets)));
  }
  for (const auto& o : overrides) {
    const bool known = std::any_of(gateway->model.endpoint_groups.begin(),
                                   gateway->model.endpoint_groups.end(), [&](const auto& g) {
                                     return (o.name == g.name ||
                                             SanitiseName(o.name) == SanitiseName(g.name)) &&
                                            o.environment == g.environment;
                                   });
    if (!known) {
      std::string names;
      for (const auto& g : gateway->model.endpoint_groups) {
        names += (names.empty() ? "" : ", ") + g.name + "." + g.environment;
      }
      return base::MakeError(o.source + ": no endpoint " + o.name + "." + o.environment +
                             " in this distribution (it has: " + (names.empty() ? "none" : names) +
                             ")");
    }
  }

  // Routes.
  for (const auto& api : gateway->model.apis) {
    ApiRoute route;
    route.api = &api;
    route.http = std::find(api.transports.begin(), api.transports.end(), "http") != api.transports.end();
    route.https =
        std::find(api.transports.begin(), api.transports.end(), "https") != api.transports.end();
    route.cors_allow_methods = Join(api.cors.allow_methods);
    route.cors_allow_headers = Join(api.cors.allow_headers);
    route.cors_expose_headers = Join(api.cors.expose_headers);
    route.rate_key = api.base_path + ":" + api.version;
    const int index = gateway->routes.AddApi(api.base_path);
    if (index < 0) {
      return base::MakeError("base path " + api.base_path + " is used twice");
    }
    for (std::size_t r = 0; r < api.resources.size(); ++r) {
      const auto& resource = api.resources[r];
      ResourceRoute rr;
      rr.resource = &resource;
      rr.label = resource.method + " " + resource.path_template;
      rr.rate_key = route.rate_key + ":" + rr.label;
      if (gateway->config.analytics.enabled) {
        rr.analytics_api_json =
            analytics::ApiFieldsJson(api.title, api.version, api.base_path, resource.path_template);
      }
      if (!resource.production_endpoint.empty()) {
        auto it = group_index.find(resource.production_endpoint);
        rr.production = it == group_index.end() ? -1 : it->second;
      }
      if (!resource.sandbox_endpoint.empty()) {
        auto it = group_index.find(resource.sandbox_endpoint);
        rr.sandbox = it == group_index.end() ? -1 : it->second;
      }
      auto method = ParseMethod(resource.method);
      if (!method || !gateway->routes.AddResource(index, resource.path_template, *method,
                                                  static_cast<int>(r))) {
        return base::MakeError(api.title + " " + api.version + ": cannot route " + rr.label);
      }
      route.resources.push_back(std::move(rr));
    }
    gateway->apis.push_back(std::move(route));
  }
  return gateway;
}

}  // namespace mgw::runtime
