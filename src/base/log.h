// The gateway's operational log: one line per event on stderr, "<time> <LEVEL> <message>".
// Cheap when a level is off (one relaxed atomic load). Never pass a credential in a message.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

namespace mgw::base {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace" .. "off"; unknown text gives kInfo.
LogLevel ParseLogLevel(std::string_view text);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Writes one line if `level` is enabled. Thread-safe; lines are never interleaved.
void Log(LogLevel level, std::string_view message);

inline void LogInfo(std::string_view message) { Log(LogLevel::kInfo, message); }
inline void LogWarn(std::string_view message) { Log(LogLevel::kWarn, message); }
inline void LogError(std::string_view message) { Log(LogLevel::kError, message); }

// The current UTC time as RFC 3339 with milliseconds: 2026-11-30T13:37:44.123Z.
std::string NowRfc3339();

// `time` as RFC 3339 UTC with milliseconds (the date part is formatted once per second per thread).
std::string FormatRfc3339(std::chrono::system_clock::time_point time);
// The same written at `out` (24 bytes for years 1000-9999, never more than kRfc3339MaxBytes);
// returns the end.
inline constexpr std::size_t kRfc3339MaxBytes = 40;
char* WriteRfc3339(char* out, std::chrono::system_clock::time_point time);

}  // namespace mgw::base
