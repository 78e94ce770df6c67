#include "analytics/event_queue.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mgw::analytics {
namespace {

Event Numbered(std::uint64_t n) {
  Event e;
  e.correlation_id = std::to_string(n);
  e.request_size = n;
  return e;
}

// Copies what Drain() visits into `out`, as the writer serialises it.
std::size_t Take(EventQueue& queue, std::vector<Event>& out, std::size_t max) {
  return queue.Drain(max, [&](const Event& event) { out.push_back(event); });
}

TEST(AnalyticsEventQueue, PopsInPushOrder) {
  EventQueue queue(8);
  EXPECT_TRUE(queue.Empty());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  EXPECT_FALSE(queue.Empty());
  std::vector<Event> out;
  EXPECT_EQ(Take(queue, out, 100), 5u);
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(out[i].correlation_id, std::to_string(i));
  }
  EXPECT_TRUE(queue.Empty());
  EXPECT_EQ(queue.Dropped(), 0u);
}

TEST(AnalyticsEventQueue, EmplaceFillsAFreshSlotAndSkipsTheFillWhenFull) {
  EventQueue queue(2);
  int fills = 0;
  for (int round = 0; round < 3; ++round) {  // slots are reused after each drain
    for (int i = 0; i < 3; ++i) {
      const bool queued = queue.Emplace([&](Event& slot) {
        ++fills;
        EXPECT_TRUE(slot.correlation_id.empty() && slot.user_agent.empty()) << "a used slot";
        slot.correlation_id = "r" + std::to_string(round) + "-" + std::to_string(i);
        if (i == 0) {
          slot.user_agent = "only the first event has one";
        }
      });
      EXPECT_EQ(queued, i < 2);
    }
    std::vector<Event> out;
    EXPECT_EQ(Take(queue, out, 10), 2u);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].correlation_id, "r" + std::to_string(round) + "-0");
    EXPECT_EQ(out[1].correlation_id, "r" + std::to_string(round) + "-1");
    EXPECT_TRUE(out[1].user_agent.empty());
  }
  EXPECT_EQ(fills, 6);  // never for the third event of a round: the queue was full
  EXPECT_EQ(queue.Dropped(), 3u);
}

TEST(AnalyticsEventQueue, DrainTakesAtMostMax) {
  EventQueue queue(16);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  std::vector<Event> out;
  out.push_back(Numbered(999));
  EXPECT_EQ(Take(queue, out, 4), 4u);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].correlation_id, "999");
  EXPECT_EQ(out[1].correlation_id, "0");
  EXPECT_EQ(out[4].correlation_id, "3");
  EXPECT_EQ(Take(queue, out, 0), 0u);
  EXPECT_EQ(Take(queue, out, 100), 6u);
  EXPECT_EQ(out.back().correlation_id, "9");
  EXPECT_EQ(Take(queue, out, 100), 0u);
}

TEST(AnalyticsEventQueue, DrainVisitsInOrderAtMostMaxAndFreesTheSlots) {
  EventQueue queue(4);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  EXPECT_FALSE(queue.Push(Numbered(99)));  // full
  std::vector<std::string> seen;
  const auto collect = [&](const Event& event) { seen.push_back(event.correlation_id); };
  EXPECT_EQ(queue.Drain(3, collect), 3u);
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2"}));
  // The drained slots are the producer's again; order continues across the wrap.
  for (int i = 4; i < 7; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i))) << i;
  }
  EXPECT_EQ(queue.Drain(0, collect), 0u);
  EXPECT_EQ(queue.Drain(100, collect), 4u);
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(queue.Drain(100, collect), 0u);
  EXPECT_TRUE(queue.Empty());
  EXPECT_EQ(queue.Dropped(), 1u);
}

TEST(AnalyticsEventQueue, AFullQueueDropsAndCountsWithoutBlocking) {
  EventQueue queue(3);  // rounded up to a power of two: 4 slots
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i))) << i;
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 4; i < 14; ++i) {
    EXPECT_FALSE(queue.Push(Numbered(i)));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(queue.Dropped(), 10u);
  std::vector<Event> out;
  EXPECT_EQ(Take(queue, out, 100), 4u);
  EXPECT_EQ(out.back().correlation_id, "3") << "the queued events are kept, the new ones dropped";
  // Room again: pushes succeed and the drop count stays.
  EXPECT_TRUE(queue.Push(Numbered(100)));
  EXPECT_EQ(queue.Dropped(), 10u);
}

// A large queue takes memory a chunk (capacity / 64 slots) at a time and gives each back once
// drained past its end; a chunk still holding the previous lap's events is not re-entered.
TEST(AnalyticsEventQueue, TakesAndGivesBackMemoryByChunk) {
  EventQueue queue(1024);
  const std::size_t chunk = queue.ChunkSlots();
  ASSERT_EQ(chunk, 16u);
  EXPECT_EQ(queue.ChunksHeld(), 0u) << "a queue nothing was pushed to holds no memory";
  std::size_t accepted = 0;
  while (queue.Push(Numbered(accepted))) {
    ++accepted;
  }
  EXPECT_EQ(accepted, 1024u) << "the first lap has every slot";
  EXPECT_EQ(queue.ChunksHeld(), 64u);
  std::vector<Event> out;
  ASSERT_EQ(Take(queue, out, chunk - 1), chunk - 1);
  EXPECT_FALSE(queue.Push(Numbered(9999))) << "chunk 0 still holds an event of the first lap";
  EXPECT_EQ(queue.ChunksHeld(), 64u);
  ASSERT_EQ(Take(queue, out, 1), 1u);
  EXPECT_EQ(queue.ChunksHeld(), 63u) << "drained past its end, chunk 0 is given back";
  EXPECT_TRUE(queue.Push(Numbered(accepted)));
  EXPECT_EQ(queue.ChunksHeld(), 64u);
  ASSERT_EQ(Take(queue, out, 2000), 1024u - chunk + 1);
  EXPECT_EQ(queue.ChunksHeld(), 1u) << "idle: only the chunk the writer stopped in";
  ASSERT_EQ(out.size(), 1025u);
  for (std::size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i].request_size, i) << "in push order across chunks and laps";
  }
  EXPECT_EQ(queue.Dropped(), 2u);
}

TEST(AnalyticsEventQueue, WrapsAroundManyTimes) {
  EventQueue queue(4);
  std::vector<Event> out;
  std::uint64_t next = 0;
  for (int round = 0; round < 1000; ++round) {
    ASSERT_TRUE(queue.Push(Numbered(2 * round)));
    ASSERT_TRUE(queue.Push(Numbered(2 * round + 1)));
    out.clear();
    ASSERT_EQ(Take(queue, out, 8), 2u);
    for (const auto& e : out) {
      ASSERT_EQ(e.request_size, next++);
    }
  }
  EXPECT_EQ(queue.Dropped(), 0u);
}

// One producer thread, one consumer thread: every event arrives once, in order. The producer
// retries when the queue is full, so nothing is lost; each refused Push is counted as a drop.
TEST(AnalyticsEventQueue, ProducerAndConsumerThreadsLoseNothing) {
  constexpr std::uint64_t kEvents = 200000;
  EventQueue queue(1024);
  std::uint64_t refused = 0;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      while (!queue.Push(Numbered(i))) {
        ++refused;
        std::this_thread::yield();
      }
    }
  });
  std::vector<Event> out;
  std::uint64_t expected = 0;
  bool in_order = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (expected < kEvents && std::chrono::steady_clock::now() < deadline) {
    out.clear();
    if (Take(queue, out, 257) == 0) {
      std::this_thread::yield();
      continue;
    }
    for (const auto& e : out) {
      in_order = in_order && e.request_size == expected && e.correlation_id == std::to_string(expected);
      ++expected;
    }
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kEvents);
  EXPECT_TRUE(queue.Empty());
  EXPECT_EQ(queue.Dropped(), refused);
}

// A producer that never waits (the worker's way): what it was told was queued arrives, exactly
// once, and what was refused is exactly the drop count.
TEST(AnalyticsEventQueue, AcceptedPlusDroppedIsEverythingPushed) {
  constexpr std::uint64_t kEvents = 100000;
  EventQueue queue(64);
  std::uint64_t accepted = 0;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      accepted += queue.Push(Numbered(i)) ? 1 : 0;
    }
    done.store(true);
  });
  std::vector<Event> out;
  std::uint64_t received = 0;
  std::uint64_t last = 0;
  bool increasing = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const bool finished = done.load();
    out.clear();
    Take(queue, out, 16);
    for (const auto& e : out) {
      increasing = increasing && (received == 0 || e.request_size > last);
      last = e.request_size;
      ++received;
    }
    if (finished && queue.Empty()) {
      break;
    }
  }
  producer.join();
  EXPECT_TRUE(increasing);
  EXPECT_EQ(received, accepted);
  EXPECT_EQ(accepted + queue.Dropped(), kEvents);
}

}  // namespace
}  // namespace mgw::analytics
