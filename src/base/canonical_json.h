// Canonical JSON: object keys sorted by byte value, no insignificant whitespace, one trailing
// newline. The bundle is written this way so the same project always gives the same bytes.
#pragma once

#include <string>

#include <boost/json/fwd.hpp>

namespace mgw::base {

std::string CanonicalJson(const boost::json::value& value);

}  // namespace mgw::base
