// The analytics writer: one thread drains every worker's EventQueue, appends its JSON lines to
// the open file, and rotates it by size and time into closed files (a rename: a reader never sees a
// half-written closed file); a second thread uploads closed files (gzip NDJSON POST) when an
// upload URL is set, deleting each only after a 2xx. Closed files are bounded by max_disk_bytes,
// oldest dropped first (counted). Files left by a previous run are picked up at start.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "analytics/event_queue.h"
#include "base/result.h"

namespace mgw::analytics {

struct WriterOptions {
  std::filesystem::path dir;
  std::int64_t rotate_bytes = 64 << 20;
  std::int64_t rotate_interval_s = 600;
  std::int64_t max_disk_bytes = std::int64_t{1} << 30;
  std::string upload_url;
  std::int64_t upload_interval_s = 60;
};

// Names: the open file, and closed files "events-<UTC time>-<pid>-<sequence>.jsonl".
inline constexpr const char* kOpenFileName = "current.jsonl.open";
bool IsClosedEventFile(const std::filesystem::path& path);

class Writer {
 public:
  Writer(WriterOptions options, std::vector<EventQueue*> queues);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Creates the folder, closes a file a previous run left open, starts the threads.
  base::Status Start();
  // Writes what is queued, closes the open file, stops both threads.
  void Stop();

  std::uint64_t EventsWritten() const { return written_.load(); }
  std::uint64_t FilesDropped() const { return files_dropped_.load(); }
  std::uint64_t FilesUploaded() const { return files_uploaded_.load(); }
  std::uint64_t UploadFailures() const { return upload_failures_.load(); }

 private:
  void WriteLoop();
  void UploadLoop();
  // Writes what is queued (up to ~1 MiB per queue); true when more is left.
  bool DrainOnce();
  // Appends whole lines to the open file, rotating it first where it would pass rotate_bytes (a
  // file holds whole lines only).
  void WriteLines(std::string_view lines);
  // Event files are written once and read at most once more (by the uploader or a collector), so
  // their pages are not kept: every kWritebackBytes of the open file, the write-back of what was
  // appended since the last call is started, and the range started the call before (on disk by
  // then, as a rule) is dropped from the page cache. The writer's memory then stays flat instead
  // of filling the page cache (charged to a container's memory), the disk is written evenly
  // rather than in bursts at the kernel's dirty limits, and new pages come from ones just freed.
  void StartWriteback();
  void Rotate();
  void EnforceDiskBound();
  bool UploadFile(const std::filesystem::path& path);

  const WriterOptions options_;
  const std::vector<EventQueue*> queues_;
  std::thread writer_;
  std::thread uploader_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> abort_uploads_{false};  // set by Stop(): an upload in flight gives up

  int fd_ = -1;
  std::int64_t file_bytes_ = 0;
  std::int64_t writeback_from_ = 0;  // the open file's write-back is started up to here
  std::int64_t dropped_to_ = 0;      // ... and its pages are dropped up to here
  std::int64_t file_opened_ms_ = 0;
  std::uint64_t sequence_ = 0;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> files_dropped_{0};
  std::atomic<std::uint64_t> files_uploaded_{0};
  std::atomic<std::uint64_t> upload_failures_{0};
};

}  // namespace mgw::analytics
