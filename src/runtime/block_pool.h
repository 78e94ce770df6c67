// BlockPool and StringPool: reused memory for one thread, so that the per-request buffers of the
// relay path (body chunks, the first block of each header arena, the message heads) cost no
// allocation.
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace mgw::runtime {

// Blocks of one size, kept for reuse up to `keep` of them; the rest are freed. Single-threaded:
// each worker has its own pools.
class BlockPool {
 public:
  BlockPool(std::size_t block_bytes, std::size_t keep) : block_bytes_(block_bytes), keep_(keep) {}
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // A block of block_bytes() bytes, uninitialised (a reused one, else a new one).
  std::unique_ptr<char[]> Take() {
    if (free_.empty()) {
      return std::unique_ptr<char[]>(new char[block_bytes_]);  // NOLINT: uninitialised on purpose
    }
    std::unique_ptr<char[]> block = std::move(free_.back());
    free_.pop_back();
    return block;
  }
  // Gives a block of this pool back (freed when the pool already keeps `keep` blocks).
  void Give(std::unique_ptr<char[]> block) {
    if (block && free_.size() < keep_) {
      free_.push_back(std::move(block));
    }
  }
  std::size_t block_bytes() const { return block_bytes_; }
  std::size_t kept() const { return free_.size(); }

 private:
  std::size_t block_bytes_;
  std::size_t keep_;
  std::vector<std::unique_ptr<char[]>> free_;
};

// One block of a pool, taken on first Get() and given back when the lease ends.
class BlockLease {
 public:
  explicit BlockLease(BlockPool& pool) : pool_(pool) {}
  BlockLease(const BlockLease&) = delete;
  BlockLease& operator=(const BlockLease&) = delete;
  ~BlockLease() { pool_.Give(std::move(block_)); }

  char* Get() {
    if (!block_) {
      block_ = pool_.Take();
    }
    return block_.get();
  }
  std::size_t Bytes() const { return pool_.block_bytes(); }

 private:
  BlockPool& pool_;
  std::unique_ptr<char[]> block_;
};

// Strings reused with their capacity (message heads built per request): Take() hands out an
// empty string, Give() keeps it for the next request unless the pool is full or the string grew
// past `max_capacity`. Single-threaded, like BlockPool.
class StringPool {
 public:
  StringPool(std::size_t keep, std::size_t max_capacity) : keep_(keep), max_capacity_(max_capacity) {}
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;

  std::string Take() {
    if (free_.empty()) {
      return {};
    }
    std::string text = std::move(free_.back());
    free_.pop_back();
    return text;
  }
  void Give(std::string text) {
    if (free_.size() < keep_ && text.capacity() <= max_capacity_) {
      text.clear();
      free_.push_back(std::move(text));
    }
  }
  std::size_t kept() const { return free_.size(); }

 private:
  std::size_t keep_;
  std::size_t max_capacity_;
  std::vector<std::string> free_;
};

// A string of a StringPool for the length of a scope.
class PooledString {
 public:
  explicit PooledString(StringPool& pool) : pool_(pool), text(pool.Take()) {}
  PooledString(const PooledString&) = delete;
  PooledString& operator=(const PooledString&) = delete;
  ~PooledString() { pool_.Give(std::move(text)); }

 private:
  StringPool& pool_;

 public:
  std::string text;
};

// operator new without an alignment argument whenever the alignment asked for is one it already
// guarantees. std::pmr::new_delete_resource() always calls the aligned form, which glibc serves
// through memalign, outside its per-thread cache and several times slower.
class PlainNewResource final : public std::pmr::memory_resource {
 public:
  static PlainNewResource& Instance() {
    static PlainNewResource instance;
    return instance;
  }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      return ::operator new(bytes);
    }
    return ::operator new(bytes, std::align_val_t(alignment));
  }
  void do_deallocate(void* pointer, std::size_t bytes, std::size_t alignment) override {
    if (alignment <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete(pointer, bytes);
    } else {
      ::operator delete(pointer, bytes, std::align_val_t(alignment));
    }
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

}  // namespace mgw::runtime
