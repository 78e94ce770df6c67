#include "base/canonical_json.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace mgw::base {
namespace {

void Write(const boost::json::value& value, std::string& out) {
  switch (value.kind()) {
    case boost::json::kind::object: {
      const auto& object = value.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(object.size());
      for (const auto& member : object) {
        members.push_back(&member);
      }
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* member : members) {
        if (!first) {
          out += ',';
        }
        first = false;
        out += boost::json::serialize(boost::json::string_view(member->key()));
        out += ':';
        Write(member->value(), out);
      }
      out += '}';
      break;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) {
          out += ',';
        }
        first = false;
        Write(element, out);
      }
      out += ']';
      break;
    }
    default:
      out += boost::json::serialize(value);
      break;
  }
}

}  // namespace

std::string CanonicalJson(const boost::json::value& value) {
  std::string out;
  Write(value, out);
  out += '\n';
  return out;
}

}  // namespace mgw::base
