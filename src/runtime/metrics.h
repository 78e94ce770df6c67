// Prometheus metrics (contract section 7). Each worker owns a MetricsShard and is its only
// writer (relaxed loads and stores of atomics: no locks and no locked instructions on the request
// path); /metrics merges the shards when it is scraped. Labels come from the bundle (API, version,
// resource template, method) and the status code, so cardinality is bounded by the bundle, never
// by client input.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/gateway_config.h"

namespace mgw::runtime {

// Where a request is counted: one slot per resource, one per API for requests that matched no
// resource of it, and slot 0 for requests that matched no API.
struct MetricSlots {
  explicit MetricSlots(const GatewayConfig& config);
  int Unrouted() const { return 0; }
  int ApiUnrouted(int api) const { return api_base_[api]; }
  int Resource(int api, int resource) const { return api_base_[api] + 1 + resource; }
  int Count() const { return count_; }
  struct Labels {
    std::string api, version, resource, method;
  };
  const Labels& LabelsOf(int slot) const { return labels_[slot]; }

 private:
  std::vector<int> api_base_;
  std::vector<Labels> labels_;
  int count_ = 0;
};

enum class AuthFailureReason : std::uint8_t {
  kMissingCredentials, kInvalidCredentials, kInvalidScheme, kForbiddenScope,
  kForbiddenSubscription, kKeyManagerUnavailable, kOther, kCount
};
AuthFailureReason ReasonForCode(int code);

class MetricsShard {
 public:
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};
  explicit MetricsShard(int slots);

  // `backend_seconds` < 0: the backend was not called.
  void Record(int slot, int status, double seconds, double backend_seconds);
  void Throttled(int slot, int level);
  void AuthFailure(AuthFailureReason reason);

  struct Histogram {
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // last = +Inf
    std::atomic<std::uint64_t> sum_us{0};
    std::atomic<std::uint64_t> count{0};
  };
  struct Slot {
    static constexpr int kCodes = 16;
    std::array<std::atomic<int>, kCodes> codes{};            // 0 = free; -1 = "other"
    std::array<std::atomic<std::uint64_t>, kCodes> counts{};
    std::atomic<std::uint64_t> other{0};
    Histogram duration;
    Histogram backend;
    std::array<std::atomic<std::uint64_t>, 4> throttled{};
  };
  const Slot& At(int slot) const { return slots_[slot]; }
  std::uint64_t AuthFailures(AuthFailureReason reason) const {
    return auth_failures_[static_cast<int>(reason)].load(std::memory_order_relaxed);
  }

 private:
  static void Observe(Histogram& histogram, double seconds);
  std::unique_ptr<Slot[]> slots_;
  int count_;
  std::array<std::atomic<std::uint64_t>, static_cast<int>(AuthFailureReason::kCount)> auth_failures_{};
};

struct MetricsGauges {
  std::int64_t connections_active = 0;
  std::uint64_t analytics_dropped = 0;
  std::uint64_t analytics_files_dropped = 0;
  std::uint64_t analytics_written = 0;
};

// The Prometheus text exposition of every shard, merged.
std::string RenderMetrics(const MetricSlots& slots, const std::vector<const MetricsShard*>& shards,
                          const MetricsGauges& gauges);

}  // namespace mgw::runtime
