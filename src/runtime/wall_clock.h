// The wall-clock time of a request from its steady-clock reading, without a system-clock read per
// request.
#pragma once

#include <chrono>

namespace mgw::runtime {

// Wall-clock times of steady-clock readings, from one pair of readings of both clocks taken at most
// 100 ms before: one system-clock read per 100 ms of a busy worker instead of one per request (a
// request is stamped to the millisecond; a step of the system clock shows within 100 ms). One
// thread's: not synchronised.
class WallClock {
 public:
  using SystemNow = std::chrono::system_clock::time_point (*)();
  explicit WallClock(SystemNow system_now = &std::chrono::system_clock::now)
      : system_now_(system_now) {}

  std::chrono::system_clock::time_point At(std::chrono::steady_clock::time_point steady) {
    // The first call refreshes: no steady reading is before the clock's epoch (boot).
    if (steady >= refresh_at_ || steady < base_steady_) {
      base_steady_ = steady;
      refresh_at_ = steady + kRefreshEvery;
      base_wall_ = system_now_();
    }
    return base_wall_ +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(steady - base_steady_);
  }

  static constexpr std::chrono::milliseconds kRefreshEvery{100};

 private:
  SystemNow system_now_;
  std::chrono::steady_clock::time_point base_steady_{};
  std::chrono::steady_clock::time_point refresh_at_{};
  std::chrono::system_clock::time_point base_wall_{};
};

}  // namespace mgw::runtime
