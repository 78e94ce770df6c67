// SHA-256 through OpenSSL's EVP interface (no home-made crypto).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mgw::base {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);

// Lower-case hex of the SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

// Compares two strings in time that depends only on their lengths, never on their contents.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mgw::base
