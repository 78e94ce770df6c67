#include "base/log.h"

#include <gtest/gtest.h>

#include <chrono>

namespace mgw::base {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

system_clock::time_point At(long long ms) { return system_clock::time_point(milliseconds(ms)); }

TEST(FormatRfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(At(0)), "1970-01-01T00:00:00.000Z");
  // 2026-11-30T13:37:44.123Z
  EXPECT_EQ(FormatRfc3339(At(1796045864123LL)), "2026-11-30T13:37:44.123Z");
}

TEST(FormatRfc3339, CachedSecondIsReplacedWhenTheSecondChanges) {
  EXPECT_EQ(FormatRfc3339(At(1796045864999LL)), "2026-11-30T13:37:44.999Z");
  EXPECT_EQ(FormatRfc3339(At(1796045865000LL)), "2026-11-30T13:37:45.000Z");
  EXPECT_EQ(FormatRfc3339(At(1796045864001LL)), "2026-11-30T13:37:44.001Z");
  EXPECT_EQ(FormatRfc3339(At(1796132264001LL)), "2026-12-01T13:37:44.001Z");
}

TEST(FormatRfc3339, BeforeTheEpochRoundsTheSecondDown) {
  EXPECT_EQ(FormatRfc3339(At(-1)), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace mgw::base
