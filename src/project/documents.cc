#include "project/documents.h"

#include <charconv>
#include <system_error>
#include <vector>

#include "base/files.h"
#include "project/yaml_util.h"

namespace mgw::project {

namespace fs = std::filesystem;

base::SourceLocation Located::Location() const {
  return LocationOf(node, document != nullptr ? document->label : std::string());
}

Located Located::operator[](std::string_view key) const { return {Child(node, key), document}; }

DocumentSet::DocumentSet(fs::path root, std::map<fs::path, std::string> overlay)
    : root_(fs::weakly_canonical(fs::absolute(root))), overlay_(std::move(overlay)) {}

std::string DocumentSet::LabelFor(const fs::path& path) const {
  std::error_code ec;
  const fs::path relative = fs::relative(path, root_, ec);
  if (ec || relative.empty() || *relative.begin() == "..") {
    return path.generic_string();
  }
  return relative.generic_string();
}

bool DocumentSet::Exists(const fs::path& path) const {
  std::error_code ec;
  return overlay_.contains(path) || fs::is_regular_file(path, ec);
}

const Document* DocumentSet::Load(const fs::path& path, base::Diagnostics& diagnostics) {
  if (auto it = documents_.find(path); it != documents_.end()) {
    return it->second.get();
  }
  if (failed_.contains(path)) {
    return nullptr;
  }
  const std::string label = LabelFor(path);
  std::string text;
  if (auto it = overlay_.find(path); it != overlay_.end()) {
    text = it->second;
  } else {
    auto read = base::ReadFile(path);
    if (!read) {
      diagnostics.Error({label, 0, 0}, read.error().message);
      failed_.insert(path);
      return nullptr;
    }
    text = std::move(*read);
  }
  auto root = ParseYaml(text, label, diagnostics);
  if (!root) {
    failed_.insert(path);
    return nullptr;
  }
  auto document = std::make_unique<Document>(Document{path, label, *root});
  const Document* raw = document.get();
  documents_.emplace(path, std::move(document));
  return raw;
}

std::string DecodePointerToken(std::string_view token) {
  std::string percent_decoded;
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') {
        return c - '0';
      }
      if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
      }
      if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
      }
      return -1;
    };
    if (token[i] == '%' && i + 2 < token.size() && hex(token[i + 1]) >= 0 &&
        hex(token[i + 2]) >= 0) {
      percent_decoded += static_cast<char>(hex(token[i + 1]) * 16 + hex(token[i + 2]));
      i += 2;
    } else {
      percent_decoded += token[i];
    }
  }
  std::string out;
  for (std::size_t i = 0; i < percent_decoded.size(); ++i) {
    if (percent_decoded[i] == '~' && i + 1 < percent_decoded.size()) {
      if (percent_decoded[i + 1] == '1') {
        out += '/';
        ++i;
        continue;
      }
      if (percent_decoded[i + 1] == '0') {
        out += '~';
        ++i;
        continue;
      }
    }
    out += percent_decoded[i];
  }
  return out;
}

std::optional<Located> DocumentSet::ResolveOne(const Located& value, const std::string& ref,
                                               base::Diagnostics& diagnostics) {
  const auto report = [&](const std::string& message) {
    const auto location = value.Location();
    const std::string key = location.file + ":" + std::to_string(location.line) + ":" +
                            std::to_string(location.column);
    if (reported_.insert(key).second) {
      diagnostics.Error(location, message);
    }
  };
  const auto hash = ref.find('#');
  const std::string file_part = ref.substr(0, hash);
  const std::string fragment = hash == std::string::npos ? std::string() : ref.substr(hash + 1);

  const Document* target = value.document;
  if (!file_part.empty()) {
    if (file_part.find("://") != std::string::npos) {
      report("$ref \"" + ref + "\": remote references are not supported; copy the file into "
             "the project");
      return std::nullopt;
    }
    const fs::path resolved =
        fs::weakly_canonical(value.document->path.parent_path() / fs::path(file_part));
    const fs::path relative = resolved.lexically_relative(root_);
    if (relative.empty() || *relative.begin() == "..") {
      report("$ref \"" + ref + "\" points outside the project");
      return std::nullopt;
    }
    if (!Exists(resolved)) {
      report("$ref \"" + ref + "\": file " + LabelFor(resolved) + " does not exist");
      return std::nullopt;
    }
    base::Diagnostics load_problems;
    target = Load(resolved, load_problems);
    if (target == nullptr) {
      diagnostics.Append(load_problems);
      report("$ref \"" + ref + "\": cannot load " + LabelFor(resolved));
      return std::nullopt;
    }
    referenced_.insert(resolved);
  }
  YAML::Node node;
  node.reset(target->root);
  if (!fragment.empty()) {
    if (fragment[0] != '/') {
      report("$ref \"" + ref + "\": the fragment must be a JSON pointer starting with '/'");
      return std::nullopt;
    }
    std::size_t start = 1;
    while (start <= fragment.size()) {
      const auto slash = fragment.find('/', start);
      const std::string token = DecodePointerToken(
          std::string_view(fragment).substr(start, slash == std::string::npos ? std::string::npos
                                                                              : slash - start));
      if (node.IsMap()) {
        node.reset(Child(node, token));
      } else if (node.IsSequence()) {
        std::size_t index = 0;
        auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
        if (ec != std::errc() || ptr != token.data() + token.size() || index >= node.size()) {
          node.reset(YAML::Node(YAML::NodeType::Undefined));
        } else {
          const YAML::Node& sequence = node;
          node.reset(sequence[index]);
        }
      } else {
        node.reset(YAML::Node(YAML::NodeType::Undefined));
      }
      if (!node.IsDefined()) {
        report("$ref \"" + ref + "\" does not resolve (no \"" + token + "\" in " + target->label +
               ")");
        return std::nullopt;
      }
      if (slash == std::string::npos) {
        break;
      }
      start = slash + 1;
    }
  }
  return Located{node, target};
}

std::optional<Located> DocumentSet::Resolve(const Located& value, base::Diagnostics& diagnostics) {
  return ResolveChain(value, diagnostics, true);
}

std::optional<Located> DocumentSet::ResolveLenient(const Located& value,
                                                   base::Diagnostics& diagnostics) {
  return ResolveChain(value, diagnostics, false);
}

std::optional<Located> DocumentSet::ResolveChain(const Located& value,
                                                 base::Diagnostics& diagnostics, bool strict) {
  Located current = value;
  std::set<std::string> seen;
  for (int hops = 0; hops < 64; ++hops) {
    const auto ref_node = Child(current.node, "$ref");
    if (!ref_node.IsDefined()) {
      return current;
    }
    auto ref = ScalarText(ref_node);
    if (!ref) {
      diagnostics.Error(LocationOf(ref_node, current.document->label), "$ref must be a string");
      return std::nullopt;
    }
    const std::string key = current.document->path.string() + "#" + *ref;
    if (!seen.insert(key).second) {
      const auto location = value.Location();
      const std::string report_key = "cycle:" + location.file + ":" +
                                     std::to_string(location.line);
      if (reported_.insert(report_key).second) {
        diagnostics.Error(location, "$ref cycle: \"" + *ref + "\" refers back to itself");
      }
      return std::nullopt;
    }
    if (!strict && ref->find("://") != std::string::npos && ref->find("://") < ref->find('#')) {
      const auto location = current.Location();
      if (reported_.insert("remote:" + location.file + ":" + std::to_string(location.line)).second) {
        diagnostics.Warning(location, "$ref \"" + *ref +
                                          "\" is remote and is not followed (the gateway does not "
                                          "need it)");
      }
      return std::nullopt;
    }
    auto next = ResolveOne(current, *ref, diagnostics);
    if (!next) {
      return std::nullopt;
    }
    current = *next;
  }
  diagnostics.Error(value.Location(), "$ref chain longer than 64 links");
  return std::nullopt;
}

void DocumentSet::CheckAllReferences(const Document& document, base::Diagnostics& diagnostics) {
  if (!checked_.insert(document.path).second) {
    return;
  }
  std::vector<const Document*> to_check;
  // Iterative walk: definitions can be deeply nested and a recursive walk could exhaust the stack.
  std::vector<std::pair<YAML::Node, int>> stack{{document.root, 0}};
  constexpr int kMaxDepth = 512;
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth > kMaxDepth) {
      diagnostics.Error(LocationOf(node, document.label), "nesting deeper than 512 levels");
      continue;
    }
    if (node.IsMap()) {
      if (const auto ref = Child(node, "$ref"); ref.IsDefined() && ref.IsScalar()) {
        auto target = ResolveLenient(Located{node, &document}, diagnostics);
        if (target && target->document != &document) {
          to_check.push_back(target->document);
        }
      }
      for (const auto& member : node) {
        stack.emplace_back(member.second, depth + 1);
      }
    } else if (node.IsSequence()) {
      for (const auto& element : node) {
        stack.emplace_back(element, depth + 1);
      }
    }
  }
  for (const Document* other : to_check) {
    CheckAllReferences(*other, diagnostics);
  }
}

}  // namespace mgw::project
