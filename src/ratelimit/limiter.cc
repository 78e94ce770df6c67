#include "ratelimit/limiter.h"

#include <algorithm>
#include <functional>

namespace mgw::ratelimit {
namespace {

constexpr int kCountBits = 40;
constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kCountBits) - 1;
constexpr std::uint64_t kWindowMask = (std::uint64_t{1} << (64 - kCountBits)) - 1;

std::uint64_t WindowIndex(std::int64_t now_ms, std::int64_t window_seconds) {
  return static_cast<std::uint64_t>(now_ms / (window_seconds * 1000)) & kWindowMask;
}

std::int64_t WindowEndMs(std::int64_t now_ms, std::int64_t window_seconds) {
  const std::int64_t width = window_seconds * 1000;
  return (now_ms / width + 1) * width;
}

}  // namespace

CounterTable::CounterTable(std::size_t max_keys)
    : max_per_shard_(std::max<std::size_t>(1, max_keys / kShards)) {}

std::shared_ptr<CounterTable::Entry> CounterTable::Find(std::string_view key, std::int64_t now_ms,
                                                        std::int64_t window_end_ms, bool create) {
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  // Heterogeneous lookup would avoid this copy; keys are short (tens of bytes).
  auto it = shard.entries.find(std::string(key));
  if (it != shard.entries.end()) {
    return it->second;
  }
  if (!create) {
    return nullptr;
  }
  if (shard.entries.size() >= max_per_shard_) {
    // Reclaim expired windows; if none, replace the entry whose window ends first.
    auto victim = shard.entries.end();
    for (auto e = shard.entries.begin(); e != shard.entries.end();) {
      // use_count() == 1 under the shard lock: no thread is between Find() and its update.
      if (e->second->window_end_ms.load(std::memory_order_relaxed) <= now_ms &&
          e->second.use_count() == 1) {
        e = shard.entries.erase(e);
        continue;
      }
      if (victim == shard.entries.end() ||
          e->second->window_end_ms.load(std::memory_order_relaxed) <
              victim->second->window_end_ms.load(std::memory_order_relaxed)) {
        victim = e;
      }
      ++e;
    }
    if (shard.entries.size() >= max_per_shard_ && victim != shard.entries.end()) {
      shard.entries.erase(victim);
    }
  }
  auto entry = std::make_shared<Entry>();
  entry->window_end_ms.store(window_end_ms, std::memory_order_relaxed);
  shard.entries.emplace(std::string(key), entry);
  return entry;
}

bool CounterTable::TryAcquire(std::string_view key, const Limit& limit, std::int64_t now_ms,
                              LevelState& state) {
  const std::uint64_t window = WindowIndex(now_ms, limit.window_seconds);
  const std::int64_t window_end = WindowEndMs(now_ms, limit.window_seconds);
  auto entry = Find(key, now_ms, window_end, true);
  std::uint64_t current = entry->state.load(std::memory_order_acquire);
  std::uint64_t count = 0;
  bool allowed = false;
  while (true) {
    const std::uint64_t current_window = current >> kCountBits;
    count = current_window == window ? (current & kCountMask) : 0;
    const bool room = static_cast<std::int64_t>(count) < limit.count;
    if (!room && limit.stop_on_quota) {
      allowed = false;
      break;
    }
    const std::uint64_t next = (window << kCountBits) | std::min(count + 1, kCountMask);
    if (entry->state.compare_exchange_weak(current, next, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
      ++count;
      allowed = true;
      break;
    }
  }
  if (entry->window_end_ms.load(std::memory_order_relaxed) < window_end) {
    entry->window_end_ms.store(window_end, std::memory_order_relaxed);
  }
  state.limit = limit.count;
  state.remaining = std::max<std::int64_t>(0, limit.count - static_cast<std::int64_t>(count));
  state.reset_seconds = (window_end - now_ms + 999) / 1000;
  state.over_quota = static_cast<std::int64_t>(count) > limit.count ||
                     (!allowed && static_cast<std::int64_t>(count) >= limit.count);
  return allowed;
}

void CounterTable::Release(std::string_view key, const Limit& limit, std::int64_t now_ms) {
  const std::uint64_t window = WindowIndex(now_ms, limit.window_seconds);
  auto entry = Find(key, now_ms, 0, false);
  if (!entry) {
    return;
  }
  std::uint64_t current = entry->state.load(std::memory_order_acquire);
  while ((current >> kCountBits) == window && (current & kCountMask) > 0) {
    if (entry->state.compare_exchange_weak(current, current - 1, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
      return;
    }
  }
}

std::size_t CounterTable::Sweep(std::int64_t now_ms) {
  std::size_t dropped = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      if (it->second->window_end_ms.load(std::memory_order_relaxed) <= now_ms &&
          it->second.use_count() == 1) {
        it = shard.entries.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  return dropped;
}

std::size_t CounterTable::Size() const {
  std::size_t size = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    size += shard.entries.size();
  }
  return size;
}

}  // namespace mgw::ratelimit
