// A bounded single-producer single-consumer queue of analytics events: the worker thread pushes
// (never blocks: a full queue drops the event and counts it), the writer thread pops.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "analytics/event.h"

namespace mgw::analytics {

class EventQueue {
 public:
  explicit EventQueue(std::size_t capacity);

  // Producer side. Returns false (and counts a drop) when the queue is full.
  bool Push(Event&& event);
  // Producer side: calls `fill(Event&)` on the next free slot (an empty Event), in place, then
  // publishes it. When the queue is full, `fill` is not called, a drop is counted and false is
  // returned.
  template <class Fill>
  bool Emplace(Fill&& fill) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_.load(std::memory_order_acquire);
    if (tail - head >= capacity_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    fill(slots_[tail & (capacity_ - 1)]);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }
  // Consumer side: calls `f(const Event&)` on up to `max` queued events in order, where they
  // lie (no move, no batch to grow), then empties their slots and hands them back to the
  // producer; returns how many.
  template <class F>
  std::size_t Drain(std::size_t max, F&& f) {
    std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    std::size_t n = 0;
    while (head != tail && n < max) {
      Event& slot = slots_[head & (capacity_ - 1)];
      f(static_cast<const Event&>(slot));
      // Destroyed and made anew: assigning an empty Event would keep each string's heap buffer,
      // and an idle queue must hold no event's memory.
      std::destroy_at(&slot);
      std::construct_at(&slot);
      ++head;
      ++n;
    }
    head_.store(head, std::memory_order_release);
    return n;
  }

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
