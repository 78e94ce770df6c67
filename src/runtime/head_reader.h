// RequestHeadReader: finds a request head in a connection's read buffer and parses it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "runtime/field_scan.h"
#include "runtime/head_parser.h"

namespace mgw::runtime {

// One request head, read as bytes arrive: the caller reads into `buffer` until Parse returns
// true. Empty lines before the request line are dropped (RFC 9112 2.2). The head, request line
// to the empty line, may be at most `limit` bytes (else header_limit). A head usually arrives in
// one read and is parsed straight away; only when it did not is its end looked for first, in the
// new bytes of each read, so that a head arriving in many pieces is parsed once, not per piece.
class RequestHeadReader {
 public:
  explicit RequestHeadReader(std::size_t limit) : limit_(limit) {}

  // True when done: `ec` clear with the head parsed into `parser` and dropped from `buffer`
  // (body bytes and pipelined requests stay), or `ec` set to why the request is refused. False
  // when more bytes are needed.
  bool Parse(boost::beast::flat_buffer& buffer, HeadParser<true>& parser, boost::system::error_code& ec) {
    std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
    if (searched_ == 0) {
      std::size_t empty = 0;
      while (data.substr(empty, 2) == "\r\n") {
        empty += 2;
      }
      buffer.consume(empty);
      data.remove_prefix(empty);
    }
    const std::string_view within = data.substr(0, limit_);
    std::string_view head;
    if (whole_or_more_) {
      head = within;
      whole_or_more_ = within.empty();
    } else if (const char* found = FindHeadEnd(within.data() + searched_, within.data() + within.size());
               found != within.data() + within.size()) {
      head = within.substr(0, static_cast<std::size_t>(found - within.data()) + 4);
    }
    if (!head.empty()) {
      const std::size_t size = parser.PutHead(head, ec);
      if (ec != boost::beast::http::error::need_more) {
        if (!ec) {
          buffer.consume(size);
        }
        return true;
      }
    }
    if (data.size() >= limit_) {
      ec = boost::beast::http::error::header_limit;
      return true;
    }
    ec = {};
    searched_ = data.size() < 3 ? 0 : data.size() - 3;  // where "\r\n\r\n" can start in new bytes
    return false;
  }

  // The error to report for a read that failed before the head was whole, as Beast's
  // async_read_header reports it: end_of_stream if the peer closed before sending a byte (or
  // only empty lines), partial_message if it closed mid-head; any other error as it is.
  static boost::system::error_code ReadFailed(boost::system::error_code ec,
                                              const boost::beast::flat_buffer& buffer) {
    if (ec == boost::asio::error::eof) {
      return buffer.size() == 0 ? boost::beast::http::error::end_of_stream
                                : boost::beast::http::error::partial_message;
    }
    return ec;
  }

 private:
  std::size_t limit_;
  bool whole_or_more_ = true;
  std::size_t searched_ = 0;
};

}  // namespace mgw::runtime
