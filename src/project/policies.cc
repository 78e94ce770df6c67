#include "project/policies.h"

#include <algorithm>
#include <map>
#include <set>

#include "project/yaml_util.h"

namespace mgw::project {
namespace {

const std::map<std::string, std::int64_t>& UnitSeconds() {
  static const std::map<std::string, std::int64_t> units = {
      {"sec", 1},          {"min", 60},           {"hour", 3600},          {"day", 86400},
      {"week", 7 * 86400}, {"month", 30 * 86400}, {"year", 365 * 86400}};
  return units;
}

void ParseSection(const YAML::Node& root, const std::string& section, const std::string& label,
                  base::Diagnostics& diagnostics, std::vector<bundle::Policy>& out) {
  const YAML::Node list = Child(root, section);
  if (!list.IsDefined() || list.IsNull()) {
    return;
  }
  std::vector<std::pair<YAML::Node, YAML::Node>> entries;  // name node, body node
  if (list.IsSequence()) {
    for (const auto& element : list) {
      if (!element.IsMap() || element.size() != 1) {
        diagnostics.Error(LocationOf(element, label),
                          section + ": each entry must be \"- <name>: {count, unitTime, "
                                    "timeUnit}\"");
        continue;
      }
      for (const auto& member : element) {
        entries.emplace_back(member.first, member.second);
      }
    }
  } else if (list.IsMap()) {
    for (const auto& member : list) {
      entries.emplace_back(member.first, member.second);
    }
  } else {
    diagnostics.Error(LocationOf(list, label), section + " must be a list of policies");
    return;
  }
  std::set<std::string> names;
  static const std::vector<std::string> kFields = {"count", "unitTime", "timeUnit", "stopOnQuota",
                                                   "burst"};
  for (const auto& [name_node, body] : entries) {
    const std::string name = ScalarText(name_node).value_or("");
    const auto at = LocationOf(name_node, label);
    if (name.empty()) {
      diagnostics.Error(at, section + ": a policy needs a name");
      continue;
    }
    if (!names.insert(name).second) {
      diagnostics.Error(at, section + ": policy \"" + name + "\" is defined twice");
      continue;
    }
    if (!body.IsMap()) {
      diagnostics.Error(at, "policy \"" + name + "\" must be a map {count, unitTime, timeUnit}");
      continue;
    }
    bool ok = true;
    for (const auto& member : body) {
      const std::string key = ScalarText(member.first).value_or("");
      if (std::find(kFields.begin(), kFields.end(), key) == kFields.end()) {
        std::string message = "policy \"" + name + "\": unknown field \"" + key + "\"";
        if (auto hint = base::ClosestMatch(key, kFields); !hint.empty()) {
          message += "; did you mean \"" + hint + "\"?";
        }
        diagnostics.Error(LocationOf(member.first, label), message);
        ok = false;
      }
    }
    bundle::Policy policy;
    policy.name = name;
    auto count = IntValue(Child(body, "count"));
    if (!count || *count < 0) {
      diagnostics.Error(LocationOf(Child(body, "count").IsDefined() ? Child(body, "count") : body,
                                   label),
                        "policy \"" + name + "\": count must be an integer >= 0");
      ok = false;
    } else {
      policy.count = *count;
    }
    const YAML::Node unit_time = Child(body, "unitTime");
    if (unit_time.IsDefined()) {
      auto value = IntValue(unit_time);
      if (!value || *value < 1) {
        diagnostics.Error(LocationOf(unit_time, label),
                          "policy \"" + name + "\": unitTime must be an integer >= 1");
        ok = false;
      } else {
        policy.unit_time = *value;
      }
    }
    auto unit = ScalarText(Child(body, "timeUnit"));
    auto seconds = unit ? UnitSeconds().find(*unit) : UnitSeconds().end();
    if (seconds == UnitSeconds().end()) {
      diagnostics.Error(
          LocationOf(Child(body, "timeUnit").IsDefined() ? Child(body, "timeUnit") : body, label),
          "policy \"" + name + "\": timeUnit must be one of sec, min, hour, day, week, month, year");
      ok = false;
    } else {
      policy.time_unit = *unit;
      policy.window_seconds = seconds->second * policy.unit_time;
    }
    const YAML::Node stop = Child(body, "stopOnQuota");
    if (stop.IsDefined()) {
      auto flag = BoolValue(stop);
      if (!flag) {
        diagnostics.Error(LocationOf(stop, label),
                          "policy \"" + name + "\": stopOnQuota must be true or false");
        ok = false;
      } else {
        policy.stop_on_quota = *flag;
      }
    }
    const YAML::Node burst = Child(body, "burst");
    if (burst.IsDefined()) {
      auto value = IntValue(burst);
      if (!value || *value < 0) {
        diagnostics.Error(LocationOf(burst, label),
                          "policy \"" + name + "\": burst must be an integer >= 0");
        ok = false;
      } else {
        policy.burst = *value;
      }
    }
    if (ok) {
      out.push_back(std::move(policy));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
}

}  // namespace

bundle::Policies ParsePolicies(std::string_view text, const std::string& label,
                               base::Diagnostics& diagnostics) {
  bundle::Policies policies;
  auto root = ParseYaml(text, label, diagnostics);
  if (!root) {
    return policies;
  }
  if (root->IsNull()) {
    return policies;
  }
  if (!root->IsMap()) {
    diagnostics.Error(LocationOf(*root, label),
                      "policies.yaml must be a map with resourcePolicies, applicationPolicies, "
                      "subscriptionPolicies");
    return policies;
  }
  static const std::vector<std::string> kSections = {"resourcePolicies", "applicationPolicies",
                                                     "subscriptionPolicies"};
  for (const auto& member : *root) {
    const std::string key = ScalarText(member.first).value_or("");
    if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
      std::string message = "unknown section \"" + key + "\"";
      if (auto hint = base::ClosestMatch(key, kSections); !hint.empty()) {
        message += "; did you mean \"" + hint + "\"?";
      }
      diagnostics.Error(LocationOf(member.first, label), message);
    }
  }
  ParseSection(*root, "resourcePolicies", label, diagnostics, policies.resource);
  ParseSection(*root, "applicationPolicies", label, diagnostics, policies.application);
  ParseSection(*root, "subscriptionPolicies", label, diagnostics, policies.subscription);
  return policies;
}

bool HasPolicy(const std::vector<bundle::Policy>& policies, const std::string& name) {
  return name == "Unlimited" ||
         std::any_of(policies.begin(), policies.end(),
                     [&](const bundle::Policy& p) { return p.name == name; });
}

std::string DefaultPoliciesText() {
  return R"(# Rate-limit policies (WSO2 API Microgateway 3.x format).
# timeUnit: sec, min, hour, day, week, month (30 d), year (365 d).
# Optional per policy: stopOnQuota: false (count but do not reject), burst: N (at most N per second).
# "Unlimited" needs no definition.
resourcePolicies:            # API-level and resource-level tiers (x-wso2-throttling-tier)
  - 50kPerMin: {count: 50000, unitTime: 1, timeUnit: min}
  - 20kPerMin: {count: 20000, unitTime: 1, timeUnit: min}
  - 10kPerMin: {count: 10000, unitTime: 1, timeUnit: min}
applicationPolicies:         # the application.tier of a token
  - 50PerMin: {count: 50, unitTime: 1, timeUnit: min}
  - 20PerMin: {count: 20, unitTime: 1, timeUnit: min}
  - 10PerMin: {count: 10, unitTime: 1, timeUnit: min}
subscriptionPolicies:        # the subscriptionTier of a token's subscribedAPIs entry
  - Gold: {count: 5000, unitTime: 1, timeUnit: min}
  - Silver: {count: 2000, unitTime: 1, timeUnit: min}
  - Bronze: {count: 10, unitTime: 1, timeUnit: min}
  - Unauthenticated: {count: 500, unitTime: 1, timeUnit: min}
  - Default: {count: 500, unitTime: 1, timeUnit: min}
)";
}

}  // namespace mgw::project
