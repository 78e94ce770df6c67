// Parsing one request head: Beast's put() against HeadParser::PutHead, for the head of a plain
// request (five short fields) and of a request carrying a 700-byte bearer token.
#include <memory_resource>
#include <string>

#include <benchmark/benchmark.h>

#include <boost/asio/buffer.hpp>

#include "runtime/head_parser.h"

namespace mgw::runtime {
namespace {

std::string PlainHead() {
  return "GET /api/plain HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk/4.2\r\n"
         "Accept: */*\r\nX-Request-Id: 5c6b2e1a\r\nConnection: keep-alive\r\n\r\n";
}

std::string TokenHead() {
  return "GET /api/secure HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk/4.2\r\n"
         "Accept: */*\r\nAuthorization: Bearer " + std::string(700, 'e') +
         "\r\nConnection: keep-alive\r\n\r\n";
}

// Parses a head with `parse` into a fresh parser per iteration, as a connection does per request.
template <class Parse>
void ParseEach(benchmark::State& state, Parse parse) {
  char block[4096];
  for (auto _ : state) {
    std::pmr::monotonic_buffer_resource arena(block, sizeof block);
    HeadParser<true> parser(&arena);
    boost::system::error_code ec;
    benchmark::DoNotOptimize(parse(parser, ec));
    if (ec) {
      state.SkipWithError("refused");
    }
  }
}

void Beast(benchmark::State& state, const std::string& head) {
  ParseEach(state, [&head](HeadParser<true>& parser, boost::system::error_code& ec) {
    return parser.put(boost::asio::buffer(head), ec);
  });
}

void Scanner(benchmark::State& state, const std::string& head) {
  ParseEach(state, [&head](HeadParser<true>& parser, boost::system::error_code& ec) {
    return parser.PutHead(head, ec);
  });
}

void BM_RequestHeadBeast(benchmark::State& state) { Beast(state, PlainHead()); }
void BM_RequestHeadPutHead(benchmark::State& state) { Scanner(state, PlainHead()); }
void BM_TokenHeadBeast(benchmark::State& state) { Beast(state, TokenHead()); }
void BM_TokenHeadPutHead(benchmark::State& state) { Scanner(state, TokenHead()); }
BENCHMARK(BM_RequestHeadBeast);
BENCHMARK(BM_RequestHeadPutHead);
BENCHMARK(BM_TokenHeadBeast);
BENCHMARK(BM_TokenHeadPutHead);

}  // namespace
}  // namespace mgw::runtime
