#include "analytics/event_queue.h"

#include <bit>

namespace mgw::analytics {

EventQueue::EventQueue(std::size_t capacity)
    : capacity_(std::bit_ceil(std::max<std::size_t>(2, capacity))),
      slots_(new Event[capacity_]) {}

bool EventQueue::Push(Event&& event) {
  const std::size_t tail = tail_.load(std::memory_order_relaxed);
  const std::size_t head = head_.load(std::memory_order_acquire);
  if (tail - head >= capacity_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  slots_[tail & (capacity_ - 1)] = std::move(event);
  tail_.store(tail + 1, std::memory_order_release);
  return true;
}

bool EventQueue::Empty() const {
  return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
}

}  // namespace mgw::analytics
