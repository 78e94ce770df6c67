#include "security/credentials.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/sha256.h"
#include "security/jose.h"

namespace mgw::security {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Fixed vectors made by independent tools (never by the code under test):
//   openssl passwd -6 -salt mgwsalt6 'correct horse'
//   openssl passwd -5 -salt mgwsalt5 'battery staple'
//   htpasswd -nbB -C 5 carol 'b-crypt pass'     (Apache's bcrypt, $2y$)
//   htpasswd -nbs dave 'sha1 pass'              ({SHA} = base64(SHA-1))
// $2b$ and $2y$ are the same algorithm for such passwords (they differ only in how old buggy
// implementations treated 8-bit characters), so the $2b$ vector is the $2y$ one relabelled.
constexpr const char* kSha512Crypt =
    "$6$mgwsalt6$W5wA1Hhu3EqDQhrt87IK3l/f0nam2uE3zxzdJave31yrGloQi1iVTR3RqFedQBwvhr1S6f2TrTOeHQnfRWko..";
constexpr const char* kSha256Crypt = "$5$mgwsalt5$bwqPG.DYyE8pxvJI3aM/2Ys.6kb1VxZlA.DCak6wdH7";
constexpr const char* kBcrypt2y = "$2y$05$w1YDyY6NL8SL2au2NiNXjOQOoQfFZz5P.spsJhz.Ge79qizNsyf8e";
constexpr const char* kBcrypt2b = "$2b$05$w1YDyY6NL8SL2au2NiNXjOQOoQfFZz5P.spsJhz.Ge79qizNsyf8e";
constexpr const char* kSha1 = "{SHA}/HL0E2fe0k86oFqfSf2+njzD3+o=";

BasicUsers Users() {
  return BasicUsers({{"alice", kSha512Crypt, {"orders:read", "orders:write"}},
                     {"bob", kSha256Crypt, {}},
                     {"carol", kBcrypt2y, {"admin"}},
                     {"carol-b", kBcrypt2b, {}},
                     {"dave", kSha1, {"legacy"}}});
}

TEST(BasicUsers, VerifiesEverySupportedHash) {
  const BasicUsers users = Users();
  EXPECT_FALSE(users.Empty());
  EXPECT_THAT(users.Verify("alice", "correct horse").value(), ElementsAre("orders:read", "orders:write"));
  EXPECT_THAT(users.Verify("bob", "battery staple").value(), IsEmpty());
  EXPECT_THAT(users.Verify("carol", "b-crypt pass").value(), ElementsAre("admin"));
  EXPECT_TRUE(users.Verify("carol-b", "b-crypt pass").has_value());
  EXPECT_THAT(users.Verify("dave", "sha1 pass").value(), ElementsAre("legacy"));
}

TEST(BasicUsers, RefusesWrongPasswordsAndUnknownUsers) {
  const BasicUsers users = Users();
  for (const char* user : {"alice", "bob", "carol", "carol-b", "dave"}) {
    EXPECT_FALSE(users.Verify(user, "wrong").has_value()) << user;
    EXPECT_FALSE(users.Verify(user, "").has_value()) << user;
  }
  EXPECT_FALSE(users.Verify("alice", "correct horse ").has_value());
  EXPECT_FALSE(users.Verify("alice", "Correct horse").has_value());
  EXPECT_FALSE(users.Verify("dave", "sha1 pass\n").has_value());
  EXPECT_FALSE(users.Verify("mallory", "correct horse").has_value());
  EXPECT_FALSE(users.Verify("", "").has_value());
  EXPECT_FALSE(users.Verify("Alice", "correct horse").has_value()) << "user names are exact";
  // A password is never compared with the stored hash text itself.
  EXPECT_FALSE(users.Verify("alice", kSha512Crypt).has_value());
  EXPECT_FALSE(users.Verify("dave", "/HL0E2fe0k86oFqfSf2+njzD3+o=").has_value());
}

TEST(BasicUsers, NoUsersAcceptNothing) {
  const BasicUsers none({});
  EXPECT_TRUE(none.Empty());
  EXPECT_FALSE(none.Verify("alice", "correct horse").has_value());
}

TEST(ParseBasic, SplitsAtTheFirstColon) {
  bool format_error = true;
  auto credentials = ParseBasic(Base64Encode("alice:correct horse"), &format_error);
  ASSERT_TRUE(credentials.has_value());
  EXPECT_FALSE(format_error);
  EXPECT_EQ(credentials->user, "alice");
  EXPECT_EQ(credentials->password, "correct horse");
  credentials = ParseBasic(Base64Encode("bob:pa:ss:"), &format_error);
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->user, "bob");
  EXPECT_EQ(credentials->password, "pa:ss:");
  credentials = ParseBasic(Base64Encode("carol:"), &format_error);
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->password, "");
  credentials = ParseBasic(Base64Encode(":secret"), &format_error);
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->user, "");
}

TEST(ParseBasic, FormatErrors) {
  for (const std::string& encoded : {Base64Encode("no-colon"), std::string("%%%"), std::string("YWxpY2U6eA"),
                                     std::string(""), std::string("YWxp Y2U6eA==")}) {
    bool format_error = false;
    EXPECT_FALSE(ParseBasic(encoded, &format_error).has_value()) << encoded;
    EXPECT_TRUE(format_error) << encoded;
  }
}

TEST(StaticApiKeys, LooksKeysUpByTheirSha256) {
  const std::string key = "k3y-0f-the-sh0p";
  const StaticApiKeys keys({{base::Sha256Hex(key), "shop", "Gold"}, {base::Sha256Hex("other"), "other", "Unlimited"}});
  EXPECT_FALSE(keys.Empty());
  const auto match = keys.Find(key);
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->application, "shop");
  EXPECT_EQ(match->tier, "Gold");
  EXPECT_FALSE(keys.Find("k3y-0f-the-sh0p ").has_value());
  EXPECT_FALSE(keys.Find(base::Sha256Hex(key)).has_value()) << "the digest itself is not a key";
  EXPECT_FALSE(keys.Find("").has_value());
  EXPECT_TRUE(StaticApiKeys({}).Empty());
}

}  // namespace
}  // namespace mgw::security
