#include "base/sha256.h"

#include <string>

#include <gtest/gtest.h>

namespace mgw::base {
namespace {

// FIPS 180-2 / NIST test vectors.
TEST(Sha256HexTest, MatchesTheKnownVectorOfTheEmptyString) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256HexTest, MatchesTheKnownVectorOfAbc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256HexTest, MatchesTheKnownVectorOfTheTwoBlockMessage) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256HexTest, MatchesTheKnownVectorOfAMillionAs) {
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256HexTest, HashesEmbeddedNulBytes) {
  const std::string data("a\0b", 3);
  EXPECT_NE(Sha256Hex(data), Sha256Hex("a"));
  EXPECT_EQ(Sha256Hex(data).size(), 64u);
}

TEST(Sha256Test, ReturnsTheRawDigestOfTheHex) {
  const Sha256Digest digest = Sha256("abc");
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[31], 0xad);
}

TEST(ConstantTimeEqualsTest, IsTrueOnlyForIdenticalStrings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "Secret"));
}

TEST(ConstantTimeEqualsTest, IsFalseForDifferentLengthsEvenWithACommonPrefix) {
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0", 2), "a"));
}

}  // namespace
}  // namespace mgw::base
