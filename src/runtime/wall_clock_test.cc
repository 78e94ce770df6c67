#include "runtime/wall_clock.h"

#include <gtest/gtest.h>

namespace mgw::runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

// A system clock the test sets, and how often it was read.
system_clock::time_point fake_now;
int reads = 0;
system_clock::time_point FakeNow() {
  ++reads;
  return fake_now;
}

TEST(WallClock, OneSystemReadServesTheNext100Ms) {
  reads = 0;
  fake_now = system_clock::time_point(std::chrono::seconds(1'800'000'000));
  WallClock clock(&FakeNow);
  const steady_clock::time_point t0(std::chrono::seconds(5000));
  EXPECT_EQ(clock.At(t0), fake_now);
  EXPECT_EQ(reads, 1);
  const auto base = fake_now;
  fake_now += std::chrono::hours(1);  // not read again inside the window
  EXPECT_EQ(clock.At(t0 + milliseconds(1)), base + milliseconds(1));
  EXPECT_EQ(clock.At(t0 + milliseconds(99)), base + milliseconds(99));
  EXPECT_EQ(reads, 1);
  // At the end of the window the system clock is read again (and its step shows).
  EXPECT_EQ(clock.At(t0 + milliseconds(100)), fake_now);
  EXPECT_EQ(reads, 2);
  EXPECT_EQ(clock.At(t0 + milliseconds(150)), fake_now + milliseconds(50));
  EXPECT_EQ(reads, 2);
}

TEST(WallClock, AReadingBeforeTheBaseReadsAgain) {
  reads = 0;
  fake_now = system_clock::time_point(std::chrono::seconds(1'800'000'000));
  WallClock clock(&FakeNow);
  const steady_clock::time_point t0(std::chrono::seconds(5000));
  clock.At(t0);
  // A coroutine that read the steady clock earlier may ask after a later one refreshed the base.
  EXPECT_EQ(clock.At(t0 - milliseconds(5)), fake_now);
  EXPECT_EQ(reads, 2);
}

TEST(WallClock, WithTheRealClocksTheFirstReadingIsTheSystemTime) {
  WallClock clock;
  const auto before = system_clock::now();
  const auto at = clock.At(steady_clock::now());
  const auto after = system_clock::now();
  EXPECT_LE(before, at);
  EXPECT_LE(at, after);
}

}  // namespace
}  // namespace mgw::runtime
