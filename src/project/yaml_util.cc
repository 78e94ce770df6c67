#include "project/yaml_util.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <yaml-cpp/depthguard.h>

namespace mgw::project {

namespace {

// YAML aliases let a small file describe a huge tree (the "billion laughs" alias bomb), and
// everything that walks a document would expand it. Without aliases a document has fewer nodes
// than bytes, so a walk that counts more than a few nodes per byte has met an alias bomb.
bool ExpandsWithin(const YAML::Node& root, std::size_t limit) {
  std::vector<YAML::Node> stack{root};
  std::size_t count = 0;
  while (!stack.empty()) {
    const YAML::Node node = stack.back();
    stack.pop_back();
    if (++count > limit) {
      return false;
    }
    if (node.IsMap()) {
      for (const auto& member : node) {
        stack.push_back(member.first);
        stack.push_back(member.second);
      }
    } else if (node.IsSequence()) {
      for (const auto& element : node) {
        stack.push_back(element);
      }
    }
  }
  return true;
}

}  // namespace

std::optional<YAML::Node> ParseYaml(std::string_view text, const std::string& label,
                                    base::Diagnostics& diagnostics) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!ExpandsWithin(root, 4 * text.size() + 100000)) {
      diagnostics.Error({label, 0, 0},
                        "cannot parse: its aliases (*name) expand it to far more nodes than the "
                        "file holds (a YAML alias bomb?)");
      return std::nullopt;
    }
    return root;
  } catch (const YAML::DeepRecursion& e) {
    diagnostics.Error({label, e.mark.line + 1, e.mark.column + 1},
                      "cannot parse: nested too deeply (more than " + std::to_string(e.depth() - 1) +
                          " levels)");
  } catch (const YAML::Exception& e) {
    diagnostics.Error({label, e.mark.line + 1, e.mark.column + 1}, "cannot parse: " + e.msg);
  } catch (const std::exception& e) {
    diagnostics.Error({label, 0, 0}, std::string("cannot parse: ") + e.what());
  }
  return std::nullopt;
}

base::SourceLocation LocationOf(const YAML::Node& node, const std::string& label) {
  if (!node.IsDefined()) {
    return {label, 0, 0};
  }
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return {label, 0, 0};
  }
  return {label, mark.line + 1, mark.column + 1};
}

std::optional<std::string> ScalarText(const YAML::Node& node) {
  if (!node.IsDefined() || !node.IsScalar()) {
    return std::nullopt;
  }
  return node.Scalar();
}

bool IsPlainScalar(const YAML::Node& node) {
  return node.IsDefined() && node.IsScalar() && node.Tag() != "!";
}

std::optional<bool> BoolValue(const YAML::Node& node) {
  if (!IsPlainScalar(node)) {
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  return std::nullopt;
}

std::optional<std::int64_t> IntValue(const YAML::Node& node) {
  if (!IsPlainScalar(node)) {
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  std::int64_t value = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') {
    ++begin;
  }
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || begin == end) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> NumberValue(const YAML::Node& node) {
  if (!IsPlainScalar(node)) {
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  if (s.empty()) {
    return std::nullopt;
  }
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> StringList(const YAML::Node& node) {
  if (!node.IsDefined() || !node.IsSequence()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& element : node) {
    auto text = ScalarText(element);
    if (!text) {
      return std::nullopt;
    }
    out.push_back(*text);
  }
  return out;
}

YAML::Node Child(const YAML::Node& node, std::string_view key) {
  if (!node.IsDefined() || !node.IsMap()) {
    return YAML::Node(YAML::NodeType::Undefined);
  }
  const YAML::Node& const_node = node;
  YAML::Node child = const_node[std::string(key)];
  // A missing key gives an "invalid" node on which Type()/Mark() throw; hand out a valid,
  // undefined node instead.
  if (!child.IsDefined()) {
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return child;
}

namespace {

boost::json::value PlainScalarToJson(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  std::int64_t integer = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, integer); ec == std::errc() && ptr == end) {
    return integer;
  }
  // A YAML core-schema float: digits with '.', 'e' or 'E' (strtod alone would accept "inf", hex).
  const bool looks_numeric =
      s.find_first_not_of("0123456789+-.eE") == std::string::npos &&
      s.find_first_of("0123456789") != std::string::npos;
  if (looks_numeric) {
    char* parsed_end = nullptr;
    const double value = std::strtod(s.c_str(), &parsed_end);
    if (parsed_end == s.c_str() + s.size() && std::isfinite(value)) {
      return value;
    }
  }
  return boost::json::string(s);
}

}  // namespace

boost::json::value YamlToJson(const YAML::Node& node, int max_depth) {
  if (max_depth <= 0 || !node.IsDefined()) {
    return nullptr;
  }
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      boost::json::object object;
      for (const auto& member : node) {
        auto key = ScalarText(member.first);
        object[key ? *key : std::string()] = YamlToJson(member.second, max_depth - 1);
      }
      return object;
    }
    case YAML::NodeType::Sequence: {
      boost::json::array array;
      for (const auto& element : node) {
        array.push_back(YamlToJson(element, max_depth - 1));
      }
      return array;
    }
    case YAML::NodeType::Scalar:
      if (!IsPlainScalar(node)) {
        return boost::json::string(node.Scalar());
      }
      return PlainScalarToJson(node.Scalar());
    default:
      return nullptr;
  }
}

namespace {

// True when `s` is a number in JSON's own syntax (RFC 8259 section 6).
bool IsJsonNumber(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
    }
    return i > start;
  };
  if (i < s.size() && s[i] == '-') {
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (i >= s.size() || s[i] < '1' || s[i] > '9' || !digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) {
      return false;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    if (!digits()) {
      return false;
    }
  }
  return i == s.size();
}

void WriteJsonText(const YAML::Node& node, int max_depth, std::string& out) {
  if (max_depth <= 0 || !node.IsDefined()) {
    out += "null";
    return;
  }
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      // As in YamlToJson(): a repeated key keeps its first place and its last value.
      std::vector<std::pair<std::string, YAML::Node>> members;
      for (const auto& member : node) {
        std::string key = ScalarText(member.first).value_or(std::string());
        auto same = std::find_if(members.begin(), members.end(),
                                 [&](const auto& m) { return m.first == key; });
        if (same != members.end()) {
          same->second.reset(member.second);
        } else {
          members.emplace_back(std::move(key), member.second);
        }
      }
      out += '{';
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) {
          out += ',';
        }
        out += boost::json::serialize(boost::json::string_view(members[i].first));
        out += ':';
        WriteJsonText(members[i].second, max_depth - 1, out);
      }
      out += '}';
      return;
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& element : node) {
        if (!first) {
          out += ',';
        }
        first = false;
        WriteJsonText(element, max_depth - 1, out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Scalar:
      if (IsPlainScalar(node) && IsJsonNumber(node.Scalar())) {
        out += node.Scalar();
      } else {
        out += boost::json::serialize(YamlToJson(node, 1));
      }
      return;
    default:
      out += "null";
      return;
  }
}

}  // namespace

std::string YamlToJsonText(const YAML::Node& node, int max_depth) {
  std::string out;
  WriteJsonText(node, max_depth, out);
  return out;
}

}  // namespace mgw::project
