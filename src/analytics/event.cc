#include "analytics/event.h"

#include <array>
#include <charconv>
#include <cmath>

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

// Appends `text` as a JSON string. Serialised by hand (this runs once per request): `"` and `\`
// are escaped, control characters become \n, \t, ... or \u00XX, and -- header values may hold any
// byte -- each byte that does not start a valid UTF-8 sequence becomes U+FFFD, so the line stays
// valid UTF-8 JSON.
// Bytes that are not copied as they are: control characters, '"', '\\' and every non-ASCII byte.
constexpr std::array<bool, 256> kNeedsCare = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<std::size_t>(c)] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
  }
  return table;
}();

void AppendString(std::string& out, const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  std::size_t plain = 0;  // start of the run of bytes copied as they are
  auto flush = [&] {
    out.append(text, plain, i - plain);
  };
  const std::size_t size = text.size();
  while (i < size) {
    // The common case, plain ASCII: one table lookup per byte.
    while (i < size && !kNeedsCare[static_cast<unsigned char>(text[i])]) {
      ++i;
    }
    if (i == size) {
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceAt(text, i);
      if (length > 0) {
        i += length;
        continue;
      }
      flush();
      out += "\xEF\xBF\xBD";
      plain = ++i;
      continue;
    }
    flush();
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof escaped);
      }
    }
    plain = ++i;
  }
  flush();
  out += '"';
}

void AppendTextOrNull(std::string& out, const std::string& text) {
  if (text.empty()) {
    out += "null";
  } else {
    AppendString(out, text);
  }
}

// Plain decimal with 3 places ("12.346"); non-finite values (never expected) as 0.
void AppendDecimal(std::string& out, double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, std::isfinite(value) ? value : 0.0,
                                    std::chars_format::fixed, 3);
  out.append(buffer, result.ec == std::errc() ? result.ptr : buffer);
}

template <class Integer>
void AppendInteger(std::string& out, Integer value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// A key with its punctuation (`,"apiName":`), appended without a strlen.
template <std::size_t N>
void Key(std::string& out, const char (&literal)[N]) {
  out.append(literal, N - 1);
}

// 0 means "none" for these fields.
void AppendIntegerOrNull(std::string& out, int value) {
  if (value == 0) {
    out += "null";
  } else {
    AppendInteger(out, value);
  }
}

}  // namespace

std::string ToJsonLine(const Event& event) {
  std::string out;
  out.reserve(640);
  AppendJsonLine(event, out);
  return out;
}

void AppendJsonLine(const Event& e, std::string& out) {
  Key(out, "{\"eventType\":");
  AppendString(out, e.event_type);
  Key(out, ",\"requestTime\":");
  AppendString(out, e.request_time);
  Key(out, ",\"correlationId\":");
  AppendString(out, e.correlation_id);
  Key(out, ",\"apiName\":");
  AppendTextOrNull(out, e.api_name);
  Key(out, ",\"apiVersion\":");
  AppendTextOrNull(out, e.api_version);
  Key(out, ",\"apiContext\":");
  AppendTextOrNull(out, e.api_context);
  Key(out, ",\"apiResourceTemplate\":");
  AppendTextOrNull(out, e.api_resource_template);
  Key(out, ",\"httpMethod\":");
  AppendString(out, e.http_method);
  Key(out, ",\"applicationId\":");
  AppendTextOrNull(out, e.application_id);
  Key(out, ",\"applicationName\":");
  AppendTextOrNull(out, e.application_name);
  Key(out, ",\"keyType\":");
  AppendTextOrNull(out, e.key_type);
  Key(out, ",\"userName\":");
  AppendTextOrNull(out, e.user_name);
  Key(out, ",\"endUserIP\":");
  AppendString(out, e.end_user_ip);
  Key(out, ",\"userAgentHeader\":");
  AppendTextOrNull(out, e.user_agent);
  Key(out, ",\"proxyResponseCode\":");
  AppendInteger(out, e.proxy_response_code);
  Key(out, ",\"targetResponseCode\":");
  AppendIntegerOrNull(out, e.target_response_code);
  Key(out, ",\"responseLatency\":");
  AppendDecimal(out, e.response_latency_ms);
  Key(out, ",\"backendLatency\":");
  AppendDecimal(out, e.backend_latency_ms);
  Key(out, ",\"requestSize\":");
  AppendInteger(out, e.request_size);
  Key(out, ",\"responseSize\":");
  AppendInteger(out, e.response_size);
  Key(out, ",\"errorCode\":");
  AppendIntegerOrNull(out, e.error_code);
  Key(out, ",\"throttledOutReason\":");
  AppendTextOrNull(out, e.throttled_out_reason);
  Key(out, ",\"destination\":");
  AppendTextOrNull(out, e.destination);
  out += "}\n";
}

}  // namespace mgw::analytics
