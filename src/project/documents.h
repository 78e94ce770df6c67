// The set of YAML/JSON documents a project's definitions consist of, and `$ref` resolution
// across them: local refs (`#/components/schemas/Pet`) and refs to other files of the project
// (`../common/Error.yaml#/Error`), with chains followed and cycles reported, never looped on.
// Not thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "base/diagnostics.h"

namespace mgw::project {

struct Document {
  std::filesystem::path path;  // absolute, normalised
  std::string label;           // for diagnostics: relative to the project root
  YAML::Node root;
};

// A node together with the document it belongs to, so diagnostics name the right file.
// Assignment rebinds (yaml-cpp's Node::operator= would overwrite the node it refers to, i.e.
// change the document).
struct Located {
  YAML::Node node;
  const Document* document = nullptr;

  Located() = default;
  Located(YAML::Node n, const Document* d) : node(std::move(n)), document(d) {}
  Located(const Located& other) = default;
  Located& operator=(const Located& other) {
    node.reset(other.node);
    document = other.document;
    return *this;
  }
  ~Located() = default;

  base::SourceLocation Location() const;
  // The child `key` of a map node (undefined when absent), in the same document.
  Located operator[](std::string_view key) const;
  bool IsDefined() const { return node.IsDefined() && !node.IsNull(); }
};

class DocumentSet {
 public:
  // `root` is the project folder: files outside it cannot be referenced, and labels are relative
  // to it. `overlay` holds files (by absolute path) that exist only in memory: definitions being
  // imported, which are validated before anything is written.
  DocumentSet(std::filesystem::path root, std::map<std::filesystem::path, std::string> overlay);

  // Loads (once) and returns the document at `path`; nullptr after reporting an error.
  const Document* Load(const std::filesystem::path& path, base::Diagnostics& diagnostics);

  // When `value` is a map with a `$ref`, follows it (and any chain of refs) and returns the
  // target; otherwise returns `value`. A dangling ref, a ref outside the project, or a cycle is
  // reported and gives std::nullopt.
  std::optional<Located> Resolve(const Located& value, base::Diagnostics& diagnostics);

  // As Resolve(), but a remote (http) reference is only a warning: for parts of a definition the
  // gateway does not use.
  std::optional<Located> ResolveLenient(const Located& value, base::Diagnostics& diagnostics);

  // Walks the whole of `document` (and every file it references, transitively) and checks that
  // every `$ref` resolves. Each problem is reported once.
  void CheckAllReferences(const Document& document, base::Diagnostics& diagnostics);

  // Documents that were loaded because another document referenced them.
  const std::set<std::filesystem::path>& ReferencedFiles() const { return referenced_; }

  std::string LabelFor(const std::filesystem::path& path) const;
  bool Exists(const std::filesystem::path& path) const;

 private:
  std::optional<Located> ResolveOne(const Located& value, const std::string& ref,
                                    base::Diagnostics& diagnostics);
  std::optional<Located> ResolveChain(const Located& value, base::Diagnostics& diagnostics,
                                      bool strict);

  std::filesystem::path root_;
  std::map<std::filesystem::path, std::string> overlay_;
  std::map<std::filesystem::path, std::unique_ptr<Document>> documents_;
  std::set<std::filesystem::path> failed_;
  std::set<std::filesystem::path> referenced_;
  std::set<std::filesystem::path> checked_;
  std::set<std::string> reported_;  // "file:line:col" of refs already reported
};

// Decodes one JSON-pointer token (RFC 6901 `~1` -> `/`, `~0` -> `~`, after percent-decoding).
std::string DecodePointerToken(std::string_view token);

}  // namespace mgw::project
