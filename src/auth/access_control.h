#pragma once
// AccessControl: who is calling and what may they do. The one place that turns
// credentials (Basic passwords, identity/refresh tokens, Berth access tokens, OIDC ID
// tokens) into a Principal and a Principal into permissions on a repository.
//
// Hot path: a request with a Bearer access token or Basic credentials seen recently
// costs a keyed hash and a cache lookup; argon2id and ECDSA run only on a cache miss.
// Grants are always read from the current IdentityView, so disabling an identity,
// changing its roles or a token's scope map takes effect on the next request, even
// for tokens issued before.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/cache.h"
#include "auth/identity_view.h"
#include "auth/jwks_source.h"
#include "auth/login_limiter.h"
#include "auth/token_service.h"
#include "meta/identity_store.h"

namespace berth::auth {

// The username docker and the ACR CLI send with an identity (refresh) token as password.
inline constexpr std::string_view kTokenUsername = "00000000-0000-0000-0000-000000000000";
// The subject of tokens issued to anonymous callers.
inline constexpr std::string_view kAnonymousSubject = "anonymous";

// What a verified credential says about its caller. Immutable once built, and shared by
// every request that presents the credential while it is cached: such a request costs a
// reference count, not a copy.
struct Claims {
  TokenSubject subject;
  std::vector<ResourceScope> access;  // Bearer: what the token grants
};

class Principal {
 public:
  enum class Kind { kAnonymous, kCredentials, kBearer };

  Principal() = default;
  Principal(Kind kind, TokenSubject subject, std::vector<ResourceScope> access = {});
  Principal(Kind kind, std::shared_ptr<const Claims> claims) : kind(kind), claims_(std::move(claims)) {}

  Kind kind = Kind::kAnonymous;
  bool anonymous() const { return kind == Kind::kAnonymous; }
  // Empty for an anonymous principal.
  const TokenSubject& subject() const;
  const std::vector<ResourceScope>& access() const;  // kBearer: what the token grants

 private:
  std::shared_ptr<const Claims> claims_;  // null: no claims (anonymous)
};

struct OidcIssuer {
  std::string issuer;
  std::string audience;
  std::shared_ptr<JwksSource> jwks;
};

struct AccessOptions {
  size_t cache_capacity = 100000;
  int64_t basic_cache_seconds = 300;  // how long a verified password is remembered
  LoginLimits login_limits;
  std::vector<OidcIssuer> oidc;
};

class AccessControl {
 public:
  AccessControl(meta::IdentityStore& store, TokenService tokens, AccessOptions options);

  // Reloads the view from the store (after a change, or at start).
  Status reload();
  std::shared_ptr<const IdentityView> view() const { return std::atomic_load(&view_); }
  meta::IdentityStore& store() { return store_; }
  const TokenService& tokens() const { return tokens_; }
  LoginLimiter& limiter() { return limiter_; }
  const std::vector<OidcIssuer>& oidcIssuers() const { return options_.oidc; }
  // Forgets every cached credential (after a change that affects many identities).
  void invalidateAll() { basic_cache_.clear(); }

  // With an empty store: creates user "admin" with the owner role on "*" and
  // `password` (generated if empty). Returns the password if it created the user.
  // `shared`: a registry of replicas; the admin and its role get the same ids on every
  // replica, so that the replicas' copies are one identity (docs/replication.md).
  Result<std::optional<std::string>> bootstrap(std::string password, int64_t now, bool shared = false);

  // Basic credentials from the cache, without blocking; nullopt on a miss.
  std::optional<Principal> cachedBasic(std::string_view user, std::string_view password,
                                       int64_t now);
  // Verifies Basic credentials (argon2id, or a refresh token for kTokenUsername). Blocks:
  // call it off the I/O threads. kUnauthorized with a message that names no secret.
  Result<Principal> verifyBasic(std::string_view user, std::string_view password, int64_t now);
  // A Berth access token (cached after the first verification).
  Result<Principal> bearer(std::string_view token, int64_t now);
  // A refresh token, with its identities checked against the current view. `expires_at`
  // (if given) receives the token's expiry.
  Result<TokenSubject> refresh(std::string_view token, int64_t now, int64_t* expires_at = nullptr);
  // An OIDC ID token from a configured issuer, mapped to federated identities. May fetch
  // the issuer's keys (a token naming an unknown key id): call it off the I/O threads.
  Result<TokenSubject> federated(std::string_view id_token, int64_t now);

  // What the principal's identities are granted on `repository` right now, whatever a
  // bearer token names, with the deleted_* permissions they imply (policy.h). Not an
  // authorization on its own: see permissions() and mayList().
  Permissions grantedPermissions(const Principal& principal, std::string_view repository, int64_t now) const;
  // What the principal may do on `repository` right now (a Bearer access token: only what
  // the token grants there, deleted_* included, and only while its identities still hold it).
  Permissions permissions(const Principal& principal, std::string_view repository,
                          int64_t now) const;
  // What the principal may use right now, as grants. Credentials: their identities'
  // grants. A Bearer access token is never worth more than what it says: one exact-name
  // grant per repository it names, holding the token's actions there that the identities
  // still hold; never "*", a namespace or admin. Anonymous: none (anonymous pull is
  // decided by permissions()).
  Grants effectiveGrants(const Principal& principal, int64_t now) const;
  // Whether a repository listing (the catalog) shows `repository` to the principal.
  // Credentials: their grants allow pull or metadata_read on it. A Bearer access token:
  // with the catalog scope ("registry:catalog:*", granted to whoever may read something)
  // the same; without it, only repositories the token names with pull or metadata_read.
  bool mayList(const Principal& principal, std::string_view repository, int64_t now) const;
  // Registry-wide admin: owner on "*" in effectiveGrants(), so Basic credentials (password,
  // refresh token) of such an identity; never a Bearer access token, never anonymous.
  bool isAdmin(const Principal& principal, int64_t now) const;
  // The token server's decision: the requested scopes reduced to what the subject's
  // current grants allow (anonymous: pull where anonymous pull is on).
  std::vector<ResourceScope> authorize(const Principal& principal,
                                       const std::vector<ResourceScope>& requested,
                                       int64_t now) const;
  // The subject's grants now (union over its usable identities).
  Grants grants(const TokenSubject& subject, int64_t now) const;

 private:
  struct CachedBasic {
    std::shared_ptr<const Claims> claims;
    int64_t not_after;  // earliest credential/identity expiry
  };
  // The identities of `subject` are all still usable (and, with versions, unchanged).
  bool current(const TokenSubject& subject, int64_t now, bool check_versions) const;
  Result<Principal> verifyPassword(std::string_view user, std::string_view password,
                                   int64_t now, CachedBasic& cached);

  meta::IdentityStore& store_;
  TokenService tokens_;
  AccessOptions options_;
  std::shared_ptr<const IdentityView> view_;  // atomic_load / atomic_store
  CredentialCache<CachedBasic> basic_cache_;
  CredentialCache<std::shared_ptr<const Claims>, TokenKeys> bearer_cache_;  // by token text
  LoginLimiter limiter_;
};

}  // namespace berth::auth
