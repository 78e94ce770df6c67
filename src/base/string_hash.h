// A transparent hash for unordered containers keyed by std::string: with std::equal_to<> they are
// looked up by std::string_view without building a string (no allocation per lookup).
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace mgw::base {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace mgw::base
