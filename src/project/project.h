// A user's project folder (contract section 2), loaded and validated as a whole: mgw.toml,
// api_definitions/, policies.yaml, certs/, users.htpasswd. The result is the bundle model plus
// every diagnostic; nothing is written.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/diagnostics.h"
#include "bundle/model.h"
#include "config/config.h"

namespace mgw::project {

struct LoadedProject {
  std::filesystem::path root;
  std::string name;
  config::Config config;
  bool has_config_file = false;
  std::string config_text;  // mgw.toml as written by the user
  bundle::Model model;
  std::vector<std::string> definition_files;  // relative to api_definitions/, sorted
};

// Definitions that exist only in memory, by path relative to api_definitions/ (used by `init
// -a` and `import` to validate before writing).
using DefinitionOverlay = std::map<std::string, std::string>;

// Loads and validates the project at `root`. The returned model is complete only when
// `diagnostics` has no errors.
LoadedProject LoadProject(const std::filesystem::path& root, const DefinitionOverlay& overlay,
                          base::Diagnostics& diagnostics);

// The number of resources in all APIs of `model`.
std::size_t ResourceCount(const bundle::Model& model);

// True when `name` is usable as a project and distribution name: letters, digits, '.', '_', '-'.
bool IsValidProjectName(const std::string& name);

}  // namespace mgw::project
