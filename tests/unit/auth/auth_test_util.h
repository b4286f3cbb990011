#pragma once
// Helpers shared by the auth tests: a scratch directory, fixed claims, hand-crafted
// tokens, an RSA key made with OpenSSL directly (Berth never signs with RSA) and the
// RFC 7515 A.3 vector.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "auth/encoding.h"
#include "auth/keys.h"

namespace berth::auth::testing {
namespace json = boost::json;

inline constexpr int64_t kNow = 1'700'000'000;
inline constexpr std::string_view kIss = "berth.example";
inline constexpr std::string_view kAud = "berth-registry";

inline std::string b64(const json::object& o) { return base64UrlEncode(json::serialize(o)); }

inline json::object goodClaims() {
  json::object c;
  c["iss"] = kIss;
  c["aud"] = kAud;
  c["sub"] = "alice-secret-subject";
  c["exp"] = kNow + 300;
  c["nbf"] = kNow - 10;
  c["iat"] = kNow - 10;
  return c;
}

inline json::object esHeader(const SigningKey& key) {
  json::object h;
  h["alg"] = "ES256";
  h["typ"] = "JWT";
  h["kid"] = key.kid();
  return h;
}

// A token with an arbitrary header and claims, correctly ES256-signed by `key`.
inline std::string craft(const SigningKey& key, const json::object& header,
                         const json::object& claims) {
  std::string input = b64(header) + "." + b64(claims);
  return input + "." + base64UrlEncode(key.sign(input));
}

// A fresh scratch directory, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

struct Rsa {
  EVP_PKEY* key;
  json::object jwk;  // public, with kid "rsa-1"
};

inline std::string bnB64(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64UrlEncode(bytes);
}

inline const Rsa& rsa() {
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

inline std::string rsaSign(EVP_PKEY* key, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, in, input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()), 1);
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return sig;
}

inline std::string rsaToken(const json::object& header, const json::object& claims) {
  std::string input = b64(header) + "." + b64(claims);
  return input + "." + base64UrlEncode(rsaSign(rsa().key, input));
}

inline json::object rsaHeader() {
  json::object h;
  h["alg"] = "RS256";
  h["typ"] = "JWT";
  h["kid"] = "rsa-1";
  return h;
}

inline constexpr std::string_view kA3Input =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
inline constexpr std::string_view kA3Sig =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

inline json::object a3Jwk() {
  json::object jwk;
  jwk["kty"] = "EC";
  jwk["crv"] = "P-256";
  jwk["x"] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
  jwk["y"] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
  return jwk;
}

}  // namespace berth::auth::testing
