#include "runtime/server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>
#include <cstring>
#include <limits>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <memory_resource>
#include <optional>
#include <span>
#include <variant>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "base/ascii.h"
#include "base/log.h"
#include "base/single_writer.h"
#include "ratelimit/rate_limiter.h"
#include "runtime/auth_filter.h"
#include "runtime/block_pool.h"
#include "runtime/head_parser.h"
#include "runtime/head_reader.h"
#include "runtime/http_fetch.h"
#include "runtime/io_deadline.h"
#include "runtime/loop_inbox.h"
#include "runtime/metrics.h"
#include "runtime/redis_store.h"
#include "runtime/wall_clock.h"
#include "analytics/event_queue.h"
#include "analytics/writer.h"

namespace mgw::runtime {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using beast::error_code;

constexpr std::size_t kChunkBytes = 32 * 1024;
constexpr std::size_t kMaxDiscardBytes = 1 << 20;
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kTrustIdleFor = std::chrono::seconds(1);

// Parsed headers live in a per-message arena (runtime/head_parser.h): the fields in arrival
// order, no per-field allocation, no tree.
using RequestParser = HeadParser<true>;
using RequestHeader = Head<true>;
using ResponseParser = HeadParser<false>;
constexpr std::size_t kFieldArenaBytes = 2048;  // first block; grows for larger headers

// A parser with its own field arena (declared first, so it outlives the parser's fields). The
// arena starts in a block of the worker's pool, so a usual header costs no allocation.
template <class Parser>
struct ArenaParser {
  explicit ArenaParser(BlockPool& pool) : block(pool) {}
  BlockLease block;
  std::pmr::monotonic_buffer_resource arena{block.Get(), block.Bytes(), &PlainNewResource::Instance()};
  Parser parser{&arena};
};

// ---------------------------------------------------------------------------------------------
// Shared state and per-worker state.

struct Shared {
  std::shared_ptr<const GatewayConfig> config;
  std::unique_ptr<Authenticator> authenticator;
  // Blocking work, off the event loops: password hashing and name resolution (getaddrinfo).
  std::unique_ptr<net::thread_pool> blocking_pool;
  std::unique_ptr<ratelimit::Policies> policies;
  std::unique_ptr<ratelimit::CounterTable> counters;
  std::vector<net::ip::network_v6> trusted_proxies;  // IPv4 ones as v4-mapped
  std::shared_ptr<RedisHealth> redis_health;  // set when rate_limit.store = "redis"
  RedisTarget redis_target;
  std::unique_ptr<MetricSlots> metric_slots;
  std::unique_ptr<analytics::Writer> analytics;  // null when analytics.enabled = false
  std::vector<const MetricsShard*> shards;
  std::vector<const analytics::EventQueue*> queues;
  std::atomic<bool> draining{false};
  std::atomic<std::int64_t> connections{0};
  std::unique_ptr<ssl::context> server_tls;
};

// Buffers access-log lines per worker and writes them in batches (never per request).
class AccessLog {
 public:
  explicit AccessLog(int fd) : fd_(fd) {}
  bool Enabled() const { return fd_ >= 0; }
  void Append(const std::string& line) {
    buffer_ += line;
    if (buffer_.size() > 16 * 1024) {
      Flush();
    }
  }
  void Flush() {
    const char* data = buffer_.data();
    std::size_t left = buffer_.size();
    while (left > 0 && fd_ >= 0) {
      const ssize_t n = ::write(fd_, data, left);
      if (n <= 0) {
        break;
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

 private:
  int fd_;
  std::string buffer_;
};

// Plain sockets, not Beast's tcp_stream: every operation is timed by an IoDeadline instead of
// Beast's per-operation timer, and single-buffer reads go out as recv(), not recvmsg().
using PlainStream = Socket;
using TlsStream = beast::ssl_stream<Socket>;

struct UpstreamConnection {
  std::variant<PlainStream, TlsStream> stream;
  IoDeadline deadline;  // for everything done on it: connect, handshake, requests
  beast::flat_buffer buffer;
  std::string key;
  Clock::time_point idle_since{};
  bool reused = false;

  template <class... Args>
  explicit UpstreamConnection(Args&&... args) : stream(std::forward<Args>(args)...), deadline(Lowest()) {}

  Socket& Lowest() {
    return std::visit([](auto& s) -> Socket& { return beast::get_lowest_layer(s); },
                      stream);
  }
};

struct Worker : HttpFetcher {
  Worker(Shared& s, int i, int access_fd)
      : shared(s),
        index(i),
        access_log(access_fd),
        rng(std::random_device{}()),
        auth(*s.blocking_pool) {
    LoopInbox::Open(io);
  }

  Awaitable<base::Result<FetchResponse>> Fetch(FetchRequest request) override;

  // Declared before `io`, so destroyed after it: destroying the io_context destroys the frames of
  // coroutines still suspended (idle connections at exit), and their locals give blocks and
  // strings back to these pools and unregister from `sessions`.
  // Client connections of this worker, each with its "waiting for a request" flag (drain closes
  // the waiting ones). Registered once per connection, not per request.
  std::unordered_map<Socket*, const bool*> sessions;
  // Reused body buffers: no allocation, zeroing or page faults per proxied request.
  BlockPool body_blocks{kChunkBytes, 64};
  BlockPool arena_blocks{kFieldArenaBytes, 64};  // first blocks of the header arenas
  StringPool heads{192, 64 * 1024};              // message heads under construction
  // One thread runs it, and every socket, timer and handler of it is used only from that thread:
  // Asio may skip its scheduler and reactor locks. Other threads reach it only through its inbox
  // (loop_inbox.h), opened in the constructor; that also keeps it running while idle.
  net::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  Shared& shared;
  int index;
  std::vector<Acceptor> acceptors;
  std::unique_ptr<ssl::context> client_tls;
  std::unique_ptr<ssl::context> client_tls_no_verify;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> pool;
  AccessLog access_log;
  std::mt19937_64 rng;
  std::vector<std::size_t> order_scratch;
  WallClock wall_clock;  // request_time of each exchange
  AuthWorkerState auth;
  std::unique_ptr<RedisStore> redis;
  std::unique_ptr<MetricsShard> metrics;
  std::unique_ptr<analytics::EventQueue> events;
  // Requests of this worker being handled now, read by the drain; written by this worker only
  // (base::SingleWriterAdd), not a counter every worker shares.
  std::atomic<int> active_requests{0};
};

// ---------------------------------------------------------------------------------------------
// Small helpers.

std::string FaultBody(int code, std::string_view message, std::string_view description) {
  boost::json::object fault;
  fault["code"] = code;
  fault["message"] = message;
  fault["description"] = description;
  boost::json::object body;
  body["fault"] = std::move(fault);
  return boost::json::serialize(body);
}

// Each byte value as two lowercase hex digits.
constexpr std::array<char, 512> kHexPairs = [] {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 512> pairs{};
  for (std::size_t i = 0; i < 256; ++i) {
    pairs[2 * i] = kHex[i >> 4];
    pairs[2 * i + 1] = kHex[i & 0xf];
  }
  return pairs;
}();

std::string NewCorrelationId(std::mt19937_64& rng) {
  std::uint64_t a = rng();
  std::uint64_t b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: byte i (most significant first) goes to kAt[i].
  static constexpr std::array<std::uint8_t, 16> kAt = {0,  2,  4,  6,  9,  11, 14, 16,
                                                       19, 21, 24, 26, 28, 30, 32, 34};
  char out[36];
  out[8] = out[13] = out[18] = out[23] = '-';
  for (std::size_t byte = 0; byte < 16; ++byte) {
    const std::uint64_t word = byte < 8 ? a : b;
    const auto value = static_cast<std::size_t>((word >> ((7 - byte % 8) * 8)) & 0xffU);
    out[kAt[byte]] = kHexPairs[2 * value];
    out[kAt[byte] + 1] = kHexPairs[2 * value + 1];
  }
  return std::string(out, sizeof out);
}

bool IsSaneCorrelationId(std::string_view value) {
  return !value.empty() && value.size() <= 128 &&
         std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Headers the proxy never forwards as they are, decided from Beast's field enum (no string
// compares for known fields).
enum class FieldRole { kForward, kHopByHop, kGatewaySets, kForwardedFor };

FieldRole RoleOf(http::field field, std::string_view name) {
  switch (field) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::proxy_connection:
      return FieldRole::kHopByHop;
    case http::field::host:
    case http::field::expect:
    case http::field::content_length:
      return FieldRole::kGatewaySets;
    case http::field::unknown:
      break;
    default:
      return FieldRole::kForward;
  }
  if (name.size() >= 15 && (name[0] == 'x' || name[0] == 'X')) {
    if (base::IEqualsAscii(name, "x-forwarded-for")) {
      return FieldRole::kForwardedFor;
    }
    if (base::IEqualsAscii(name, "x-forwarded-proto") || base::IEqualsAscii(name, "x-forwarded-host") ||
        base::IEqualsAscii(name, "x-correlation-id")) {
      return FieldRole::kGatewaySets;
    }
  }
  return FieldRole::kForward;
}


// The first value of a known field, found by a scan comparing Beast's field enum: cheaper than
// Beast's own lookup (a tree walk with case-insensitive compares) for the few fields of a header.
template <class Fields>
std::string_view FirstValue(const Fields& fields, http::field name) {
  for (const auto& field : fields) {
    if (field.name() == name) {
      return field.value();
    }
  }
  return {};
}

// Header names listed in Connection: are hop-by-hop too. The usual first values ("keep-alive",
// "close") name no other header: nothing is collected then.
template <class Fields>
std::vector<std::string> ConnectionTokens(const Fields& fields) {
  std::vector<std::string> out;
  if (const auto first = FirstValue(fields, http::field::connection);
      first.empty() || base::IEqualsAscii(first, "keep-alive") || base::IEqualsAscii(first, "close")) {
    return out;
  }
  for (const auto& field : fields) {
    if (field.name() != http::field::connection) {
      continue;
    }
    std::string_view value = field.value();
    while (!value.empty()) {
      const auto comma = value.find(',');
      const auto token = Trim(value.substr(0, comma));
      if (!token.empty()) {
        out.emplace_back(token);
      }
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  return out;
}

bool IsIdempotent(http::verb verb) {
  switch (verb) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::trace:
      return true;
    default:
      return false;
  }
}

// Beast's keep_alive() on the first Connection field: HTTP/1.1 unless "close", HTTP/1.0 only
// with "keep-alive".
bool KeepAlive(unsigned version, std::string_view connection) {
  // The usual values decided without Beast's token-list walk (about 400 instructions).
  if (base::IEqualsAscii(connection, "keep-alive")) {
    return true;
  }
  if (base::IEqualsAscii(connection, "close")) {
    return false;
  }
  if (version < 11) {
    return connection.data() != nullptr && http::token_list{connection}.exists("keep-alive");
  }
  return connection.data() == nullptr || !http::token_list{connection}.exists("close");
}

// What the gateway reads from a request header, gathered in one pass over its fields: Beast's
// lookups by name walk a tree with case-insensitive compares, and a request needed about a dozen.
struct HeaderFacts {
  std::string_view connection;  // the first Connection field, as Beast's keep_alive() reads it
  std::string_view expect;
  std::string_view host;        // the first Host field
  std::string_view origin;
  std::string_view user_agent;
  std::string_view correlation_id;
  std::size_t field_bytes = 0;  // the header section without the request line
  int host_count = 0;
  int content_length_count = 0;
  int transfer_encoding_count = 0;
  bool transfer_encoding_not_chunked = false;
  bool framing_name_with_underscore = false;  // "Transfer_Encoding" / "Content_Length"
  bool preflight_method = false;              // Access-Control-Request-Method is present
  bool keep_alive = false;  // what the client asked for (Connection and version), drain aside
};

HeaderFacts ScanHeader(const RequestHeader& header) {
  HeaderFacts facts;
  const auto keep_first = [](std::string_view& slot, std::string_view value) {
    if (slot.data() == nullptr) {
      slot = value;
    }
  };
  for (const auto& field : header) {
    const std::string_view name = field.name_string();
    const std::string_view value = field.value();
    facts.field_bytes += name.size() + value.size() + 4;
    switch (field.name()) {
      case http::field::connection:
        keep_first(facts.connection, value);
        break;
      case http::field::expect:
        keep_first(facts.expect, value);
        break;
      case http::field::host:
        ++facts.host_count;
        keep_first(facts.host, value);
        break;
      case http::field::origin:
        keep_first(facts.origin, value);
        break;
      case http::field::user_agent:
        keep_first(facts.user_agent, value);
        break;
      case http::field::content_length:
        ++facts.content_length_count;
        break;
      case http::field::transfer_encoding:
        ++facts.transfer_encoding_count;
        facts.transfer_encoding_not_chunked =
            facts.transfer_encoding_not_chunked || !base::IEqualsAscii(Trim(value), "chunked");
        break;
      case http::field::access_control_request_method:
        facts.preflight_method = true;
        break;
      case http::field::unknown:
        if (name.size() == 16 && base::IEqualsAscii(name, "x-correlation-id")) {
          keep_first(facts.correlation_id, value);
        }
        // "Transfer_Encoding" / "Content_Length": CGI-style backends (HTTP_TRANSFER_ENCODING)
        // read them as the framing headers and would frame the body differently.
        if ((name.size() == 17 || name.size() == 14) && name.find('_') != std::string_view::npos) {
          std::string dashed(name);
          std::replace(dashed.begin(), dashed.end(), '_', '-');
          facts.framing_name_with_underscore = facts.framing_name_with_underscore ||
                                               base::IEqualsAscii(dashed, "transfer-encoding") ||
                                               base::IEqualsAscii(dashed, "content-length");
        }
        break;
      default:
        break;
    }
  }
  facts.keep_alive = KeepAlive(header.version(), facts.connection);
  return facts;
}

// Framing checks Beast's parser leaves to us (contract section 8): a Transfer-Encoding other than
// exactly "chunked", Transfer-Encoding together with Content-Length, several Content-Length
// values, several Host fields.
std::string_view FramingProblem(const HeaderFacts& facts, unsigned version) {
  if (facts.framing_name_with_underscore) {
    return "Transfer_Encoding or Content_Length (framing header spelled with '_')";
  }
  if (facts.transfer_encoding_not_chunked) {
    return "unsupported Transfer-Encoding";
  }
  if (facts.transfer_encoding_count > 1) {
    return "repeated Transfer-Encoding";
  }
  if (facts.transfer_encoding_count > 0 && facts.content_length_count > 0) {
    return "both Content-Length and Transfer-Encoding";
  }
  if (facts.content_length_count > 1) {
    return "repeated Content-Length";
  }
  if (facts.host_count > 1) {
    return "repeated Host";
  }
  if (facts.host_count == 0 && version >= 11) {
    return "missing Host";
  }
  return {};
}

// The rate-limit response fields (contract section 6), in the order they are written;
// Retry-After only on a rejection.
constexpr std::array<std::string_view, 6> kRateLimitFieldNames = {
    "RateLimit-Policy", "RateLimit", "X-RateLimit-Limit", "X-RateLimit-Remaining",
    "X-RateLimit-Reset", "Retry-After"};
// Room for all six lines: the names (91 bytes), ": " and CRLF (4 bytes a line), four policy items
// and the RateLimit value (each a quoted level name of at most 12 bytes and two 64-bit numbers of
// at most 20 characters: under 64 bytes), four more numbers.
constexpr std::size_t kRateLinesCapacity = 91 + 6 * 4 + 5 * 64 + 4 * 20;

// The CORS response fields the gateway sets itself; they (and the rate-limit fields) replace any
// a backend sent under the same names. At most four: a fixed list, no allocation.
class FieldList {
 public:
  using Field = std::pair<std::string_view, std::string_view>;
  void emplace_back(std::string_view name, std::string_view value) {
    if (size_ < fields_.size()) {  // always true: the caller adds at most 4
      fields_[size_++] = {name, value};
    }
  }
  const Field* begin() const { return fields_.data(); }
  const Field* end() const { return fields_.data() + size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::array<Field, 4> fields_{};
  std::size_t size_ = 0;
};

// Per-request state, for the response and the access log.
struct Exchange {
  IoDeadline* client = nullptr;  // the client connection's deadline (set before any handling)
  const HeaderFacts* facts = nullptr;  // of the request header (set before any handling)
  Clock::time_point start;
  std::chrono::system_clock::time_point request_time;  // for the analytics event
  std::string correlation_id;
  std::string method;
  std::string log_path;  // path only: a query may carry credentials
  unsigned status = 0;
  std::uint64_t bytes_sent = 0;
  std::string cors_origin;  // set when the API allows the request's Origin
  const ApiRoute* api_route = nullptr;
  const bundle::Api* api_model = nullptr;
  // RateLimit-* and Retry-After as finished field lines ("Name: value\r\n" each), written by
  // SetRateLimitFields: the first rate_field_count names of kRateLimitFieldNames, in that order.
  std::array<char, kRateLinesCapacity> rate_lines;
  std::size_t rate_lines_size = 0;
  std::size_t rate_field_count = 0;
  std::string_view subscription_tier;  // from authentication, for the subscription level
  std::string_view throttled_reason;   // level that rejected the request, for analytics
  int throttled_level = -1;
  // For metrics and the analytics event.
  int metric_slot = 0;
  std::string_view event_type;     // a literal, set for auth_failure / throttle; else derived
  int error_code = 0;              // fault code of a gateway-made answer
  int target_status = 0;           // backend status, 0 = backend not called
  double backend_ms = -1;
  std::string_view destination;  // a target URL of the immutable configuration
  std::uint64_t request_bytes = 0;
  // Who authenticated (null: nobody), kept for the exchange: the analytics event and the access
  // log read the application, user and key type from it, and subscription_tier points into it.
  std::shared_ptr<const security::Principal> principal;
  std::string user_agent;
  const ResourceRoute* resource_route = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Message heads written by hand: one contiguous buffer per head, no per-field allocation, and
// the body framed around the caller's bytes (gather writes, no copy).

void CollectCorsFields(const Exchange& exchange, FieldList& out) {
  if (exchange.cors_origin.empty() || exchange.api_route == nullptr) {
    return;
  }
  const auto& cors = exchange.api_model->cors;
  out.emplace_back("Access-Control-Allow-Origin", exchange.cors_origin);
  if (cors.allow_credentials) {
    out.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  if (!exchange.api_route->cors_expose_headers.empty()) {
    out.emplace_back("Access-Control-Expose-Headers", exchange.api_route->cors_expose_headers);
  }
  out.emplace_back("Vary", "Origin");
}

// Whether `name` is a field the gateway sets itself on this response (rate-limit or CORS), so that
// one of the same name from a backend or a caller is left out.
bool GatewaySets(const Exchange& exchange, const FieldList& cors, std::string_view name) {
  for (std::size_t i = 0; i < exchange.rate_field_count; ++i) {
    if (base::IEqualsAscii(kRateLimitFieldNames[i], name)) {
      return true;
    }
  }
  return std::any_of(cors.begin(), cors.end(),
                     [&](const auto& own) { return base::IEqualsAscii(own.first, name); });
}

// One field line. Short lines are put together on the stack and appended in one call: four
// appends cost about twice as much (each is a call into libstdc++ plus a memcpy call).
void AppendField(std::string& head, std::string_view name, std::string_view value) {
  char line[256];
  const std::size_t size = name.size() + value.size() + 4;
  if (size > sizeof line) {
    head.append(name).append(": ", 2).append(value).append("\r\n", 2);
    return;
  }
  char* p = line;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  *p++ = ':';
  *p++ = ' ';
  std::memcpy(p, value.data(), value.size());
  p += value.size();
  *p++ = '\r';
  *p = '\n';
  head.append(line, size);
}

// The gateway's own fields: the rate-limit lines (finished, one append), then the CORS ones.
void AppendGatewayFields(std::string& head, const Exchange& exchange, const FieldList& cors) {
  head.append(exchange.rate_lines.data(), exchange.rate_lines_size);
  for (const auto& [name, value] : cors) {
    AppendField(head, name, value);
  }
}

void AppendNumberField(std::string& head, std::string_view name, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  AppendField(head, name, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

// "HTTP/1.1 200 OK\r\n" for `version` 11 (10 gives HTTP/1.0).
void AppendStatusLine(std::string& head, unsigned version, unsigned status, std::string_view reason) {
  const char line[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10 % 10), '.',
                       static_cast<char>('0' + version % 10), ' ',
                       static_cast<char>('0' + status / 100 % 10),
                       static_cast<char>('0' + status / 10 % 10),
                       static_cast<char>('0' + status % 10), ' '};
  head.append(line, sizeof line).append(reason).append("\r\n", 2);
}

enum class BodyFraming { kNone, kLength, kChunked, kClose };

// The buffers of one gather write: an optional head, then one piece of body framed as
// `framing` says, then the last-chunk marker when `last` and chunked. Never copied once built
// (the buffers point into it).
class WriteFrames {
 public:
  WriteFrames() = default;
  WriteFrames(const WriteFrames&) = delete;
  WriteFrames& operator=(const WriteFrames&) = delete;

  void Build(std::string_view head, BodyFraming framing, const char* data, std::size_t size,
             bool last) {
    count_ = 0;
    bytes_ = 0;
    Add(head.data(), head.size());
    if (framing == BodyFraming::kChunked && size > 0) {
      char* end = std::to_chars(size_line_, size_line_ + sizeof size_line_ - 2, size, 16).ptr;
      *end++ = '\r';
      *end++ = '\n';
      Add(size_line_, static_cast<std::size_t>(end - size_line_));
      Add(data, size);
      Add("\r\n", 2);
    } else if (framing != BodyFraming::kNone) {
      Add(data, size);
    }
    if (framing == BodyFraming::kChunked && last) {
      Add("0\r\n\r\n", 5);
    }
  }
  std::span<const net::const_buffer> Buffers() const { return {buffers_.data(), count_}; }
  std::size_t Bytes() const { return bytes_; }

 private:
  void Add(const void* data, std::size_t size) {
    if (size > 0) {
      buffers_[count_++] = net::const_buffer(data, size);
      bytes_ += size;
    }
  }
  std::array<net::const_buffer, 5> buffers_{};
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  char size_line_[24] = {};
};

// Moves body bytes the parser's connection buffer already holds into `data` (up to `capacity`)
// without any I/O; returns how many. `error` is set only for a broken body (or one past the
// body limit); needing more input is not an error.
template <class Parser>
std::size_t TakeBufferedBody(Parser& parser,
                             beast::flat_buffer& buffer, char* data, std::size_t capacity,
                             error_code& error) {
  auto& body = parser.get().body();
  body.data = data;
  body.size = capacity;
  while (!parser.is_done() && buffer.size() > 0 && body.size > 0) {
    error_code put_error;
    const std::size_t used = parser.put(buffer.data(), put_error);
    buffer.consume(used);
    if (put_error == http::error::need_more || put_error == http::error::need_buffer) {
      break;
    }
    if (put_error) {
      error = put_error;
      break;
    }
    if (used == 0) {
      break;
    }
  }
  return capacity - body.size;
}


// The origin to echo when the API's CORS policy allows `origin`, else "".
std::string AllowedOrigin(const bundle::Cors& cors, std::string_view origin) {
  if (!cors.enabled || origin.empty()) {
    return {};
  }
  for (const auto& allowed : cors.allow_origins) {
    if (allowed == "*") {
      return cors.allow_credentials ? std::string(origin) : std::string("*");
    }
    if (base::IEqualsAscii(allowed, origin)) {
      return std::string(origin);
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Writing local responses.

template <class Stream>
Awaitable<bool> SendResponse(Stream& stream, const Shared& shared, Exchange& exchange,
                                  http::status status, std::string body,
                                  std::string_view content_type, bool keep_alive,
                                  unsigned version, const http::fields* extra = nullptr,
                                  bool head = false) {
  // The head is written by hand, as on the relay path (one buffer, no Beast message).
  const unsigned code = static_cast<unsigned>(status);
  std::string out_head;
  out_head.reserve(256);
  AppendStatusLine(out_head, version, code, http::obsolete_reason(status));
  AppendField(out_head, "Server", "mgw");
  if (!content_type.empty()) {
    AppendField(out_head, "Content-Type", content_type);
  }
  if (!exchange.correlation_id.empty()) {
    AppendField(out_head, "X-Correlation-ID", exchange.correlation_id);
  }
  // The gateway's own fields (rate-limit, CORS) replace any extra field of the same name.
  FieldList cors_fields;
  CollectCorsFields(exchange, cors_fields);
  if (extra != nullptr) {
    for (const auto& field : *extra) {
      const std::string_view name = field.name_string();
      // Framing and connection fields are the gateway's to write.
      const bool framing = field.name() == http::field::content_length ||
                           field.name() == http::field::transfer_encoding ||
                           field.name() == http::field::connection;
      if (!framing && !GatewaySets(exchange, cors_fields, name)) {
        AppendField(out_head, name, field.value());
      }
    }
  }
  AppendGatewayFields(out_head, exchange, cors_fields);
  // As Beast's prepare_payload(): no length for 1xx, 204 and 304; HEAD keeps the body's length.
  if (!(code / 100 == 1 || code == 204 || code == 304)) {
    AppendNumberField(out_head, "Content-Length", body.size());
  }
  const bool keep = keep_alive && !shared.draining.load(std::memory_order_relaxed);
  if (version >= 11 && !keep) {
    AppendField(out_head, "Connection", "close");
  } else if (version < 11 && keep) {
    AppendField(out_head, "Connection", "keep-alive");
  }
  out_head.append("\r\n", 2);
  exchange.status = code;
  exchange.bytes_sent = head ? 0 : body.size();
  WriteFrames frames;
  frames.Build(out_head, head ? BodyFraming::kNone : BodyFraming::kLength, body.data(), body.size(),
               true);
  exchange.client->Set(std::chrono::milliseconds(shared.config->config.server.idle_timeout_ms));
  auto [ec, written] = co_await net::async_write(stream, frames.Buffers(), kTuple);
  exchange.client->Clear();
  co_return !ec && keep;
}

template <class Stream>
Awaitable<bool> SendFault(Stream& stream, const Shared& shared, Exchange& exchange,
                               http::status status, int code, std::string_view message,
                               std::string_view description, bool keep_alive, unsigned version,
                               const http::fields* extra = nullptr) {
  if (exchange.error_code == 0) {
    exchange.error_code = code;
  }
  co_return co_await SendResponse(stream, shared, exchange, status,
                                  FaultBody(code, message, description), "application/json",
                                  keep_alive, version, extra);
}

// Reads and drops what is left of a request body, so the connection can be reused after a local
// answer. Gives up (false: close the connection) past kMaxDiscardBytes.
template <class Stream>
Awaitable<bool> DiscardBody(Stream& stream, IoDeadline& deadline, beast::flat_buffer& buffer,
                                 RequestParser& parser, const Shared& shared) {
  if (parser.is_done()) {
    co_return true;
  }
  if (const auto length = parser.content_length(); length && *length > kMaxDiscardBytes) {
    co_return false;
  }
  std::size_t total = 0;
  char scratch[4096];
  while (!parser.is_done()) {
    parser.get().body().data = scratch;
    parser.get().body().size = sizeof scratch;
    deadline.Set(std::chrono::milliseconds(shared.config->config.server.idle_timeout_ms));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    deadline.Clear();
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      co_return false;
    }
    total += sizeof scratch - parser.get().body().size;
    if (total > kMaxDiscardBytes) {
      co_return false;
    }
  }
  co_return true;
}

// ---------------------------------------------------------------------------------------------
// Upstream connections.

const std::string& PoolKey(const UpstreamTarget& target, bool verify) {
  return verify ? target.pool_key : target.pool_key_noverify;
}

// A pooled connection the backend has closed reads as EOF (or has stray bytes): not reusable.
bool LooksAlive(UpstreamConnection& connection) {
  auto& socket = connection.Lowest();
  if (!socket.is_open()) {
    return false;
  }
  char byte = 0;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::unique_ptr<UpstreamConnection> TakePooled(Worker& worker, const std::string& key,
                                               Clock::time_point now) {
  auto it = worker.pool.find(key);
  if (it == worker.pool.end()) {
    return nullptr;
  }
  const auto max_idle = std::chrono::milliseconds(worker.shared.config->config.upstream.idle_timeout_ms);
  auto& idle = it->second;
  while (!idle.empty()) {
    std::unique_ptr<UpstreamConnection> connection = std::move(idle.back());
    idle.pop_back();
    // A connection used within the last second is taken as it is (a backend that closed it in
    // that window fails the exchange before any byte is read, which is retried on a new
    // connection); older ones are checked with a non-blocking peek, one syscall.
    const bool recent = now - connection->idle_since < kTrustIdleFor;
    if (now - connection->idle_since < max_idle && (recent || LooksAlive(*connection))) {
      connection->reused = true;
      return connection;
    }
  }
  return nullptr;
}

void ReturnToPool(Worker& worker, std::unique_ptr<UpstreamConnection> connection) {
  auto& idle = worker.pool[connection->key];
  const int limit = worker.shared.config->config.upstream.max_idle_per_host;
  if (static_cast<int>(idle.size()) >= limit || worker.shared.draining.load(std::memory_order_relaxed)) {
    return;  // dropping it closes the socket
  }
  connection->idle_since = Clock::now();
  connection->buffer.clear();
  idle.push_back(std::move(connection));
}

enum class ConnectError { kNone, kTimeout, kFailed };

Awaitable<std::pair<std::unique_ptr<UpstreamConnection>, ConnectError>> Connect(
    Worker& worker, const UpstreamTarget& target, bool verify, std::chrono::milliseconds timeout) {
  auto executor = co_await net::this_coro::executor;
  // Resolved on the blocking pool: the loop has no locks, so Asio cannot resolve on it.
  PoolResolver resolver(*worker.shared.blocking_pool);
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(target.host, target.port, kTuple);
  if (resolve_error) {
    base::Log(base::LogLevel::kWarn, "cannot resolve backend " + target.host + ": " + resolve_error.message());
    co_return std::make_pair(nullptr, ConnectError::kFailed);
  }
  std::unique_ptr<UpstreamConnection> connection;
  if (target.tls) {
    ssl::context& context = verify ? *worker.client_tls : *worker.client_tls_no_verify;
    connection = std::make_unique<UpstreamConnection>(std::in_place_type<TlsStream>, executor, context);
  } else {
    connection = std::make_unique<UpstreamConnection>(std::in_place_type<PlainStream>, executor);
  }
  connection->key = PoolKey(target, verify);
  auto& lowest = connection->Lowest();
  connection->deadline.Set(timeout);  // for the connect and the TLS handshake together
  auto [connect_error, endpoint] = co_await net::async_connect(lowest, endpoints, kTuple);
  if (connect_error) {
    co_return std::make_pair(nullptr, connection->deadline.Expired() ? ConnectError::kTimeout
                                                                     : ConnectError::kFailed);
  }
  error_code no_delay_error;
  lowest.set_option(tcp::no_delay(true), no_delay_error);
  if (auto* tls = std::get_if<TlsStream>(&connection->stream)) {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    if (SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(target.host.c_str())) != 1) {
      co_return std::make_pair(nullptr, ConnectError::kFailed);
    }
    if (verify) {
      tls->set_verify_mode(ssl::verify_peer);
      tls->set_verify_callback(ssl::host_name_verification(target.host));
    } else {
      tls->set_verify_mode(ssl::verify_none);
    }
    auto [handshake_error] = co_await tls->async_handshake(ssl::stream_base::client, kTuple);
    if (handshake_error) {
      base::Log(base::LogLevel::kWarn, "TLS handshake with backend " + target.host_header +
                                           " failed: " + handshake_error.message());
      co_return std::make_pair(nullptr, connection->deadline.Expired() ? ConnectError::kTimeout
                                                                       : ConnectError::kFailed);
    }
  }
  connection->deadline.Clear();
  co_return std::make_pair(std::move(connection), ConnectError::kNone);
}

// The gateway's own HTTP calls (introspection, JWKS), on the worker's loop and connection pool.
Awaitable<base::Result<FetchResponse>> Worker::Fetch(FetchRequest request) {
  auto target = ParseUpstreamUrl(request.url);
  if (!target) {
    co_return target.error();
  }
  auto parsed = boost::urls::parse_absolute_uri(request.url);
  std::string path = parsed ? std::string(parsed->encoded_target()) : std::string("/");
  if (path.empty()) {
    path = "/";
  }
  const bool verify = shared.config->config.upstream.verify;
  http::request<http::string_body> message{http::string_to_verb(request.method), path, 11};
  message.set(http::field::host, target->host_header);
  message.set(http::field::user_agent, "mgw");
  for (const auto& [name, value] : request.headers) {
    message.set(name, value);
  }
  message.body() = std::move(request.body);
  message.prepare_payload();
  message.keep_alive(true);
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<UpstreamConnection> connection = TakePooled(*this, PoolKey(*target, verify), Clock::now());
    const bool reused = connection != nullptr;
    if (!connection) {
      auto [made, error] = co_await Connect(*this, *target, verify, request.timeout);
      if (!made) {
        co_return base::MakeError(error == ConnectError::kTimeout ? "timed out connecting to " + target->host_header
                                                                : "cannot connect to " + target->host_header);
      }
      connection = std::move(made);
    }
    connection->deadline.Set(request.timeout);
    auto [write_error, written] = co_await std::visit(
        [&](auto& s) { return http::async_write(s, message, kTuple); }, connection->stream);
    http::response_parser<http::string_body> parser;
    parser.body_limit(request.max_response_bytes);
    error_code read_error = write_error;
    if (!write_error) {
      std::size_t n = 0;
      std::tie(read_error, n) = co_await std::visit(
          [&](auto& s) { return http::async_read(s, connection->buffer, parser, kTuple); },
          connection->stream);
    }
    connection->deadline.Clear();
    const bool timed_out = connection->deadline.Expired();
    if (read_error) {
      if (reused && attempt == 0 && !timed_out) {
        continue;  // a stale pooled connection: once more on a new one
      }
      co_return base::MakeError(timed_out
                                    ? "timed out waiting for " + target->host_header
                                    : target->host_header + ": " + read_error.message());
    }
    FetchResponse response;
    response.status = parser.get().result_int();
    const bool keep = parser.get().keep_alive();
    response.body = std::move(parser.get().body());
    if (keep) {
      ReturnToPool(*this, std::move(connection));
    }
    co_return response;
  }
  co_return base::MakeError("cannot reach " + target->host_header);
}

// ---------------------------------------------------------------------------------------------
// Proxying one request.

enum class ProxyResult {
  kDone,          // response relayed; `keep_alive` says whether the client connection stays
  kLocalReply,    // nothing sent to the client yet; caller answers with `status`/`code`
};

struct ProxyOutcome {
  ProxyResult result = ProxyResult::kDone;
  bool keep_alive = false;
  http::status status = http::status::bad_gateway;
  int code = 101503;
  std::string description;
};

// Appends the request target sent upstream: the target's base path, the routed path after the
// API's base path, and the query as received.
void AppendUpstreamTarget(std::string& out, const UpstreamTarget& target,
                          const NormalisedPath& path, std::size_t base_segments,
                          std::string_view query) {
  const std::size_t start = out.size();
  out += target.base_path;
  out += EncodedSuffix(path, base_segments);
  if (out.size() == start) {
    out += '/';
  }
  if (!query.empty()) {
    out += '?';
    out.append(query.data(), query.size());
  }
}

template <class Stream>
Awaitable<ProxyOutcome> Proxy(Worker& worker, Stream& down, beast::flat_buffer& down_buffer,
                                   RequestParser& parser, Exchange& exchange,
                                   EndpointGroupState& group, const NormalisedPath& path,
                                   std::size_t base_segments, std::string_view query,
                                   std::string_view peer_ip, bool downstream_tls,
                                   bool strip_credentials) {
  const auto& config = worker.shared.config->config;
  auto& request = parser.get();
  const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  const bool idempotent = IsIdempotent(request.method());
  const auto& retry = group.Config().retry;
  const auto timeout = std::chrono::milliseconds(group.Config().timeout_ms);
  const HeaderFacts& facts = *exchange.facts;
  const bool expects_continue = base::IEqualsAscii(facts.expect, "100-continue");
  CircuitBreaker* breaker = group.Breaker();

  ProxyOutcome outcome;
  if (breaker != nullptr && !breaker->Allow(Clock::now())) {
    outcome.result = ProxyResult::kLocalReply;
    outcome.description = "The backend is unavailable (circuit open)";
    co_return outcome;
  }

  // The upstream header fields, built once; the request line and Host are added per attempt.
  const std::vector<std::string> connection_tokens = ConnectionTokens(request);
  // Credentials the gateway validated stay with the gateway (auth.remove_auth_header).
  const bool remove_auth = config.auth.remove_auth_header && strip_credentials;
  const std::string& auth_header = exchange.api_model->auth_header.empty()
                                       ? config.auth.header
                                       : exchange.api_model->auth_header;
  const bool backend_auth = !group.Authorization().empty();
  PooledString up_fields_storage(worker.heads);
  std::string& up_fields = up_fields_storage.text;
  up_fields.reserve(512);
  std::string forwarded_for;
  for (const auto& field : request) {
    const std::string_view name = field.name_string();
    const FieldRole role = RoleOf(field.name(), name);
    if (role == FieldRole::kForwardedFor) {
      forwarded_for.append(forwarded_for.empty() ? "" : ", ").append(field.value());
      continue;
    }
    if (role != FieldRole::kForward) {
      continue;
    }
    if ((remove_auth && base::IEqualsAscii(name, auth_header)) ||
        (backend_auth && field.name() == http::field::authorization)) {
      continue;
    }
    if (!connection_tokens.empty() &&
        std::any_of(connection_tokens.begin(), connection_tokens.end(),
                    [&](const std::string& t) { return base::IEqualsAscii(t, name); })) {
      continue;
    }
    AppendField(up_fields, name, field.value());
  }
  forwarded_for.append(forwarded_for.empty() ? "" : ", ").append(peer_ip);
  AppendField(up_fields, "X-Forwarded-For", forwarded_for);
  AppendField(up_fields, "X-Forwarded-Proto", downstream_tls ? "https" : "http");
  if (!facts.host.empty()) {
    AppendField(up_fields, "X-Forwarded-Host", facts.host);
  }
  AppendField(up_fields, "X-Correlation-ID", exchange.correlation_id);
  if (backend_auth) {
    AppendField(up_fields, "Authorization", group.Authorization());
  }
  BodyFraming up_framing = BodyFraming::kNone;
  if (parser.chunked()) {
    up_framing = BodyFraming::kChunked;
    AppendField(up_fields, "Transfer-Encoding", "chunked");
  } else if (const auto length = parser.content_length(); length && *length > 0) {
    up_framing = BodyFraming::kLength;
    AppendNumberField(up_fields, "Content-Length", *length);
  } else if (request.method() == http::verb::post || request.method() == http::verb::put ||
             request.method() == http::verb::patch) {
    AppendField(up_fields, "Content-Length", "0");
  }
  up_fields.append("\r\n", 2);
  PooledString up_head_storage(worker.heads);
  std::string& up_head = up_head_storage.text;
  std::size_t raw_path_size = 0;  // a bound for the encoded path (re-encoding may grow it a little)
  for (const auto& segment : path.segments) {
    raw_path_size += segment.size() * 3 + 1;
  }
  WriteFrames frames;

  auto& order = worker.order_scratch;
  const auto proxy_start = Clock::now();  // the first attempt's start too
  group.Order(proxy_start, order);
  const std::size_t targets = order.size();
  const int max_attempts = 1 + std::max(0, retry.count);
  std::chrono::milliseconds interval(retry.interval_ms);
  bool body_sent = false;
  BlockLease chunk(worker.body_blocks);  // a body buffer, returned when this request is done

  std::size_t moved_on = 0;  // targets skipped because they refused the connection
  bool moving_on = false;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    if (attempt > 0 && interval.count() > 0 && !moving_on) {
      Timer timer(co_await net::this_coro::executor);
      timer.expires_after(interval);
      co_await timer.async_wait(kTuple);
      interval = std::chrono::milliseconds(static_cast<std::int64_t>(
          static_cast<double>(interval.count()) * std::max(1.0, retry.back_off_factor)));
      if (retry.max_wait_interval_ms > 0) {
        interval = std::min(interval, std::chrono::milliseconds(retry.max_wait_interval_ms));
      }
    }
    // load_balance moves on to the next target on each attempt; failover tries them in order.
    moving_on = false;
    const std::size_t target_index = order[(static_cast<std::size_t>(attempt) + moved_on) % targets];
    const UpstreamTarget& target = group.Targets()[target_index];
    const bool verify = config.upstream.verify && group.Config().tls_verify;
    exchange.destination = target.url;
    const auto backend_start = attempt == 0 ? proxy_start : Clock::now();
    up_head.clear();
    up_head.reserve(up_fields.size() + target.base_path.size() + raw_path_size + query.size() +
                    target.host_header.size() + 64);
    up_head.append(request.method_string()).append(" ", 1);
    AppendUpstreamTarget(up_head, target, path, base_segments, query);
    up_head.append(" HTTP/1.1\r\n", 11);
    AppendField(up_head, "Host", target.host_header);
    up_head += up_fields;

    // Get a connection: pooled (checked) or new. A pooled one that fails before anything was
    // received is replaced once by a new one: the request was never processed.
    std::unique_ptr<UpstreamConnection> connection = TakePooled(worker, PoolKey(target, verify), backend_start);
    bool fresh_retry_left = true;
    // A fresh parser (and arena) per response header, so that interim 1xx answers cannot pile up.
    std::optional<ArenaParser<ResponseParser>> response_parser_storage;
    auto fresh_response_parser = [&]() -> ResponseParser& {
      auto& p = response_parser_storage.emplace(worker.arena_blocks).parser;
      p.body_limit(boost::none);
      p.header_limit(64 * 1024);
      if (request.method() == http::verb::head) {
        p.skip(true);
      }
      return p;
    };
    bool sent_ok = false;
    bool timed_out = false;
    bool connect_failed = false;
    while (true) {
      if (!connection) {
        auto [made, error] = co_await Connect(worker, target, verify, timeout);
        if (!made) {
          group.MarkDown(target_index, Clock::now());
          connect_failed = true;
          timed_out = error == ConnectError::kTimeout;
          break;
        }
        connection = std::move(made);
        fresh_retry_left = false;
      }
      // The head goes out alone when a body follows (the client may wait for 100 Continue).
      connection->deadline.Set(timeout);
      auto [write_error, written] = co_await std::visit(
          [&](auto& s) { return net::async_write(s, net::buffer(up_head), kTuple); },
          connection->stream);
      connection->deadline.Clear();
      if (write_error) {
        if (connection->reused && fresh_retry_left && !connection->deadline.Expired()) {
          connection.reset();
          continue;
        }
        timed_out = connection->deadline.Expired();
        break;
      }
      if (has_body) {
        if (expects_continue) {
          http::response<http::empty_body> go_on{http::status::continue_, request.version()};
          exchange.client->Set(std::chrono::milliseconds(config.server.idle_timeout_ms));
          co_await http::async_write(down, go_on, kTuple);
          exchange.client->Clear();
        }
        body_sent = true;
        bool body_error = false;
        bool terminated = up_framing != BodyFraming::kChunked;
        error_code client_error;  // why reading the client's body failed, if it did
        while (!parser.is_done()) {
          char* data = chunk.Get();
          std::size_t got = TakeBufferedBody(parser, down_buffer, data, kChunkBytes, client_error);
          if (!client_error && got == 0 && !parser.is_done()) {
            request.body().data = data;
            request.body().size = kChunkBytes;
            exchange.client->Set(std::chrono::milliseconds(config.server.idle_timeout_ms));
            auto [read_error, n] = co_await http::async_read(down, down_buffer, parser, kTuple);
            exchange.client->Clear();
            if (read_error != http::error::need_buffer) {
              client_error = read_error;
            }
            got = kChunkBytes - request.body().size;
          }
          if (client_error) {
            body_error = true;  // client went away or sent a broken body
            break;
          }
          if (got == 0 && !parser.is_done()) {
            continue;
          }
          if (parser.chunked()) {
            exchange.request_bytes += got;
          }
          frames.Build({}, up_framing, data, got, parser.is_done());
          terminated = terminated || parser.is_done();
          connection->deadline.Set(timeout);
          auto [e, w] = co_await std::visit(
              [&](auto& s) { return net::async_write(s, frames.Buffers(), kTuple); },
              connection->stream);
          connection->deadline.Clear();
          if (e) {
            body_error = true;
            break;
          }
        }
        if (body_error) {
          // Nothing was relayed yet, so the client learns why before the connection closes: a
          // malformed body (bad chunk) is a 400, one past max_body_bytes a 413 (contract 4, 8),
          // a backend that failed while taking the body a 502.
          const auto& http_errors = http::make_error_code(http::error::bad_chunk).category();
          if (client_error == http::error::body_limit) {
            co_await SendFault(down, worker.shared, exchange, http::status::payload_too_large, 413,
                               "Payload Too Large",
                               "The request body is larger than " +
                                   std::to_string(config.server.max_body_bytes) + " bytes",
                               false, request.version());
          } else if (client_error && client_error.category() == http_errors) {
            co_await SendFault(down, worker.shared, exchange, http::status::bad_request, 400,
                               "Bad Request",
                               "The request body could not be parsed: " + client_error.message(),
                               false, request.version());
          } else if (!client_error) {
            co_await SendFault(down, worker.shared, exchange, http::status::bad_gateway, 101503,
                               "Runtime Error", "Error sending the request body to the backend",
                               false, request.version());
          } else {
            exchange.status = 502;
          }
          outcome.result = ProxyResult::kDone;
          outcome.keep_alive = false;
          co_return outcome;
        }
        if (!terminated) {
          frames.Build({}, up_framing, nullptr, 0, true);
          connection->deadline.Set(timeout);
          auto [e, w] = co_await std::visit(
              [&](auto& s) { return net::async_write(s, frames.Buffers(), kTuple); },
              connection->stream);
          connection->deadline.Clear();
          if (e) {
            outcome.keep_alive = false;
            exchange.status = 502;
            co_return outcome;
          }
        }
      }

      // Response header (skipping interim 1xx answers).
      auto* rp = &fresh_response_parser();
      connection->deadline.Set(timeout);
      auto [read_error, n] = co_await std::visit(
          [&](auto& s) { return http::async_read_header(s, connection->buffer, *rp, kTuple); },
          connection->stream);
      while (!read_error && rp->get().result_int() >= 100 && rp->get().result_int() < 200 &&
             rp->get().result_int() != 101) {
        rp = &fresh_response_parser();
        std::tie(read_error, n) = co_await std::visit(
            [&](auto& s) { return http::async_read_header(s, connection->buffer, *rp, kTuple); },
            connection->stream);
      }
      connection->deadline.Clear();
      if (read_error) {
        const bool nothing_received = connection->buffer.size() == 0;
        if (connection->reused && fresh_retry_left && nothing_received && !body_sent &&
            !connection->deadline.Expired()) {
          connection.reset();
          continue;
        }
        timed_out = connection->deadline.Expired();
        break;
      }
      sent_ok = true;
      break;
    }

    if (!sent_ok) {
      if (breaker != nullptr) {
        breaker->Record(true, Clock::now());
      }
      // Nothing reached a target that refused the connection: failover and load_balance move
      // on to the next URL without using up a retry (contract 8).
      if (connect_failed && moved_on + 1 < targets) {
        ++moved_on;
        moving_on = true;
        --attempt;
        continue;
      }
      const bool may_retry = !body_sent && (idempotent || !has_body || !timed_out);
      if (attempt + 1 < max_attempts && may_retry) {
        continue;
      }
      outcome.result = body_sent ? ProxyResult::kDone : ProxyResult::kLocalReply;
      if (timed_out) {
        outcome.status = http::status::gateway_timeout;
        outcome.code = 101504;
        outcome.description = "The backend did not answer within " +
                              std::to_string(group.Config().timeout_ms) + " ms";
      } else {
        outcome.status = http::status::bad_gateway;
        outcome.code = 101503;
        outcome.description = "Error connecting to the backend";
      }
      if (outcome.result == ProxyResult::kDone) {
        // The body was consumed: the client cannot get a clean answer on this connection.
        http::response<http::string_body> response{outcome.status, request.version()};
        response.set(http::field::content_type, "application/json");
        response.set("X-Correlation-ID", exchange.correlation_id);
        response.body() = FaultBody(outcome.code, "Runtime Error", outcome.description);
        response.prepare_payload();
        response.keep_alive(false);
        exchange.client->Set(std::chrono::milliseconds(config.server.idle_timeout_ms));
        co_await http::async_write(down, response, kTuple);
        exchange.client->Clear();
        exchange.status = static_cast<unsigned>(outcome.status);
        exchange.error_code = outcome.code;  // a gateway-made answer: a fault event
        exchange.bytes_sent = response.body().size();
        outcome.keep_alive = false;
      }
      co_return outcome;
    }

    auto& response_parser = response_parser_storage->parser;
    auto& response = response_parser.get();
    const unsigned status = response.result_int();
    exchange.target_status = static_cast<int>(status);
    exchange.backend_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - backend_start).count();
    const bool status_failure =
        breaker != nullptr &&
        std::find(group.Config().circuit_breaker.status_codes.begin(),
                  group.Config().circuit_breaker.status_codes.end(),
                  static_cast<int>(status)) != group.Config().circuit_breaker.status_codes.end();
    if (breaker != nullptr) {
      breaker->Record(status_failure, Clock::now());
    }
    const bool retry_status = std::find(retry.status_codes.begin(), retry.status_codes.end(),
                                        static_cast<int>(status)) != retry.status_codes.end();
    if (retry_status && attempt + 1 < max_attempts && !body_sent && idempotent) {
      continue;  // the connection (with its unread body) is dropped
    }

    // Relay the response header, then its body.
    // result_int(), not result(): Beast maps codes it has no name for (418, 599, ...) to 0.
    PooledString out_head_storage(worker.heads);
    std::string& out_head = out_head_storage.text;
    out_head.reserve(512);
    AppendStatusLine(out_head, request.version(), status, response.reason());
    const std::vector<std::string> response_tokens = ConnectionTokens(response);
    FieldList cors_fields;
    CollectCorsFields(exchange, cors_fields);
    for (const auto& field : response) {
      const std::string_view name = field.name_string();
      const FieldRole role = RoleOf(field.name(), name);
      if (role == FieldRole::kHopByHop || field.name() == http::field::content_length ||
          (role == FieldRole::kGatewaySets && base::IEqualsAscii(name, "x-correlation-id")) ||
          (!response_tokens.empty() &&
           std::any_of(response_tokens.begin(), response_tokens.end(),
                       [&](const std::string& t) { return base::IEqualsAscii(t, name); })) ||
          GatewaySets(exchange, cors_fields, name)) {
        continue;
      }
      AppendField(out_head, name, field.value());
    }
    AppendField(out_head, "X-Correlation-ID", exchange.correlation_id);
    AppendGatewayFields(out_head, exchange, cors_fields);
    const bool no_body = request.method() == http::verb::head || status == 204 || status == 304 ||
                         (status >= 100 && status < 200);
    const auto length = response_parser.content_length();
    bool client_keep_alive = facts.keep_alive && !worker.shared.draining.load(std::memory_order_relaxed);
    BodyFraming out_framing = no_body ? BodyFraming::kNone : BodyFraming::kLength;
    if (length) {
      AppendNumberField(out_head, "Content-Length", *length);
    } else if (!no_body) {
      if (request.version() >= 11) {
        out_framing = BodyFraming::kChunked;
        AppendField(out_head, "Transfer-Encoding", "chunked");
      } else {
        out_framing = BodyFraming::kClose;
        client_keep_alive = false;  // an HTTP/1.0 client: end of body = end of connection
      }
    }
    if (request.version() >= 11 && !client_keep_alive) {
      AppendField(out_head, "Connection", "close");
    } else if (request.version() < 11 && client_keep_alive) {
      AppendField(out_head, "Connection", "keep-alive");
    }
    out_head.append("\r\n", 2);
    exchange.status = status;
    const auto client_timeout = std::chrono::milliseconds(config.server.idle_timeout_ms);
    bool upstream_complete = no_body || response_parser.is_done();
    if (no_body) {
      exchange.client->Set(client_timeout);
      auto [header_error, header_bytes] = co_await net::async_write(down, net::buffer(out_head), kTuple);
      exchange.client->Clear();
      if (header_error) {
        outcome.keep_alive = false;
        co_return outcome;
      }
    } else {
      // The header goes out with the first body bytes: one write, not two. Bytes already
      // received with the header are relayed without waiting for the socket.
      bool head_pending = true;
      bool finished = false;
      while (!finished) {
        char* data = chunk.Get();
        error_code read_error;
        std::size_t got =
            TakeBufferedBody(response_parser, connection->buffer, data, kChunkBytes, read_error);
        if (!read_error && got == 0 && !response_parser.is_done()) {
          response.body().data = data;
          response.body().size = kChunkBytes;
          connection->deadline.Set(timeout);
          auto [e, n] = co_await std::visit(
              [&](auto& s) {
                return http::async_read_some(s, connection->buffer, response_parser, kTuple);
              },
              connection->stream);
          connection->deadline.Clear();
          if (e != http::error::need_buffer) {
            read_error = e;
          }
          got = kChunkBytes - response.body().size;
        }
        if (read_error && read_error != http::error::end_of_stream) {
          outcome.keep_alive = false;  // truncated: the client sees the connection close
          co_return outcome;
        }
        finished = response_parser.is_done() || read_error;
        if (got == 0 && !finished) {
          continue;
        }
        frames.Build(head_pending ? std::string_view(out_head) : std::string_view(), out_framing,
                     data, got, finished);
        exchange.client->Set(client_timeout);
        auto [e, w] = co_await net::async_write(down, frames.Buffers(), kTuple);
        exchange.client->Clear();
        if (e) {
          outcome.keep_alive = false;
          co_return outcome;
        }
        head_pending = false;
        exchange.bytes_sent += got;
      }
      upstream_complete = response_parser.is_done();
    }
    if (upstream_complete && response_parser.keep_alive()) {
      ReturnToPool(worker, std::move(connection));
    }
    outcome.result = ProxyResult::kDone;
    outcome.keep_alive = client_keep_alive;
    co_return outcome;
  }
  outcome.result = ProxyResult::kLocalReply;
  co_return outcome;
}

// ---------------------------------------------------------------------------------------------
// One request on a client connection.

// The decoded values of query parameter `name` ("a=1&b=2", '+' is a space).
std::vector<std::string> QueryValues(std::string_view query, std::string_view name) {
  std::vector<std::string> out;
  auto decode = [](std::string_view text) {
    std::string decoded;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        decoded += ' ';
      } else if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) != 0 &&
                 std::isxdigit(static_cast<unsigned char>(text[i + 2])) != 0) {
        decoded += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        decoded += text[i];
      }
    }
    return decoded;
  };
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto equals = pair.find('=');
    if (decode(pair.substr(0, equals)) == name) {
      out.push_back(equals == std::string_view::npos ? std::string() : decode(pair.substr(equals + 1)));
    }
  }
  return out;
}

// The client address for per-client limits: the peer, or, when the peer is a trusted proxy, the
// nearest X-Forwarded-For entry that is not one.
std::string ClientIp(const Shared& shared, const RequestHeader& request, const std::string& peer_ip) {
  auto trusted = [&](std::string_view text) {
    error_code ec;
    auto address = net::ip::make_address(std::string(Trim(text)), ec);
    if (ec) {
      return false;
    }
    const auto v6 = address.is_v4() ? net::ip::make_address_v6(net::ip::v4_mapped, address.to_v4())
                                    : address.to_v6();
    for (const auto& network : shared.trusted_proxies) {
      const auto range = network.hosts();
      if (v6 == network.address() || range.find(v6) != range.end()) {
        return true;
      }
    }
    return false;
  };
  if (shared.trusted_proxies.empty() || !trusted(peer_ip)) {
    return peer_ip;
  }
  std::vector<std::string_view> hops;
  request.ForEachValue("X-Forwarded-For", [&hops](std::string_view value) {
    while (!value.empty()) {
      const auto comma = value.find(',');
      hops.push_back(Trim(value.substr(0, comma)));
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  });
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!trusted(*it)) {
      return std::string(*it);
    }
  }
  return hops.empty() ? peer_ip : std::string(hops.front());
}

// What ApplyRateLimits returns: kContinue when the request may go on (the RateLimit fields are
// then on the exchange); otherwise it has answered (429, or 500/900809 for an undefined policy)
// and says whether the connection may be kept.
constexpr int kContinue = -1;
constexpr int kAnsweredClose = 0;
constexpr int kAnsweredKeep = 1;

// The rate-limit levels that apply to a request, or the named tier that is not defined.
// Filled in place and never moved: the checks' keys are views of the configuration or of
// `composed` (a key made for this request), whose bytes, short or not, stay where they are. Part
// of the connection's ConnectionMemo: refilled for each request (the vector and the keys keep
// their memory), or kept as they are for the same caller on the same resource.
struct RateChecks {
  RateChecks() = default;
  RateChecks(const RateChecks&) = delete;
  RateChecks& operator=(const RateChecks&) = delete;
  std::vector<ratelimit::Check> checks;
  std::string missing;
  std::array<std::string, 2> composed;  // the subscription and application keys
  // The RateLimit-Policy field line of `checks` ("RateLimit-Policy: ...\r\n"), written with them.
  std::string policy_line;
  // Whom and what the checks were collected for, when an authenticated caller's: they depend on
  // nothing else, so the next request of the connection from the same caller (held here, so that
  // its address cannot be reused by another) to the same resource keeps them as they are.
  std::shared_ptr<const security::Principal> for_principal;
  const ResourceRoute* for_route = nullptr;
  bool None() const { return checks.empty() && missing.empty(); }
};

// What a connection remembers from one request to the next: its caller's credential and rate
// checks, for a keep-alive client that sends the same token again and again.
struct ConnectionMemo {
  CredentialMemo credential;
  RateChecks rate;
};

void CollectRateChecks(const Shared& shared, const Exchange& exchange, const RequestHeader& request,
                       const ApiRoute& api, const ResourceRoute& route,
                       const std::shared_ptr<const security::Principal>& principal,
                       const std::string& peer_ip, RateChecks& out) {
  const bool authenticated = principal && principal->auth_type != "none";
  if (authenticated && out.for_route == &route && out.for_principal == principal) {
    return;  // as for the connection's request before
  }
  const auto& policies = *shared.policies;
  auto& checks = out.checks;
  auto& missing = out.missing;
  checks.clear();
  missing.clear();
  out.for_principal.reset();
  out.for_route = nullptr;
  auto add = [&](ratelimit::Level level, std::string_view tier, const ratelimit::Limit* limit,
                 bool found, bool implicit, std::string_view key) {
    if (!found) {
      if (!implicit) {
        missing = std::string(tier);
      }
      return;  // an implicit tier (Unauthenticated, Default) that is not defined: no limit
    }
    if (limit != nullptr) {
      if (checks.empty()) {
        checks.reserve(4);  // four levels at most; nothing allocated when no level applies
      }
      checks.push_back({level, tier, limit, key});
    }
  };
  // Builds the key into out.composed[slot] only for a level that has a limit.
  auto compose = [&out](std::size_t slot, bool needed, std::string_view a, std::string_view b) {
    if (!needed) {
      return std::string_view();
    }
    std::string& key = out.composed[slot];
    key.clear();
    key.reserve(a.size() + 1 + b.size());
    key.append(a).append(1, ':').append(b);
    return std::string_view(key);
  };
  bool found = true;
  const auto* api_limit = policies.Resource(api.api->throttling_tier, found);
  add(ratelimit::Level::kApi, api.api->throttling_tier, api_limit, found, false, api.rate_key);
  const auto* resource_limit = policies.Resource(route.resource->throttling_tier, found);
  add(ratelimit::Level::kResource, route.resource->throttling_tier, resource_limit, found, false,
      route.rate_key);
  // Keys are built only for levels that have a limit.
  if (!authenticated) {
    const auto* limit = policies.Subscription("Unauthenticated", found);
    const bool needed = found && limit != nullptr;
    add(ratelimit::Level::kSubscription, "Unauthenticated", limit, found, true,
        compose(0, needed, needed ? ClientIp(shared, request, peer_ip) : std::string(), api.rate_key));
  } else {
    const std::string_view tier = exchange.subscription_tier;
    const auto* limit = policies.Subscription(tier, found);
    add(ratelimit::Level::kSubscription, tier, limit, found, tier == "Default",
        compose(0, found && limit != nullptr, principal->application_id, api.rate_key));
    const auto* app_limit = policies.Application(principal->application_tier, found);
    add(ratelimit::Level::kApplication, principal->application_tier, app_limit, found, false,
        compose(1, found && app_limit != nullptr, principal->application_id, principal->user));
    out.for_principal = principal;
    out.for_route = &route;
  }
  // RateLimit-Policy lists every level that applies (at most four), each with its policy's
  // pre-written parameters (every check's limit comes from ratelimit::Policies).
  std::string& line = out.policy_line;
  line.clear();
  if (checks.empty()) {
    return;
  }
  line.append(kRateLimitFieldNames[0]).append(": ");
  for (std::size_t i = 0; i < checks.size() && i < 4; ++i) {
    line.append(i > 0 ? ", \"" : "\"").append(ratelimit::LevelName(checks[i].level)).append("\"");
    line.append(checks[i].limit->policy_params);
  }
  line.append("\r\n");
}

// Counts the request against `rate` (not None()); answers 429 / 500 itself.
// The rate-limit response fields (contract section 6): RateLimit-Policy lists every level that
// applies, RateLimit and X-RateLimit-* describe the most restrictive one, Retry-After the one that
// rejected. Written as finished field lines into exchange.rate_lines in one pass (no string, no
// per-field append later).
void SetRateLimitFields(Exchange& exchange, const RateChecks& rate,
                        const ratelimit::Decision& decision) {
  const auto& checks = rate.checks;
  char* const text = exchange.rate_lines.data();
  char* p = text;
  const auto put = [&p](std::string_view part) {
    std::memcpy(p, part.data(), part.size());
    p += part.size();
  };
  const auto number = [&p](std::int64_t value) { p = std::to_chars(p, p + 24, value).ptr; };
  const auto name = [&](std::size_t index) {
    put(kRateLimitFieldNames[index]);
    put(": ");
  };
  put(rate.policy_line);
  const auto& top = decision.states[decision.most_restrictive];
  name(1);
  put("\"");
  put(ratelimit::LevelName(checks[decision.most_restrictive].level));
  put("\";r=");
  number(top.remaining);
  put(";t=");
  number(top.reset_seconds);
  put("\r\n");
  std::size_t index = 2;
  for (const std::int64_t value : {top.limit, top.remaining, top.reset_seconds}) {
    name(index++);
    number(value);
    put("\r\n");
  }
  if (!decision.allowed) {
    name(5);
    number(std::max<std::int64_t>(1, decision.states[decision.rejected].reset_seconds));
    put("\r\n");
  }
  exchange.rate_lines_size = static_cast<std::size_t>(p - text);
  exchange.rate_field_count = decision.allowed ? 5 : 6;  // Retry-After only on a rejection
}

// Rate-limit windows and token expiry are judged at the request's arrival (its request_time):
// one clock read per request serves them all.
std::int64_t MillisecondsOf(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

std::int64_t SecondsOf(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// The 429 for a rejected decision, recorded for the event, the metrics and the access log;
// returns whether the connection stays open.
template <class Stream>
Awaitable<bool> SendThrottled(Worker& worker, Stream& stream, Exchange& exchange,
                              const std::vector<ratelimit::Check>& checks,
                              const ratelimit::Decision& decision, bool keep_alive, unsigned version) {
  const auto& rejected = checks[decision.rejected];
  exchange.throttled_reason = ratelimit::LevelName(rejected.level);
  exchange.throttled_level = static_cast<int>(rejected.level);
  exchange.event_type = "throttle";
  worker.metrics->Throttled(exchange.metric_slot, exchange.throttled_level);
  co_return co_await SendFault(stream, worker.shared, exchange, http::status::too_many_requests,
                               ratelimit::FaultCode(rejected.level), "Message throttled out",
                               "You have exceeded your quota", keep_alive, version);
}

// Rate limiting with the shared store, or with an undefined policy to report (the local, fully
// defined case is decided in HandleRequest without a coroutine of its own).
template <class Stream>
Awaitable<int> ApplyRateLimits(Worker& worker, Stream& stream, Exchange& exchange,
                                     const RateChecks& rate, bool keep_alive, unsigned version) {
  const Shared& shared = worker.shared;
  const auto& checks = rate.checks;
  const auto& missing = rate.missing;
  if (!missing.empty()) {
    const bool keep = co_await SendFault(
        stream, shared, exchange, http::status::internal_server_error, 900809,
        "Internal server error occured",
        "POLICY ENFORCEMENT ERROR: policy \"" + missing + "\" is not defined", keep_alive, version);
    co_return keep ? kAnsweredKeep : kAnsweredClose;
  }
  if (checks.empty()) {
    co_return kContinue;
  }
  const auto now_ms = MillisecondsOf(exchange.request_time);
  std::optional<ratelimit::Decision> shared_decision;
  if (worker.redis) {
    shared_decision = co_await worker.redis->Decide(checks, now_ms);
    if (!shared_decision && shared.config->config.rate_limit.on_store_failure == "deny") {
      const bool keep = co_await SendFault(stream, shared, exchange,
                                           http::status::service_unavailable, 503,
                                           "Service Unavailable",
                                           "The rate-limit store cannot be reached", keep_alive,
                                           version);
      co_return keep ? kAnsweredKeep : kAnsweredClose;
    }
  }
  const ratelimit::Decision decision =
      shared_decision ? std::move(*shared_decision)
                      : ratelimit::DecideLocal(*shared.counters, checks, now_ms);
  SetRateLimitFields(exchange, rate, decision);
  if (decision.allowed) {
    co_return kContinue;
  }
  const bool keep = co_await SendThrottled(worker, stream, exchange, checks, decision, keep_alive, version);
  co_return keep ? kAnsweredKeep : kAnsweredClose;
}

template <class Stream>
Awaitable<bool> HandleRequest(Worker& worker, Stream& stream, beast::flat_buffer& buffer,
                                   RequestParser& parser, Exchange& exchange,
                                   ConnectionMemo& memo, const std::string& peer_ip, bool tls) {
  const Shared& shared = worker.shared;
  const GatewayConfig& gateway = *shared.config;
  const auto& config = gateway.config;
  auto& request = parser.get();
  const unsigned version = request.version();
  const HeaderFacts& facts = *exchange.facts;
  bool keep_alive = facts.keep_alive;
  exchange.method = std::string(request.method_string());
  exchange.user_agent = std::string(facts.user_agent.substr(0, 256));

  const std::string_view target = request.target();
  if (IsSaneCorrelationId(facts.correlation_id)) {
    exchange.correlation_id = std::string(facts.correlation_id);
  } else {
    exchange.correlation_id = NewCorrelationId(worker.rng);
  }

  const bool body_pending = !parser.is_done();
  const bool expects_continue = base::IEqualsAscii(facts.expect, "100-continue");
  // After a local answer, the rest of the body must be read (or the connection closed).
  auto finish_local = [&](bool keep) -> Awaitable<bool> {
    if (!keep) {
      co_return false;
    }
    if (body_pending) {
      if (expects_continue) {
        co_return false;  // the client waits for 100 Continue; it will not send the body now
      }
      co_return co_await DiscardBody(stream, *exchange.client, buffer, parser, shared);
    }
    co_return true;
  };

  if (target.size() > static_cast<std::size_t>(config.server.max_uri_bytes)) {
    exchange.log_path = "-";
    co_await SendFault(stream, shared, exchange, http::status::uri_too_long, 414, "URI Too Long",
                       "The request URI is longer than " + std::to_string(config.server.max_uri_bytes) +
                           " bytes",
                       false, version);
    co_return false;
  }
  if (const auto problem = FramingProblem(*exchange.facts, version); !problem.empty()) {
    exchange.log_path = "-";
    co_await SendFault(stream, shared, exchange, http::status::bad_request, 400, "Bad Request",
                       problem, false, version);
    co_return false;
  }

  std::string_view raw_path;
  std::string_view query;
  NormalisedPath path;
  if (!SplitTarget(target, raw_path, query) || NormalisePath(raw_path, path) != PathError::kNone) {
    exchange.log_path = "-";
    co_await SendFault(stream, shared, exchange, http::status::bad_request, 400, "Bad Request",
                       "The request target is not a valid path", false, version);
    co_return false;
  }
  exchange.log_path = std::string(raw_path);

  const auto method = ParseMethod(request.method_string());
  const auto match = method ? gateway.routes.Find(path, *method)
                            : [&] {
                                RouteTable::Match m;
                                m.api = gateway.routes.FindApi(path, m.base_segments);
                                return m;
                              }();
  const ApiRoute* api_route = match.api == kNoRoute ? nullptr : &gateway.apis[match.api];
  if (api_route != nullptr && !(tls ? api_route->https : api_route->http)) {
    api_route = nullptr;  // x-wso2-transports excludes this listener
  }
  if (api_route == nullptr) {
    const bool keep = co_await SendFault(stream, shared, exchange, http::status::not_found, 404,
                                         "Not Found", "No API matches the request path", keep_alive,
                                         version);
    co_return co_await finish_local(keep);
  }
  exchange.api_route = api_route;
  exchange.api_model = api_route->api;
  exchange.metric_slot = shared.metric_slots->ApiUnrouted(match.api);
  const auto& cors = api_route->api->cors;
  const std::string_view origin = facts.origin;
  exchange.cors_origin = AllowedOrigin(cors, origin);

  // CORS preflight: answered by the gateway for any path of the API.
  if (cors.enabled && method == Method::kOptions && !origin.empty() &&
      facts.preflight_method &&
      (match.path_matched || match.resource != kNoRoute)) {
    http::fields extra;
    if (!exchange.cors_origin.empty()) {
      extra.set(http::field::access_control_allow_methods, api_route->cors_allow_methods);
      extra.set(http::field::access_control_allow_headers, api_route->cors_allow_headers);
      extra.set(http::field::access_control_max_age, "3600");
    }
    const bool keep = co_await SendResponse(stream, shared, exchange, http::status::no_content, "",
                                            "", keep_alive, version, &extra);
    co_return co_await finish_local(keep);
  }

  if (match.resource == kNoRoute) {
    if (match.path_matched) {
      std::string allow;
      for (int m = 0; m < static_cast<int>(Method::kCount); ++m) {
        if ((match.allowed & (1u << m)) != 0) {
          allow += (allow.empty() ? "" : ", ") + std::string(MethodName(static_cast<Method>(m)));
        }
      }
      http::fields extra;
      extra.set(http::field::allow, allow);
      const bool keep = co_await SendFault(stream, shared, exchange, http::status::method_not_allowed,
                                           405, "Method Not Allowed",
                                           "The resource does not accept " + exchange.method,
                                           keep_alive, version, &extra);
      co_return co_await finish_local(keep);
    }
    const bool keep = co_await SendFault(stream, shared, exchange, http::status::not_found, 404,
                                         "Not Found", "No resource of the API matches the request",
                                         keep_alive, version);
    co_return co_await finish_local(keep);
  }
  const ResourceRoute& route = api_route->resources[match.resource];
  const bundle::Resource& resource = *route.resource;
  exchange.metric_slot = shared.metric_slots->Resource(match.api, match.resource);
  exchange.resource_route = &route;
  exchange.request_bytes = parser.content_length().value_or(0);

  // Authentication and authorization (contract section 5).
  std::shared_ptr<const security::Principal>& principal = exchange.principal;
  if (!resource.security.disabled) {
    const std::string& header_name =
        api_route->api->auth_header.empty() ? config.auth.header : api_route->api->auth_header;
    AuthInput input;
    request.ForEachValue(header_name,
                         [&input](std::string_view value) { input.credentials.push_back(value); });
    std::vector<std::string> query_keys;  // decoded values, kept alive for input.api_keys
    for (const auto& location : resource.security.api_keys) {
      if (location.in == "header") {
        if (!base::IEqualsAscii(location.name, header_name)) {
          request.ForEachValue(location.name,
                               [&input](std::string_view value) { input.api_keys.push_back(value); });
        }
      } else {
        for (auto& value : QueryValues(query, location.name)) {
          query_keys.push_back(std::move(value));
        }
      }
    }
    for (const auto& value : query_keys) {
      input.api_keys.push_back(value);
    }
    // A cached token is decided without a coroutine frame; anything else is awaited.
    std::optional<AuthDecision> cached =
        shared.authenticator->AuthenticateCached(worker.auth, memo.credential, *api_route->api,
                                                 resource, input, SecondsOf(exchange.request_time));
    AuthDecision decision;
    if (cached) {
      decision = std::move(*cached);
    } else {
      decision = co_await shared.authenticator->Authenticate(worker.auth, worker, *api_route->api,
                                                             resource, input);
    }
    if (!decision.allowed) {
      exchange.event_type = "auth_failure";
      worker.metrics->AuthFailure(ReasonForCode(decision.code));
      http::fields extra;
      if (!decision.www_authenticate.empty()) {
        extra.set(http::field::www_authenticate, decision.www_authenticate);
      }
      const bool keep = co_await SendFault(stream, shared, exchange,
                                           static_cast<http::status>(decision.status), decision.code,
                                           decision.message, decision.description, keep_alive,
                                           version, &extra);
      co_return co_await finish_local(keep);
    }
    principal = std::move(decision.principal);
    exchange.subscription_tier = decision.subscription_tier;  // a view into the principal
    // API keys presented in a header are credentials too: they stay with the gateway.
    if (config.auth.remove_auth_header) {
      for (const auto& location : resource.security.api_keys) {
        if (location.in == "header") {
          request.Erase(location.name);
        }
      }
    }
  }

  // Rate limiting (contract section 6).
  RateChecks& rate = memo.rate;
  CollectRateChecks(shared, exchange, request, *api_route, route, principal, peer_ip, rate);
  if (!rate.None()) {
    if (!worker.redis && rate.missing.empty()) {
      const ratelimit::Decision decision = ratelimit::DecideLocal(*shared.counters, rate.checks,
                                                                   MillisecondsOf(exchange.request_time));
      SetRateLimitFields(exchange, rate, decision);
      if (!decision.allowed) {
        const bool keep =
            co_await SendThrottled(worker, stream, exchange, rate.checks, decision, keep_alive, version);
        co_return co_await finish_local(keep);
      }
    } else if (const int answered = co_await ApplyRateLimits(worker, stream, exchange, rate,
                                                             keep_alive, version);
               answered != kContinue) {
      co_return co_await finish_local(answered == kAnsweredKeep);
    }
  }

  // Body size limit, when the length is known up front (chunked bodies are checked by Beast's
  // body limit while streaming).
  if (config.server.max_body_bytes > 0) {
    if (const auto length = parser.content_length();
        length && *length > static_cast<std::uint64_t>(config.server.max_body_bytes)) {
      co_await SendFault(stream, shared, exchange, http::status::payload_too_large, 413,
                         "Payload Too Large",
                         "The request body is larger than " +
                             std::to_string(config.server.max_body_bytes) + " bytes",
                         false, version);
      co_return false;
    }
  }

  if (resource.mock) {
    const bundle::MockResponse* answer = &resource.mock_responses.front();
    // `Prefer: code=404` picks another documented answer.
    const std::string_view prefer = request["Prefer"];
    if (const auto at = prefer.find("code="); at != std::string_view::npos) {
      const int wanted = std::atoi(std::string(prefer.substr(at + 5, 3)).c_str());
      for (const auto& candidate : resource.mock_responses) {
        if (candidate.status == wanted) {
          answer = &candidate;
          break;
        }
      }
    }
    http::fields extra;
    for (const auto& header : answer->headers) {
      extra.set(header.name, header.value);
    }
    const bool keep = co_await SendResponse(
        stream, shared, exchange, static_cast<http::status>(answer->status), answer->body,
        answer->content_type, keep_alive, version, &extra, request.method() == http::verb::head);
    co_return co_await finish_local(keep);
  }

  const bool sandbox = principal && principal->key_type == "SANDBOX";
  const int group_index = sandbox ? route.sandbox : route.production;
  if (group_index < 0) {
    const bool keep = co_await SendFault(
        stream, shared, exchange, http::status::forbidden, 900901, "Invalid Credentials",
        sandbox ? "Sandbox key offered to the API with no sandbox endpoint"
                : "Production key offered to the API with no production endpoint",
        keep_alive, version);
    co_return co_await finish_local(keep);
  }
  auto& group = *gateway.groups[group_index];
  const auto outcome = co_await Proxy(worker, stream, buffer, parser, exchange, group, path,
                                      match.base_segments, query, peer_ip, tls,
                                      !resource.security.disabled);
  if (outcome.result == ProxyResult::kLocalReply) {
    const bool keep = co_await SendFault(stream, shared, exchange, outcome.status, outcome.code,
                                         "Runtime Error", outcome.description, keep_alive, version);
    co_return co_await finish_local(keep);
  }
  co_return outcome.keep_alive;
}

void WriteAccessLog(Worker& worker, const Exchange& exchange, const std::string& peer_ip);

// Every request ends here exactly once: access log line, metrics, analytics event.
// The exchange is spent afterwards: its strings move into the event.
void FinishExchange(Worker& worker, Exchange& exchange, const std::string& peer_ip) {
  WriteAccessLog(worker, exchange, peer_ip);
  const double seconds = std::chrono::duration<double>(Clock::now() - exchange.start).count();
  worker.metrics->Record(exchange.metric_slot, static_cast<int>(exchange.status), seconds,
                         exchange.backend_ms >= 0 ? exchange.backend_ms / 1000.0 : -1.0);
  if (!worker.events) {
    return;
  }
  // Views into the exchange: the queue writes the JSON line before Push returns.
  analytics::Event event;
  event.event_type = !exchange.event_type.empty() ? exchange.event_type
                     : exchange.error_code != 0   ? "fault"
                                                  : "response";
  event.request_time = exchange.request_time;
  event.correlation_id = exchange.correlation_id;
  if (exchange.resource_route != nullptr) {
    event.api_json = exchange.resource_route->analytics_api_json;
  } else if (exchange.api_model != nullptr) {
    event.api_name = exchange.api_model->title;
    event.api_version = exchange.api_model->version;
    event.api_context = exchange.api_model->base_path;
  }
  event.http_method = exchange.method;
  if (const auto* principal = exchange.principal.get()) {
    event.application_id = principal->application_id;
    event.application_name = principal->application_name;
    event.key_type = principal->key_type;
    event.user_name = principal->user;
  }
  event.end_user_ip = peer_ip;
  event.user_agent = exchange.user_agent;
  event.proxy_response_code = static_cast<int>(exchange.status);
  event.target_response_code = exchange.target_status;
  event.response_latency_ms = seconds * 1000.0;
  event.backend_latency_ms = exchange.backend_ms >= 0 ? exchange.backend_ms : 0;
  event.request_size = exchange.request_bytes;
  event.response_size = exchange.bytes_sent;
  event.error_code = exchange.error_code;
  event.throttled_out_reason = exchange.throttled_reason;
  event.destination = exchange.destination;
  worker.events->Push(event);
}

void WriteAccessLog(Worker& worker, const Exchange& exchange, const std::string& peer_ip) {
  if (!worker.access_log.Enabled()) {
    return;
  }
  const auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - exchange.start).count();
  char latency[32];
  std::snprintf(latency, sizeof latency, "%.3f", elapsed);
  std::string line;
  line.reserve(256);
  line += base::NowRfc3339();
  line += ' ';
  line += peer_ip;
  line += " \"";
  line += exchange.method;
  line += ' ';
  line += exchange.log_path;
  line += "\" ";
  line += std::to_string(exchange.status);
  line += ' ';
  line += std::to_string(exchange.bytes_sent);
  line += ' ';
  line += latency;
  line += "ms ";
  line += exchange.correlation_id.empty() ? "-" : exchange.correlation_id;
  line += " api=";
  if (exchange.api_model != nullptr) {
    line += exchange.api_model->title;
    line += ':';
    line += exchange.api_model->version;
  } else {
    line += '-';
  }
  line += " app=";
  line += exchange.principal ? std::string_view(exchange.principal->application_name) : "-";
  line += '\n';
  worker.access_log.Append(line);
}

// Answers a request that could not be parsed, then the connection closes.
template <class Stream>
Awaitable<void> RejectUnparsed(Worker& worker, Stream& stream, IoDeadline& deadline,
                                    const beast::flat_buffer& buffer, error_code error,
                                    const std::string& peer_ip, bool start_line_parsed) {
  const auto& config = worker.shared.config->config;
  Exchange exchange;
  exchange.client = &deadline;
  exchange.start = Clock::now();
  exchange.request_time = worker.wall_clock.At(exchange.start);
  exchange.method = "-";
  exchange.log_path = "-";
  // The answer, the access log and the analytics event share an id like every other request's.
  exchange.correlation_id = NewCorrelationId(worker.rng);
  if (error == http::error::header_limit) {
    // Too long: the request line alone (414) or the header fields (431)?
    const auto data = std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size());
    const auto line_end = data.find("\r\n");
    // The whole head is still in the buffer; once the request line is parsed (a folded value
    // past 4 KiB), it is the fields.
    const bool uri = !start_line_parsed &&
                     (line_end == std::string_view::npos ||
                      line_end > static_cast<std::size_t>(config.server.max_uri_bytes));
    if (uri) {
      co_await SendFault(stream, worker.shared, exchange, http::status::uri_too_long, 414,
                         "URI Too Long", "The request URI is too long", false, 11);
    } else {
      co_await SendFault(stream, worker.shared, exchange,
                         http::status::request_header_fields_too_large, 431,
                         "Request Header Fields Too Large", "The request header is too large", false,
                         11);
    }
  } else if (error == http::error::body_limit) {
    co_await SendFault(stream, worker.shared, exchange, http::status::payload_too_large, 413,
                       "Payload Too Large", "The request body is too large", false, 11);
  } else {
    co_await SendFault(stream, worker.shared, exchange, http::status::bad_request, 400, "Bad Request",
                       "The request could not be parsed: " + error.message(), false, 11);
  }
  FinishExchange(worker, exchange, peer_ip);
}

bool IsQuietError(const error_code& error) {
  return error == http::error::end_of_stream || error == net::error::eof ||
         error == net::error::operation_aborted || error == beast::error::timeout ||
         error == net::error::connection_reset || error == net::error::broken_pipe ||
         error == net::ssl::error::stream_truncated;
}

template <class Stream>
Awaitable<void> ServeConnection(Worker& worker, Stream& stream, IoDeadline& deadline,
                                     std::string peer_ip, bool tls) {
  const auto& config = worker.shared.config->config;
  beast::flat_buffer buffer;
  auto& lowest = beast::get_lowest_layer(stream);
  // The header limit covers the request line: max_uri_bytes + max_header_bytes, and each part is
  // checked on its own after parsing.
  const auto header_limit =
      static_cast<std::uint32_t>(std::min<std::int64_t>(config.server.max_uri_bytes + config.server.max_header_bytes + 64,
                                                        std::numeric_limits<std::uint32_t>::max()));
  bool waiting = false;
  struct Registration {
    Worker& worker;
    Socket* socket;
    ~Registration() { worker.sessions.erase(socket); }
  } registration{worker, &lowest};
  worker.sessions.emplace(&lowest, &waiting);
  ConnectionMemo memo;
  for (;;) {
    ArenaParser<RequestParser> slot(worker.arena_blocks);
    RequestParser& parser = slot.parser;
    parser.header_limit(header_limit);
    if (config.server.max_body_bytes > 0) {
      parser.body_limit(static_cast<std::uint64_t>(config.server.max_body_bytes));
    } else {
      parser.body_limit(boost::none);
    }
    if (worker.shared.draining.load(std::memory_order_relaxed)) {
      break;
    }
    deadline.Set(std::chrono::milliseconds(config.server.idle_timeout_ms));
    waiting = true;
    // The head is read here, not in a coroutine of its own: one frame fewer per request.
    RequestHeadReader reader(header_limit);
    error_code error;
    while (!reader.Parse(buffer, parser, error)) {
      auto [read_error, n] =
          co_await stream.async_read_some(buffer.prepare(beast::read_size(buffer, 65536)), kTuple);
      if (read_error) {
        error = RequestHeadReader::ReadFailed(read_error, buffer);
        break;
      }
      buffer.commit(n);
    }
    waiting = false;
    deadline.Clear();
    if (error) {
      // got_some(): the parser may have consumed every byte it was given (a Content-Length
      // past max_body_bytes fails once the header is complete); the client still gets its 413.
      if (!IsQuietError(error) && (buffer.size() > 0 || parser.got_some())) {
        co_await RejectUnparsed(worker, stream, deadline, buffer, error, peer_ip,
                                !parser.get().target().empty());
      }
      break;
    }
    const auto& header = parser.get();
    const HeaderFacts facts = ScanHeader(header);
    const std::size_t header_bytes = facts.field_bytes;  // without the request line
    Exchange exchange;
    exchange.client = &deadline;
    exchange.facts = &facts;
    exchange.start = Clock::now();
    exchange.request_time = worker.wall_clock.At(exchange.start);
    base::SingleWriterAdd(worker.active_requests, 1);
    bool keep = false;
    if (header_bytes > static_cast<std::size_t>(config.server.max_header_bytes)) {
      exchange.method = std::string(header.method_string());
      exchange.log_path = "-";
      exchange.correlation_id = IsSaneCorrelationId(facts.correlation_id)
                                    ? std::string(facts.correlation_id)
                                    : NewCorrelationId(worker.rng);
      co_await SendFault(stream, worker.shared, exchange,
                         http::status::request_header_fields_too_large, 431,
                         "Request Header Fields Too Large", "The request header is too large", false,
                         header.version());
    } else {
      keep = co_await HandleRequest(worker, stream, buffer, parser, exchange, memo, peer_ip, tls);
    }
    FinishExchange(worker, exchange, peer_ip);
    base::SingleWriterAdd(worker.active_requests, -1);
    if (!keep) {
      break;
    }
  }
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    deadline.Set(std::chrono::seconds(2));
    co_await stream.async_shutdown(kTuple);
    deadline.Clear();
  } else {
    error_code ignored;
    stream.shutdown(Socket::shutdown_send, ignored);
  }
}

Awaitable<void> Session(Worker& worker, Socket socket, bool tls) {
  worker.shared.connections.fetch_add(1, std::memory_order_relaxed);
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string peer_ip = ec ? std::string("-") : remote.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  try {
    if (tls) {
      TlsStream stream(std::move(socket), *worker.shared.server_tls);
      IoDeadline deadline(beast::get_lowest_layer(stream));
      deadline.Set(kTlsHandshakeTimeout);
      auto [handshake_error] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
      deadline.Clear();
      if (!handshake_error) {
        co_await ServeConnection(worker, stream, deadline, peer_ip, true);
      }
    } else {
      PlainStream stream(std::move(socket));
      IoDeadline deadline(stream);
      co_await ServeConnection(worker, stream, deadline, peer_ip, false);
    }
  } catch (const std::exception& e) {
    base::LogError(std::string("connection from ") + peer_ip + " ended by an internal error: " + e.what());
  }
  worker.shared.connections.fetch_sub(1, std::memory_order_relaxed);
}

Awaitable<void> AcceptLoop(Worker& worker, Acceptor& acceptor, bool tls) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      // EMFILE and friends: wait a little instead of spinning.
      Timer timer(worker.io);
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(kTuple);
      continue;
    }
    net::co_spawn(worker.io, Session(worker, std::move(socket), tls), net::detached);
  }
}

// ---------------------------------------------------------------------------------------------
// The admin listener: /health, /ready.

Awaitable<void> AdminSession(Worker& worker, Socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) {
      break;
    }
    request = parser.release();
    const auto target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    http::response<http::string_body> response;
    response.version(request.version());
    response.set(http::field::content_type, "application/json");
    response.set(http::field::server, "mgw");
    if (path == "/health") {
      response.result(http::status::ok);
      response.body() = R"({"status":"healthy"})";
    } else if (path == "/ready") {
      const bool draining = worker.shared.draining.load(std::memory_order_relaxed);
      response.result(draining ? http::status::service_unavailable : http::status::ok);
      response.body() = draining ? R"({"status":"draining"})" : R"({"status":"ready"})";
    } else if (path == "/metrics") {
      const Shared& shared = worker.shared;
      MetricsGauges gauges;
      gauges.connections_active = shared.connections.load(std::memory_order_relaxed);
      for (const auto* queue : shared.queues) {
        gauges.analytics_dropped += queue->Dropped();
      }
      if (shared.analytics) {
        gauges.analytics_files_dropped = shared.analytics->FilesDropped();
        gauges.analytics_written = shared.analytics->EventsWritten();
      }
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response.body() = RenderMetrics(*shared.metric_slots, shared.shards, gauges);
    } else {
      response.result(http::status::not_found);
      response.body() = FaultBody(404, "Not Found", "The admin port serves /health, /ready and /metrics");
    }
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [write_error, written] = co_await http::async_write(stream, response, kTuple);
    if (write_error || !request.keep_alive()) {
      break;
    }
  }
  error_code ignored;
  stream.socket().shutdown(Socket::shutdown_send, ignored);
}

Awaitable<void> AdminAcceptLoop(Worker& worker, Acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) {
        co_return;
      }
      continue;
    }
    net::co_spawn(worker.io, AdminSession(worker, std::move(socket)), net::detached);
  }
}

Awaitable<void> FlushLoop(Worker& worker) {
  Timer timer(worker.io);
  std::uint64_t ticks = 0;
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(200));
    auto [ec] = co_await timer.async_wait(kTuple);
    worker.access_log.Flush();
    if (worker.index == 0 && ++ticks % 25 == 0) {  // every ~5 s: reclaim ended windows
      worker.shared.counters->Sweep(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    }
    if (ec || (worker.shared.draining.load() && worker.acceptors.empty())) {
      co_return;
    }
  }
}

base::Result<Acceptor> Listen(net::io_context& io, const std::string& host, int port,
                                   bool reuse_port) {
  error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) {
    return base::MakeError("\"" + host + "\" is not an IP address");
  }
  Acceptor acceptor(io);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(Acceptor::reuse_address(true), ec);
  }
  if (!ec && reuse_port) {
    const int one = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec = error_code(errno, boost::system::system_category());
    }
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return base::MakeError("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                           ec.message());
  }
  return acceptor;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Server::Impl {
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<Acceptor> admin;
  int access_fd = -1;
  bool owns_access_fd = false;
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_ && impl_->owns_access_fd && impl_->access_fd >= 0) {
    ::close(impl_->access_fd);
  }
}

base::Result<std::unique_ptr<Server>> Server::Start(std::shared_ptr<const GatewayConfig> config) {
  auto impl = std::make_unique<Impl>();
  impl->shared.config = config;
  const auto& server = config->config.server;

  // Access log.
  const auto& access = config->config.log.access_log;
  if (access == "-") {
    impl->access_fd = 1;
  } else if (!access.empty()) {
    const auto path = std::filesystem::path(access).is_absolute() ? std::filesystem::path(access)
                                                                  : config->root / access;
    std::error_code fs_error;
    std::filesystem::create_directories(path.parent_path(), fs_error);
    impl->access_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (impl->access_fd < 0) {
      return base::MakeError("cannot open access log " + path.string() + ": " + std::strerror(errno));
    }
    impl->owns_access_fd = true;
  }

  // Downstream TLS.
  const bool https = server.tls.has_value() && server.https_port != 0;
  if (https) {
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                         ssl::context::single_dh_use);
    auto resolve = [&](const std::string& p) {
      return std::filesystem::path(p).is_absolute() ? std::filesystem::path(p) : config->root / p;
    };
    error_code ec;
    context->use_certificate_chain_file(resolve(server.tls->cert).string(), ec);
    if (ec) {
      return base::MakeError("server.tls.cert: cannot load " + server.tls->cert + ": " + ec.message());
    }
    context->use_private_key_file(resolve(server.tls->key).string(), ssl::context::pem, ec);
    if (ec) {
      return base::MakeError("server.tls.key: cannot load " + server.tls->key + ": " + ec.message());
    }
    impl->shared.server_tls = std::move(context);
  }

  impl->shared.blocking_pool = std::make_unique<net::thread_pool>(2);
  impl->shared.metric_slots = std::make_unique<MetricSlots>(*config);
  impl->shared.policies = std::make_unique<ratelimit::Policies>(config->model.policies);
  if (config->config.rate_limit.store == "redis") {
    auto target = ParseRedisUrl(config->config.rate_limit.redis_url);
    if (!target) {
      return target.error();
    }
    impl->shared.redis_target = *target;
    impl->shared.redis_health = std::make_shared<RedisHealth>();
    base::LogInfo("rate-limit counters are shared through Redis at " + target->host + ":" +
                  target->port + " (on failure: " + config->config.rate_limit.on_store_failure + ")");
  }
  impl->shared.counters = std::make_unique<ratelimit::CounterTable>(
      static_cast<std::size_t>(config->config.rate_limit.max_keys));
  for (const auto& proxy : config->config.rate_limit.trusted_proxies) {
    error_code ec;
    std::string text = proxy;
    if (text.find('/') == std::string::npos) {
      text += text.find(':') == std::string::npos ? "/32" : "/128";
    }
    const auto slash = text.find('/');
    auto address = net::ip::make_address(text.substr(0, slash), ec);
    const int prefix = std::atoi(text.c_str() + slash + 1);
    if (ec || prefix < 0 || prefix > (address.is_v4() ? 32 : 128)) {
      return base::MakeError("rate_limit.trusted_proxies: \"" + proxy + "\" is not an IP address or CIDR");
    }
    if (address.is_v4()) {
      impl->shared.trusted_proxies.emplace_back(
          net::ip::make_address_v6(net::ip::v4_mapped, address.to_v4()), prefix + 96);
    } else {
      impl->shared.trusted_proxies.emplace_back(address.to_v6(), prefix);
    }
  }
  impl->shared.authenticator =
      std::make_unique<Authenticator>(config->model.security, config->config.auth);
  for (const auto& warning : impl->shared.authenticator->Warnings()) {
    base::LogWarn(warning);
  }

  int workers = server.workers;
  if (workers <= 0) {
    workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  int http_port = server.http_port;
  int https_port = server.https_port;
  for (int i = 0; i < workers; ++i) {
    auto worker = std::make_unique<Worker>(impl->shared, i, impl->access_fd);
    worker->client_tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    worker->client_tls->set_default_verify_paths();
    if (!config->config.upstream.ca_file.empty()) {
      const auto& ca = config->config.upstream.ca_file;
      const auto path = std::filesystem::path(ca).is_absolute() ? std::filesystem::path(ca) : config->root / ca;
      error_code ec;
      worker->client_tls->load_verify_file(path.string(), ec);
      if (ec) {
        return base::MakeError("upstream.ca_file: cannot load " + ca + ": " + ec.message());
      }
    }
    worker->client_tls_no_verify = std::make_unique<ssl::context>(ssl::context::tls_client);
    auto http = Listen(worker->io, server.host, http_port, true);
    if (!http) {
      return http.error();
    }
    if (http_port == 0) {
      http_port = http->local_endpoint().port();  // every worker shares the chosen port
    }
    worker->acceptors.push_back(std::move(*http));
    if (https) {
      auto secure = Listen(worker->io, server.host, https_port, true);
      if (!secure) {
        return secure.error();
      }
      if (https_port == 0) {
        https_port = secure->local_endpoint().port();
      }
      worker->acceptors.push_back(std::move(*secure));
    }
    worker->metrics = std::make_unique<MetricsShard>(impl->shared.metric_slots->Count());
    impl->shared.shards.push_back(worker->metrics.get());
    if (config->config.analytics.enabled) {
      // Up to 32 MiB of lines per worker (about 60,000 events, a second at this machine's rate
      // for one worker: room for the writer's fsync at rotation), taken 256 KiB at a time.
      worker->events = std::make_unique<analytics::EventQueue>(256 * 1024, 128);
      impl->shared.queues.push_back(worker->events.get());
    }
    if (impl->shared.redis_health) {
      worker->redis = std::make_unique<RedisStore>(worker->io.get_executor(), *impl->shared.blocking_pool,
                                                   impl->shared.redis_target,
                                                   impl->shared.redis_health);
    }
    impl->workers.push_back(std::move(worker));
  }
  if (config->config.analytics.enabled) {
    const auto& a = config->config.analytics;
    analytics::WriterOptions options;
    options.dir = std::filesystem::path(a.dir).is_absolute() ? std::filesystem::path(a.dir)
                                                            : config->root / a.dir;
    options.rotate_bytes = a.rotate_bytes;
    options.rotate_interval_s = a.rotate_interval_s;
    options.max_disk_bytes = a.max_disk_bytes;
    options.upload_url = a.upload_url;
    options.upload_interval_s = a.upload_interval_s;
    std::vector<analytics::EventQueue*> queues;
    for (auto& worker : impl->workers) {
      queues.push_back(worker->events.get());
    }
    impl->shared.analytics = std::make_unique<analytics::Writer>(options, queues);
  }
  if (config->config.admin.port != 0) {
    auto admin = Listen(impl->workers[0]->io, config->config.admin.host, config->config.admin.port, false);
    if (!admin) {
      return admin.error();
    }
    impl->admin = std::make_unique<Acceptor>(std::move(*admin));
  }
  base::LogInfo("listening on http://" + server.host + ":" + std::to_string(http_port) + " (" +
                std::to_string(workers) + " workers)");
  if (https) {
    base::LogInfo("listening on https://" + server.host + ":" + std::to_string(https_port));
  }
  if (impl->admin) {
    base::LogInfo("admin listening on http://" + config->config.admin.host + ":" +
                  std::to_string(impl->admin->local_endpoint().port()) +
                  " (/health, /ready, /metrics)");
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::Run() {
  auto& impl = *impl_;
  if (impl.shared.analytics) {
    if (auto started = impl.shared.analytics->Start(); !started) {
      base::LogError("analytics: " + started.error().message);
      return 1;
    }
  }
  for (auto& worker : impl.workers) {
    for (std::size_t i = 0; i < worker->acceptors.size(); ++i) {
      const bool tls = i == 1;
      net::co_spawn(worker->io, AcceptLoop(*worker, worker->acceptors[i], tls), net::detached);
    }
    net::co_spawn(worker->io, FlushLoop(*worker), net::detached);
    if (worker->redis) {
      net::co_spawn(worker->io, worker->redis->Maintain(), net::detached);
    }
  }
  if (impl.admin) {
    net::co_spawn(impl.workers[0]->io, AdminAcceptLoop(*impl.workers[0], *impl.admin), net::detached);
  }
  net::co_spawn(impl.workers[0]->io,
                impl.shared.authenticator->RefreshJwks(*impl.workers[0], impl.shared.draining),
                net::detached);

  // Each worker's inbox keeps its loop running while it has nothing else to do.
  std::vector<std::thread> threads;
  for (auto& worker : impl.workers) {
    threads.emplace_back([&worker] { worker->io.run(); });
  }

  // Wait for SIGTERM / SIGINT on this thread.
  net::io_context signals_io(1);
  net::signal_set signals(signals_io, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const error_code&, int signal_number) { received = signal_number; });
  signals_io.run();
  base::LogInfo(std::string("received ") + (received == SIGINT ? "SIGINT" : "SIGTERM") +
                ": draining (up to " + std::to_string(impl.shared.config->config.server.drain_timeout_ms) +
                " ms)");

  impl.shared.draining.store(true);
  for (auto& worker : impl.workers) {
    PostToLoop(worker->io, [&worker] {
      for (auto& acceptor : worker->acceptors) {
        error_code ignored;
        acceptor.close(ignored);
      }
      for (const auto& [socket, waiting] : worker->sessions) {
        if (*waiting) {
          error_code ignored;
          socket->cancel(ignored);
        }
      }
      worker->pool.clear();
    });
  }
  // Idle sessions registered after the first sweep (a response finished meanwhile) see the
  // draining flag themselves; in-flight requests get until the drain deadline.
  const auto deadline = Clock::now() +
                        std::chrono::milliseconds(impl.shared.config->config.server.drain_timeout_ms);
  const auto active = [&impl] {
    int n = 0;
    for (const auto& worker : impl.workers) {
      n += worker->active_requests.load(std::memory_order_relaxed);
    }
    return n;
  };
  while (active() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const bool clean = active() == 0;
  if (impl.admin) {
    PostToLoop(impl.workers[0]->io, [&impl] {
      error_code ignored;
      impl.admin->close(ignored);
    });
  }
  for (auto& worker : impl.workers) {
    PostToLoop(worker->io, [&worker] { worker->access_log.Flush(); });
  }
  for (auto& worker : impl.workers) {
    if (worker->redis) {
      PostToLoop(worker->io, [&worker] { worker->redis->Close(); });
    }
  }
  for (auto& worker : impl.workers) {
    PostToLoop(worker->io, [&worker] { worker->io.stop(); });  // after the steps posted above
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (auto& worker : impl.workers) {
    worker->access_log.Flush();
  }
  impl.shared.blocking_pool->join();
  if (impl.shared.analytics) {
    impl.shared.analytics->Stop();  // writes what is queued and closes the file
  }
  base::LogInfo(clean ? "drained; exiting" : "drain deadline passed with requests in flight; exiting");
  return 0;
}

}  // namespace mgw::runtime
