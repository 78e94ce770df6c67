// Test helpers for the security library: throw-away keys made with OpenSSL at test time, their
// public forms (PEM, JWK), tokens signed with mgw's own Sign(), hex and file reading. Only the
// unit tests, the vector test and the benchmarks include this.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "security/jose.h"

namespace mgw::security::testing {

// "RSA-2048", "RSA-3072", "RSA-1024", "P-256", "P-384", "P-521", "Ed25519", "secp256k1".
// Generated once per process and cached: RSA key generation is slow.
inline EVP_PKEY* GeneratedKey(const std::string& kind) {
  static std::mutex mutex;
  static std::map<std::string, EVP_PKEY*> keys;  // intentionally never freed (process lifetime)
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = keys.find(kind); it != keys.end()) {
    return it->second;
  }
  EVP_PKEY* pkey = nullptr;
  if (kind.rfind("RSA-", 0) == 0) {
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(std::stoul(kind.substr(4))));
  } else if (kind == "Ed25519") {
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else {
    const char* group = kind == "P-256" ? "P-256" : kind == "P-384" ? "P-384" : kind == "P-521" ? "P-521" : kind.c_str();
    pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group);
  }
  if (pkey == nullptr) {
    throw std::runtime_error("cannot generate a " + kind + " key");
  }
  keys[kind] = pkey;
  return pkey;
}

// A private (signing) Key for `kind`; the EVP_PKEY is shared, so it is up-referenced.
inline KeyPtr PrivateKey(const std::string& kind, std::string kid = "") {
  EVP_PKEY* pkey = GeneratedKey(kind);
  EVP_PKEY_up_ref(pkey);
  return Key::FromPkey(pkey, std::move(kid));
}

inline std::string PublicPem(const std::string& kind) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), GeneratedKey(kind));
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  return std::string(data, static_cast<std::size_t>(length));
}

inline std::string PrivatePem(const std::string& kind) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), GeneratedKey(kind), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);  // NOLINT(google-runtime-int)
  return std::string(data, static_cast<std::size_t>(length));
}

inline std::string BnBytes(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// The public JWK of a generated key, as a JSON object (add kid/alg/use as the test needs).
inline boost::json::object PublicJwk(const std::string& kind) {
  EVP_PKEY* pkey = GeneratedKey(kind);
  boost::json::object jwk;
  if (kind.rfind("RSA-", 0) == 0) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e);
    jwk["kty"] = "RSA";
    jwk["n"] = Base64UrlEncode(BnBytes(n));
    jwk["e"] = Base64UrlEncode(BnBytes(e));
    BN_free(n);
    BN_free(e);
  } else if (kind == "Ed25519") {
    unsigned char raw[32];
    std::size_t length = sizeof raw;
    EVP_PKEY_get_raw_public_key(pkey, raw, &length);
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw), length));
  } else {
    unsigned char point[200];
    std::size_t length = 0;
    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &length);
    const std::size_t half = (length - 1) / 2;
    jwk["kty"] = "EC";
    jwk["crv"] = kind;
    jwk["x"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(point) + 1, half));
    jwk["y"] = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(point) + 1 + half, half));
  }
  return jwk;
}

// header.payload.signature signed with mgw's Sign(); `header` and `claims` are JSON text.
inline std::string SignCompact(Algorithm algorithm, const Key& key, std::string_view header,
                               std::string_view claims) {
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
  auto signature = Sign(algorithm, key, input);
  if (!signature) {
    throw std::runtime_error("signing failed: " + signature.error().message);
  }
  return input + "." + Base64UrlEncode(*signature);
}

inline std::string FromHex(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// $MGW_SHARED_DIR (set by CTest), else ../shared beside the source tree.
inline std::string SharedDir() {
  if (const char* dir = std::getenv("MGW_SHARED_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* source = std::getenv("MGW_SOURCE_DIR"); source != nullptr && *source != '\0') {
    return std::string(source) + "/../shared";
  }
  return "../shared";
}

}  // namespace mgw::security::testing
