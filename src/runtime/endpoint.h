// Endpoint groups at run time: parsed upstream URLs, load-balancing and failover order, and the
// circuit breaker. One EndpointGroupState per group, shared by all workers (its counters are
// atomic; the breaker takes a small mutex only when the group configures one).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "bundle/model.h"

namespace mgw::runtime {

using Clock = std::chrono::steady_clock;

struct UpstreamTarget {
  std::string url;        // as configured (after overrides)
  bool tls = false;
  std::string host;       // for connecting, SNI and certificate checks
  std::string port;       // numeric
  std::string host_header;  // host[:port] as sent in Host
  std::string base_path;  // path prefix of the URL, "" or "/v2" (no trailing slash)
  // Keys of the upstream connection pool: scheme://host:port, for a verified and an
  // unverified TLS connection (the same for plain http).
  std::string pool_key;
  std::string pool_key_noverify;
};

// Parses an absolute http(s) URL into a target.
base::Result<UpstreamTarget> ParseUpstreamUrl(const std::string& url);

// The circuit breaker of `advanceEndpointConfig.circuitBreaker`: a rolling window of outcomes;
// opens when at least `request_volume_threshold` requests in the window failed at a ratio of at
// least `failure_threshold`; while open, requests are refused without contacting the backend;
// after `reset_time_ms` one trial request is let through (half-open) and its outcome closes or
// reopens the circuit. Thread-safe.
class CircuitBreaker {
 public:
  explicit CircuitBreaker(const bundle::CircuitBreakerConfig& config);

  // May a request go to the backend now? In half-open state only one caller gets true.
  bool Allow(Clock::time_point now);
  void Record(bool failure, Clock::time_point now);
  bool IsOpen(Clock::time_point now) const;

 private:
  static constexpr int kBuckets = 10;
  enum class State { kClosed, kOpen, kHalfOpen };
  void Rotate(Clock::time_point now);

  const bundle::CircuitBreakerConfig config_;
  const std::chrono::milliseconds bucket_width_;
  mutable std::mutex mutex_;
  State state_ = State::kClosed;
  Clock::time_point opened_at_{};
  bool trial_in_flight_ = false;
  struct Bucket {
    std::int64_t index = -1;  // which bucket_width_-long slot of time it counts
    int requests = 0;
    int failures = 0;
  };
  Bucket buckets_[kBuckets];
};

class EndpointGroupState {
 public:
  EndpointGroupState(bundle::EndpointGroup group, std::vector<UpstreamTarget> targets);

  const bundle::EndpointGroup& Config() const { return group_; }
  const std::vector<UpstreamTarget>& Targets() const { return targets_; }
  const std::string& Authorization() const { return authorization_; }  // "Basic ..." or ""

  // The order in which to try targets for one request: load_balance starts at the next
  // round-robin position, failover and http at the first; targets marked down recently go last.
  void Order(Clock::time_point now, std::vector<std::size_t>& order);

  // A connection to target `index` failed: skip it for a moment (load balancing and failover).
  void MarkDown(std::size_t index, Clock::time_point now);

  CircuitBreaker* Breaker() { return breaker_.get(); }

 private:
  const bundle::EndpointGroup group_;
  const std::vector<UpstreamTarget> targets_;
  std::string authorization_;
  std::atomic<std::uint64_t> next_{0};
  std::unique_ptr<std::atomic<std::int64_t>[]> down_until_;  // ns since clock epoch
  std::unique_ptr<CircuitBreaker> breaker_;
};

}  // namespace mgw::runtime
