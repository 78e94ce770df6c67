#include "base/diagnostics.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mgw::base {
namespace {

TEST(FormatDiagnosticTest, PrintsFileLineColumnSeverityAndMessage) {
  const Diagnostic d{Severity::kError, {"api_definitions/orders.yaml", 42, 7}, "bad url"};
  EXPECT_EQ(FormatDiagnostic(d), "api_definitions/orders.yaml:42:7: error: bad url");
}

TEST(FormatDiagnosticTest, OmitsTheColumnWhenOnlyTheLineIsKnown) {
  const Diagnostic d{Severity::kWarning, {"policies.yaml", 3, 0}, "odd"};
  EXPECT_EQ(FormatDiagnostic(d), "policies.yaml:3: warning: odd");
}

TEST(FormatDiagnosticTest, OmitsLineAndColumnWhenTheLineIsUnknown) {
  const Diagnostic d{Severity::kError, {"mgw.toml", 0, 5}, "no key"};
  EXPECT_EQ(FormatDiagnostic(d), "mgw.toml: error: no key");
}

TEST(FormatDiagnosticTest, PrintsOnlySeverityAndMessageWithoutAFile) {
  const Diagnostic d{Severity::kError, {"", 0, 0}, "nothing to do"};
  EXPECT_EQ(FormatDiagnostic(d), "error: nothing to do");
}

TEST(DiagnosticsTest, CountsErrorsAndWarningsSeparately) {
  Diagnostics diagnostics;
  EXPECT_FALSE(diagnostics.HasErrors());
  diagnostics.Warning({"a", 1, 1}, "w1");
  EXPECT_FALSE(diagnostics.HasErrors());
  diagnostics.Error({"a", 2, 1}, "e1");
  diagnostics.Add({Severity::kError, {"b", 1, 1}, "e2"});
  diagnostics.Add({Severity::kWarning, {"b", 2, 1}, "w2"});
  EXPECT_TRUE(diagnostics.HasErrors());
  EXPECT_EQ(diagnostics.ErrorCount(), 2u);
  EXPECT_EQ(diagnostics.WarningCount(), 2u);
  EXPECT_EQ(diagnostics.All().size(), 4u);
}

TEST(DiagnosticsTest, AppendKeepsTheCountsOfBoth) {
  Diagnostics first;
  first.Error({"a", 1, 1}, "e");
  Diagnostics second;
  second.Error({"b", 1, 1}, "e");
  second.Warning({"b", 2, 1}, "w");
  first.Append(second);
  EXPECT_EQ(first.ErrorCount(), 2u);
  EXPECT_EQ(first.WarningCount(), 1u);
  EXPECT_EQ(first.All().back().message, "w");
}

TEST(DiagnosticsTest, SortOrdersByFileLineColumnAndKeepsInsertionOrderForTies) {
  Diagnostics diagnostics;
  diagnostics.Error({"b.yaml", 1, 1}, "b1");
  diagnostics.Error({"a.yaml", 10, 2}, "a10-2");
  diagnostics.Error({"a.yaml", 2, 5}, "a2-5 first");
  diagnostics.Warning({"a.yaml", 10, 1}, "a10-1");
  diagnostics.Error({"a.yaml", 2, 5}, "a2-5 second");
  diagnostics.Sort();
  std::vector<std::string> order;
  for (const auto& d : diagnostics.All()) {
    order.push_back(d.message);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a2-5 first", "a2-5 second", "a10-1", "a10-2", "b1"}));
  EXPECT_EQ(diagnostics.ErrorCount(), 4u);
}

TEST(ClosestMatchTest, SuggestsTheCandidateWithTheSmallestEditDistance) {
  EXPECT_EQ(ClosestMatch("http_prot", {"http_port", "https_port", "host"}), "http_port");
  EXPECT_EQ(ClosestMatch("Gld", {"Silver", "Gold", "Bronze"}), "Gold");
}

TEST(ClosestMatchTest, ReturnsNothingWhenNoCandidateIsAPlausibleTypo) {
  EXPECT_EQ(ClosestMatch("workers", {"host", "admin", "tls"}), "");
  EXPECT_EQ(ClosestMatch("anything", {}), "");
}

TEST(ClosestMatchTest, AllowsMoreEditsForLongerWords) {
  // 12 letters: up to 4 edits are a typo.
  EXPECT_EQ(ClosestMatch("idle_tmout_s", {"idle_timeout_ms"}), "idle_timeout_ms");
  // 3 letters: at most 2 edits.
  EXPECT_EQ(ClosestMatch("abc", {"xyz"}), "");
}

TEST(ClosestMatchTest, PrefersTheFirstCandidateOnATie) {
  EXPECT_EQ(ClosestMatch("cat", {"bat", "hat"}), "bat");
}

}  // namespace
}  // namespace mgw::base
