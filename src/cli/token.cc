#include "cli/token.h"

#include <chrono>
#include <random>

#include <boost/json.hpp>

#include "base/files.h"
#include "security/jose.h"

namespace mgw::cli {
namespace {

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(separator, start);
    out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) {
      return out;
    }
    start = at + 1;
  }
}

std::string RandomId() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit(0, 15);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    out += kHex[digit(device)];
  }
  return out;
}

}  // namespace

base::Result<std::string> MintToken(const TokenOptions& options) {
  const auto algorithm = security::ParseAlgorithm(options.algorithm);
  if (!algorithm) {
    return base::MakeError("--alg " + options.algorithm +
                           " is not one of RS256/384/512, PS256/384/512, ES256/384/512, EdDSA, "
                           "HS256/384/512");
  }
  auto key_text = base::ReadFile(options.key_file);
  if (!key_text) {
    return key_text.error();
  }
  security::KeyPtr key;
  if (security::IsHmac(*algorithm)) {
    std::string secret = *key_text;
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
      secret.pop_back();
    }
    key = security::Key::FromSecret(secret, options.kid);
  } else {
    auto parsed = security::PrivateKeyFromPem(*key_text);
    if (!parsed) {
      return base::MakeError(options.key_file + ": " + parsed.error().message);
    }
    key = *parsed;
  }
  if (options.ttl <= 0) {
    return base::MakeError("--ttl must be a positive number of seconds");
  }

  boost::json::object header{{"alg", options.algorithm}, {"typ", "JWT"}};
  if (!options.kid.empty()) {
    header["kid"] = options.kid;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  boost::json::object claims;
  claims["iss"] = options.issuer;
  claims["sub"] = options.subject;
  if (!options.audience.empty()) {
    claims["aud"] = options.audience;
  }
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = now + options.ttl;
  claims["jti"] = RandomId();
  if (!options.scope.empty()) {
    claims["scope"] = options.scope;
  }
  claims["keytype"] = options.key_type;
  if (!options.application.empty()) {
    const auto parts = Split(options.application, ':');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return base::MakeError("--app must be NAME:TIER");
    }
    claims["application"] = {{"id", parts[0]}, {"name", parts[0]}, {"tier", parts[1]},
                             {"owner", options.subject}};
  }
  if (!options.apis.empty()) {
    boost::json::array subscribed;
    for (const auto& api : options.apis) {
      const auto parts = Split(api, ':');
      if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
        return base::MakeError("--api must be NAME:VERSION:TIER (got \"" + api + "\")");
      }
      subscribed.push_back({{"name", parts[0]},
                            {"version", parts[1]},
                            {"subscriptionTier", parts[2]},
                            {"publisher", "admin"}});
    }
    claims["subscribedAPIs"] = std::move(subscribed);
  }
  for (const auto& claim : options.claims) {
    const auto equals = claim.find('=');
    if (equals == std::string::npos || equals == 0) {
      return base::MakeError("--claim must be key=value (got \"" + claim + "\")");
    }
    boost::json::error_code ec;
    auto value = boost::json::parse(claim.substr(equals + 1), ec);
    claims[claim.substr(0, equals)] = ec ? boost::json::value(claim.substr(equals + 1)) : value;
  }
  const std::string signing_input = security::Base64UrlEncode(boost::json::serialize(header)) + "." +
                                    security::Base64UrlEncode(boost::json::serialize(claims));
  auto signature = security::Sign(*algorithm, *key, signing_input);
  if (!signature) {
    return signature.error();
  }
  return signing_input + "." + security::Base64UrlEncode(*signature);
}

}  // namespace mgw::cli
