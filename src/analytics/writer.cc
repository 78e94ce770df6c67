#include "analytics/writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>

#include <curl/curl.h>

#include "base/files.h"
#include "base/log.h"

namespace mgw::analytics {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kWritebackBytes = std::int64_t{8} << 20;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ClosedName(std::uint64_t sequence) {
  const std::int64_t ms = NowMs();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
  char name[128];
  std::snprintf(name, sizeof name, "events-%s.%03dZ-%d-%06llu.jsonl", stamp,
                static_cast<int>(ms % 1000), static_cast<int>(::getpid()),
                static_cast<unsigned long long>(sequence));  // NOLINT(google-runtime-int)
  return name;
}

// A closed-file path that does not exist yet: a rename must never replace earlier events (two
// writers of one process can close files within the same millisecond).
fs::path FreshClosedPath(const fs::path& dir, std::uint64_t& sequence) {
  std::error_code ec;
  for (;;) {
    fs::path candidate = dir / ClosedName(sequence++);
    if (!fs::exists(candidate, ec)) {
      return candidate;
    }
  }
}

std::vector<fs::path> ClosedFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && IsClosedEventFile(entry.path())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());  // names start with the UTC time: oldest first
  return files;
}

bool Gzip(const std::string& input, std::string& output) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  output.resize(deflateBound(&stream, input.size()) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(output.data());
  stream.avail_out = static_cast<uInt>(output.size());
  const int result = deflate(&stream, Z_FINISH);
  output.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

std::size_t DiscardBody(char*, std::size_t size, std::size_t count, void*) { return size * count; }

// libcurl calls this about once a second (and on progress): non-zero aborts the transfer, so a
// collector that never answers does not hold up Stop().
int AbortWhenStopping(void* stopping, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(stopping)->load() ? 1 : 0;
}

}  // namespace

bool IsClosedEventFile(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.rfind("events-", 0) == 0 && path.extension() == ".jsonl";
}

Writer::Writer(WriterOptions options, std::vector<EventQueue*> queues)
    : options_(std::move(options)), queues_(std::move(queues)) {}

Writer::~Writer() { Stop(); }

base::Status Writer::Start() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) {
    return base::MakeError("analytics.dir " + options_.dir.string() + ": " + ec.message());
  }
  // A file left open by a previous run is closed now, so its events are kept and uploaded.
  const fs::path open = options_.dir / kOpenFileName;
  if (fs::exists(open, ec)) {
    // A crash in the middle of a write may have left half a line at the end: keep whole lines.
    std::uintmax_t keep = 0;
    if (auto text = base::ReadFile(open)) {
      const auto last = text->rfind('\n');
      keep = last == std::string::npos ? 0 : last + 1;
      if (keep < text->size()) {
        base::LogWarn("analytics: " + std::to_string(text->size() - keep) +
                      " bytes of an unfinished event dropped from " + open.string());
        fs::resize_file(open, keep, ec);
      }
    }
    if (keep > 0) {
      fs::rename(open, FreshClosedPath(options_.dir, sequence_), ec);
    } else {
      fs::remove(open, ec);
    }
  }
  fd_ = ::open(open.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return base::MakeError("cannot open " + open.string() + ": " + std::strerror(errno));
  }
  file_bytes_ = 0;
  file_opened_ms_ = NowMs();
  writer_ = std::thread([this] { WriteLoop(); });
  if (!options_.upload_url.empty()) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    uploader_ = std::thread([this] { UploadLoop(); });
  }
  return {};
}

void Writer::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
  }
  abort_uploads_.store(true);
  wake_.notify_all();
  if (writer_.joinable()) {
    writer_.join();
  }
  if (uploader_.joinable()) {
    uploader_.join();
  }
  if (fd_ >= 0) {
    while (DrainOnce()) {
    }
    Rotate();
    ::close(fd_);
    fd_ = -1;
    std::error_code ec;
    const fs::path open = options_.dir / kOpenFileName;
    if (fs::exists(open, ec) && fs::file_size(open, ec) == 0) {
      fs::remove(open, ec);
    }
  }
}

bool Writer::DrainOnce() {
  bool more = false;
  for (EventQueue* queue : queues_) {
    // At most ~1 MiB per queue and pass, so that one busy worker does not starve the others. The
    // lines go to the file from the queue's blocks, where the worker wrote them.
    queue->Drain(1 << 20, [this](std::string_view lines, std::uint64_t count) {
      WriteLines(lines);
      written_.fetch_add(count);
    });
    more = more || !queue->Empty();
  }
  return more;
}

void Writer::WriteLines(std::string_view lines) {
  const auto rotate_bytes =
      static_cast<std::size_t>(std::max<std::int64_t>(0, options_.rotate_bytes));
  while (!lines.empty()) {
    std::size_t take = lines.size();
    const auto file_bytes = static_cast<std::size_t>(file_bytes_);
    if (file_bytes + take > rotate_bytes) {
      // The whole lines that still fit; none: a fresh file; a line longer than a whole file has
      // one of its own.
      const std::size_t room = file_bytes < rotate_bytes ? rotate_bytes - file_bytes : 0;
      const std::size_t fit = lines.substr(0, room).rfind('\n');
      if (fit != std::string_view::npos) {
        take = fit + 1;
      } else if (file_bytes > 0) {
        Rotate();
        continue;
      } else {
        take = lines.find('\n') + 1;  // lines end in '\n'
      }
    }
    const char* data = lines.data();
    std::size_t left = take;
    while (left > 0 && fd_ >= 0) {
      const ssize_t n = ::write(fd_, data, left);
      if (n <= 0) {
        base::LogError(std::string("analytics: cannot write events: ") + std::strerror(errno));
        break;
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    file_bytes_ += static_cast<std::int64_t>(take - left);
    lines.remove_prefix(take);
  }
  StartWriteback();
}

void Writer::StartWriteback() {
  if (fd_ < 0 || file_bytes_ - writeback_from_ < kWritebackBytes) {
    return;
  }
  // Pages still dirty or under write-back are left alone by POSIX_FADV_DONTNEED; Rotate drops
  // them after its fsync. Both calls are advice: a failure loses nothing.
  if (writeback_from_ > dropped_to_) {
    ::posix_fadvise(fd_, dropped_to_, writeback_from_ - dropped_to_, POSIX_FADV_DONTNEED);
    dropped_to_ = writeback_from_;
  }
  ::sync_file_range(fd_, writeback_from_, file_bytes_ - writeback_from_, SYNC_FILE_RANGE_WRITE);
  writeback_from_ = file_bytes_;
}

void Writer::Rotate() {
  if (fd_ < 0 || file_bytes_ == 0) {
    file_opened_ms_ = NowMs();
    return;
  }
  ::fsync(fd_);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);  // clean now: see StartWriteback
  ::close(fd_);
  writeback_from_ = 0;
  dropped_to_ = 0;
  std::error_code ec;
  const fs::path open = options_.dir / kOpenFileName;
  fs::rename(open, FreshClosedPath(options_.dir, sequence_), ec);
  if (ec) {
    base::LogError("analytics: cannot close the event file: " + ec.message());
  }
  fd_ = ::open(open.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  file_bytes_ = 0;
  file_opened_ms_ = NowMs();
  EnforceDiskBound();
}

void Writer::EnforceDiskBound() {
  auto files = ClosedFiles(options_.dir);
  std::int64_t total = 0;
  std::error_code ec;
  for (const auto& file : files) {
    total += static_cast<std::int64_t>(fs::file_size(file, ec));
  }
  for (const auto& file : files) {
    if (total <= options_.max_disk_bytes) {
      break;
    }
    const auto size = static_cast<std::int64_t>(fs::file_size(file, ec));
    fs::remove(file, ec);
    total -= size;
    files_dropped_.fetch_add(1);
    base::LogWarn("analytics: " + file.filename().string() +
                  " dropped: event files exceed analytics.max_disk_bytes");
  }
}

void Writer::WriteLoop() {
  std::unique_lock lock(mutex_);
  bool more = false;
  int empty_passes = 0;  // passes in a row that found nothing to write
  while (!stopping_) {
    if (!more) {
      // Short passes, often, while events arrive: a pass takes the CPU from the workers for as
      // long as it runs (on a busy single core, a 100 ms backlog is a few milliseconds of stalled
      // requests). After a second without events, a pass every 100 ms: an idle gateway's writer
      // wakes 10 times a second, not 100, and the first events after a pause wait at most 100 ms
      // (a queue holds about a second of a busy worker's events).
      wake_.wait_for(lock, std::chrono::milliseconds(empty_passes >= 100 ? 100 : 10));
    }
    if (stopping_) {
      break;
    }
    lock.unlock();
    const std::uint64_t written = written_.load();
    more = DrainOnce();  // more queued than one pass takes: go on without waiting
    empty_passes = written_.load() == written ? std::min(empty_passes + 1, 100) : 0;
    if (file_bytes_ >= options_.rotate_bytes ||
        (file_bytes_ > 0 && NowMs() - file_opened_ms_ >= options_.rotate_interval_s * 1000)) {
      Rotate();
    }
    lock.lock();
  }
}

bool Writer::UploadFile(const fs::path& path) {
  auto contents = base::ReadFile(path);
  if (!contents) {
    return false;
  }
  std::string body;
  if (!Gzip(*contents, body)) {
    return false;
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    return false;
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/x-ndjson");
  list = curl_slist_append(list, "Content-Encoding: gzip");
  list = curl_slist_append(list, ("X-MGW-Batch-Id: " + path.filename().string()).c_str());
  headers.reset(list);
  curl_easy_setopt(curl.get(), CURLOPT_URL, options_.upload_url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &DiscardBody);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, &AbortWhenStopping);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &abort_uploads_);
  const CURLcode code = curl_easy_perform(curl.get());
  long status = 0;  // NOLINT(google-runtime-int): libcurl's type
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  return code == CURLE_OK && status >= 200 && status < 300;
}

void Writer::UploadLoop() {
  std::int64_t wait_s = options_.upload_interval_s;
  bool outage_logged = false;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool failed = false;
    for (const auto& file : ClosedFiles(options_.dir)) {
      {
        std::lock_guard check(mutex_);
        if (stopping_) {
          break;
        }
      }
      if (!UploadFile(file)) {
        std::error_code gone;
        if (abort_uploads_.load()) {
          break;  // Stop() aborted it: the file stays for the next run
        }
        if (!fs::exists(file, gone)) {
          continue;  // dropped by max_disk_bytes meanwhile (counted there): not an outage
        }
        failed = true;
        upload_failures_.fetch_add(1);
        break;  // keep the order: try again later, starting with this file
      }
      std::error_code ec;
      fs::remove(file, ec);  // only after the collector acknowledged it
      files_uploaded_.fetch_add(1);
    }
    if (failed && !outage_logged) {
      base::LogWarn("analytics: the collector at " + options_.upload_url +
                    " does not accept uploads; event files are kept and retried");
      outage_logged = true;
    } else if (!failed && outage_logged) {
      base::LogInfo("analytics: uploads to the collector resumed");
      outage_logged = false;
    }
    // Back off while the collector is down (up to 10 intervals).
    wait_s = failed ? std::min(wait_s * 2, options_.upload_interval_s * 10) : options_.upload_interval_s;
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(wait_s), [this] { return stopping_; });
  }
}

}  // namespace mgw::analytics
