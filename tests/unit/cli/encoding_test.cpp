#include "cli/encoding.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64Decode("Zm9vYmFy"), "foobar");
}

TEST(Base64, TheTokenUserOfTheAuthFile) {
  EXPECT_EQ(base64Encode("00000000-0000-0000-0000-000000000000:"),
            "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==");
}

TEST(Base64, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t n = 0; n <= bytes.size(); n += 37) {
    auto part = bytes.substr(0, n);
    EXPECT_EQ(base64Decode(base64Encode(part)), part) << n;
  }
  EXPECT_EQ(base64Encode("\xff\xfe"), "//4=");
}

TEST(Base64, DecodeAcceptsUnpaddedAndRejectsGarbage) {
  EXPECT_EQ(base64Decode("Zm9vYg"), "foob");
  EXPECT_FALSE(base64Decode("Zm9v!"));
  EXPECT_FALSE(base64Decode("Z"));         // length 1 mod 4
  EXPECT_FALSE(base64Decode("Zm=9v"));     // padding in the middle
  EXPECT_FALSE(base64Decode("Zm9vYg="));   // wrong amount of padding
  EXPECT_FALSE(base64Decode("Zm9v==="));
  EXPECT_FALSE(base64Decode("Zm9v YmFy"));
  EXPECT_FALSE(base64Decode("Zm9v_-"));    // base64url is not base64
}

TEST(PercentEncode, KeepsOnlyUnreserved) {
  EXPECT_EQ(percentEncode("alice"), "alice");
  EXPECT_EQ(percentEncode("A-Z_a.z~0"), "A-Z_a.z~0");
  EXPECT_EQ(percentEncode("team-a/*"), "team-a%2F%2A");
  EXPECT_EQ(percentEncode("10.0.0.0/8"), "10.0.0.0%2F8");
  EXPECT_EQ(percentEncode("a b+c&d=e?f#g%"), "a%20b%2Bc%26d%3De%3Ff%23g%25");
  EXPECT_EQ(percentEncode("bob@example.com"), "bob%40example.com");
  EXPECT_EQ(percentEncode("\xc3\xa9"), "%C3%A9");
}

TEST(FormEncode, EncodesLikeABrowser) {
  EXPECT_EQ(formEncode({}), "");
  EXPECT_EQ(formEncode({{"grant_type", "password"}, {"username", "alice"}}), "grant_type=password&username=alice");
  EXPECT_EQ(formEncode({{"password", "p@ss w+rd&x=y%"}}), "password=p%40ss+w%2Brd%26x%3Dy%25");
  EXPECT_EQ(formEncode({{"scope", "repository:team/app:pull,push"}}),
            "scope=repository%3Ateam%2Fapp%3Apull%2Cpush");
  EXPECT_EQ(formEncode({{"service", "127.0.0.1:5000"}}), "service=127.0.0.1%3A5000");
  EXPECT_EQ(formEncode({{"a*b", "-._~"}}), "a*b=-._%7E");
  EXPECT_EQ(formEncode({{"empty", ""}}), "empty=");
}

TEST(BasicAuthorization, EncodesUserColonPassword) {
  EXPECT_EQ(basicAuthorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  // The password may contain ':'; only the first one separates.
  EXPECT_EQ(base64Decode(basicAuthorization("u", "a:b").substr(6)), "u:a:b");
}

TEST(FormatRfc3339, UtcSecondsWithZ) {
  using namespace std::chrono;
  EXPECT_EQ(formatRfc3339(system_clock::time_point{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(system_clock::time_point{seconds{1795341600}}), "2026-11-22T10:00:00Z");
  EXPECT_EQ(formatRfc3339(system_clock::time_point{seconds{1795341600} + milliseconds{999}}), "2026-11-22T10:00:00Z");
}

}  // namespace
}  // namespace berth::cli
