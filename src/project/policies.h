// policies.yaml (WSO2 3.x format plus `sec`, `burst`, `stopOnQuota`): the rate-limit tiers.
#pragma once

#include <string>
#include <string_view>

#include "base/diagnostics.h"
#include "bundle/model.h"

namespace mgw::project {

// Parses policies.yaml text; every problem is reported under `label`.
bundle::Policies ParsePolicies(std::string_view text, const std::string& label,
                               base::Diagnostics& diagnostics);

// The policies.yaml `mgw init` writes: WSO2's default tiers.
std::string DefaultPoliciesText();

// True when `name` is defined in `policies`, or is "Unlimited" (which needs no definition).
bool HasPolicy(const std::vector<bundle::Policy>& policies, const std::string& name);

}  // namespace mgw::project
