#include "ratelimit/rate_limiter.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mgw::ratelimit {
namespace {

constexpr std::int64_t kEpochMs = 1'700'000'000'000;  // 20 s into a minute, on a whole second

bundle::Policy Tier(std::string name, std::int64_t count, std::int64_t window_seconds,
                    bool stop_on_quota = true, std::int64_t burst = 0) {
  bundle::Policy p;
  p.name = std::move(name);
  p.count = count;
  p.window_seconds = window_seconds;
  p.stop_on_quota = stop_on_quota;
  p.burst = burst;
  return p;
}

// How much room is left for `key` under `limit`, without counting anything for good.
std::int64_t Remaining(CounterTable& table, const std::string& key, const Limit& limit,
                       std::int64_t now_ms) {
  LevelState state;
  if (!table.TryAcquire(key, limit, now_ms, state)) {
    return 0;
  }
  table.Release(key, limit, now_ms);
  return state.remaining + 1;
}

TEST(FaultCodes, FollowTheWso2Codes) {
  EXPECT_EQ(FaultCode(Level::kApi), 900800);
  EXPECT_EQ(FaultCode(Level::kResource), 900802);
  EXPECT_EQ(FaultCode(Level::kSubscription), 900804);
  EXPECT_EQ(FaultCode(Level::kApplication), 900803);
  EXPECT_EQ(LevelName(Level::kApi), "api");
  EXPECT_EQ(LevelName(Level::kResource), "resource");
  EXPECT_EQ(LevelName(Level::kSubscription), "subscription");
  EXPECT_EQ(LevelName(Level::kApplication), "application");
}

TEST(Policies, UnlimitedAndAnEmptyTierNeedNoDefinition) {
  bundle::Policies source;
  const Policies policies(source);
  bool found = false;
  EXPECT_EQ(policies.Resource("Unlimited", found), nullptr);
  EXPECT_TRUE(found);
  found = false;
  EXPECT_EQ(policies.Application("Unlimited", found), nullptr);
  EXPECT_TRUE(found);
  found = false;
  EXPECT_EQ(policies.Subscription("Unlimited", found), nullptr);
  EXPECT_TRUE(found);
  found = false;
  EXPECT_EQ(policies.Resource("", found), nullptr) << "no tier named: no limit";
  EXPECT_TRUE(found);
}

TEST(Policies, AnUndefinedTierIsReportedAsNotFound) {
  bundle::Policies source;
  source.resource.push_back(Tier("10PerMin", 10, 60));
  const Policies policies(source);
  bool found = true;
  EXPECT_EQ(policies.Resource("Gold", found), nullptr);
  EXPECT_FALSE(found);
  found = true;
  EXPECT_EQ(policies.Subscription("Unauthenticated", found), nullptr);
  EXPECT_FALSE(found) << "implicit tiers are not found either; the caller decides";
}

TEST(Policies, TheThreeSectionsAreSeparateNamespaces) {
  bundle::Policies source;
  source.resource.push_back(Tier("Gold", 100, 60));
  source.application.push_back(Tier("Gold", 20, 3600, false, 0));
  source.subscription.push_back(Tier("Gold", 5, 1, true, 2));
  const Policies policies(source);
  bool found = false;
  const Limit* resource = policies.Resource("Gold", found);
  ASSERT_NE(resource, nullptr);
  EXPECT_EQ(resource->count, 100);
  EXPECT_EQ(resource->window_seconds, 60);
  EXPECT_TRUE(resource->stop_on_quota);
  const Limit* application = policies.Application("Gold", found);
  ASSERT_NE(application, nullptr);
  EXPECT_EQ(application->count, 20);
  EXPECT_EQ(application->window_seconds, 3600);
  EXPECT_FALSE(application->stop_on_quota);
  const Limit* subscription = policies.Subscription("Gold", found);
  ASSERT_NE(subscription, nullptr);
  EXPECT_EQ(subscription->count, 5);
  EXPECT_EQ(subscription->burst, 2);
  // The RateLimit-Policy parameters, written once per policy.
  EXPECT_EQ(resource->policy_params, ";q=100;w=60");
  EXPECT_EQ(application->policy_params, ";q=20;w=3600");
  EXPECT_EQ(subscription->policy_params, ";q=5;w=1");
  EXPECT_EQ(policies.Application("Silver", found), nullptr);
  EXPECT_FALSE(found);
}

TEST(DecideLocal, PassesAndReportsEveryLevel) {
  CounterTable table;
  const Limit api{100, 60, true, 0};
  const Limit app{10, 3600, true, 0};
  const std::vector<Check> checks = {{Level::kApi, "100PerMin", &api, "/a:1"},
                                     {Level::kApplication, "10PerHour", &app, "7:bob"}};
  const Decision d = DecideLocal(table, checks, kEpochMs);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rejected, -1);
  ASSERT_EQ(d.states.size(), 2u);
  EXPECT_EQ(d.states[0].remaining, 99);
  EXPECT_EQ(d.states[0].reset_seconds, 40);
  EXPECT_EQ(d.states[1].remaining, 9);
  EXPECT_EQ(d.most_restrictive, 1);
}

TEST(DecideLocal, ALaterLevelsRejectionGivesBackTheEarlierLevelsCount) {
  CounterTable table;
  const Limit api{10, 60, true, 0};
  const Limit resource{5, 60, true, 0};
  const Limit app{1, 60, true, 0};
  const std::vector<Check> checks = {{Level::kApi, "t", &api, "api"},
                                     {Level::kResource, "t", &resource, "res"},
                                     {Level::kApplication, "t", &app, "app"}};
  ASSERT_TRUE(DecideLocal(table, checks, kEpochMs).allowed);
  for (int i = 0; i < 5; ++i) {
    const Decision d = DecideLocal(table, checks, kEpochMs);
    ASSERT_FALSE(d.allowed);
    EXPECT_EQ(d.rejected, 2);
    EXPECT_EQ(d.most_restrictive, 2) << "the rejecting level is the one reported";
    EXPECT_EQ(d.states[0].remaining, 9) << "the API level reports its count without this request";
    EXPECT_EQ(d.states[1].remaining, 4);
    EXPECT_EQ(d.states[2].remaining, 0);
  }
  // Five rejected requests, and the earlier levels still hold only the one that passed.
  EXPECT_EQ(Remaining(table, "api", api, kEpochMs), 9);
  EXPECT_EQ(Remaining(table, "res", resource, kEpochMs), 4);
}

TEST(DecideLocal, AFirstLevelRejectionCountsNothingAnywhere) {
  CounterTable table;
  const Limit api{1, 60, true, 0};
  const Limit app{100, 60, true, 0};
  const std::vector<Check> checks = {{Level::kApi, "t", &api, "api"},
                                     {Level::kApplication, "t", &app, "app"}};
  ASSERT_TRUE(DecideLocal(table, checks, kEpochMs).allowed);
  for (int i = 0; i < 3; ++i) {
    const Decision d = DecideLocal(table, checks, kEpochMs);
    ASSERT_FALSE(d.allowed);
    EXPECT_EQ(d.rejected, 0);
  }
  EXPECT_EQ(Remaining(table, "app", app, kEpochMs), 99);
}

TEST(DecideLocal, StopOnQuotaFalseNeverRejectsButStillCounts) {
  CounterTable table;
  const Limit soft{2, 60, false, 0};
  const std::vector<Check> checks = {{Level::kSubscription, "Bronze", &soft, "app:/a:1"}};
  for (int i = 1; i <= 6; ++i) {
    const Decision d = DecideLocal(table, checks, kEpochMs);
    ASSERT_TRUE(d.allowed) << "request " << i;
    EXPECT_EQ(d.states[0].over_quota, i > 2);
    EXPECT_EQ(d.states[0].remaining, std::max(0, 2 - i));
  }
}

TEST(DecideLocal, BurstAllowsAtMostNPerSecondAndARejectedBurstIsNotCountedInTheWindow) {
  CounterTable table;
  const Limit limit{100, 60, true, 3};
  const std::vector<Check> checks = {{Level::kResource, "t", &limit, "res"}};
  int passed = 0;
  for (int i = 0; i < 10; ++i) {
    const Decision d = DecideLocal(table, checks, kEpochMs + 100);
    passed += d.allowed ? 1 : 0;
    if (!d.allowed) {
      EXPECT_EQ(d.rejected, 0);
      EXPECT_EQ(d.states[0].limit, 3) << "the burst state is the one reported";
      EXPECT_EQ(d.states[0].reset_seconds, 1);
    }
  }
  EXPECT_EQ(passed, 3);
  // The burst counter is kept under "<key>#burst", and the minute counted only the three.
  EXPECT_EQ(Remaining(table, "res", limit, kEpochMs + 100), 97);
  LevelState state;
  EXPECT_FALSE(table.TryAcquire("res#burst", Limit{3, 1, true, 0}, kEpochMs + 999, state));
  // The next second has room for three more.
  passed = 0;
  for (int i = 0; i < 10; ++i) {
    passed += DecideLocal(table, checks, kEpochMs + 1'000).allowed ? 1 : 0;
  }
  EXPECT_EQ(passed, 3);
  EXPECT_EQ(Remaining(table, "res", limit, kEpochMs + 1'000), 94);
}

TEST(DecideLocal, AWindowRejectionGivesBackTheBurstCount) {
  CounterTable table;
  const Limit limit{2, 60, true, 5};
  const std::vector<Check> checks = {{Level::kApplication, "t", &limit, "app"}};
  EXPECT_TRUE(DecideLocal(table, checks, kEpochMs).allowed);
  EXPECT_TRUE(DecideLocal(table, checks, kEpochMs).allowed);
  const Decision d = DecideLocal(table, checks, kEpochMs);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.states[0].limit, 2) << "the window, not the burst, rejected";
  EXPECT_EQ(Remaining(table, "app#burst", Limit{5, 1, true, 0}, kEpochMs), 3);
}

TEST(DecideLocal, ALaterLevelsRejectionGivesBackAnEarlierLevelsBurst) {
  CounterTable table;
  const Limit api{100, 60, true, 2};
  const Limit app{1, 60, true, 0};
  const std::vector<Check> checks = {{Level::kApi, "t", &api, "api"},
                                     {Level::kApplication, "t", &app, "app"}};
  ASSERT_TRUE(DecideLocal(table, checks, kEpochMs).allowed);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(DecideLocal(table, checks, kEpochMs).allowed);
  }
  EXPECT_EQ(Remaining(table, "api#burst", Limit{2, 1, true, 0}, kEpochMs), 1);
}

// All-or-nothing under concurrency: the second level (500) is tighter than the first (1,000),
// so exactly 500 pass and the first level holds exactly those 500 when the threads are done.
TEST(DecideLocal, AllOrNothingStaysExactUnderConcurrency) {
  CounterTable table;
  const Limit api{1'000, 60, true, 0};
  const Limit app{500, 60, true, 0};
  const std::vector<Check> checks = {{Level::kApi, "t", &api, "api"},
                                     {Level::kApplication, "t", &app, "app"}};
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      int mine = 0;
      for (int i = 0; i < 2'000; ++i) {
        mine += DecideLocal(table, checks, kEpochMs).allowed ? 1 : 0;
      }
      passed.fetch_add(mine);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(passed.load(), 500);
  EXPECT_EQ(Remaining(table, "api", api, kEpochMs), 500);
}

TEST(MarkMostRestrictive, PicksTheFewestRemainingThenTheLatestReset) {
  Decision d;
  d.states = {LevelState{100, 50, 10, false}, LevelState{10, 2, 5, false},
              LevelState{10, 2, 3000, false}, LevelState{10, 7, 1, false}};
  MarkMostRestrictive(d);
  EXPECT_EQ(d.most_restrictive, 2)
      << "with the same room left, the window that resets last keeps the client waiting longest";
}

TEST(MarkMostRestrictive, TheFirstWinsATie) {
  Decision d;
  d.states = {LevelState{10, 2, 5, false}, LevelState{20, 2, 5, false}};
  MarkMostRestrictive(d);
  EXPECT_EQ(d.most_restrictive, 0);
}

TEST(MarkMostRestrictive, TheRejectingLevelAlwaysWins) {
  Decision d;
  d.states = {LevelState{10, 0, 50, false}, LevelState{10, 0, 5, false}};
  d.rejected = 1;
  d.allowed = false;
  MarkMostRestrictive(d);
  EXPECT_EQ(d.most_restrictive, 1);
}

TEST(MarkMostRestrictive, NoStatesLeavesNoneMarked) {
  Decision d;
  MarkMostRestrictive(d);
  EXPECT_EQ(d.most_restrictive, -1);
}

}  // namespace
}  // namespace mgw::ratelimit
