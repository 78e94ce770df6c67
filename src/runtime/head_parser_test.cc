#include "runtime/head_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <random>
#include <string>
#include <tuple>
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


// What a request head parses into, for comparing PutHead with Beast's own put().
struct Parsed {
  boost::system::error_code ec;
  std::vector<std::tuple<int, std::string, std::string>> fields;
  std::string method;
  std::string target;
  unsigned version = 0;
  bool header_done = false;
  std::optional<std::uint64_t> length;
  bool chunked = false;
  bool keep_alive = false;
  bool upgrade = false;
  bool done = false;
};

Parsed Collect(HeadParser<true>& parser, boost::system::error_code ec) {
  Parsed out;
  out.ec = ec;
  if (ec) {
    return out;
  }
  for (const auto& field : parser.get()) {
    out.fields.emplace_back(static_cast<int>(field.name()), std::string(field.name_string()),
                            std::string(field.value()));
  }
  out.method = std::string(parser.get().method_string());
  out.target = std::string(parser.get().target());
  out.version = parser.get().version();
  out.header_done = parser.is_header_done();
  if (const auto length = parser.content_length()) {
    out.length = *length;
  }
  out.chunked = parser.chunked();
  out.keep_alive = parser.keep_alive();
  out.upgrade = parser.upgrade();
  out.done = parser.is_done();
  return out;
}

Parsed ByBeast(const std::string& head) {
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser(&arena);
  parser.body_limit(1000);
  boost::system::error_code ec;
  const std::size_t used = Put(parser, head, ec);
  if (!ec && used != head.size()) {
    ec = http::error::need_more;
  }
  return Collect(parser, ec);
}

Parsed ByPutHead(const std::string& head) {
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser(&arena);
  parser.body_limit(1000);
  boost::system::error_code ec;
  const std::size_t size = parser.PutHead(head + "body", ec);  // bytes after the head stay
  if (!ec) {
    EXPECT_EQ(size, head.size());
  }
  return Collect(parser, ec);
}

// PutHead of every proper prefix of `head` on one parser: need_more with no field kept, or the
// error the whole head gets; then the whole head parses as Beast parses it.
void ExpectPrefixesWait(const std::string& head) {
  const Parsed beast = ByBeast(head);
  std::pmr::monotonic_buffer_resource arena;
  HeadParser<true> parser(&arena);
  parser.body_limit(1000);
  for (std::size_t cut = 0; cut < head.size(); ++cut) {
    boost::system::error_code ec;
    EXPECT_EQ(parser.PutHead(std::string_view(head).substr(0, cut), ec), 0u);
    if (ec != http::error::need_more) {
      EXPECT_EQ(ec, beast.ec) << ::testing::PrintToString(head) << " cut at " << cut;
      return;
    }
    EXPECT_EQ(parser.get().size(), 0u);
    EXPECT_FALSE(parser.got_some());
  }
  boost::system::error_code ec;
  EXPECT_EQ(parser.PutHead(head, ec), beast.ec ? 0 : head.size());
  EXPECT_EQ(ec, beast.ec);
  EXPECT_EQ(Collect(parser, ec).fields, beast.fields);
}

// Returns whether Beast accepted the head.
bool ExpectSameParse(const std::string& head) {
  const Parsed beast = ByBeast(head);
  const Parsed ours = ByPutHead(head);
  EXPECT_EQ(ours.ec, beast.ec) << "head: " << ::testing::PrintToString(head) << " beast: "
                               << beast.ec.message() << ", PutHead: " << ours.ec.message();
  if (beast.ec || ours.ec) {
    return false;
  }
  EXPECT_EQ(ours.fields, beast.fields) << ::testing::PrintToString(head);
  EXPECT_EQ(ours.method, beast.method);
  EXPECT_EQ(ours.target, beast.target);
  EXPECT_EQ(ours.version, beast.version);
  EXPECT_TRUE(ours.header_done);
  EXPECT_EQ(ours.length, beast.length) << ::testing::PrintToString(head);
  EXPECT_EQ(ours.chunked, beast.chunked) << ::testing::PrintToString(head);
  EXPECT_EQ(ours.keep_alive, beast.keep_alive) << ::testing::PrintToString(head);
  EXPECT_EQ(ours.upgrade, beast.upgrade) << ::testing::PrintToString(head);
  EXPECT_EQ(ours.done, beast.done) << ::testing::PrintToString(head);
  return true;
}

TEST(HeadParserPutHead, SplitsHeadsAsBeastDoes) {
  const std::string token(700, 'k');
  for (const std::string& head : std::vector<std::string>{
           "GET / HTTP/1.1\r\n\r\n",
           "GET /a?b=c HTTP/1.0\r\nHost: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n",
           "GET / HTTP/1.1\r\nX-Tab:\tone\ttwo \t\r\nX-Empty:\r\nX-Blank:   \r\n\r\n",
           "GET / HTTP/1.1\r\nX-Obs-Text: caf\xc3\xa9\x80\xff\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
           "POST / HTTP/1.1\r\ncontent-length:   5  \r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n",  // past the body limit
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
           "GET / HTTP/1.1\r\nConnection: close, upgrade\r\nUpgrade: websocket\r\n\r\n",
           "GET / HTTP/1.1\r\nProxy-Connection: close\r\n\r\n",
           // what Beast is given outgrows its first buffer, twice
           "GET /" + std::string(900, 'p') + " HTTP/1.1\r\nConnection: " + std::string(300, 'c') +
               "\r\nContent-Length: 5\r\nConnection: " + [] {
                 std::string tokens;
                 for (int i = 0; i < 400; ++i) tokens += "t" + std::to_string(i) + ", ";
                 return tokens;
               }() + "close\r\n\r\n",
           // obs-fold: joined with single spaces, also into a framing field's value
           "GET / HTTP/1.1\r\nX-Folded: a\r\n Content-Length: 5\r\n\tmore\r\n\r\n",
           "GET / HTTP/1.1\r\nX-Folded:\r\n   \r\n a \r\n\r\n",
           "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n chunked\r\n\r\n",
           "GET / HTTP/1.1\r\nX-Folded: " + std::string(3000, 'a') + "\r\n " +
               std::string(3000, 'b') + "\r\n\r\n",  // joined past 4 KiB: header_limit
           // refused
           "GET / HTTP/1.1\r\n Host: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
           "GET / HTTP/1.1\r\n: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHo(st: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost x\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\nb\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
           "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
           "GET / HTTP/1.1\r\nX: " + std::string(40, 'a') + '\0' + "\r\n\r\n",
           "GET / HTTP/1.1\r\nX: " + std::string(40, 'a') + "\x1f" + "\r\n\r\n",
           "GET / HTTP/1.1\r\n\r\r\n\r\n",
           "GET / HTTP/1.1\nHost: x\r\n\r\n",
           "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
           "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
           "\r\n\r\n",
           // a short bad request line before a bad field: Beast's error is the request line's
           "GET\r\nBad Name: x\r\n\r\n",
           "G\r\nX: a\x01\r\n\r\n",
           "\r\nHost: x\r\n\r\n",
       }) {
    ExpectSameParse(head);
    ExpectPrefixesWait(head);
  }
}

// Random heads built from the pieces that matter to the field syntax and to framing: wherever
// Beast's put() and PutHead disagree on an error, a field, or the body framing, this fails.
TEST(HeadParserPutHead, AgreesWithBeastOnRandomHeads) {
  const std::vector<std::string> names = {"Host", "Content-Length", "Transfer-Encoding", "Connection",
                                          "Proxy-Connection", "Upgrade", "X-A", "authorization",
                                          "Bad Name", "", "x\x7f", "N(", "content-LENGTH"};
  const std::vector<std::string> separators = {":", ": ", ":\t", " :", ":  \t ", ""};
  const std::vector<std::string> pieces = {"a", "chunked", "gzip", "close", "keep-alive", "upgrade",
                                           "5", "0", "12", ",", ", ", " ", "\t", "\r", "\n",
                                           "\x01", "\x7f", "\x80", "\xff", "\"", ";q=1",
                                           std::string(17, 'z'), std::string(40, 't'), "\r\n "};
  const std::vector<std::string> starts = {"GET / HTTP/1.1\r\n", "POST /p?q HTTP/1.0\r\n",
                                           "PUT / HTTP/1.1\r\n", "GET / HTTP/1.1\n", "GET  / HTTP/1.1\r\n"};
  std::mt19937 random(20261201);
  const auto pick = [&random](const auto& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random)];
  };
  int compared = 0;
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string head = pick(starts);
    const int fields = std::uniform_int_distribution<int>(0, 5)(random);
    for (int f = 0; f < fields; ++f) {
      head += pick(names) + pick(separators);
      const int parts = std::uniform_int_distribution<int>(0, 4)(random);
      for (int k = 0; k < parts; ++k) {
        head += pick(pieces);
      }
      head += std::uniform_int_distribution<int>(0, 9)(random) == 0 ? "\r\n\t" : "\r\n";
    }
    head += "\r\n";
    // As the connection reader cuts it: up to the first empty line.
    const auto end = head.find("\r\n\r\n");
    if (end == std::string::npos) {
      continue;
    }
    head.resize(end + 4);
    accepted += ExpectSameParse(head) ? 1 : 0;
    if (i % 10 == 0) {
      ExpectPrefixesWait(head);
    }
    ++compared;
    if (::testing::Test::HasFailure()) {
      break;  // one counterexample is enough
    }
  }
  EXPECT_GT(compared, 15000);
  EXPECT_GT(accepted, 1000) << "too few valid heads to compare fields and framing";
  std::printf("%d heads compared, %d accepted by both\n", compared, accepted);
}

TEST(HeadParserPutHead, FindsTheEndOfAHeadAsStringFindDoes) {
  std::mt19937 random(7);
  const std::string alphabet = "\r\n\r\nab";
  for (int i = 0; i < 20000; ++i) {
    // Short texts of the whole alphabet; longer ones mostly 'a', so that 64-byte spans without
    // an LF occur, followed by a hit at any offset.
    const bool sparse = i % 2 == 1;
    std::string text(std::uniform_int_distribution<std::size_t>(0, sparse ? 300 : 70)(random), 'a');
    for (auto& c : text) {
      if (!sparse || std::uniform_int_distribution<int>(0, 60)(random) == 0) {
        c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(random)];
      }
    }
    if (sparse && text.size() >= 4) {
      text.replace(std::uniform_int_distribution<std::size_t>(0, text.size() - 4)(random), 4, "\r\n\r\n");
    }
    const std::size_t from = std::uniform_int_distribution<std::size_t>(0, text.size())(random);
    const auto expected = text.find("\r\n\r\n", from);
    const char* found = FindHeadEnd(text.data() + from, text.data() + text.size());
    ASSERT_EQ(found - text.data(),
              static_cast<std::ptrdiff_t>(expected == std::string::npos ? text.size() : expected))
        << ::testing::PrintToString(text) << " from " << from;
  }
}

TEST(HeadParserPutHead, FindsControlCharactersAtEveryOffset) {
  // The 64-byte rough scan, the 16-byte exact one and the scalar tail: every position of every
  // kind of byte, alone and after bytes the rough scan stops at but that are no hit.
  for (std::size_t length = 0; length < 160; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (const char c : {'\0', '\x01', '\n', '\r', '\x1f', '\x7f'}) {
        std::string text(length, 'v');
        text[at] = c;
        EXPECT_EQ(FindFieldControl(text.data(), text.data() + text.size()) - text.data(),
                  static_cast<std::ptrdiff_t>(at));
        if (at > 0) {
          text[at / 2] = at % 2 == 0 ? '\t' : '\x80';
          EXPECT_EQ(FindFieldControl(text.data(), text.data() + text.size()) - text.data(),
                    static_cast<std::ptrdiff_t>(at));
        }
      }
      std::string text(length, 'v');
      text[at] = '\t';
      for (const char c : {' ', '\x80', '\xff', '~'}) {
        text[(at + 1) % length] = c;
        EXPECT_EQ(FindFieldControl(text.data(), text.data() + text.size()), text.data() + text.size());
      }
    }
  }
}

}  // namespace
}  // namespace mgw::runtime
