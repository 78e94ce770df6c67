// The gateway server: HTTP and HTTPS listeners on N worker threads (one io_context each,
// SO_REUSEPORT listeners, a connection stays on its worker), the admin listener, and graceful
// drain on SIGTERM/SIGINT. Beast and Asio stay inside server.cc.
#pragma once

#include <memory>

#include "base/result.h"
#include "runtime/gateway_config.h"

namespace mgw::runtime {

class Server {
 public:
  // Binds every listener (fails with a message naming the address if one cannot be bound) and
  // prepares the workers; nothing is served until Run().
  static base::Result<std::unique_ptr<Server>> Start(std::shared_ptr<const GatewayConfig> config);

  // Serves until SIGTERM or SIGINT, then drains: /ready answers 503, listeners close, in-flight
  // requests finish (up to server.drain_timeout_ms), idle connections close. Returns the process
  // exit code (0 after a clean drain).
  int Run();

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgw::runtime
