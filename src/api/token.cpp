// The token server: /oauth2/token (docker token auth and the OAuth2 password and
// refresh_token grants) and /oauth2/exchange (ACR's exchange of an OIDC ID token for a
// refresh token).
#include <boost/json.hpp>

#include "api/api.h"
#include "api/handlers.h"
#include "auth/scope.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

constexpr size_t kMaxFormBytes = 64 * 1024;

// application/x-www-form-urlencoded: '+' is a space.
Result<QueryParams> parseForm(std::string_view body) {
  std::string escaped;
  escaped.reserve(body.size());
  for (char c : body) {
    if (c == '+') {
      escaped += "%20";
    } else {
      escaped += c;
    }
  }
  return parseQuery(escaped);
}

// Every "scope" parameter (docker sends one per resource; OAuth2 one space-separated).
Result<std::vector<auth::ResourceScope>> requestedScopes(const QueryParams& params) {
  std::string all;
  for (const auto& [k, v] : params) {
    if (k != "scope") continue;
    if (!all.empty()) all += ' ';
    all += v;
  }
  auto scopes = auth::parseScopes(all);
  if (!scopes) return makeError(Code::kInvalidArgument, "invalid scope: " + scopes.error().message);
  return scopes;
}


server::Response tokenResponse(const json::object& body) {
  server::Response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = json::serialize(body);
  return res;
}

// The audit message of a token request: what it was granted ("repository:a:pull,push").
std::string grantedText(const std::vector<auth::ResourceScope>& granted) {
  std::string out = "granted";
  for (const auto& g : granted) {
    out += ' ';
    out += auth::formatScope(g);
    if (out.size() > 250) {
      out += " ...";
      break;
    }
  }
  return granted.empty() ? "granted no scope" : out;
}

const auth::TokenSubject kAnonymous{std::string(auth::kAnonymousSubject), "anonymous", {}, {}};

}  // namespace

Task<void> Tokens::token(Exchange& ex, const Call& call) {
  if (ex.method() != http::verb::post) co_return co_await tokenGet(ex, call.query);
  auto body = co_await ex.readBody(kMaxFormBytes);
  if (!body) co_return co_await ex.sendError(body.error());
  auto form = parseForm(*body);
  if (!form) co_return co_await ex.sendError(form.error());
  co_await tokenPost(ex, *form);
}

Task<void> Tokens::issue(Exchange& ex, const auth::Principal& who,
                      const std::vector<auth::ResourceScope>& requested, bool offline) {
  const int64_t now = unixNow();
  const auto granted = gate_.access().authorize(who, requested, now);
  // The audit note (recorded only when the audit log is on): anonymous token requests are
  // not worth an entry; others say what they were granted.
  if (who.anonymous()) {
    ex.audit().entry.action.clear();
  } else {
    ex.audit().entry.message = grantedText(granted);
  }
  const auth::TokenSubject& subject = who.anonymous() ? kAnonymous : who.subject();
  auto access = gate_.access().tokens().issueAccess(subject, granted, now);
  json::object body;
  body["token"] = access.token;
  body["access_token"] = access.token;
  body["expires_in"] = access.expires_at - now;
  body["issued_at"] = formatRfc3339(now);
  if (offline && !who.anonymous()) {
    body["refresh_token"] = gate_.access().tokens().issueRefresh(who.subject(), now).token;
  }
  co_await ex.send(tokenResponse(body));
}

Task<void> Tokens::tokenGet(Exchange& ex, const QueryParams& q) {
  auto scopes = requestedScopes(q);
  if (!scopes) co_return co_await ex.sendError(scopes.error());
  // An access token never buys another: what it would get is the identity's grants, not
  // its own (wider scopes, a fresh lifetime). Clients send Basic credentials here, or
  // POST a refresh token.
  const std::string_view authz = ex.header(http::field::authorization);
  if (equalsIgnoreCase(authz.substr(0, authz.find(' ')), "Bearer")) {
    server::Response base;
    base.set(http::field::www_authenticate, "Basic realm=\"" + gate_.realm(ex) + "\"");
    co_return co_await ex.sendError(
        makeError(Code::kUnauthorized,
                  "the token endpoint does not take access tokens: send Basic credentials, or POST a refresh token"),
        std::move(base));
  }
  auto who = co_await gate_.authenticate(ex, kNoChallengeScope, {});
  if (!who) co_return;
  if (who->anonymous() && !gate_.access().view()->anonymousPull()) {
    server::Response base;
    base.set(http::field::www_authenticate, "Basic realm=\"" + gate_.realm(ex) + "\"");
    co_return co_await ex.sendError(
        makeError(Code::kUnauthorized, "authentication required: anonymous pull is disabled"),
        std::move(base));
  }
  const bool offline = queryValue(q, "offline_token").value_or("") == "true";
  co_await issue(ex, *who, *scopes, offline);
}

Task<void> Tokens::tokenPost(Exchange& ex, const QueryParams& form) {
  auto scopes = requestedScopes(form);
  if (!scopes) co_return co_await ex.sendError(scopes.error());
  const std::string grant = queryValue(form, "grant_type").value_or("");
  const bool offline = queryValue(form, "access_type").value_or("") == "offline";
  if (grant == "password") {
    auto user = queryValue(form, "username");
    auto password = queryValue(form, "password");
    if (!user && !password) {
      // The Azure SDK's anonymous request: grant_type=password without credentials.
      if (!gate_.access().view()->anonymousPull()) {
        co_return co_await ex.sendError(
            makeError(Code::kUnauthorized, "authentication required: anonymous pull is disabled"));
      }
      // Named: GCC 12 destroys a braced temporary inside co_await twice.
      const auth::Principal anonymous;
      co_return co_await issue(ex, anonymous, *scopes, false);
    }
    if (!user || !password) {
      co_return co_await ex.sendError(makeError(Code::kInvalidArgument, "username and password are required"));
    }
    auto who = co_await gate_.login(ex, *user, *password);
    if (!who) co_return co_await gate_.sendLoginError(ex, who.error());
    co_return co_await issue(ex, *who, *scopes, offline);
  }
  if (grant == "refresh_token") {
    auto token = queryValue(form, "refresh_token");
    if (!token) co_return co_await ex.sendError(makeError(Code::kInvalidArgument, "refresh_token is required"));
    auto subject = gate_.access().refresh(*token, unixNow());
    if (!subject) co_return co_await ex.sendError(subject.error());
    gate_.noteIdentity(ex, *subject);
    auth::Principal who{auth::Principal::Kind::kCredentials, std::move(*subject), {}};
    co_return co_await issue(ex, who, *scopes, false);
  }
  co_await ex.sendError(makeError(Code::kInvalidArgument,
                                  "grant_type must be password or refresh_token"));
}

Task<void> Tokens::exchange(Exchange& ex, const Call&) {
  auto text = co_await ex.readBody(kMaxFormBytes);
  if (!text) co_return co_await ex.sendError(text.error());
  auto parsed = parseForm(*text);
  if (!parsed) co_return co_await ex.sendError(parsed.error());
  const QueryParams& form = *parsed;
  const std::string grant = queryValue(form, "grant_type").value_or("");
  const int64_t now = unixNow();
  Result<auth::TokenSubject> subject = makeError(Code::kInvalidArgument,
      "grant_type must be access_token, access_token_refresh_token or refresh_token");
  if (grant == "access_token" || grant == "access_token_refresh_token") {
    auto token = queryValue(form, "access_token");
    if (!token) co_return co_await ex.sendError(makeError(Code::kInvalidArgument, "access_token is required"));
    subject = co_await ex.blocking([&] { return gate_.access().federated(*token, now); });
  } else if (grant == "refresh_token") {
    auto token = queryValue(form, "refresh_token");
    if (!token) co_return co_await ex.sendError(makeError(Code::kInvalidArgument, "refresh_token is required"));
    subject = gate_.access().refresh(*token, now);
  }
  if (!subject) co_return co_await ex.sendError(subject.error());
  gate_.noteIdentity(ex, *subject);
  auto refresh = gate_.access().tokens().issueRefresh(*subject, now);
  json::object body;
  body["refresh_token"] = refresh.token;
  co_await ex.send(tokenResponse(body));
}

}  // namespace berth::api
