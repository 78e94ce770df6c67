// The bundle: the canonical, digested serialisation of a Model, written by `mgw build` into
// `<distribution>/bundle/` and read by the gateway at start.
//
//   bundle/manifest.json   format, toolkit version, project name, and per file its SHA-256
//   bundle/apis.json       the APIs and resources
//   bundle/endpoints.json  the endpoint groups
//   bundle/policies.json   the rate-limit policies
//   bundle/security.json   trusted issuers and keys, Basic users, static API-key digests
//
// Every file is canonical JSON (sorted keys, no whitespace, no timestamps, no absolute paths), so
// the same project gives byte-identical files.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "bundle/model.h"

namespace mgw::bundle {

inline constexpr int kBundleFormat = 1;

struct BundleFile {
  std::string name;  // relative to bundle/, e.g. "apis.json"
  std::string contents;
};

// The bundle's files, manifest last. Deterministic for a given model and toolkit version.
std::vector<BundleFile> SerializeBundle(const Model& model, const std::string& toolkit_version);

// Writes SerializeBundle() into `directory` (which must exist).
base::Status WriteBundle(const std::filesystem::path& directory, const Model& model,
                         const std::string& toolkit_version);

// Checks that every file the manifest lists exists with the digest it records, and that the
// folder holds no other file. The error names the first file that differs.
base::Status VerifyBundle(const std::filesystem::path& directory);

// Verifies, then parses the bundle back into a Model.
base::Result<Model> ReadBundle(const std::filesystem::path& directory);

// Parses bundle files without touching the file system (tests, fuzzing). Does not verify.
base::Result<Model> ParseBundle(const std::vector<BundleFile>& files);

}  // namespace mgw::bundle
