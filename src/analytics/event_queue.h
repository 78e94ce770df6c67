// A bounded single-producer single-consumer queue of analytics events as finished JSON lines: the
// worker thread serialises each event straight into the queue's current block (never blocks: an
// event that finds no room is dropped and counted), the writer thread hands the blocks' bytes to
// the file where they lie.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "analytics/event.h"

namespace mgw::analytics {

class EventQueue {
 public:
  // Room for `blocks` blocks of `block_bytes` each (a line longer than a block gets a block of its
  // own). Blocks are taken as events arrive and given back once the writer has drained them: an
  // idle queue holds at most the block it stopped in.
  EventQueue(std::size_t block_bytes, std::size_t blocks);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Producer side: writes `event` as one JSON line and publishes it. Returns false (and counts a
  // drop) when the line fits neither in the current block nor in a free one.
  bool Push(const Event& event);

  // Consumer side: calls `f(std::string_view lines, std::uint64_t count)` on each run of whole
  // lines queued, in order, until about `max_bytes` have been passed; the bytes are gone when `f`
  // returns (so `f` writes them out). Gives back each block it has passed the end of. Returns the
  // bytes passed.
  template <class F>
  std::size_t Drain(std::size_t max_bytes, F&& f) {
    std::size_t passed = 0;
    while (passed < max_bytes) {
      Block* block = slots_[head_ % slot_count_].load(std::memory_order_acquire);
      if (block == nullptr) {
        break;
      }
      // Sealed first: once it is seen, `committed` is final.
      const bool sealed = block->sealed.load(std::memory_order_acquire);
      const std::uint64_t committed = block->committed.load(std::memory_order_acquire);
      const std::size_t bytes = static_cast<std::size_t>(committed & kBytesMask);
      const std::uint64_t lines = committed >> kLinesShift;
      if (bytes > read_bytes_) {
        f(std::string_view(block->data + read_bytes_, bytes - read_bytes_), lines - read_lines_);
        passed += bytes - read_bytes_;
        read_bytes_ = bytes;
        read_lines_ = lines;
      }
      if (!sealed) {
        break;  // the block the producer is still writing
      }
      slots_[head_ % slot_count_].store(nullptr, std::memory_order_release);
      FreeBlock(block);
      ++head_;
      read_bytes_ = 0;
      read_lines_ = 0;
    }
    return passed;
  }

  std::uint64_t Dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // True when the consumer has taken every line published so far (consumer side).
  bool Empty() const;
  // Blocks allocated now (either side may call it).
  std::size_t BlocksHeld() const;

 private:
  struct Block {
    // (lines << kLinesShift) | bytes, published by the producer after each line.
    std::atomic<std::uint64_t> committed{0};
    std::atomic<bool> sealed{false};  // set once the producer has moved to the next block
    std::size_t capacity = 0;
    char* data = nullptr;  // capacity bytes, just after the Block
  };
  static constexpr int kLinesShift = 40;  // a block holds less than 1 TiB
  static constexpr std::uint64_t kBytesMask = (std::uint64_t{1} << kLinesShift) - 1;

  Block* NewBlock(std::size_t capacity);
  static void FreeBlock(Block* block);

  const std::size_t block_bytes_;
  const std::size_t slot_count_;
  // Slot i % slot_count_ holds block i, published by the producer (a new block) and cleared by the
  // consumer (a drained one).
  std::unique_ptr<std::atomic<Block*>[]> slots_;
  // Producer only.
  Block* current_ = nullptr;
  std::uint64_t next_ = 0;  // index of the next block to take
  std::size_t used_ = 0;    // bytes written into current_
  std::uint64_t lines_ = 0;  // lines written into current_
  // Consumer only.
  alignas(64) std::uint64_t head_ = 0;  // index of the block being read
  std::size_t read_bytes_ = 0;
  std::uint64_t read_lines_ = 0;
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace mgw::analytics
