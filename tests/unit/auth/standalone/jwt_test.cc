#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>
#include <thread>

#include "auth/encoding.h"

namespace berth::auth {
namespace {
namespace json = boost::json;

constexpr int64_t kNow = 1'700'000'000;
constexpr std::string_view kIss = "berth.example";
constexpr std::string_view kAud = "berth-registry";

std::string b64(const json::object& o) { return base64UrlEncode(json::serialize(o)); }

json::object goodClaims() {
  json::object c;
  c["iss"] = kIss;
  c["aud"] = kAud;
  c["sub"] = "alice-secret-subject";
  c["exp"] = kNow + 300;
  c["nbf"] = kNow - 10;
  c["iat"] = kNow - 10;
  return c;
}

json::object esHeader(const SigningKey& key) {
  json::object h;
  h["alg"] = "ES256";
  h["typ"] = "JWT";
  h["kid"] = key.kid();
  return h;
}

// A token with an arbitrary header and claims, correctly ES256-signed by `key`.
std::string craft(const SigningKey& key, const json::object& header, const json::object& claims) {
  std::string input = b64(header) + "." + b64(claims);
  return input + "." + base64UrlEncode(key.sign(input));
}

struct Rsa {
  EVP_PKEY* key;
  json::object jwk;  // public, with kid "rsa-1"
};

std::string bnB64(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64UrlEncode(bytes);
}

const Rsa& rsa() {
  static Rsa r = [] {
    Rsa out;
    out.key = EVP_RSA_gen(2048);
    out.jwk["kty"] = "RSA";
    out.jwk["kid"] = "rsa-1";
    out.jwk["use"] = "sig";
    out.jwk["alg"] = "RS256";
    out.jwk["n"] = bnB64(out.key, OSSL_PKEY_PARAM_RSA_N);
    out.jwk["e"] = bnB64(out.key, OSSL_PKEY_PARAM_RSA_E);
    return out;
  }();
  return r;
}

std::string rsaSign(EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, in, input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                           input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

std::string rsaToken(const json::object& header, const json::object& claims) {
  std::string input = b64(header) + "." + b64(claims);
  return input + "." + base64UrlEncode(rsaSign(rsa().key, input));
}

json::object rsaHeader() {
  json::object h;
  h["alg"] = "RS256";
  h["typ"] = "JWT";
  h["kid"] = "rsa-1";
  return h;
}

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

TEST(JwkThumbprint, Rfc7638Example) {
  json::object jwk;
  jwk["kty"] = "RSA";
  jwk["n"] =
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
      "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YG"
      "jQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
      "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnq"
      "DKgw";
  jwk["e"] = "AQAB";
  jwk["alg"] = "RS256";
  jwk["kid"] = "2011-04-29";
  auto key = PublicKey::fromJwk(jwk);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->type(), PublicKey::Type::kRsa);
  EXPECT_EQ(key->thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(key->jwk()["n"], jwk["n"]);
  EXPECT_EQ(key->jwk()["e"], jwk["e"]);
}

constexpr std::string_view kA3Input =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr std::string_view kA3Sig =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

json::object a3Jwk() {
  json::object jwk;
  jwk["kty"] = "EC";
  jwk["crv"] = "P-256";
  jwk["x"] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
  jwk["y"] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
  return jwk;
}

TEST(Es256, Rfc7515AppendixA3Verifies) {
  auto key = PublicKey::fromJwk(a3Jwk());
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->type(), PublicKey::Type::kEcP256);
  auto sig = base64UrlDecode(kA3Sig);
  ASSERT_TRUE(sig && sig->size() == 64);
  EXPECT_TRUE(key->verify("ES256", kA3Input, *sig));
  EXPECT_FALSE(key->verify("RS256", kA3Input, *sig));
  EXPECT_FALSE(key->verify("ES384", kA3Input, *sig));
  std::string tampered(kA3Input);
  tampered.back() = 'R';
  EXPECT_FALSE(key->verify("ES256", tampered, *sig));
  std::string bad_sig = *sig;
  bad_sig[10] ^= 1;
  EXPECT_FALSE(key->verify("ES256", kA3Input, bad_sig));
  EXPECT_FALSE(key->verify("ES256", kA3Input, sig->substr(0, 63)));
  EXPECT_FALSE(key->verify("ES256", kA3Input, *sig + "x"));
  EXPECT_FALSE(key->verify("ES256", kA3Input, std::string(64, '\0')));  // r = s = 0
  EXPECT_FALSE(key->verify("ES256", kA3Input, std::string(64, '\xff')));  // r, s >= n
}

TEST(Es256, Rfc7515AppendixA3WithoutKidIsRefusedByVerifyJwt) {
  KeySet keys;
  keys.add("any", *PublicKey::fromJwk(a3Jwk()));
  std::string token = std::string(kA3Input) + "." + std::string(kA3Sig);
  auto r = verifyJwt(token, keys, 1300819000, "joe", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "token key id missing");
}

// --- keys ---

TEST(SigningKey, KidIsThumbprintOfPublicJwk) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key.ok());
  json::object jwk = key->publicJwk();
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(jwk["crv"], "P-256");
  EXPECT_EQ(jwk["alg"], "ES256");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(std::string_view(jwk["kid"].as_string()), key->kid());
  EXPECT_FALSE(jwk.contains("d"));
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" +
                          std::string(jwk["x"].get_string()) + R"(","y":")" +
                          std::string(jwk["y"].get_string()) + R"("})";
  EXPECT_EQ(key->kid(), base64UrlEncode(sha256(canonical)));
  EXPECT_EQ(base64UrlDecode(jwk["x"].get_string())->size(), 32u);
  EXPECT_EQ(base64UrlDecode(jwk["y"].get_string())->size(), 32u);
  auto again = PublicKey::fromJwk(jwk);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->thumbprint(), key->kid());
  auto other = SigningKey::generate();
  EXPECT_NE(other->kid(), key->kid());
}

TEST(SigningKey, PemRoundTrip) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key.ok());
  std::string pem = key->privateKeyPem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto loaded = SigningKey::fromPem(pem);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->kid(), key->kid());
  KeySet keys;
  keys.add(*key);
  auto r = verifyJwt(signJwt(*loaded, goodClaims()), keys, kNow, kIss, kAud);
  EXPECT_TRUE(r.ok());
  auto pub = PublicKey::fromPem(key->publicKey().pem());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->thumbprint(), key->kid());
}

TEST(SigningKey, LoadsSec1EcPrivateKey) {
  EVP_PKEY* raw = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio, raw, nullptr, nullptr, 0, nullptr,
                                                 nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(raw);
  EXPECT_EQ(pem.rfind("-----BEGIN EC PRIVATE KEY-----", 0), 0u);
  EXPECT_TRUE(SigningKey::fromPem(pem).ok());
}

std::string pemOf(EVP_PKEY* key, const EVP_CIPHER* cipher = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  char pass[] = "passphrase";
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio, key, cipher, nullptr, 0, nullptr,
                                     cipher ? pass : nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

TEST(SigningKey, RefusesOtherKeysAndEncryptedPem) {
  EXPECT_EQ(SigningKey::fromPem("").code(), Code::kInvalidArgument);
  EXPECT_EQ(SigningKey::fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(SigningKey::fromPem(pemOf(rsa().key)).code(), Code::kInvalidArgument);
  EVP_PKEY* p384 = EVP_EC_gen("P-384");
  EXPECT_EQ(SigningKey::fromPem(pemOf(p384)).code(), Code::kInvalidArgument);
  EVP_PKEY_free(p384);
  EVP_PKEY* p256 = EVP_EC_gen("P-256");
  std::string encrypted = pemOf(p256, EVP_aes_256_cbc());
  EXPECT_NE(encrypted.find("ENCRYPTED"), std::string::npos);
  EXPECT_EQ(SigningKey::fromPem(encrypted).code(), Code::kInvalidArgument);  // no prompt
  EVP_PKEY_free(p256);
  auto key = SigningKey::generate();
  EXPECT_EQ(SigningKey::fromPem(key->publicKey().pem()).code(), Code::kInvalidArgument);
}

TEST(PublicKey, RefusesBadJwks) {
  json::object jwk = a3Jwk();
  std::string y = *base64UrlDecode(jwk["y"].get_string());
  y[31] ^= 1;  // no longer on the curve
  jwk["y"] = base64UrlEncode(y);
  EXPECT_EQ(PublicKey::fromJwk(jwk).code(), Code::kInvalidArgument);
  jwk = a3Jwk();
  jwk["x"] = base64UrlEncode(base64UrlDecode(jwk["x"].get_string())->substr(1));
  EXPECT_FALSE(PublicKey::fromJwk(jwk).ok());
  jwk = a3Jwk();
  jwk["crv"] = "P-384";
  EXPECT_FALSE(PublicKey::fromJwk(jwk).ok());
  jwk = a3Jwk();
  jwk["x"] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=";
  EXPECT_FALSE(PublicKey::fromJwk(jwk).ok());
  jwk = a3Jwk();
  jwk["x"] = 5;
  EXPECT_FALSE(PublicKey::fromJwk(jwk).ok());
  json::object oct;
  oct["kty"] = "oct";
  oct["k"] = "c2VjcmV0";
  EXPECT_FALSE(PublicKey::fromJwk(oct).ok());
  EXPECT_FALSE(PublicKey::fromJwk(json::object{}).ok());
  // A 1024-bit RSA key is refused.
  EVP_PKEY* small = EVP_RSA_gen(1024);
  json::object rsa_small;
  rsa_small["kty"] = "RSA";
  rsa_small["n"] = bnB64(small, OSSL_PKEY_PARAM_RSA_N);
  rsa_small["e"] = bnB64(small, OSSL_PKEY_PARAM_RSA_E);
  EXPECT_FALSE(PublicKey::fromJwk(rsa_small).ok());
  EVP_PKEY_free(small);
  json::object even_e = rsa().jwk;
  even_e["e"] = base64UrlEncode(std::string("\x01\x00\x00", 3));
  EXPECT_FALSE(PublicKey::fromJwk(even_e).ok());
  EXPECT_FALSE(PublicKey::fromPem("not pem").ok());
}

// --- round trip ---

TEST_F(JwtTest, SignAndVerifyRoundTrip) {
  json::object claims = goodClaims();
  json::array access;
  access.push_back(json::object{{"type", "repository"}, {"name", "a/b"},
                                {"actions", json::array{"pull"}}});
  claims["access"] = access;
  std::string token = signJwt(*key_, claims);
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  auto r = verify(token);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, claims);
  json::object header =
      json::parse(*base64UrlDecode(token.substr(0, token.find('.')))).as_object();
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
  expectRefused(token.substr(0, d2 + 1) + base64UrlEncode(sig + sig),
                "token signature invalid");
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
  for (const char* alg : {"HS384", "HS512", "RS384", "RS512", "PS256", "ES384", "ES512",
                          "ES256K", "EdDSA", "es256", "ES256 ", ""}) {
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
  ASSERT_EQ(*keys_.addJwks(json::serialize(json::object{{"keys", json::array{rsa().jwk}}})),
            1u);
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
  for (json::value iss : {json::value("other"), json::value("BERTH.EXAMPLE"),
                          json::value("berth.example "), json::value(1),
                          json::value(json::array{"berth.example"})}) {
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
  for (std::string t : {std::string(""), std::string("."), std::string(".."),
                        std::string("..."), std::string("abc"), std::string("a.b"),
                        good + ".", good + ".x", "." + good,
                        good.substr(0, d1) + ".." + good.substr(d2 + 1),
                        good.substr(0, d2) + "."}) {
    expectRefused(t, "token malformed");
  }
  expectRefused("!!!." + good.substr(d1 + 1), "token header malformed");
  expectRefused(good.substr(0, d1) + "=" + good.substr(d1), "token header malformed");
  expectRefused(good.substr(0, d2 + 1) + "+/+/", "token signature malformed");
  expectRefused(good + "=", "token signature malformed");
  expectRefused(good.substr(0, d2 + 1) + "A", "token signature malformed");  // 1 mod 4
  expectRefused(base64UrlEncode("not json") + good.substr(d1), "token header malformed");
  expectRefused(base64UrlEncode("[1,2]") + good.substr(d1), "token header malformed");
  expectRefused(base64UrlEncode("{\"alg\":\"ES256\"") + good.substr(d1),
                "token header malformed");
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
    access.push_back(json::object{{"type", "repository"}, {"name", "team/repo" + std::to_string(i)},
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
  std::string bad_sig = expired.substr(0, expired.rfind('.') + 1) + base64UrlEncode(std::string(64, 'x'));
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

TEST(KeySet, AddJwksTakesUsableSigningKeysOnly) {
  auto ec = SigningKey::generate();
  json::object ec_jwk = ec->publicJwk();
  ec_jwk["kid"] = "ec-1";
  json::object enc = rsa().jwk;
  enc["use"] = "enc";
  enc["kid"] = "rsa-enc";
  json::object rs512 = rsa().jwk;
  rs512["alg"] = "RS512";
  rs512["kid"] = "rsa-512";
  json::object oct{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}};
  json::object p384{{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}, {"kid", "p384"}};
  json::object okp{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AA"}, {"kid", "ed"}};
  json::object no_kid = a3Jwk();
  json::object jwks{{"keys", json::array{rsa().jwk, ec_jwk, enc, rs512, oct, p384, okp, no_kid}}};
  KeySet keys;
  auto added = keys.addJwks(json::serialize(jwks));
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_EQ(*added, 3u);
  EXPECT_EQ(keys.size(), 3u);
  ASSERT_NE(keys.find("rsa-1"), nullptr);
  EXPECT_EQ(keys.find("rsa-1")->type(), PublicKey::Type::kRsa);
  ASSERT_NE(keys.find("ec-1"), nullptr);
  EXPECT_EQ(keys.find("ec-1")->type(), PublicKey::Type::kEcP256);
  EXPECT_NE(keys.find(PublicKey::fromJwk(a3Jwk())->thumbprint()), nullptr);
  EXPECT_EQ(keys.find("rsa-enc"), nullptr);
  EXPECT_EQ(keys.find("rsa-512"), nullptr);
  EXPECT_EQ(keys.find("hmac"), nullptr);

  // RS256 from the JWKS key verifies, as does ES256 from the EC key under its kid.
  EXPECT_TRUE(verifyJwt(rsaToken(rsaHeader(), goodClaims()), keys, kNow, kIss, kAud).ok());
  json::object h = esHeader(*ec);
  h["kid"] = "ec-1";
  EXPECT_TRUE(verifyJwt(craft(*ec, h, goodClaims()), keys, kNow, kIss, kAud).ok());
  // A tampered RS256 token does not.
  std::string t = rsaToken(rsaHeader(), goodClaims());
  t[t.size() - 5] = t[t.size() - 5] == 'A' ? 'B' : 'A';
  auto r = verifyJwt(t, keys, kNow, kIss, kAud);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "token signature invalid");
  // A truncated RSA signature is refused without reaching OpenSSL's length handling.
  std::string t2 = rsaToken(rsaHeader(), goodClaims());
  std::string sig = *base64UrlDecode(t2.substr(t2.rfind('.') + 1));
  t2 = t2.substr(0, t2.rfind('.') + 1) + base64UrlEncode(sig.substr(1));
  EXPECT_EQ(verifyJwt(t2, keys, kNow, kIss, kAud).error().message, "token signature invalid");
}

TEST(KeySet, MalformedJwksAddsNothing) {
  KeySet keys;
  EXPECT_EQ(keys.addJwks("").code(), Code::kInvalidArgument);
  EXPECT_EQ(keys.addJwks("not json").code(), Code::kInvalidArgument);
  EXPECT_EQ(keys.addJwks("[]").code(), Code::kInvalidArgument);
  EXPECT_EQ(keys.addJwks("{}").code(), Code::kInvalidArgument);
  EXPECT_EQ(keys.addJwks(R"({"keys":{}})").code(), Code::kInvalidArgument);
  EXPECT_EQ(keys.addJwks(R"({"keys":[1]})").code(), Code::kInvalidArgument);
  json::object bad_ec = a3Jwk();
  bad_ec["y"] = bad_ec["x"];  // not on the curve
  json::object jwks{{"keys", json::array{rsa().jwk, bad_ec}}};
  EXPECT_EQ(keys.addJwks(json::serialize(jwks)).code(), Code::kInvalidArgument);
  json::object bad_kid = rsa().jwk;
  bad_kid["kid"] = 7;
  EXPECT_EQ(keys.addJwks(json::serialize(json::object{{"keys", json::array{bad_kid}}})).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(keys.addJwks(std::string(2 * 1024 * 1024, ' ')).code(), Code::kInvalidArgument);
  EXPECT_EQ(keys.size(), 0u);
  auto empty = keys.addJwks(R"({"keys":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, 0u);
}

TEST(KeySet, AddReplacesSameKid) {
  auto a = SigningKey::generate();
  auto b = SigningKey::generate();
  KeySet keys;
  keys.add("k", a->publicKey());
  keys.add("k", b->publicKey());
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.find("k")->thumbprint(), b->kid());
}

}  // namespace
}  // namespace berth::auth
