#include "runtime/router.h"

#include <gtest/gtest.h>

#include "runtime/path.h"

namespace mgw::runtime {
namespace {

NormalisedPath Path(std::string_view raw) {
  NormalisedPath path;
  EXPECT_EQ(NormalisePath(raw, path), PathError::kNone) << raw;
  return path;
}

int Api(const RouteTable& table, std::string_view raw, std::size_t& base_segments) {
  base_segments = 99;
  return table.FindApi(Path(raw), base_segments);
}

TEST(RouteTableFindApi, TheLongestBasePathPrefixWins) {
  RouteTable table;
  const int root = table.AddApi("/");
  const int shop = table.AddApi("/shop");
  const int shop_v2 = table.AddApi("/shop/v2");
  std::size_t base = 0;
  EXPECT_EQ(Api(table, "/shop/v2/items/1", base), shop_v2);
  EXPECT_EQ(base, 2u);
  EXPECT_EQ(Api(table, "/shop/v2", base), shop_v2);
  EXPECT_EQ(base, 2u);
  EXPECT_EQ(Api(table, "/shop/v3/items", base), shop);
  EXPECT_EQ(base, 1u);
  EXPECT_EQ(Api(table, "/shop", base), shop);
  EXPECT_EQ(base, 1u);
  EXPECT_EQ(Api(table, "/shopping/v2", base), root);
  EXPECT_EQ(base, 0u);
  EXPECT_EQ(Api(table, "/", base), root);
  EXPECT_EQ(base, 0u);
}

TEST(RouteTableFindApi, NoRouteWithoutARootApi) {
  RouteTable table;
  table.AddApi("/a/b/c");
  std::size_t base = 0;
  EXPECT_EQ(Api(table, "/a/b", base), kNoRoute);
  EXPECT_EQ(Api(table, "/x/y/z/w", base), kNoRoute);
  EXPECT_EQ(Api(table, "/", base), kNoRoute);
}

TEST(RouteTableFindApi, AnEncodedSlashIsNeverASeparatorOfTheBasePath) {
  RouteTable table;
  const int a = table.AddApi("/a");
  const int abc = table.AddApi("/a/b/c");
  std::size_t base = 0;
  // "b%2Fc" is one segment holding "b/c": the API at /a/b/c must not match.
  EXPECT_EQ(Api(table, "/a/b%2Fc/d", base), a);
  EXPECT_EQ(base, 1u);
  EXPECT_EQ(Api(table, "/a/b/c/d", base), abc);
  EXPECT_EQ(base, 3u);
}

TEST(RouteTableFindApi, PathsDeeperThanEveryBasePathLookOnlyAtTheirPrefix) {
  RouteTable table;
  const int api = table.AddApi("/x/y");
  std::size_t base = 0;
  EXPECT_EQ(Api(table, "/x/y/1/2/3/4/5/6/7/8", base), api);
  EXPECT_EQ(base, 2u);
  EXPECT_EQ(Api(table, "/x/../x/./y//z", base), api);
  EXPECT_EQ(base, 2u);
}

TEST(NormalisePath, ResolvesDotSegmentsAndDuplicateSlashes) {
  const auto path = Path("/a//b/./c/../d/");
  ASSERT_EQ(path.segments.size(), 3u);
  EXPECT_EQ(path.segments[0], "a");
  EXPECT_EQ(path.segments[1], "b");
  EXPECT_EQ(path.segments[2], "d");
  EXPECT_TRUE(path.trailing_slash);
  NormalisedPath bad;
  EXPECT_EQ(NormalisePath("/a/%zz", bad), PathError::kBadEncoding);
  EXPECT_EQ(NormalisePath("/a/%00", bad), PathError::kNulByte);
  EXPECT_EQ(NormalisePath("a/b", bad), PathError::kNotAbsolute);
}

TEST(NormalisePath, DecodesEscapesAnywhereInASegment) {
  const auto path = Path("/%41bc/ab%2Fcd/x%2e/%2E%2E/plain%20");
  ASSERT_EQ(path.segments.size(), 3u);
  EXPECT_EQ(path.segments[0], "Abc");
  EXPECT_EQ(path.segments[1], "ab/cd");  // a decoded '/' stays inside its segment
  EXPECT_EQ(path.segments[2], "plain ");
  NormalisedPath bad;
  EXPECT_EQ(NormalisePath("/ok/ab%4", bad), PathError::kBadEncoding);
}

TEST(EncodedSuffix, KeepsRunsOfSafeCharactersAndEncodesTheRest) {
  NormalisedPath path;
  path.segments = {"base", "a b/c%d~\xC3\xA9", "plain-segment", "x"};
  EXPECT_EQ(EncodedSuffix(path, 1), "/a%20b%2Fc%25d~%C3%A9/plain-segment/x");
  path.trailing_slash = true;
  EXPECT_EQ(EncodedSuffix(path, 3), "/x/");
  EXPECT_EQ(EncodedSuffix(path, 4), "/");
  path.trailing_slash = false;
  EXPECT_EQ(EncodedSuffix(path, 4), "");
}

}  // namespace
}  // namespace mgw::runtime
