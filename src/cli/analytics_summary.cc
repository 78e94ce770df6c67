#include "cli/analytics_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <vector>

#include <boost/json.hpp>

namespace mgw::cli {
namespace {

namespace fs = std::filesystem;

struct Group {
  std::uint64_t count = 0;
  std::uint64_t client_errors = 0;  // 4xx
  std::uint64_t server_errors = 0;  // 5xx
  std::vector<double> latencies;
};

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) {
    return 0;
  }
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  const std::size_t index = std::min(values.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

std::string Text(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

double NumberOf(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<double>() : 0.0;
}

std::string Format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

}  // namespace

base::Result<std::string> SummariseAnalytics(const std::string& dir, bool json, int top) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return base::MakeError(dir + " is not a folder");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) &&
        (entry.path().extension() == ".jsonl" || name == "current.jsonl.open")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // api, version, method, resource
  std::map<Key, Group> groups;
  std::map<std::string, std::uint64_t> event_types;
  std::map<std::string, std::uint64_t> applications;
  Group all;
  std::uint64_t skipped = 0;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) {
        continue;
      }
      boost::json::error_code parse_error;
      const auto value = boost::json::parse(line, parse_error);
      if (parse_error || !value.is_object() || !value.get_object().contains("eventType")) {
        ++skipped;
        continue;
      }
      const auto& o = value.get_object();
      const Key key{Text(o, "apiName"), Text(o, "apiVersion"), Text(o, "httpMethod"),
                    Text(o, "apiResourceTemplate")};
      const int status = static_cast<int>(NumberOf(o, "proxyResponseCode"));
      const double latency = NumberOf(o, "responseLatency");
      for (Group* g : {&groups[key], &all}) {
        ++g->count;
        g->client_errors += status >= 400 && status < 500 ? 1 : 0;
        g->server_errors += status >= 500 ? 1 : 0;
        g->latencies.push_back(latency);
      }
      ++event_types[Text(o, "eventType")];
      const std::string app = Text(o, "applicationName");
      ++applications[app.empty() ? "(none)" : app];
    }
  }
  std::vector<std::pair<std::string, std::uint64_t>> top_apps(applications.begin(), applications.end());
  std::sort(top_apps.begin(), top_apps.end(),
            [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
  if (static_cast<int>(top_apps.size()) > top) {
    top_apps.resize(static_cast<std::size_t>(top));
  }

  auto rate = [](std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  };
  if (json) {
    boost::json::array resources;
    for (auto& [key, g] : groups) {
      resources.push_back({{"api", std::get<0>(key)},
                           {"version", std::get<1>(key)},
                           {"method", std::get<2>(key)},
                           {"resource", std::get<3>(key)},
                           {"requests", g.count},
                           {"client_error_rate", rate(g.client_errors, g.count)},
                           {"server_error_rate", rate(g.server_errors, g.count)},
                           {"latency_ms", {{"p50", Percentile(g.latencies, 50)},
                                           {"p95", Percentile(g.latencies, 95)},
                                           {"p99", Percentile(g.latencies, 99)}}}});
    }
    boost::json::object types;
    for (const auto& [type, count] : event_types) {
      types[type] = count;
    }
    boost::json::array apps;
    for (const auto& [name, count] : top_apps) {
      apps.push_back({{"application", name}, {"requests", count}});
    }
    boost::json::object out{{"files", files.size()},
                            {"events", all.count},
                            {"skipped_lines", skipped},
                            {"event_types", types},
                            {"resources", resources},
                            {"top_applications", apps},
                            {"latency_ms", {{"p50", Percentile(all.latencies, 50)},
                                            {"p95", Percentile(all.latencies, 95)},
                                            {"p99", Percentile(all.latencies, 99)}}}};
    return boost::json::serialize(out) + "\n";
  }
  std::string out;
  out += std::to_string(all.count) + " events in " + std::to_string(files.size()) + " file(s)";
  if (skipped > 0) {
    out += " (" + std::to_string(skipped) + " unreadable line(s) skipped)";
  }
  out += "\nevent types:";
  for (const auto& [type, count] : event_types) {
    out += " " + type + "=" + std::to_string(count);
  }
  out += "\n\n";
  char header[256];
  std::snprintf(header, sizeof header, "%-28s %-8s %-7s %-32s %9s %7s %7s %9s %9s %9s\n", "API",
                "VERSION", "METHOD", "RESOURCE", "REQUESTS", "4XX%", "5XX%", "P50 MS", "P95 MS",
                "P99 MS");
  out += header;
  for (auto& [key, g] : groups) {
    char row[512];
    std::snprintf(row, sizeof row, "%-28s %-8s %-7s %-32s %9llu %7.2f %7.2f %9.3f %9.3f %9.3f\n",
                  std::get<0>(key).empty() ? "(no API)" : std::get<0>(key).c_str(),
                  std::get<1>(key).c_str(), std::get<2>(key).c_str(),
                  std::get<3>(key).empty() ? "-" : std::get<3>(key).c_str(),
                  static_cast<unsigned long long>(g.count),  // NOLINT(google-runtime-int)
                  rate(g.client_errors, g.count), rate(g.server_errors, g.count),
                  Percentile(g.latencies, 50), Percentile(g.latencies, 95), Percentile(g.latencies, 99));
    out += row;
  }
  out += "\nall: p50 " + Format("%.3f", Percentile(all.latencies, 50)) + " ms, p95 " +
         Format("%.3f", Percentile(all.latencies, 95)) + " ms, p99 " +
         Format("%.3f", Percentile(all.latencies, 99)) + " ms\n";
  out += "\ntop applications:\n";
  for (const auto& [name, count] : top_apps) {
    out += "  " + name + "  " + std::to_string(count) + "\n";
  }
  return out;
}

}  // namespace mgw::cli
