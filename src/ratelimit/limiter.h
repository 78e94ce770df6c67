// Local rate limiting (contract section 6): fixed windows aligned to the unit, exact across
// worker threads. One counter per key and window, held in a bounded, sharded table; the decision
// for a key is a compare-and-swap on one 64-bit word (window index and count packed), so exactly
// `count` requests pass per window however many threads race, and a rejected request is never
// counted. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mgw::ratelimit {

// A policy as the limiter needs it.
struct Limit {
  std::int64_t count = 0;           // requests allowed per window
  std::int64_t window_seconds = 60;
  bool stop_on_quota = true;        // false: count, never reject
  std::int64_t burst = 0;           // at most this many per second; 0 = no burst limit
};

// The state of one level after a decision, for the response headers.
struct LevelState {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t reset_seconds = 0;  // until the window ends
  bool over_quota = false;         // the count passed the limit (stopOnQuota: false)
};

class CounterTable {
 public:
  // `max_keys` bounds memory: past it, expired windows are reclaimed first, then the entry of
  // the shard with the oldest window is replaced (documented in docs/rate-limiting.md).
  explicit CounterTable(std::size_t max_keys = 1'000'000);

  // Counts one request for `key` in the window that contains `now_ms` (milliseconds since the
  // epoch) if the window has room; returns true when the request may pass. `state` receives the
  // counter's state either way.
  bool TryAcquire(std::string_view key, const Limit& limit, std::int64_t now_ms, LevelState& state);

  // Gives back one request counted by TryAcquire in the same window (a later level rejected it).
  void Release(std::string_view key, const Limit& limit, std::int64_t now_ms);

  // Drops entries whose window ended before `now_ms`; returns how many were dropped.
  std::size_t Sweep(std::int64_t now_ms);

  std::size_t Size() const;

 private:
  struct Entry {
    std::atomic<std::uint64_t> state{0};  // window index (high 24 bits) | count (low 40 bits)
    std::atomic<std::int64_t> window_end_ms{0};
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<Entry>> entries;
  };
  std::shared_ptr<Entry> Find(std::string_view key, std::int64_t now_ms, std::int64_t window_end_ms,
                              bool create);

  static constexpr std::size_t kShards = 64;
  std::size_t max_per_shard_;
  Shard shards_[kShards];
};

}  // namespace mgw::ratelimit
