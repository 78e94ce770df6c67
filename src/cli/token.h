// `mgw token`: mints a signed JWT in the WSO2 self-contained token shape, for development and
// tests (contract section 1).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace mgw::cli {

struct TokenOptions {
  std::string key_file;
  std::string algorithm = "RS256";
  std::string kid;
  std::string issuer = "https://localhost:9443/oauth2/token";
  std::string subject = "admin";
  std::string audience;
  std::string scope;
  std::string key_type = "PRODUCTION";
  std::string application;          // NAME:TIER
  std::vector<std::string> apis;    // NAME:VERSION:TIER
  long long ttl = 3600;             // NOLINT(google-runtime-int): CLI11 option type
  std::vector<std::string> claims;  // k=v (v parsed as JSON when it is JSON)
};

// The compact JWS, or a message saying what is wrong with the options.
base::Result<std::string> MintToken(const TokenOptions& options);

}  // namespace mgw::cli
