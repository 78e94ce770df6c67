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

}  // namespace
}  // namespace mgw::base
