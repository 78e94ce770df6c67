#include "base/ascii.h"

#include <gtest/gtest.h>

namespace mgw::base {
namespace {

TEST(Ascii, IEqualsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(IEqualsAscii("Keep-Alive", "keep-alive"));
  EXPECT_TRUE(IEqualsAscii("BEARER", "bearer"));
  EXPECT_TRUE(IEqualsAscii("", ""));
  EXPECT_FALSE(IEqualsAscii("bearer", "bearer "));
  EXPECT_FALSE(IEqualsAscii("close", "closf"));
  // '@' and '`' sit next to 'A' and 'a' and differ from them by 32 too: not letters.
  EXPECT_FALSE(IEqualsAscii("@", "`"));
  EXPECT_FALSE(IEqualsAscii("[", "{"));
  EXPECT_FALSE(IEqualsAscii("\xC3\x89", "\xC3\xA9"));  // É and é: bytes compare exactly
}

TEST(Ascii, TokensAreRfc9110Tchars) {
  EXPECT_TRUE(IsToken("X-Api-Key"));
  EXPECT_TRUE(IsToken("!#$%&'*+-.^_`|~09azAZ"));
  EXPECT_FALSE(IsToken(""));
  for (const char c : std::string_view(" \t:;,/\"()<>=?@[\\]{}\x7f\x80\xff\0", 21)) {
    EXPECT_FALSE(IsTokenChar(c)) << static_cast<int>(static_cast<unsigned char>(c));
  }
  int count = 0;
  for (int c = 0; c < 256; ++c) {
    count += IsTokenChar(static_cast<char>(c)) ? 1 : 0;
  }
  EXPECT_EQ(count, 10 + 26 + 26 + 15);
}

}  // namespace
}  // namespace mgw::base
