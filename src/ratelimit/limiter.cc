#include "ratelimit/limiter.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <thread>
#include <vector>

namespace mgw::ratelimit {
namespace {

void CpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace

std::size_t CounterTable::KeyHash::operator()(std::string_view k) const noexcept {
  return std::hash<std::string_view>{}(k);
}

void CounterTable::SpinLock::Lock() noexcept {
  int spins = 0;
  while (locked_.exchange(true, std::memory_order_acquire)) {
    while (locked_.load(std::memory_order_relaxed)) {
      if (++spins < 64) {
        CpuRelax();
      } else {
        std::this_thread::yield();  // the holder may have been preempted
      }
    }
  }
}

CounterTable::CounterTable(std::size_t max_keys)
    : max_per_shard_(std::max<std::size_t>(1, max_keys / kShards)) {}

CounterTable::Shard& CounterTable::ShardOf(const HashedKey& key) {
  // The map picks its bucket from the whole hash modulo a prime; the shard uses high bits.
  return shards_[(static_cast<std::uint64_t>(key.hash) >> 40) % kShards];
}

std::size_t CounterTable::DropEnded(Shard& shard, std::int64_t now_ms) {
  if (now_ms < shard.earliest_end_ms) {
    return 0;
  }
  std::size_t dropped = 0;
  std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
  for (auto it = shard.counters.begin(); it != shard.counters.end();) {
    if (it->second.window_end_ms <= now_ms) {
      it = shard.counters.erase(it);
      ++dropped;
    } else {
      earliest = std::min(earliest, it->second.window_end_ms);
      ++it;
    }
  }
  shard.earliest_end_ms = earliest;
  return dropped;
}

void CounterTable::MakeRoom(Shard& shard, std::int64_t now_ms) const {
  // One pass: drop the ended windows, and note what is left for the ranking below (copied out,
  // so the ranking does not chase the map's nodes).
  struct Candidate {
    std::int64_t count;
    std::int64_t window_end_ms;
    Map::iterator it;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(shard.counters.size());
  std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
  for (auto it = shard.counters.begin(); it != shard.counters.end();) {
    if (it->second.window_end_ms <= now_ms) {
      it = shard.counters.erase(it);
      continue;
    }
    earliest = std::min(earliest, it->second.window_end_ms);
    candidates.push_back({it->second.count, it->second.window_end_ms, it});
    ++it;
  }
  shard.earliest_end_ms = earliest;
  // Leave 1/16 free, so the next new keys are inserted without another pass.
  const std::size_t target = max_per_shard_ - std::max<std::size_t>(1, max_per_shard_ / 16);
  if (candidates.size() <= target) {
    return;
  }
  const std::size_t victims = candidates.size() - target;
  std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(victims - 1),
                   candidates.end(), [](const Candidate& a, const Candidate& b) {
                     if (a.count != b.count) {
                       return a.count < b.count;
                     }
                     return a.window_end_ms < b.window_end_ms;
                   });
  for (std::size_t i = 0; i < victims; ++i) {
    shard.counters.erase(candidates[i].it);
  }
}

bool CounterTable::TryAcquire(std::string_view key, const Limit& limit, std::int64_t now_ms,
                              LevelState& state) {
  const std::int64_t width = std::max<std::int64_t>(1, limit.window_seconds) * 1000;
  const std::int64_t window = now_ms / width;
  const HashedKey hashed{key, KeyHash{}(key)};
  Shard& shard = ShardOf(hashed);
  bool allowed = false;
  std::int64_t count = 0;
  std::int64_t window_end = 0;
  {
    Guard guard(shard.lock);
    auto it = shard.counters.find(hashed);
    if (it == shard.counters.end()) {
      if (shard.counters.size() >= max_per_shard_) {
        MakeRoom(shard, now_ms);
      }
      it = shard.counters.emplace(std::string(key), Counter{window, 0, (window + 1) * width}).first;
      shard.earliest_end_ms = std::min(shard.earliest_end_ms, it->second.window_end_ms);
    }
    Counter& counter = it->second;
    if (window > counter.window) {
      counter = Counter{window, 0, (window + 1) * width};
    }
    // A request whose clock read is older than the counter's window (another worker already
    // moved it on) is counted in the newer window: the count never restarts backwards.
    allowed = counter.count < limit.count || !limit.stop_on_quota;
    if (allowed) {
      ++counter.count;
    }
    count = counter.count;
    window_end = counter.window_end_ms;
  }
  state.limit = limit.count;
  state.remaining = std::max<std::int64_t>(0, limit.count - count);
  // Clamped to the window: a late clock read (see above) is never told to wait longer than that.
  state.reset_seconds = std::clamp<std::int64_t>((window_end - now_ms + 999) / 1000, 0, width / 1000);
  state.over_quota = !allowed || count > limit.count;
  return allowed;
}

void CounterTable::Release(std::string_view key, const Limit& limit, std::int64_t now_ms) {
  const std::int64_t width = std::max<std::int64_t>(1, limit.window_seconds) * 1000;
  const std::int64_t window = now_ms / width;
  const HashedKey hashed{key, KeyHash{}(key)};
  Shard& shard = ShardOf(hashed);
  Guard guard(shard.lock);
  auto it = shard.counters.find(hashed);
  if (it != shard.counters.end() && it->second.window == window && it->second.count > 0) {
    --it->second.count;
  }
}

std::size_t CounterTable::Sweep(std::int64_t now_ms) {
  std::size_t dropped = 0;
  for (auto& shard : shards_) {
    Guard guard(shard.lock);
    dropped += DropEnded(shard, now_ms);
  }
  return dropped;
}

std::size_t CounterTable::Size() const {
  std::size_t size = 0;
  for (const auto& shard : shards_) {
    Guard guard(shard.lock);
    size += shard.counters.size();
  }
  return size;
}

}  // namespace mgw::ratelimit
