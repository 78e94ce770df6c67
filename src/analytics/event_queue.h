// A bounded single-producer single-consumer queue of analytics events: the worker thread pushes
// (never blocks: a full queue drops the event and counts it), the writer thread pops.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "analytics/event.h"

namespace mgw::analytics {

class EventQueue {
 public:
  explicit EventQueue(std::size_t capacity);

  // Producer side. Returns false (and counts a drop) when the queue is full.
  bool Push(Event&& event);
  // Consumer side: moves up to `max` events into `out`; returns how many.
  std::size_t PopInto(std::vector<Event>& out, std::size_t max);

  std::uint64_t Dropped() const { return dropped_.load(std::memory_order_relaxed); }
  bool Empty() const;

 private:
  const std::size_t capacity_;  // a power of two
  std::unique_ptr<Event[]> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};  // next to pop (consumer)
  alignas(64) std::atomic<std::size_t> tail_{0};  // next to push (producer)
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace mgw::analytics
