#include "security/jwt.h"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

namespace mgw::security {
namespace {

namespace json = boost::json;

std::optional<json::object> DecodeObject(std::string_view b64) {
  auto text = Base64UrlDecode(b64);
  if (!text) {
    return std::nullopt;
  }
  json::error_code ec;
  auto value = json::parse(*text, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  return std::move(value.get_object());
}

std::optional<std::int64_t> NumericDate(const json::object& claims, std::string_view name) {
  const auto* value = claims.if_contains(name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_int64()) {
    return value->get_int64();
  }
  if (value->is_uint64()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(value->get_uint64(), INT64_MAX));
  }
  if (value->is_double() && std::isfinite(value->get_double())) {
    return static_cast<std::int64_t>(std::floor(value->get_double()));
  }
  return std::nullopt;
}

std::string AsText(const json::value* value) {
  if (value == nullptr) {
    return {};
  }
  if (value->is_string()) {
    return std::string(value->get_string());
  }
  if (value->is_int64()) {
    return std::to_string(value->get_int64());
  }
  if (value->is_uint64()) {
    return std::to_string(value->get_uint64());
  }
  return {};
}

std::vector<std::string> Strings(const json::value* value) {
  std::vector<std::string> out;
  if (value == nullptr) {
    return out;
  }
  if (value->is_string()) {
    std::string_view text = value->get_string();
    while (!text.empty()) {
      const auto space = text.find(' ');
      if (space != 0) {
        out.emplace_back(text.substr(0, space));
      }
      text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    }
  } else if (value->is_array()) {
    for (const auto& item : value->get_array()) {
      if (item.is_string()) {
        out.emplace_back(item.get_string());
      }
    }
  }
  return out;
}

void FillPrincipal(const json::object& claims, const bundle::JwtIssuer& issuer, Principal& p) {
  p.auth_type = "jwt";
  p.issuer = issuer.issuer;
  p.user = AsText(claims.if_contains("sub"));
  if (p.user.empty()) {
    p.user = "anonymous";
  }
  if (auto key_type = AsText(claims.if_contains("keytype")); !key_type.empty()) {
    std::transform(key_type.begin(), key_type.end(), key_type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    p.key_type = key_type;
  }
  if (const auto* app = claims.if_contains("application"); app != nullptr && app->is_object()) {
    const auto& a = app->get_object();
    if (auto id = AsText(a.if_contains("id")); !id.empty()) {
      p.application_id = id;
    } else if (auto uuid = AsText(a.if_contains("uuid")); !uuid.empty()) {
      p.application_id = uuid;
    }
    if (auto name = AsText(a.if_contains("name")); !name.empty()) {
      p.application_name = name;
    }
    if (auto tier = AsText(a.if_contains("tier")); !tier.empty()) {
      p.application_tier = tier;
    }
    p.application_owner = AsText(a.if_contains("owner"));
  }
  for (const char* claim : {"subscribedAPIs", "allowedAPIs"}) {
    const auto* list = claims.if_contains(claim);
    if (list == nullptr || !list->is_array()) {
      continue;
    }
    p.has_subscriptions = true;
    for (const auto& item : list->get_array()) {
      if (!item.is_object()) {
        continue;
      }
      const auto& s = item.get_object();
      Subscription subscription;
      subscription.name = AsText(s.if_contains("name"));
      subscription.version = AsText(s.if_contains("version"));
      subscription.context = AsText(s.if_contains("context"));
      subscription.tier = AsText(s.if_contains("subscriptionTier"));
      subscription.publisher = AsText(s.if_contains("publisher"));
      p.subscriptions.push_back(std::move(subscription));
    }
  }
  p.scopes = Strings(claims.if_contains("scope"));
  const auto* consumer = claims.if_contains(issuer.consumer_key_claim);
  if (consumer != nullptr && consumer->is_array() && !consumer->get_array().empty()) {
    p.consumer_key = AsText(&consumer->get_array()[0]);
  } else {
    p.consumer_key = AsText(consumer);
  }
  p.validate_subscriptions = issuer.validate_subscriptions;
  p.expires_at = NumericDate(claims, "exp").value_or(0);
}

}  // namespace

std::optional<TokenParts> SplitCompact(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  TokenParts parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                   token.substr(second + 1)};
  if (parts.header_b64.empty() || parts.payload_b64.empty()) {
    return std::nullopt;
  }
  return parts;
}

JwtValidator::JwtValidator(
    const std::vector<bundle::JwtIssuer>& issuers,
    const std::function<std::optional<std::string>(const std::string&)>& secret_of) {
  for (const auto& config : issuers) {
    auto issuer = std::make_unique<Issuer>();
    issuer->config = config;
    auto keys = std::make_shared<KeySet>();
    if (!config.certificate_pem.empty()) {
      if (auto pem = KeysFromPem(config.certificate_pem)) {
        keys->certificate = std::move(*pem);
      } else {
        warnings_.push_back("issuer " + config.issuer + ": " + pem.error().message);
      }
    }
    if (!config.jwks_json.empty()) {
      int skipped = 0;
      if (auto jwks = KeysFromJwks(config.jwks_json, &skipped)) {
        for (auto& key : *jwks) {
          if (key->Kid().empty()) {
            keys->anonymous.push_back(std::move(key));
          } else {
            keys->by_kid[key->Kid()] = std::move(key);
          }
        }
        if (skipped > 0) {
          warnings_.push_back("issuer " + config.issuer + ": " + std::to_string(skipped) +
                              " JWKS key(s) are not usable signature keys and were skipped");
        }
      } else {
        warnings_.push_back("issuer " + config.issuer + ": " + jwks.error().message);
      }
    }
    if (!config.secret_env.empty()) {
      if (auto secret = secret_of(config.secret_env); secret && !secret->empty()) {
        keys->secret = Key::FromSecret(*secret, "");
      } else {
        warnings_.push_back("issuer " + config.issuer + ": environment variable " +
                            config.secret_env + " is not set; HS* tokens will be refused");
      }
    }
    if (config.algorithms.empty()) {
      issuer->allowed = {Algorithm::kRs256, Algorithm::kRs384, Algorithm::kRs512,
                         Algorithm::kPs256, Algorithm::kPs384, Algorithm::kPs512,
                         Algorithm::kEs256, Algorithm::kEs384, Algorithm::kEs512,
                         Algorithm::kEdDsa};
      if (keys->secret) {
        issuer->allowed.insert(issuer->allowed.end(),
                               {Algorithm::kHs256, Algorithm::kHs384, Algorithm::kHs512});
      }
    } else {
      for (const auto& name : config.algorithms) {
        if (auto algorithm = ParseAlgorithm(name)) {
          issuer->allowed.push_back(*algorithm);
        }
      }
    }
    issuer->keys.store(std::move(keys));
    by_name_[config.issuer] = static_cast<int>(issuers_.size());
    issuers_.push_back(std::move(issuer));
  }
}

void JwtValidator::ReplaceJwks(int index, std::vector<KeyPtr> keys) {
  auto& issuer = *issuers_[index];
  auto current = issuer.keys.load();
  auto next = std::make_shared<KeySet>();
  next->certificate = current->certificate;
  next->secret = current->secret;
  for (auto& key : keys) {
    if (key->Kid().empty()) {
      next->anonymous.push_back(std::move(key));
    } else {
      next->by_kid[key->Kid()] = std::move(key);
    }
  }
  // A key withdrawn from the JWKS (or replaced under the same kid) ends the trust in what it
  // signed, cached or not.
  auto kept = [&](const KeyPtr& old_key) {
    if (!old_key->Kid().empty()) {
      const auto it = next->by_kid.find(old_key->Kid());
      return it != next->by_kid.end() && it->second->SameAs(*old_key);
    }
    return std::any_of(next->anonymous.begin(), next->anonymous.end(),
                       [&](const KeyPtr& k) { return k->SameAs(*old_key); });
  };
  bool withdrawn = !std::all_of(current->anonymous.begin(), current->anonymous.end(), kept);
  for (const auto& [kid, key] : current->by_kid) {
    withdrawn = withdrawn || !kept(key);
  }
  issuer.keys.store(std::move(next));
  if (withdrawn) {
    key_generation_.fetch_add(1, std::memory_order_acq_rel);
  }
}

JwtResult JwtValidator::Validate(std::string_view token, std::int64_t now, std::int64_t skew_s) const {
  JwtResult result;
  auto fail = [&](JwtFailure failure, std::string description) {
    result.failure = failure;
    result.description = std::move(description);
    return result;
  };
  const auto parts = SplitCompact(token);
  if (!parts) {
    return fail(JwtFailure::kMalformed, "The token is not a JWS in compact form");
  }
  auto header = DecodeObject(parts->header_b64);
  auto claims = DecodeObject(parts->payload_b64);
  auto signature = Base64UrlDecode(parts->signature_b64);
  if (!header || !claims || !signature) {
    return fail(JwtFailure::kMalformed, "The token's header, payload or signature is not valid "
                                        "base64url JSON");
  }
  const auto* alg_value = header->if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) {
    return fail(JwtFailure::kAlgorithm, "The token has no alg");
  }
  const auto algorithm = ParseAlgorithm(alg_value->get_string());
  if (!algorithm) {
    return fail(JwtFailure::kAlgorithm, "The token's algorithm is not accepted");
  }
  if (header->if_contains("crit") != nullptr) {
    return fail(JwtFailure::kAlgorithm, "The token has critical header parameters mgw does not "
                                        "understand");
  }
  const auto iss = AsText(claims->if_contains("iss"));
  const auto it = by_name_.find(iss);
  if (iss.empty() || it == by_name_.end()) {
    return fail(JwtFailure::kUnknownIssuer, "The token's issuer is not trusted");
  }
  result.issuer = it->second;
  const Issuer& issuer = *issuers_[it->second];
  if (std::find(issuer.allowed.begin(), issuer.allowed.end(), *algorithm) == issuer.allowed.end()) {
    return fail(JwtFailure::kAlgorithm, "The token's algorithm is not allowed for its issuer");
  }

  // Claim renaming before anything reads the claims.
  for (const auto& pair : issuer.config.claims) {
    if (pair.size() == 2 && claims->contains(pair[0]) && !claims->contains(pair[1])) {
      (*claims)[pair[1]] = (*claims)[pair[0]];
    }
  }

  // Keys: by kid from the JWKS, else the certificate keys (and anonymous JWKS keys).
  const auto keys = issuer.keys.load();
  const std::string kid = AsText(header->if_contains("kid"));
  std::vector<const Key*> candidates;
  bool kid_unknown = false;
  if (IsHmac(*algorithm)) {
    if (keys->secret) {
      candidates.push_back(keys->secret.get());
    }
  } else {
    if (!kid.empty()) {
      if (auto found = keys->by_kid.find(kid); found != keys->by_kid.end()) {
        candidates.push_back(found->second.get());
      }
    }
    // A kid the JWKS does not know may be a new key (rotation): if the fallback keys below do
    // not verify the token either, say so (kUnknownKey), so that the runtime re-fetches.
    kid_unknown = !kid.empty() && candidates.empty();
    if (candidates.empty()) {
      for (const auto& key : keys->certificate) {
        candidates.push_back(key.get());
      }
      for (const auto& key : keys->anonymous) {
        candidates.push_back(key.get());
      }
      if (kid.empty()) {
        for (const auto& [unused, key] : keys->by_kid) {
          candidates.push_back(key.get());
        }
      }
    }
  }
  if (candidates.empty()) {
    return fail(JwtFailure::kUnknownKey, "No key of the issuer matches the token");
  }
  const std::size_t signed_length = parts->header_b64.size() + 1 + parts->payload_b64.size();
  const std::string_view signing_input = token.substr(0, signed_length);
  bool verified = false;
  for (const Key* key : candidates) {
    if (VerifySignature(*algorithm, *key, signing_input, *signature)) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    if (kid_unknown) {
      return fail(JwtFailure::kUnknownKey, "No key of the issuer matches the token");
    }
    return fail(JwtFailure::kSignature, "The token's signature is not valid");
  }

  const auto exp = NumericDate(*claims, "exp");
  if (!exp) {
    return fail(JwtFailure::kExpired, "The token has no expiry (exp)");
  }
  // RFC 7519 4.1.4: the token must not be accepted on or after exp (plus the allowed skew).
  if (now >= *exp + skew_s) {
    return fail(JwtFailure::kExpired, "The access token expired");
  }
  if (const auto nbf = NumericDate(*claims, "nbf"); nbf && now + skew_s < *nbf) {
    return fail(JwtFailure::kNotYetValid, "The access token is not yet valid");
  }
  if (auto iat = NumericDate(*claims, "iat")) {
    if (*iat > 100000000000LL) {
      *iat /= 1000;  // WSO2 API Manager writes iat in milliseconds
    }
    if (*iat > now + skew_s) {
      return fail(JwtFailure::kNotYetValid, "The access token was issued in the future");
    }
  }
  if (!issuer.config.audience.empty()) {
    const auto audience = Strings(claims->if_contains("aud"));
    const bool match = std::any_of(audience.begin(), audience.end(), [&](const std::string& a) {
      return std::find(issuer.config.audience.begin(), issuer.config.audience.end(), a) !=
             issuer.config.audience.end();
    });
    if (!match) {
      return fail(JwtFailure::kAudience, "The token's audience is not accepted");
    }
  }
  FillPrincipal(*claims, issuer.config, result.principal);
  return result;
}

}  // namespace mgw::security
