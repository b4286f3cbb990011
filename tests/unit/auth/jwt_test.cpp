#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "auth/encoding.h"
#include "auth_test_util.h"

namespace berth::auth {
namespace {
namespace json = boost::json;
using namespace berth::auth::testing;  // NOLINT(google-build-using-namespace)

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = SigningKey::generate();
    ASSERT_TRUE(k.ok());
    key_.emplace(std::move(*k));
    keys_.add(*key_);
  }
  Result<json::object> verify(std::string_view token, int64_t now = kNow, int64_t leeway = 0) {
    return verifyJwt(token, keys_, now, kIss, kAud, leeway);
  }
  void expectRefused(std::string_view token, std::string_view message, int64_t now = kNow) {
    auto r = verify(token, now);
    ASSERT_FALSE(r.ok()) << message;
    EXPECT_EQ(r.code(), Code::kUnauthorized);
    EXPECT_EQ(r.error().message, message);
  }
  std::optional<SigningKey> key_;
  KeySet keys_;
};

// --- known answers ---

TEST(Es256, Rfc7515AppendixA3WithoutKidIsRefusedByVerifyJwt) {
  KeySet keys;
  keys.add("any", *PublicKey::fromJwk(a3Jwk()));
  std::string token = std::string(kA3Input) + "." + std::string(kA3Sig);
  auto r = verifyJwt(token, keys, 1300819000, "joe", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "token key id missing");
}

// --- keys ---

TEST_F(JwtTest, SignAndVerifyRoundTrip) {
  json::object claims = goodClaims();
  json::array access;
  access.push_back(
      json::object{{"type", "repository"}, {"name", "a/b"}, {"actions", json::array{"pull"}}});
  claims["access"] = access;
  std::string token = signJwt(*key_, claims);
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  auto r = verify(token);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, claims);
  json::object header = json::parse(*base64UrlDecode(token.substr(0, token.find('.')))).as_object();
  EXPECT_EQ(json::serialize(header),
            R"({"alg":"ES256","typ":"JWT","kid":")" + key_->kid() + R"("})");
}

TEST_F(JwtTest, SignaturesAreRandomizedButAllVerify) {
  std::string a = signJwt(*key_, goodClaims());
  std::string b = signJwt(*key_, goodClaims());
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify(a).ok());
  EXPECT_TRUE(verify(b).ok());
}

TEST_F(JwtTest, ConcurrentVerificationWithASharedKeySet) {
  std::string token = signJwt(*key_, goodClaims());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ok += verify(token).ok() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

// --- tampering ---

TEST_F(JwtTest, TamperedPayloadIsRefused) {
  std::string token = signJwt(*key_, goodClaims());
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  json::object claims = goodClaims();
  claims["sub"] = "admin";
  std::string forged = token.substr(0, d1 + 1) + b64(claims) + token.substr(d2);
  expectRefused(forged, "token signature invalid");
  // Swapping payloads between two valid tokens does not work either.
  json::object other = goodClaims();
  other["sub"] = "bob";
  std::string token2 = signJwt(*key_, other);
  std::string spliced = token.substr(0, d2) + token2.substr(token2.rfind('.'));
  expectRefused(spliced, "token signature invalid");
}

TEST_F(JwtTest, TamperedSignatureIsRefused) {
  std::string token = signJwt(*key_, goodClaims());
  size_t d2 = token.rfind('.');
  std::string sig = *base64UrlDecode(token.substr(d2 + 1));
  for (size_t i : {0, 31, 32, 63}) {
    std::string s = sig;
    s[i] ^= 0x01;
    expectRefused(token.substr(0, d2 + 1) + base64UrlEncode(s), "token signature invalid");
  }
  expectRefused(token.substr(0, d2 + 1) + base64UrlEncode(sig.substr(0, 63)),
                "token signature invalid");
  expectRefused(token.substr(0, d2 + 1) + base64UrlEncode(sig + sig), "token signature invalid");
  expectRefused(token.substr(0, d2 + 1) + base64UrlEncode(std::string(64, '\0')),
                "token signature invalid");
}

TEST_F(JwtTest, DerEncodedSignatureIsRefused) {
  // JOSE requires raw R||S; an ASN.1 DER signature over the same input is refused.
  std::string input = b64(esHeader(*key_)) + "." + b64(goodClaims());
  EVP_PKEY* raw = nullptr;
  {
    BIO* bio = BIO_new_mem_buf(key_->privateKeyPem().data(), -1);
    std::string pem = key_->privateKeyPem();
    BIO_free(bio);
    bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    raw = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  ASSERT_NE(raw, nullptr);
  std::string der = rsaSign(raw, input);  // EVP_DigestSign on an EC key gives DER
  EVP_PKEY_free(raw);
  EXPECT_NE(der.size(), 64u);
  expectRefused(input + "." + base64UrlEncode(der), "token signature invalid");
}

TEST_F(JwtTest, TokenSignedByAnotherKeyWithTrustedKidIsRefused) {
  auto attacker = SigningKey::generate();
  json::object header = esHeader(*key_);  // claims to be the trusted key
  expectRefused(craft(*attacker, header, goodClaims()), "token signature invalid");
  expectRefused(signJwt(*attacker, goodClaims()), "token key unknown");
}

// --- algorithm confusion ---

TEST_F(JwtTest, AlgNoneIsRefused) {
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    json::object h;
    h["alg"] = alg;
    h["kid"] = key_->kid();
    std::string unsigned_token = b64(h) + "." + b64(goodClaims()) + ".";
    expectRefused(unsigned_token, "token malformed");
    std::string token = craft(*key_, h, goodClaims());
    expectRefused(token, "token algorithm not accepted");
  }
}

TEST_F(JwtTest, Hs256WithThePublicKeyAsSecretIsRefused) {
  json::object h;
  h["alg"] = "HS256";
  h["typ"] = "JWT";
  h["kid"] = key_->kid();
  std::string input = b64(h) + "." + b64(goodClaims());
  for (const std::string& secret :
       {key_->publicKey().pem(), json::serialize(key_->publicJwk()), key_->kid()}) {
    std::string mac = hmacSha256(secret, input);
    expectRefused(input + "." + base64UrlEncode(mac), "token algorithm not accepted");
  }
}

TEST_F(JwtTest, OtherAlgorithmsAreRefused) {
  for (const char* alg : {"HS384", "HS512", "RS384", "RS512", "PS256", "ES384", "ES512", "ES256K",
                          "EdDSA", "es256", "ES256 ", ""}) {
    json::object h = esHeader(*key_);
    h["alg"] = alg;
    expectRefused(craft(*key_, h, goodClaims()), "token algorithm not accepted");
  }
  json::object h = esHeader(*key_);
  h["alg"] = json::array{"ES256"};
  expectRefused(craft(*key_, h, goodClaims()), "token algorithm missing");
  h.erase("alg");
  expectRefused(craft(*key_, h, goodClaims()), "token algorithm missing");
}

TEST_F(JwtTest, AlgorithmMustMatchTheKeyType) {
  ASSERT_EQ(*keys_.addJwks(json::serialize(json::object{{"keys", json::array{rsa().jwk}}})), 1u);
  // RS256 claimed for the EC key, signed with RSA.
  json::object h = rsaHeader();
  h["kid"] = key_->kid();
  expectRefused(rsaToken(h, goodClaims()), "token algorithm does not match key");
  // ES256 claimed for the RSA key, signed with the EC key.
  json::object e = esHeader(*key_);
  e["kid"] = "rsa-1";
  expectRefused(craft(*key_, e, goodClaims()), "token algorithm does not match key");
  // And the genuine RS256 token verifies.
  EXPECT_TRUE(verify(rsaToken(rsaHeader(), goodClaims())).ok());
}

TEST_F(JwtTest, DuplicateHeaderMembersUseTheLastOneAsRfc7515Allows) {
  // RFC 7515 section 4: reject duplicates or use the lexically last. The parser keeps the
  // last, and the check runs on what it kept, so a smuggled "none" cannot pass.
  std::string kid = key_->kid();
  std::string header1 = R"({"alg":"ES256","kid":")" + kid + R"(","alg":"none"})";
  std::string input1 = base64UrlEncode(header1) + "." + b64(goodClaims());
  expectRefused(input1 + "." + base64UrlEncode(key_->sign(input1)), "token algorithm not accepted");
  std::string header2 = R"({"alg":"none","kid":")" + kid + R"(","alg":"ES256"})";
  std::string input2 = base64UrlEncode(header2) + "." + b64(goodClaims());
  EXPECT_TRUE(verify(input2 + "." + base64UrlEncode(key_->sign(input2))).ok());
}

TEST_F(JwtTest, HeaderKeyReferencesAreNeverFollowed) {
  auto attacker = SigningKey::generate();
  json::object h = esHeader(*attacker);
  h["jwk"] = attacker->publicJwk();
  h["jku"] = "https://attacker.example/jwks";
  h["x5u"] = "https://attacker.example/cert";
  expectRefused(craft(*attacker, h, goodClaims()), "token key unknown");
}

TEST_F(JwtTest, HeaderChecks) {
  json::object h = esHeader(*key_);
  h["crit"] = json::array{"b64"};
  h["b64"] = false;
  expectRefused(craft(*key_, h, goodClaims()), "token critical header not supported");
  for (json::value typ : {json::value("JWS"), json::value(5), json::value("")}) {
    h = esHeader(*key_);
    h["typ"] = typ;
    expectRefused(craft(*key_, h, goodClaims()), "token type not accepted");
  }
  for (const char* typ : {"jwt", "JWT", "at+jwt", "AT+JWT"}) {
    h = esHeader(*key_);
    h["typ"] = typ;
    EXPECT_TRUE(verify(craft(*key_, h, goodClaims())).ok()) << typ;
  }
  h = esHeader(*key_);
  h.erase("typ");
  EXPECT_TRUE(verify(craft(*key_, h, goodClaims())).ok());
  h.erase("kid");
  expectRefused(craft(*key_, h, goodClaims()), "token key id missing");
  h["kid"] = 1;
  expectRefused(craft(*key_, h, goodClaims()), "token key id missing");
  h["kid"] = "unknown";
  expectRefused(craft(*key_, h, goodClaims()), "token key unknown");
  h["kid"] = key_->kid() + std::string("\0", 1);
  expectRefused(craft(*key_, h, goodClaims()), "token key unknown");
}

// --- time claims ---

TEST_F(JwtTest, ExpiryIsRequiredAndEnforced) {
  json::object c = goodClaims();
  c.erase("exp");
  expectRefused(craft(*key_, esHeader(*key_), c), "token has no expiry");
  c["exp"] = std::to_string(kNow + 100);
  expectRefused(craft(*key_, esHeader(*key_), c), "token expiry malformed");
  c["exp"] = nullptr;
  expectRefused(craft(*key_, esHeader(*key_), c), "token expiry malformed");
  c["exp"] = kNow;
  expectRefused(craft(*key_, esHeader(*key_), c), "token expired");  // exp is exclusive
  c["exp"] = kNow + 1;
  EXPECT_TRUE(verify(craft(*key_, esHeader(*key_), c)).ok());
  c["exp"] = kNow - 1;
  std::string t = craft(*key_, esHeader(*key_), c);
  expectRefused(t, "token expired");
  EXPECT_TRUE(verify(t, kNow, 5).ok());  // within leeway
  EXPECT_FALSE(verify(t, kNow + 5, 5).ok());
  c["exp"] = kNow + 0.5;  // 1700000000.5: still valid at kNow, not at kNow + 1
  t = craft(*key_, esHeader(*key_), c);
  EXPECT_TRUE(verify(t).ok());
  EXPECT_FALSE(verify(t, kNow + 1).ok());
  c["exp"] = 1e300;
  EXPECT_TRUE(verify(craft(*key_, esHeader(*key_), c)).ok());
  c["exp"] = std::numeric_limits<uint64_t>::max();
  EXPECT_TRUE(verify(craft(*key_, esHeader(*key_), c), kNow, 1000).ok());
  c["exp"] = std::numeric_limits<int64_t>::min();
  expectRefused(craft(*key_, esHeader(*key_), c), "token expired");
  c["exp"] = -1e300;
  expectRefused(craft(*key_, esHeader(*key_), c), "token expired");
}

TEST_F(JwtTest, NotBeforeAndIssuedAt) {
  json::object c = goodClaims();
  c["nbf"] = kNow + 1;
  std::string t = craft(*key_, esHeader(*key_), c);
  expectRefused(t, "token not yet valid");
  EXPECT_TRUE(verify(t, kNow + 1).ok());
  EXPECT_TRUE(verify(t, kNow, 1).ok());
  c["nbf"] = kNow;
  EXPECT_TRUE(verify(craft(*key_, esHeader(*key_), c)).ok());
  c["nbf"] = "soon";
  expectRefused(craft(*key_, esHeader(*key_), c), "token not-before malformed");
  c = goodClaims();
  c["iat"] = kNow + 60;
  expectRefused(craft(*key_, esHeader(*key_), c), "token issued in the future");
  c["iat"] = kNow;
  EXPECT_TRUE(verify(craft(*key_, esHeader(*key_), c)).ok());
  c["iat"] = true;
  expectRefused(craft(*key_, esHeader(*key_), c), "token issued-at malformed");
  c = goodClaims();
  c.erase("nbf");
  c.erase("iat");
  EXPECT_TRUE(verify(craft(*key_, esHeader(*key_), c)).ok());
}

// --- issuer and audience ---

TEST_F(JwtTest, IssuerMustMatchExactly) {
  for (json::value iss :
       {json::value("other"), json::value("BERTH.EXAMPLE"), json::value("berth.example "),
        json::value(1), json::value(json::array{"berth.example"})}) {
    json::object c = goodClaims();
    c["iss"] = iss;
    expectRefused(craft(*key_, esHeader(*key_), c), "token issuer mismatch");
  }
  json::object c = goodClaims();
  c.erase("iss");
  expectRefused(craft(*key_, esHeader(*key_), c), "token issuer mismatch");
}

TEST_F(JwtTest, AudienceStringOrArray) {
  json::object c = goodClaims();
  c["aud"] = json::array{"other", kAud};
  EXPECT_TRUE(verify(craft(*key_, esHeader(*key_), c)).ok());
  for (json::value aud :
       {json::value("other"), json::value("Berth-Registry"), json::value(json::array{}),
        json::value(json::array{"other"}), json::value(json::array{kAud, 1}),
        json::value(json::array{json::array{kAud}}), json::value(5), json::value(nullptr)}) {
    c["aud"] = aud;
    expectRefused(craft(*key_, esHeader(*key_), c), "token audience mismatch");
  }
  c.erase("aud");
  expectRefused(craft(*key_, esHeader(*key_), c), "token audience mismatch");
}

TEST_F(JwtTest, EmptyExpectationsAreACallerBug) {
  std::string t = signJwt(*key_, goodClaims());
  EXPECT_EQ(verifyJwt(t, keys_, kNow, "", kAud).code(), Code::kInternal);
  EXPECT_EQ(verifyJwt(t, keys_, kNow, kIss, "").code(), Code::kInternal);
}

// --- malformed input ---

TEST_F(JwtTest, MalformedStructure) {
  std::string good = signJwt(*key_, goodClaims());
  size_t d1 = good.find('.'), d2 = good.rfind('.');
  for (std::string t :
       {std::string(""), std::string("."), std::string(".."), std::string("..."),
        std::string("abc"), std::string("a.b"), good + ".", good + ".x", "." + good,
        good.substr(0, d1) + ".." + good.substr(d2 + 1), good.substr(0, d2) + "."}) {
    expectRefused(t, "token malformed");
  }
  expectRefused("!!!." + good.substr(d1 + 1), "token header malformed");
  expectRefused(good.substr(0, d1) + "=" + good.substr(d1), "token header malformed");
  expectRefused(good.substr(0, d2 + 1) + "+/+/", "token signature malformed");
  expectRefused(good + "=", "token signature malformed");
  expectRefused(good.substr(0, d2 + 1) + "A", "token signature malformed");  // 1 mod 4
  expectRefused(base64UrlEncode("not json") + good.substr(d1), "token header malformed");
  expectRefused(base64UrlEncode("[1,2]") + good.substr(d1), "token header malformed");
  expectRefused(base64UrlEncode("{\"alg\":\"ES256\"") + good.substr(d1), "token header malformed");
  std::string deep(100, '[');
  expectRefused(base64UrlEncode("{\"alg\":\"ES256\",\"x\":" + deep + "}") + good.substr(d1),
                "token header malformed");
}

TEST_F(JwtTest, SignedButMalformedClaimsAreRefused) {
  for (std::string payload : {std::string("not json"), std::string("[]"), std::string("42"),
                              std::string("{\"exp\":"), std::string("")}) {
    std::string input = b64(esHeader(*key_)) + "." + base64UrlEncode(payload);
    if (payload.empty()) continue;  // empty parts are a structural error
    expectRefused(input + "." + base64UrlEncode(key_->sign(input)), "token claims malformed");
  }
}

TEST_F(JwtTest, HugeInputs) {
  expectRefused(std::string(kMaxJwtBytes + 1, 'a'), "token too large");
  std::string big = std::string(10 * 1024 * 1024, 'A') + "." + "A" + "." + "A";
  expectRefused(big, "token too large");
  // A large but allowed token (many access entries) still verifies.
  json::object c = goodClaims();
  json::array access;
  for (int i = 0; i < 300; ++i) {
    access.push_back(json::object{{"type", "repository"},
                                  {"name", "team/repo" + std::to_string(i)},
                                  {"actions", json::array{"pull", "push"}}});
  }
  c["access"] = access;
  std::string t = signJwt(*key_, c);
  ASSERT_LT(t.size(), kMaxJwtBytes);
  ASSERT_GT(t.size(), 20000u);
  EXPECT_TRUE(verify(t).ok());
}

TEST_F(JwtTest, ErrorMessagesNeverContainTokenMaterial) {
  json::object c = goodClaims();
  c["exp"] = kNow - 100;
  std::string expired = signJwt(*key_, c);
  json::object h = esHeader(*key_);
  h["kid"] = "kid-secret-value";
  std::string unknown = craft(*key_, h, goodClaims());
  std::string bad_sig =
      expired.substr(0, expired.rfind('.') + 1) + base64UrlEncode(std::string(64, 'x'));
  for (const std::string& t : {expired, unknown, bad_sig}) {
    auto r = verify(t);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.find("secret"), std::string::npos);
    EXPECT_EQ(r.error().message.find(key_->kid()), std::string::npos);
    EXPECT_EQ(r.error().message.find(t.substr(0, 10)), std::string::npos);
    EXPECT_TRUE(r.error().detail.empty());
  }
}

// --- JWKS ---

}  // namespace
}  // namespace berth::auth
