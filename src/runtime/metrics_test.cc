#include "runtime/metrics.h"

#include <atomic>
#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mgw::runtime {
namespace {

// Two APIs: Petstore (GET /pets/{petId}, POST /pets) and one whose labels need escaping.
struct Fixture {
  Fixture() {
    bundle::Api petstore;
    petstore.title = "Petstore";
    petstore.version = "1.0";
    petstore.base_path = "/petstore/v1";
    bundle::Resource get;
    get.method = "GET";
    get.path_template = "/pets/{petId}";
    bundle::Resource post;
    post.method = "POST";
    post.path_template = "/pets";
    petstore.resources = {get, post};
    bundle::Api odd;
    odd.title = "Odd \"API\" \\ with\nnewline";
    odd.version = "2";
    odd.base_path = "/odd";
    bundle::Resource any;
    any.method = "GET";
    any.path_template = "/a\"b";
    odd.resources = {any};
    config.model.apis = {petstore, odd};
    for (const auto& api : config.model.apis) {
      ApiRoute route;
      route.api = &api;
      for (const auto& resource : api.resources) {
        ResourceRoute r;
        r.resource = &resource;
        route.resources.push_back(r);
      }
      config.apis.push_back(route);
    }
  }
  GatewayConfig config;
};

// ---- A small Prometheus text-format (0.0.4) reader, strict enough to catch format mistakes. ----

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> type;  // family -> counter | gauge | histogram
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;
  std::vector<std::string> errors;
};

// The family a sample belongs to (histogram series carry suffixes).
std::string FamilyOf(const std::string& name, const Exposition& e) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      if (e.type.count(base) != 0 && e.type.at(base) == "histogram") {
        return base;
      }
    }
  }
  return name;
}

Exposition ParseExposition(const std::string& text) {
  Exposition e;
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  std::istringstream in(text);
  std::string line;
  std::set<std::string> families_done;
  std::string current;
  int number = 0;
  if (text.empty() || text.back() != '\n') {
    e.errors.push_back("the exposition must end with a newline");
  }
  while (std::getline(in, line)) {
    ++number;
    const std::string where = "line " + std::to_string(number) + ": " + line;
    if (line.empty()) {
      e.errors.push_back(where + " (empty line)");
      continue;
    }
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") {
        continue;
      }
      if (!std::regex_match(name, kName)) {
        e.errors.push_back(where + " (bad metric name)");
      }
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') {
        rest.erase(0, 1);
      }
      if (kind == "TYPE") {
        if (e.type.count(name) != 0) {
          e.errors.push_back(where + " (second TYPE)");
        }
        if (rest != "counter" && rest != "gauge" && rest != "histogram") {
          e.errors.push_back(where + " (unknown type)");
        }
        e.type[name] = rest;
      } else {
        e.help[name] = rest;
      }
      if (name != current) {
        if (families_done.count(name) != 0) {
          e.errors.push_back(where + " (family split in two)");
        }
        if (!current.empty()) {
          families_done.insert(current);
        }
        current = name;
      }
      continue;
    }
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') {
      ++i;
    }
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kName)) {
      e.errors.push_back(where + " (bad sample name)");
    }
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const std::size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          e.errors.push_back(where + " (bad label)");
          break;
        }
        const std::string label = line.substr(i, eq - i);
        static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
        if (!std::regex_match(label, kLabel)) {
          e.errors.push_back(where + " (bad label name)");
        }
        std::string value;
        std::size_t k = eq + 2;
        bool closed = false;
        for (; k < line.size(); ++k) {
          if (line[k] == '\\') {
            if (k + 1 >= line.size()) {
              break;
            }
            const char next = line[++k];
            if (next == 'n') {
              value += '\n';
            } else if (next == '\\' || next == '"') {
              value += next;
            } else {
              e.errors.push_back(where + " (bad escape)");
            }
          } else if (line[k] == '"') {
            closed = true;
            break;
          } else {
            value += line[k];
          }
        }
        if (!closed) {
          e.errors.push_back(where + " (unterminated label value)");
          break;
        }
        if (s.labels.count(label) != 0) {
          e.errors.push_back(where + " (label twice)");
        }
        s.labels[label] = value;
        i = k + 1;
        if (i < line.size() && line[i] == ',') {
          ++i;
        }
      }
      if (i >= line.size() || line[i] != '}') {
        e.errors.push_back(where + " (no closing brace)");
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      e.errors.push_back(where + " (no value)");
      continue;
    }
    const std::string value_text = line.substr(i + 1);
    try {
      std::size_t used = 0;
      s.value = std::stod(value_text, &used);
      if (used != value_text.size()) {
        e.errors.push_back(where + " (trailing text after the value)");
      }
    } catch (const std::exception&) {
      e.errors.push_back(where + " (bad value)");
    }
    const std::string family = FamilyOf(s.name, e);
    if (e.type.count(family) == 0) {
      e.errors.push_back(where + " (sample before its TYPE)");
    }
    if (family != current) {
      e.errors.push_back(where + " (sample outside its family's block)");
    }
    e.samples.push_back(std::move(s));
  }
  return e;
}

// Checks every histogram series: le ascending ending in +Inf, cumulative counts, +Inf == _count.
std::vector<std::string> HistogramErrors(const Exposition& e) {
  std::vector<std::string> errors;
  std::map<std::string, std::vector<const Sample*>> buckets;  // series key -> buckets in order
  std::map<std::string, double> counts;
  std::map<std::string, int> sums;
  for (const auto& s : e.samples) {
    const std::string family = FamilyOf(s.name, e);
    if (e.type.at(family) != "histogram") {
      continue;
    }
    auto labels = s.labels;
    labels.erase("le");
    std::string key = family;
    for (const auto& [k, v] : labels) {
      key += "|" + k + "=" + v;
    }
    if (s.name == family + "_bucket") {
      if (s.labels.count("le") == 0) {
        errors.push_back(key + ": bucket without le");
      }
      buckets[key].push_back(&s);
    } else if (s.name == family + "_count") {
      counts[key] = s.value;
    } else if (s.name == family + "_sum") {
      ++sums[key];
    } else {
      errors.push_back(key + ": stray sample " + s.name);
    }
  }
  for (const auto& [key, list] : buckets) {
    double previous_le = -1;
    double previous = 0;
    for (const Sample* b : list) {
      const std::string le = b->labels.at("le");
      const double bound = le == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(le);
      if (bound <= previous_le) {
        errors.push_back(key + ": le not ascending at " + le);
      }
      if (b->value < previous) {
        errors.push_back(key + ": buckets not cumulative at " + le);
      }
      previous_le = bound;
      previous = b->value;
    }
    if (list.empty() || list.back()->labels.at("le") != "+Inf") {
      errors.push_back(key + ": no +Inf bucket");
    } else if (counts.count(key) == 0 || counts.at(key) != list.back()->value) {
      errors.push_back(key + ": _count " + std::to_string(counts.count(key) ? counts.at(key) : -1) +
                       " differs from the +Inf bucket " + std::to_string(list.back()->value));
    }
    if (sums[key] != 1) {
      errors.push_back(key + ": needs exactly one _sum");
    }
  }
  return errors;
}

const Sample* Find(const Exposition& e, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  for (const auto& s : e.samples) {
    if (s.name != name) {
      continue;
    }
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) {
      return &s;
    }
  }
  return nullptr;
}

double Value(const Exposition& e, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  const Sample* s = Find(e, name, labels);
  return s == nullptr ? -1 : s->value;
}

std::string Render(const Fixture& f, const std::vector<const MetricsShard*>& shards,
                   MetricsGauges gauges = {}) {
  const MetricSlots slots(f.config);
  return RenderMetrics(slots, shards, gauges);
}

const std::map<std::string, std::string> kGetPet = {
    {"api", "Petstore"}, {"version", "1.0"}, {"resource", "/pets/{petId}"}, {"method", "GET"}};

TEST(RuntimeMetrics, SlotsFollowTheBundle) {
  Fixture f;
  const MetricSlots slots(f.config);
  EXPECT_EQ(slots.Unrouted(), 0);
  EXPECT_EQ(slots.ApiUnrouted(0), 1);
  EXPECT_EQ(slots.Resource(0, 0), 2);
  EXPECT_EQ(slots.Resource(0, 1), 3);
  EXPECT_EQ(slots.ApiUnrouted(1), 4);
  EXPECT_EQ(slots.Resource(1, 0), 5);
  EXPECT_EQ(slots.Count(), 6);
  EXPECT_EQ(slots.LabelsOf(2).resource, "/pets/{petId}");
  EXPECT_EQ(slots.LabelsOf(2).method, "GET");
  EXPECT_EQ(slots.LabelsOf(1).api, "Petstore");
  EXPECT_EQ(slots.LabelsOf(1).resource, "");
  EXPECT_EQ(slots.LabelsOf(0).api, "");
}

TEST(RuntimeMetrics, AnIdleGatewayRendersAValidExposition) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  const auto e = ParseExposition(Render(f, {&shard}));
  EXPECT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  for (const char* family :
       {"mgw_requests_total", "mgw_request_duration_seconds", "mgw_backend_duration_seconds",
        "mgw_throttled_total", "mgw_auth_failures_total", "mgw_connections_active",
        "mgw_analytics_dropped_total", "mgw_analytics_files_dropped_total",
        "mgw_analytics_events_written_total"}) {
    EXPECT_EQ(e.type.count(family), 1u) << family;
    EXPECT_TRUE(e.help.count(family) != 0 && !e.help.at(family).empty()) << family;
  }
  EXPECT_EQ(e.type.at("mgw_requests_total"), "counter");
  EXPECT_EQ(e.type.at("mgw_request_duration_seconds"), "histogram");
  EXPECT_EQ(e.type.at("mgw_backend_duration_seconds"), "histogram");
  EXPECT_EQ(e.type.at("mgw_connections_active"), "gauge");
  EXPECT_EQ(Value(e, "mgw_connections_active", {}), 0);
  EXPECT_EQ(Find(e, "mgw_requests_total", {}), nullptr) << "no series before traffic";
}

TEST(RuntimeMetrics, CountsByResourceAndCodeMergedAcrossShards) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard a(slots.Count());
  MetricsShard b(slots.Count());
  for (int i = 0; i < 7; ++i) {
    a.Record(slots.Resource(0, 0), 200, 0.002, 0.001);
  }
  for (int i = 0; i < 5; ++i) {
    b.Record(slots.Resource(0, 0), 200, 0.002, 0.001);
  }
  b.Record(slots.Resource(0, 0), 503, 0.3, 0.29);
  a.Record(slots.Resource(0, 1), 201, 0.01, 0.009);
  a.Record(slots.ApiUnrouted(0), 405, 0.0001, -1);
  b.Record(slots.Unrouted(), 404, 0.0001, -1);
  b.Record(slots.Unrouted(), 404, 0.0001, -1);
  const auto e = ParseExposition(Render(f, {&a, &b}));
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  auto with = [](std::map<std::string, std::string> labels, std::string code) {
    labels["code"] = std::move(code);
    return labels;
  };
  EXPECT_EQ(Value(e, "mgw_requests_total", with(kGetPet, "200")), 12);
  EXPECT_EQ(Value(e, "mgw_requests_total", with(kGetPet, "503")), 1);
  EXPECT_EQ(Value(e, "mgw_requests_total",
                  {{"api", "Petstore"}, {"resource", "/pets"}, {"method", "POST"}, {"code", "201"}}),
            1);
  EXPECT_EQ(Value(e, "mgw_requests_total",
                  {{"api", "Petstore"}, {"resource", ""}, {"method", ""}, {"code", "405"}}),
            1);
  EXPECT_EQ(Value(e, "mgw_requests_total", {{"api", ""}, {"resource", ""}, {"code", "404"}}), 2);
  // Histograms: 13 requests on GET /pets/{petId}, 12 at 2 ms and one at 300 ms.
  auto le = [](std::map<std::string, std::string> labels, std::string bound) {
    labels["le"] = std::move(bound);
    return labels;
  };
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_count", kGetPet), 13);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le(kGetPet, "0.001")), 0);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le(kGetPet, "0.0025")), 12);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le(kGetPet, "0.25")), 12);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le(kGetPet, "0.5")), 13);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le(kGetPet, "+Inf")), 13);
  EXPECT_NEAR(Value(e, "mgw_request_duration_seconds_sum", kGetPet), 12 * 0.002 + 0.3, 1e-5);
  EXPECT_EQ(Value(e, "mgw_backend_duration_seconds_count", kGetPet), 13);
  EXPECT_NEAR(Value(e, "mgw_backend_duration_seconds_sum", kGetPet), 12 * 0.001 + 0.29, 1e-5);
  // Requests that never reached a backend have no backend observation.
  EXPECT_EQ(Find(e, "mgw_backend_duration_seconds_count", {{"api", ""}}), nullptr);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_count", {{"api", ""}}), 2);
  EXPECT_TRUE(HistogramErrors(e).empty()) << testing::PrintToString(HistogramErrors(e));
}

TEST(RuntimeMetrics, ABucketBoundIsInclusive) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  shard.Record(slots.Resource(0, 0), 200, 0.005, -1);   // exactly le="0.005"
  shard.Record(slots.Resource(0, 0), 200, 0.0050001, -1);
  shard.Record(slots.Resource(0, 0), 200, 100.0, -1);  // past the last bound
  const auto e = ParseExposition(Render(f, {&shard}));
  auto le = [](std::string bound) {
    auto labels = kGetPet;
    labels["le"] = std::move(bound);
    return labels;
  };
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le("0.005")), 1);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le("0.01")), 2);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le("10")), 2);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_bucket", le("+Inf")), 3);
  // The bucket bounds, as documented.
  std::vector<std::string> bounds;
  for (const auto& s : e.samples) {
    if (s.name == "mgw_request_duration_seconds_bucket" && s.labels.at("resource") == "/pets/{petId}") {
      bounds.push_back(s.labels.at("le"));
    }
  }
  EXPECT_EQ(bounds, (std::vector<std::string>{"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                                              "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
                                              "+Inf"}));
}

// A long-running gateway's _sum grows large; it keeps microsecond precision (a rate() over it
// would be off by whole seconds with six significant digits).
TEST(RuntimeMetrics, SumsKeepMicrosecondPrecisionWhenLarge) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  shard.Record(slots.Resource(0, 0), 200, 1234567.891234, 0.000123);
  const auto e = ParseExposition(Render(f, {&shard}));
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  EXPECT_NEAR(Value(e, "mgw_request_duration_seconds_sum", kGetPet), 1234567.891234, 2e-6);
  EXPECT_NEAR(Value(e, "mgw_backend_duration_seconds_sum", kGetPet), 0.000123, 1e-9);
}

TEST(RuntimeMetrics, LabelValuesAreEscaped) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  shard.Record(slots.Resource(1, 0), 200, 0.001, 0.001);
  shard.Throttled(slots.Resource(1, 0), 1);
  const std::string text = Render(f, {&shard});
  EXPECT_NE(text.find(R"(api="Odd \"API\" \\ with\nnewline")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(resource="/a\"b")"), std::string::npos);
  const auto e = ParseExposition(text);
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  const std::map<std::string, std::string> odd = {{"api", "Odd \"API\" \\ with\nnewline"},
                                                  {"resource", "/a\"b"}};
  EXPECT_EQ(Value(e, "mgw_requests_total", odd), 1);
  EXPECT_EQ(Value(e, "mgw_throttled_total", odd), 1);
  EXPECT_TRUE(HistogramErrors(e).empty());
}

TEST(RuntimeMetrics, ThrottledByLevel) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  shard.Throttled(slots.Resource(0, 0), 0);
  shard.Throttled(slots.Resource(0, 0), 2);
  shard.Throttled(slots.Resource(0, 0), 2);
  shard.Throttled(slots.Resource(0, 0), 3);
  shard.Throttled(slots.Resource(0, 0), 4);   // out of range: ignored
  shard.Throttled(-1, 0);                     // ignored
  shard.Throttled(slots.Count(), 0);          // ignored
  const auto e = ParseExposition(Render(f, {&shard}));
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  auto level = [](std::string name) {
    auto labels = kGetPet;
    labels["level"] = std::move(name);
    return labels;
  };
  EXPECT_EQ(Value(e, "mgw_throttled_total", level("api")), 1);
  EXPECT_EQ(Find(e, "mgw_throttled_total", level("resource")), nullptr);
  EXPECT_EQ(Value(e, "mgw_throttled_total", level("subscription")), 2);
  EXPECT_EQ(Value(e, "mgw_throttled_total", level("application")), 1);
}

TEST(RuntimeMetrics, AuthFailuresByReason) {
  EXPECT_EQ(ReasonForCode(900902), AuthFailureReason::kMissingCredentials);
  EXPECT_EQ(ReasonForCode(900901), AuthFailureReason::kInvalidCredentials);
  EXPECT_EQ(ReasonForCode(900911), AuthFailureReason::kInvalidCredentials);
  EXPECT_EQ(ReasonForCode(900912), AuthFailureReason::kInvalidCredentials);
  EXPECT_EQ(ReasonForCode(900917), AuthFailureReason::kInvalidScheme);
  EXPECT_EQ(ReasonForCode(900910), AuthFailureReason::kForbiddenScope);
  EXPECT_EQ(ReasonForCode(900908), AuthFailureReason::kForbiddenSubscription);
  EXPECT_EQ(ReasonForCode(900900), AuthFailureReason::kKeyManagerUnavailable);
  EXPECT_EQ(ReasonForCode(12345), AuthFailureReason::kOther);
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard a(slots.Count());
  MetricsShard b(slots.Count());
  a.AuthFailure(AuthFailureReason::kMissingCredentials);
  b.AuthFailure(AuthFailureReason::kMissingCredentials);
  b.AuthFailure(AuthFailureReason::kForbiddenScope);
  const auto e = ParseExposition(Render(f, {&a, &b}));
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  EXPECT_EQ(Value(e, "mgw_auth_failures_total", {{"reason", "missing_credentials"}}), 2);
  EXPECT_EQ(Value(e, "mgw_auth_failures_total", {{"reason", "forbidden_scope"}}), 1);
  // Every reason is always present (a zero is a fact too).
  for (const char* reason : {"invalid_credentials", "invalid_scheme", "forbidden_subscription",
                             "key_manager_unavailable", "other"}) {
    EXPECT_EQ(Value(e, "mgw_auth_failures_total", {{"reason", reason}}), 0) << reason;
  }
}

TEST(RuntimeMetrics, GaugesAndAnalyticsCounters) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  MetricsGauges gauges;
  gauges.connections_active = 7;
  gauges.analytics_dropped = 3;
  gauges.analytics_files_dropped = 2;
  gauges.analytics_written = 12345678901;
  const auto e = ParseExposition(Render(f, {&shard}, gauges));
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  EXPECT_EQ(Value(e, "mgw_connections_active", {}), 7);
  EXPECT_EQ(Value(e, "mgw_analytics_dropped_total", {}), 3);
  EXPECT_EQ(Value(e, "mgw_analytics_files_dropped_total", {}), 2);
  EXPECT_EQ(Value(e, "mgw_analytics_events_written_total", {}), 12345678901.0);
}

// A slot keeps 16 distinct codes; more go to code="other" (bounded cardinality).
TEST(RuntimeMetrics, CodesPastSixteenPerResourceAreCountedAsOther) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  for (int code = 200; code < 220; ++code) {
    shard.Record(slots.Resource(0, 0), code, 0.001, -1);
  }
  shard.Record(slots.Resource(0, 0), 219, 0.001, -1);
  shard.Record(slots.Resource(0, 0), 200, 0.001, -1);
  const auto e = ParseExposition(Render(f, {&shard}));
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  int series = 0;
  double total = 0;
  for (const auto& s : e.samples) {
    if (s.name == "mgw_requests_total") {
      ++series;
      total += s.value;
    }
  }
  EXPECT_EQ(series, 17);
  EXPECT_EQ(total, 22);
  auto code = [](std::string value) {
    auto labels = kGetPet;
    labels["code"] = std::move(value);
    return labels;
  };
  EXPECT_EQ(Value(e, "mgw_requests_total", code("200")), 2);
  EXPECT_EQ(Value(e, "mgw_requests_total", code("other")), 5);
  EXPECT_EQ(Value(e, "mgw_request_duration_seconds_count", kGetPet), 22);
}

// A request that ended before any status was set (0) must not take over a free code entry.
TEST(RuntimeMetrics, AStatusOfZeroIsNotCountedAsTheNextCode) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  shard.Record(slots.Resource(0, 0), 0, 0.001, -1);
  shard.Record(slots.Resource(0, 0), 200, 0.001, -1);
  const auto e = ParseExposition(Render(f, {&shard}));
  auto code = [](std::string value) {
    auto labels = kGetPet;
    labels["code"] = std::move(value);
    return labels;
  };
  EXPECT_EQ(Value(e, "mgw_requests_total", code("200")), 1);
  double total = 0;
  for (const auto& s : e.samples) {
    total += s.name == "mgw_requests_total" ? s.value : 0;
  }
  EXPECT_EQ(total, 2);
}

TEST(RuntimeMetrics, OutOfRangeSlotsAreIgnored) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  shard.Record(-1, 200, 0.001, -1);
  shard.Record(slots.Count(), 200, 0.001, -1);
  const auto e = ParseExposition(Render(f, {&shard}));
  EXPECT_EQ(Find(e, "mgw_requests_total", {}), nullptr);
}

// A scrape can land while a worker is between the increments of one Record() (it was preempted
// after counting the bucket, before counting _count): the exposition stays consistent.
TEST(RuntimeMetrics, AScrapeInTheMiddleOfARecordIsConsistent) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  shard.Record(slots.Resource(0, 0), 200, 0.002, 0.001);
  // What Record() has done so far for a second request: its bucket, not yet sum and count.
  auto& torn = const_cast<MetricsShard::Histogram&>(shard.At(slots.Resource(0, 0)).duration);
  torn.buckets[3].fetch_add(1);
  const auto e = ParseExposition(Render(f, {&shard}));
  ASSERT_TRUE(e.errors.empty()) << testing::PrintToString(e.errors);
  EXPECT_TRUE(HistogramErrors(e).empty()) << testing::PrintToString(HistogramErrors(e));
}

// The worker records while /metrics renders: every scrape is a valid exposition whose histograms
// are consistent (+Inf bucket == _count), and counters never go backwards between scrapes.
TEST(RuntimeMetrics, ScrapesDuringRecordingAreConsistent) {
  Fixture f;
  const MetricSlots slots(f.config);
  MetricsShard shard(slots.Count());
  std::atomic<bool> done{false};
  std::thread worker([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::uint64_t i = 0;
    while (!done.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < deadline) {
      shard.Record(slots.Resource(0, i % 2 == 0 ? 0 : 1), i % 7 == 0 ? 500 : 200,
                   0.0001 * static_cast<double>(i % 1000), 0.00005 * static_cast<double>(i % 1000));
      ++i;
    }
  });
  std::vector<std::string> errors;
  double last_total = 0;
  // Scrape for 2 s (the race this guards against shows within a few hundred scrapes).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (int scrape = 0; std::chrono::steady_clock::now() < until && errors.empty(); ++scrape) {
    const auto e = ParseExposition(Render(f, {&shard}));
    errors = e.errors;
    for (const auto& error : HistogramErrors(e)) {
      errors.push_back("scrape " + std::to_string(scrape) + ": " + error);
    }
    double total = 0;
    for (const auto& s : e.samples) {
      total += s.name == "mgw_requests_total" ? s.value : 0;
    }
    if (total < last_total) {
      errors.push_back("mgw_requests_total went backwards");
    }
    last_total = total;
  }
  done.store(true);
  worker.join();
  EXPECT_TRUE(errors.empty()) << testing::PrintToString(errors);
  EXPECT_GT(last_total, 0);
}

}  // namespace
}  // namespace mgw::runtime
