// ASCII helpers for protocol text (header names, auth schemes): no locale lookups.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace mgw::base {

// Equal ignoring ASCII case; other bytes compare exactly.
inline bool IEqualsAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    x = (x >= 'A' && x <= 'Z') ? static_cast<char>(x + 32) : x;
    y = (y >= 'A' && y <= 'Z') ? static_cast<char>(y + 32) : y;
    if (x != y) {
      return false;
    }
  }
  return true;
}

// RFC 9110 5.6.2 tchar, the bytes of a token such as a header name: "!" / "#" / "$" / "%" / "&" /
// "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
inline constexpr std::array<bool, 256> kTokenChar = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

inline bool IsTokenChar(char c) { return kTokenChar[static_cast<unsigned char>(c)]; }

// A non-empty run of tchars (a valid header name).
inline bool IsToken(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    if (!IsTokenChar(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace mgw::base
