#include "ratelimit/limiter.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mgw::ratelimit {
namespace {

// 2023-11-14T22:13:20Z: a whole number of seconds, but not of minutes (it is 20 s into one).
constexpr std::int64_t kEpochMs = 1'700'000'000'000;
// The start of the minute (and of the 5-minute window) that holds kEpochMs.
constexpr std::int64_t kMinuteStartMs = kEpochMs - kEpochMs % 60'000;
constexpr std::int64_t kFiveMinuteStartMs = kEpochMs - kEpochMs % 300'000;

Limit PerWindow(std::int64_t count, std::int64_t window_seconds) {
  return Limit{count, window_seconds, true, 0};
}

// How many of `attempts` TryAcquire calls pass at `now_ms`.
int Passes(CounterTable& table, const std::string& key, const Limit& limit, std::int64_t now_ms,
           int attempts) {
  int passed = 0;
  LevelState state;
  for (int i = 0; i < attempts; ++i) {
    passed += table.TryAcquire(key, limit, now_ms, state) ? 1 : 0;
  }
  return passed;
}

TEST(CounterTable, AMinuteWindowStartsAtSecondZero) {
  ASSERT_EQ(kEpochMs - kMinuteStartMs, 20'000) << "the fixture is 20 s into a minute";
  CounterTable table;
  const Limit limit = PerWindow(3, 60);
  LevelState state;
  // The first request comes 20 s into the minute: its window still ends at the next second 0.
  ASSERT_TRUE(table.TryAcquire("k", limit, kEpochMs, state));
  EXPECT_EQ(state.reset_seconds, 40);
  EXPECT_EQ(state.remaining, 2);
  EXPECT_EQ(state.limit, 3);
  EXPECT_EQ(Passes(table, "k", limit, kMinuteStartMs + 59'999, 5), 2)
      << "the last millisecond of the minute is the same window";
  EXPECT_EQ(Passes(table, "k", limit, kMinuteStartMs + 60'000, 5), 3)
      << "second 0 of the next minute starts a new window";
  ASSERT_FALSE(table.TryAcquire("k", limit, kMinuteStartMs + 60'001, state));
  EXPECT_EQ(state.reset_seconds, 60) << "59.999 s left, rounded up";
  EXPECT_EQ(state.remaining, 0);
}

TEST(CounterTable, AFiveMinuteWindowIsAlignedToFiveMinutesNotToTheFirstRequest) {
  CounterTable table;
  const Limit limit = PerWindow(2, 300);
  LevelState state;
  const std::int64_t first = kFiveMinuteStartMs + 130'500;  // 2 min 10.5 s into the window
  ASSERT_TRUE(table.TryAcquire("k", limit, first, state));
  EXPECT_EQ(state.reset_seconds, 170) << "169.5 s to the window's end, rounded up";
  EXPECT_EQ(Passes(table, "k", limit, kFiveMinuteStartMs + 299'999, 3), 1);
  EXPECT_EQ(Passes(table, "k", limit, kFiveMinuteStartMs + 300'000, 3), 2)
      << "the next window starts 5 min after the previous start, not 5 min after the first request";
}

TEST(CounterTable, AnHourWindowStartsOnTheHour) {
  CounterTable table;
  const Limit limit = PerWindow(1, 3600);
  const std::int64_t hour_start = kEpochMs - kEpochMs % 3'600'000;
  LevelState state;
  ASSERT_TRUE(table.TryAcquire("k", limit, hour_start + 3'599'000, state));
  EXPECT_EQ(state.reset_seconds, 1);
  EXPECT_TRUE(table.TryAcquire("k", limit, hour_start + 3'600'000, state));
  EXPECT_EQ(state.reset_seconds, 3600);
}

// Workers read the clock independently: one may still be in the last millisecond of a window
// when another has moved the counter on. The late request is counted in the newer window; it must
// not restart the counter in the old one (which would hand out a fresh quota twice).
TEST(CounterTable, ALateClockReadDoesNotRestartTheCounter) {
  CounterTable table;
  const Limit limit = PerWindow(2, 60);
  const std::int64_t next_minute = kMinuteStartMs + 60'000;
  EXPECT_EQ(Passes(table, "k", limit, next_minute, 2), 2);
  EXPECT_EQ(Passes(table, "k", limit, next_minute - 1, 3), 0) << "the newer window is full";
  EXPECT_EQ(Passes(table, "k", limit, next_minute + 1, 3), 0);
  LevelState state;
  table.TryAcquire("k", limit, next_minute - 1, state);
  EXPECT_EQ(state.reset_seconds, 60) << "never more than the window";
}

TEST(CounterTable, KeysAndWindowsAreIndependent) {
  CounterTable table;
  const Limit limit = PerWindow(2, 60);
  EXPECT_EQ(Passes(table, "a", limit, kEpochMs, 5), 2);
  EXPECT_EQ(Passes(table, "b", limit, kEpochMs, 5), 2);
  EXPECT_EQ(Passes(table, "a", limit, kEpochMs + 60'000, 5), 2);
  EXPECT_EQ(table.Size(), 2u);
}

TEST(CounterTable, ARejectedRequestIsNotCounted) {
  CounterTable table;
  const Limit limit = PerWindow(2, 60);
  EXPECT_EQ(Passes(table, "k", limit, kEpochMs, 100), 2);
  // Releasing one of the two counted requests makes room for exactly one more: the 98
  // rejections above left no trace.
  table.Release("k", limit, kEpochMs);
  EXPECT_EQ(Passes(table, "k", limit, kEpochMs, 100), 1);
}

TEST(CounterTable, ReleaseOnlyTouchesTheWindowItCounted) {
  CounterTable table;
  const Limit limit = PerWindow(1, 60);
  EXPECT_EQ(Passes(table, "k", limit, kEpochMs, 1), 1);
  table.Release("k", limit, kEpochMs + 60'000);  // a later window: nothing counted there
  EXPECT_EQ(Passes(table, "k", limit, kEpochMs, 1), 0);
  table.Release("never-counted", limit, kEpochMs);  // unknown key: no-op, no entry created
  EXPECT_EQ(table.Size(), 1u);
}

// 8 threads x 10,000 attempts on one key with a limit of 1,000: exactly 1,000 pass, in each of
// several windows (the clock is injected, so every thread is in the same window).
TEST(CounterTable, CountingIsExactWhenManyThreadsHammerOneKey) {
  constexpr int kThreads = 8;
  constexpr int kAttempts = 10'000;
  constexpr std::int64_t kLimit = 1'000;
  CounterTable table;
  const Limit limit = PerWindow(kLimit, 60);
  for (int window = 0; window < 5; ++window) {
    const std::int64_t now = kMinuteStartMs + window * 60'000 + 1'000;
    std::atomic<int> passed{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        while (!go.load(std::memory_order_acquire)) {
          std::this_thread::yield();
        }
        LevelState state;
        int mine = 0;
        for (int i = 0; i < kAttempts; ++i) {
          mine += table.TryAcquire("api:1.0", limit, now, state) ? 1 : 0;
        }
        passed.fetch_add(mine);
      });
    }
    go.store(true, std::memory_order_release);
    for (auto& thread : threads) {
      thread.join();
    }
    EXPECT_EQ(passed.load(), kLimit) << "window " << window;
  }
}

// Acquire and release racing on one key: the count never passes the limit and ends where the
// arithmetic says.
TEST(CounterTable, ReleasesRacingWithAcquiresKeepTheCountExact) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 5'000;
  CounterTable table;
  const Limit limit = PerWindow(10, 60);
  std::atomic<int> over{0};
  std::atomic<int> held{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      LevelState state;
      for (int i = 0; i < kRounds; ++i) {
        if (table.TryAcquire("k", limit, kEpochMs, state)) {
          if (held.fetch_add(1) + 1 > 10) {
            over.fetch_add(1);
          }
          if (i % 2 == 0) {  // give every other pass back, as a later level's rejection does
            held.fetch_sub(1);
            table.Release("k", limit, kEpochMs);
          }
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(over.load(), 0);
  const int left = 10 - held.load();
  EXPECT_EQ(Passes(table, "k", limit, kEpochMs, 20), left);
}

TEST(CounterTable, StopOnQuotaFalseCountsButNeverRejects) {
  CounterTable table;
  const Limit limit{3, 60, false, 0};
  LevelState state;
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(table.TryAcquire("k", limit, kEpochMs, state)) << "request " << i;
    EXPECT_EQ(state.remaining, std::max(0, 3 - i));
    EXPECT_EQ(state.over_quota, i > 3) << "request " << i;
  }
  // The count went on past the limit: the next window starts from zero again.
  ASSERT_TRUE(table.TryAcquire("k", limit, kEpochMs + 60'000, state));
  EXPECT_EQ(state.remaining, 2);
  EXPECT_FALSE(state.over_quota);
}

TEST(CounterTable, RejectionAtTheLimitReportsOverQuota) {
  CounterTable table;
  const Limit limit = PerWindow(1, 60);
  LevelState state;
  ASSERT_TRUE(table.TryAcquire("k", limit, kEpochMs, state));
  EXPECT_FALSE(state.over_quota);
  ASSERT_FALSE(table.TryAcquire("k", limit, kEpochMs, state));
  EXPECT_TRUE(state.over_quota);
  EXPECT_EQ(state.remaining, 0);
}

TEST(CounterTable, SweepReclaimsEndedWindowsOnly) {
  CounterTable table;
  LevelState state;
  const Limit minute = PerWindow(5, 60);
  const Limit hour = PerWindow(5, 3600);
  for (int i = 0; i < 100; ++i) {
    table.TryAcquire("minute-" + std::to_string(i), minute, kEpochMs, state);
  }
  table.TryAcquire("hour", hour, kEpochMs, state);
  ASSERT_EQ(table.Size(), 101u);
  EXPECT_EQ(table.Sweep(kMinuteStartMs + 59'999), 0u) << "every window is still running";
  EXPECT_EQ(table.Size(), 101u);
  EXPECT_EQ(table.Sweep(kMinuteStartMs + 60'000), 100u) << "the minute windows ended";
  EXPECT_EQ(table.Size(), 1u);
  // The hour counter kept its count.
  EXPECT_EQ(Passes(table, "hour", hour, kMinuteStartMs + 60'000, 10), 4);
}

TEST(CounterTable, AKeyThatComesBackAfterASweepStartsAFreshWindow) {
  CounterTable table;
  const Limit limit = PerWindow(1, 60);
  EXPECT_EQ(Passes(table, "k", limit, kEpochMs, 2), 1);
  EXPECT_EQ(table.Sweep(kEpochMs + 60'000), 1u);
  EXPECT_EQ(Passes(table, "k", limit, kEpochMs + 60'000, 2), 1);
}

TEST(CounterTable, SizeNeverExceedsMaxKeysUnderAFloodOfDistinctKeys) {
  constexpr std::size_t kMaxKeys = 1024;
  CounterTable table(kMaxKeys);
  const Limit limit = PerWindow(5, 60);
  LevelState state;
  std::size_t largest = 0;
  for (int i = 0; i < 50'000; ++i) {
    // Every one of them passes: a new key starts with an empty counter.
    ASSERT_TRUE(table.TryAcquire("10.0." + std::to_string(i) + ":/api:1.0", limit, kEpochMs, state));
    if (i % 97 == 0) {
      largest = std::max(largest, table.Size());
    }
  }
  largest = std::max(largest, table.Size());
  EXPECT_LE(largest, kMaxKeys);
  EXPECT_GE(largest, kMaxKeys / 2) << "the bound is used, not just respected";
}

TEST(CounterTable, SizeStaysBoundedWhenThreadsFloodDistinctKeys) {
  constexpr std::size_t kMaxKeys = 640;
  CounterTable table(kMaxKeys);
  const Limit limit = PerWindow(5, 60);
  std::vector<std::thread> threads;
  std::atomic<std::size_t> largest{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      LevelState state;
      for (int i = 0; i < 20'000; ++i) {
        table.TryAcquire(std::to_string(t) + "/" + std::to_string(i), limit, kEpochMs, state);
        if (i % 101 == 0) {
          std::size_t size = table.Size();
          std::size_t seen = largest.load();
          while (size > seen && !largest.compare_exchange_weak(seen, size)) {
          }
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_LE(largest.load(), kMaxKeys);
  EXPECT_LE(table.Size(), kMaxKeys);
}

// The eviction rule (docs/rate-limiting.md): a full table first drops counters whose window has
// ended; then it drops the counter that matters least, the one with the fewest requests in its
// window. A counter that is busy (here: exhausted) survives a flood of one-off keys, so the
// flood cannot reset someone else's limit; the one-off keys push each other out.
TEST(CounterTable, AFloodOfOneOffKeysDoesNotEvictBusyCounters) {
  constexpr std::size_t kMaxKeys = 256;  // 4 per shard
  constexpr int kBusy = 32;
  CounterTable table(kMaxKeys);
  const Limit limit = PerWindow(50, 60);
  for (int b = 0; b < kBusy; ++b) {
    ASSERT_EQ(Passes(table, "busy-" + std::to_string(b), limit, kEpochMs, 50), 50);
  }
  LevelState state;
  for (int i = 0; i < 20'000; ++i) {
    table.TryAcquire("flood-" + std::to_string(i), limit, kEpochMs, state);
    if (i % 1000 == 999) {
      for (int b = 0; b < kBusy; ++b) {
        ASSERT_EQ(Passes(table, "busy-" + std::to_string(b), limit, kEpochMs, 1), 0)
            << "busy-" << b << " after " << i + 1 << " flood keys";
      }
    }
  }
  EXPECT_LE(table.Size(), kMaxKeys);
}

TEST(CounterTable, EndedWindowsAreReclaimedBeforeRunningOnes) {
  constexpr std::size_t kMaxKeys = 64;  // one entry per shard
  CounterTable table(kMaxKeys);
  const Limit minute = PerWindow(1, 60);
  LevelState state;
  // Fill the table in one minute, then come back in the next: every old entry is reclaimable.
  for (int i = 0; i < 1000; ++i) {
    table.TryAcquire("old-" + std::to_string(i), minute, kEpochMs, state);
  }
  ASSERT_LE(table.Size(), kMaxKeys);
  const Limit hour = PerWindow(3, 3600);
  EXPECT_EQ(Passes(table, "new", hour, kEpochMs + 60'000, 5), 3);
  EXPECT_LE(table.Size(), kMaxKeys);
}

TEST(CounterTable, TheSameKeyWithTwoLimitsSharesOneCounter) {
  // Keys are per level and tier in practice; this documents that the table is keyed by the key
  // alone: a key must not be reused with a different window.
  CounterTable table;
  EXPECT_EQ(Passes(table, "k", PerWindow(2, 60), kEpochMs, 1), 1);
  EXPECT_EQ(Passes(table, "k", PerWindow(2, 60), kEpochMs, 5), 1);
}

}  // namespace
}  // namespace mgw::ratelimit
