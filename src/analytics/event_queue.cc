#include "analytics/event_queue.h"

#include <algorithm>
#include <bit>

namespace mgw::analytics {
namespace {
constexpr std::size_t kChunks = 64;  // a queue of 65,536 slots takes memory 1,024 events at a time
}  // namespace

EventQueue::EventQueue(std::size_t capacity)
    : capacity_(std::bit_ceil(std::max<std::size_t>(2, capacity))),
      chunk_slots_(std::max<std::size_t>(1, capacity_ / kChunks)),
      chunks_(new std::atomic<Event*>[capacity_ / chunk_slots_]) {
  for (std::size_t i = 0; i < capacity_ / chunk_slots_; ++i) {
    chunks_[i].store(nullptr, std::memory_order_relaxed);
  }
}

EventQueue::~EventQueue() {
  for (std::size_t i = 0; i < capacity_ / chunk_slots_; ++i) {
    delete[] chunks_[i].load(std::memory_order_relaxed);
  }
}

bool EventQueue::Push(Event&& event) {
  return Emplace([&event](Event& slot) { slot = std::move(event); });
}

std::size_t EventQueue::ChunksHeld() const {
  std::size_t held = 0;
  for (std::size_t i = 0; i < capacity_ / chunk_slots_; ++i) {
    held += chunks_[i].load(std::memory_order_relaxed) != nullptr ? 1 : 0;
  }
  return held;
}

bool EventQueue::Empty() const {
  return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
}

}  // namespace mgw::analytics
