// IoDeadline: cheap timeouts for the relay path's reads and writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "runtime/endpoint.h"
#include "runtime/executor.h"

namespace mgw::runtime {

// A deadline for the I/O on one socket that costs two stores per operation instead of a timer
// operation per read or write (what Beast's tcp_stream does). One timer per socket wakes no
// earlier than the deadline that was set and re-arms itself when the deadline moved; if the
// deadline has passed when it wakes, the socket is closed, so the pending operation fails and
// Expired() tells why. Set() before an operation, Clear() after it: a socket waiting for nothing
// is never closed. Everything runs on the socket's own thread.
class IoDeadline {
 public:
  explicit IoDeadline(Socket& socket)
      : state_(std::make_shared<State>(socket.get_executor(), &socket)) {}
  IoDeadline(const IoDeadline&) = delete;
  IoDeadline& operator=(const IoDeadline&) = delete;
  ~IoDeadline() {
    state_->socket = nullptr;  // a wake-up already queued must not touch the socket
    state_->timer.cancel();
  }

  void Set(Clock::duration timeout) {
    State& s = *state_;
    s.deadline = Clock::now() + timeout;
    s.expired = false;
    if (!s.armed || s.deadline < s.timer.expiry()) {
      Arm(state_);
    }
  }
  void Clear() { state_->deadline = Clock::time_point::max(); }
  // True when the deadline closed the socket since the last Set().
  bool Expired() const { return state_->expired; }

 private:
  struct State {
    State(const Executor& executor, Socket* s)
        : timer(executor), socket(s) {}
    Timer timer;
    Socket* socket;
    Clock::time_point deadline = Clock::time_point::max();
    std::uint64_t generation = 0;  // of the pending wait; older wake-ups are ignored
    bool armed = false;
    bool expired = false;
  };

  static void Arm(const std::shared_ptr<State>& state) {
    State& s = *state;
    s.armed = true;
    const std::uint64_t generation = ++s.generation;
    s.timer.expires_at(s.deadline);
    s.timer.async_wait([state, generation](const boost::system::error_code& error) {
      State& now = *state;
      if (generation != now.generation) {
        return;  // replaced by a wait for an earlier deadline
      }
      now.armed = false;
      if (error || now.socket == nullptr || now.deadline == Clock::time_point::max()) {
        return;
      }
      if (Clock::now() < now.deadline) {
        Arm(state);  // the deadline moved on since this wait started
        return;
      }
      now.expired = true;
      boost::system::error_code ignored;
      now.socket->close(ignored);
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace mgw::runtime
