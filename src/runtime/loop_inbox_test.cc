#include "runtime/loop_inbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/thread_pool.hpp>

namespace mgw::runtime {
namespace {

namespace net = boost::asio;

// A loop like a worker's: no locks, its inbox open, run by its own thread until stopped.
class LoopInboxTest : public ::testing::Test {
 protected:
  void Start() {
    LoopInbox::Open(io_);
    loop_thread_ = std::thread([this] {
      loop_id_ = std::this_thread::get_id();
      io_.run();
      returned_ = true;
    });
  }
  void StopAndJoin() {
    PostToLoop(io_, [this] { io_.stop(); });
    loop_thread_.join();
  }

  net::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  std::thread loop_thread_;
  std::thread::id loop_id_;
  std::atomic<bool> returned_{false};
};

TEST_F(LoopInboxTest, RunsFunctionsFromOtherThreadsOnTheLoopInOrder) {
  Start();
  std::vector<int> order;  // touched on the loop's thread only
  std::atomic<int> off_loop{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        PostToLoop(io_, [&, t, i] {
          if (std::this_thread::get_id() != loop_id_) {
            off_loop.fetch_add(1);
          }
          if (t == 0) {
            order.push_back(i);
          }
        });
      }
    });
  }
  for (auto& poster : posters) {
    poster.join();
  }
  StopAndJoin();  // queued after every function above
  EXPECT_EQ(off_loop.load(), 0);
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
  }
}

TEST_F(LoopInboxTest, AnOpenInboxKeepsAnIdleLoopRunningUntilItIsStopped) {
  Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(returned_.load());  // nothing else to do, still running
  StopAndJoin();
  EXPECT_TRUE(returned_.load());
}

Awaitable<int> SquareOnPool(net::thread_pool& pool, int x, std::thread::id& resumed_on) {
  // The completion is dispatched from a pool thread through the loop's executor: it must come
  // back through the inbox and resume this coroutine on the loop's thread.
  const int result = co_await net::co_spawn(
      pool, [x]() -> net::awaitable<int> { co_return x * x; }, kUseAwaitable);
  resumed_on = std::this_thread::get_id();
  co_return result;
}

TEST_F(LoopInboxTest, ACompletionFromAnotherThreadResumesTheCoroutineOnTheLoop) {
  net::thread_pool pool(2);
  std::thread::id resumed_on;
  std::atomic<int> result{0};
  net::co_spawn(io_, [&]() -> Awaitable<void> {
    result = co_await SquareOnPool(pool, 12, resumed_on);
    io_.stop();
  }, net::detached);
  Start();
  loop_thread_.join();
  pool.join();
  EXPECT_EQ(result.load(), 144);
  EXPECT_EQ(resumed_on, loop_id_);
}

TEST_F(LoopInboxTest, APoolResolverCompletesOnTheLoop) {
  net::thread_pool pool(1);
  std::thread::id resumed_on;
  bool resolved = false;
  net::co_spawn(io_, [&]() -> Awaitable<void> {
    PoolResolver resolver(pool);
    auto [error, endpoints] = co_await resolver.async_resolve("127.0.0.1", "80", kTuple);
    resolved = !error && !endpoints.empty();
    resumed_on = std::this_thread::get_id();
    io_.stop();
  }, net::detached);
  Start();
  loop_thread_.join();
  pool.join();
  EXPECT_TRUE(resolved);
  EXPECT_EQ(resumed_on, loop_id_);
}

TEST(LoopInbox, ALoopWithoutAnInboxGetsAsioPost) {
  net::io_context io;  // default hint, with locks, no inbox
  bool ran = false;
  std::thread poster([&] { PostToLoop(io, [&] { ran = true; }); });
  poster.join();
  io.run();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace mgw::runtime
