// Rate-limit counters shared by several gateways through Redis (rate_limit.store = "redis").
// One connection per worker, driven by the worker's event loop (never blocking it); all levels
// of a request are decided by one Lua script, atomically on the server, with the same
// all-or-nothing rule as local counting. When Redis cannot answer in time, Decide() says so and
// the caller applies rate_limit.on_store_failure.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "base/result.h"
#include "ratelimit/rate_limiter.h"
#include "runtime/executor.h"

namespace mgw::runtime {

struct RedisTarget {
  std::string host = "127.0.0.1";
  std::string port = "6379";
  int database = 0;
  std::string password;
};

// Parses redis://[:password@]host[:port][/db].
base::Result<RedisTarget> ParseRedisUrl(const std::string& url);

// Shared by all workers: whether Redis is in an outage (logged once per outage).
struct RedisHealth {
  std::atomic<bool> outage{false};
  std::atomic<bool> stopping{false};
};

class RedisStore {
 public:
  // `blocking_pool` resolves the Redis host name (getaddrinfo blocks).
  RedisStore(Executor executor, boost::asio::thread_pool& blocking_pool, RedisTarget target,
             std::shared_ptr<RedisHealth> health);
  ~RedisStore();
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  // Keeps the connection up (reconnecting with a pause) until health->stopping; co_spawn it once.
  Awaitable<void> Maintain();

  // The decision for `checks`, or std::nullopt when Redis did not answer in time.
  Awaitable<std::optional<ratelimit::Decision>> Decide(
      const std::vector<ratelimit::Check>& checks, std::int64_t now_ms);

  // Closes the connection (drain).
  void Close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgw::runtime
