#include "runtime/endpoint.h"

#include <openssl/evp.h>

#include <algorithm>

#include <boost/url/parse.hpp>

namespace mgw::runtime {

base::Result<UpstreamTarget> ParseUpstreamUrl(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return base::MakeError("\"" + url + "\" is not a valid URL");
  }
  UpstreamTarget target;
  target.url = url;
  const std::string scheme(parsed->scheme());
  if (scheme == "https") {
    target.tls = true;
  } else if (scheme != "http") {
    return base::MakeError("\"" + url + "\" is not an http(s) URL");
  }
  target.host = std::string(parsed->encoded_host());
  if (target.host.empty()) {
    return base::MakeError("\"" + url + "\" has no host");
  }
  if (target.host.front() == '[' && target.host.back() == ']') {
    target.host = target.host.substr(1, target.host.size() - 2);  // IPv6 literal
  }
  target.port = parsed->has_port() ? std::string(parsed->port()) : (target.tls ? "443" : "80");
  target.host_header = std::string(parsed->encoded_host_and_port());
  std::string path(parsed->encoded_path());
  while (!path.empty() && path.back() == '/') {
    path.pop_back();
  }
  target.base_path = path;
  const std::string origin = target.host + ":" + target.port;
  target.pool_key = (target.tls ? "https://" : "http://") + origin;
  target.pool_key_noverify = target.tls ? "https-noverify://" + origin : target.pool_key;
  return target;
}

CircuitBreaker::CircuitBreaker(const bundle::CircuitBreakerConfig& config)
    : config_(config),
      bucket_width_(std::max<std::int64_t>(1, config.time_window_ms / kBuckets)) {}

void CircuitBreaker::Rotate(Clock::time_point now) {
  const std::int64_t index =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() /
      bucket_width_.count();
  Bucket& bucket = buckets_[index % kBuckets];
  if (bucket.index != index) {
    bucket = Bucket{index, 0, 0};
  }
}

bool CircuitBreaker::Allow(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now - opened_at_ >= std::chrono::milliseconds(config_.reset_time_ms)) {
        state_ = State::kHalfOpen;
        trial_in_flight_ = true;
        return true;
      }
      return false;
    case State::kHalfOpen:
      if (!trial_in_flight_) {
        trial_in_flight_ = true;
        return true;
      }
      return false;
  }
  return true;
}

void CircuitBreaker::Record(bool failure, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == State::kHalfOpen) {
    trial_in_flight_ = false;
    if (failure) {
      state_ = State::kOpen;
      opened_at_ = now;
    } else {
      state_ = State::kClosed;
      for (auto& bucket : buckets_) {
        bucket = Bucket{};
      }
    }
    return;
  }
  if (state_ == State::kOpen) {
    return;  // a request admitted before the circuit opened
  }
  Rotate(now);
  const std::int64_t current =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() /
      bucket_width_.count();
  Bucket& bucket = buckets_[current % kBuckets];
  ++bucket.requests;
  if (failure) {
    ++bucket.failures;
  }
  int requests = 0;
  int failures = 0;
  for (const auto& b : buckets_) {
    if (b.index > current - kBuckets && b.index <= current) {
      requests += b.requests;
      failures += b.failures;
    }
  }
  if (failures > 0 && requests >= config_.request_volume_threshold &&
      static_cast<double>(failures) >= config_.failure_threshold * requests) {
    state_ = State::kOpen;
    opened_at_ = now;
  }
}

bool CircuitBreaker::IsOpen(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return state_ == State::kOpen &&
         now - opened_at_ < std::chrono::milliseconds(config_.reset_time_ms);
}

namespace {

std::string Base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

EndpointGroupState::EndpointGroupState(bundle::EndpointGroup group,
                                       std::vector<UpstreamTarget> targets)
    : group_(std::move(group)),
      targets_(std::move(targets)),
      down_until_(new std::atomic<std::int64_t>[targets_.size()]) {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    down_until_[i].store(0, std::memory_order_relaxed);
  }
  if (group_.security && group_.security->type == "basic") {
    authorization_ = "Basic " + Base64(group_.security->username + ":" + group_.security->password);
  }
  if (group_.circuit_breaker.enabled) {
    breaker_ = std::make_unique<CircuitBreaker>(group_.circuit_breaker);
  }
}

void EndpointGroupState::Order(Clock::time_point now, std::vector<std::size_t>& order) {
  order.clear();
  const std::size_t n = targets_.size();
  std::size_t start = 0;
  if (group_.type == "load_balance" && n > 1) {
    start = next_.fetch_add(1, std::memory_order_relaxed) % n;
  }
  const std::int64_t now_ns = now.time_since_epoch().count();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    if (down_until_[i].load(std::memory_order_relaxed) <= now_ns) {
      order.push_back(i);
    }
  }
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    if (down_until_[i].load(std::memory_order_relaxed) > now_ns) {
      order.push_back(i);  // still tried, last, in case every target is marked down
    }
  }
}

void EndpointGroupState::MarkDown(std::size_t index, Clock::time_point now) {
  constexpr auto kDownFor = std::chrono::seconds(5);
  down_until_[index].store((now + kDownFor).time_since_epoch().count(), std::memory_order_relaxed);
}

}  // namespace mgw::runtime
