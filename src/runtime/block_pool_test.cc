#include "runtime/block_pool.h"

#include <cstdint>
#include <cstring>
#include <memory_resource>

#include <gtest/gtest.h>

namespace mgw::runtime {
namespace {

TEST(BlockPool, ReusesAGivenBlock) {
  BlockPool pool(64, 4);
  std::unique_ptr<char[]> first = pool.Take();
  char* address = first.get();
  pool.Give(std::move(first));
  EXPECT_EQ(pool.kept(), 1u);
  EXPECT_EQ(pool.Take().get(), address);
  EXPECT_EQ(pool.kept(), 0u);
}

TEST(BlockPool, KeepsAtMostItsLimit) {
  BlockPool pool(16, 2);
  auto a = pool.Take();
  auto b = pool.Take();
  auto c = pool.Take();
  pool.Give(std::move(a));
  pool.Give(std::move(b));
  pool.Give(std::move(c));  // freed: the pool keeps two
  pool.Give(nullptr);       // ignored
  EXPECT_EQ(pool.kept(), 2u);
}

TEST(BlockLease, TakesLazilyAndGivesBackOnce) {
  BlockPool pool(32, 4);
  char* address = nullptr;
  {
    BlockLease unused(pool);  // never asked for a block: takes none, gives none
  }
  EXPECT_EQ(pool.kept(), 0u);
  {
    BlockLease lease(pool);
    address = lease.Get();
    EXPECT_EQ(lease.Get(), address);  // the same block for the whole lease
    EXPECT_EQ(lease.Bytes(), 32u);
    std::memset(address, 'x', lease.Bytes());
  }
  EXPECT_EQ(pool.kept(), 1u);
  BlockLease again(pool);
  EXPECT_EQ(again.Get(), address);
}

TEST(StringPool, HandsBackEmptyStringsWithTheirCapacity) {
  StringPool pool(2, 4096);
  const char* buffer = nullptr;
  {
    PooledString head(pool);
    head.text.reserve(1000);
    head.text = "GET / HTTP/1.1";
    buffer = head.text.data();
  }
  EXPECT_EQ(pool.kept(), 1u);
  PooledString again(pool);
  EXPECT_TRUE(again.text.empty());
  EXPECT_GE(again.text.capacity(), 1000u);
  EXPECT_EQ(again.text.data(), buffer);  // the same allocation, reused
}

TEST(StringPool, DropsStringsPastItsLimits) {
  StringPool pool(1, 100);
  std::string big(1000, 'x');
  pool.Give(std::move(big));  // grew past max_capacity: freed
  EXPECT_EQ(pool.kept(), 0u);
  pool.Give(std::string(10, 'a'));
  pool.Give(std::string(10, 'b'));  // the pool keeps one
  EXPECT_EQ(pool.kept(), 1u);
  EXPECT_TRUE(pool.Take().empty());
  EXPECT_TRUE(pool.Take().empty());  // nothing kept: a new string
}

TEST(PlainNewResource, ServesArenasOfAnySizeAndAlignment) {
  auto& upstream = PlainNewResource::Instance();
  EXPECT_TRUE(upstream.is_equal(PlainNewResource::Instance()));
  EXPECT_FALSE(upstream.is_equal(*std::pmr::new_delete_resource()));
  void* plain = upstream.allocate(100, alignof(std::max_align_t));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(plain) % alignof(std::max_align_t), 0u);
  upstream.deallocate(plain, 100, alignof(std::max_align_t));
  void* wide = upstream.allocate(100, 64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(wide) % 64, 0u);
  upstream.deallocate(wide, 100, 64);

  // An arena starting in a pooled block grows through the resource once the block is full.
  BlockPool pool(256, 1);
  BlockLease lease(pool);
  std::pmr::monotonic_buffer_resource arena(lease.Get(), lease.Bytes(), &upstream);
  char* first = static_cast<char*>(arena.allocate(200, 1));
  EXPECT_TRUE(first >= lease.Get() && first < lease.Get() + lease.Bytes());
  char* second = static_cast<char*>(arena.allocate(4000, 8));
  EXPECT_FALSE(second >= lease.Get() && second < lease.Get() + lease.Bytes());
  std::memset(second, 'y', 4000);
}

}  // namespace
}  // namespace mgw::runtime
