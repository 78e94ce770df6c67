// Micro-benchmarks of the local rate-limit decision (target: under 100 ns single-threaded; no
// collapse when both cores hammer one key). The clock is a constant: no window ever rolls.
//
//   build/bin/mgw_ratelimit_benchmark --benchmark_repetitions=9 --benchmark_report_aggregates_only=true
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ratelimit/limiter.h"
#include "ratelimit/rate_limiter.h"

namespace mgw::ratelimit {
namespace {

constexpr std::int64_t kNowMs = 1'700'000'000'000;
const Limit kNeverReached{std::numeric_limits<std::int64_t>::max(), 60, true, 0};

// Keys as the gateway builds them (contract section 6).
const std::string kApiKey = "/petstore/v1:1.0.5";
const std::string kResourceKey = "/petstore/v1:1.0.5:GET /pet/{petId}";
const std::string kSubscriptionKey = "8a7f2c1e-4b0d-4e5a-9c3f-0d1e2f3a4b5c:/petstore/v1:1.0.5";
const std::string kApplicationKey = "8a7f2c1e-4b0d-4e5a-9c3f-0d1e2f3a4b5c:admin@carbon.super";

void BM_TryAcquireOneKey(benchmark::State& state) {
  CounterTable table;
  LevelState level;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.TryAcquire(kResourceKey, kNeverReached, kNowMs, level));
  }
}
BENCHMARK(BM_TryAcquireOneKey);

// A table with many live keys (the lookup is no longer in a tiny, cache-hot map).
void BM_TryAcquireAmong100kKeys(benchmark::State& state) {
  CounterTable table;
  LevelState level;
  std::vector<std::string> keys;
  for (int i = 0; i < 100'000; ++i) {
    keys.push_back("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
                   ":/petstore/v1:1.0.5");
    table.TryAcquire(keys.back(), kNeverReached, kNowMs, level);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.TryAcquire(keys[i], kNeverReached, kNowMs, level));
    i = (i + 7919) % keys.size();
  }
}
BENCHMARK(BM_TryAcquireAmong100kKeys);

void BM_DecideLocalFourLevels(benchmark::State& state) {
  CounterTable table;
  const std::vector<Check> checks = {
      {Level::kApi, "t", &kNeverReached, kApiKey},
      {Level::kResource, "t", &kNeverReached, kResourceKey},
      {Level::kSubscription, "t", &kNeverReached, kSubscriptionKey},
      {Level::kApplication, "t", &kNeverReached, kApplicationKey}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecideLocal(table, checks, kNowMs));
  }
}
BENCHMARK(BM_DecideLocalFourLevels);

// Four levels where the last one rejects: three acquisitions given back on every request.
void BM_DecideLocalFourLevelsLastRejects(benchmark::State& state) {
  CounterTable table;
  const Limit none{0, 60, true, 0};
  const std::vector<Check> checks = {
      {Level::kApi, "t", &kNeverReached, kApiKey},
      {Level::kResource, "t", &kNeverReached, kResourceKey},
      {Level::kSubscription, "t", &kNeverReached, kSubscriptionKey},
      {Level::kApplication, "t", &none, kApplicationKey}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecideLocal(table, checks, kNowMs));
  }
}
BENCHMARK(BM_DecideLocalFourLevelsLastRejects);

// A flood of distinct keys into a full table (max_keys = 262,144): every request is a new key
// and must make room. The cost of making room is what a key flood costs the gateway.
void BM_NewKeyIntoAFullTable(benchmark::State& state) {
  constexpr std::size_t kMaxKeys = 262'144;
  CounterTable table(kMaxKeys);
  LevelState level;
  const Limit limit{100, 60, true, 0};
  std::uint64_t i = 0;
  while (table.Size() < kMaxKeys * 9 / 10 && i < 4 * kMaxKeys) {
    table.TryAcquire("fill-" + std::to_string(i++), limit, kNowMs, level);
  }
  std::string key;
  for (auto _ : state) {
    key = "10.2." + std::to_string(i++) + ":/petstore/v1:1.0.5";
    benchmark::DoNotOptimize(table.TryAcquire(key, limit, kNowMs, level));
  }
  state.counters["size"] = static_cast<double>(table.Size());
}
BENCHMARK(BM_NewKeyIntoAFullTable);

// Sweep of a table of 262,144 live counters of which none has ended (the periodic sweep's cost
// when there is nothing to reclaim).
void BM_SweepNothingToReclaim(benchmark::State& state) {
  CounterTable table(1'000'000);
  LevelState level;
  const Limit limit{100, 60, true, 0};
  for (int i = 0; i < 262'144; ++i) {
    table.TryAcquire("k-" + std::to_string(i), limit, kNowMs, level);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Sweep(kNowMs));
  }
}
BENCHMARK(BM_SweepNothingToReclaim)->Unit(benchmark::kMillisecond);

// Both threads on one key: the counter's cache line (and its shard) bounce between the cores.
CounterTable* shared_table = nullptr;

void BM_TryAcquireContendedOneKey(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared_table = new CounterTable();
  }
  LevelState level;
  for (auto _ : state) {
    benchmark::DoNotOptimize(shared_table->TryAcquire(kResourceKey, kNeverReached, kNowMs, level));
  }
  if (state.thread_index() == 0) {
    delete shared_table;
    shared_table = nullptr;
  }
}
BENCHMARK(BM_TryAcquireContendedOneKey)->Threads(1)->Threads(2)->UseRealTime();

// Each thread on its own key in one shared table: only the table itself is shared.
void BM_TryAcquireContendedDistinctKeys(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared_table = new CounterTable();
  }
  const std::string key = kResourceKey + "#" + std::to_string(state.thread_index());
  LevelState level;
  for (auto _ : state) {
    benchmark::DoNotOptimize(shared_table->TryAcquire(key, kNeverReached, kNowMs, level));
  }
  if (state.thread_index() == 0) {
    delete shared_table;
    shared_table = nullptr;
  }
}
BENCHMARK(BM_TryAcquireContendedDistinctKeys)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace mgw::ratelimit

BENCHMARK_MAIN();
