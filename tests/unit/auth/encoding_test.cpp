#include "auth/encoding.h"

#include <gtest/gtest.h>

#include <array>

namespace berth::auth {
namespace {

// base64DecodeTo (Basic credentials on the hot path) accepts and refuses exactly what
// base64Decode does, and never writes past its buffer.
TEST(Base64DecodeTo, AgreesWithBase64Decode) {
  for (std::string_view text : {"YWRtaW46cHc=", "YWRtaW46cHc", "YQ==", "YQ", "YWI=", "", "+/+/", "-_-_", "YR==",
                                "YQ=", "Y", "YW Jj", "YWJj\n", "////", "YWJjZA=="}) {
    std::array<char, 64> buf;
    auto n = base64DecodeTo(text, buf);
    auto s = base64Decode(text);
    ASSERT_EQ(n.has_value(), s.has_value()) << text;
    if (s) EXPECT_EQ(std::string_view(buf.data(), *n), *s) << text;
  }
}

TEST(Base64DecodeTo, RefusesWhatDoesNotFit) {
  std::array<char, 4> buf;
  EXPECT_EQ(base64DecodeTo("YWJjZA==", buf), 4u);  // "abcd"
  EXPECT_FALSE(base64DecodeTo("YWJjZGU=", buf));   // "abcde"
  EXPECT_EQ(*base64Decode("YWJjZGU="), "abcde");
}

}  // namespace
}  // namespace berth::auth
