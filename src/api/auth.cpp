// Authentication and authorization of registry requests: who is calling (Basic,
// Bearer, anonymous), whether the route allows it, and the 401 challenges that send
// docker/podman to the token endpoint.
#include <array>
#include <boost/json.hpp>

#include "api/access.h"
#include "api/api.h"
#include "auth/encoding.h"
#include "common/log.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;


namespace {
// Basic credentials up to this many bytes are decoded without allocating.
constexpr size_t kInlineCredentials = 256;

// Built outside the coroutine: GCC 12 miscompiles initializer lists in coroutine frames.
std::string deniedDetail(const std::string& scope, const std::string& identity) {
  boost::json::object o;
  o["scope"] = scope;
  o["identity"] = identity;
  return boost::json::serialize(o);
}
}  // namespace

std::string Gate::realm(const Exchange& ex) const { return ex.externalBase() + "/oauth2/token"; }

Task<void> Gate::sendUnauthorized(Exchange& ex, std::string message, std::string_view scope,
                                 std::string_view error) {
  server::Response base;
  base.set(http::field::www_authenticate,
           bearerChallenge(realm(ex), access_.tokens().settings().service, scope, error));
  co_await ex.sendError(makeError(Code::kUnauthorized, std::move(message)), std::move(base));
}

Task<Result<auth::Principal>> Gate::login(Exchange& ex, std::string_view user,
                                         std::string_view password) {
  const int64_t now = unixNow();
  if (auto hit = access_.cachedBasic(user, password, now)) {
    noteIdentity(ex, hit->subject());
    co_return std::move(*hit);
  }
  const std::string& client = ex.clientAddress();
  // Counted as a failure before the (slow) verification, and given back if it succeeds.
  if (int64_t wait = access_.limiter().acquire(client, user, static_cast<double>(now)); wait > 0) {
    noteFailedLogin(ex, user);
    co_return makeError(Code::kTooManyRequests,
                        "too many failed logins from this address; retry in " +
                            std::to_string(wait) + " s",
                        std::to_string(wait));
  }
  auto who = co_await ex.blocking([&] { return access_.verifyBasic(user, password, now); });
  if (!who) {
    log::info("login failed", {{"identity", quoteUntrusted(user, 64)}, {"client", client}});
    noteFailedLogin(ex, user);
  } else {
    access_.limiter().succeeded(client, user, static_cast<double>(now));
    noteIdentity(ex, who->subject());
  }
  co_return who;
}

Task<void> Gate::sendLoginError(Exchange& ex, const Error& error) {
  if (error.code == Code::kTooManyRequests) {
    server::Response base;
    base.set(http::field::retry_after, error.detail);
    co_return co_await ex.sendError(makeError(error.code, error.message), std::move(base));
  }
  co_await ex.sendError(error);
}

Task<std::optional<auth::Principal>> Gate::authenticate(Exchange& ex, const Requirement& req,
                                                       std::string_view repository) {
  std::string_view authz = ex.header(http::field::authorization);
  if (authz.empty()) co_return auth::Principal{};
  auto space = authz.find(' ');
  std::string_view scheme = authz.substr(0, space);
  std::string_view value = space == std::string_view::npos ? std::string_view() : authz.substr(space + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (equalsIgnoreCase(scheme, "Bearer")) {
    auto who = access_.bearer(value, unixNow());
    if (who) {
      noteIdentity(ex, who->subject());
      co_return std::move(*who);
    }
    co_await sendUnauthorized(ex, who.error().message, challengeScope(req, repository), "invalid_token");
    co_return std::nullopt;
  }
  if (equalsIgnoreCase(scheme, "Basic")) {
    // Usual credentials (user:password) decode into the frame: no allocation per request.
    std::array<char, kInlineCredentials> short_text;
    std::string long_text;
    std::string_view text;
    if (auto n = auth::base64DecodeTo(value, short_text)) {
      text = std::string_view(short_text.data(), *n);
    } else if (auto decoded = auth::base64Decode(value)) {
      long_text = std::move(*decoded);
      text = long_text;
    }
    auto colon = text.find(':');
    if (colon == std::string_view::npos) {
      co_await sendUnauthorized(ex, "malformed Basic credentials", challengeScope(req, repository), {});
      co_return std::nullopt;
    }
    auto who = co_await login(ex, text.substr(0, colon), text.substr(colon + 1));
    if (who) co_return std::move(*who);
    if (who.code() == Code::kUnauthorized) {
      co_await sendUnauthorized(ex, who.error().message, challengeScope(req, repository), {});
    } else {
      co_await sendLoginError(ex, who.error());
    }
    co_return std::nullopt;
  }
  co_await sendUnauthorized(ex, "unsupported authorization scheme; use Basic or Bearer", challengeScope(req, repository), {});
  co_return std::nullopt;
}

bool Gate::mayScrape(const auth::Principal& who) const {
  if (who.kind != auth::Principal::Kind::kCredentials) return false;
  for (const auto& g : access_.effectiveGrants(who, unixNow())) {
    if (g.pattern == "*" && (g.permissions & auth::kPermMetadataRead)) return true;
  }
  return false;
}

Task<std::optional<auth::Principal>> Gate::admit(Exchange& ex, const Route& route, const Requirement& req) {
  if (req.kind == Requirement::Kind::kNone) co_return auth::Principal{};
  if (req.kind == Requirement::Kind::kMetrics && metrics_anonymous_) co_return auth::Principal{};
  auto who = co_await authenticate(ex, req, route.name);
  if (!who) co_return std::nullopt;
  const auth::Principal& p = *who;
  const int64_t now = unixNow();
  bool allowed = false;
  switch (req.kind) {
    case Requirement::Kind::kNone:
      allowed = true;
      break;
    case Requirement::Kind::kAuthenticated:
      allowed = !p.anonymous();
      break;
    case Requirement::Kind::kCatalog:
      allowed = !p.anonymous() && (p.kind != auth::Principal::Kind::kBearer ||
                                   auth::accessPermits(p.access(), "registry", "catalog", "*"));
      break;
    case Requirement::Kind::kRepository:
      allowed = (access_.permissions(p, route.name, now) & req.any_of) != 0;
      break;
    case Requirement::Kind::kMetrics:
      allowed = mayScrape(p);
      break;
    case Requirement::Kind::kOwner:
    case Requirement::Kind::kIdentity:
      // The admin API: an anonymous caller is asked for credentials (Basic), an identity
      // without the owner role is refused; kIdentity leaves the role check to the handler.
      if (p.anonymous()) {
        server::Response base;
        base.set(http::field::www_authenticate, "Basic realm=\"berth\"");
        co_await ex.sendError(makeError(Code::kUnauthorized, "authentication required"), std::move(base));
        co_return std::nullopt;
      }
      if (req.kind == Requirement::Kind::kIdentity || access_.isAdmin(p, now)) co_return who;
      co_await ex.sendError(makeError(
          Code::kDenied, "the admin API needs the owner role on '*' and Basic credentials (an access token never grants it)"));
      co_return std::nullopt;
    case Requirement::Kind::kDeletedCatalog:
      allowed = !p.anonymous() && (p.kind != auth::Principal::Kind::kBearer ||
                                   auth::accessPermits(p.access(), "registry", "deleted_catalog", "*"));
      break;
    case Requirement::Kind::kReplica:
      // Replicas are admitted by Api::dispatchReplica, by their signature; no user is one.
      allowed = false;
      break;
  }
  if (allowed) co_return who;
  const std::string scope = challengeScope(req, route.name);
  if (p.kind == auth::Principal::Kind::kCredentials) {
    co_await ex.sendError(makeError(Code::kDenied, "requested access to the resource is denied",
                                    deniedDetail(scope, p.subject().name)));
  } else if (p.anonymous()) {
    co_await sendUnauthorized(ex, "authentication required", scope, {});
  } else {
    co_await sendUnauthorized(ex, "insufficient scope: the token does not grant " + scope, scope,
                              "insufficient_scope");
  }
  co_return std::nullopt;
}

void Gate::noteIdentity(Exchange& ex, const auth::TokenSubject& who) const {
  if (!audited_ || who.subject == auth::kAnonymousSubject) return;
  meta::AuditRecord& e = ex.audit().entry;
  e.identity = who.name;
  // Identities' kinds are looked up by the writer thread; OIDC subjects are no identity.
  if (who.subject.starts_with("oidc:")) e.identity_kind = "federated";
}

void Gate::noteFailedLogin(Exchange& ex, std::string_view user) const {
  if (!audited_) return;
  meta::AuditRecord& e = ex.audit().entry;
  e.action = "login";
  e.result = "failed";
  assignPrintable(e.identity, user);  // the name tried; never the password
  e.identity_kind.clear();
  ex.audit().failures_only = false;
}

}  // namespace berth::api
