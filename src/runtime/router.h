// The route table: base path -> API, path template -> resource, method -> operation. Built once
// at start from the bundle, immutable, shared read-only by every worker. Lookup cost depends on
// the request path's depth, not on the number of APIs or resources.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "runtime/path.h"

namespace mgw::runtime {

enum class Method : std::uint8_t {
  kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kTrace, kCount
};

// Parses an HTTP method token; nullopt for methods the gateway does not route (CONNECT, ...).
std::optional<Method> ParseMethod(std::string_view text);
std::string_view MethodName(Method method);

inline constexpr int kNoRoute = -1;

// One path template compiled into segment matchers.
class RouteTable {
 public:
  struct Match {
    int api = kNoRoute;       // index into the bundle's APIs; kNoRoute = no API matched (404)
    int resource = kNoRoute;  // index into the API's resources; kNoRoute with api set: 404 or 405
    std::size_t base_segments = 0;  // how many request segments the base path took
    bool path_matched = false;      // a template matched but not the method: 405
    std::uint16_t allowed = 0;      // bit per Method for Allow: when path_matched
  };

  // Adds an API at `base_path` ("/" or "/a/b"); returns its index. Fails (returns -1) when the
  // base path is already taken.
  int AddApi(std::string_view base_path);

  // Adds a resource of `api`: `path_template` as in OpenAPI (may end with "/*"), `method`, and
  // the caller's resource index. Returns false if the template is malformed or the route and
  // method are already taken.
  bool AddResource(int api, std::string_view path_template, Method method, int resource);

  // Looks up a normalised request path. HEAD falls back to GET when no HEAD is defined.
  Match Find(const NormalisedPath& path, Method method) const;

  // The API's index whose base path is the longest prefix of `path`, or kNoRoute.
  int FindApi(const NormalisedPath& path, std::size_t& base_segments) const;

  // Matches `segment` against a segment pattern with parameters ("{name}.{ext}", "v{n}").
  static bool MatchPattern(std::string_view pattern, std::string_view segment);

 private:
  struct Node {
    std::unordered_map<std::string, std::unique_ptr<Node>> literal;
    std::vector<std::pair<std::string, std::unique_ptr<Node>>> patterns;  // mixed segments
    std::unique_ptr<Node> parameter;  // "{x}" as the whole segment
    std::array<int, static_cast<int>(Method::kCount)> methods{};  // resource + 1, 0 = none
    std::array<int, static_cast<int>(Method::kCount)> wildcard{};  // "/*" below this node
    bool has_methods = false;
    bool has_wildcard = false;
  };
  struct ApiEntry {
    std::unique_ptr<Node> root;
  };

  const Node* Walk(const Node& node, const NormalisedPath& path, std::size_t index,
                   const Node** wildcard) const;

  // "/a/b" (decoded, joined) -> API index; looked up by string_view without allocating.
  std::unordered_map<std::string, int, base::StringHash, std::equal_to<>> base_paths_;
  std::size_t max_base_depth_ = 0;
  std::vector<ApiEntry> apis_;
};

}  // namespace mgw::runtime
