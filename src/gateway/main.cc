// bin/gateway: the runtime shipped inside a distribution.
//
//   bin/gateway [--KEY=VALUE]... [--check] [--distribution=DIR]
//
// Verifies the bundle's digests (refusing to start if anything was altered), reads
// conf/mgw.toml, applies overrides (MGW_* environment first, then flags), and serves until
// SIGTERM/SIGINT. Exit codes: 0 clean stop (or --check passed), 1 cannot start, 2 usage error.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

// The gateway allocates with mimalloc (ADR 0001): operator new and delete go to it directly;
// malloc and free reach it because the binary links it before libc. Included in this one file.
#include <mimalloc-new-delete.h>

#include "base/diagnostics.h"
#include "base/files.h"
#include "base/log.h"
#include "bundle/bundle.h"
#include "config/config.h"
#include "runtime/gateway_config.h"
#include "runtime/server.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX

namespace {

namespace fs = std::filesystem;

constexpr int kCannotStart = 1;
constexpr int kUsage = 2;

constexpr const char* kUsageText = R"(usage: bin/gateway [--KEY=VALUE]... [--check] [--distribution=DIR]

Starts the gateway of this distribution. KEY is a mgw.toml path (--server.http_port=9590) or an
endpoint URL (--endpoints.<name>.production.0=http://host:8080). The same values can be given as
environment variables: MGW_SERVER_HTTP_PORT=9590, MGW_ENDPOINTS_<NAME>_PRODUCTION_0=URL
(flags win). --check verifies the bundle and configuration, then exits.
)";

std::string EnvironmentName(const std::string& key) {
  std::string name = "MGW_";
  for (const char c : key) {
    name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string::npos && text.rfind("MGW_", 0) == 0) {
      out[text.substr(0, equals)] = text.substr(equals + 1);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::pair<std::string, std::string>> flags;
  bool check_only = false;
  fs::path root;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsageText;
      return 0;
    }
    if (arg == "--check") {
      check_only = true;
      continue;
    }
    const auto equals = arg.find('=');
    if (arg.rfind("--", 0) != 0 || equals == std::string::npos) {
      std::cerr << "gateway: unexpected argument \"" << arg << "\" (expected --KEY=VALUE)\n"
                << kUsageText;
      return kUsage;
    }
    const std::string key = arg.substr(2, equals - 2);
    const std::string value = arg.substr(equals + 1);
    if (key == "distribution") {
      root = value;
      continue;
    }
    flags.emplace_back(key, value);
  }
  std::error_code ec;
  if (root.empty()) {
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    root = self.parent_path().parent_path();
  }
  root = fs::weakly_canonical(root, ec);

  auto model = mgw::bundle::ReadBundle(root / "bundle");
  if (!model) {
    std::cerr << "gateway: refusing to start: " << model.error().message << '\n';
    return kCannotStart;
  }

  mgw::config::Config config;
  const fs::path conf = root / "conf" / "mgw.toml";
  if (fs::exists(conf, ec)) {
    auto text = mgw::base::ReadFile(conf);
    if (!text) {
      std::cerr << "gateway: " << text.error().message << '\n';
      return kCannotStart;
    }
    mgw::base::Diagnostics diagnostics;
    config = mgw::config::ParseConfig(*text, "conf/mgw.toml", diagnostics);
    if (diagnostics.HasErrors()) {
      for (const auto& d : diagnostics.All()) {
        std::cerr << "gateway: " << mgw::base::FormatDiagnostic(d) << '\n';
      }
      return kCannotStart;
    }
  }

  // Overrides: environment first, then flags (flags win).
  const auto environment = Environment();
  for (const auto& key : mgw::config::OverridableKeys()) {
    if (auto it = environment.find(EnvironmentName(key)); it != environment.end()) {
      if (auto applied = mgw::config::ApplyOverride(config, key, it->second); !applied) {
        std::cerr << "gateway: " << it->first << ": " << applied.error().message << '\n';
        return kUsage;
      }
    }
  }
  auto endpoint_overrides = mgw::runtime::EndpointOverridesFromEnvironment(*model, environment);
  for (const auto& [key, value] : flags) {
    if (key.rfind("endpoints.", 0) == 0) {
      auto parsed = mgw::runtime::ParseEndpointOverride(key, value);
      if (!parsed) {
        std::cerr << "gateway: " << parsed.error().message << '\n';
        return kUsage;
      }
      endpoint_overrides.push_back(std::move(*parsed));
      continue;
    }
    if (auto applied = mgw::config::ApplyOverride(config, key, value); !applied) {
      std::cerr << "gateway: --" << key << ": " << applied.error().message << '\n';
      return kUsage;
    }
  }
  mgw::base::SetLogLevel(mgw::base::ParseLogLevel(config.log.level));

  const std::size_t api_count = model->apis.size();
  const std::string project = model->project_name;
  auto gateway = mgw::runtime::BuildGatewayConfig(root, std::move(*model), std::move(config),
                                                  endpoint_overrides);
  if (!gateway) {
    std::cerr << "gateway: cannot start: " << gateway.error().message << '\n';
    return kCannotStart;
  }
  if (check_only) {
    std::cout << "gateway: " << project << ": bundle verified, " << api_count
              << " API(s), configuration valid\n";
    return 0;
  }
  mgw::base::LogInfo("bundle verified: project " + project + ", " + std::to_string(api_count) +
                     " API(s)");
  auto server = mgw::runtime::Server::Start(std::shared_ptr<const mgw::runtime::GatewayConfig>(
      std::move(*gateway)));
  if (!server) {
    std::cerr << "gateway: cannot start: " << server.error().message << '\n';
    return kCannotStart;
  }
  return (*server)->Run();
}
