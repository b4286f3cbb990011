#pragma once
// TokenService: Berth's own tokens, JWTs signed with ES256.
//
//   access token   short-lived (default 5 min); "access" claim as the distribution token
//                  spec defines it; what clients send as "Authorization: Bearer".
//   refresh token  long-lived (default 14 days); no access, exchanged at /oauth2/token
//                  for access tokens; what docker/podman store as "identitytoken".
//
// Both carry "typ_berth" ("access" / "refresh") so one can never stand in for the
// other, "sub" (the principal), "jti" (unique id) and, for refresh tokens, the
// identities' credentials versions: a password change or a disabled identity ends every
// refresh token issued before it. Verification is ECDSA: callers cache the result.
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "auth/keys.h"
#include "auth/scope.h"
#include "common/result.h"

namespace berth::auth {

struct TokenSettings {
  std::string issuer = "berth";
  std::string service = "berth";  // the audience, and "service" in challenges
  int64_t access_ttl = 300;
  int64_t refresh_ttl = 14 * 24 * 3600;
};

// Who a token speaks for: one identity (user, service principal, token) or, for an
// OIDC-federated login, every federated identity the ID token matched.
struct TokenSubject {
  std::string subject;                    // "sub": identity id, or "oidc:<iss>#<sub>"
  std::string name;                       // display name (identity name / OIDC subject)
  std::vector<std::string> identity_ids;  // identities whose grants apply
  std::vector<int64_t> versions;          // refresh tokens: credentials_version of each
  bool operator==(const TokenSubject&) const = default;
};

struct AccessToken {
  TokenSubject subject;
  std::vector<ResourceScope> access;
  std::string jti;
  int64_t expires_at = 0;
};

struct IssuedToken {
  std::string token;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
};

class TokenService {
 public:
  TokenService(SigningKey key, TokenSettings settings);

  const TokenSettings& settings() const { return settings_; }
  const SigningKey& key() const { return key_; }

  IssuedToken issueAccess(const TokenSubject& subject, const std::vector<ResourceScope>& access,
                          int64_t now) const;
  IssuedToken issueRefresh(const TokenSubject& subject, int64_t now) const;

  // kUnauthorized unless the token is a valid, unexpired access token of this service.
  Result<AccessToken> verifyAccess(std::string_view token, int64_t now) const;
  // kUnauthorized unless the token is a valid, unexpired refresh token of this service.
  // The caller still checks the subject's identities and versions against the store.
  // `expires_at` (if given) receives the token's "exp": it is valid while now < exp.
  Result<TokenSubject> verifyRefresh(std::string_view token, int64_t now,
                                     int64_t* expires_at = nullptr) const;

 private:
  boost::json::object baseClaims(const TokenSubject& subject, const char* type, int64_t now,
                                 int64_t ttl) const;
  Result<boost::json::object> verify(std::string_view token, const char* type, int64_t now) const;

  SigningKey key_;
  KeySet keys_;
  TokenSettings settings_;
};

// Loads the PEM signing key at `path`, or creates one there (mode 0600, written
// atomically) if the file does not exist (ENOENT, and not a dangling symlink). Any other
// failure to read it (EACCES, ELOOP, EIO, ...) is kIoError naming the file: a key that is
// there but unreadable must never be silently replaced.
Result<SigningKey> loadOrCreateSigningKey(const std::string& path);

}  // namespace berth::auth
