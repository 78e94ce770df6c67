// The executor type of the gateway's event loops, spelled out instead of type-erased.
#pragma once

#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mgw::runtime {

// A function handed to a worker's loop from another thread (loop_inbox.h).
class LoopTask {
 public:
  virtual ~LoopTask() = default;
  virtual void Run() = 0;
};
template <class Function>
class LoopTaskOf final : public LoopTask {
 public:
  explicit LoopTaskOf(Function function) : function_(std::move(function)) {}
  void Run() override { std::move(function_)(); }

 private:
  Function function_;
};
template <class Function>
std::unique_ptr<LoopTask> MakeLoopTask(Function&& function) {
  return std::make_unique<LoopTaskOf<std::decay_t<Function>>>(std::forward<Function>(function));
}
// Queues `task` in `loop`'s inbox (loop_inbox.cc), or posts it if the loop has none; any thread.
void HandToLoop(boost::asio::io_context& loop, std::unique_ptr<LoopTask> task);

// The executor of a worker's loop: Asio's io_context executor with two differences.
//
// It never counts outstanding work: it has every property of `Inner` except
// `outstanding_work.tracked`, so Asio's preference for it (each asynchronous operation asks for it
// when it starts and again when it completes) keeps this executor as it is. A tracked copy of
// Asio's own executor increments and decrements the io_context's atomic work count: about 40
// locked instructions per proxied request, each costing tens of cycles. The loops do not need
// the count: every pending operation on a socket or timer is counted by the reactor itself, the
// loop's inbox keeps it running while idle, and the drain stops it explicitly.
//
// Called from a thread that is not running the loop (a completion from the blocking pool), it
// hands the function to the loop's inbox instead of Asio's scheduler, which the loops run
// without locks (concurrency hint UNSAFE, loop_inbox.h).
template <class Inner>
class UntrackedExecutor {
 public:
  // Implicit, so that sockets, timers and co_spawn can be given the io_context itself.
  UntrackedExecutor(const Inner& inner) noexcept : inner_(inner) {}  // NOLINT(google-explicit-constructor)

  template <class Property>
    requires(!std::is_same_v<Property, boost::asio::execution::outstanding_work_t::tracked_t>)
  auto require(const Property& property) const noexcept
      -> UntrackedExecutor<std::decay_t<decltype(boost::asio::require(std::declval<const Inner&>(),
                                                                      property))>> {
    return {boost::asio::require(inner_, property)};
  }
  template <class Property>
  auto query(const Property& property) const noexcept
      -> decltype(boost::asio::query(std::declval<const Inner&>(), property)) {
    return boost::asio::query(inner_, property);
  }
  template <class Function>
  void execute(Function&& function) const {
    if (inner_.running_in_this_thread()) {
      inner_.execute(std::forward<Function>(function));
    } else {
      HandToLoop(inner_.context(), MakeLoopTask(std::forward<Function>(function)));
    }
  }

  friend bool operator==(const UntrackedExecutor& a, const UntrackedExecutor& b) noexcept {
    return a.inner_ == b.inner_;
  }
  friend bool operator!=(const UntrackedExecutor& a, const UntrackedExecutor& b) noexcept {
    return !(a == b);
  }

 private:
  Inner inner_;
};

// Every coroutine, socket and timer of a worker runs on one io_context. Naming its executor type
// (instead of Asio's default any_io_executor) saves the type-erased copies, moves and
// destructions that each asynchronous operation makes of its executor: about 2,000 instructions
// per proxied request.
using Executor = UntrackedExecutor<boost::asio::io_context::executor_type>;
template <class T>
using Awaitable = boost::asio::awaitable<T, Executor>;
inline constexpr boost::asio::use_awaitable_t<Executor> kUseAwaitable{};
// Completion as a tuple (error_code, ...): errors are values on the data path, never exceptions.
inline constexpr auto kTuple = boost::asio::as_tuple(kUseAwaitable);

using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, Executor>;
// Resolves on a thread pool and completes on the calling coroutine's loop (through its inbox):
// Asio cannot resolve on a loop without locks.
using PoolResolver =
    boost::asio::ip::basic_resolver<boost::asio::ip::tcp, boost::asio::thread_pool::executor_type>;
using Timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                boost::asio::wait_traits<std::chrono::steady_clock>,
                                                Executor>;

}  // namespace mgw::runtime
