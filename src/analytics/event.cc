#include "analytics/event.h"

#include <cmath>
#include <cstdio>

#include <boost/json.hpp>

namespace mgw::analytics {
namespace {

// Serialised by hand: field order is fixed and latencies print as plain decimals (3 places).
void AppendString(std::string& out, const std::string& text) {
  out += boost::json::serialize(boost::json::string_view(text));
}

void AppendTextOrNull(std::string& out, const std::string& text) {
  if (text.empty()) {
    out += "null";
  } else {
    AppendString(out, text);
  }
}

void AppendDecimal(std::string& out, double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.3f", std::isfinite(value) ? value : 0.0);
  out += buffer;
}

}  // namespace

std::string ToJsonLine(const Event& e) {
  std::string out;
  out.reserve(640);
  auto key = [&](const char* name) {
    out += out.empty() ? "{\"" : ",\"";
    out += name;
    out += "\":";
  };
  key("eventType");
  AppendString(out, e.event_type);
  key("requestTime");
  AppendString(out, e.request_time);
  key("correlationId");
  AppendString(out, e.correlation_id);
  key("apiName");
  AppendTextOrNull(out, e.api_name);
  key("apiVersion");
  AppendTextOrNull(out, e.api_version);
  key("apiContext");
  AppendTextOrNull(out, e.api_context);
  key("apiResourceTemplate");
  AppendTextOrNull(out, e.api_resource_template);
  key("httpMethod");
  AppendString(out, e.http_method);
  key("applicationId");
  AppendTextOrNull(out, e.application_id);
  key("applicationName");
  AppendTextOrNull(out, e.application_name);
  key("keyType");
  AppendTextOrNull(out, e.key_type);
  key("userName");
  AppendTextOrNull(out, e.user_name);
  key("endUserIP");
  AppendString(out, e.end_user_ip);
  key("userAgentHeader");
  AppendTextOrNull(out, e.user_agent);
  key("proxyResponseCode");
  out += std::to_string(e.proxy_response_code);
  key("targetResponseCode");
  out += e.target_response_code == 0 ? std::string("null") : std::to_string(e.target_response_code);
  key("responseLatency");
  AppendDecimal(out, e.response_latency_ms);
  key("backendLatency");
  AppendDecimal(out, e.backend_latency_ms);
  key("requestSize");
  out += std::to_string(e.request_size);
  key("responseSize");
  out += std::to_string(e.response_size);
  key("errorCode");
  out += e.error_code == 0 ? std::string("null") : std::to_string(e.error_code);
  key("throttledOutReason");
  AppendTextOrNull(out, e.throttled_out_reason);
  key("destination");
  AppendTextOrNull(out, e.destination);
  out += "}\n";
  return out;
}

}  // namespace mgw::analytics
