#include "base/canonical_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace mgw::base {
namespace {

TEST(CanonicalJsonTest, SortsObjectKeysByByteValueAtEveryLevel) {
  const boost::json::value value = boost::json::parse(
      R"({"b": 1, "a": {"z": true, "Z": false, "aa": null}, "A": [3, {"y": 1, "x": 2}]})");
  EXPECT_EQ(CanonicalJson(value),
            "{\"A\":[3,{\"x\":2,\"y\":1}],\"a\":{\"Z\":false,\"aa\":null,\"z\":true},\"b\":1}\n");
}

TEST(CanonicalJsonTest, KeepsArrayOrder) {
  EXPECT_EQ(CanonicalJson(boost::json::parse("[3, 1, 2]")), "[3,1,2]\n");
}

TEST(CanonicalJsonTest, GivesTheSameBytesWhateverTheInsertionOrder) {
  boost::json::object first;
  first["one"] = 1;
  first["two"] = "2";
  first["three"] = boost::json::array{1, 2};
  boost::json::object second;
  second["three"] = boost::json::array{1, 2};
  second["two"] = "2";
  second["one"] = 1;
  EXPECT_EQ(CanonicalJson(first), CanonicalJson(second));
  EXPECT_EQ(CanonicalJson(first), "{\"one\":1,\"three\":[1,2],\"two\":\"2\"}\n");
}

TEST(CanonicalJsonTest, EscapesKeysAndStrings) {
  boost::json::object object;
  object["q\"uote"] = "line\nbreak";
  EXPECT_EQ(CanonicalJson(object), "{\"q\\\"uote\":\"line\\nbreak\"}\n");
}

TEST(CanonicalJsonTest, WritesEmptyContainersAndScalarsWithoutWhitespace) {
  EXPECT_EQ(CanonicalJson(boost::json::parse(R"({"a": [], "b": {}, "c": ""})")),
            "{\"a\":[],\"b\":{},\"c\":\"\"}\n");
  EXPECT_EQ(CanonicalJson(boost::json::value(nullptr)), "null\n");
}

}  // namespace
}  // namespace mgw::base
