// A small asynchronous HTTP client interface for the gateway's own calls (token introspection,
// JWKS). Implemented by each worker on its event loop, so a fetch never blocks a thread.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "base/result.h"
#include "runtime/executor.h"

namespace mgw::runtime {

struct FetchRequest {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
  std::size_t max_response_bytes = 1 << 20;
};

struct FetchResponse {
  unsigned status = 0;
  std::string body;
};

class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  // Fails (never throws) on a connection error, timeout, or a response larger than the limit.
  virtual Awaitable<base::Result<FetchResponse>> Fetch(FetchRequest request) = 0;
};

}  // namespace mgw::runtime
