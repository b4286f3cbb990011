#include "auth/access_control.h"

#include <boost/json.hpp>

#include "auth/encoding.h"
#include "auth/password.h"
#include "common/text.h"

namespace berth::auth {
namespace json = boost::json;

namespace {

Error unauthorized(std::string message) { return makeError(Code::kUnauthorized, std::move(message)); }

TokenSubject subjectOf(const meta::IdentityRecord& identity) {
  return TokenSubject{identity.id, identity.name, {identity.id}, {identity.credentials_version}};
}

int64_t earliest(int64_t a, int64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return a < b ? a : b;
}

// The "iss" of an unverified JWT, to pick the issuer whose keys verify it.
std::optional<std::string> peekIssuer(std::string_view token) {
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.size() > kMaxJwtBytes) return std::nullopt;
  auto payload = base64UrlDecode(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  auto claims = parseJsonObject(*payload);
  if (!claims) return std::nullopt;
  auto iss = claims->find("iss");
  if (iss == claims->end() || !iss->value().is_string()) return std::nullopt;
  return std::string(iss->value().get_string());
}

// The permissions a token's access claim names on `repository` ("*": every action).
Permissions tokenPermissions(const std::vector<ResourceScope>& access, std::string_view repository) {
  static constexpr std::pair<std::string_view, Permission> kActions[] = {
      {"pull", kPermPull},
      {"push", kPermPush},
      {"delete", kPermDelete},
      {"metadata_read", kPermMetadataRead},
      {"metadata_write", kPermMetadataWrite},
      {"deleted_read", kPermDeletedRead},
      {"deleted_restore", kPermDeletedRestore}};
  Permissions in_token = 0;
  for (const auto& [action, perm] : kActions) {
    if (accessPermits(access, "repository", repository, action)) in_token |= perm;
  }
  return in_token;
}

const Claims kNoClaims;

}  // namespace

Principal::Principal(Kind kind, TokenSubject subject, std::vector<ResourceScope> access)
    : kind(kind), claims_(std::make_shared<const Claims>(Claims{std::move(subject), std::move(access)})) {}

const TokenSubject& Principal::subject() const { return (claims_ ? *claims_ : kNoClaims).subject; }

const std::vector<ResourceScope>& Principal::access() const { return (claims_ ? *claims_ : kNoClaims).access; }

AccessControl::AccessControl(meta::IdentityStore& store, TokenService tokens, AccessOptions options)
    : store_(store),
      tokens_(std::move(tokens)),
      options_(std::move(options)),
      view_(std::make_shared<const IdentityView>(meta::IdentitySnapshot{})),
      basic_cache_(options_.cache_capacity),
      bearer_cache_(options_.cache_capacity),
      limiter_(options_.login_limits) {}

Status AccessControl::reload() {
  auto snap = store_.snapshot();
  if (!snap) return snap.takeError();
  auto next = std::make_shared<const IdentityView>(std::move(*snap));
  std::atomic_store(&view_, std::shared_ptr<const IdentityView>(std::move(next)));
  return okStatus();
}

Result<std::optional<std::string>> AccessControl::bootstrap(std::string password, int64_t now, bool shared) {
  auto snap = store_.snapshot();
  if (!snap) return snap.takeError();
  if (!snap->identities.empty()) return std::optional<std::string>();
  const bool generated = password.empty();
  if (generated) password = generateSecret(18);
  auto hash = hashSecret(password);
  if (!hash) return hash.takeError();
  meta::IdentityRecord admin;
  admin.id = shared ? "00000000-0000-4000-8000-00000000ad01" : newUuid();
  admin.name = "admin";
  admin.kind = meta::IdentityKind::kUser;
  admin.description = "created at first start";
  admin.credentials.push_back(meta::Credential{"password", std::move(*hash), now, 0});
  admin.created_at = admin.updated_at = now;
  if (auto s = store_.createIdentity(admin); !s) {
    // Another node of the fleet, starting at the same time, created it first.
    if (s.code() == Code::kConflict) {
      if (auto r = reload(); !r) return r.takeError();
      return std::optional<std::string>();
    }
    return s.takeError();
  }
  if (auto s = store_.addRoleAssignment({shared ? "00000000-0000-4000-8000-00000000ad02" : newUuid(), "admin",
                                         "owner", "*", now});
      !s) {
    return s.takeError();
  }
  if (auto s = reload(); !s) return s.takeError();
  return std::optional<std::string>(std::move(password));
}

bool AccessControl::current(const TokenSubject& subject, int64_t now, bool check_versions) const {
  auto v = view();
  if (subject.identity_ids.empty()) return false;
  for (size_t i = 0; i < subject.identity_ids.size(); ++i) {
    const meta::IdentityRecord* who = v->byId(subject.identity_ids[i]);
    if (who == nullptr || !IdentityView::usable(*who, now)) return false;
    if (check_versions && who->kind != meta::IdentityKind::kFederated &&
        (i >= subject.versions.size() || subject.versions[i] != who->credentials_version)) {
      return false;
    }
  }
  return true;
}

std::optional<Principal> AccessControl::cachedBasic(std::string_view user, std::string_view password,
                                                    int64_t now) {
  auto hit = basic_cache_.get(basic_cache_.key("basic", user, password), now);
  if (!hit || !current(hit->claims->subject, now, true)) return std::nullopt;
  return Principal{Principal::Kind::kCredentials, std::move(hit->claims)};
}

Result<Principal> AccessControl::verifyPassword(std::string_view user, std::string_view password,
                                                int64_t now, CachedBasic& cached) {
  auto v = view();
  const meta::IdentityRecord* who = v->byName(user);
  // Hash anyway when the user is unknown, so timing does not tell which names exist.
  static const std::string kDummy = *hashSecret("berth-dummy-password");
  if (who == nullptr || who->kind == meta::IdentityKind::kFederated) {
    verifySecret(kDummy, password);
    return unauthorized("invalid username or password");
  }
  bool ok = false;
  int64_t not_after = who->expires_at;
  for (const auto& c : who->credentials) {
    if (c.expires_at != 0 && now >= c.expires_at) continue;
    if (verifySecret(c.hash, password)) {
      ok = true;
      not_after = earliest(not_after, c.expires_at);
      break;
    }
  }
  // A disabled or expired identity gets the wrong password's answer: a caller who guessed
  // right must not learn that it did.
  if (!ok || !IdentityView::usable(*who, now)) return unauthorized("invalid username or password");
  cached = CachedBasic{std::make_shared<const Claims>(Claims{subjectOf(*who), {}}), not_after};
  return Principal{Principal::Kind::kCredentials, cached.claims};
}

Result<Principal> AccessControl::verifyBasic(std::string_view user, std::string_view password,
                                             int64_t now) {
  const uint64_t ticket = basic_cache_.ticket();
  CachedBasic cached;
  Result<Principal> out = unauthorized("invalid username or password");
  if (user == kTokenUsername) {
    int64_t expires_at = 0;
    auto subject = refresh(password, now, &expires_at);
    if (!subject) return subject.takeError();
    // Remembered no longer than the token is valid.
    cached = CachedBasic{std::make_shared<const Claims>(Claims{std::move(*subject), {}}), expires_at};
    out = Principal{Principal::Kind::kCredentials, cached.claims};
  } else {
    out = verifyPassword(user, password, now, cached);
    if (!out) return out;
  }
  int64_t until = now + options_.basic_cache_seconds;
  if (cached.not_after != 0 && cached.not_after < until) until = cached.not_after;
  basic_cache_.put(basic_cache_.key("basic", user, password), cached.claims->subject.subject, cached,
                   until, now, ticket);
  return out;
}

Result<Principal> AccessControl::bearer(std::string_view token, int64_t now) {
  std::optional<std::shared_ptr<const Claims>> hit = bearer_cache_.get(token, now);
  if (!hit) {
    const uint64_t ticket = bearer_cache_.ticket();
    auto verified = tokens_.verifyAccess(token, now);
    if (!verified) return verified.takeError();
    auto claims = std::make_shared<const Claims>(Claims{std::move(verified->subject), std::move(verified->access)});
    // Cached until the token's "exp": never answered from the cache after it.
    bearer_cache_.put(std::string(token), claims->subject.subject, claims, verified->expires_at, now, ticket);
    hit = std::move(claims);
  }
  const TokenSubject& subject = (*hit)->subject;
  if (subject.identity_ids.empty() && subject.subject == kAnonymousSubject) {
    return Principal{};  // an anonymous token: anonymous pull decides, not the token
  }
  if (!current(subject, now, false)) return unauthorized("the identity is disabled or expired");
  return Principal{Principal::Kind::kBearer, std::move(*hit)};
}

Result<TokenSubject> AccessControl::refresh(std::string_view token, int64_t now, int64_t* expires_at) {
  auto subject = tokens_.verifyRefresh(token, now, expires_at);
  if (!subject) return subject.takeError();
  if (!current(*subject, now, true)) {
    return unauthorized("the refresh token was revoked: its identity changed, was disabled or expired");
  }
  return subject;
}

Result<TokenSubject> AccessControl::federated(std::string_view id_token, int64_t now) {
  auto iss = peekIssuer(id_token);
  const OidcIssuer* issuer = nullptr;
  for (const auto& o : options_.oidc) {
    if (iss && o.issuer == *iss) issuer = &o;
  }
  if (issuer == nullptr) return unauthorized("the token's issuer is not trusted");
  constexpr int64_t kLeeway = 60;  // another party's clock
  auto claims = verifyJwt(id_token, *issuer->jwks->keys(), now, issuer->issuer, issuer->audience, kLeeway);
  if (!claims && claims.error().message == "token key unknown" &&
      issuer->jwks->refreshIfStale(now, /*max_age=*/0, /*min_gap=*/10)) {
    // The issuer rotated its keys: fetched again, try once more.
    claims = verifyJwt(id_token, *issuer->jwks->keys(), now, issuer->issuer, issuer->audience, kLeeway);
  }
  if (!claims) return claims.takeError();
  auto v = view();
  TokenSubject subject;
  std::string sub;
  if (auto s = claims->find("sub"); s != claims->end() && s->value().is_string()) {
    sub = std::string(s->value().get_string());
  }
  subject.subject = "oidc:" + issuer->issuer + "#" + sub;
  subject.name = sub;
  if (auto e = claims->find("email"); e != claims->end() && e->value().is_string() &&
      IdentityView::emailVerified(*claims)) {
    subject.name = std::string(e->value().get_string());
  }
  for (const meta::IdentityRecord* who : v->federated(issuer->issuer, *claims)) {
    if (!IdentityView::usable(*who, now)) continue;
    subject.identity_ids.push_back(who->id);
    subject.versions.push_back(who->credentials_version);
  }
  if (subject.identity_ids.empty()) {
    return unauthorized("no federated identity matches the token");
  }
  return subject;
}

Grants AccessControl::grants(const TokenSubject& subject, int64_t now) const {
  auto v = view();
  Grants out;
  for (const auto& id : subject.identity_ids) {
    const meta::IdentityRecord* who = v->byId(id);
    if (who == nullptr || !IdentityView::usable(*who, now)) continue;
    const Grants& g = v->grants(id);
    out.insert(out.end(), g.begin(), g.end());
  }
  return out;
}

Permissions AccessControl::grantedPermissions(const Principal& principal, std::string_view repository,
                                              int64_t now) const {
  auto v = view();
  if (principal.anonymous()) return v->anonymousPull() ? kPermPull : 0;
  // Hot path: no copy of the grants, one view load.
  Permissions granted = 0;
  for (const auto& id : principal.subject().identity_ids) {
    const meta::IdentityRecord* who = v->byId(id);
    if (who == nullptr || !IdentityView::usable(*who, now)) continue;
    granted |= effectivePermissions(v->grants(id), repository);
  }
  return withDeletedPermissions(granted);
}

Permissions AccessControl::permissions(const Principal& principal, std::string_view repository,
                                       int64_t now) const {
  const Permissions granted = grantedPermissions(principal, repository, now);
  if (principal.kind != Principal::Kind::kBearer || principal.anonymous()) return granted;
  return granted & tokenPermissions(principal.access(), repository);
}

Grants AccessControl::effectiveGrants(const Principal& principal, int64_t now) const {
  if (principal.anonymous()) return {};
  if (principal.kind != Principal::Kind::kBearer) return grants(principal.subject(), now);
  Grants out;
  for (const ResourceScope& s : principal.access()) {
    if (s.type != "repository") continue;
    const Permissions p = permissions(principal, s.name, now);
    if (p != 0) out.push_back(Grant{s.name, p});
  }
  return out;
}

bool AccessControl::mayList(const Principal& principal, std::string_view repository, int64_t now) const {
  constexpr Permissions kSee = kPermPull | kPermMetadataRead;
  if (principal.kind == Principal::Kind::kBearer &&
      !accessPermits(principal.access(), "registry", "catalog", "*")) {
    return (permissions(principal, repository, now) & kSee) != 0;
  }
  return (grantedPermissions(principal, repository, now) & kSee) != 0;
}

bool AccessControl::isAdmin(const Principal& principal, int64_t now) const {
  return isRegistryAdmin(effectiveGrants(principal, now));
}

std::vector<ResourceScope> AccessControl::authorize(const Principal& principal,
                                                    const std::vector<ResourceScope>& requested,
                                                    int64_t now) const {
  if (principal.anonymous()) {
    if (!view()->anonymousPull()) return {};
    std::vector<ResourceScope> repositories;
    for (const auto& r : requested) {
      if (r.type == "repository") repositories.push_back(r);
    }
    return auth::authorize(Grants{Grant{"*", kPermPull}}, repositories);
  }
  return auth::authorize(grants(principal.subject(), now), requested);
}

}  // namespace berth::auth
