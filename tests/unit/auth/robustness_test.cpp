// Property tests over generated input (a fixed-seed PRNG, so failures reproduce): the
// parsers of outside input never crash, never accept a modified token, and base64url
// decoding is canonical.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "auth/encoding.h"
#include "auth/jwt.h"
#include "auth/policy.h"
#include "auth/scope.h"
#include "auth_test_util.h"

namespace berth::auth {
namespace {
using namespace berth::auth::testing;  // NOLINT(google-build-using-namespace)

using std::string_view_literals::operator""sv;
constexpr std::string_view kTokenAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \0"sv;

std::string randomString(std::mt19937_64& rng, std::string_view alphabet, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string s(len(rng), '\0');
  for (char& c : s) c = alphabet[pick(rng)];
  return s;
}

TEST(Robustness, Base64UrlDecodeIsCanonical) {
  std::mt19937_64 rng(1);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = randomString(rng, kTokenAlphabet, 12);
    if (auto bytes = base64UrlDecode(s)) {
      ++decoded;
      EXPECT_EQ(base64UrlEncode(*bytes), s);
    }
  }
  EXPECT_GT(decoded, 100);
}

TEST(Robustness, MutatedTokensNeverVerify) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key.ok());
  KeySet keys;
  keys.add(*key);
  std::string token = signJwt(*key, goodClaims());
  ASSERT_TRUE(verifyJwt(token, keys, kNow, kIss, kAud).ok());
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<size_t> pos(0, token.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 3000; ++i) {
    std::string t = token;
    int edits = 1 + i % 3;
    for (int e = 0; e < edits; ++e) {
      size_t p = pos(rng) % t.size();
      switch (byte(rng) % 3) {
        case 0:
          t[p] = static_cast<char>(byte(rng));
          break;
        case 1:
          t.erase(p, 1);
          break;
        default:
          t.insert(p, 1, static_cast<char>(byte(rng)));
          break;
      }
    }
    if (t == token) continue;
    auto r = verifyJwt(t, keys, kNow, kIss, kAud);
    EXPECT_FALSE(r.ok()) << "mutation " << i << " verified";
    if (!r.ok()) {
      EXPECT_EQ(r.code(), Code::kUnauthorized);
    }
  }
}

TEST(Robustness, RandomTokensNeverVerify) {
  auto key = SigningKey::generate();
  KeySet keys;
  keys.add(*key);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5000; ++i) {
    std::string t = randomString(rng, kTokenAlphabet, 200);
    EXPECT_FALSE(verifyJwt(t, keys, kNow, kIss, kAud).ok());
  }
}

TEST(Robustness, RandomScopesAndPatterns) {
  constexpr std::string_view kScopeAlphabet = "repository:registry:catalog:pull,push*/ab-_.:";
  std::mt19937_64 rng(4);
  for (int i = 0; i < 20000; ++i) {
    std::string s = randomString(rng, kScopeAlphabet, 40);
    auto parsed = parseScopes(s);
    if (parsed.ok()) {
      // Whatever parses formats back to scopes that parse to the same result.
      std::string again;
      for (const auto& scope : *parsed) again += formatScope(scope) + " ";
      auto reparsed = parseScopes(again);
      ASSERT_TRUE(reparsed.ok()) << s;
      EXPECT_EQ(*reparsed, *parsed);
      for (const auto& scope : *parsed) {
        if (scope.type == "repository") {
          EXPECT_TRUE(isValidRepositoryName(scope.name));
        }
      }
    }
    // A pattern either validates or not; a valid one never matches an invalid name.
    if (validatePattern(s).ok()) {
      EXPECT_FALSE(patternMatches(s, "Invalid/Name"));
      EXPECT_FALSE(patternMatches(s, "a//b"));
    }
  }
}

TEST(Robustness, RandomJwksDoNotCrash) {
  std::mt19937_64 rng(5);
  const std::vector<std::string> fragments = {
      R"({"keys":[)",
      R"({"kty":"EC","crv":"P-256",)",
      R"({"kty":"RSA",)",
      R"("x":"AAAA",)",
      R"("y":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)",
      R"("n":"AQAB",)",
      R"("e":"AQAB")",
      "}",
      "]",
      "}",
      ",",
      R"("kid":"k")",
      "null",
      "1e999"};
  std::uniform_int_distribution<size_t> pick(0, fragments.size() - 1);
  for (int i = 0; i < 3000; ++i) {
    std::string doc;
    int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) doc += fragments[pick(rng)];
    KeySet keys;
    auto r = keys.addJwks(doc);
    if (!r.ok()) {
      EXPECT_EQ(r.code(), Code::kInvalidArgument);
      EXPECT_EQ(keys.size(), 0u);
    }
  }
}

}  // namespace
}  // namespace berth::auth
