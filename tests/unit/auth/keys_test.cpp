#include "auth/keys.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>

#include "auth/encoding.h"
#include "auth/jwt.h"
#include "auth_test_util.h"

namespace berth::auth {
namespace {
namespace json = boost::json;
using namespace berth::auth::testing;  // NOLINT(google-build-using-namespace)

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
  EXPECT_FALSE(key->verify("ES256", kA3Input, std::string(64, '\0')));    // r = s = 0
  EXPECT_FALSE(key->verify("ES256", kA3Input, std::string(64, '\xff')));  // r, s >= n
}

TEST(Es256, SignaturesAreMalleableSoTokenStringsAreNotIdentifiers) {
  // (r, s) and (r, n - s) both verify, as in every ECDSA verifier that accepts other
  // issuers' tokens. Revocation must use a claim (jti), never the token string.
  auto key = SigningKey::generate();
  std::string input = "payload";
  std::string sig = key->sign(input);
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
  BIGNUM* flipped = BN_new();
  BN_sub(flipped, n, s);
  std::string other = sig.substr(0, 32) + std::string(32, '\0');
  BN_bn2binpad(flipped, reinterpret_cast<unsigned char*>(other.data()) + 32, 32);
  BN_free(n);
  BN_free(s);
  BN_free(flipped);
  EXPECT_NE(other, sig);
  EXPECT_TRUE(key->publicKey().verify("ES256", input, sig));
  EXPECT_TRUE(key->publicKey().verify("ES256", input, other));
}

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
  ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio, raw, nullptr, nullptr, 0, nullptr, nullptr),
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
  EXPECT_EQ(
      PEM_write_bio_PrivateKey(bio, key, cipher, nullptr, 0, nullptr, cipher ? pass : nullptr), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

TEST(SigningKey, RefusesOtherKeysAndEncryptedPem) {
  EXPECT_EQ(SigningKey::fromPem("").code(), Code::kInvalidArgument);
  EXPECT_EQ(
      SigningKey::fromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").code(),
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
