#include "runtime/path.h"

#include <algorithm>

namespace mgw::runtime {
namespace {

int HexValue(char c) {
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
}

bool KeepInSegment(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '-': case '.': case '_': case '~':                         // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')':  // sub-delims
    case '*': case '+': case ',': case ';': case '=': case ':': case '@':
      return true;
    default:
      return false;
  }
}

}  // namespace

PathError NormalisePath(std::string_view raw, NormalisedPath& out) {
  out.segments.clear();
  out.trailing_slash = false;
  if (raw.empty() || raw.front() != '/') {
    return PathError::kNotAbsolute;
  }
  out.segments.reserve(static_cast<std::size_t>(std::count(raw.begin(), raw.end(), '/')));
  std::size_t i = 0;
  bool last_was_dot_segment = false;
  while (i < raw.size()) {
    while (i < raw.size() && raw[i] == '/') {
      ++i;
    }
    if (i >= raw.size()) {
      break;
    }
    const std::size_t end = raw.find('/', i);
    const std::string_view encoded = raw.substr(i, end == std::string_view::npos ? raw.size() - i : end - i);
    i = end == std::string_view::npos ? raw.size() : end;
    std::string decoded;
    // Most segments have no escape: one copy, not one append per character.
    const std::size_t first_escape = encoded.find('%');
    decoded.reserve(encoded.size());
    decoded.assign(encoded.substr(0, first_escape));
    for (std::size_t k = decoded.size(); k < encoded.size(); ++k) {
      if (encoded[k] == '%') {
        if (k + 2 >= encoded.size()) {
          return PathError::kBadEncoding;
        }
        const int hi = HexValue(encoded[k + 1]);
        const int lo = HexValue(encoded[k + 2]);
        if (hi < 0 || lo < 0) {
          return PathError::kBadEncoding;
        }
        const char c = static_cast<char>(hi * 16 + lo);
        if (c == '\0') {
          return PathError::kNulByte;
        }
        decoded += c;
        k += 2;
      } else {
        decoded += encoded[k];
      }
    }
    if (decoded == ".") {
      last_was_dot_segment = true;
      continue;
    }
    if (decoded == "..") {
      if (!out.segments.empty()) {
        out.segments.pop_back();
      }
      last_was_dot_segment = true;
      continue;
    }
    last_was_dot_segment = false;
    out.segments.push_back(std::move(decoded));
  }
  out.trailing_slash = !out.segments.empty() && (raw.back() == '/' || last_was_dot_segment);
  return PathError::kNone;
}

void AppendEncodedSegment(std::string_view segment, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::size_t kept = 0;  // start of the run of characters copied as they are
  for (std::size_t i = 0; i < segment.size(); ++i) {
    const auto c = static_cast<unsigned char>(segment[i]);
    if (!KeepInSegment(c)) {
      const char escaped[] = {'%', kHex[c >> 4], kHex[c & 0xf]};
      out.append(segment.data() + kept, i - kept).append(escaped, sizeof escaped);
      kept = i + 1;
    }
  }
  out.append(segment.data() + kept, segment.size() - kept);
}

std::string EncodedSuffix(const NormalisedPath& path, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < path.segments.size(); ++i) {
    out += '/';
    AppendEncodedSegment(path.segments[i], out);
  }
  if (path.trailing_slash) {
    out += '/';
  }
  return out;
}

bool SplitTarget(std::string_view target, std::string_view& path, std::string_view& query) {
  if (!target.empty() && target.front() != '/') {
    // absolute-form: scheme://authority/path?query
    const auto scheme = target.find("://");
    if (scheme == std::string_view::npos) {
      return false;
    }
    const auto slash = target.find_first_of("/?", scheme + 3);
    if (slash == std::string_view::npos) {
      target = "/";
    } else if (target[slash] == '?') {
      path = "/";
      query = target.substr(slash + 1);
      return true;
    } else {
      target = target.substr(slash);
    }
  }
  if (target.empty()) {
    return false;
  }
  const auto question = target.find('?');
  path = target.substr(0, question);
  query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  // A fragment is never sent by a conforming client; drop it rather than route on it.
  if (const auto hash = path.find('#'); hash != std::string_view::npos) {
    path = path.substr(0, hash);
  }
  return true;
}

}  // namespace mgw::runtime
