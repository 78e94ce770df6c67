#include "base/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <boost/throw_exception.hpp>

namespace mgw::base {

void throw_exception_from_error(const Error& error, const boost::source_location& location) {
  boost::throw_exception(std::runtime_error(error.message), location);
}

namespace fs = std::filesystem;

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return MakeError("cannot read " + path.string());
  }
  return std::move(buffer).str();
}

fs::path TemporarySibling(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  const auto name = "." + path.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1));
  return path.parent_path() / name;
}

Status WriteFile(const fs::path& path, std::string_view contents) {
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      return MakeError("cannot create " + path.parent_path().string() + ": " + ec.message());
    }
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) {
    return MakeError("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return {};
}

Status WriteFileAtomic(const fs::path& path, std::string_view contents) {
  const fs::path temporary = TemporarySibling(path);
  if (auto written = WriteFile(temporary, contents); !written) {
    return written;
  }
  const int fd = ::open(temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return MakeError("cannot write " + path.string() + ": " + ec.message());
  }
  return {};
}

Result<StagingDirectory> StagingDirectory::Create(const fs::path& target) {
  std::error_code ec;
  const fs::path absolute = fs::absolute(target, ec);
  if (ec) {
    return MakeError("cannot resolve " + target.string() + ": " + ec.message());
  }
  fs::create_directories(absolute.parent_path(), ec);
  if (ec) {
    return MakeError("cannot create " + absolute.parent_path().string() + ": " + ec.message());
  }
  fs::path staging = TemporarySibling(absolute);
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec) {
    return MakeError("cannot create " + staging.string() + ": " + ec.message());
  }
  return StagingDirectory(absolute, std::move(staging));
}

StagingDirectory::StagingDirectory(StagingDirectory&& other) noexcept
    : target_(std::move(other.target_)),
      staging_(std::move(other.staging_)),
      committed_(other.committed_) {
  other.committed_ = true;  // the moved-from object owns nothing any more
}

StagingDirectory::~StagingDirectory() {
  if (!committed_ && !staging_.empty()) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
}

Status StagingDirectory::Commit() {
  std::error_code ec;
  fs::path old;
  if (fs::exists(target_, ec)) {
    old = TemporarySibling(target_);
    fs::rename(target_, old, ec);
    if (ec) {
      return MakeError("cannot replace " + target_.string() + ": " + ec.message());
    }
  }
  fs::rename(staging_, target_, ec);
  if (ec) {
    if (!old.empty()) {
      std::error_code restore;
      fs::rename(old, target_, restore);
    }
    return MakeError("cannot create " + target_.string() + ": " + ec.message());
  }
  committed_ = true;
  if (!old.empty()) {
    fs::remove_all(old, ec);
  }
  return {};
}

}  // namespace mgw::base
