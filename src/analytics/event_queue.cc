#include "analytics/event_queue.h"

#include <bit>

namespace mgw::analytics {

EventQueue::EventQueue(std::size_t capacity)
    : capacity_(std::bit_ceil(std::max<std::size_t>(2, capacity))),
      slots_(new Event[capacity_]) {}

bool EventQueue::Push(Event&& event) {
  return Emplace([&event](Event& slot) { slot = std::move(event); });
}

bool EventQueue::Empty() const {
  return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
}

}  // namespace mgw::analytics
