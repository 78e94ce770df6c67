#include "project/policies.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "project/project_testing.h"

namespace mgw::project {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Formatted;

std::vector<std::string> Errors(const base::Diagnostics& diagnostics) {
  return Formatted(diagnostics, base::Severity::kError);
}

TEST(ParsePoliciesTest, ReadsTheThreeSectionsSortedByName) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies(R"(resourcePolicies:
  - 10kPerMin: {count: 10000, unitTime: 1, timeUnit: min}
  - 1kPerSec: {count: 1000, unitTime: 1, timeUnit: sec}
applicationPolicies:
  - 10PerMin: {count: 10, unitTime: 1, timeUnit: min}
subscriptionPolicies:
  - Gold: {count: 5000, unitTime: 1, timeUnit: min}
)",
                                      "policies.yaml", diagnostics);
  EXPECT_THAT(Errors(diagnostics), IsEmpty());
  ASSERT_EQ(policies.resource.size(), 2u);
  EXPECT_EQ(policies.resource[0].name, "10kPerMin");
  EXPECT_EQ(policies.resource[0].count, 10000);
  EXPECT_EQ(policies.resource[0].window_seconds, 60);
  EXPECT_TRUE(policies.resource[0].stop_on_quota);
  EXPECT_EQ(policies.resource[0].burst, 0);
  EXPECT_EQ(policies.resource[1].name, "1kPerSec");
  EXPECT_EQ(policies.resource[1].window_seconds, 1);
  ASSERT_EQ(policies.application.size(), 1u);
  EXPECT_EQ(policies.application[0].name, "10PerMin");
  ASSERT_EQ(policies.subscription.size(), 1u);
  EXPECT_EQ(policies.subscription[0].count, 5000);
}

TEST(ParsePoliciesTest, EveryTimeUnitGivesItsWindowTimesUnitTime) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies(R"(resourcePolicies:
  - a: {count: 1, unitTime: 2, timeUnit: sec}
  - b: {count: 1, unitTime: 2, timeUnit: min}
  - c: {count: 1, unitTime: 2, timeUnit: hour}
  - d: {count: 1, unitTime: 2, timeUnit: day}
  - e: {count: 1, unitTime: 2, timeUnit: week}
  - f: {count: 1, unitTime: 2, timeUnit: month}
  - g: {count: 1, unitTime: 2, timeUnit: year}
  - h: {count: 1, timeUnit: min}
)",
                                      "policies.yaml", diagnostics);
  EXPECT_THAT(Errors(diagnostics), IsEmpty());
  std::vector<std::int64_t> windows;
  for (const auto& p : policies.resource) {
    windows.push_back(p.window_seconds);
  }
  EXPECT_EQ(windows, (std::vector<std::int64_t>{2, 120, 7200, 172800, 1209600, 5184000, 63072000,
                                                60}));
  EXPECT_EQ(policies.resource[5].time_unit, "month");
  EXPECT_EQ(policies.resource[7].unit_time, 1);
}

TEST(ParsePoliciesTest, ReadsStopOnQuotaAndBurst) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies(R"(applicationPolicies:
  - Soft: {count: 100, unitTime: 1, timeUnit: hour, stopOnQuota: false, burst: 5}
)",
                                      "policies.yaml", diagnostics);
  EXPECT_THAT(Errors(diagnostics), IsEmpty());
  ASSERT_EQ(policies.application.size(), 1u);
  EXPECT_FALSE(policies.application[0].stop_on_quota);
  EXPECT_EQ(policies.application[0].burst, 5);
}

TEST(ParsePoliciesTest, AcceptsAMapInsteadOfAList) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies(R"(subscriptionPolicies:
  Gold: {count: 5, timeUnit: min}
  Silver: {count: 2, timeUnit: min}
)",
                                      "policies.yaml", diagnostics);
  EXPECT_THAT(Errors(diagnostics), IsEmpty());
  EXPECT_EQ(policies.subscription.size(), 2u);
}

TEST(ParsePoliciesTest, ReportsEveryBadValueWithItsPlace) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies(R"(resourcePolicies:
  - a: {count: -1, timeUnit: min}
  - b: {count: 1, unitTime: 0, timeUnit: min}
  - c: {count: 1, timeUnit: fortnight}
  - d: {count: 1, timeUnit: min, stopOnQuota: "no"}
  - e: {count: 1, timeUnit: min, burst: many}
  - f: {unitTime: 1, timeUnit: min}
  - g: {count: "10", timeUnit: min}
)",
                                      "policies.yaml", diagnostics);
  EXPECT_TRUE(policies.resource.empty());
  EXPECT_THAT(Errors(diagnostics),
              ElementsAre("policies.yaml:2:16: error: policy \"a\": count must be an integer >= 0",
                          "policies.yaml:3:29: error: policy \"b\": unitTime must be an integer >= 1",
                          "policies.yaml:4:29: error: policy \"c\": timeUnit must be one of sec, "
                          "min, hour, day, week, month, year",
                          "policies.yaml:5:47: error: policy \"d\": stopOnQuota must be true or "
                          "false",
                          "policies.yaml:6:41: error: policy \"e\": burst must be an integer >= 0",
                          "policies.yaml:7:8: error: policy \"f\": count must be an integer >= 0",
                          "policies.yaml:8:16: error: policy \"g\": count must be an integer >= 0"));
}

TEST(ParsePoliciesTest, RefusesDuplicatesAndUnknownFieldsWithSuggestions) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies(R"(resourcePolicies:
  - Gold: {count: 1, timeUnit: min}
  - Gold: {count: 2, timeUnit: min}
  - Typo: {cont: 1, timeUnit: min}
applicationPolicy:
  - x: {count: 1, timeUnit: min}
)",
                                      "policies.yaml", diagnostics);
  ASSERT_EQ(policies.resource.size(), 1u);
  EXPECT_EQ(policies.resource[0].count, 1);
  EXPECT_THAT(Errors(diagnostics),
              ElementsAre("policies.yaml:3:5: error: resourcePolicies: policy \"Gold\" is defined "
                          "twice",
                          "policies.yaml:4:11: error: policy \"Typo\": count must be an integer >= 0",
                          "policies.yaml:4:12: error: policy \"Typo\": unknown field \"cont\"; did "
                          "you mean \"count\"?",
                          "policies.yaml:5:1: error: unknown section \"applicationPolicy\"; did you "
                          "mean \"applicationPolicies\"?"));
}

TEST(ParsePoliciesTest, RefusesMalformedSections) {
  base::Diagnostics diagnostics;
  ParsePolicies("resourcePolicies:\n  - a: {count: 1, timeUnit: min}\n    b: 1\n", "policies.yaml",
                diagnostics);
  EXPECT_THAT(Errors(diagnostics), ElementsAre(HasSubstr("each entry must be")));
  base::Diagnostics scalar;
  ParsePolicies("resourcePolicies: 5\n", "policies.yaml", scalar);
  EXPECT_THAT(Errors(scalar), ElementsAre(HasSubstr("resourcePolicies must be a list")));
  base::Diagnostics list;
  ParsePolicies("- a\n", "policies.yaml", list);
  EXPECT_THAT(Errors(list), ElementsAre(HasSubstr("policies.yaml must be a map")));
}

TEST(ParsePoliciesTest, AnEmptyFileHasNoPoliciesAndNoErrors) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies("# nothing yet\n", "policies.yaml", diagnostics);
  EXPECT_TRUE(diagnostics.All().empty());
  EXPECT_TRUE(policies.resource.empty());
}

TEST(ParsePoliciesTest, TheDefaultPoliciesParseCleanly) {
  base::Diagnostics diagnostics;
  const auto policies = ParsePolicies(DefaultPoliciesText(), "policies.yaml", diagnostics);
  EXPECT_TRUE(diagnostics.All().empty());
  EXPECT_EQ(policies.resource.size(), 3u);
  EXPECT_EQ(policies.application.size(), 3u);
  EXPECT_EQ(policies.subscription.size(), 5u);
  EXPECT_TRUE(HasPolicy(policies.subscription, "Unauthenticated"));
  EXPECT_TRUE(HasPolicy(policies.subscription, "Default"));
}

TEST(HasPolicyTest, KnowsDefinedPoliciesAndUnlimited) {
  const std::vector<bundle::Policy> policies = {{"Gold", 1, 1, "min", 60, true, 0}};
  EXPECT_TRUE(HasPolicy(policies, "Gold"));
  EXPECT_TRUE(HasPolicy(policies, "Unlimited"));
  EXPECT_TRUE(HasPolicy({}, "Unlimited"));
  EXPECT_FALSE(HasPolicy(policies, "gold"));
  EXPECT_FALSE(HasPolicy(policies, "Silver"));
}

}  // namespace
}  // namespace mgw::project
