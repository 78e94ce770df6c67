#include "analytics/event.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <boost/json.hpp>

namespace mgw::analytics {
namespace {

// Length of the valid UTF-8 sequence at text[i] (RFC 3629: no overlongs, no surrogates, nothing
// past U+10FFFF), or 0 when the bytes there are not one.
std::size_t Utf8SequenceAt(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    low = c == 0xE0 ? 0xA0 : 0x80;
    high = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    low = c == 0xF0 ? 0x90 : 0x80;
    high = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return length;
}

// Header values may hold any byte; the line must stay valid UTF-8, so each byte that does not
// start a valid sequence becomes U+FFFD.
std::string ValidUtf8(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = Utf8SequenceAt(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

// Serialised by hand: field order is fixed and latencies print as plain decimals (3 places).
void AppendString(std::string& out, const std::string& text) {
  const bool ascii = std::all_of(text.begin(), text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    out += boost::json::serialize(boost::json::string_view(text));
  } else {
    out += boost::json::serialize(boost::json::string_view(ValidUtf8(text)));
  }
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
