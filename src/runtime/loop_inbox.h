// LoopInbox: the one way into a worker's event loop from another thread.
//
// The workers' io_contexts run with Asio's concurrency hint UNSAFE: one thread each, and no
// scheduler or reactor locks (about 12 locked instructions fewer per proxied request). Asio's own
// post from another thread is then a data race, so everything that crosses threads comes here
// instead: the executor of the loops (executor.h) hands a function over when it is called from
// a thread that is not running the loop (a password hash or a name resolution finishing on the
// blocking pool), and the drain hands over its steps. Post() queues the function under a mutex
// and wakes the loop through an eventfd; the loop runs what is queued, in order.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "runtime/executor.h"

namespace mgw::runtime {

class LoopInbox final : public boost::asio::execution_context::service {
 public:
  static boost::asio::execution_context::id id;
  explicit LoopInbox(boost::asio::execution_context& context);
  ~LoopInbox() override;

  // Creates the inbox of `loop` and starts waiting for work: from then on the loop has work
  // pending until it is stopped, so run() does not return when it is otherwise idle.
  // Call once, before the loop's thread starts.
  static LoopInbox& Open(boost::asio::io_context& loop);

  // Any thread. A function posted after the loop stopped is destroyed with the loop, unrun.
  void Post(std::unique_ptr<LoopTask> task);

 private:
  void shutdown() override;  // destroys queued functions unrun
  void Wait();
  void RunQueued();

  std::mutex mutex_;
  std::vector<std::unique_ptr<LoopTask>> queue_;  // guarded by mutex_
  boost::asio::posix::stream_descriptor wake_;     // an eventfd
};

// Runs `function` on `loop`'s thread, from any thread.
template <class Function>
void PostToLoop(boost::asio::io_context& loop, Function&& function) {
  HandToLoop(loop, MakeLoopTask(std::forward<Function>(function)));
}

}  // namespace mgw::runtime
