// Security material of a project: users.htpasswd, static API keys, trusted certificates and
// JWKS files. Everything is checked at build time and copied into the bundle.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/diagnostics.h"
#include "bundle/model.h"

namespace mgw::project {

// Parses `user:hash[:scope1,scope2]` lines. Plaintext or unsupported hashes are errors.
std::vector<bundle::BasicUser> ParseHtpasswd(std::string_view text, const std::string& label,
                                             base::Diagnostics& diagnostics);

// Parses `<sha256-hex> <app-name> <tier>` lines.
std::vector<bundle::StaticApiKey> ParseStaticKeys(std::string_view text, const std::string& label,
                                                  base::Diagnostics& diagnostics);

// Checks that `pem` holds at least one PEM certificate or public key; returns a message or "".
std::string CheckPublicKeyPem(std::string_view pem);

// Checks that `text` is a JWKS document ({"keys": [...]} with kty on each); message or "".
std::string CheckJwks(std::string_view text);

// Checks that `pem` holds a private key; message or "".
std::string CheckPrivateKeyPem(std::string_view pem);

}  // namespace mgw::project
