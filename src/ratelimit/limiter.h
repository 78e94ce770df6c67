// Local rate limiting (contract section 6): fixed windows aligned to the unit, exact across
// worker threads. One counter per key, held in a bounded table of 64 shards; a decision for a key
// is made under its shard's lock (held for a hash lookup and two integer updates), so exactly
// `count` requests pass per window however many threads race, and a rejected request is never
// counted. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mgw::ratelimit {

// A policy as the limiter needs it.
struct Limit {
  std::int64_t count = 0;           // requests allowed per window
  std::int64_t window_seconds = 60;
  bool stop_on_quota = true;        // false: count, never reject
  std::int64_t burst = 0;           // at most this many per second; 0 = no burst limit
  // ";q=<count>;w=<window_seconds>" for the RateLimit-Policy field, written once by Policies
  // (the gateway's checks take their limits from there; the burst windows made on the side never
  // appear in that field).
  std::string policy_params;
};

// The state of one level after a decision, for the response headers.
struct LevelState {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t reset_seconds = 0;  // until the window ends
  bool over_quota = false;         // the count reached the limit (rejected) or passed it
};

class CounterTable {
 public:
  // `max_keys` bounds memory: each of the 64 shards holds at most max(1, max_keys / 64) counters
  // (so at most max(64, max_keys) in all). A shard that is full when a new key arrives first drops
  // the counters whose window has ended; if that leaves it more than 15/16 full, it drops the
  // counters with the fewest requests in their window (ties: the window that ends first) until
  // it is 15/16 full. A busy or exhausted counter therefore outlives a flood of one-off keys, and
  // making room costs O(1) per new key, amortised. See docs/rate-limiting.md.
  explicit CounterTable(std::size_t max_keys = 1'000'000);

  // Counts one request for `key` in the window that contains `now_ms` (milliseconds since the
  // epoch; windows are aligned to multiples of their width since the epoch) if the window has
  // room, or always when !limit.stop_on_quota; returns true when the request may pass. `state`
  // receives the counter's state either way. A `key` must always be used with the same window.
  bool TryAcquire(std::string_view key, const Limit& limit, std::int64_t now_ms, LevelState& state);

  // Gives back one request counted by TryAcquire at `now_ms` (a later level rejected it). Does
  // nothing when the key's counter has moved on to another window or is gone.
  void Release(std::string_view key, const Limit& limit, std::int64_t now_ms);

  // Drops the counters whose window ended at or before `now_ms`; returns how many were dropped.
  std::size_t Sweep(std::int64_t now_ms);

  std::size_t Size() const;

 private:
  struct Counter {
    std::int64_t window = 0;         // index of the window counted: now_ms / width
    std::int64_t count = 0;
    std::int64_t window_end_ms = 0;  // when that window ends
  };
  // A key with its hash computed once, for the shard choice and the map lookup.
  struct HashedKey {
    std::string_view key;
    std::size_t hash;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const HashedKey& k) const noexcept { return k.hash; }
    std::size_t operator()(std::string_view k) const noexcept;
  };
  struct KeyEqual {
    using is_transparent = void;
    static std::string_view View(const HashedKey& k) noexcept { return k.key; }
    static std::string_view View(std::string_view k) noexcept { return k; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return View(a) == View(b);
    }
  };
  using Map = std::unordered_map<std::string, Counter, KeyHash, KeyEqual>;

  // A test-and-test-and-set lock: the critical sections are a few tens of nanoseconds, so a
  // waiter spins briefly (then yields) instead of sleeping in the kernel.
  class SpinLock {
   public:
    void Lock() noexcept;
    void Unlock() noexcept { locked_.store(false, std::memory_order_release); }

   private:
    std::atomic<bool> locked_{false};
  };
  class Guard {
   public:
    explicit Guard(SpinLock& lock) noexcept : lock_(lock) { lock_.Lock(); }
    ~Guard() { lock_.Unlock(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    SpinLock& lock_;
  };

  struct alignas(64) Shard {
    mutable SpinLock lock;
    Map counters;
    // No counter's window ends before this (a lower bound): Sweep skips the shard until then.
    std::int64_t earliest_end_ms = 0;
  };

  Shard& ShardOf(const HashedKey& key);
  void MakeRoom(Shard& shard, std::int64_t now_ms) const;
  // Drops the shard's counters whose window ended at or before now_ms; returns how many.
  static std::size_t DropEnded(Shard& shard, std::int64_t now_ms);

  static constexpr std::size_t kShards = 64;
  std::size_t max_per_shard_;
  Shard shards_[kShards];
};

}  // namespace mgw::ratelimit
