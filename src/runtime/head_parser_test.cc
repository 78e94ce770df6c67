#include "runtime/head_parser.h"

#include <algorithm>
#include <memory_resource>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>

namespace mgw::runtime {
namespace {

namespace http = boost::beast::http;

// Feeds `text` to the parser in one piece; returns how many bytes it consumed.
template <bool isRequest>
std::size_t Put(HeadParser<isRequest>& parser, const std::string& text, boost::system::error_code& ec) {
  return parser.put(boost::asio::buffer(text), ec);
}

TEST(HeadParser, KeepsTheStartLineAndFieldsAfterTheInputIsGone) {
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser(&arena);
  parser.eager(false);
  std::string input =
      "POST /a/b?c=1 HTTP/1.1\r\nHost: example.com\r\nX-Custom: one\r\nx-custom: two\r\n"
      "Content-Length: 3\r\n\r\n";
  boost::system::error_code ec;
  EXPECT_EQ(Put(parser, input, ec), input.size());
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_header_done());
  input.assign(input.size(), '#');  // the read buffer is reused for the body

  const auto& head = parser.get();
  EXPECT_EQ(head.method(), http::verb::post);
  EXPECT_EQ(head.method_string(), "POST");
  EXPECT_EQ(head.target(), "/a/b?c=1");
  EXPECT_EQ(head.version(), 11u);
  std::vector<std::string> seen;
  for (const auto& field : head) {
    seen.push_back(std::string(field.name_string()) + "=" + std::string(field.value()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Host=example.com", "X-Custom=one", "x-custom=two",
                                            "Content-Length=3"}));
  EXPECT_EQ(head.begin()->name(), http::field::host);
  EXPECT_EQ((head.begin() + 1)->name(), http::field::unknown);
  EXPECT_EQ(parser.content_length().value_or(0), 3u);
}

// A header that arrives in pieces is parsed across several calls, each on a buffer that the
// reader then consumes and refills (as async_read_header does): every field must already be
// copied when its piece of input is gone.
TEST(HeadParser, AHeaderArrivingByteByByteSurvivesItsBuffers) {
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser(&arena);
  const std::string wire = "GET /slow HTTP/1.1\r\nHost: h\r\nX-One: first\r\nX-Two: second\r\n\r\n";
  std::string pending;
  for (std::size_t i = 0; i < wire.size() && !parser.is_header_done(); ++i) {
    pending += wire[i];
    boost::system::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
    ASSERT_TRUE(!ec || ec == http::error::need_more) << ec.message();
    std::string rest = pending.substr(used);
    std::fill(pending.begin(), pending.end(), '#');  // the consumed bytes are overwritten
    pending = std::move(rest);
  }
  ASSERT_TRUE(parser.is_header_done());
  EXPECT_EQ(parser.get().target(), "/slow");
  EXPECT_EQ(parser.get()["host"], "h");
  EXPECT_EQ(parser.get()["x-one"], "first");
  EXPECT_EQ(parser.get()["X-TWO"], "second");
  EXPECT_EQ(parser.get().size(), 3u);
}

TEST(HeadParser, FindsVisitsAndErasesFieldsByNameInAnyCase) {
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser(&arena);
  boost::system::error_code ec;
  Put(parser, std::string("GET / HTTP/1.1\r\nHost: h\r\nX-Key: a\r\nx-key: b\r\nAccept: */*\r\n\r\n"), ec);
  ASSERT_FALSE(ec) << ec.message();
  auto& head = parser.get();
  std::vector<std::string> keys;
  head.ForEachValue("X-KEY", [&keys](std::string_view value) { keys.emplace_back(value); });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(head["missing"], "");
  head.Erase("x-Key");
  EXPECT_EQ(head.size(), 2u);
  EXPECT_EQ(head["X-Key"], "");
  EXPECT_EQ(head["accept"], "*/*");
}

TEST(HeadParser, DecodesAChunkedBodyIntoTheCallersBufferPieceByPiece) {
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser(&arena);
  const std::string input =
      "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  std::string body;
  char piece[4];
  std::size_t offset = 0;
  for (int step = 0; step < 100 && !parser.is_done(); ++step) {
    parser.get().body().data = piece;
    parser.get().body().size = sizeof piece;
    boost::system::error_code ec;
    offset += parser.put(boost::asio::buffer(input.data() + offset, input.size() - offset), ec);
    ASSERT_TRUE(!ec || ec == http::error::need_buffer) << ec.message();
    body.append(piece, sizeof piece - parser.get().body().size);
  }
  EXPECT_TRUE(parser.is_done());
  EXPECT_TRUE(parser.chunked());
  EXPECT_EQ(body, "hello world");
}

TEST(HeadParser, WithoutABodyBufferStopsWithNeedBuffer) {
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<false> parser(&arena);
  const std::string input = "HTTP/1.1 404 Not Here\r\nContent-Length: 4\r\n\r\nnope";
  boost::system::error_code ec;
  const std::size_t used = Put(parser, input, ec);
  EXPECT_FALSE(ec) << ec.message();  // the header alone
  EXPECT_EQ(parser.get().result_int(), 404u);
  EXPECT_EQ(parser.get().reason(), "Not Here");
  Put(parser, input.substr(used), ec);
  EXPECT_EQ(ec, http::error::need_buffer);
  EXPECT_FALSE(parser.is_done());
}

TEST(HeadParser, KeepsBeastsLimitsAndFramingRules) {
  std::pmr::monotonic_buffer_resource arena;
  {
    HeadParser<true> parser(&arena);
    parser.header_limit(32);
    boost::system::error_code ec;
    Put(parser, "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n", ec);
    EXPECT_EQ(ec, http::error::header_limit);
  }
  {
    HeadParser<true> parser(&arena);
    parser.body_limit(10);
    boost::system::error_code ec;
    Put(parser, std::string("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"), ec);
    EXPECT_EQ(ec, http::error::body_limit);
  }
  {
    HeadParser<true> parser(&arena);
    boost::system::error_code ec;
    Put(parser, std::string("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), ec);
    EXPECT_EQ(ec, http::error::multiple_content_length);
  }
}

}  // namespace
}  // namespace mgw::runtime
