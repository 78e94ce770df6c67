#include "ratelimit/rate_limiter.h"

namespace mgw::ratelimit {

int FaultCode(Level level) {
  switch (level) {
    case Level::kApi:
      return 900800;
    case Level::kResource:
      return 900802;
    case Level::kSubscription:
      return 900804;
    case Level::kApplication:
      return 900803;
  }
  return 900800;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kApi:
      return "api";
    case Level::kResource:
      return "resource";
    case Level::kSubscription:
      return "subscription";
    case Level::kApplication:
      return "application";
  }
  return "api";
}

Policies::Policies(const bundle::Policies& policies) {
  auto load = [](const std::vector<bundle::Policy>& list, Map& map) {
    for (const auto& p : list) {
      Limit limit{p.count, std::max<std::int64_t>(1, p.window_seconds), p.stop_on_quota, p.burst, {}};
      limit.policy_params =
          ";q=" + std::to_string(limit.count) + ";w=" + std::to_string(limit.window_seconds);
      map[p.name] = std::move(limit);
    }
  };
  load(policies.resource, resource_);
  load(policies.application, application_);
  load(policies.subscription, subscription_);
}

const Limit* Policies::Lookup(const Map& map, std::string_view tier, bool& found) {
  found = true;
  if (tier.empty() || tier == "Unlimited") {
    return nullptr;
  }
  auto it = map.find(tier);
  if (it == map.end()) {
    found = false;
    return nullptr;
  }
  return &it->second;
}

const Limit* Policies::Resource(std::string_view tier, bool& found) const {
  return Lookup(resource_, tier, found);
}
const Limit* Policies::Application(std::string_view tier, bool& found) const {
  return Lookup(application_, tier, found);
}
const Limit* Policies::Subscription(std::string_view tier, bool& found) const {
  return Lookup(subscription_, tier, found);
}

void MarkMostRestrictive(Decision& decision) {
  decision.most_restrictive = -1;
  for (std::size_t i = 0; i < decision.states.size(); ++i) {
    const auto& s = decision.states[i];
    if (decision.most_restrictive < 0) {
      decision.most_restrictive = static_cast<int>(i);
      continue;
    }
    const auto& best = decision.states[decision.most_restrictive];
    if (s.remaining < best.remaining ||
        (s.remaining == best.remaining && s.reset_seconds > best.reset_seconds)) {
      decision.most_restrictive = static_cast<int>(i);
    }
  }
  if (decision.rejected >= 0) {
    decision.most_restrictive = decision.rejected;
  }
}

Decision DecideLocal(CounterTable& table, const std::vector<Check>& checks, std::int64_t now_ms) {
  Decision decision;
  decision.states.resize(checks.size());
  std::size_t acquired = 0;  // levels (and their bursts) fully counted so far
  for (; acquired < checks.size(); ++acquired) {
    const Check& check = checks[acquired];
    const Limit& limit = *check.limit;
    if (limit.burst > 0) {
      const Limit burst{limit.burst, 1, true, 0};
      if (!table.TryAcquire(std::string(check.key) + "#burst", burst, now_ms, decision.states[acquired])) {
        break;
      }
      if (!table.TryAcquire(check.key, limit, now_ms, decision.states[acquired])) {
        table.Release(std::string(check.key) + "#burst", burst, now_ms);
        break;
      }
    } else if (!table.TryAcquire(check.key, limit, now_ms, decision.states[acquired])) {
      break;
    }
  }
  if (acquired < checks.size()) {
    decision.allowed = false;
    decision.rejected = static_cast<int>(acquired);
    // All or nothing: the levels that counted this request give the count back.
    for (std::size_t i = 0; i < acquired; ++i) {
      const Limit& limit = *checks[i].limit;
      table.Release(checks[i].key, limit, now_ms);
      if (limit.burst > 0) {
        table.Release(std::string(checks[i].key) + "#burst", Limit{limit.burst, 1, true, 0}, now_ms);
      }
      if (!decision.states[i].over_quota) {  // a count past the limit stays past it
        decision.states[i].remaining += 1;
      }
    }
  }
  MarkMostRestrictive(decision);
  return decision;
}

}  // namespace mgw::ratelimit
