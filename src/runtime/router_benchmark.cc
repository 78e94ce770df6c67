// Router and path-normalisation cost (DESIGN section 5: lookup cost must not grow with the
// number of APIs). Run: build/bin/mgw_benchmarks --benchmark_filter=Route
#include <benchmark/benchmark.h>

#include <string>

#include "runtime/path.h"
#include "runtime/router.h"

namespace {

// `apis` APIs with 20 resources each: /api<i>/v1 + /items, /items/{id}, /items/{id}/parts/{p}...
mgw::runtime::RouteTable MakeTable(int apis) {
  mgw::runtime::RouteTable table;
  for (int a = 0; a < apis; ++a) {
    const int api = table.AddApi("/api" + std::to_string(a) + "/v1");
    for (int r = 0; r < 5; ++r) {
      const std::string base = "/items" + std::to_string(r);
      table.AddResource(api, base, mgw::runtime::Method::kGet, r * 4);
      table.AddResource(api, base + "/{id}", mgw::runtime::Method::kGet, r * 4 + 1);
      table.AddResource(api, base + "/{id}/parts/{part}", mgw::runtime::Method::kPut, r * 4 + 2);
      table.AddResource(api, base + "/{name}.{ext}/raw", mgw::runtime::Method::kGet, r * 4 + 3);
    }
  }
  return table;
}

void BM_RouteLookup(benchmark::State& state) {
  const int apis = static_cast<int>(state.range(0));
  const auto table = MakeTable(apis);
  mgw::runtime::NormalisedPath path;
  mgw::runtime::NormalisePath("/api" + std::to_string(apis / 2) + "/v1/items3/42/parts/7", path);
  for (auto _ : state) {
    auto match = table.Find(path, mgw::runtime::Method::kPut);
    benchmark::DoNotOptimize(match);
  }
  state.counters["routes"] = apis * 20;
}
BENCHMARK(BM_RouteLookup)->Arg(10)->Arg(1000);  // 200 and 20,000 routes

void BM_NormaliseAndRoute(benchmark::State& state) {
  const auto table = MakeTable(1000);
  const std::string raw = "/api500/v1/items3/42/parts/7";
  mgw::runtime::NormalisedPath path;
  for (auto _ : state) {
    mgw::runtime::NormalisePath(raw, path);
    auto match = table.Find(path, mgw::runtime::Method::kPut);
    benchmark::DoNotOptimize(match);
  }
}
BENCHMARK(BM_NormaliseAndRoute);

void BM_RouteMiss(benchmark::State& state) {
  const auto table = MakeTable(1000);
  mgw::runtime::NormalisedPath path;
  mgw::runtime::NormalisePath("/nothing/here/at/all", path);
  for (auto _ : state) {
    auto match = table.Find(path, mgw::runtime::Method::kGet);
    benchmark::DoNotOptimize(match);
  }
}
BENCHMARK(BM_RouteMiss);

}  // namespace
