// `mgw init` and `mgw import`: create a project, add definitions. Definitions are fetched and
// validated (in the context of the project) before anything is written.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/diagnostics.h"
#include "base/result.h"

namespace mgw::project {

struct FetchedDefinition {
  std::string file_name;  // the name it gets in api_definitions/
  std::string text;
};

// Reads a local file or downloads a URL; the file name comes from the path or the URL's last
// segment (with .yaml/.json added when missing).
base::Result<FetchedDefinition> FetchDefinition(const std::string& file_or_url);

// Creates `<project>` with mgw.toml, api_definitions/ (holding `definitions`), policies.yaml,
// certs/, .gitignore. Fails without writing if the folder exists and is not empty (unless
// `force`), or if the resulting project does not validate (diagnostics say why).
base::Status InitProject(const std::filesystem::path& project,
                         const std::vector<FetchedDefinition>& definitions, bool force,
                         base::Diagnostics& diagnostics);

// Adds `definitions` to an existing project's api_definitions/. Nothing is written unless the
// project validates with them (diagnostics say why) and no file name is taken.
base::Status ImportDefinitions(const std::filesystem::path& project,
                               const std::vector<FetchedDefinition>& definitions,
                               base::Diagnostics& diagnostics);

}  // namespace mgw::project
