// The token server: /oauth2/token (docker token auth and the OAuth2 password and
// refresh_token grants) and /oauth2/exchange (ACR's exchange of an OIDC ID token for a
// refresh token).
#include <boost/json.hpp>

#include "api/api.h"
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

Task<void> Api::oauth(Exchange& ex, std::string_view path, std::string_view raw_query) {
  const auto method = ex.method();
  if (audit_) ex.audit().entry.action = "login";  // issue() drops anonymous token requests
  if (path == "/oauth2/token" && (method == http::verb::get || method == http::verb::head)) {
    auto q = parseQuery(raw_query);
    if (!q) co_return co_await ex.sendError(q.error());
    co_return co_await tokenGet(ex, *q);
  }
  if ((path == "/oauth2/token" || path == "/oauth2/exchange") && method == http::verb::post) {
    const bool token = path == "/oauth2/token";  // `path` views the header: gone after the body
    auto body = co_await ex.readBody(kMaxFormBytes);
    if (!body) co_return co_await ex.sendError(body.error());
    auto form = parseForm(*body);
    if (!form) co_return co_await ex.sendError(form.error());
    if (token) co_return co_await tokenPost(ex, *form);
    co_return co_await exchange(ex, *form);
  }
  if (path == "/oauth2/token" || path == "/oauth2/exchange") {
    co_return co_await ex.sendError(makeError(Code::kMethodNotAllowed, "method not allowed on " + std::string(path)));
  }
  co_await ex.sendError(makeError(Code::kRouteUnknown, "no such route"));
}

Task<void> Api::issue(Exchange& ex, const auth::Principal& who,
                      const std::vector<auth::ResourceScope>& requested, bool offline) {
  const int64_t now = unixNow();
  const auto granted = access_->authorize(who, requested, now);
  if (audit_) {
    if (who.anonymous()) {
      ex.audit().entry.action.clear();
    } else {
      ex.audit().entry.message = grantedText(granted);
    }
  }
  const auth::TokenSubject& subject = who.anonymous() ? kAnonymous : who.subject();
  auto access = access_->tokens().issueAccess(subject, granted, now);
  json::object body;
  body["token"] = access.token;
  body["access_token"] = access.token;
  body["expires_in"] = access.expires_at - now;
  body["issued_at"] = formatRfc3339(now);
  if (offline && !who.anonymous()) {
    body["refresh_token"] = access_->tokens().issueRefresh(who.subject(), now).token;
  }
  co_await ex.send(tokenResponse(body));
}

Task<void> Api::tokenGet(Exchange& ex, const QueryParams& q) {
  auto scopes = requestedScopes(q);
  if (!scopes) co_return co_await ex.sendError(scopes.error());
  auto who = co_await authenticate(ex, kNoChallengeScope, {});
  if (!who) co_return;
  if (who->anonymous() && !access_->view()->anonymousPull()) {
    server::Response base;
    base.set(http::field::www_authenticate, "Basic realm=\"" + realm(ex) + "\"");
    co_return co_await ex.sendError(
        makeError(Code::kUnauthorized, "authentication required: anonymous pull is disabled"),
        std::move(base));
  }
  const bool offline = queryValue(q, "offline_token").value_or("") == "true";
  co_await issue(ex, *who, *scopes, offline);
}

Task<void> Api::tokenPost(Exchange& ex, const QueryParams& form) {
  auto scopes = requestedScopes(form);
  if (!scopes) co_return co_await ex.sendError(scopes.error());
  const std::string grant = queryValue(form, "grant_type").value_or("");
  const bool offline = queryValue(form, "access_type").value_or("") == "offline";
  if (grant == "password") {
    auto user = queryValue(form, "username");
    auto password = queryValue(form, "password");
    if (!user && !password) {
      // The Azure SDK's anonymous request: grant_type=password without credentials.
      if (!access_->view()->anonymousPull()) {
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
    auto who = co_await login(ex, *user, *password);
    if (!who) co_return co_await sendLoginError(ex, who.error());
    co_return co_await issue(ex, *who, *scopes, offline);
  }
  if (grant == "refresh_token") {
    auto token = queryValue(form, "refresh_token");
    if (!token) co_return co_await ex.sendError(makeError(Code::kInvalidArgument, "refresh_token is required"));
    auto subject = access_->refresh(*token, unixNow());
    if (!subject) co_return co_await ex.sendError(subject.error());
    noteIdentity(ex, *subject);
    auth::Principal who{auth::Principal::Kind::kCredentials, std::move(*subject), {}};
    co_return co_await issue(ex, who, *scopes, false);
  }
  co_await ex.sendError(makeError(Code::kInvalidArgument,
                                  "grant_type must be password or refresh_token"));
}

Task<void> Api::exchange(Exchange& ex, const QueryParams& form) {
  const std::string grant = queryValue(form, "grant_type").value_or("");
  const int64_t now = unixNow();
  Result<auth::TokenSubject> subject = makeError(Code::kInvalidArgument,
      "grant_type must be access_token, access_token_refresh_token or refresh_token");
  if (grant == "access_token" || grant == "access_token_refresh_token") {
    auto token = queryValue(form, "access_token");
    if (!token) co_return co_await ex.sendError(makeError(Code::kInvalidArgument, "access_token is required"));
    subject = co_await ex.blocking([&] { return access_->federated(*token, now); });
  } else if (grant == "refresh_token") {
    auto token = queryValue(form, "refresh_token");
    if (!token) co_return co_await ex.sendError(makeError(Code::kInvalidArgument, "refresh_token is required"));
    subject = access_->refresh(*token, now);
  }
  if (!subject) co_return co_await ex.sendError(subject.error());
  noteIdentity(ex, *subject);
  auto refresh = access_->tokens().issueRefresh(*subject, now);
  json::object body;
  body["refresh_token"] = refresh.token;
  co_await ex.send(tokenResponse(body));
}

}  // namespace berth::api
