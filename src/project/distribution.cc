#include "project/distribution.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <regex>
#include <system_error>
#include <vector>

#include <archive.h>
#include <archive_entry.h>

#include "base/files.h"
#include "bundle/bundle.h"

namespace mgw::project {
namespace {

namespace fs = std::filesystem;
using base::MakeError;

std::string ReadmeText(const LoadedProject& project) {
  std::string apis;
  for (const auto& api : project.model.apis) {
    apis += "  " + api.title + " " + api.version + "  " + api.base_path + "  (" +
            std::to_string(api.resources.size()) + " resources)\n";
  }
  return "mgw gateway distribution: " + project.name + R"(

APIs:
)" + apis + R"(
Start it (from any working directory):
  bin/gateway
Override deployment settings without a rebuild (flag first, then environment):
  bin/gateway --server.http_port=9590 --endpoints.<name>.production.0=http://backend:8080
  MGW_SERVER_HTTP_PORT=9590 bin/gateway
Admin port (default 127.0.0.1:9797): GET /health, /ready, /metrics.

The APIs, policies and trusted keys are fixed in bundle/ (verified by SHA-256 at start). To change
them, change the project and run `mgw build` again.
)";
}

std::string DockerfileText(const LoadedProject& project, const std::string& image) {
  std::string text = "# Built by mgw build for project " + project.name + ".\n";
  if (!image.empty()) {
    text += "# Build it with: docker build -t " + image + " .\n";
  } else {
    text += "# Build it with: docker build -t " + project.name + ":latest .\n";
  }
  text += R"(FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libhiredis0.14 libnghttp2-14 libcrypt1 zlib1g libcurl4 libtomlplusplus3 libmimalloc2.0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /opt/mgw mgw
COPY --chown=10001:10001 . /opt/mgw/
USER 10001
WORKDIR /opt/mgw
# The admin port must be reachable by the orchestrator's probes.
ENV MGW_ADMIN_HOST=0.0.0.0
EXPOSE )" + std::to_string(project.config.server.http_port);
  if (project.config.server.tls && project.config.server.https_port != 0) {
    text += " " + std::to_string(project.config.server.https_port);
  }
  text += " " + std::to_string(project.config.admin.port) + "\n";
  text += "LABEL org.opencontainers.image.title=\"" + project.name + "\"";
  if (!image.empty()) {
    text += " io.mgw.image=\"" + image + "\"";
  }
  text += "\nSTOPSIGNAL SIGTERM\nENTRYPOINT [\"/opt/mgw/bin/gateway\"]\n";
  return text;
}

std::string DeploymentYaml(const LoadedProject& project, const std::string& image) {
  const std::string admin = std::to_string(project.config.admin.port);
  const std::string http = std::to_string(project.config.server.http_port);
  const std::string drain_s =
      std::to_string(project.config.server.drain_timeout_ms / 1000 + 5);
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + project.name +
         "\n  labels:\n    app: " + project.name +
         "\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: " + project.name +
         "\n  template:\n    metadata:\n      labels:\n        app: " + project.name +
         "\n    spec:\n      terminationGracePeriodSeconds: " + drain_s +
         "\n      containers:\n        - name: gateway\n          image: " + image +
         "\n          env:\n            - name: MGW_ADMIN_HOST\n              value: \"0.0.0.0\""
         "\n          ports:\n            - name: http\n              containerPort: " + http +
         "\n            - name: admin\n              containerPort: " + admin +
         "\n          livenessProbe:\n            httpGet:\n              path: /health\n"
         "              port: admin\n            periodSeconds: 10\n"
         "          readinessProbe:\n            httpGet:\n              path: /ready\n"
         "              port: admin\n            periodSeconds: 5\n"
         "          resources:\n            requests:\n              cpu: 250m\n"
         "              memory: 64Mi\n            limits:\n              memory: 256Mi\n";
}

std::string ServiceYaml(const LoadedProject& project) {
  const std::string http = std::to_string(project.config.server.http_port);
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + project.name +
         "\nspec:\n  selector:\n    app: " + project.name +
         "\n  ports:\n    - name: http\n      port: " + http + "\n      targetPort: http\n";
}

std::string HpaYaml(const LoadedProject& project) {
  return "# Optional: apply it to scale the gateway on CPU.\n"
         "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: " +
         project.name +
         "\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: " +
         project.name +
         "\n  minReplicas: 1\n  maxReplicas: 5\n  metrics:\n    - type: Resource\n"
         "      resource:\n        name: cpu\n        target:\n          type: Utilization\n"
         "          averageUtilization: 70\n";
}

constexpr const char* kLicense = R"(mgw gateway distribution

The gateway executable in bin/ is built from mgw, licensed under the Apache License 2.0.
It links the libraries listed below; their copyright files are in this folder when the toolkit
found them on the build machine (Debian packages):
  Boost (Boost Software License 1.0), OpenSSL 3 (Apache License 2.0), hiredis (BSD-3-Clause),
  nghttp2 (MIT), zlib (zlib licence), mimalloc (MIT).
)";

base::Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) {
    return {};
  }
  for (auto it = fs::recursive_directory_iterator(from, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path relative = fs::relative(it->path(), from, ec);
    if (it->is_directory(ec)) {
      fs::create_directories(to / relative, ec);
    } else if (it->is_regular_file(ec)) {
      fs::create_directories((to / relative).parent_path(), ec);
      fs::copy_file(it->path(), to / relative, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) {
      return MakeError("cannot copy " + it->path().string() + ": " + ec.message());
    }
  }
  if (ec) {
    return MakeError("cannot copy " + from.string() + ": " + ec.message());
  }
  return {};
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

}  // namespace

bool IsValidImageName(const std::string& image) {
  static const std::regex pattern(
      R"(^([a-z0-9.\-]+(:[0-9]+)?/)?[a-z0-9]+([._\-/][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127})?$)");
  return image.size() <= 255 && std::regex_match(image, pattern);
}

base::Result<fs::path> FindGatewayBinary() {
  std::error_code ec;
  if (const char* configured = std::getenv("MGW_GATEWAY_BINARY"); configured != nullptr && *configured) {
    if (fs::is_regular_file(configured, ec)) {
      return fs::path(configured);
    }
    return MakeError(std::string("MGW_GATEWAY_BINARY=") + configured + " does not exist");
  }
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates = {self.parent_path() / "mgw-gateway",
                  self.parent_path().parent_path() / "libexec" / "mgw" / "mgw-gateway"};
  }
  for (const auto& candidate : candidates) {
    if (fs::is_regular_file(candidate, ec)) {
      return candidate;
    }
  }
  std::string tried;
  for (const auto& candidate : candidates) {
    tried += (tried.empty() ? "" : ", ") + candidate.string();
  }
  return MakeError("cannot find the gateway runtime (tried " + tried +
                   "); set MGW_GATEWAY_BINARY");
}

base::Status WriteTarGz(const fs::path& directory, const std::string& prefix,
                        const fs::path& archive_path) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (auto it = fs::recursive_directory_iterator(directory, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    entries.push_back(fs::relative(it->path(), directory, ec));
  }
  if (ec) {
    return MakeError("cannot list " + directory.string() + ": " + ec.message());
  }
  std::sort(entries.begin(), entries.end(),
            [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });
  std::int64_t mtime = 0;
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr) {
    mtime = std::strtoll(epoch, nullptr, 10);
  }

  std::unique_ptr<struct archive, ArchiveDeleter> writer(archive_write_new());
  archive_write_set_format_pax_restricted(writer.get());
  archive_write_add_filter_gzip(writer.get());
  archive_write_set_options(writer.get(), "gzip:!timestamp");
  const fs::path temporary = base::TemporarySibling(archive_path);
  if (archive_write_open_filename(writer.get(), temporary.c_str()) != ARCHIVE_OK) {
    return MakeError("cannot write " + archive_path.string() + ": " +
                     archive_error_string(writer.get()));
  }
  auto fail = [&](const std::string& message) {
    writer.reset();
    fs::remove(temporary, ec);
    return MakeError(message);
  };
  for (const auto& relative : entries) {
    const fs::path full = directory / relative;
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), (prefix + "/" + relative.generic_string()).c_str());
    archive_entry_set_mtime(entry.get(), mtime, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    const bool is_dir = fs::is_directory(full, ec);
    const auto permissions = fs::status(full, ec).permissions();
    const bool executable = (permissions & fs::perms::owner_exec) != fs::perms::none;
    if (is_dir) {
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
      archive_entry_set_perm(entry.get(), 0755);
      archive_entry_set_size(entry.get(), 0);
      if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
        return fail(std::string("cannot archive: ") + archive_error_string(writer.get()));
      }
      continue;
    }
    auto contents = base::ReadFile(full);
    if (!contents) {
      return fail(contents.error().message);
    }
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), executable ? 0755 : 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(contents->size()));
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK ||
        archive_write_data(writer.get(), contents->data(), contents->size()) < 0) {
      return fail(std::string("cannot archive: ") + archive_error_string(writer.get()));
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    return fail(std::string("cannot finish ") + archive_path.string() + ": " +
                archive_error_string(writer.get()));
  }
  writer.reset();
  fs::rename(temporary, archive_path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return MakeError("cannot write " + archive_path.string() + ": " + ec.message());
  }
  return {};
}

base::Result<DistributionResult> WriteDistribution(const LoadedProject& project,
                                                   const DistributionOptions& options) {
  const fs::path target = options.output_dir / project.name;
  auto staging = base::StagingDirectory::Create(target);
  if (!staging) {
    return staging.error();
  }
  const fs::path out = staging->Path();
  std::error_code ec;
  for (const char* dir : {"bin", "conf", "bundle", "certs", "LICENSES"}) {
    fs::create_directories(out / dir, ec);
  }

  // bin/gateway
  fs::copy_file(options.gateway_binary, out / "bin" / "gateway", fs::copy_options::overwrite_existing,
                ec);
  if (ec) {
    return MakeError("cannot copy the gateway runtime " + options.gateway_binary.string() + ": " +
                     ec.message());
  }
  fs::permissions(out / "bin" / "gateway", fs::perms::owner_all | fs::perms::group_read |
                                               fs::perms::group_exec | fs::perms::others_read |
                                               fs::perms::others_exec,
                  ec);

  // bundle/
  if (auto written = bundle::WriteBundle(out / "bundle", project.model, options.toolkit_version);
      !written) {
    return written.error();
  }

  // certs/ and conf/
  if (auto copied = CopyTree(project.root / "certs", out / "certs"); !copied) {
    return copied.error();
  }
  std::map<std::string, std::string> rewrites;
  if (const auto& tls = project.config.server.tls) {
    for (const auto& [key, configured] :
         {std::pair<std::string, std::string>{"server.tls.cert", tls->cert},
          std::pair<std::string, std::string>{"server.tls.key", tls->key}}) {
      const fs::path source =
          fs::path(configured).is_absolute() ? fs::path(configured) : project.root / configured;
      const fs::path relative = fs::path(configured).lexically_normal();
      if (!fs::path(configured).is_absolute() && relative.begin() != relative.end() &&
          *relative.begin() == "certs") {
        continue;  // already inside certs/, copied as it is
      }
      const std::string placed = "certs/" + source.filename().string();
      fs::copy_file(source, out / placed, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        return MakeError("cannot copy " + source.string() + ": " + ec.message());
      }
      rewrites[key] = placed;
    }
  }
  std::string conf = project.has_config_file ? project.config_text
                                             : config::DefaultConfigText(project.name);
  if (!rewrites.empty()) {
    auto rewritten = config::RewriteStringKeys(conf, rewrites);
    if (!rewritten) {
      return rewritten.error();
    }
    conf = std::move(*rewritten);
  }
  if (auto written = base::WriteFile(out / "conf" / "mgw.toml", conf); !written) {
    return written.error();
  }

  // LICENSES/, README.txt, Dockerfile, k8s/
  if (auto written = base::WriteFile(out / "LICENSES" / "README", kLicense); !written) {
    return written.error();
  }
  for (const char* package : {"libssl3", "libboost1.81-dev", "libhiredis0.14", "libnghttp2-14",
                              "zlib1g", "libcurl4", "libtomlplusplus3", "libmimalloc2.0"}) {
    const fs::path copyright = fs::path("/usr/share/doc") / package / "copyright";
    if (fs::is_regular_file(copyright, ec)) {
      fs::copy_file(copyright, out / "LICENSES" / (std::string(package) + ".copyright"),
                    fs::copy_options::overwrite_existing, ec);
    }
  }
  if (auto written = base::WriteFile(out / "README.txt", ReadmeText(project)); !written) {
    return written.error();
  }
  if (auto written =
          base::WriteFile(out / "Dockerfile", DockerfileText(project, options.docker_image));
      !written) {
    return written.error();
  }
  if (options.kubernetes) {
    const std::string image =
        options.docker_image.empty() ? project.name + ":latest" : options.docker_image;
    for (const auto& [name, text] :
         {std::pair<std::string, std::string>{"deployment.yaml", DeploymentYaml(project, image)},
          std::pair<std::string, std::string>{"service.yaml", ServiceYaml(project)},
          std::pair<std::string, std::string>{"hpa.yaml", HpaYaml(project)}}) {
      if (auto written = base::WriteFile(out / "k8s" / name, text); !written) {
        return written.error();
      }
    }
  }

  // The archive is made from the staged folder, then both are put in place.
  const fs::path archive = options.output_dir / (project.name + ".tar.gz");
  const fs::path staged_archive = base::TemporarySibling(archive);
  if (auto written = WriteTarGz(out, project.name, staged_archive); !written) {
    return written.error();
  }
  if (auto committed = staging->Commit(); !committed) {
    fs::remove(staged_archive, ec);
    return committed.error();
  }
  fs::rename(staged_archive, archive, ec);
  if (ec) {
    fs::remove(staged_archive, ec);
    return MakeError("cannot write " + archive.string() + ": " + ec.message());
  }
  return DistributionResult{target, archive};
}

}  // namespace mgw::project
