#pragma once
// Keys for JSON Web Signatures: P-256 signing keys (Berth's own tokens), public keys
// (EC P-256 or RSA) and the key sets a verifier trusts, loaded from PEM or JWK/JWKS.
#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace berth::auth {

// A public key usable for verification. Immutable and cheap to copy (shared).
class PublicKey {
 public:
  enum class Type { kEcP256, kRsa };

  // From a JWK object: {"kty":"EC","crv":"P-256","x","y"} or {"kty":"RSA","n","e"}
  // (RSA modulus 2048..8192 bits). Private members ("d", ...) are ignored. The point of
  // an EC key is checked to be on the curve. kInvalidArgument otherwise.
  static Result<PublicKey> fromJwk(const boost::json::object& jwk);
  // From a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of either type.
  static Result<PublicKey> fromPem(std::string_view pem);

  Type type() const { return type_; }
  // The JWS algorithm this key verifies: "ES256" or "RS256".
  std::string_view algorithm() const { return type_ == Type::kEcP256 ? "ES256" : "RS256"; }
  // RFC 7638 JWK thumbprint (SHA-256, base64url).
  const std::string& thumbprint() const { return thumbprint_; }
  // The public JWK with only the required members ({crv,kty,x,y} or {e,kty,n}).
  boost::json::object jwk() const;
  std::string pem() const;

  // Verifies a JWS signature (JOSE form: raw R||S for ES256) over `signing_input`.
  // False unless `alg` is this key's algorithm() and the signature is valid.
  bool verify(std::string_view alg, std::string_view signing_input,
              std::string_view signature) const;

 private:
  PublicKey(std::shared_ptr<evp_pkey_st> key, Type type);
  std::shared_ptr<evp_pkey_st> key_;
  Type type_;
  std::string thumbprint_;
  friend class SigningKey;
};

// An ECDSA P-256 private key that signs Berth's tokens. kid = RFC 7638 thumbprint of
// its public key, so the kid changes whenever the key does.
class SigningKey {
 public:
  static Result<SigningKey> generate();
  // From an unencrypted PEM private key (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY")
  // on P-256. Encrypted PEM and other key types are kInvalidArgument (never prompts).
  static Result<SigningKey> fromPem(std::string_view pem);

  // PKCS#8 PEM of the private key: store it with 0600 permissions.
  std::string privateKeyPem() const;
  const PublicKey& publicKey() const { return public_; }
  const std::string& kid() const { return public_.thumbprint(); }
  // The public JWK with "kid", "alg":"ES256", "use":"sig": an entry of a JWKS document.
  boost::json::object publicJwk() const;

  // Raw R||S (64 bytes) ES256 signature of `input`.
  std::string sign(std::string_view input) const;

 private:
  SigningKey(std::shared_ptr<evp_pkey_st> key, PublicKey pub);
  std::shared_ptr<evp_pkey_st> key_;
  PublicKey public_;
};

// The keys a verifier trusts, by kid. Not thread-safe for writes: build it, then share
// it read-only (replace the whole set to rotate keys).
class KeySet {
 public:
  void add(std::string kid, PublicKey key);  // replaces a key of the same kid
  void add(const SigningKey& key) { add(key.kid(), key.publicKey()); }
  // Adds every usable key of a JWKS document ({"keys":[...]}, at most 1 MiB): EC P-256
  // and RSA keys whose "use" (if any) is "sig" and whose "alg" (if any) matches the key
  // type. Other keys (enc, oct, OKP, P-384, RS512...) are skipped, as OIDC providers
  // publish such keys too. A key without "kid" is added under its thumbprint.
  // kInvalidArgument for malformed JSON, no "keys" array, or a malformed EC/RSA key;
  // nothing is added then. Returns how many keys were added.
  Result<size_t> addJwks(std::string_view jwks_json);

  const PublicKey* find(std::string_view kid) const;
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

}  // namespace berth::auth
