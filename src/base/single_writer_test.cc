#include "base/single_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

namespace mgw::base {
namespace {

TEST(SingleWriter, AddsExactlyAndReadersSeeTheFinalValue) {
  std::atomic<std::uint64_t> count{0};
  std::atomic<int> active{0};
  std::thread writer([&] {
    for (int i = 0; i < 100000; ++i) {
      SingleWriterAdd(count, std::uint64_t{3});
      SingleWriterAdd(active, 1);
      SingleWriterAdd(active, -1);
    }
  });
  std::uint64_t last = 0;
  while (last < 300000) {  // a reader on another thread: values only grow, in steps of 3
    const std::uint64_t now = count.load(std::memory_order_relaxed);
    ASSERT_GE(now, last);
    ASSERT_EQ(now % 3, 0u);
    last = now;
  }
  writer.join();
  EXPECT_EQ(count.load(), 300000u);
  EXPECT_EQ(active.load(), 0);
}

}  // namespace
}  // namespace mgw::base
