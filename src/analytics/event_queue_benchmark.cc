// Analytics enqueue cost on the request path: building an event and pushing it, which writes its
// JSON line into the queue (the writer thread drains concurrently, as in the gateway).
#include <chrono>
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>
#include <vector>

#include "analytics/event_queue.h"

namespace {

// A typical event of a proxied request (what FinishExchange builds).
mgw::analytics::Event SampleEvent() {
  mgw::analytics::Event event;
  event.event_type = "response";
  event.request_time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796045864123));  // 2026-11-30T13:37:44.123Z
  event.correlation_id = "8c8dda7d-1b63-41f0-9f5b-57c93e9784f2";
  event.api_name = "Swagger Petstore";
  event.api_version = "1.0.0";
  event.api_context = "/petstore/v1";
  event.api_resource_template = "/pets/{petId}";
  event.http_method = "GET";
  event.proxy_response_code = 200;
  return event;
}

void BM_AnalyticsEnqueue(benchmark::State& state) {
  mgw::analytics::EventQueue queue(256 * 1024, 128);  // the gateway's per-worker queue
  std::atomic<bool> stop{false};
  std::thread drainer([&] {
    std::size_t seen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      queue.Drain(1 << 20, [&](std::string_view lines, std::uint64_t) { seen += lines.size(); });
    }
    benchmark::DoNotOptimize(seen);
  });
  for (auto _ : state) {
    benchmark::DoNotOptimize(queue.Push(SampleEvent()));
  }
  stop.store(true);
  drainer.join();
  state.counters["dropped"] = static_cast<double>(queue.Dropped());
}
BENCHMARK(BM_AnalyticsEnqueue);

void BM_EventToJsonLine(benchmark::State& state) {
  mgw::analytics::Event event = SampleEvent();
  event.response_latency_ms = 0.123;
  for (auto _ : state) {
    benchmark::DoNotOptimize(mgw::analytics::ToJsonLine(event));
  }
}
BENCHMARK(BM_EventToJsonLine);

}  // namespace
