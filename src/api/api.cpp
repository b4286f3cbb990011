#include "api/api.h"

#include <boost/json.hpp>
#include <charconv>

#include "common/text.h"

namespace berth::api {

namespace http = server::http;

Result<oci::Digest> parseDigestParam(std::string_view text) {
  auto d = oci::Digest::parse(text);
  if (!d && d.code() == Code::kUnsupported) {
    return makeError(Code::kDigestInvalid, "unsupported digest algorithm; use sha256 or sha512");
  }
  return d;
}

std::string uploadLocation(const std::string& name, const std::string& id) {
  return "/v2/" + name + "/blobs/uploads/" + id;
}

std::string blobLocation(const std::string& name, const oci::Digest& digest) {
  return "/v2/" + name + "/blobs/" + digest.str();
}

std::string uploadRange(uint64_t offset) { return "0-" + std::to_string(offset ? offset - 1 : 0); }

namespace {

constexpr size_t kMaxPage = 10000;

server::Response jsonResponse(http::status status, std::string body,
                              std::string_view content_type = "application/json") {
  server::Response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

// n (page size) and last from a listing query.
Result<std::pair<size_t, std::string>> pageParams(const QueryParams& q) {
  size_t n = kMaxPage;
  if (auto v = queryValue(q, "n")) {
    unsigned long long parsed = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
    if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
      return makeError(Code::kInvalidArgument, "n must be a non-negative integer");
    }
    n = std::min<unsigned long long>(parsed, kMaxPage);
  }
  return std::pair{n, queryValue(q, "last").value_or("")};
}

}  // namespace

Task<void> Api::handle(Exchange& ex) {
  if (audit_ == nullptr) co_return co_await dispatch(ex);
  ex.audit().entry.time_us = events::unixMicrosNow();  // when the request arrived
  co_await dispatch(ex);
  recordAudit(ex);
}

Task<void> Api::dispatch(Exchange& ex) {
  auto [path, raw_query] = splitTarget(std::string_view(ex.request().target()));
  if (access_) {
    // Network rules first: a denied address learns nothing else. Health probes stay open.
    if (path != "/healthz" && path != "/readyz" && !access_->view()->allowsClient(ex.clientAddress())) {
      if (audit_) ex.audit().entry.action = "access";
      co_return co_await ex.sendError(makeError(
          Code::kDenied, "client address " + ex.clientAddress() + " is not allowed by the registry's network rules"));
    }
    if (path.starts_with("/oauth2/")) {
      ex.setRouteLabel(metrics::RouteLabel::kToken);
      co_return co_await oauth(ex, path, raw_query);
    }
    if (path == "/api/v1" || path.starts_with("/api/v1/")) {
      ex.setRouteLabel(metrics::RouteLabel::kAdmin);
      co_return co_await admin(ex, path, raw_query);
    }
  }
  auto route = parseRoute(path);
  if (!route) co_return co_await ex.sendError(route.error());
  ex.setRouteLabel(routeLabel(route->kind));
  auto query = parseQuery(raw_query);
  if (!query) co_return co_await ex.sendError(query.error());
  std::optional<auth::Principal> who;  // nullopt: authentication is off
  if (audit_) noteRoute(ex, *route);
  if (access_) {
    who = co_await admit(ex, *route);
    if (!who) co_return;
  }
  const auto method = ex.method();
  auto allow = [&](std::initializer_list<http::verb> verbs) {
    for (auto v : verbs) {
      if (v == method) return true;
    }
    return false;
  };
  auto notAllowed = [&]() -> Task<void> {
    co_await ex.sendError(makeError(Code::kMethodNotAllowed,
                                    std::string(http::to_string(method)) + " is not allowed on this route"));
  };
  switch (route->kind) {
    case RouteKind::kBase:
      if (!allow({http::verb::get, http::verb::head})) co_return co_await notAllowed();
      co_return co_await ex.send(jsonResponse(http::status::ok, "{}"));
    case RouteKind::kHealthz:
      // Liveness: answering at all is the signal.
      if (!allow({http::verb::get, http::verb::head})) co_return co_await notAllowed();
      co_return co_await ex.send(jsonResponse(http::status::ok, "{\"status\":\"ok\"}"));
    case RouteKind::kReadyz: {
      if (!allow({http::verb::get, http::verb::head})) co_return co_await notAllowed();
      auto h = co_await ex.blocking([&] { return registry_.health(); });
      boost::json::object checks{{"storage", h.storage}, {"metadata", h.metadata}};
      if (h.available_bytes) checks["storage_available_bytes"] = *h.available_bytes;
      boost::json::object body{{"status", h.ready ? "ok" : "unavailable"}, {"checks", std::move(checks)}};
      co_return co_await ex.send(jsonResponse(h.ready ? http::status::ok : http::status::service_unavailable,
                                              boost::json::serialize(body)));
    }
    case RouteKind::kMetrics:
      if (!metrics_.registry) break;
      if (!allow({http::verb::get, http::verb::head})) co_return co_await notAllowed();
      co_return co_await metrics(ex);
    case RouteKind::kCatalog:
      if (!allow({http::verb::get})) co_return co_await notAllowed();
      co_return co_await catalog(ex, *query, who, "/v2/_catalog");
    case RouteKind::kTags:
      if (!allow({http::verb::get})) co_return co_await notAllowed();
      co_return co_await tags(ex, *route, *query);
    case RouteKind::kReferrers:
      if (!allow({http::verb::get})) co_return co_await notAllowed();
      co_return co_await referrers(ex, *route, *query);
    case RouteKind::kManifest:
      if (!allow({http::verb::get, http::verb::head, http::verb::put, http::verb::delete_}))
        co_return co_await notAllowed();
      co_return co_await manifest(ex, *route, who);
    case RouteKind::kBlob:
      if (!allow({http::verb::get, http::verb::head, http::verb::delete_})) co_return co_await notAllowed();
      co_return co_await blob(ex, *route);
    case RouteKind::kUploadStart:
      if (!allow({http::verb::post})) co_return co_await notAllowed();
      co_return co_await uploadStart(ex, *route, *query, who);
    case RouteKind::kUpload:
      if (!allow({http::verb::get, http::verb::patch, http::verb::put, http::verb::delete_}))
        co_return co_await notAllowed();
      co_return co_await upload(ex, *route, *query);
    case RouteKind::kAcrCatalog:
    case RouteKind::kAcrRepository:
    case RouteKind::kAcrTags:
    case RouteKind::kAcrTag:
    case RouteKind::kAcrManifests:
    case RouteKind::kAcrManifest:
      co_return co_await acr(ex, *route, *query, who);
  }
  co_await ex.sendError(makeError(Code::kRouteUnknown, "no such route"));
}

Task<void> Api::tags(Exchange& ex, const Route& route, const QueryParams& q) {
  auto page = pageParams(q);
  if (!page) co_return co_await ex.sendError(page.error());
  auto [n, last] = *page;
  auto found = co_await ex.blocking([&] { return registry_.listTags(route.name, last, n + 1); });
  if (!found) co_return co_await ex.sendError(found.error());
  bool more = found->size() > n;
  if (more) found->resize(n);
  boost::json::array tags;
  for (auto& t : *found) tags.emplace_back(t);
  auto res = jsonResponse(http::status::ok,
                          boost::json::serialize(boost::json::object{{"name", route.name}, {"tags", std::move(tags)}}));
  if (more && !found->empty()) {
    res.set(http::field::link,
            "</v2/" + route.name + "/tags/list?last=" + found->back() + "&n=" + std::to_string(n) + ">; rel=\"next\"");
  }
  co_await ex.send(std::move(res));
}

bool Api::mayRead(const std::optional<auth::Principal>& who, std::string_view repository) const {
  if (!who) return true;
  return (access_->permissions(*who, repository, unixNow()) &
          (auth::kPermPull | auth::kPermMetadataRead)) != 0;
}

bool Api::mayList(const std::optional<auth::Principal>& who, std::string_view repository) const {
  if (!who) return true;
  return (access_->grantedPermissions(*who, repository, unixNow()) &
          (auth::kPermPull | auth::kPermMetadataRead)) != 0;
}

bool Api::mayReadAll(const auth::Principal& who) const {
  if (who.kind != auth::Principal::Kind::kCredentials) return false;
  for (const auto& g : access_->grants(who.subject(), unixNow())) {
    if (g.pattern == "*" && (g.permissions & auth::kPermPull)) return true;
  }
  return false;
}

Task<void> Api::catalog(Exchange& ex, const QueryParams& q, const std::optional<auth::Principal>& who,
                        std::string path) {
  auto page = pageParams(q);
  if (!page) co_return co_await ex.sendError(page.error());
  auto [n, last] = *page;
  // Only repositories the caller may see; scan on in batches until the page is full.
  auto found = co_await ex.blocking([&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    std::string after = last;
    for (;;) {
      auto batch = registry_.listRepositories(after, std::max<size_t>(n + 1, 100));
      if (!batch) return batch.takeError();
      for (auto& r : *batch) {
        if (mayList(who, r)) out.push_back(std::move(r));
        if (out.size() > n) return out;
      }
      if (batch->size() < std::max<size_t>(n + 1, 100)) return out;
      after = batch->back();
    }
  });
  if (!found) co_return co_await ex.sendError(found.error());
  bool more = found->size() > n;
  if (more) found->resize(n);
  boost::json::array repos;
  for (auto& r : *found) repos.emplace_back(r);
  auto res = jsonResponse(http::status::ok, boost::json::serialize(boost::json::object{{"repositories", std::move(repos)}}));
  if (more && !found->empty()) {
    res.set(http::field::link, "<" + path + "?last=" + found->back() + "&n=" + std::to_string(n) + ">; rel=\"next\"");
  }
  co_await ex.send(std::move(res));
}

Task<void> Api::referrers(Exchange& ex, const Route& route, const QueryParams& q) {
  auto digest = parseDigestParam(route.ref);
  if (!digest) co_return co_await ex.sendError(digest.error());
  auto artifact_type = queryValue(q, "artifactType").value_or("");
  auto index = co_await ex.blocking([&] { return registry_.referrers(route.name, *digest, artifact_type); });
  if (!index) co_return co_await ex.sendError(index.error());
  auto res = jsonResponse(http::status::ok, std::move(*index), oci::kOciIndex);
  if (!artifact_type.empty()) res.set("OCI-Filters-Applied", "artifactType");
  co_await ex.send(std::move(res));
}

// What an outbox event records about the request that caused it.
events::RequestInfo requestInfo(const Exchange& ex, const std::optional<auth::Principal>& who) {
  events::RequestInfo r;
  r.id = newUuid();
  r.host = std::string(ex.host());
  r.method = std::string(http::to_string(ex.method()));
  r.user_agent = std::string(ex.header(http::field::user_agent));
  if (who && !who->anonymous()) r.actor = who->subject().name;
  return r;
}

}  // namespace berth::api
