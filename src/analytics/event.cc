#include "analytics/event.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "base/log.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mgw::analytics {
namespace {

// Length of the valid UTF-8 sequence at text[i] (RFC 3629: no overlongs, no surrogates, nothing
// past U+10FFFF), or 0 when the bytes there are not one.
std::size_t Utf8SequenceAt(std::string_view text, std::size_t i) {
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

// Writes `text` as a JSON string at `p` and returns the end; at most 6 bytes per input byte plus
// the quotes (see StringBound). Serialised by hand (this runs once per request): `"` and `\` are
// escaped, control characters become \n, \t, ... or \u00XX, and -- header values may hold any
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

// The quotes and every byte escaped as \u00XX, or "null" for an empty one.
constexpr std::size_t StringBound(std::string_view text) { return 6 * text.size() + 4; }
constexpr std::size_t kNumberBound = 24;   // a 64-bit integer, or "null"
constexpr std::size_t kDecimalBound = 64;  // AppendDecimal's buffer

template <std::size_t N>
char* Put(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}

char* Put(char* p, const char* data, std::size_t size) {
  std::memcpy(p, data, size);
  return p + size;
}

// True when none of the 8 bytes at `data` needs care: each is in 0x20..0x7F and none is '"' or
// '\\'. Word-at-a-time tests (exact for the word as a whole): a byte below 0x20 makes
// (w - 0x20..) & ~w set a high bit, a byte equal to c makes ((w ^ c..) - 0x01..) & ~(w ^ c..) set
// one.
bool EightPlainBytes(const char* data) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  std::uint64_t w = 0;
  std::memcpy(&w, data, sizeof w);
  const std::uint64_t quote = w ^ (kOnes * '"');
  const std::uint64_t backslash = w ^ (kOnes * '\\');
  const std::uint64_t flags = (w & kHigh) | ((w - kOnes * 0x20) & ~w & kHigh) |
                              ((quote - kOnes) & ~quote & kHigh) |
                              ((backslash - kOnes) & ~backslash & kHigh);
  return flags == 0;
}

#if defined(__SSE2__)
// True when none of the 16 bytes at `data` needs care. A signed compare with 0x20 catches both the
// control characters and every byte from 0x80 (negative as signed).
bool SixteenPlainBytes(const char* data) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data));
  const __m128i quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'));
  const __m128i care =
      _mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)), _mm_or_si128(quote, backslash));
  return _mm_movemask_epi8(care) == 0;
}
#endif

// True when every byte of `text` is copied as it is. Sixteen bytes at a time (eight without SSE2);
// a text of a block or more ends with one block that overlaps the one before, so no byte is looked
// at on its own.
bool AllPlain(std::string_view text) {
  const char* data = text.data();
  const std::size_t size = text.size();
#if defined(__SSE2__)
  if (size >= 16) {
    for (std::size_t i = 0; i + 16 < size; i += 16) {
      if (!SixteenPlainBytes(data + i)) {
        return false;
      }
    }
    return SixteenPlainBytes(data + size - 16);
  }
#endif
  if (size < 8) {
    for (std::size_t i = 0; i < size; ++i) {
      if (kNeedsCare[static_cast<unsigned char>(data[i])]) {
        return false;
      }
    }
    return true;
  }
  for (std::size_t i = 0; i + 8 < size; i += 8) {
    if (!EightPlainBytes(data + i)) {
      return false;
    }
  }
  return EightPlainBytes(data + size - 8);
}

char* PutString(char* p, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  *p++ = '"';
  if (AllPlain(text)) {  // the common case: one check, one copy
    p = Put(p, text.data(), text.size());
    *p++ = '"';
    return p;
  }
  const char* data = text.data();
  const std::size_t size = text.size();
  std::size_t i = 0;
  std::size_t plain = 0;  // start of the run of bytes copied as they are
  while (i < size) {
    // The common case, plain ASCII: eight bytes at a time, then one table lookup per byte.
    while (i + 8 <= size && EightPlainBytes(data + i)) {
      i += 8;
    }
    while (i < size && !kNeedsCare[static_cast<unsigned char>(data[i])]) {
      ++i;
    }
    if (i == size) {
      break;
    }
    const auto c = static_cast<unsigned char>(data[i]);
    if (c >= 0x80) {
      const std::size_t length = Utf8SequenceAt(text, i);
      if (length > 0) {
        i += length;
        continue;
      }
      p = Put(p, data + plain, i - plain);
      p = Put(p, "\xEF\xBF\xBD");
      plain = ++i;
      continue;
    }
    p = Put(p, data + plain, i - plain);
    switch (c) {
      case '"':
        p = Put(p, "\\\"");
        break;
      case '\\':
        p = Put(p, "\\\\");
        break;
      case '\n':
        p = Put(p, "\\n");
        break;
      case '\r':
        p = Put(p, "\\r");
        break;
      case '\t':
        p = Put(p, "\\t");
        break;
      case '\b':
        p = Put(p, "\\b");
        break;
      case '\f':
        p = Put(p, "\\f");
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        p = Put(p, escaped, sizeof escaped);
      }
    }
    plain = ++i;
  }
  p = Put(p, data + plain, i - plain);
  *p++ = '"';
  return p;
}

char* PutTextOrNull(char* p, std::string_view text) {
  return text.empty() ? Put(p, "null") : PutString(p, text);
}

// Plain decimal with 3 places ("12.346"); non-finite values (never expected) as 0. Latencies
// (below a billion milliseconds) go through integer arithmetic, rounded half away from zero:
// std::to_chars with a precision costs about 580 instructions a call.
char* PutDecimal(char* p, double value) {
  if (!std::isfinite(value)) {
    value = 0.0;
  }
  if (std::fabs(value) < 1e9) {
#if defined(__SSE2__)
    // One conversion instruction, to nearest (ties to even) rather than llround's libm call.
    const long long thousandths = _mm_cvtsd_si64(_mm_set_sd(value * 1000.0));
#else
    const long long thousandths = std::llround(value * 1000.0);
#endif
    const unsigned long long magnitude =
        static_cast<unsigned long long>(thousandths < 0 ? -thousandths : thousandths);
    if (thousandths < 0) {
      *p++ = '-';
    }
    p = std::to_chars(p, p + kNumberBound, magnitude / 1000).ptr;
    const auto fraction = static_cast<unsigned>(magnitude % 1000);
    *p++ = '.';
    *p++ = static_cast<char>('0' + fraction / 100);
    *p++ = static_cast<char>('0' + fraction / 10 % 10);
    *p++ = static_cast<char>('0' + fraction % 10);
    return p;
  }
  const auto result = std::to_chars(p, p + kDecimalBound, value, std::chars_format::fixed, 3);
  return result.ec == std::errc() ? result.ptr : p;
}

template <class Integer>
char* PutInteger(char* p, Integer value) {
  return std::to_chars(p, p + kNumberBound, value).ptr;
}

// 0 means "none" for these fields.
char* PutIntegerOrNull(char* p, int value) {
  return value == 0 ? Put(p, "null") : PutInteger(p, value);
}

char* PutApiFields(char* p, std::string_view name, std::string_view version,
                   std::string_view context, std::string_view resource_template) {
  p = Put(p, ",\"apiName\":");
  p = PutTextOrNull(p, name);
  p = Put(p, ",\"apiVersion\":");
  p = PutTextOrNull(p, version);
  p = Put(p, ",\"apiContext\":");
  p = PutTextOrNull(p, context);
  p = Put(p, ",\"apiResourceTemplate\":");
  return PutTextOrNull(p, resource_template);
}

constexpr std::size_t kApiKeysBound = 64;  // the four keys and their punctuation: 61 bytes

}  // namespace

std::string ApiFieldsJson(std::string_view name, std::string_view version, std::string_view context,
                          std::string_view resource_template) {
  std::string out(kApiKeysBound + StringBound(name) + StringBound(version) + StringBound(context) +
                      StringBound(resource_template),
                  '\0');
  char* const first = out.data();
  out.resize(static_cast<std::size_t>(
      PutApiFields(first, name, version, context, resource_template) - first));
  return out;
}

std::string ToJsonLine(const Event& event) {
  std::string out;
  out.reserve(640);
  AppendJsonLine(event, out);
  return out;
}

std::size_t JsonLineBound(const Event& e) {
  constexpr std::size_t kKeysBound = 512;  // the keys and punctuation below: 375 bytes
  return kKeysBound + 6 * kNumberBound + 2 * kDecimalBound + StringBound(e.event_type) +
         base::kRfc3339MaxBytes + 2 + StringBound(e.correlation_id) + e.api_json.size() +
         StringBound(e.api_name) + StringBound(e.api_version) + StringBound(e.api_context) +
         StringBound(e.api_resource_template) + StringBound(e.http_method) +
         StringBound(e.application_id) + StringBound(e.application_name) +
         StringBound(e.key_type) + StringBound(e.user_name) + StringBound(e.end_user_ip) +
         StringBound(e.user_agent) + StringBound(e.throttled_out_reason) +
         StringBound(e.destination);
}

void AppendJsonLine(const Event& e, std::string& out) {
  // Room for the worst case first, then one pass of plain stores and copies, then the string is
  // cut to what was written: no append per piece.
  const std::size_t start = out.size();
  out.resize(start + JsonLineBound(e));
  char* const first = out.data() + start;
  out.resize(start + static_cast<std::size_t>(WriteJsonLine(e, first) - first));
}

char* WriteJsonLine(const Event& e, char* const first) {
  char* p = first;
  p = Put(p, "{\"eventType\":");
  p = PutString(p, e.event_type);
  p = Put(p, ",\"requestTime\":");
  *p++ = '"';
  p = base::WriteRfc3339(p, e.request_time);
  *p++ = '"';
  p = Put(p, ",\"correlationId\":");
  p = PutString(p, e.correlation_id);
  p = e.api_json.empty() ? PutApiFields(p, e.api_name, e.api_version, e.api_context,
                                         e.api_resource_template)
                         : Put(p, e.api_json.data(), e.api_json.size());
  p = Put(p, ",\"httpMethod\":");
  p = PutString(p, e.http_method);
  p = Put(p, ",\"applicationId\":");
  p = PutTextOrNull(p, e.application_id);
  p = Put(p, ",\"applicationName\":");
  p = PutTextOrNull(p, e.application_name);
  p = Put(p, ",\"keyType\":");
  p = PutTextOrNull(p, e.key_type);
  p = Put(p, ",\"userName\":");
  p = PutTextOrNull(p, e.user_name);
  p = Put(p, ",\"endUserIP\":");
  p = PutString(p, e.end_user_ip);
  p = Put(p, ",\"userAgentHeader\":");
  p = PutTextOrNull(p, e.user_agent);
  p = Put(p, ",\"proxyResponseCode\":");
  p = PutInteger(p, e.proxy_response_code);
  p = Put(p, ",\"targetResponseCode\":");
  p = PutIntegerOrNull(p, e.target_response_code);
  p = Put(p, ",\"responseLatency\":");
  p = PutDecimal(p, e.response_latency_ms);
  p = Put(p, ",\"backendLatency\":");
  p = PutDecimal(p, e.backend_latency_ms);
  p = Put(p, ",\"requestSize\":");
  p = PutInteger(p, e.request_size);
  p = Put(p, ",\"responseSize\":");
  p = PutInteger(p, e.response_size);
  p = Put(p, ",\"errorCode\":");
  p = PutIntegerOrNull(p, e.error_code);
  p = Put(p, ",\"throttledOutReason\":");
  p = PutTextOrNull(p, e.throttled_out_reason);
  p = Put(p, ",\"destination\":");
  p = PutTextOrNull(p, e.destination);
  p = Put(p, "}\n");
  return p;
}

}  // namespace mgw::analytics
