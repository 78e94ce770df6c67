#include "runtime/head_reader.h"

#include <cstring>
#include <memory_resource>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>

namespace mgw::runtime {
namespace {

namespace http = boost::beast::http;

// Appends `bytes` to `buffer` as a read would.
void Arrive(boost::beast::flat_buffer& buffer, std::string_view bytes) {
  const auto space = buffer.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
}

std::string Rest(const boost::beast::flat_buffer& buffer) {
  return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

// One connection's reading state: what ServeConnection keeps for one request.
struct Reading {
  explicit Reading(std::size_t limit) : reader(limit) {}
  bool Parse() { return reader.Parse(buffer, parser, ec); }

  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser{&arena};
  RequestHeadReader reader;
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
};

TEST(RequestHeadReader, WaitsForTheWholeHeadHoweverItIsCut) {
  const std::string head = "POST /p HTTP/1.1\r\nHost: x\r\nX-Token: " + std::string(100, 't') +
                           "\r\nContent-Length: 4\r\n\r\n";
  for (const std::size_t piece : {1u, 2u, 3u, 7u, 16u, 61u}) {
    Reading r(8192);
    const std::string bytes = head + "body";
    std::size_t sent = 0;
    bool done = false;
    while (!done && sent < bytes.size()) {
      Arrive(r.buffer, std::string_view(bytes).substr(sent, piece));
      sent += std::min(piece, bytes.size() - sent);
      done = r.Parse();
      EXPECT_EQ(done, sent >= head.size()) << "piece " << piece << " sent " << sent;
    }
    ASSERT_TRUE(done);
    EXPECT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.parser.get().target(), "/p");
    EXPECT_EQ(r.parser.get()["x-token"], std::string(100, 't'));
    EXPECT_EQ(r.parser.get().size(), 3u);
    EXPECT_EQ(r.parser.content_length().value_or(0), 4u);
    EXPECT_EQ(Rest(r.buffer), bytes.substr(head.size(), sent - head.size()));  // for the body reader
  }
}

TEST(RequestHeadReader, DropsEmptyLinesBeforeTheRequestLine) {
  Reading r(8192);
  Arrive(r.buffer, "\r\n\r");
  EXPECT_FALSE(r.Parse());
  Arrive(r.buffer, "\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next");
  ASSERT_TRUE(r.Parse());
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.parser.get()["host"], "x");
  EXPECT_EQ(Rest(r.buffer), "GET /next");
}

TEST(RequestHeadReader, RefusesAHeadPastTheLimitAndABadOneAtOnce) {
  {
    Reading r(64);
    // 64 bytes exactly is within the limit...
    const std::string fits = "GET / HTTP/1.1\r\nX: " + std::string(64 - 23, 'a') + "\r\n\r\n";
    ASSERT_EQ(fits.size(), 64u);
    Arrive(r.buffer, fits);
    ASSERT_TRUE(r.Parse());
    EXPECT_FALSE(r.ec) << r.ec.message();
  }
  {
    // ...65 is not, whether it arrives whole or in pieces.
    const std::string over = "GET / HTTP/1.1\r\nX: " + std::string(65 - 23, 'a') + "\r\n\r\n";
    for (const std::size_t piece : {over.size(), std::size_t{10}}) {
      Reading r(64);
      bool done = false;
      for (std::size_t sent = 0; !done && sent < over.size(); sent += piece) {
        Arrive(r.buffer, std::string_view(over).substr(sent, piece));
        done = r.Parse();
      }
      ASSERT_TRUE(done);
      EXPECT_EQ(r.ec, http::error::header_limit);
    }
  }
  {
    // A bad byte fails the request as soon as it has arrived, without waiting for the end.
    Reading r(8192);
    Arrive(r.buffer, "GET / HTTP/1.1\r\nX: a\x01");
    ASSERT_TRUE(r.Parse());
    EXPECT_EQ(r.ec, http::error::bad_value);
  }
}

TEST(RequestHeadReader, ReportsAClosedConnectionAsBeastDoes) {
  boost::beast::flat_buffer buffer;
  EXPECT_EQ(RequestHeadReader::ReadFailed(boost::asio::error::eof, buffer), http::error::end_of_stream);
  Arrive(buffer, "GET / HT");
  EXPECT_EQ(RequestHeadReader::ReadFailed(boost::asio::error::eof, buffer), http::error::partial_message);
  EXPECT_EQ(RequestHeadReader::ReadFailed(boost::asio::error::connection_reset, buffer),
            boost::asio::error::connection_reset);
}

}  // namespace
}  // namespace mgw::runtime
