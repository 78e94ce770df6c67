// Reading YAML (and JSON, which yaml-cpp reads as YAML) with source positions, without letting
// yaml-cpp's exceptions escape. Every accessor takes a const node: yaml-cpp's non-const
// operator[] inserts missing keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>
#include <yaml-cpp/yaml.h>

#include "base/diagnostics.h"

namespace mgw::project {

// Parses `text` as YAML/JSON. On a syntax error, reports it at its line and column under `label`
// and returns std::nullopt.
std::optional<YAML::Node> ParseYaml(std::string_view text, const std::string& label,
                                    base::Diagnostics& diagnostics);

// The location of `node` in the file called `label` (1-based line and column).
base::SourceLocation LocationOf(const YAML::Node& node, const std::string& label);

// A plain or quoted scalar's text; std::nullopt for maps, sequences, null and undefined nodes.
std::optional<std::string> ScalarText(const YAML::Node& node);

// True when `node` is a scalar that was written without quotes (so `true`, `12` are typed).
bool IsPlainScalar(const YAML::Node& node);

// A YAML 1.2 core-schema boolean (true/false, any case, unquoted), else std::nullopt.
std::optional<bool> BoolValue(const YAML::Node& node);

// An unquoted integer scalar, else std::nullopt.
std::optional<std::int64_t> IntValue(const YAML::Node& node);

// An unquoted number (integer or decimal), else std::nullopt.
std::optional<double> NumberValue(const YAML::Node& node);

// A sequence of scalars, else std::nullopt.
std::optional<std::vector<std::string>> StringList(const YAML::Node& node);

// The value of `key` in a map, or an undefined node. Safe on any node kind.
YAML::Node Child(const YAML::Node& node, std::string_view key);

// Converts a YAML node to JSON: plain scalars become numbers, booleans or null where the YAML
// core schema says so; quoted scalars stay strings. Aliases are followed; `max_depth` bounds
// nesting.
boost::json::value YamlToJson(const YAML::Node& node, int max_depth = 256);

// As YamlToJson(), serialised compactly, except that a number written as JSON writes it
// (`9.5`, `12345678901234567890`) keeps its text instead of going through a double (which would
// print `9.5E0` and lose digits).
std::string YamlToJsonText(const YAML::Node& node, int max_depth = 256);

}  // namespace mgw::project
