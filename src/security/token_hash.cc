#include <random>

#include "security/token_cache.h"

// XXH3 inlined here only: the cache is in a widely included header.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace mgw::security {

namespace {
// Drawn once per process, so that which tokens share a bucket cannot be worked out offline. A
// secret rather than a seed: XXH3 derives a secret from a seed on every call for long inputs.
struct Secret {
  unsigned char bytes[XXH3_SECRET_DEFAULT_SIZE];
  Secret() {
    std::random_device device;
    unsigned int seed[8];
    for (auto& word : seed) {
      word = device();
    }
    XXH3_generateSecret(bytes, sizeof bytes, seed, sizeof seed);
  }
};
const Secret kSecret;
}  // namespace

std::size_t HashToken(std::string_view token) {
  return static_cast<std::size_t>(
      XXH3_64bits_withSecret(token.data(), token.size(), kSecret.bytes, sizeof kSecret.bytes));
}

}  // namespace mgw::security
