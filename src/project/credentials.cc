#include "project/credentials.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <set>

#include <boost/json.hpp>

namespace mgw::project {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

template <class F>
void ForEachLine(std::string_view text, F&& f) {
  int number = 0;
  while (!text.empty()) {
    ++number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    line = Trim(line);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    f(number, line);
  }
}

bool IsSupportedHash(std::string_view hash) {
  for (const char* prefix : {"$2y$", "$2b$", "$2a$", "$6$", "$5$", "{SHA}"}) {
    if (hash.substr(0, std::string_view(prefix).size()) == prefix) {
      return true;
    }
  }
  return false;
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

}  // namespace

std::vector<bundle::BasicUser> ParseHtpasswd(std::string_view text, const std::string& label,
                                             base::Diagnostics& diagnostics) {
  std::vector<bundle::BasicUser> users;
  std::set<std::string> names;
  ForEachLine(text, [&](int number, std::string_view line) {
    const auto first = line.find(':');
    if (first == std::string_view::npos || first == 0) {
      diagnostics.Error({label, number, 1}, "expected user:hash[:scope1,scope2]");
      return;
    }
    bundle::BasicUser user;
    user.name = std::string(line.substr(0, first));
    std::string_view rest = line.substr(first + 1);
    // crypt hashes contain no ':'; anything after a second ':' is the scope list.
    const auto second = rest.find(':');
    user.hash = std::string(rest.substr(0, second));
    if (!IsSupportedHash(user.hash)) {
      // Never echo the value: it may be a plaintext password.
      diagnostics.Error({label, number, static_cast<int>(first) + 2},
                        "user \"" + user.name +
                            "\": the password is not hashed with a supported scheme (bcrypt $2y$/$2b$, "
                            "SHA-512-crypt $6$, SHA-256-crypt $5$, {SHA}); plaintext passwords are "
                            "refused. Create one with: htpasswd -nbB user password");
      return;
    }
    if (second != std::string_view::npos) {
      std::string_view scopes = rest.substr(second + 1);
      while (!scopes.empty()) {
        const auto comma = scopes.find(',');
        const auto scope = Trim(scopes.substr(0, comma));
        if (!scope.empty()) {
          user.scopes.emplace_back(scope);
        }
        scopes = comma == std::string_view::npos ? std::string_view() : scopes.substr(comma + 1);
      }
      std::sort(user.scopes.begin(), user.scopes.end());
    }
    if (!names.insert(user.name).second) {
      diagnostics.Error({label, number, 1}, "user \"" + user.name + "\" appears twice");
      return;
    }
    users.push_back(std::move(user));
  });
  std::sort(users.begin(), users.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return users;
}

std::vector<bundle::StaticApiKey> ParseStaticKeys(std::string_view text, const std::string& label,
                                                  base::Diagnostics& diagnostics) {
  std::vector<bundle::StaticApiKey> keys;
  std::set<std::string> digests;
  ForEachLine(text, [&](int number, std::string_view line) {
    std::vector<std::string> fields;
    std::string_view rest = line;
    while (!rest.empty()) {
      const auto space = rest.find_first_of(" \t");
      fields.emplace_back(rest.substr(0, space));
      rest = space == std::string_view::npos ? std::string_view() : Trim(rest.substr(space));
    }
    if (fields.size() != 3) {
      diagnostics.Error({label, number, 1}, "expected \"<sha256-hex> <app-name> <tier>\"");
      return;
    }
    std::string digest = fields[0];
    std::transform(digest.begin(), digest.end(), digest.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool hex = digest.size() == 64 &&
                     std::all_of(digest.begin(), digest.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex) {
      diagnostics.Error({label, number, 1},
                        "the first field must be the key's SHA-256 in hex (64 characters); "
                        "compute it with: printf %s KEY | sha256sum");
      return;
    }
    if (!digests.insert(digest).second) {
      diagnostics.Error({label, number, 1}, "the same key appears twice");
      return;
    }
    keys.push_back({digest, fields[1], fields[2]});
  });
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.sha256 < b.sha256; });
  return keys;
}

std::string CheckPublicKeyPem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    return "out of memory";
  }
  int found = 0;
  // Each PEM block must be a certificate or a public key.
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;  // NOLINT(google-runtime-int): OpenSSL's signature
  while (PEM_read_bio(bio.get(), &name, &header, &data, &length) == 1) {
    const std::string block(name);
    const unsigned char* cursor = data;
    bool ok = false;
    if (block == "CERTIFICATE" || block == "TRUSTED CERTIFICATE") {
      X509* cert = d2i_X509(nullptr, &cursor, length);
      ok = cert != nullptr;
      X509_free(cert);
    } else if (block == "PUBLIC KEY") {
      EVP_PKEY* key = d2i_PUBKEY(nullptr, &cursor, length);
      ok = key != nullptr;
      EVP_PKEY_free(key);
    } else if (block == "RSA PUBLIC KEY") {
      ok = true;
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (!ok) {
      ERR_clear_error();
      return "a PEM block \"" + block + "\" is not a readable certificate or public key";
    }
    ++found;
  }
  ERR_clear_error();
  if (found == 0) {
    return "no PEM certificate or public key found";
  }
  return {};
}

std::string CheckPrivateKeyPem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (key == nullptr) {
    return "no readable (unencrypted) PEM private key found";
  }
  EVP_PKEY_free(key);
  return {};
}

std::string CheckJwks(std::string_view text) {
  boost::json::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec) {
    return "not valid JSON: " + ec.message();
  }
  const auto* object = value.if_object();
  const auto* keys = object != nullptr ? object->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return "a JWKS must be an object with a \"keys\" array";
  }
  for (const auto& key : keys->get_array()) {
    const auto* k = key.if_object();
    if (k == nullptr || k->if_contains("kty") == nullptr) {
      return "every JWKS key needs a \"kty\"";
    }
  }
  return {};
}

}  // namespace mgw::project
