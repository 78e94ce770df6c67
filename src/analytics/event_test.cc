#include "analytics/event.h"

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace mgw::analytics {
namespace {

Event FullEvent() {
  Event e;
  e.event_type = "response";
  e.request_time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796045864123));  // 2026-11-30T13:37:44.123Z
  e.correlation_id = "3f0c9a52-1b7e-4c1e-9d8e-0c7f2b9b6a11";
  e.api_name = "Petstore";
  e.api_version = "1.0.5";
  e.api_context = "/petstore/v1";
  e.api_resource_template = "/pets/{petId}";
  e.http_method = "GET";
  e.application_id = "42";
  e.application_name = "app1";
  e.key_type = "PRODUCTION";
  e.user_name = "alice@carbon.super";
  e.end_user_ip = "127.0.0.1";
  e.user_agent = "curl/8.0";
  e.proxy_response_code = 200;
  e.target_response_code = 200;
  e.response_latency_ms = 12.3456;
  e.backend_latency_ms = 10.0;
  e.request_size = 17;
  e.response_size = 1234;
  e.destination = "http://127.0.0.1:8080/v1";
  return e;
}

boost::json::object Parse(const std::string& line) {
  boost::json::error_code ec;
  auto value = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << ec.message() << " in " << line;
  EXPECT_TRUE(value.is_object()) << line;
  return value.is_object() ? value.get_object() : boost::json::object{};
}

TEST(AnalyticsEvent, IsOneLineWithTheWso2FieldNamesInOrder) {
  const std::string line = ToJsonLine(FullEvent());
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one newline, at the end";
  const auto o = Parse(line);
  const std::vector<std::string> expected = {
      "eventType",         "requestTime",        "correlationId",   "apiName",
      "apiVersion",        "apiContext",         "apiResourceTemplate", "httpMethod",
      "applicationId",     "applicationName",    "keyType",         "userName",
      "endUserIP",         "userAgentHeader",    "proxyResponseCode", "targetResponseCode",
      "responseLatency",   "backendLatency",     "requestSize",     "responseSize",
      "errorCode",         "throttledOutReason", "destination"};
  std::vector<std::string> keys;
  for (const auto& kv : o) {
    keys.emplace_back(kv.key());
  }
  EXPECT_EQ(keys, expected);
}

TEST(AnalyticsEvent, CarriesEveryValue) {
  const auto o = Parse(ToJsonLine(FullEvent()));
  EXPECT_EQ(o.at("eventType").as_string(), "response");
  EXPECT_EQ(o.at("requestTime").as_string(), "2026-11-30T13:37:44.123Z");
  EXPECT_EQ(o.at("correlationId").as_string(), "3f0c9a52-1b7e-4c1e-9d8e-0c7f2b9b6a11");
  EXPECT_EQ(o.at("apiName").as_string(), "Petstore");
  EXPECT_EQ(o.at("apiVersion").as_string(), "1.0.5");
  EXPECT_EQ(o.at("apiContext").as_string(), "/petstore/v1");
  EXPECT_EQ(o.at("apiResourceTemplate").as_string(), "/pets/{petId}");
  EXPECT_EQ(o.at("httpMethod").as_string(), "GET");
  EXPECT_EQ(o.at("applicationId").as_string(), "42");
  EXPECT_EQ(o.at("applicationName").as_string(), "app1");
  EXPECT_EQ(o.at("keyType").as_string(), "PRODUCTION");
  EXPECT_EQ(o.at("userName").as_string(), "alice@carbon.super");
  EXPECT_EQ(o.at("endUserIP").as_string(), "127.0.0.1");
  EXPECT_EQ(o.at("userAgentHeader").as_string(), "curl/8.0");
  EXPECT_EQ(o.at("proxyResponseCode").as_int64(), 200);
  EXPECT_EQ(o.at("targetResponseCode").as_int64(), 200);
  EXPECT_DOUBLE_EQ(o.at("responseLatency").to_number<double>(), 12.346);  // 3 decimals
  EXPECT_DOUBLE_EQ(o.at("backendLatency").to_number<double>(), 10.0);
  EXPECT_EQ(o.at("requestSize").as_int64(), 17);
  EXPECT_EQ(o.at("responseSize").as_int64(), 1234);
  EXPECT_TRUE(o.at("errorCode").is_null());
  EXPECT_TRUE(o.at("throttledOutReason").is_null());
  EXPECT_EQ(o.at("destination").as_string(), "http://127.0.0.1:8080/v1");
}

TEST(AnalyticsEvent, AbsentValuesAreNullNotEmptyOrZero) {
  Event e;
  e.event_type = "fault";
  e.request_time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796045864123));  // 2026-11-30T13:37:44.123Z
  e.correlation_id = "c";
  e.http_method = "GET";
  e.end_user_ip = "127.0.0.1";
  e.proxy_response_code = 404;
  e.error_code = 404;
  const auto o = Parse(ToJsonLine(e));
  for (const char* key : {"apiName", "apiVersion", "apiContext", "apiResourceTemplate", "applicationId",
                          "applicationName", "keyType", "userName", "userAgentHeader",
                          "targetResponseCode", "throttledOutReason", "destination"}) {
    EXPECT_TRUE(o.at(key).is_null()) << key;
  }
  EXPECT_EQ(o.at("errorCode").as_int64(), 404);
  EXPECT_EQ(o.at("proxyResponseCode").as_int64(), 404);
  EXPECT_DOUBLE_EQ(o.at("backendLatency").to_number<double>(), 0.0);
  EXPECT_EQ(o.at("requestSize").as_int64(), 0);
}

TEST(AnalyticsEvent, ThrottleAndFaultFields) {
  Event e = FullEvent();
  e.event_type = "throttle";
  e.proxy_response_code = 429;
  e.target_response_code = 0;
  e.error_code = 900803;
  e.throttled_out_reason = "application";
  e.destination = {};
  const auto o = Parse(ToJsonLine(e));
  EXPECT_EQ(o.at("eventType").as_string(), "throttle");
  EXPECT_EQ(o.at("errorCode").as_int64(), 900803);
  EXPECT_EQ(o.at("throttledOutReason").as_string(), "application");
  EXPECT_TRUE(o.at("targetResponseCode").is_null());
  EXPECT_TRUE(o.at("destination").is_null());
}

TEST(AnalyticsEvent, EscapesQuotesBackslashesAndControlCharacters) {
  Event e = FullEvent();
  e.user_agent = "a \"quoted\" \\ agent\nwith\r\nnewlines\tand\x01 control";
  e.user_name = "ünïcødé ✓ 😀";
  e.api_resource_template = "/x/{id}\"}";
  const std::string line = ToJsonLine(e);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a newline inside a value must be escaped";
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x01'), std::string::npos);
  const auto o = Parse(line);
  EXPECT_EQ(o.at("userAgentHeader").as_string(), e.user_agent);
  EXPECT_EQ(o.at("userName").as_string(), e.user_name);
  EXPECT_EQ(o.at("apiResourceTemplate").as_string(), e.api_resource_template);
}

// The line is written into room reserved for the worst case (every byte escaped as \u00XX, every
// empty text as null, numbers at their longest): such an event must come out whole and exact,
// appended after what the buffer already held.
TEST(AnalyticsEvent, WorstCaseEscapingFitsAndAppendsAfterExistingText) {
  Event e;
  const std::string control(300, '\x01');
  for (std::string_view* text : {&e.correlation_id, &e.http_method, &e.end_user_ip, &e.user_agent,
                                  &e.event_type, &e.api_name, &e.destination}) {
    *text = control;
  }
  // The latest time the clock can hold (in 2262).
  e.request_time = std::chrono::system_clock::time_point::max();
  e.proxy_response_code = std::numeric_limits<int>::min();
  e.request_size = std::numeric_limits<std::uint64_t>::max();
  e.response_size = std::numeric_limits<std::uint64_t>::max();
  e.response_latency_ms = 1e15;
  e.error_code = std::numeric_limits<int>::min();
  std::string out = "previous line\n";
  AppendJsonLine(e, out);
  ASSERT_EQ(out.rfind("previous line\n", 0), 0u);
  const std::string line = out.substr(14);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto o = Parse(line);
  EXPECT_EQ(o.at("userAgentHeader").as_string(), control);
  EXPECT_EQ(o.at("destination").as_string(), control);
  EXPECT_TRUE(o.at("userName").is_null());
  EXPECT_EQ(o.at("responseSize").as_uint64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(o.at("errorCode").as_int64(), std::numeric_limits<int>::min());
  EXPECT_DOUBLE_EQ(o.at("responseLatency").to_number<double>(), 1e15);
}

// Plain runs are skipped a block (16 or 8 bytes) at a time: a byte that needs escaping must be
// found at every offset of such a block, and bytes just inside the plain range must not be escaped.
TEST(AnalyticsEvent, EscapesASpecialByteAtEveryOffset) {
  // Every length from 1 to 40 (texts under one word, whole words, and words plus a tail that the
  // last, overlapping word covers), every offset.
  for (const char special :
       {'"', '\\', '\x1f', '\x01', '\0', '\x7f', '\x80', '\xff', ' ', '~', '!', '#', '[', ']'}) {
    for (std::size_t size = 1; size <= 40; ++size) {
      for (std::size_t at = 0; at < size; ++at) {
        Event e = FullEvent();
        std::string agent(size, 'a');
        agent[at] = special;
        e.user_agent = agent;
        const auto o = Parse(ToJsonLine(e));
        const std::string expected =
            special == '\x80' || special == '\xff'
                ? agent.substr(0, at) + "\xef\xbf\xbd" + agent.substr(at + 1)
                : agent;
        ASSERT_EQ(o.at("userAgentHeader").as_string(), expected)
            << int(special) << " at " << at << " of " << size;
      }
    }
  }
  Event e = FullEvent();
  const std::string agent = std::string(16, 'b') + "\xc3\xa9" + std::string(9, 'c') + "\xff";
  e.user_agent = agent;
  const std::string line = ToJsonLine(e);
  EXPECT_NE(line.find(std::string(16, 'b') + "\xc3\xa9" + std::string(9, 'c') + "\xef\xbf\xbd"),
            std::string::npos) << line;
}

TEST(AnalyticsEvent, LatenciesHaveExactlyThreeDecimalPlaces) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.0, "0.000"},       {1.0, "1.000"},         {12.3456, "12.346"},     {0.0004, "0.000"},
      {0.0015, "0.002"},    {999.9999, "1000.000"}, {123456.789, "123456.789"},
      {-2.5, "-2.500"},     {5e9, "5000000000.000"}};
  for (const auto& [value, text] : cases) {
    Event e = FullEvent();
    e.response_latency_ms = value;
    const std::string line = ToJsonLine(e);
    EXPECT_NE(line.find("\"responseLatency\":" + text + ","), std::string::npos) << value << " in " << line;
  }
}

// Header values may carry any byte (obs-text); the line must stay valid UTF-8 JSON so that every
// consumer (the collector, `mgw analytics summary`) can read it.
TEST(AnalyticsEvent, InvalidUtf8IsReplacedSoTheLineStaysValidJson) {
  Event e = FullEvent();
  e.user_agent = "bad \xff\xfe bytes \xc3 and a cut \xe2\x82";
  e.user_name = "ok \xc3\xa9 then \xed\xa0\x80 surrogate";
  const std::string line = ToJsonLine(e);
  const auto o = Parse(line);  // Boost.JSON rejects invalid UTF-8
  ASSERT_TRUE(o.contains("userAgentHeader"));
  const std::string agent(o.at("userAgentHeader").as_string());
  EXPECT_EQ(agent.rfind("bad ", 0), 0u);
  EXPECT_NE(agent.find("\xef\xbf\xbd"), std::string::npos) << "U+FFFD marks the replaced bytes";
  EXPECT_NE(agent.find(" bytes "), std::string::npos);
  const std::string user(o.at("userName").as_string());
  EXPECT_NE(user.find("ok \xc3\xa9 then "), std::string::npos) << "valid sequences are kept";
}

TEST(AnalyticsEvent, ControlCharactersUseTheShortOrUnicodeEscapes) {
  Event e = FullEvent();
  const std::string agent("a\x01" "b\x1f\"\\\b\f\n\r\t\x7f/", 13);
  e.user_agent = agent;
  const std::string line = ToJsonLine(e);
  EXPECT_NE(line.find(R"("userAgentHeader":"a\u0001b\u001f\"\\\b\f\n\r\t)" "\x7f" R"(/")"),
            std::string::npos)
      << line;
  EXPECT_EQ(Parse(line).at("userAgentHeader").as_string(), e.user_agent);
}

// Any text made of valid UTF-8 comes back unchanged; any bytes at all give a parseable line.
TEST(AnalyticsEvent, RandomTextRoundTrips) {
  const std::vector<std::string> pieces = {
      "a", "Z", " ", "~", "\"", "\\", "/", "\n", "\t", std::string(1, '\0'), "\x01", "\x1f", "\x7f",
      "\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"};
  std::uint64_t state = 88172645463325252ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 2000; ++round) {
    std::string valid;
    std::string bytes;
    const int n = static_cast<int>(next() % 40);
    for (int i = 0; i < n; ++i) {
      valid += pieces[next() % pieces.size()];
      bytes += static_cast<char>(next() & 0xFF);
    }
    Event e = FullEvent();
    e.user_agent = valid;
    e.user_name = bytes;
    const auto o = Parse(ToJsonLine(e));
    ASSERT_TRUE(o.contains("userAgentHeader")) << round;
    if (valid.empty()) {
      EXPECT_TRUE(o.at("userAgentHeader").is_null());
    } else {
      ASSERT_EQ(o.at("userAgentHeader").as_string(), valid) << round;
    }
    ASSERT_TRUE(o.at("userName").is_string() || bytes.empty()) << round;
  }
}

// The API fields written once (per resource, at start) give the same line as writing them per
// event, for texts that need escaping and for absent ones (null) too.
TEST(AnalyticsEvent, PrewrittenApiFieldsGiveTheSameLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"Petstore", "1.0.5", "/petstore/v1", "/pets/{petId}"},
      {"Quote \"API\" \\ \xc3\xa9", "v\x01", "/ctx", ""},
      {"", "", "", ""},
      {std::string(300, 'n'), "2", "/c/\xff", "/r"}};
  for (const auto& c : cases) {
    Event each = FullEvent();
    each.api_name = c[0];
    each.api_version = c[1];
    each.api_context = c[2];
    each.api_resource_template = c[3];
    const std::string prewritten = ApiFieldsJson(c[0], c[1], c[2], c[3]);
    Event once = FullEvent();
    once.api_name = once.api_version = once.api_context = once.api_resource_template = {};
    once.api_json = prewritten;
    EXPECT_EQ(ToJsonLine(once), ToJsonLine(each)) << c[0];
    EXPECT_LE(ToJsonLine(once).size(), JsonLineBound(once));
  }
}

TEST(AnalyticsEvent, AppendJsonLineAppends) {
  std::string out = "previous\n";
  AppendJsonLine(FullEvent(), out);
  EXPECT_EQ(out, "previous\n" + ToJsonLine(FullEvent()));
}

TEST(AnalyticsEvent, NonFiniteLatenciesStillGiveValidJson) {
  Event e = FullEvent();
  e.response_latency_ms = std::numeric_limits<double>::infinity();
  e.backend_latency_ms = std::numeric_limits<double>::quiet_NaN();
  const auto o = Parse(ToJsonLine(e));
  EXPECT_TRUE(o.at("responseLatency").is_number());
  EXPECT_TRUE(o.at("backendLatency").is_number());
}

}  // namespace
}  // namespace mgw::analytics
