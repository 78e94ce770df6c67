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
  // Room for `capacity` events (rounded up to a power of two). Memory is taken in chunks of
  // capacity / 64 slots as events arrive and given back when the writer has drained a chunk: an
  // idle queue holds at most the chunk it stopped in (a 65,536-slot ring of Events, made up
  // front, held 35 MiB per worker).
  explicit EventQueue(std::size_t capacity);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Producer side. Returns false (and counts a drop) when the queue is full.
  bool Push(Event&& event);
  // Producer side: calls `fill(Event&)` on the next free slot (an empty Event), in place, then
  // publishes it. When the queue is full, `fill` is not called, a drop is counted and false is
  // returned. Full means `capacity` events queued, or the next slot's chunk still held by events
  // of the previous lap (at most one chunk less than `capacity`).
  template <class Fill>
  bool Emplace(Fill&& fill) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_.load(std::memory_order_acquire);
    const std::size_t chunk = (tail & (capacity_ - 1)) / chunk_slots_;
    const std::size_t offset = tail & (chunk_slots_ - 1);
    Event* slots = chunks_[chunk].load(std::memory_order_relaxed);
    // A chunk is entered at its first slot only once the writer has given it back.
    if (tail - head >= capacity_ || (offset == 0 && slots != nullptr)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (offset == 0) {
      slots = new Event[chunk_slots_];
      chunks_[chunk].store(slots, std::memory_order_relaxed);
    }
    fill(slots[offset]);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer side: calls `f(const Event&)` on up to `max` queued events in order, where they
  // lie (no move, no batch to grow), frees each chunk it has passed the end of, and hands the
  // slots back to the producer; returns how many.
  template <class F>
  std::size_t Drain(std::size_t max, F&& f) {
    std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    std::size_t n = 0;
    while (head != tail && n < max) {
      const std::size_t chunk = (head & (capacity_ - 1)) / chunk_slots_;
      const std::size_t offset = head & (chunk_slots_ - 1);
      Event* slots = chunks_[chunk].load(std::memory_order_relaxed);
      f(static_cast<const Event&>(slots[offset]));
      if (offset == chunk_slots_ - 1) {
        // The chunk's last event: the producer re-enters it only after seeing it null.
        chunks_[chunk].store(nullptr, std::memory_order_relaxed);
        delete[] slots;
      }
      ++head;
      ++n;
    }
    head_.store(head, std::memory_order_release);
    return n;
  }
  std::uint64_t Dropped() const { return dropped_.load(std::memory_order_relaxed); }
  bool Empty() const;
  // Chunks of slots allocated now (either side may call it).
  std::size_t ChunksHeld() const;
  std::size_t ChunkSlots() const { return chunk_slots_; }

 private:
  const std::size_t capacity_;     // a power of two
  const std::size_t chunk_slots_;  // a power of two dividing capacity_
  // Published to the other side by tail_ (a new chunk) and head_ (a freed one).
  std::unique_ptr<std::atomic<Event*>[]> chunks_;
  alignas(64) std::atomic<std::size_t> head_{0};  // next to pop (consumer)
  alignas(64) std::atomic<std::size_t> tail_{0};  // next to push (producer)
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace mgw::analytics
