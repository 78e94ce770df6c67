// HeadParser: Beast's HTTP/1 parser with a flat, arena-backed header instead of basic_fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "runtime/field_scan.h"

namespace mgw::runtime {

// One header field as received: Beast's enum for known names, the name as spelled, the value.
class HeadField {
 public:
  HeadField(boost::beast::http::field id, std::string_view name, std::string_view value)
      : id_(id), name_(name), value_(value) {}
  boost::beast::http::field name() const { return id_; }
  std::string_view name_string() const { return name_; }
  std::string_view value() const { return value_; }

 private:
  boost::beast::http::field id_;
  std::string_view name_;
  std::string_view value_;
};

// Where the parser puts body bytes: `size` bytes free at `data` (Beast's buffer_body contract).
// The parser advances both as it copies; a full or null buffer stops it with need_buffer.
struct BodyTarget {
  void* data = nullptr;
  std::size_t size = 0;
};

// The start line and the fields of one message, in arrival order, with their bytes in the
// parser's arena: the connection's read buffer they were parsed from is reused for the body.
// Accessors are named as in Beast's message, for the few the gateway uses.
template <bool isRequest>
class Head {
 public:
  using const_iterator = typename std::pmr::vector<HeadField>::const_iterator;

  explicit Head(std::pmr::memory_resource* arena) : fields_(arena) {}

  boost::beast::http::verb method() const { return verb_; }
  std::string_view method_string() const { return method_; }
  std::string_view target() const { return target_; }
  unsigned version() const { return version_; }
  unsigned result_int() const { return status_; }
  std::string_view reason() const { return reason_; }
  BodyTarget& body() { return body_; }

  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }

  // The first value of the field called `name` (in any case), or an empty view.
  std::string_view operator[](std::string_view name) const {
    for (const auto& field : fields_) {
      if (boost::beast::iequals(field.name_string(), name)) {
        return field.value();
      }
    }
    return {};
  }
  // Calls `visit(value)` for each field called `name` (in any case), in arrival order.
  template <class Visit>
  void ForEachValue(std::string_view name, Visit&& visit) const {
    for (const auto& field : fields_) {
      if (boost::beast::iequals(field.name_string(), name)) {
        visit(field.value());
      }
    }
  }
  // Removes every field called `name` (in any case).
  void Erase(std::string_view name) {
    std::erase_if(fields_, [name](const HeadField& field) {
      return boost::beast::iequals(field.name_string(), name);
    });
  }

 private:
  template <bool>
  friend class HeadParser;

  std::pmr::vector<HeadField> fields_;
  boost::beast::http::verb verb_ = boost::beast::http::verb::unknown;
  std::string_view method_;
  std::string_view target_;
  std::string_view reason_;
  unsigned version_ = 11;
  unsigned status_ = 0;
  BodyTarget body_;
};

// Beast's basic_parser (all framing rules, limits and chunk decoding stay Beast's) feeding a Head:
// each field costs two copies into the arena and one vector slot, where Beast's own parser also
// inserted it into a case-insensitive tree. Body bytes go to get().body(), as with buffer_body.
template <bool isRequest>
class HeadParser final : public boost::beast::http::basic_parser<isRequest> {
 public:
  explicit HeadParser(std::pmr::memory_resource* arena) : arena_(arena), head_(arena) {
    head_.fields_.reserve(16);
  }

  Head<isRequest>& get() { return head_; }
  const Head<isRequest>& get() const { return head_; }

  // Parses the head at the start of `data` and returns its size (start line through the empty
  // line), with the same result and error codes as put() of the same bytes, but without Beast's
  // byte-by-byte scan of each field value (a 700-byte bearer token costs ~3,600 instructions
  // there). need_more, with nothing kept, if `data` does not hold the whole head. The start line
  // and the framing fields (Connection, Proxy-Connection, Content-Length, Transfer-Encoding,
  // Upgrade; obs-fold already joined) still go through Beast, in one put(), so every framing rule
  // and limit stays Beast's and the parser ends, as after put(), ready for the body; the other
  // fields are split by NextField and stored directly. Bodies are then read with put().
  std::size_t PutHead(std::string_view data, boost::system::error_code& ec) {
    namespace http = boost::beast::http;
    const std::size_t line_end = data.find("\r\n");
    if (line_end == std::string_view::npos) {
      ec = http::error::need_more;
      return 0;
    }
    // What Beast sees: the start line, the framing fields, the empty line. On the stack when it
    // fits (a GET has no framing field but perhaps Connection), else on the heap.
    boost::container::small_vector<char, 1024> text;
    const auto append = [&text](std::string_view part) { text.insert(text.end(), part.begin(), part.end()); };
    append(data.substr(0, line_end + 2));
    std::pmr::string fold(arena_);
    const char* p = data.data() + line_end + 2;
    const char* const end = data.data() + data.size();
    std::string_view name;
    std::string_view value;
    while (NextField(p, end, name, value, fold, ec)) {
      const auto id = boost::beast::http::string_to_field(name);
      if (id == http::field::connection || id == http::field::proxy_connection ||
          id == http::field::content_length || id == http::field::transfer_encoding ||
          id == http::field::upgrade) {
        append(name);
        append(": ");
        append(value);
        append("\r\n");
      }
      Add(id, name, value);
    }
    if (ec == http::error::need_more) {
      head_.fields_.clear();
      return 0;
    }
    framing_only_ = true;
    if (ec) {
      // Beast stops at the first error: the start line or a framing field before the bad line
      // may have failed first. Beast gets those and the rest from the bad line on, and its
      // verdict stands unless it waits for more (ours is then already certain).
      append(std::string_view(p, static_cast<std::size_t>(end - p)));
      boost::system::error_code first;
      this->put(boost::asio::const_buffer(text.data(), text.size()), first);
      if (first != http::error::need_more) {
        ec = first;
      }
    } else {
      append("\r\n");
      this->put(boost::asio::const_buffer(text.data(), text.size()), ec);
      if (!ec && !this->is_header_done()) {
        ec = http::error::need_more;
      }
    }
    framing_only_ = false;
    return ec ? 0 : static_cast<std::size_t>(p - data.data());
  }

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::system::error_code;

  std::string_view Keep(string_view text) {
    if (text.empty()) {
      return std::string_view("", 0);
    }
    auto* copy = static_cast<char*>(arena_->allocate(text.size(), 1));
    std::memcpy(copy, text.data(), text.size());
    return {copy, text.size()};
  }

  void on_request_impl(boost::beast::http::verb method, string_view method_string,
                       string_view target, int version, error_code& ec) override {
    head_.verb_ = method;
    head_.method_ = Keep(method_string);
    head_.target_ = Keep(target);
    head_.version_ = static_cast<unsigned>(version);
    ec = {};
  }

  void on_response_impl(int code, string_view reason, int version, error_code& ec) override {
    head_.status_ = static_cast<unsigned>(code);
    head_.reason_ = Keep(reason);
    head_.version_ = static_cast<unsigned>(version);
    ec = {};
  }

  void on_field_impl(boost::beast::http::field id, string_view name, string_view value,
                     error_code& ec) override {
    ec = {};
    if (!framing_only_) {  // PutHead has added every field itself
      Add(id, name, value);
    }
  }

  void Add(boost::beast::http::field id, std::string_view name, std::string_view value) {
    // Name and value in one piece of the arena: one allocation per field.
    auto* copy = static_cast<char*>(arena_->allocate(name.size() + value.size() + 1, 1));
    std::memcpy(copy, name.data(), name.size());
    if (!value.empty()) {
      std::memcpy(copy + name.size(), value.data(), value.size());
    }
    head_.fields_.emplace_back(id, std::string_view(copy, name.size()),
                               std::string_view(copy + name.size(), value.size()));
  }

  void on_header_impl(error_code& ec) override { ec = {}; }

  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code& ec) override { ec = {}; }

  std::size_t on_body_impl(string_view body, error_code& ec) override { return Copy(body, ec); }

  void on_chunk_header_impl(std::uint64_t, string_view, error_code& ec) override { ec = {}; }

  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    return Copy(body, ec);
  }

  void on_finish_impl(error_code& ec) override { ec = {}; }

  std::size_t Copy(string_view bytes, error_code& ec) {
    BodyTarget& target = head_.body_;
    if (target.data == nullptr) {
      ec = boost::beast::http::error::need_buffer;
      return 0;
    }
    const std::size_t n = bytes.size() < target.size ? bytes.size() : target.size;
    if (n > 0) {
      std::memcpy(target.data, bytes.data(), n);
    }
    target.data = static_cast<char*>(target.data) + n;
    target.size -= n;
    ec = n == bytes.size() ? error_code() : error_code(boost::beast::http::error::need_buffer);
    return n;
  }

  std::pmr::memory_resource* arena_;
  Head<isRequest> head_;
  bool framing_only_ = false;
};

}  // namespace mgw::runtime
