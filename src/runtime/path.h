// Request-path normalisation (contract section 8), done once per request before routing.
//
// The raw path is split on '/', empty segments (duplicate slashes) are dropped, each segment is
// percent-decoded, "." and ".." segments are resolved (never above the root), and the result is
// what routing sees. A decoded "/" (from %2F) stays inside its segment: it is routed as data and
// can never act as a separator or step out of a base path. The upstream path is rebuilt from the
// same segments, re-encoding what must be encoded, so the backend receives exactly what was
// routed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mgw::runtime {

struct NormalisedPath {
  std::vector<std::string> segments;  // decoded
  bool trailing_slash = false;        // the raw path ended in '/' (kept when forwarding)
};

enum class PathError { kNone, kNotAbsolute, kBadEncoding, kNulByte };

// Normalises the path part of a request target (no query). Returns kNone on success.
PathError NormalisePath(std::string_view raw, NormalisedPath& out);

// Encodes one decoded segment for use in a URL path: unreserved characters and the sub-delims
// allowed in a segment are kept, everything else (including '/') is percent-encoded.
void AppendEncodedSegment(std::string_view segment, std::string& out);

// "/" + segments[from..] joined with "/", encoded, plus the trailing slash when set. Returns ""
// when there is nothing after `from` and no trailing slash.
std::string EncodedSuffix(const NormalisedPath& path, std::size_t from);

// Splits a request target into path and query (without the '?'); an absolute-form target
// ("http://host/p?q") gives its path. Returns false for a target that is neither.
bool SplitTarget(std::string_view target, std::string_view& path, std::string_view& query);

}  // namespace mgw::runtime
