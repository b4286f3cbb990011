#include "oci/digest.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

namespace berth::oci {
namespace {

constexpr std::string_view kEmptySha256 =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view kEmptySha512 =
    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
constexpr std::string_view kAbcSha256 =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(digestOf("").str(), kEmptySha256);
  EXPECT_EQ(digestOf("", DigestAlgorithm::kSha512).str(), kEmptySha512);
  EXPECT_EQ(digestOf("abc").str(), kAbcSha256);
  EXPECT_EQ(digestOf("", DigestAlgorithm::kSha512).algorithm(), DigestAlgorithm::kSha512);
}

TEST(DigestTest, ParsesValidSha256AndSha512) {
  auto d = Digest::parse(kEmptySha256);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_EQ(d->str(), kEmptySha256);
  EXPECT_EQ(d->hex(), kEmptySha256.substr(7));
  EXPECT_EQ(*d, digestOf(""));

  auto d512 = Digest::parse(kEmptySha512);
  ASSERT_TRUE(d512.ok());
  EXPECT_EQ(d512->algorithm(), DigestAlgorithm::kSha512);
  EXPECT_EQ(d512->hex().size(), 128u);
}

TEST(DigestTest, AlgorithmNames) {
  EXPECT_EQ(algorithmName(DigestAlgorithm::kSha256), "sha256");
  EXPECT_EQ(algorithmName(DigestAlgorithm::kSha512), "sha512");
}

TEST(DigestTest, RejectsMalformed) {
  std::string hex64(64, 'a');
  const std::string cases[] = {
      "",
      ":",
      "sha256",
      "sha256:",
      ":" + hex64,
      "sha256:" + std::string(63, 'a'),
      "sha256:" + std::string(65, 'a'),
      "sha256:" + std::string(64, 'A'),        // uppercase hex
      "sha256:" + std::string(63, 'a') + "g",  // not hex
      "SHA256:" + hex64,
      "sha256 :" + hex64,
      " sha256:" + hex64,
      "sha256:" + hex64 + " ",
      "sha256:" + hex64 + "\n",
      "sha256::" + hex64,
      "sha512:" + hex64,  // too short for sha512
      "sha512:" + std::string(128, 'F'),
      "sha256+:" + hex64,  // trailing separator
      "+sha256:" + hex64,
      "sha256..b:" + hex64,  // doubled separator
      "foo:bar/baz",         // bad encoded char, any algorithm
      "foo:",
      std::string("sha256:\0", 8) + std::string(63, 'a'),
  };
  for (const std::string& c : cases) {
    auto d = Digest::parse(c);
    ASSERT_FALSE(d.ok()) << c;
    EXPECT_EQ(d.code(), Code::kDigestInvalid) << c;
    EXPECT_FALSE(d.error().message.empty());
  }
}

TEST(DigestTest, WellFormedOtherAlgorithmIsUnsupported) {
  for (std::string_view c : {"md5:d41d8cd98f00b204e9800998ecf8427e", "blake3:abcd",
                             "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
                             "sha384:ABC=_-", "sha256.x:abc"}) {
    auto d = Digest::parse(c);
    ASSERT_FALSE(d.ok()) << c;
    EXPECT_EQ(d.code(), Code::kUnsupported) << c;
  }
}

TEST(DigestTest, HugeInputMessageIsBounded) {
  std::string huge = "sha256:" + std::string(1 << 20, 'z');
  auto d = Digest::parse(huge);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.code(), Code::kDigestInvalid);
  EXPECT_LT(d.error().message.size(), 400u);
}

TEST(DigestTest, AllByteValuesNeverCrash) {
  for (int b = 0; b < 256; ++b) {
    std::string s = "sha256:" + std::string(63, 'a') + static_cast<char>(b);
    auto d = Digest::parse(s);
    bool hex = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f');
    EXPECT_EQ(d.ok(), hex) << b;
  }
}

TEST(DigestTest, HasherIncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 31 + 7);
  for (DigestAlgorithm alg : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512}) {
    Hasher h(alg);
    EXPECT_EQ(h.algorithm(), alg);
    size_t pos = 0;
    size_t step = 1;
    while (pos < data.size()) {
      size_t n = std::min(step, data.size() - pos);
      h.update(data.data() + pos, n);
      pos += n;
      step = step * 3 + 1;
    }
    EXPECT_EQ(h.finish(), digestOf(data, alg));
  }
}

TEST(DigestTest, HasherResetsAfterFinish) {
  Hasher h;
  h.update("abc");
  EXPECT_EQ(h.finish().str(), kAbcSha256);
  EXPECT_EQ(h.finish().str(), kEmptySha256);
  h.update("a");
  h.update("");
  h.update("bc");
  EXPECT_EQ(h.finish().str(), kAbcSha256);
}

TEST(DigestTest, HasherMoves) {
  Hasher a;
  a.update("ab");
  Hasher b(std::move(a));
  b.update("c");
  EXPECT_EQ(b.finish().str(), kAbcSha256);
  Hasher c(DigestAlgorithm::kSha512);
  c = std::move(b);
  c.update("abc");
  EXPECT_EQ(c.finish().str(), kAbcSha256);
}

TEST(DigestTest, ParsedDigestRoundTripsAndHashes) {
  Digest a = digestOf("x");
  auto b = Digest::parse(a.str());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a, *b);
  EXPECT_FALSE(a < *b);
  std::unordered_set<Digest> set{a, *b, digestOf("y")};
  EXPECT_EQ(set.size(), 2u);
  Digest empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.hex(), "");
}

}  // namespace
}  // namespace berth::oci
