#include "analytics/writer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "analytics/test_event.h"

namespace mgw::analytics {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// Queues of 64 KiB blocks with room for at least `events` of the events below (a line of one
// is under 2 KiB, its bound included: 32 per block).
constexpr std::size_t kBlockBytes = 64 * 1024;
constexpr std::size_t BlocksFor(std::size_t events) { return events / 32 + 2; }

// Event n, its correlation id "id-<n>".
EventWithId Numbered(std::uint64_t n) {
  Event e;
  e.event_type = "response";
  e.request_time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796045864123));  // 2026-11-30T13:37:44.123Z
  e.api_name = "Petstore";
  e.api_version = "1.0";
  e.api_context = "/petstore/v1";
  e.api_resource_template = "/pets/{petId}";
  e.http_method = "GET";
  e.end_user_ip = "127.0.0.1";
  e.user_agent = "writer-test";
  e.proxy_response_code = 200;
  e.target_response_code = 200;
  e.response_latency_ms = 1.5;
  e.request_size = n;
  e.destination = "http://127.0.0.1:1/";
  return EventWithId("id-" + std::to_string(n), e);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mgw-writer-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<fs::path> ClosedFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (IsClosedEventFile(entry.path())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The events of a file's text, by request_size (our sequence number). Sets `whole` to false
// when the text does not end in a newline or a line is not a JSON object.
std::vector<std::uint64_t> Sequence(const std::string& text, bool& whole) {
  std::vector<std::uint64_t> out;
  whole = text.empty() || text.back() == '\n';
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    boost::json::error_code ec;
    const auto value = boost::json::parse(std::string_view(text).substr(start, end - start), ec);
    if (ec || !value.is_object() || !value.get_object().contains("requestSize")) {
      whole = false;
    } else {
      out.push_back(value.get_object().at("requestSize").to_number<std::uint64_t>());
    }
    start = end + 1;
  }
  return out;
}

struct Collected {
  std::vector<std::uint64_t> ids;  // in file order
  std::size_t files = 0;
  std::int64_t largest_file = 0;
  std::int64_t total_bytes = 0;
  bool whole = true;
};

Collected Collect(const fs::path& dir) {
  Collected c;
  for (const auto& file : ClosedFiles(dir)) {
    const std::string text = Slurp(file);
    bool whole = true;
    const auto ids = Sequence(text, whole);
    c.whole = c.whole && whole && !text.empty();
    c.ids.insert(c.ids.end(), ids.begin(), ids.end());
    ++c.files;
    c.largest_file = std::max<std::int64_t>(c.largest_file, static_cast<std::int64_t>(text.size()));
    c.total_bytes += static_cast<std::int64_t>(text.size());
  }
  return c;
}

bool WaitFor(const std::function<bool()>& condition, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return condition();
}

WriterOptions Options(const fs::path& dir) {
  WriterOptions options;
  options.dir = dir;
  options.rotate_bytes = std::int64_t{64} << 20;
  options.rotate_interval_s = 3600;
  options.max_disk_bytes = std::int64_t{1} << 30;
  return options;
}

void ExpectExactly(const std::vector<std::uint64_t>& ids, std::uint64_t n) {
  std::vector<std::uint64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(sorted.size(), n);
  for (std::uint64_t i = 0; i < n; ++i) {
    ASSERT_EQ(sorted[i], i) << "event " << i << " lost or duplicated";
  }
}

TEST(AnalyticsWriter, RotationBySizeKeepsWholeLinesAndLosesNone) {
  TempDir tmp;
  EventQueue a(kBlockBytes, BlocksFor(1 << 16));
  EventQueue b(kBlockBytes, BlocksFor(1 << 16));
  auto options = Options(tmp.path());
  options.rotate_bytes = 4096;
  Writer writer(options, {&a, &b});
  ASSERT_TRUE(writer.Start());
  constexpr std::uint64_t kEvents = 3000;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_TRUE((i % 2 == 0 ? a : b).Push(Numbered(i)));
    if (i % 25 == 0) {
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  EXPECT_TRUE(WaitFor([&] { return writer.EventsWritten() == kEvents; }, seconds(30)));
  writer.Stop();
  EXPECT_FALSE(fs::exists(tmp.path() / kOpenFileName)) << "Stop() closes the open file";
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  ExpectExactly(c.ids, kEvents);
  EXPECT_GT(c.files, static_cast<std::size_t>(c.total_bytes / 4096));
  EXPECT_LE(c.largest_file, 4096);
  EXPECT_EQ(writer.EventsWritten(), kEvents);
  EXPECT_EQ(writer.FilesDropped(), 0u);
}

// Many events queued at once (a burst between two drains): files still stay within
// rotate_bytes, cut at line boundaries.
TEST(AnalyticsWriter, ABurstLargerThanRotateBytesIsCutAtLineBoundaries) {
  TempDir tmp;
  EventQueue queue(kBlockBytes, BlocksFor(1 << 14));
  auto options = Options(tmp.path());
  options.rotate_bytes = 4096;
  Writer writer(options, {&queue});
  constexpr std::uint64_t kEvents = 2000;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  ASSERT_TRUE(writer.Start());
  EXPECT_TRUE(WaitFor([&] { return writer.EventsWritten() == kEvents; }, seconds(30)));
  writer.Stop();
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  ExpectExactly(c.ids, kEvents);
  EXPECT_LE(c.largest_file, 4096);
  // Order across files follows the queue.
  EXPECT_TRUE(std::is_sorted(c.ids.begin(), c.ids.end()));
}

TEST(AnalyticsWriter, RotationByTime) {
  TempDir tmp;
  EventQueue queue(kBlockBytes, BlocksFor(1024));
  auto options = Options(tmp.path());
  options.rotate_interval_s = 1;
  Writer writer(options, {&queue});
  ASSERT_TRUE(writer.Start());
  for (std::uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  ASSERT_TRUE(WaitFor([&] { return ClosedFiles(tmp.path()).size() == 1; }, seconds(5)))
      << "the file was not closed after rotate_interval_s";
  auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  ExpectExactly(c.ids, 3);
  for (std::uint64_t i = 3; i < 5; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  ASSERT_TRUE(WaitFor([&] { return ClosedFiles(tmp.path()).size() == 2; }, seconds(5)));
  // Nothing new: no empty files are made.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(ClosedFiles(tmp.path()).size(), 2u);
  writer.Stop();
  c = Collect(tmp.path());
  EXPECT_EQ(c.files, 2u);
  ExpectExactly(c.ids, 5);
}

// Closed files appear by rename: a reader listing the folder while events pour in only ever
// sees whole files of whole lines, and a closed file never changes afterwards.
TEST(AnalyticsWriter, AReaderNeverSeesAPartialClosedFile) {
  TempDir tmp;
  EventQueue queue(kBlockBytes, BlocksFor(1 << 16));
  auto options = Options(tmp.path());
  options.rotate_bytes = 8192;
  Writer writer(options, {&queue});
  ASSERT_TRUE(writer.Start());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    std::map<std::string, std::string> seen;  // name -> what the first read saw
    const auto deadline = Clock::now() + seconds(60);
    while (!done.load() && Clock::now() < deadline) {
      for (const auto& file : ClosedFiles(tmp.path())) {
        const std::string name = file.filename().string();
        auto it = seen.find(name);
        if (it != seen.end()) {
          // Seen before: it must not have changed (checked by size; content at the end).
          std::error_code ec;
          const auto size = fs::file_size(file, ec);
          if (!ec && size != it->second.size()) {
            bad.fetch_add(1);
          }
          continue;
        }
        const std::string text = Slurp(file);
        bool whole = true;
        Sequence(text, whole);
        if (!whole || text.empty()) {
          bad.fetch_add(1);
        }
        seen.emplace(name, text);
        reads.fetch_add(1);
      }
    }
    for (const auto& [name, text] : seen) {
      if (Slurp(tmp.path() / name) != text) {
        bad.fetch_add(1);
      }
    }
  });
  constexpr std::uint64_t kEvents = 10000;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    while (!queue.Push(Numbered(i))) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    if (i % 50 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
  EXPECT_TRUE(WaitFor([&] { return writer.EventsWritten() == kEvents; }, seconds(30)));
  writer.Stop();  // the reader also sees the last file closed
  done.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 10);
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  ExpectExactly(c.ids, kEvents);
}

TEST(AnalyticsWriter, MaxDiskBytesDropsTheOldestFilesAndCountsThem) {
  TempDir tmp;
  EventQueue queue(kBlockBytes, BlocksFor(1 << 14));
  auto options = Options(tmp.path());
  options.rotate_bytes = 4096;
  options.max_disk_bytes = 16384;
  Writer writer(options, {&queue});
  ASSERT_TRUE(writer.Start());
  constexpr std::uint64_t kEvents = 400;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
    if (i % 10 == 0) {
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
  EXPECT_TRUE(WaitFor([&] { return writer.EventsWritten() == kEvents; }, seconds(30)));
  writer.Stop();
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  EXPECT_LE(c.total_bytes, 16384);
  EXPECT_GT(writer.FilesDropped(), 0u);
  ASSERT_FALSE(c.ids.empty());
  // What is left is the newest: a contiguous run ending with the last event.
  std::vector<std::uint64_t> sorted = c.ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted.back(), kEvents - 1);
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    ASSERT_EQ(sorted[i], sorted[i - 1] + 1) << "a gap: a file other than the oldest was dropped";
  }
  EXPECT_GT(sorted.front(), 0u) << "the oldest events went with the dropped files";
}

TEST(AnalyticsWriter, AFileLeftOpenByACrashIsClosedAtStart) {
  TempDir tmp;
  std::string leftover;
  for (std::uint64_t i = 0; i < 3; ++i) {
    leftover += ToJsonLine(Numbered(i));
  }
  {
    std::ofstream(tmp.path() / kOpenFileName, std::ios::binary) << leftover;
  }
  EventQueue queue(kBlockBytes, BlocksFor(64));
  Writer writer(Options(tmp.path()), {&queue});
  ASSERT_TRUE(writer.Start());
  const auto closed = ClosedFiles(tmp.path());
  ASSERT_EQ(closed.size(), 1u) << "closed at once, before any new event";
  EXPECT_EQ(Slurp(closed[0]), leftover);
  ASSERT_TRUE(queue.Push(Numbered(3)));
  EXPECT_TRUE(WaitFor([&] { return writer.EventsWritten() == 1; }, seconds(10)));
  writer.Stop();
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  ExpectExactly(c.ids, 4);
  EXPECT_EQ(c.files, 2u);
}

// A crash in the middle of a write can leave half a line at the end of the open file: the
// closed file keeps the whole lines only.
TEST(AnalyticsWriter, ALeftoverFileEndingInHalfALineKeepsItsWholeLines) {
  TempDir tmp;
  std::string leftover;
  for (std::uint64_t i = 0; i < 3; ++i) {
    leftover += ToJsonLine(Numbered(i));
  }
  const std::string half = ToJsonLine(Numbered(3)).substr(0, 40);
  {
    std::ofstream(tmp.path() / kOpenFileName, std::ios::binary) << leftover << half;
  }
  EventQueue queue(kBlockBytes, BlocksFor(64));
  Writer writer(Options(tmp.path()), {&queue});
  ASSERT_TRUE(writer.Start());
  writer.Stop();
  const auto closed = ClosedFiles(tmp.path());
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(Slurp(closed[0]), leftover);
  EXPECT_FALSE(fs::exists(tmp.path() / kOpenFileName));
}

TEST(AnalyticsWriter, AnEmptyLeftoverFileLeavesNoClosedFile) {
  TempDir tmp;
  { std::ofstream(tmp.path() / kOpenFileName, std::ios::binary); }
  EventQueue queue(kBlockBytes, BlocksFor(64));
  Writer writer(Options(tmp.path()), {&queue});
  ASSERT_TRUE(writer.Start());
  writer.Stop();
  EXPECT_TRUE(ClosedFiles(tmp.path()).empty());
  EXPECT_FALSE(fs::exists(tmp.path() / kOpenFileName));
}

TEST(AnalyticsWriter, StopWritesWhatIsQueuedAndClosesTheFile) {
  TempDir tmp;
  EventQueue a(kBlockBytes, BlocksFor(1024));
  EventQueue b(kBlockBytes, BlocksFor(1024));
  Writer writer(Options(tmp.path()), {&a, &b});
  ASSERT_TRUE(writer.Start());
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE((i < 50 ? a : b).Push(Numbered(i)));
  }
  writer.Stop();  // at once: the writer had no 100 ms tick yet
  EXPECT_EQ(writer.EventsWritten(), 100u);
  EXPECT_FALSE(fs::exists(tmp.path() / kOpenFileName));
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  EXPECT_EQ(c.files, 1u);
  ExpectExactly(c.ids, 100);
  writer.Stop();  // a second Stop() is harmless
}

// Pages of `path` held in the page cache, or -1 when they cannot be counted.
long ResidentPages(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  struct stat st {};
  long resident = -1;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    const auto size = static_cast<std::size_t>(st.st_size);
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);  // faults nothing in
    if (map != MAP_FAILED) {
      std::vector<unsigned char> pages((size + page - 1) / page);
      if (::mincore(map, size, pages.data()) == 0) {
        resident = std::count_if(pages.begin(), pages.end(), [](unsigned char p) { return p & 1; });
      }
      ::munmap(map, size);
    }
  }
  ::close(fd);
  return resident;
}

// Event files are written once: a closed file's pages are on disk and out of the page cache (the
// open file's are written back and dropped every 8 MiB as it grows, which depends on the disk's
// pace, so only the closed files are checked). Nothing is lost on the way.
TEST(AnalyticsWriter, ClosedFilesAreNotKeptInThePageCache) {
  TempDir tmp;
  struct statfs fs_info {};
  ASSERT_EQ(::statfs(tmp.path().c_str(), &fs_info), 0);
  if (fs_info.f_type == TMPFS_MAGIC) {
    GTEST_SKIP() << "the temporary folder is tmpfs, whose pages are its storage";
  }
  constexpr std::uint64_t kEvents = 40000;  // ~20 MiB of lines: more than two 8 MiB write-backs
  EventQueue a(kBlockBytes, BlocksFor(kEvents));
  auto options = Options(tmp.path());
  options.rotate_bytes = std::int64_t{12} << 20;
  Writer writer(options, {&a});
  ASSERT_TRUE(writer.Start());
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(a.Push(Numbered(i)));
  }
  writer.Stop();
  const auto files = ClosedFiles(tmp.path());
  ASSERT_GE(files.size(), 2u);
  for (const auto& file : files) {  // before they are read below
    EXPECT_EQ(ResidentPages(file), 0) << file;
  }
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  ExpectExactly(c.ids, kEvents);
}

// More than one drain pass takes (~1 MiB per queue) is queued when Stop() comes: all of it is
// written.
TEST(AnalyticsWriter, StopWritesEverythingEvenMoreThanOnePassTakes) {
  TempDir tmp;
  EventQueue a(kBlockBytes, BlocksFor(1 << 14));
  EventQueue b(kBlockBytes, BlocksFor(1 << 14));
  constexpr std::uint64_t kEvents = 16000;  // ~9 MiB of lines
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_TRUE((i % 2 == 0 ? a : b).Push(Numbered(i)));
  }
  Writer writer(Options(tmp.path()), {&a, &b});
  ASSERT_TRUE(writer.Start());
  writer.Stop();  // before the writer's first 100 ms tick
  EXPECT_EQ(writer.EventsWritten(), kEvents);
  EXPECT_TRUE(a.Empty());
  EXPECT_TRUE(b.Empty());
  const auto c = Collect(tmp.path());
  EXPECT_TRUE(c.whole);
  ExpectExactly(c.ids, kEvents);
}

TEST(AnalyticsWriter, ARestartKeepsTheFilesOfTheRunBefore) {
  TempDir tmp;
  for (int run = 0; run < 2; ++run) {
    EventQueue queue(kBlockBytes, BlocksFor(64));
    Writer writer(Options(tmp.path()), {&queue});
    ASSERT_TRUE(writer.Start());
    for (std::uint64_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(queue.Push(Numbered(run * 10 + i)));
    }
    writer.Stop();
  }
  const auto c = Collect(tmp.path());
  EXPECT_EQ(c.files, 2u);
  ExpectExactly(c.ids, 20);
}

TEST(AnalyticsWriter, StartFailsWhenTheFolderCannotBeMade) {
  TempDir tmp;
  { std::ofstream(tmp.path() / "file", std::ios::binary) << "x"; }
  EventQueue queue(kBlockBytes, BlocksFor(64));
  Writer writer(Options(tmp.path() / "file" / "analytics"), {&queue});
  const auto started = writer.Start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("analytics.dir"), std::string::npos);
}

// With a collector that refuses connections, files stay, failures are counted, and Stop() does
// not wait for the back-off.
TEST(AnalyticsWriter, AnUnreachableCollectorKeepsFilesAndStopIsPrompt) {
  TempDir tmp;
  EventQueue queue(kBlockBytes, BlocksFor(64));
  auto options = Options(tmp.path());
  options.rotate_interval_s = 1;
  options.upload_url = "http://127.0.0.1:1/collect";  // nothing listens on port 1
  options.upload_interval_s = 1;
  Writer writer(options, {&queue});
  ASSERT_TRUE(writer.Start());
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  EXPECT_TRUE(WaitFor([&] { return writer.UploadFailures() > 0; }, seconds(10)));
  const auto start = Clock::now();
  writer.Stop();
  EXPECT_LT(Clock::now() - start, seconds(3));
  EXPECT_EQ(writer.FilesUploaded(), 0u);
  const auto c = Collect(tmp.path());
  ExpectExactly(c.ids, 5);
}

// A collector that takes the connection but never answers: Stop() must not wait for the upload's
// timeout (the gateway's drain would overrun by up to a minute).
TEST(AnalyticsWriter, StopAbortsAnUploadTheCollectorNeverAnswers) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 16), 0);  // connections complete in the backlog; none is accepted
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);

  TempDir tmp;
  EventQueue queue(kBlockBytes, BlocksFor(64));
  auto options = Options(tmp.path());
  options.rotate_interval_s = 1;
  options.upload_url = "http://127.0.0.1:" + std::to_string(port) + "/collect";
  options.upload_interval_s = 1;
  Writer writer(options, {&queue});
  ASSERT_TRUE(writer.Start());
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(queue.Push(Numbered(i)));
  }
  // The file is closed after ~1 s and the uploader starts its POST at its next turn (~1 s).
  ASSERT_TRUE(WaitFor([&] { return !ClosedFiles(tmp.path()).empty(); }, seconds(10)));
  std::this_thread::sleep_for(milliseconds(2500));
  const auto start = Clock::now();
  writer.Stop();
  const auto took = Clock::now() - start;
  ::close(listener);
  EXPECT_LT(took, seconds(3)) << "Stop() waited "
                              << std::chrono::duration_cast<milliseconds>(took).count() << " ms";
  EXPECT_EQ(writer.FilesUploaded(), 0u);
  EXPECT_EQ(writer.UploadFailures(), 0u) << "an aborted upload is not a collector failure";
  ExpectExactly(Collect(tmp.path()).ids, 5);
}

}  // namespace
}  // namespace mgw::analytics
