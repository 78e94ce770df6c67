#include "base/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace mgw::base {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

}  // namespace

LogLevel ParseLogLevel(std::string_view text) {
  if (text == "trace") {
    return LogLevel::kTrace;
  }
  if (text == "debug") {
    return LogLevel::kDebug;
  }
  if (text == "warn") {
    return LogLevel::kWarn;
  }
  if (text == "error") {
    return LogLevel::kError;
  }
  if (text == "off") {
    return LogLevel::kOff;
  }
  return LogLevel::kInfo;
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed) && level != LogLevel::kOff;
}

char* WriteRfc3339(char* out, std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::int64_t seconds = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
  const int millis = static_cast<int>(ms - seconds * 1000);
  // gmtime_r + strftime cost about a microsecond; requests arrive many times per second.
  thread_local std::int64_t cached_seconds = INT64_MIN;
  thread_local char cached[32];
  thread_local std::size_t cached_size = 0;
  if (seconds != cached_seconds) {
    const std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    cached_size = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_seconds = seconds;
  }
  std::memcpy(out, cached, cached_size);
  out += cached_size;
  *out++ = '.';
  *out++ = static_cast<char>('0' + millis / 100);
  *out++ = static_cast<char>('0' + millis / 10 % 10);
  *out++ = static_cast<char>('0' + millis % 10);
  *out++ = 'Z';
  return out;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point time) {
  char text[32];
  return std::string(text, static_cast<std::size_t>(WriteRfc3339(text, time) - text));
}

std::string NowRfc3339() { return FormatRfc3339(std::chrono::system_clock::now()); }

void Log(LogLevel level, std::string_view message) {
  if (!LogEnabled(level)) {
    return;
  }
  static constexpr std::string_view kNames[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"};
  std::string line = NowRfc3339();
  line += ' ';
  line += kNames[static_cast<int>(level)];
  line += ' ';
  line += message;
  line += '\n';
  // One write(2) per line: lines from different threads do not interleave.
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(2, data, left);
    if (n <= 0) {
      break;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace mgw::base
