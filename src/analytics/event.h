// One analytics event per request (contract section 7), with the WSO2 4.x analytics field
// names, serialised as one JSON object per line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace mgw::analytics {

// The views point at string literals or into the gateway's immutable configuration, which outlives
// the analytics writer: copying them per request cost an allocation each (freed on the writer's
// thread).
struct Event {
  std::string_view event_type;  // response | fault | throttle | auth_failure
  std::chrono::system_clock::time_point request_time;  // written as RFC 3339 with ms, UTC
  std::string correlation_id;
  std::string_view api_name;
  std::string_view api_version;
  std::string_view api_context;
  std::string_view api_resource_template;
  std::string http_method;
  std::string application_id;
  std::string application_name;
  std::string key_type;
  std::string user_name;
  std::string end_user_ip;
  std::string user_agent;
  int proxy_response_code = 0;
  int target_response_code = 0;  // 0: the backend was not called
  double response_latency_ms = 0;
  double backend_latency_ms = 0;
  std::uint64_t request_size = 0;
  std::uint64_t response_size = 0;
  int error_code = 0;  // fault code of a gateway-made answer, 0 = none
  std::string throttled_out_reason;
  std::string_view destination;  // backend URL, "" when none
};

// The event as one JSON line (with the trailing newline).
std::string ToJsonLine(const Event& event);
// The same, appended to `out` (no allocation when `out` has room).
void AppendJsonLine(const Event& event, std::string& out);

}  // namespace mgw::analytics
