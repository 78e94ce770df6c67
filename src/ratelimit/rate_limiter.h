// The four rate-limit levels of contract section 6, checked in order (API, resource,
// subscription, application) with all-or-nothing counting: when a later level rejects, the
// earlier levels give their count back, so a rejected request is counted nowhere. Local
// counting uses CounterTable; a shared store (Redis) implements the same Decide() contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "bundle/model.h"
#include "ratelimit/limiter.h"

namespace mgw::ratelimit {

enum class Level : std::uint8_t { kApi, kResource, kSubscription, kApplication };

// WSO2 fault code of a level: 900800, 900802, 900804, 900803.
int FaultCode(Level level);
std::string_view LevelName(Level level);  // "api", "resource", "subscription", "application"

// One level to check for a request.
struct Check {
  Level level;
  std::string_view tier;  // the policy name, from the configuration or the request's principal
  const Limit* limit = nullptr;  // never null for a check that counts
  std::string_view key;  // the counter's key: its bytes must outlive the decision
};

struct Decision {
  bool allowed = true;
  int rejected = -1;           // index into checks of the level that rejected
  std::vector<LevelState> states;  // one per check, same order
  int most_restrictive = -1;   // index with the fewest requests remaining
};

class Policies {
 public:
  explicit Policies(const bundle::Policies& policies);
  // nullptr for "Unlimited"; std::nullopt-like: `found` false when the tier is not defined.
  const Limit* Resource(std::string_view tier, bool& found) const;
  const Limit* Application(std::string_view tier, bool& found) const;
  const Limit* Subscription(std::string_view tier, bool& found) const;

 private:
  using Map = std::unordered_map<std::string, Limit, base::StringHash, std::equal_to<>>;
  static const Limit* Lookup(const Map& map, std::string_view tier, bool& found);
  Map resource_;
  Map application_;
  Map subscription_;
};

// Decides `checks` against the local table at `now_ms`. A check whose Limit has a burst also
// counts a one-second window under "<key>#burst".
Decision DecideLocal(CounterTable& table, const std::vector<Check>& checks, std::int64_t now_ms);

// Fills in which state is the most restrictive: the rejecting level when there is one, else the
// fewest requests remaining, then the latest reset (the longest wait), then the first level.
void MarkMostRestrictive(Decision& decision);

}  // namespace mgw::ratelimit
