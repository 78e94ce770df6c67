// Helpers for the project library's unit tests (not part of the library): a temporary project
// folder, and a way to read one definition from memory and look at what came out.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "base/diagnostics.h"
#include "base/files.h"
#include "bundle/model.h"
#include "project/documents.h"
#include "project/openapi.h"

namespace mgw::project::testing {

// A fresh, empty folder under the test temporary folder; removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("mgw-project-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& Path() const { return path_; }

  // Writes `text` to `relative` (parent folders are created).
  void Write(const std::string& relative, std::string_view text) const {
    ASSERT_TRUE(base::WriteFile(path_ / relative, text)) << relative;
  }

 private:
  std::filesystem::path path_;
};

// The diagnostics of one severity as the CLI prints them, in the CLI's order.
inline std::vector<std::string> Formatted(base::Diagnostics diagnostics, base::Severity severity) {
  diagnostics.Sort();
  std::vector<std::string> out;
  for (const auto& d : diagnostics.All()) {
    if (d.severity == severity) {
      out.push_back(base::FormatDiagnostic(d));
    }
  }
  return out;
}

struct ReadResult {
  std::optional<ApiDraft> draft;
  base::Diagnostics diagnostics;

  std::vector<std::string> Errors() const { return Formatted(diagnostics, base::Severity::kError); }
  std::vector<std::string> Warnings() const {
    return Formatted(diagnostics, base::Severity::kWarning);
  }
  // The resource with `method` and `path`, or nullptr.
  const bundle::Resource* Resource(const std::string& method, const std::string& path) const {
    if (!draft) {
      return nullptr;
    }
    for (const auto& resource : draft->api.resources) {
      if (resource.method == method && resource.path_template == path) {
        return &resource;
      }
    }
    return nullptr;
  }
  // The endpoint group with `id`, or nullptr.
  const bundle::EndpointGroup* Group(const std::string& id) const {
    if (!draft) {
      return nullptr;
    }
    for (const auto& group : draft->endpoint_groups) {
      if (group.group.id == id) {
        return &group.group;
      }
    }
    return nullptr;
  }
};

// Reads `text` as api_definitions/<name> of a project that exists only in memory; `others` are
// more files of that project, by path relative to the project root.
inline ReadResult ReadDefinition(const std::string& text,
                                 const std::map<std::string, std::string>& others = {},
                                 const std::string& name = "api.yaml") {
  const std::filesystem::path root = std::filesystem::path(::testing::TempDir()) /
                                     ("mgw-in-memory-project-" + std::to_string(::getpid()));
  std::map<std::filesystem::path, std::string> overlay;
  const std::filesystem::path path = root / "api_definitions" / name;
  overlay[path] = text;
  for (const auto& [relative, contents] : others) {
    overlay[root / relative] = contents;
  }
  ReadResult result;
  DocumentSet documents(root, overlay);
  const Document* document = documents.Load(path, result.diagnostics);
  if (document == nullptr) {
    return result;
  }
  documents.CheckAllReferences(*document, result.diagnostics);
  result.draft = ReadApi(*document, name, documents, result.diagnostics);
  return result;
}

}  // namespace mgw::project::testing
