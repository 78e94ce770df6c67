#include "bundle/bundle.h"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include <boost/json.hpp>

#include "base/canonical_json.h"
#include "base/files.h"
#include "base/sha256.h"

namespace mgw::bundle {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using base::MakeError;

constexpr const char* kManifest = "manifest.json";

// The optional members of the model need explicit tag_invoke overloads in Boost 1.81 only for
// reading when absent; we always write every member (null for an empty optional).

template <class T>
base::Result<T> FromJsonText(const std::string& name, const std::string& text) {
  json::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec) {
    return MakeError("bundle/" + name + ": not valid JSON: " + ec.message());
  }
  auto converted = json::try_value_to<T>(value);
  if (!converted) {
    return MakeError("bundle/" + name + ": unexpected content: " + converted.error().message());
  }
  return std::move(*converted);
}

struct ApisFile {
  std::string project;
  std::vector<Api> apis;
};
BOOST_DESCRIBE_STRUCT(ApisFile, (), (project, apis))

struct EndpointsFile {
  std::vector<EndpointGroup> endpoint_groups;
};
BOOST_DESCRIBE_STRUCT(EndpointsFile, (), (endpoint_groups))

struct ManifestEntry {
  std::string name;
  std::string sha256;
  std::uint64_t bytes = 0;
};
BOOST_DESCRIBE_STRUCT(ManifestEntry, (), (name, sha256, bytes))

struct Manifest {
  int format = kBundleFormat;
  std::string toolkit_version;
  std::string project;
  std::vector<ManifestEntry> files;
};
BOOST_DESCRIBE_STRUCT(Manifest, (), (format, toolkit_version, project, files))

}  // namespace

std::vector<BundleFile> SerializeBundle(const Model& model, const std::string& toolkit_version) {
  std::vector<BundleFile> files;
  files.push_back({"apis.json",
                   base::CanonicalJson(json::value_from(ApisFile{model.project_name, model.apis}))});
  files.push_back(
      {"endpoints.json", base::CanonicalJson(json::value_from(EndpointsFile{model.endpoint_groups}))});
  files.push_back({"policies.json", base::CanonicalJson(json::value_from(model.policies))});
  files.push_back({"security.json", base::CanonicalJson(json::value_from(model.security))});

  Manifest manifest;
  manifest.toolkit_version = toolkit_version;
  manifest.project = model.project_name;
  for (const auto& file : files) {
    manifest.files.push_back({file.name, base::Sha256Hex(file.contents), file.contents.size()});
  }
  files.push_back({kManifest, base::CanonicalJson(json::value_from(manifest))});
  return files;
}

base::Status WriteBundle(const fs::path& directory, const Model& model,
                         const std::string& toolkit_version) {
  for (const auto& file : SerializeBundle(model, toolkit_version)) {
    if (auto written = base::WriteFile(directory / file.name, file.contents); !written) {
      return written;
    }
  }
  return {};
}

namespace {

base::Result<Manifest> ReadManifest(const fs::path& directory) {
  auto text = base::ReadFile(directory / kManifest);
  if (!text) {
    return MakeError("bundle is missing its manifest (" + (directory / kManifest).string() + ")");
  }
  auto manifest = FromJsonText<Manifest>(kManifest, *text);
  if (!manifest) {
    return manifest.error();
  }
  if (manifest->format != kBundleFormat) {
    return MakeError("bundle format " + std::to_string(manifest->format) +
                     " is not supported (expected " + std::to_string(kBundleFormat) + ")");
  }
  return manifest;
}

}  // namespace

base::Status VerifyBundle(const fs::path& directory) {
  auto manifest = ReadManifest(directory);
  if (!manifest) {
    return manifest.error();
  }
  std::set<std::string> listed{kManifest};
  for (const auto& entry : manifest->files) {
    listed.insert(entry.name);
    auto contents = base::ReadFile(directory / entry.name);
    if (!contents) {
      return MakeError("bundle file " + entry.name + " is missing");
    }
    if (!base::ConstantTimeEquals(base::Sha256Hex(*contents), entry.sha256)) {
      return MakeError("bundle file " + entry.name +
                       " was altered (its SHA-256 differs from the manifest)");
    }
  }
  std::error_code ec;
  for (const auto& item : fs::recursive_directory_iterator(directory, ec)) {
    const std::string name = fs::relative(item.path(), directory, ec).generic_string();
    if (!listed.contains(name)) {
      return MakeError("bundle holds a file the manifest does not list: " + name);
    }
  }
  if (ec) {
    return MakeError("cannot list bundle folder " + directory.string() + ": " + ec.message());
  }
  return {};
}

base::Result<Model> ParseBundle(const std::vector<BundleFile>& files) {
  std::map<std::string, const std::string*> by_name;
  for (const auto& file : files) {
    by_name[file.name] = &file.contents;
  }
  auto find = [&](const std::string& name) -> base::Result<const std::string*> {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return MakeError("bundle file " + name + " is missing");
    }
    return it->second;
  };
  Model model;
  {
    auto text = find("apis.json");
    if (!text) {
      return text.error();
    }
    auto apis = FromJsonText<ApisFile>("apis.json", **text);
    if (!apis) {
      return apis.error();
    }
    model.project_name = std::move(apis->project);
    model.apis = std::move(apis->apis);
  }
  {
    auto text = find("endpoints.json");
    if (!text) {
      return text.error();
    }
    auto endpoints = FromJsonText<EndpointsFile>("endpoints.json", **text);
    if (!endpoints) {
      return endpoints.error();
    }
    model.endpoint_groups = std::move(endpoints->endpoint_groups);
  }
  {
    auto text = find("policies.json");
    if (!text) {
      return text.error();
    }
    auto policies = FromJsonText<Policies>("policies.json", **text);
    if (!policies) {
      return policies.error();
    }
    model.policies = std::move(*policies);
  }
  {
    auto text = find("security.json");
    if (!text) {
      return text.error();
    }
    auto security = FromJsonText<SecurityMaterial>("security.json", **text);
    if (!security) {
      return security.error();
    }
    model.security = std::move(*security);
  }
  return model;
}

base::Result<Model> ReadBundle(const fs::path& directory) {
  if (auto verified = VerifyBundle(directory); !verified) {
    return verified.error();
  }
  auto manifest = ReadManifest(directory);
  if (!manifest) {
    return manifest.error();
  }
  std::vector<BundleFile> files;
  for (const auto& entry : manifest->files) {
    auto contents = base::ReadFile(directory / entry.name);
    if (!contents) {
      return contents.error();
    }
    files.push_back({entry.name, std::move(*contents)});
  }
  return ParseBundle(files);
}

}  // namespace mgw::bundle
