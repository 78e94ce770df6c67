// Writes a gateway distribution (contract section 2) from a validated project: bin/gateway,
// conf/mgw.toml, bundle/, certs/, LICENSES/, README.txt, Dockerfile, optionally k8s/, and the
// .tar.gz archive beside it. All or nothing: a failure leaves the previous output untouched.
#pragma once

#include <filesystem>
#include <string>

#include "base/result.h"
#include "project/project.h"

namespace mgw::project {

struct DistributionOptions {
  std::filesystem::path output_dir;  // where <name>/ and <name>.tar.gz go
  std::filesystem::path gateway_binary;
  std::string docker_image;  // NAME:TAG, may be empty
  bool kubernetes = false;
  std::string toolkit_version;
};

struct DistributionResult {
  std::filesystem::path directory;
  std::filesystem::path archive;
};

base::Result<DistributionResult> WriteDistribution(const LoadedProject& project,
                                                   const DistributionOptions& options);

// Where the gateway runtime executable is: $MGW_GATEWAY_BINARY, else beside this executable
// (`mgw-gateway`), else ../libexec/mgw/mgw-gateway. Fails with a message naming the places tried.
base::Result<std::filesystem::path> FindGatewayBinary();

// True for a plausible Docker image reference NAME[:TAG] (lower-case name components).
bool IsValidImageName(const std::string& image);

// Writes a deterministic .tar.gz of `directory` with entries under `prefix/`: sorted names,
// fixed owner, modes and times (SOURCE_DATE_EPOCH when set, else 0).
base::Status WriteTarGz(const std::filesystem::path& directory, const std::string& prefix,
                        const std::filesystem::path& archive);

}  // namespace mgw::project
