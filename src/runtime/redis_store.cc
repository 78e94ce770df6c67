#include "runtime/redis_store.h"

#include <hiredis/hiredis.h>

#include <array>
#include <deque>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/url/parse.hpp>

#include "base/log.h"

namespace mgw::runtime {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

constexpr auto kReplyTimeout = std::chrono::milliseconds(250);
constexpr auto kConnectTimeout = std::chrono::milliseconds(1000);
constexpr auto kReconnectPause = std::chrono::milliseconds(1000);

// Checks every level before counting any; counts all or none. KEYS: one per level; ARGV: per
// level limit, ttl (ms), stop (1/0). Returns {rejected level (1-based, 0 = none), then count and
// pttl per level}.
constexpr const char* kScript = R"lua(
local n = #KEYS
for i = 1, n do
  local c = tonumber(redis.call('GET', KEYS[i]) or '0')
  local limit = tonumber(ARGV[(i - 1) * 3 + 1])
  if ARGV[(i - 1) * 3 + 3] == '1' and c >= limit then
    local out = {i}
    for j = 1, n do
      out[#out + 1] = tonumber(redis.call('GET', KEYS[j]) or '0')
      out[#out + 1] = redis.call('PTTL', KEYS[j])
    end
    return out
  end
end
local out = {0}
for i = 1, n do
  local c = redis.call('INCR', KEYS[i])
  if c == 1 then redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[(i - 1) * 3 + 2])) end
  out[#out + 1] = c
  out[#out + 1] = redis.call('PTTL', KEYS[i])
end
return out
)lua";

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ReaderDeleter {
  void operator()(redisReader* reader) const { redisReaderFree(reader); }
};

struct Pending {
  explicit Pending(Executor executor) : timer(executor) {}
  Timer timer;
  ReplyPtr reply;
  bool done = false;
  bool abandoned = false;
};

std::string Format(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* command = nullptr;
  const int length =
      redisFormatCommandArgv(&command, static_cast<int>(argv.size()), argv.data(), lengths.data());
  std::string out;
  if (length > 0 && command != nullptr) {
    out.assign(command, static_cast<std::size_t>(length));
  }
  redisFreeCommand(command);
  return out;
}

// Built outside coroutines: GCC 12 miscompiles braced lists of string literals in coroutine
// frames ("array used as initializer").
std::vector<std::string> Command(std::string_view name, std::string argument) {
  std::vector<std::string> out;
  out.emplace_back(name);
  out.push_back(std::move(argument));
  return out;
}

std::string ScriptError(const char* text) {
  std::string out = "script error: ";
  out += text;
  return out;
}

std::string CounterKey(std::string_view key, bool burst, std::int64_t window) {
  std::string out = "mgw:";
  out += key;
  out += burst ? "#burst:" : ":";
  out += std::to_string(window);
  return out;
}

std::vector<std::string> EvalHeader(std::size_t keys) {
  std::vector<std::string> out;
  out.emplace_back("EVAL");
  out.emplace_back(kScript);
  out.push_back(std::to_string(keys));
  return out;
}

}  // namespace

base::Result<RedisTarget> ParseRedisUrl(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "redis")) {
    return base::MakeError("rate_limit.redis_url \"" + url + "\" is not a redis:// URL");
  }
  RedisTarget target;
  if (!parsed->host().empty()) {
    target.host = std::string(parsed->host());
  }
  if (parsed->has_port()) {
    target.port = std::string(parsed->port());
  }
  if (parsed->has_password()) {
    target.password = std::string(parsed->password());
  }
  std::string path(parsed->path());
  if (path.size() > 1) {
    target.database = std::atoi(path.c_str() + 1);
  }
  return target;
}

struct RedisStore::Impl {
  Impl(Executor e, boost::asio::thread_pool& pool, RedisTarget t, std::shared_ptr<RedisHealth> h)
      : executor(e), blocking_pool(pool), target(std::move(t)), health(std::move(h)), socket(e) {}

  Executor executor;
  boost::asio::thread_pool& blocking_pool;  // name resolution (the loop cannot resolve)
  RedisTarget target;
  std::shared_ptr<RedisHealth> health;
  Socket socket;
  bool connected = false;
  std::deque<std::shared_ptr<Pending>> pending;
  std::string write_buffer;
  bool writing = false;
  std::unique_ptr<redisReader, ReaderDeleter> reader;
  std::array<char, 16 * 1024> read_buffer{};  // not a local: GCC 12 rejects arrays in coroutine frames

  void FailAll() {
    connected = false;
    error_code ignored;
    socket.close(ignored);
    for (auto& p : pending) {
      p->done = false;
      p->timer.cancel();
    }
    pending.clear();
    write_buffer.clear();
  }

  void ReportOutage(const std::string& why) {
    if (!health->outage.exchange(true)) {
      base::LogWarn("Redis at " + target.host + ":" + target.port + " is unreachable (" + why +
                    "); rate limiting follows rate_limit.on_store_failure until it is back");
    }
  }

  // An answer ends the outage, whether it came on a new connection or on one that had stalled.
  void ReportAnswer() {
    if (health->outage.load(std::memory_order_relaxed) && health->outage.exchange(false)) {
      base::LogInfo("Redis at " + target.host + ":" + target.port + " is reachable again");
    }
  }

  Awaitable<void> Flush() {
    if (writing) {
      co_return;
    }
    writing = true;
    while (!write_buffer.empty() && connected) {
      std::string chunk;
      chunk.swap(write_buffer);
      auto [ec, n] = co_await net::async_write(socket, net::buffer(chunk), kTuple);
      if (ec) {
        FailAll();
        break;
      }
    }
    writing = false;
  }

  // Sends a command and waits for its reply (bounded by kReplyTimeout).
  Awaitable<ReplyPtr> Call(const std::vector<std::string>& args) {
    if (!connected) {
      co_return nullptr;
    }
    auto request = std::make_shared<Pending>(executor);
    request->timer.expires_after(kReplyTimeout);
    pending.push_back(request);
    write_buffer += Format(args);
    net::co_spawn(executor, Flush(), net::detached);
    co_await request->timer.async_wait(kTuple);
    if (!request->done) {
      request->abandoned = true;  // a late reply is read and dropped
      co_return nullptr;
    }
    co_return std::move(request->reply);
  }

  Awaitable<void> ReadLoop() {
    while (connected) {
      auto [ec, n] = co_await socket.async_read_some(net::buffer(read_buffer), kTuple);
      if (ec) {
        if (!health->stopping.load()) {
          ReportOutage(ec.message());
        }
        FailAll();
        co_return;
      }
      redisReaderFeed(reader.get(), read_buffer.data(), n);
      while (true) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK) {
          ReportOutage("protocol error");
          FailAll();
          co_return;
        }
        if (raw == nullptr) {
          break;
        }
        ReplyPtr reply(static_cast<redisReply*>(raw));
        if (pending.empty()) {
          continue;
        }
        auto request = pending.front();
        pending.pop_front();
        if (!request->abandoned) {
          request->reply = std::move(reply);
          request->done = true;
          request->timer.cancel();
        }
      }
    }
  }

  Awaitable<bool> Connect() {
    PoolResolver resolver(blocking_pool);
    auto [resolve_error, endpoints] = co_await resolver.async_resolve(target.host, target.port, kTuple);
    if (resolve_error) {
      ReportOutage(resolve_error.message());
      co_return false;
    }
    socket = Socket(executor);
    Timer deadline(executor);
    deadline.expires_after(kConnectTimeout);
    deadline.async_wait([this](error_code ec) {
      if (!ec) {
        error_code ignored;
        socket.cancel(ignored);
      }
    });
    auto [connect_error, endpoint] = co_await net::async_connect(socket, endpoints, kTuple);
    deadline.cancel();
    if (connect_error) {
      ReportOutage(connect_error.message());
      co_return false;
    }
    socket.set_option(tcp::no_delay(true));
    reader.reset(redisReaderCreate());
    connected = true;
    net::co_spawn(executor, ReadLoop(), net::detached);
    if (!target.password.empty()) {
      auto reply = co_await Call(Command("AUTH", target.password));
      if (!reply || reply->type == REDIS_REPLY_ERROR) {
        ReportOutage("AUTH failed");
        FailAll();
        co_return false;
      }
    }
    if (target.database != 0) {
      auto reply = co_await Call(Command("SELECT", std::to_string(target.database)));
      if (!reply || reply->type == REDIS_REPLY_ERROR) {
        ReportOutage("SELECT failed");
        FailAll();
        co_return false;
      }
    }
    ReportAnswer();
    co_return true;
  }
};

RedisStore::RedisStore(Executor executor, boost::asio::thread_pool& blocking_pool,
                       RedisTarget target, std::shared_ptr<RedisHealth> health)
    : impl_(std::make_unique<Impl>(executor, blocking_pool, std::move(target), std::move(health))) {}

RedisStore::~RedisStore() = default;

void RedisStore::Close() {
  impl_->health->stopping.store(true);
  impl_->FailAll();
}

Awaitable<void> RedisStore::Maintain() {
  Timer pause(impl_->executor);
  while (!impl_->health->stopping.load()) {
    if (!impl_->connected) {
      co_await impl_->Connect();
    }
    pause.expires_after(impl_->connected ? std::chrono::milliseconds(200) : kReconnectPause);
    co_await pause.async_wait(kTuple);
  }
}

Awaitable<std::optional<ratelimit::Decision>> RedisStore::Decide(
    const std::vector<ratelimit::Check>& checks, std::int64_t now_ms) {
  // Expand bursts into their own one-second levels.
  struct Entry {
    std::size_t check;
    bool burst;
    ratelimit::Limit limit;
  };
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (checks[i].limit->burst > 0) {
      entries.push_back({i, true, ratelimit::Limit{checks[i].limit->burst, 1, true, 0}});
    }
    entries.push_back({i, false, *checks[i].limit});
  }
  std::vector<std::string> args = EvalHeader(entries.size());
  std::vector<std::int64_t> window_ends;
  for (const auto& e : entries) {
    const std::int64_t width = e.limit.window_seconds * 1000;
    const std::int64_t window = now_ms / width;
    window_ends.push_back((window + 1) * width);
    args.push_back(CounterKey(checks[e.check].key, e.burst, window));
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    args.push_back(std::to_string(e.limit.count));
    args.push_back(std::to_string(window_ends[i] - now_ms + 1000));
    args.push_back(std::to_string(e.limit.stop_on_quota ? 1 : 0));
  }
  auto reply = co_await impl_->Call(args);
  if (!reply || reply->type != REDIS_REPLY_ARRAY ||
      reply->elements != 1 + 2 * entries.size()) {
    if (reply && reply->type == REDIS_REPLY_ERROR) {
      impl_->ReportOutage(ScriptError(reply->str));
    } else if (!reply) {
      impl_->ReportOutage("no answer in time");
    }
    co_return std::nullopt;
  }
  impl_->ReportAnswer();
  ratelimit::Decision decision;
  decision.states.resize(checks.size());
  const auto rejected_entry = static_cast<int>(reply->element[0]->integer) - 1;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::int64_t count = reply->element[1 + 2 * i]->integer;
    const std::int64_t pttl = reply->element[2 + 2 * i]->integer;
    ratelimit::LevelState state;
    state.limit = e.limit.count;
    state.remaining = std::max<std::int64_t>(0, e.limit.count - count);
    state.reset_seconds = pttl > 0 ? (pttl - 1000 + 999) / 1000 : (window_ends[i] - now_ms + 999) / 1000;
    state.reset_seconds = std::max<std::int64_t>(0, state.reset_seconds);
    state.over_quota = count > e.limit.count;
    if (!e.burst || static_cast<int>(i) == rejected_entry) {
      decision.states[e.check] = state;
    }
  }
  if (rejected_entry >= 0) {
    decision.allowed = false;
    decision.rejected = static_cast<int>(entries[rejected_entry].check);
  }
  ratelimit::MarkMostRestrictive(decision);
  co_return decision;
}

}  // namespace mgw::runtime
