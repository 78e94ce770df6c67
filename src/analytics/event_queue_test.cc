#include "analytics/event_queue.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "analytics/test_event.h"

namespace mgw::analytics {
namespace {

// Event n, its correlation id n in eight digits: every such event has the same line bound, so that
// a block sized to it holds exactly one.
EventWithId Numbered(std::uint64_t n) {
  char id[32];
  std::snprintf(id, sizeof id, "%08llu", static_cast<unsigned long long>(n));
  Event e;
  e.event_type = "response";
  e.user_agent = "queue-test \"quoted\"";  // escaped on the way into the queue
  e.request_size = n;
  return EventWithId(id, e);
}

// What Drain() passes: the lines, each checked to be a JSON object, and the counts it reported.
struct Taken {
  std::vector<std::uint64_t> ids;  // request_size of each line, in order
  std::uint64_t reported = 0;      // the sum of Drain's counts
  std::size_t runs = 0;
  bool valid = true;  // every line a JSON object with the fields Numbered set
};

std::size_t Take(EventQueue& queue, Taken& out, std::size_t max_bytes) {
  return queue.Drain(max_bytes, [&](std::string_view lines, std::uint64_t count) {
    ++out.runs;
    out.reported += count;
    out.valid = out.valid && !lines.empty() && lines.back() == '\n';
    while (!lines.empty()) {
      const auto end = lines.find('\n');
      boost::system::error_code ec;
      const auto value = boost::json::parse(lines.substr(0, end), ec);
      if (ec || !value.is_object()) {
        out.valid = false;
      } else {
        const auto& object = value.as_object();
        const auto size = object.at("requestSize").as_int64();
        char id[32];
        std::snprintf(id, sizeof id, "%08lld", static_cast<long long>(size));
        out.valid = out.valid && object.at("correlationId").as_string() == id &&
                    object.at("userAgentHeader").as_string() == "queue-test \"quoted\"";
        out.ids.push_back(static_cast<std::uint64_t>(size));
      }
      lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    }
  });
}

// A block with room for exactly one of the events above.
std::size_t OneEvent() { return JsonLineBound(Numbered(0)); }

TEST(AnalyticsEventQueue, PassesWholeLinesInPushOrder) {
  EventQueue queue(64 * 1024, 4);
  EXPECT_TRUE(queue.Empty());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  EXPECT_FALSE(queue.Empty());
  Taken out;
  EXPECT_GT(Take(queue, out, 1 << 20), 0u);
  EXPECT_TRUE(out.valid);
  EXPECT_EQ(out.ids, (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(out.reported, 5u);
  EXPECT_EQ(out.runs, 1u) << "one block: one run";
  EXPECT_TRUE(queue.Empty());
  EXPECT_EQ(Take(queue, out, 1 << 20), 0u) << "nothing twice";
  // Lines pushed after a drain continue in the same block, from where the drain stopped.
  ASSERT_TRUE(queue.Push(Numbered(5)));
  EXPECT_FALSE(queue.Empty());
  Take(queue, out, 1 << 20);
  EXPECT_EQ(out.ids.back(), 5u);
  EXPECT_EQ(out.reported, 6u);
  EXPECT_EQ(queue.Dropped(), 0u);
}

TEST(AnalyticsEventQueue, DrainStopsAtTheBlockThatPassesMaxBytes) {
  EventQueue queue(OneEvent(), 8);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  Taken out;
  const std::size_t first = Take(queue, out, 1);
  EXPECT_GT(first, 0u);
  EXPECT_EQ(out.ids, (std::vector<std::uint64_t>{0})) << "one block's run passes 1 byte";
  Take(queue, out, 2 * first);
  EXPECT_EQ(out.ids.size(), 3u) << "runs of about the same size: two more";
  Take(queue, out, 1 << 20);
  EXPECT_EQ(out.ids, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(out.reported, 6u);
  EXPECT_TRUE(out.valid);
}

TEST(AnalyticsEventQueue, AFullQueueDropsAndCountsWithoutBlocking) {
  EventQueue queue(OneEvent(), 4);  // four blocks of one event
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i))) << i;
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 4; i < 14; ++i) {
    EXPECT_FALSE(queue.Push(Numbered(i)));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(queue.Dropped(), 10u);
  Taken out;
  Take(queue, out, 1 << 20);
  EXPECT_EQ(out.ids, (std::vector<std::uint64_t>{0, 1, 2, 3}))
      << "the queued events are kept, the new ones dropped";
  // Room again: pushes succeed and the drop count stays.
  EXPECT_TRUE(queue.Push(Numbered(100)));
  EXPECT_EQ(queue.Dropped(), 10u);
  Take(queue, out, 1 << 20);
  EXPECT_EQ(out.ids.back(), 100u);
  EXPECT_TRUE(out.valid);
}

// Memory is taken a block at a time as lines arrive and given back once drained past; the block
// the producer is writing stays.
TEST(AnalyticsEventQueue, TakesAndGivesBackMemoryByBlock) {
  EventQueue queue(2 * OneEvent(), 16);
  EXPECT_EQ(queue.BlocksHeld(), 0u) << "a queue nothing was pushed to holds no memory";
  std::uint64_t accepted = 0;
  while (queue.Push(Numbered(accepted))) {
    ++accepted;
  }
  EXPECT_GE(accepted, 16u);
  EXPECT_EQ(queue.BlocksHeld(), 16u);
  Taken out;
  Take(queue, out, 1);
  EXPECT_EQ(queue.BlocksHeld(), 15u) << "drained past its end, the first block is given back";
  EXPECT_TRUE(queue.Push(Numbered(accepted++))) << "its slot takes a new block";
  EXPECT_EQ(queue.BlocksHeld(), 16u);
  Take(queue, out, 1 << 20);
  EXPECT_EQ(queue.BlocksHeld(), 1u) << "idle: only the block the producer is in";
  ASSERT_EQ(out.ids.size(), accepted);
  for (std::uint64_t i = 0; i < accepted; ++i) {
    ASSERT_EQ(out.ids[i], i) << "in push order across blocks";
  }
  EXPECT_EQ(out.reported, accepted);
  EXPECT_EQ(queue.Dropped(), 1u);
  EXPECT_TRUE(out.valid);
}

// A line longer than a block (a long User-Agent) gets a block of its own instead of a drop.
TEST(AnalyticsEventQueue, ALineLongerThanABlockGetsABlockOfItsOwn) {
  EventQueue queue(256, 4);
  EventWithId seven = Numbered(7);
  Event big = seven;
  const std::string agent(5000, 'u');
  big.user_agent = agent;
  ASSERT_TRUE(queue.Push(Numbered(6)));
  ASSERT_TRUE(queue.Push(big));
  ASSERT_TRUE(queue.Push(Numbered(8)));
  std::string all;
  std::uint64_t count = 0;
  queue.Drain(1 << 20, [&](std::string_view lines, std::uint64_t n) {
    all.append(lines);
    count += n;
  });
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(all, ToJsonLine(Numbered(6)) + ToJsonLine(big) + ToJsonLine(Numbered(8)));
  EXPECT_EQ(queue.Dropped(), 0u);
}

TEST(AnalyticsEventQueue, WrapsAroundManyTimes) {
  EventQueue queue(OneEvent(), 3);
  Taken out;
  for (std::uint64_t round = 0; round < 1000; ++round) {
    ASSERT_TRUE(queue.Push(Numbered(2 * round)));
    ASSERT_TRUE(queue.Push(Numbered(2 * round + 1)));
    Take(queue, out, 1 << 20);
    ASSERT_EQ(out.ids.size(), 2 * round + 2);
  }
  for (std::uint64_t i = 0; i < out.ids.size(); ++i) {
    ASSERT_EQ(out.ids[i], i);
  }
  EXPECT_TRUE(out.valid);
  EXPECT_EQ(queue.Dropped(), 0u);
  EXPECT_LE(queue.BlocksHeld(), 1u);
}

// One producer thread, one consumer thread: every event arrives once, whole, in order. The
// producer retries when the queue is full, so nothing is lost; each refused Push is counted.
TEST(AnalyticsEventQueue, ProducerAndConsumerThreadsLoseNothing) {
  constexpr std::uint64_t kEvents = 100000;
  EventQueue queue(8 * OneEvent(), 8);
  std::uint64_t refused = 0;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      while (!queue.Push(Numbered(i))) {
        ++refused;
        std::this_thread::yield();
      }
    }
  });
  Taken out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (out.ids.size() < kEvents && std::chrono::steady_clock::now() < deadline) {
    if (Take(queue, out, 4096) == 0) {
      std::this_thread::yield();
    }
  }
  producer.join();
  ASSERT_EQ(out.ids.size(), kEvents);
  bool in_order = true;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    in_order = in_order && out.ids[i] == i;
  }
  EXPECT_TRUE(in_order);
  EXPECT_TRUE(out.valid);
  EXPECT_EQ(out.reported, kEvents);
  EXPECT_TRUE(queue.Empty());
  EXPECT_EQ(queue.Dropped(), refused);
}

// A producer that never waits (the worker's way): what it was told was queued arrives, exactly
// once, and what was refused is exactly the drop count.
TEST(AnalyticsEventQueue, AcceptedPlusDroppedIsEverythingPushed) {
  constexpr std::uint64_t kEvents = 100000;
  EventQueue queue(4 * OneEvent(), 4);
  std::uint64_t accepted = 0;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      accepted += queue.Push(Numbered(i)) ? 1 : 0;
    }
    done.store(true);
  });
  Taken out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const bool finished = done.load();
    Take(queue, out, 512);
    if (finished && queue.Empty()) {
      break;
    }
  }
  producer.join();
  bool increasing = true;
  for (std::size_t i = 1; i < out.ids.size(); ++i) {
    increasing = increasing && out.ids[i] > out.ids[i - 1];
  }
  EXPECT_TRUE(increasing);
  EXPECT_TRUE(out.valid);
  EXPECT_EQ(out.ids.size(), accepted);
  EXPECT_EQ(out.reported, accepted);
  EXPECT_EQ(accepted + queue.Dropped(), kEvents);
}

}  // namespace
}  // namespace mgw::analytics
