// One analytics event per request (contract section 7), with the WSO2 4.x analytics field
// names, serialised as one JSON object per line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace mgw::analytics {

// Views only: an event is written out as its JSON line before EventQueue::Push returns, so what it
// points at (the exchange, the caller's credentials, the immutable configuration) needs to live
// only that long; nothing is copied per request.
struct Event {
  std::string_view event_type;  // response | fault | throttle | auth_failure
  std::chrono::system_clock::time_point request_time;  // written as RFC 3339 with ms, UTC
  std::string_view correlation_id;
  std::string_view api_name;
  std::string_view api_version;
  std::string_view api_context;
  std::string_view api_resource_template;
  // The four fields above already written by ApiFieldsJson (the gateway does it once per resource
  // at start), or empty: then they are written from the views above.
  std::string_view api_json;
  std::string_view http_method;
  std::string_view application_id;
  std::string_view application_name;
  std::string_view key_type;
  std::string_view user_name;
  std::string_view end_user_ip;
  std::string_view user_agent;
  int proxy_response_code = 0;
  int target_response_code = 0;  // 0: the backend was not called
  double response_latency_ms = 0;
  double backend_latency_ms = 0;
  std::uint64_t request_size = 0;
  std::uint64_t response_size = 0;
  int error_code = 0;  // fault code of a gateway-made answer, 0 = none
  std::string_view throttled_out_reason;
  std::string_view destination;  // backend URL, "" when none
};

// The event as one JSON line (with the trailing newline).
std::string ToJsonLine(const Event& event);
// The same, appended to `out` (no allocation when `out` has room).
void AppendJsonLine(const Event& event, std::string& out);
// The members apiName, apiVersion, apiContext and apiResourceTemplate as WriteJsonLine writes
// them (each after a comma), for Event::api_json.
std::string ApiFieldsJson(std::string_view name, std::string_view version, std::string_view context,
                          std::string_view resource_template);
// The most bytes WriteJsonLine can write for `event` (every string byte escaped as \u00XX).
std::size_t JsonLineBound(const Event& event);
// Writes the line at `out`, which has room for JsonLineBound(event) bytes; returns its end.
char* WriteJsonLine(const Event& event, char* out);

}  // namespace mgw::analytics
