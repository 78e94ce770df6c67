// Counters with one writing thread and any number of reading threads.
#pragma once

#include <atomic>

namespace mgw::base {

// Adds `delta` to a counter that only the calling thread writes. A relaxed load and store is
// exact for a single writer, and readers on other threads still see whole values; unlike
// fetch_add it needs no locked read-modify-write (tens of cycles even uncontended).
template <class T>
void SingleWriterAdd(std::atomic<T>& counter, T delta) {
  counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

}  // namespace mgw::base
