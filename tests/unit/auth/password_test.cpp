#include "auth/password.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <set>

#include "auth/encoding.h"

namespace berth::auth {
namespace {

TEST(Base64Url, KnownAnswers) {
  // RFC 4648 section 10 vectors, unpadded.
  EXPECT_EQ(base64UrlEncode(""), "");
  EXPECT_EQ(base64UrlEncode("f"), "Zg");
  EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64UrlEncode(std::string("\xfb\xff\xfe", 3)), "-__-");
  EXPECT_EQ(*base64UrlDecode("-__-"), std::string("\xfb\xff\xfe", 3));
  EXPECT_EQ(*base64UrlDecode("Zm9vYmE"), "fooba");
  EXPECT_EQ(*base64UrlDecode(""), "");
}

TEST(Base64Url, RoundTripsEveryLength) {
  for (size_t n = 0; n < 70; ++n) {
    std::string bytes = randomBytes(n);
    auto decoded = base64UrlDecode(base64UrlEncode(bytes));
    ASSERT_TRUE(decoded) << n;
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(Base64Url, RefusesNonCanonicalAndForeignInput) {
  EXPECT_FALSE(base64UrlDecode("Zg=="));  // padding
  EXPECT_FALSE(base64UrlDecode("Z"));     // 1 mod 4
  EXPECT_FALSE(base64UrlDecode("Zh"));    // non-zero unused bits ("Zg" is canonical)
  EXPECT_FALSE(base64UrlDecode("Zm9+"));  // standard alphabet
  EXPECT_FALSE(base64UrlDecode("Zm9/"));
  EXPECT_FALSE(base64UrlDecode("Zm 9v"));  // whitespace
  EXPECT_FALSE(base64UrlDecode(std::string("Zm\0v", 4)));
  EXPECT_FALSE(base64UrlDecode("Zm9v\n"));
}

TEST(Digest, Sha256AndHmacKnownAnswers) {
  EXPECT_EQ(base64UrlEncode(sha256("abc")), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  // RFC 4231 test case 2.
  EXPECT_EQ(base64UrlEncode(hmacSha256("Jefe", "what do ya want for nothing?")),
            base64UrlEncode(
                std::string("\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26\x08\x95\x75\xc7"
                            "\x5a\x00\x3f\x08\x9d\x27\x39\x83\x9d\xec\x58\xb9\x64\xec\x38\x43",
                            32)));
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(constantTimeEquals("", ""));
}

TEST(Password, HashVerifiesOnlyTheSameSecret) {
  auto hash = hashSecret("correct horse", minimumCost());
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(verifySecret(*hash, "correct horse"));
  EXPECT_FALSE(verifySecret(*hash, "correct horsE"));
  EXPECT_FALSE(verifySecret(*hash, "correct hors"));
  EXPECT_FALSE(verifySecret(*hash, ""));
  EXPECT_EQ(hash->find("correct"), std::string::npos);
}

TEST(Password, DefaultCostIsInteractiveArgon2id) {
  auto hash = hashSecret("s3cret");
  ASSERT_TRUE(hash.ok());
  EXPECT_NE(hash->find("$argon2id$v=19$m=65536,t=2,p=1$"), std::string::npos) << *hash;
  EXPECT_TRUE(verifySecret(*hash, "s3cret"));
  EXPECT_FALSE(needsRehash(*hash, interactiveCost()));
  EXPECT_TRUE(needsRehash(*hash, minimumCost()));
}

TEST(Password, SaltsDiffer) {
  auto a = hashSecret("same", minimumCost());
  auto b = hashSecret("same", minimumCost());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verifySecret(*a, "same"));
  EXPECT_TRUE(verifySecret(*b, "same"));
}

TEST(Password, BinarySecretsWithNulBytes) {
  std::string secret("a\0b", 3);
  auto hash = hashSecret(secret, minimumCost());
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(verifySecret(*hash, secret));
  EXPECT_FALSE(verifySecret(*hash, "a"));
}

TEST(Password, RefusesOverlongSecrets) {
  std::string longest(kMaxSecretBytes, 'x');
  auto ok = hashSecret(longest, minimumCost());
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(verifySecret(*ok, longest));
  auto refused = hashSecret(longest + "x", minimumCost());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::kInvalidArgument);
  EXPECT_FALSE(verifySecret(*ok, longest + "x"));
}

TEST(Password, MalformedHashesAreFalseNotCrashes) {
  EXPECT_FALSE(verifySecret("", "x"));
  EXPECT_FALSE(verifySecret("x", "x"));
  EXPECT_FALSE(verifySecret("$argon2id$", "x"));
  EXPECT_FALSE(verifySecret("$argon2id$v=19$m=8,t=1,p=1$$", "x"));
  EXPECT_FALSE(verifySecret(std::string(10000, '$'), "x"));
  auto hash = hashSecret("x", minimumCost());
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(verifySecret(*hash + std::string("\0", 1), "x"));
  std::string truncated = hash->substr(0, hash->size() - 4);
  EXPECT_FALSE(verifySecret(truncated, "x"));
  std::string flipped = *hash;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifySecret(flipped, "x"));
}

TEST(Password, RefusesArgon2iHashes) {
  // A valid argon2i (not id) hash of "x" is not accepted: only our own algorithm is.
  char out[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(out, "x", 1, crypto_pwhash_argon2i_OPSLIMIT_MIN,
                                  crypto_pwhash_argon2i_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2I13),
            0);
  EXPECT_FALSE(verifySecret(out, "x"));
}

TEST(GenerateSecret, LengthAlphabetAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string s = generateSecret();
    EXPECT_EQ(s.size(), 43u);
    EXPECT_EQ(
        s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    EXPECT_TRUE(seen.insert(s).second);
    EXPECT_EQ(base64UrlDecode(s)->size(), 32u);
  }
  EXPECT_EQ(generateSecret(16).size(), 22u);
  EXPECT_EQ(generateSecret(0), "");
}

}  // namespace
}  // namespace berth::auth
