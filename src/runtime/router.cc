#include "runtime/router.h"

#include <algorithm>

namespace mgw::runtime {
namespace {

constexpr std::array<std::string_view, static_cast<int>(Method::kCount)> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"};

std::vector<std::string_view> SplitTemplate(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') {
      ++i;
    }
    if (i >= path.size()) {
      break;
    }
    const auto end = path.find('/', i);
    out.push_back(path.substr(i, end == std::string_view::npos ? path.size() - i : end - i));
    i = end == std::string_view::npos ? path.size() : end;
  }
  return out;
}

bool IsWholeParameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}' &&
         segment.find('{', 1) == std::string_view::npos;
}

}  // namespace

std::optional<Method> ParseMethod(std::string_view text) {
  for (std::size_t i = 0; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == text) {
      return static_cast<Method>(i);
    }
  }
  return std::nullopt;
}

std::string_view MethodName(Method method) { return kMethodNames[static_cast<int>(method)]; }

int RouteTable::AddApi(std::string_view base_path) {
  std::string key;
  for (const auto segment : SplitTemplate(base_path)) {
    key += '/';
    key += segment;
  }
  if (key.empty()) {
    key = "/";
  }
  const int index = static_cast<int>(apis_.size());
  if (!base_paths_.emplace(key, index).second) {
    return -1;
  }
  max_base_depth_ = std::max(max_base_depth_, SplitTemplate(base_path).size());
  apis_.push_back({std::make_unique<Node>()});
  return index;
}

bool RouteTable::AddResource(int api, std::string_view path_template, Method method, int resource) {
  if (api < 0 || api >= static_cast<int>(apis_.size())) {
    return false;
  }
  Node* node = apis_[api].root.get();
  auto segments = SplitTemplate(path_template);
  bool wildcard = false;
  if (!segments.empty() && segments.back() == "*") {
    wildcard = true;
    segments.pop_back();
  }
  for (const auto segment : segments) {
    if (IsWholeParameter(segment)) {
      if (!node->parameter) {
        node->parameter = std::make_unique<Node>();
      }
      node = node->parameter.get();
    } else if (segment.find('{') != std::string_view::npos) {
      auto it = std::find_if(node->patterns.begin(), node->patterns.end(),
                             [&](const auto& p) { return p.first == segment; });
      if (it == node->patterns.end()) {
        node->patterns.emplace_back(std::string(segment), std::make_unique<Node>());
        it = std::prev(node->patterns.end());
      }
      node = it->second.get();
    } else {
      auto& child = node->literal[std::string(segment)];
      if (!child) {
        child = std::make_unique<Node>();
      }
      node = child.get();
    }
  }
  auto& slots = wildcard ? node->wildcard : node->methods;
  int& slot = slots[static_cast<int>(method)];
  if (slot != 0) {
    return false;
  }
  slot = resource + 1;
  (wildcard ? node->has_wildcard : node->has_methods) = true;
  return true;
}

bool RouteTable::MatchPattern(std::string_view pattern, std::string_view segment) {
  // Literal parts must appear in order; each parameter takes at least one character. Parameters
  // are matched lazily, with backtracking over the next literal's occurrences.
  if (pattern.empty()) {
    return segment.empty();
  }
  if (pattern.front() != '{') {
    const auto open = pattern.find('{');
    const std::string_view literal = pattern.substr(0, open);
    if (segment.substr(0, literal.size()) != literal) {
      return false;
    }
    return MatchPattern(open == std::string_view::npos ? std::string_view() : pattern.substr(open),
                        segment.substr(literal.size()));
  }
  const auto close = pattern.find('}');
  if (close == std::string_view::npos) {
    return false;
  }
  const std::string_view rest = pattern.substr(close + 1);
  if (rest.empty()) {
    return !segment.empty();
  }
  for (std::size_t take = 1; take <= segment.size(); ++take) {
    if (MatchPattern(rest, segment.substr(take))) {
      return true;
    }
  }
  return false;
}

int RouteTable::FindApi(const NormalisedPath& path, std::size_t& base_segments) const {
  std::string key;
  // Longest prefix first: at most max_base_depth_ + 1 hash lookups.
  const std::size_t depth = std::min(path.segments.size(), max_base_depth_);
  std::size_t k = 0;
  for (; k < depth; ++k) {
    if (path.segments[k].find('/') != std::string::npos) {
      break;  // a decoded "/" (%2F) is data: "a%2Fb" is never the base path "/a/b"
    }
    key += '/';
    key += path.segments[k];
  }
  // The first k segments end where the (k+1)-th '/' of `key` starts (every '/' in `key` is a
  // separator: segments holding one stopped the loop above).
  std::size_t end = key.size();
  for (;;) {
    const std::string_view probe = k == 0 ? std::string_view("/") : std::string_view(key).substr(0, end);
    if (auto it = base_paths_.find(probe); it != base_paths_.end()) {
      base_segments = k;
      return it->second;
    }
    if (k == 0) {
      return kNoRoute;
    }
    --k;
    end = k == 0 ? 0 : key.rfind('/', end - 1);
  }
}

const RouteTable::Node* RouteTable::Walk(const Node& node, const NormalisedPath& path,
                                         std::size_t index, const Node** wildcard) const {
  if (node.has_wildcard && index < path.segments.size() + 1) {
    *wildcard = &node;  // the deepest "/*" seen on the way (matched only if nothing better)
  }
  if (index == path.segments.size()) {
    return node.has_methods ? &node : nullptr;
  }
  const std::string& segment = path.segments[index];
  if (auto it = node.literal.find(segment); it != node.literal.end()) {
    if (const Node* found = Walk(*it->second, path, index + 1, wildcard)) {
      return found;
    }
  }
  for (const auto& [pattern, child] : node.patterns) {
    if (MatchPattern(pattern, segment)) {
      if (const Node* found = Walk(*child, path, index + 1, wildcard)) {
        return found;
      }
    }
  }
  if (node.parameter && !segment.empty()) {
    if (const Node* found = Walk(*node.parameter, path, index + 1, wildcard)) {
      return found;
    }
  }
  return nullptr;
}

RouteTable::Match RouteTable::Find(const NormalisedPath& path, Method method) const {
  Match match;
  match.api = FindApi(path, match.base_segments);
  if (match.api == kNoRoute) {
    return match;
  }
  const Node* wildcard = nullptr;
  const Node* node = Walk(*apis_[match.api].root, path, match.base_segments, &wildcard);
  const auto pick = [&](const std::array<int, static_cast<int>(Method::kCount)>& slots) {
    int slot = slots[static_cast<int>(method)];
    if (slot == 0 && method == Method::kHead) {
      slot = slots[static_cast<int>(Method::kGet)];
    }
    return slot;
  };
  const auto allowed = [](const std::array<int, static_cast<int>(Method::kCount)>& slots) {
    std::uint16_t bits = 0;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (slots[i] != 0) {
        bits |= static_cast<std::uint16_t>(1u << i);
      }
    }
    return bits;
  };
  if (node != nullptr) {
    match.path_matched = true;
    match.allowed = allowed(node->methods);
    if (const int slot = pick(node->methods); slot != 0) {
      match.resource = slot - 1;
      return match;
    }
  }
  if (wildcard != nullptr) {
    match.path_matched = true;
    match.allowed |= allowed(wildcard->wildcard);
    if (const int slot = pick(wildcard->wildcard); slot != 0) {
      match.resource = slot - 1;
      return match;
    }
  }
  return match;
}

}  // namespace mgw::runtime
