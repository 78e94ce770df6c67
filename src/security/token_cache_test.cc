#include "security/token_cache.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace mgw::security {
namespace {

std::shared_ptr<const Principal> Expiring(std::int64_t expires_at, std::string user = "u") {
  auto p = std::make_shared<Principal>();
  p->user = std::move(user);
  p->expires_at = expires_at;
  return p;
}

TEST(TokenCache, HitsReturnTheCachedPrincipal) {
  TokenCache cache(4);
  cache.Insert("t1", Expiring(200, "alice"));
  const auto hit = cache.Find("t1", 100, 0);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->user, "alice");
  EXPECT_FALSE(cache.LastWasNegative());
  EXPECT_EQ(cache.Find("t2", 100, 0), nullptr);
  EXPECT_EQ(cache.Size(), 1u);
}

TEST(TokenCache, AHitStillHonoursExp) {
  TokenCache cache(4);
  cache.Insert("t", Expiring(200));
  EXPECT_NE(cache.Find("t", 199, 0), nullptr);
  EXPECT_EQ(cache.Find("t", 200, 0), nullptr) << "exp == now is expired, cached or not";
  EXPECT_FALSE(cache.Contains("t")) << "an expired entry is dropped";
  cache.Insert("s", Expiring(200));
  EXPECT_NE(cache.Find("s", 204, 5), nullptr) << "with the clock skew";
  EXPECT_EQ(cache.Find("s", 205, 5), nullptr);
  cache.Insert("forever", Expiring(0));  // Basic / static keys: no exp
  EXPECT_NE(cache.Find("forever", 1'000'000'000, 0), nullptr);
}

TEST(TokenCache, ValidUntilBoundsAnEntry) {
  TokenCache cache(4);
  cache.Insert("t", Expiring(500), 300);  // e.g. introspection: min(cache_ttl, exp)
  EXPECT_NE(cache.Find("t", 299, 0), nullptr);
  EXPECT_EQ(cache.Find("t", 300, 0), nullptr);
  cache.Insert("u", Expiring(250), 300);
  EXPECT_EQ(cache.Find("u", 260, 0), nullptr) << "exp still wins when it is earlier";
}

TEST(TokenCache, NegativeEntries) {
  TokenCache cache(4);
  cache.Insert("bad", nullptr, 100);
  EXPECT_EQ(cache.Find("bad", 50, 0), nullptr);
  EXPECT_TRUE(cache.LastWasNegative());
  EXPECT_TRUE(cache.Contains("bad"));
  // A miss afterwards is not negative.
  EXPECT_EQ(cache.Find("unknown", 50, 0), nullptr);
  EXPECT_FALSE(cache.LastWasNegative());
  // Once its time is up the negative entry is gone.
  EXPECT_EQ(cache.Find("bad", 100, 0), nullptr);
  EXPECT_FALSE(cache.LastWasNegative());
  EXPECT_FALSE(cache.Contains("bad"));
}

TEST(TokenCache, EvictsTheLeastRecentlyUsed) {
  TokenCache cache(2);
  cache.Insert("a", Expiring(0));
  cache.Insert("b", Expiring(0));
  ASSERT_NE(cache.Find("a", 1, 0), nullptr);  // a is now the most recent
  cache.Insert("c", Expiring(0));
  EXPECT_EQ(cache.Size(), 2u);
  EXPECT_TRUE(cache.Contains("a"));
  EXPECT_FALSE(cache.Contains("b"));
  EXPECT_TRUE(cache.Contains("c"));
  cache.Insert("d", Expiring(0));
  EXPECT_FALSE(cache.Contains("a"));
  EXPECT_TRUE(cache.Contains("c"));
  EXPECT_TRUE(cache.Contains("d"));
}

TEST(TokenCache, ReinsertingReplaces) {
  TokenCache cache(2);
  cache.Insert("a", Expiring(0, "first"));
  cache.Insert("a", Expiring(0, "second"));
  EXPECT_EQ(cache.Size(), 1u);
  EXPECT_EQ(cache.Find("a", 1, 0)->user, "second");
  cache.Insert("a", nullptr, 10);
  EXPECT_EQ(cache.Find("a", 1, 0), nullptr);
  EXPECT_TRUE(cache.LastWasNegative());
}

TEST(TokenCache, ClearForgetsEverything) {
  TokenCache cache(4);
  cache.Insert("a", Expiring(0));
  cache.Insert("b", nullptr, 10);
  cache.Clear();
  EXPECT_EQ(cache.Size(), 0u);
  EXPECT_EQ(cache.Find("a", 1, 0), nullptr);
  EXPECT_FALSE(cache.Contains("b"));
  cache.Insert("c", Expiring(0));
  EXPECT_NE(cache.Find("c", 1, 0), nullptr);
}

TEST(TokenCache, ZeroCapacityCachesNothing) {
  TokenCache cache(0);
  cache.Insert("a", Expiring(0));
  EXPECT_EQ(cache.Size(), 0u);
  EXPECT_EQ(cache.Find("a", 1, 0), nullptr);
}

TEST(TokenCache, KeysOutliveTheCallersBuffers) {
  TokenCache cache(8);
  {
    std::string token(100, 'x');
    cache.Insert(token, Expiring(0));
    token.assign(100, 'y');
  }
  EXPECT_NE(cache.Find(std::string(100, 'x'), 1, 0), nullptr);
  EXPECT_EQ(cache.Find(std::string(100, 'y'), 1, 0), nullptr);
}

}  // namespace
}  // namespace mgw::security
