#include "auth/keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "auth/encoding.h"

namespace berth::auth {
namespace json = boost::json;

namespace {

constexpr size_t kMaxJwksBytes = 1024 * 1024;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

[[noreturn]] void fatal(const char* what) {
  std::fprintf(stderr, "berth: %s failed\n", what);
  std::abort();
}

Error invalidKey(std::string message) {
  return makeError(Code::kInvalidArgument, std::move(message));
}

std::string bnBytes(const BIGNUM* bn, int pad) {
  int n = pad > 0 ? pad : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  int written = pad > 0 ? BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n)
                        : BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  if (written < 0) return {};
  return out;
}

std::string bnParam(const EVP_PKEY* key, const char* name, int pad) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return {};
  BnPtr owned(bn);
  return bnBytes(bn, pad);
}

bool isP256(const EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  char group[64];
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    return false;
  }
  return std::string_view(group, len) == "prime256v1";
}

bool publicCheck(EVP_PKEY* key) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

// Classifies and checks a key read from PEM or built from a JWK.
Result<PublicKey::Type> keyType(EVP_PKEY* key) {
  if (isP256(key)) {
    if (!publicCheck(key)) return invalidKey("EC public key is not a valid P-256 point");
    return PublicKey::Type::kEcP256;
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return invalidKey("RSA key size must be 2048 to 8192 bits");
    }
    return PublicKey::Type::kRsa;
  }
  return invalidKey("only EC P-256 and RSA keys are supported");
}

std::shared_ptr<EVP_PKEY> fromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return share(key);
}

std::optional<std::string> jwkMember(const json::object& jwk, std::string_view name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->value().is_string()) return std::nullopt;
  return base64UrlDecode(it->value().get_string());
}

std::string_view stringMember(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return {};
  return it->value().get_string();
}

std::string derToRaw(std::string_view der) {
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return {};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw = bnBytes(r, 32);
  std::string raw_s = bnBytes(s, 32);
  if (raw.size() != 32 || raw_s.size() != 32) return {};
  return raw + raw_s;
}

std::string rawToDer(std::string_view raw) {
  if (raw.size() != 64) return {};
  auto p = reinterpret_cast<const unsigned char*>(raw.data());
  BnPtr r(BN_bin2bn(p, 32, nullptr));
  BnPtr s(BN_bin2bn(p + 32, 32, nullptr));
  SigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string bioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

int refusePassphrase(char*, int, int, void*) { return 0; }

// The public half only, so PublicKey copies handed to verifiers never carry the scalar.
std::shared_ptr<EVP_PKEY> publicOnly(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) fatal("i2d_PUBKEY");
  const unsigned char* p = der;
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, len);
  OPENSSL_free(der);
  if (pub == nullptr) fatal("d2i_PUBKEY");
  return share(pub);
}


}  // namespace

// --- PublicKey ---

PublicKey::PublicKey(std::shared_ptr<evp_pkey_st> key, Type type)
    : key_(std::move(key)), type_(type) {
  json::object j = jwk();
  // RFC 7638: required members only, lexicographic order, no whitespace.
  std::string canonical =
      type_ == Type::kEcP256
          ? R"({"crv":"P-256","kty":"EC","x":")" + std::string(j["x"].get_string()) + R"(","y":")" +
                std::string(j["y"].get_string()) + R"("})"
          : R"({"e":")" + std::string(j["e"].get_string()) + R"(","kty":"RSA","n":")" +
                std::string(j["n"].get_string()) + R"("})";
  thumbprint_ = base64UrlEncode(sha256(canonical));
}

Result<PublicKey> PublicKey::fromJwk(const json::object& jwk) {
  std::string_view kty = stringMember(jwk, "kty");
  if (kty == "EC") {
    if (stringMember(jwk, "crv") != "P-256") return invalidKey("EC key is not on P-256");
    auto x = jwkMember(jwk, "x");
    auto y = jwkMember(jwk, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32) {
      return invalidKey("EC key x/y must be 32-byte base64url");
    }
    std::string point = "\x04" + *x + *y;
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
      return invalidKey("EC key could not be built");
    }
    auto key = fromParams("EC", bld.get());
    if (!key) return invalidKey("EC key is not a valid P-256 point");
    auto type = keyType(key.get());
    if (!type.ok()) return type.takeError();
    return PublicKey(std::move(key), *type);
  }
  if (kty == "RSA") {
    auto n = jwkMember(jwk, "n");
    auto e = jwkMember(jwk, "e");
    if (!n || !e || n->empty() || e->empty() || e->size() > 8) {
      return invalidKey("RSA key n/e must be base64url");
    }
    BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                         static_cast<int>(n->size()), nullptr));
    BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                         static_cast<int>(e->size()), nullptr));
    if (!bn_n || !bn_e) return invalidKey("RSA key could not be built");
    if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get()) || !BN_is_odd(bn_n.get())) {
      return invalidKey("RSA key n/e invalid");
    }
    int bits = BN_num_bits(bn_n.get());
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return invalidKey("RSA key size must be 2048 to 8192 bits");
    }
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
      return invalidKey("RSA key could not be built");
    }
    auto key = fromParams("RSA", bld.get());
    if (!key) return invalidKey("RSA key could not be built");
    auto type = keyType(key.get());
    if (!type.ok()) return type.takeError();
    return PublicKey(std::move(key), *type);
  }
  return invalidKey("unsupported JWK key type");
}

Result<PublicKey> PublicKey::fromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return invalidKey("PEM could not be read");
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, refusePassphrase, nullptr);
  if (raw == nullptr) return invalidKey("not a PEM public key");
  auto key = share(raw);
  auto type = keyType(key.get());
  if (!type.ok()) return type.takeError();
  return PublicKey(std::move(key), *type);
}

json::object PublicKey::jwk() const {
  json::object j;
  if (type_ == Type::kEcP256) {
    j["crv"] = "P-256";
    j["kty"] = "EC";
    j["x"] = base64UrlEncode(bnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
    j["y"] = base64UrlEncode(bnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  } else {
    j["e"] = base64UrlEncode(bnParam(key_.get(), OSSL_PKEY_PARAM_RSA_E, 0));
    j["kty"] = "RSA";
    j["n"] = base64UrlEncode(bnParam(key_.get(), OSSL_PKEY_PARAM_RSA_N, 0));
  }
  return j;
}

std::string PublicKey::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) fatal("PEM_write_bio_PUBKEY");
  return bioContents(bio.get());
}

bool PublicKey::verify(std::string_view alg, std::string_view signing_input,
                       std::string_view signature) const {
  if (alg != algorithm()) return false;
  std::string der_storage;
  std::string_view sig = signature;
  if (type_ == Type::kEcP256) {
    der_storage = rawToDer(signature);
    if (der_storage.empty()) return false;
    sig = der_storage;
  } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key_.get()))) {
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

// --- SigningKey ---

SigningKey::SigningKey(std::shared_ptr<evp_pkey_st> key, PublicKey pub)
    : key_(std::move(key)), public_(std::move(pub)) {}

Result<SigningKey> SigningKey::generate() {
  EVP_PKEY* raw = EVP_EC_gen("P-256");
  if (raw == nullptr) return makeError(Code::kInternal, "P-256 key generation failed");
  auto key = share(raw);
  return SigningKey(key, PublicKey(publicOnly(key.get()), PublicKey::Type::kEcP256));
}

Result<SigningKey> SigningKey::fromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return invalidKey("PEM could not be read");
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr);
  if (raw == nullptr) return invalidKey("not an unencrypted PEM private key");
  auto key = share(raw);
  if (!isP256(key.get())) return invalidKey("signing key must be EC P-256");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!ctx || EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    return invalidKey("signing key is inconsistent");
  }
  return SigningKey(key, PublicKey(publicOnly(key.get()), PublicKey::Type::kEcP256));
}

std::string SigningKey::privateKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fatal("PEM_write_bio_PrivateKey");
  }
  return bioContents(bio.get());
}

json::object SigningKey::publicJwk() const {
  json::object j = public_.jwk();
  j["kid"] = kid();
  j["alg"] = "ES256";
  j["use"] = "sig";
  return j;
}

std::string SigningKey::sign(std::string_view input) const {
  // Failure here means no memory or no randomness: nothing sensible to return.
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    fatal("EVP_DigestSignInit");
  }
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) fatal("EVP_DigestSign");
  std::string der(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len, in,
                     input.size()) != 1) {
    fatal("EVP_DigestSign");
  }
  der.resize(len);
  std::string raw = derToRaw(der);
  if (raw.size() != 64) fatal("ECDSA signature conversion");
  return raw;
}

// --- KeySet ---

void KeySet::add(std::string kid, PublicKey key) {
  keys_.insert_or_assign(std::move(kid), std::move(key));
}

const PublicKey* KeySet::find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

Result<size_t> KeySet::addJwks(std::string_view jwks_json) {
  if (jwks_json.size() > kMaxJwksBytes) return invalidKey("JWKS too large");
  auto doc = parseJsonObject(jwks_json);
  if (!doc) return invalidKey("JWKS is not a JSON object");
  auto it = doc->find("keys");
  if (it == doc->end() || !it->value().is_array()) return invalidKey("JWKS has no keys array");
  std::vector<std::pair<std::string, PublicKey>> found;
  for (const json::value& v : it->value().get_array()) {
    if (!v.is_object()) return invalidKey("JWKS key is not an object");
    const json::object& jwk = v.get_object();
    std::string_view kty = stringMember(jwk, "kty");
    if (kty != "EC" && kty != "RSA") continue;
    if (kty == "EC" && stringMember(jwk, "crv") != "P-256") continue;
    if (jwk.contains("use") && stringMember(jwk, "use") != "sig") continue;
    if (jwk.contains("alg") && stringMember(jwk, "alg") != (kty == "EC" ? "ES256" : "RS256")) {
      continue;
    }
    auto key = PublicKey::fromJwk(jwk);
    if (!key.ok()) return key.takeError();
    std::string kid(stringMember(jwk, "kid"));
    if (jwk.contains("kid") && (kid.empty() || !jwk.at("kid").is_string())) {
      return invalidKey("JWKS key has an invalid kid");
    }
    if (kid.empty()) kid = key->thumbprint();
    found.emplace_back(std::move(kid), std::move(*key));
  }
  for (auto& [kid, key] : found) add(std::move(kid), std::move(key));
  return found.size();
}

}  // namespace berth::auth
