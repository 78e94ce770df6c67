#include "project/scaffold.h"

#include <set>
#include <system_error>

#include "base/files.h"
#include "config/config.h"
#include "project/download.h"
#include "project/policies.h"
#include "project/project.h"

namespace mgw::project {
namespace {

namespace fs = std::filesystem;
using base::MakeError;

std::string SafeFileName(std::string name) {
  for (char& c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-') {
      c = '_';
    }
  }
  while (!name.empty() && name.front() == '.') {
    name.erase(name.begin());
  }
  return name.empty() ? std::string("api") : name;
}

std::string WithExtension(std::string name, const std::string& text) {
  const fs::path path(name);
  const std::string extension = path.extension().string();
  if (extension == ".yaml" || extension == ".yml" || extension == ".json") {
    return name;
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string::npos && (text[first] == '{' || text[first] == '[');
  return name + (json ? ".json" : ".yaml");
}

const char* kGitignore = "target/\n";

base::Status CheckNoErrors(const base::Diagnostics& diagnostics) {
  if (diagnostics.HasErrors()) {
    return MakeError(std::to_string(diagnostics.ErrorCount()) +
                     " error(s) in the API definitions; nothing was written");
  }
  return {};
}

}  // namespace

base::Result<FetchedDefinition> FetchDefinition(const std::string& file_or_url) {
  FetchedDefinition fetched;
  if (IsUrl(file_or_url)) {
    auto body = Download(file_or_url);
    if (!body) {
      return body.error();
    }
    std::string path = file_or_url.substr(file_or_url.find("://") + 3);
    path = path.substr(0, path.find_first_of("?#"));
    const auto slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? std::string() : path.substr(slash + 1);
    fetched.file_name = WithExtension(SafeFileName(name.empty() ? "api" : name), *body);
    fetched.text = std::move(*body);
    return fetched;
  }
  auto text = base::ReadFile(file_or_url);
  if (!text) {
    return text.error();
  }
  fetched.file_name = WithExtension(SafeFileName(fs::path(file_or_url).filename().string()), *text);
  fetched.text = std::move(*text);
  return fetched;
}

namespace {

base::Result<DefinitionOverlay> MakeOverlay(const std::vector<FetchedDefinition>& definitions,
                                            const fs::path& existing_definitions) {
  DefinitionOverlay overlay;
  std::error_code ec;
  for (const auto& definition : definitions) {
    if (overlay.contains(definition.file_name)) {
      return MakeError("two definitions would both be named api_definitions/" +
                       definition.file_name);
    }
    if (!existing_definitions.empty() &&
        fs::exists(existing_definitions / definition.file_name, ec)) {
      return MakeError("api_definitions/" + definition.file_name +
                       " already exists; remove it first to replace it");
    }
    overlay[definition.file_name] = definition.text;
  }
  return overlay;
}

}  // namespace

base::Status InitProject(const fs::path& project, const std::vector<FetchedDefinition>& definitions,
                         bool force, base::Diagnostics& diagnostics) {
  std::error_code ec;
  const bool exists = fs::exists(project, ec);
  if (exists && !fs::is_directory(project, ec)) {
    return MakeError(project.string() + " exists and is not a folder");
  }
  if (exists && !fs::is_empty(project, ec) && !force) {
    return MakeError(project.string() + " exists and is not empty; use --force to write into it");
  }
  const std::string name = fs::absolute(project).lexically_normal().filename().string();
  const std::string project_name =
      name.empty() ? fs::absolute(project).lexically_normal().parent_path().filename().string()
                   : name;
  if (!IsValidProjectName(project_name)) {
    return MakeError("project name \"" + project_name +
                     "\" may contain only letters, digits, '.', '_' and '-'");
  }
  auto overlay = MakeOverlay(definitions, {});
  if (!overlay) {
    return overlay.error();
  }

  // Stage the whole project, validate it there, then put it in place.
  auto staging = base::StagingDirectory::Create(project);
  if (!staging) {
    return staging.error();
  }
  const fs::path out = staging->Path();
  for (const char* dir : {"api_definitions", "certs", "extensions"}) {
    fs::create_directories(out / dir, ec);
  }
  std::vector<std::pair<fs::path, std::string>> files = {
      {"mgw.toml", config::DefaultConfigText(project_name)},
      {"policies.yaml", DefaultPoliciesText()},
      {".gitignore", kGitignore},
      {"certs/README.md", "Trusted issuer certificates, JWKS files and the TLS certificate and key "
                          "go here; mgw.toml names them.\n"},
      {"extensions/README.md", "Reserved for user extensions compiled into the distribution.\n"},
  };
  for (const auto& [relative, text] : *overlay) {
    files.emplace_back(fs::path("api_definitions") / relative, text);
  }
  for (const auto& [relative, text] : files) {
    if (auto written = base::WriteFile(out / relative, text); !written) {
      return written;
    }
  }
  if (!definitions.empty()) {
    base::Diagnostics loaded;
    LoadProject(out, {}, loaded);
    // Report under the user's project path, not the staging folder.
    for (const auto& d : loaded.All()) {
      diagnostics.Add(d);
    }
    if (auto ok = CheckNoErrors(loaded); !ok) {
      return ok;
    }
  }
  if (!exists || fs::is_empty(project, ec)) {
    if (exists) {
      fs::remove(project, ec);
    }
    return staging->Commit();
  }
  // --force into a non-empty folder: put each file in place atomically, keep the others.
  for (const auto& [relative, text] : files) {
    fs::create_directories((project / relative).parent_path(), ec);
    if (auto written = base::WriteFileAtomic(project / relative, text); !written) {
      return written;
    }
  }
  return {};
}

base::Status ImportDefinitions(const fs::path& project,
                               const std::vector<FetchedDefinition>& definitions,
                               base::Diagnostics& diagnostics) {
  std::error_code ec;
  if (!fs::is_directory(project, ec) || !fs::exists(project / "mgw.toml", ec)) {
    return MakeError(project.string() + " is not an mgw project (no mgw.toml); create one with "
                     "mgw init");
  }
  const fs::path definitions_dir = project / "api_definitions";
  auto overlay = MakeOverlay(definitions, definitions_dir);
  if (!overlay) {
    return overlay.error();
  }
  LoadProject(project, *overlay, diagnostics);
  if (auto ok = CheckNoErrors(diagnostics); !ok) {
    return ok;
  }
  fs::create_directories(definitions_dir, ec);
  std::vector<fs::path> written;
  for (const auto& [relative, text] : *overlay) {
    if (auto status = base::WriteFileAtomic(definitions_dir / relative, text); !status) {
      for (const auto& path : written) {
        fs::remove(path, ec);  // all or nothing
      }
      return status;
    }
    written.push_back(definitions_dir / relative);
  }
  return {};
}

}  // namespace mgw::project
