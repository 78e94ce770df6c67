#include "analytics/event_queue.h"

#include <algorithm>
#include <new>

namespace mgw::analytics {

EventQueue::EventQueue(std::size_t block_bytes, std::size_t blocks)
    : block_bytes_(std::max<std::size_t>(1, block_bytes)),
      slot_count_(std::max<std::size_t>(2, blocks)),
      slots_(new std::atomic<Block*>[slot_count_]) {
  for (std::size_t i = 0; i < slot_count_; ++i) {
    slots_[i].store(nullptr, std::memory_order_relaxed);
  }
}

EventQueue::~EventQueue() {
  for (std::size_t i = 0; i < slot_count_; ++i) {
    if (Block* block = slots_[i].load(std::memory_order_relaxed)) {
      FreeBlock(block);
    }
  }
}

EventQueue::Block* EventQueue::NewBlock(std::size_t capacity) {
  void* memory = ::operator new(sizeof(Block) + capacity);
  auto* block = new (memory) Block;
  block->capacity = capacity;
  block->data = reinterpret_cast<char*>(block + 1);
  return block;
}

void EventQueue::FreeBlock(Block* block) {
  block->~Block();
  ::operator delete(block);
}

bool EventQueue::Push(const Event& event) {
  const std::size_t bound = JsonLineBound(event);
  if (current_ == nullptr || current_->capacity - used_ < bound) {
    // The next block's slot is free once the consumer has given back the block of the previous
    // lap there (at most slot_count_ blocks are held).
    std::atomic<Block*>& slot = slots_[next_ % slot_count_];
    if (slot.load(std::memory_order_acquire) != nullptr) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    Block* block = NewBlock(std::max(block_bytes_, bound));
    slot.store(block, std::memory_order_release);
    if (current_ != nullptr) {
      current_->sealed.store(true, std::memory_order_release);  // after its last commit
    }
    current_ = block;
    ++next_;
    used_ = 0;
    lines_ = 0;
  }
  char* const end = WriteJsonLine(event, current_->data + used_);
  used_ = static_cast<std::size_t>(end - current_->data);
  ++lines_;
  current_->committed.store((lines_ << kLinesShift) | used_, std::memory_order_release);
  return true;
}

bool EventQueue::Empty() const {
  Block* block = slots_[head_ % slot_count_].load(std::memory_order_acquire);
  if (block == nullptr) {
    return true;
  }
  const bool sealed = block->sealed.load(std::memory_order_acquire);
  const std::uint64_t committed = block->committed.load(std::memory_order_acquire);
  // A sealed block is followed by another, which may hold lines.
  return !sealed && static_cast<std::size_t>(committed & kBytesMask) == read_bytes_;
}

std::size_t EventQueue::BlocksHeld() const {
  std::size_t held = 0;
  for (std::size_t i = 0; i < slot_count_; ++i) {
    held += slots_[i].load(std::memory_order_relaxed) != nullptr ? 1 : 0;
  }
  return held;
}

}  // namespace mgw::analytics
