// mgw: the toolkit command line (contract section 1). Exit codes: 0 success, 1 user error (bad
// input, validation failure), 2 usage error.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "base/diagnostics.h"
#include "cli/analytics_summary.h"
#include "cli/token.h"
#include "project/distribution.h"
#include "project/project.h"
#include "project/scaffold.h"

namespace {

namespace fs = std::filesystem;
using mgw::base::Diagnostics;

constexpr int kOk = 0;
constexpr int kUserError = 1;

struct OutputFlags {
  bool quiet = false;
  bool verbose = false;
  bool json = false;
};

void AddOutputFlags(CLI::App* command, OutputFlags& flags) {
  command->add_flag("-q,--quiet", flags.quiet, "Print errors only");
  command->add_flag("-v,--verbose", flags.verbose, "Print every API and resource");
  command->add_flag("--json", flags.json, "Print a machine-readable result on stdout");
}

void PrintDiagnostics(Diagnostics& diagnostics, bool quiet) {
  diagnostics.Sort();
  for (const auto& d : diagnostics.All()) {
    if (quiet && d.severity != mgw::base::Severity::kError) {
      continue;
    }
    std::cerr << mgw::base::FormatDiagnostic(d) << '\n';
  }
}

boost::json::array DiagnosticsJson(const Diagnostics& diagnostics, mgw::base::Severity severity) {
  boost::json::array out;
  for (const auto& d : diagnostics.All()) {
    if (d.severity != severity) {
      continue;
    }
    out.push_back({{"file", d.location.file},
                   {"line", d.location.line},
                   {"column", d.location.column},
                   {"message", d.message},
                   {"text", mgw::base::FormatDiagnostic(d)}});
  }
  return out;
}

boost::json::object SummaryJson(const mgw::project::LoadedProject& project) {
  boost::json::array apis;
  for (const auto& api : project.model.apis) {
    boost::json::array resources;
    for (const auto& resource : api.resources) {
      resources.push_back({{"method", resource.method},
                           {"path", resource.path_template},
                           {"mock", resource.mock},
                           {"security", resource.security.disabled
                                            ? boost::json::value("none")
                                            : boost::json::value_from(resource.security.types)}});
    }
    apis.push_back({{"title", api.title},
                    {"version", api.version},
                    {"base_path", api.base_path},
                    {"source", "api_definitions/" + api.source},
                    {"resources", resources}});
  }
  const auto& p = project.model.policies;
  return {{"project", project.name},
          {"apis", apis},
          {"api_count", project.model.apis.size()},
          {"resource_count", mgw::project::ResourceCount(project.model)},
          {"policy_count", p.resource.size() + p.application.size() + p.subscription.size()}};
}

void PrintSummary(const mgw::project::LoadedProject& project, bool verbose) {
  const auto& p = project.model.policies;
  std::cout << project.name << ": " << project.model.apis.size() << " API(s), "
            << mgw::project::ResourceCount(project.model) << " resource(s), "
            << p.resource.size() + p.application.size() + p.subscription.size()
            << " policies\n";
  for (const auto& api : project.model.apis) {
    std::cout << "  " << api.title << " " << api.version << "  " << api.base_path << "  ("
              << api.resources.size() << " resources, api_definitions/" << api.source << ")\n";
    if (verbose) {
      for (const auto& resource : api.resources) {
        std::cout << "      " << resource.method << " " << resource.path_template
                  << (resource.mock ? "  [mock]" : "")
                  << (resource.security.disabled ? "  [no auth]" : "") << '\n';
      }
    }
  }
}

// Prints where the APIs will be served and a curl line to try, honouring a --server.http_port
// or --server.host override.
void PrintEndpoints(const mgw::project::LoadedProject& project,
                    const std::vector<std::string>& overrides) {
  int port = project.config.server.http_port;
  int admin_port = project.config.admin.port;
  std::string host = project.config.server.host;
  for (const auto& o : overrides) {
    if (o.rfind("--server.http_port=", 0) == 0) {
      port = std::atoi(o.substr(19).c_str());
    } else if (o.rfind("--server.host=", 0) == 0) {
      host = o.substr(14);
    } else if (o.rfind("--admin.port=", 0) == 0) {
      admin_port = std::atoi(o.substr(13).c_str());
    }
  }
  if (host == "0.0.0.0" || host == "::") {
    host = "localhost";
  }
  const std::string base = "http://" + host + ":" + std::to_string(port);
  std::cout << "APIs:\n";
  const mgw::bundle::Resource* open = nullptr;
  const mgw::bundle::Api* open_api = nullptr;
  for (const auto& api : project.model.apis) {
    std::cout << "  " << api.title << " " << api.version << "  " << base << api.base_path << '\n';
    for (const auto& resource : api.resources) {
      if (open == nullptr && resource.security.disabled && resource.method == "GET" &&
          resource.path_template.find('{') == std::string::npos) {
        open = &resource;
        open_api = &api;
      }
    }
  }
  std::cout << "Admin: http://" << project.config.admin.host << ":" << admin_port << "/health\n";
  if (open != nullptr) {
    std::cout << "Try:   curl -i " << base << (open_api->base_path == "/" ? "" : open_api->base_path)
              << open->path_template << '\n';
  }
  std::cout << "Stop:  Ctrl-C (the gateway drains in-flight requests, then exits)\n";
}

int Validate(const std::string& project_dir, const OutputFlags& flags) {
  Diagnostics diagnostics;
  auto project = mgw::project::LoadProject(project_dir, {}, diagnostics);
  PrintDiagnostics(diagnostics, flags.quiet);
  const bool ok = !diagnostics.HasErrors();
  if (flags.json) {
    boost::json::object result = SummaryJson(project);
    result["ok"] = ok;
    result["errors"] = DiagnosticsJson(diagnostics, mgw::base::Severity::kError);
    result["warnings"] = DiagnosticsJson(diagnostics, mgw::base::Severity::kWarning);
    std::cout << boost::json::serialize(result) << '\n';
  } else if (ok && !flags.quiet) {
    PrintSummary(project, flags.verbose);
    std::cout << "valid (" << diagnostics.WarningCount() << " warning(s))\n";
  } else if (!ok) {
    std::cerr << "validation failed: " << diagnostics.ErrorCount() << " error(s)\n";
  }
  return ok ? kOk : kUserError;
}

struct BuildOptions {
  std::string project;
  std::string output;
  std::string docker_image;
  bool k8s = false;
};

int Build(const BuildOptions& options, const OutputFlags& flags) {
  Diagnostics diagnostics;
  if (!options.docker_image.empty() && !mgw::project::IsValidImageName(options.docker_image)) {
    std::cerr << "error: --docker-image \"" << options.docker_image
              << "\" is not a valid image name (NAME:TAG)\n";
    return kUserError;
  }
  auto project = mgw::project::LoadProject(options.project, {}, diagnostics);
  PrintDiagnostics(diagnostics, flags.quiet);
  auto fail_json = [&](const std::string& message) {
    if (flags.json) {
      boost::json::object result = SummaryJson(project);
      result["ok"] = false;
      result["errors"] = DiagnosticsJson(diagnostics, mgw::base::Severity::kError);
      result["warnings"] = DiagnosticsJson(diagnostics, mgw::base::Severity::kWarning);
      if (!message.empty()) {
        result["errors"].as_array().push_back({{"file", ""}, {"line", 0}, {"column", 0},
                                               {"message", message}, {"text", "error: " + message}});
      }
      std::cout << boost::json::serialize(result) << '\n';
    }
    return kUserError;
  };
  if (diagnostics.HasErrors()) {
    std::cerr << "build failed: " << diagnostics.ErrorCount() << " error(s); nothing was written\n";
    return fail_json("");
  }
  auto gateway = mgw::project::FindGatewayBinary();
  if (!gateway) {
    std::cerr << "error: " << gateway.error().message << '\n';
    return fail_json(gateway.error().message);
  }
  mgw::project::DistributionOptions distribution;
  distribution.output_dir =
      options.output.empty() ? project.root / "target" : fs::absolute(options.output);
  distribution.gateway_binary = *gateway;
  distribution.docker_image = options.docker_image;
  distribution.kubernetes = options.k8s;
  distribution.toolkit_version = MGW_VERSION;
  auto written = mgw::project::WriteDistribution(project, distribution);
  if (!written) {
    std::cerr << "error: " << written.error().message << '\n';
    return fail_json(written.error().message);
  }
  if (flags.json) {
    boost::json::object result = SummaryJson(project);
    result["ok"] = true;
    result["output"] = written->directory.string();
    result["archive"] = written->archive.string();
    result["errors"] = boost::json::array();
    result["warnings"] = DiagnosticsJson(diagnostics, mgw::base::Severity::kWarning);
    std::cout << boost::json::serialize(result) << '\n';
  } else if (!flags.quiet) {
    PrintSummary(project, flags.verbose);
    std::cout << "output:  " << written->directory.string() << '\n'
              << "archive: " << written->archive.string() << '\n';
  }
  return kOk;
}

// `mgw run`: a distribution runs as it is; a project is built first (into its target/). The
// gateway replaces this process, so signals reach it directly.
int Run(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  fs::path distribution;
  if (fs::exists(fs::path(path) / "bundle" / "manifest.json", ec)) {
    distribution = path;
  } else {
    Diagnostics diagnostics;
    auto project = mgw::project::LoadProject(path, {}, diagnostics);
    PrintDiagnostics(diagnostics, true);
    if (diagnostics.HasErrors()) {
      std::cerr << "build failed: " << diagnostics.ErrorCount() << " error(s)\n";
      return kUserError;
    }
    auto gateway = mgw::project::FindGatewayBinary();
    if (!gateway) {
      std::cerr << "error: " << gateway.error().message << '\n';
      return kUserError;
    }
    mgw::project::DistributionOptions options;
    options.output_dir = project.root / "target";
    options.gateway_binary = *gateway;
    options.toolkit_version = MGW_VERSION;
    auto written = mgw::project::WriteDistribution(project, options);
    if (!written) {
      std::cerr << "error: " << written.error().message << '\n';
      return kUserError;
    }
    distribution = written->directory;
    std::cerr << "built " << distribution.string() << '\n';
    PrintEndpoints(project, overrides);
  }
  const std::string binary = (distribution / "bin" / "gateway").string();
  std::vector<std::string> args = {binary};
  args.insert(args.end(), overrides.begin(), overrides.end());
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  std::cout.flush();
  ::execv(binary.c_str(), argv.data());
  std::cerr << "error: cannot start " << binary << ": " << std::strerror(errno) << '\n';
  return kUserError;
}

int FetchAll(const std::vector<std::string>& sources,
             std::vector<mgw::project::FetchedDefinition>& out) {
  bool ok = true;
  for (const auto& source : sources) {
    auto fetched = mgw::project::FetchDefinition(source);
    if (!fetched) {
      std::cerr << "error: " << fetched.error().message << '\n';
      ok = false;
      continue;
    }
    out.push_back(std::move(*fetched));
  }
  return ok ? kOk : kUserError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mgw: builds immutable API gateway distributions from OpenAPI projects"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every command");

  std::string project_dir;
  std::vector<std::string> definitions;
  bool force = false;
  OutputFlags flags;
  BuildOptions build_options;

  auto* init = app.add_subcommand("init", "Create a project folder");
  init->add_option("project", project_dir, "Project folder to create")->required();
  init->add_option("-a,--api-definition", definitions,
                   "OpenAPI file or http(s) URL to add (repeatable)");
  init->add_flag("-f,--force", force, "Write into an existing non-empty folder");

  auto* import = app.add_subcommand("import", "Add API definitions to a project");
  import->add_option("project", project_dir, "Project folder")->required();
  import->add_option("-a,--api-definition", definitions,
                     "OpenAPI file or http(s) URL to add (repeatable)")
      ->required();

  auto* validate = app.add_subcommand("validate", "Check a project; writes nothing");
  validate->add_option("project", project_dir, "Project folder")->required();
  AddOutputFlags(validate, flags);

  auto* build = app.add_subcommand("build", "Validate, then write the gateway distribution");
  build->add_option("project", build_options.project, "Project folder")->required();
  build->add_option("-o,--output", build_options.output,
                    "Output folder (default: <project>/target)");
  build->add_option("--docker-image", build_options.docker_image,
                    "Image NAME:TAG written into the Dockerfile and k8s files");
  build->add_flag("--k8s", build_options.k8s, "Also write Kubernetes manifests to k8s/");
  AddOutputFlags(build, flags);

  std::string run_path;
  std::vector<std::string> run_overrides;
  auto* run = app.add_subcommand(
      "run", "Run a distribution in the foreground (building it first when given a project)");
  run->add_option("path", run_path, "Project or distribution folder")->required();
  run->allow_extras();
  run->footer("Extra arguments --KEY=VALUE are passed to the gateway as overrides.");

  mgw::cli::TokenOptions token_options;
  auto* token = app.add_subcommand("token", "Mint a signed JWT (WSO2 self-contained shape) for tests");
  token->add_option("--key", token_options.key_file,
                    "PEM private key (or a file holding the HS* secret)")
      ->required();
  token->add_option("--alg", token_options.algorithm, "JWS algorithm")->capture_default_str();
  token->add_option("--kid", token_options.kid, "Key id for the header");
  token->add_option("--iss", token_options.issuer, "Issuer")->capture_default_str();
  token->add_option("--sub", token_options.subject, "Subject (user)")->capture_default_str();
  token->add_option("--aud", token_options.audience, "Audience");
  token->add_option("--scope", token_options.scope, "Space-separated scopes");
  token->add_option("--keytype", token_options.key_type, "PRODUCTION or SANDBOX")
      ->capture_default_str();
  token->add_option("--app", token_options.application, "Application NAME:TIER");
  token->add_option("--api", token_options.apis, "Subscribed API NAME:VERSION:TIER (repeatable)");
  token->add_option("--ttl", token_options.ttl, "Lifetime in seconds")->capture_default_str();
  token->add_option("--claim", token_options.claims, "Extra claim key=value (repeatable)");

  std::string analytics_dir;
  bool analytics_json = false;
  int analytics_top = 10;
  auto* analytics = app.add_subcommand("analytics", "Work with analytics event files");
  analytics->require_subcommand(1);
  auto* summary = analytics->add_subcommand(
      "summary", "Per API/resource counts, error rates, latency p50/p95/p99, top applications");
  summary->add_option("dir", analytics_dir, "Folder of event files (analytics.dir)")->required();
  summary->add_flag("--json", analytics_json, "Print one JSON object");
  summary->add_option("--top", analytics_top, "How many applications to list")->capture_default_str();

  auto* version = app.add_subcommand("version", "Print the toolkit version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (*version) {
      std::cout << "mgw " << MGW_VERSION << '\n';
      return kOk;
    }
    if (*validate) {
      return Validate(project_dir, flags);
    }
    if (*summary) {
      auto text = mgw::cli::SummariseAnalytics(analytics_dir, analytics_json, analytics_top);
      if (!text) {
        std::cerr << "error: " << text.error().message << '\n';
        return kUserError;
      }
      std::cout << *text;
      return kOk;
    }
    if (*token) {
      auto minted = mgw::cli::MintToken(token_options);
      if (!minted) {
        std::cerr << "error: " << minted.error().message << '\n';
        return kUserError;
      }
      std::cout << *minted << '\n';
      return kOk;
    }
    if (*run) {
      for (const auto& extra : run->remaining()) {
        if (extra.rfind("--", 0) != 0 || extra.find('=') == std::string::npos) {
          std::cerr << "error: unexpected argument \"" << extra << "\" (overrides are --KEY=VALUE)\n";
          return 2;
        }
        run_overrides.push_back(extra);
      }
      return Run(run_path, run_overrides);
    }
    if (*build) {
      return Build(build_options, flags);
    }
    if (*init || *import) {
      std::vector<mgw::project::FetchedDefinition> fetched;
      if (FetchAll(definitions, fetched) != kOk) {
        std::cerr << "nothing was written\n";
        return kUserError;
      }
      Diagnostics diagnostics;
      auto status = *init ? mgw::project::InitProject(project_dir, fetched, force, diagnostics)
                          : mgw::project::ImportDefinitions(project_dir, fetched, diagnostics);
      PrintDiagnostics(diagnostics, false);
      if (!status) {
        std::cerr << "error: " << status.error().message << '\n';
        return kUserError;
      }
      if (*init) {
        std::cout << "created project " << project_dir << '\n'
                  << "next: mgw build " << project_dir << '\n';
      } else {
        for (const auto& definition : fetched) {
          std::cout << "added api_definitions/" << definition.file_name << '\n';
        }
      }
      return kOk;
    }
  } catch (const std::exception& e) {
    // Our code reports through Result; reaching this is a bug, still never a crash.
    std::cerr << "internal error: " << e.what() << '\n';
    return kUserError;
  }
  return 2;
}
