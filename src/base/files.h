// File helpers for the toolkit: whole-file reads, and writes that never leave a half-written
// file or folder behind (write to a temporary sibling, then rename over the target).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"

namespace mgw::base {

// Reads a whole file. Fails with a message naming the file.
Result<std::string> ReadFile(const std::filesystem::path& path);

// Writes `contents` to a temporary file beside `path`, fsyncs it, and renames it over `path`.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);

// A folder under construction: files are written into a temporary sibling of `target`, and
// Commit() replaces `target` with it in one rename (an existing `target` is moved aside first and
// deleted after). If Commit() is never called, the destructor removes the temporary folder, so a
// failure leaves `target` exactly as it was.
class StagingDirectory {
 public:
  static Result<StagingDirectory> Create(const std::filesystem::path& target);
  StagingDirectory(StagingDirectory&& other) noexcept;
  StagingDirectory& operator=(StagingDirectory&&) = delete;
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;
  ~StagingDirectory();

  // Where to write: the temporary folder.
  const std::filesystem::path& Path() const { return staging_; }
  Status Commit();

 private:
  StagingDirectory(std::filesystem::path target, std::filesystem::path staging)
      : target_(std::move(target)), staging_(std::move(staging)) {}

  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

// Writes `contents` to `path` (creating parent folders), failing with a message naming the file.
Status WriteFile(const std::filesystem::path& path, std::string_view contents);

// A temporary sibling name for `path`, unique within this process and across processes.
std::filesystem::path TemporarySibling(const std::filesystem::path& path);

}  // namespace mgw::base
