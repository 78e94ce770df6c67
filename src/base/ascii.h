// ASCII helpers for protocol text (header names, auth schemes): no locale lookups.
#pragma once

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

}  // namespace mgw::base
