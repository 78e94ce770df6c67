#include "runtime/metrics.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "base/single_writer.h"

namespace mgw::runtime {
namespace {

constexpr std::array<const char*, 4> kLevels = {"api", "resource", "subscription", "application"};
constexpr std::array<const char*, static_cast<int>(AuthFailureReason::kCount)> kReasons = {
    "missing_credentials", "invalid_credentials", "invalid_scheme", "forbidden_scope",
    "forbidden_subscription", "key_manager_unavailable", "other"};

std::string Escape(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

// Microseconds as seconds, exactly (no rounding to a few significant digits).
std::string Seconds(std::uint64_t microseconds) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%llu.%06llu",
                static_cast<unsigned long long>(microseconds / 1000000),  // NOLINT(google-runtime-int)
                static_cast<unsigned long long>(microseconds % 1000000));  // NOLINT(google-runtime-int)
  return buffer;
}

}  // namespace

MetricSlots::MetricSlots(const GatewayConfig& config) {
  labels_.push_back({});  // slot 0: no API matched
  for (const auto& api : config.apis) {
    api_base_.push_back(static_cast<int>(labels_.size()));
    labels_.push_back({api.api->title, api.api->version, "", ""});
    for (const auto& resource : api.resources) {
      labels_.push_back({api.api->title, api.api->version, resource.resource->path_template,
                         resource.resource->method});
    }
  }
  count_ = static_cast<int>(labels_.size());
}

AuthFailureReason ReasonForCode(int code) {
  switch (code) {
    case 900902:
      return AuthFailureReason::kMissingCredentials;
    case 900901:
    case 900911:
    case 900912:
      return AuthFailureReason::kInvalidCredentials;
    case 900917:
      return AuthFailureReason::kInvalidScheme;
    case 900910:
      return AuthFailureReason::kForbiddenScope;
    case 900908:
      return AuthFailureReason::kForbiddenSubscription;
    case 900900:
      return AuthFailureReason::kKeyManagerUnavailable;
    default:
      return AuthFailureReason::kOther;
  }
}

namespace {

// Each shard has one writer, its worker (base/single_writer.h: no locked instruction per count).
void Bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  base::SingleWriterAdd(counter, n);
}

}  // namespace

MetricsShard::MetricsShard(int slots) : slots_(new Slot[slots]), count_(slots) {}

void MetricsShard::Observe(Histogram& histogram, double seconds) {
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) {
    ++bucket;
  }
  Bump(histogram.buckets[bucket]);
  Bump(histogram.sum_us, static_cast<std::uint64_t>(std::llround(std::max(0.0, seconds) * 1e6)));
  Bump(histogram.count);
}

void MetricsShard::Record(int slot_index, int status, double seconds, double backend_seconds) {
  if (slot_index < 0 || slot_index >= count_) {
    return;
  }
  Slot& slot = slots_[slot_index];
  bool counted = false;
  // 0 marks a free entry: a request that ended without a status (should not happen) is "other".
  for (int i = 0; i < Slot::kCodes && status > 0; ++i) {
    const int code = slot.codes[i].load(std::memory_order_relaxed);
    if (code == status) {
      Bump(slot.counts[i]);
      counted = true;
      break;
    }
    if (code == 0) {
      // Only this worker writes its shard: claiming a free entry needs no CAS.
      Bump(slot.counts[i]);
      slot.codes[i].store(status, std::memory_order_release);
      counted = true;
      break;
    }
  }
  if (!counted) {
    Bump(slot.other);
  }
  Observe(slot.duration, seconds);
  if (backend_seconds >= 0) {
    Observe(slot.backend, backend_seconds);
  }
}

void MetricsShard::Throttled(int slot, int level) {
  if (slot >= 0 && slot < count_ && level >= 0 && level < 4) {
    Bump(slots_[slot].throttled[level]);
  }
}

void MetricsShard::AuthFailure(AuthFailureReason reason) {
  Bump(auth_failures_[static_cast<int>(reason)]);
}

std::string RenderMetrics(const MetricSlots& slots, const std::vector<const MetricsShard*>& shards,
                          const MetricsGauges& gauges) {
  std::string out;
  out.reserve(16 * 1024);
  auto labels = [&](int slot) {
    const auto& l = slots.LabelsOf(slot);
    return "api=\"" + Escape(l.api) + "\",version=\"" + Escape(l.version) + "\",resource=\"" +
           Escape(l.resource) + "\",method=\"" + Escape(l.method) + "\"";
  };

  out += "# HELP mgw_requests_total Requests answered, by API, resource, method and status code.\n";
  out += "# TYPE mgw_requests_total counter\n";
  for (int s = 0; s < slots.Count(); ++s) {
    std::map<int, std::uint64_t> by_code;
    std::uint64_t other = 0;
    for (const auto* shard : shards) {
      const auto& slot = shard->At(s);
      for (int i = 0; i < MetricsShard::Slot::kCodes; ++i) {
        const int code = slot.codes[i].load(std::memory_order_acquire);
        if (code != 0) {
          by_code[code] += slot.counts[i].load(std::memory_order_relaxed);
        }
      }
      other += slot.other.load(std::memory_order_relaxed);
    }
    for (const auto& [code, count] : by_code) {
      out += "mgw_requests_total{" + labels(s) + ",code=\"" + std::to_string(code) + "\"} " +
             std::to_string(count) + "\n";
    }
    if (other > 0) {
      out += "mgw_requests_total{" + labels(s) + ",code=\"other\"} " + std::to_string(other) + "\n";
    }
  }

  auto histogram = [&](const char* name, const char* help, bool backend) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " histogram\n";
    for (int s = 0; s < slots.Count(); ++s) {
      std::array<std::uint64_t, MetricsShard::kBuckets.size() + 1> buckets{};
      std::uint64_t sum_us = 0;
      std::uint64_t count = 0;
      for (const auto* shard : shards) {
        const auto& h = backend ? shard->At(s).backend : shard->At(s).duration;
        for (std::size_t b = 0; b < buckets.size(); ++b) {
          buckets[b] += h.buckets[b].load(std::memory_order_relaxed);
        }
        sum_us += h.sum_us.load(std::memory_order_relaxed);
        count += h.count.load(std::memory_order_relaxed);
      }
      if (count == 0) {
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < buckets.size(); ++b) {
        cumulative += buckets[b];
        const std::string le = b < MetricsShard::kBuckets.size() ? Number(MetricsShard::kBuckets[b]) : "+Inf";
        out += std::string(name) + "_bucket{" + labels(s) + ",le=\"" + le + "\"} " +
               std::to_string(cumulative) + "\n";
      }
      out += std::string(name) + "_sum{" + labels(s) + "} " + Seconds(sum_us) + "\n";
      // The +Inf bucket, not the separate counter: the worker may record between the two loads,
      // and the format requires _count == the +Inf bucket.
      out += std::string(name) + "_count{" + labels(s) + "} " + std::to_string(cumulative) + "\n";
    }
  };
  histogram("mgw_request_duration_seconds", "Time from the request's arrival to its answer.", false);
  histogram("mgw_backend_duration_seconds", "Time the backend took to answer (header).", true);

  out += "# HELP mgw_throttled_total Requests rejected by rate limiting, by level.\n";
  out += "# TYPE mgw_throttled_total counter\n";
  for (int s = 0; s < slots.Count(); ++s) {
    for (int level = 0; level < 4; ++level) {
      std::uint64_t count = 0;
      for (const auto* shard : shards) {
        count += shard->At(s).throttled[level].load(std::memory_order_relaxed);
      }
      if (count > 0) {
        const auto& l = slots.LabelsOf(s);
        out += "mgw_throttled_total{api=\"" + Escape(l.api) + "\",version=\"" + Escape(l.version) +
               "\",resource=\"" + Escape(l.resource) + "\",method=\"" + Escape(l.method) +
               "\",level=\"" + kLevels[level] + "\"} " + std::to_string(count) + "\n";
      }
    }
  }
  out += "# HELP mgw_auth_failures_total Requests refused by authentication or authorization.\n";
  out += "# TYPE mgw_auth_failures_total counter\n";
  for (int r = 0; r < static_cast<int>(AuthFailureReason::kCount); ++r) {
    std::uint64_t count = 0;
    for (const auto* shard : shards) {
      count += shard->AuthFailures(static_cast<AuthFailureReason>(r));
    }
    out += std::string("mgw_auth_failures_total{reason=\"") + kReasons[r] + "\"} " +
           std::to_string(count) + "\n";
  }
  out += "# HELP mgw_connections_active Client connections open now.\n";
  out += "# TYPE mgw_connections_active gauge\n";
  out += "mgw_connections_active " + std::to_string(gauges.connections_active) + "\n";
  out += "# HELP mgw_analytics_dropped_total Analytics events dropped because a queue was full.\n";
  out += "# TYPE mgw_analytics_dropped_total counter\n";
  out += "mgw_analytics_dropped_total " + std::to_string(gauges.analytics_dropped) + "\n";
  out += "# HELP mgw_analytics_files_dropped_total Closed event files deleted to stay under "
         "analytics.max_disk_bytes.\n";
  out += "# TYPE mgw_analytics_files_dropped_total counter\n";
  out += "mgw_analytics_files_dropped_total " + std::to_string(gauges.analytics_files_dropped) + "\n";
  out += "# HELP mgw_analytics_events_written_total Analytics events written to files.\n";
  out += "# TYPE mgw_analytics_events_written_total counter\n";
  out += "mgw_analytics_events_written_total " + std::to_string(gauges.analytics_written) + "\n";
  return out;
}

}  // namespace mgw::runtime
