#include "api/api.h"

#include <boost/json.hpp>

#include "auth/encoding.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;

namespace {

constexpr size_t kMaxAdminBody = 1024 * 1024;

Handlers makeHandlers(const ApiParts& p, std::optional<Gate>& gate) {
  Handlers h{Probes(p.registry, p.metrics.registry),
             Listings(p.registry, p.access),
             Blobs(p.registry, p.usage, p.access),
             Manifests(p.registry, p.usage, p.audit != nullptr),
             Acr(p.registry, p.properties),
             AcrDeleted(p.registry, p.recycle_bin, p.access, p.audit != nullptr),
             WebhookAdmin(p.webhooks, p.replicator),
             QuotaAdmin(p.quotas),
             LifecycleAdmin(p.gc, p.retention),
             ReplicationApi(p.registry, p.replicator),
             std::nullopt};
  if (gate) {
    h.auth.emplace(AuthHandlers{Tokens(*gate), IdentityAdmin(*p.access),
                                RepositoryAdmin(*p.access, p.usage, p.recycle_bin), AuditAdmin(p.audit)});
  }
  return h;
}

std::optional<Gate> makeGate(const ApiParts& p) {
  if (p.access == nullptr) return std::nullopt;
  return std::optional<Gate>(std::in_place, *p.access, p.audit != nullptr, p.metrics.anonymous);
}

// Routes that exist only with authentication on: the token server and the admin API.
bool needsAuthentication(const RouteRow& row) { return row.label == metrics::RouteLabel::kToken || row.admin; }

}  // namespace

Api::Api(const ApiParts& parts)
    : registry_(parts.registry),
      gate_(makeGate(parts)),
      audit_(parts.audit),
      replicator_(parts.replicator),
      handlers_(makeHandlers(parts, gate_)) {}

Task<void> Api::handle(Exchange& ex) {
  if (audit_ == nullptr) co_return co_await dispatch(ex);
  ex.audit().entry.time_us = events::unixMicrosNow();  // when the request arrived
  co_await dispatch(ex);
  recordAudit(ex);
}

Task<void> Api::dispatch(Exchange& ex) {
  auto [path, raw_query] = splitTarget(std::string_view(ex.request().target()));
  if (path.starts_with("/replication/")) co_return co_await dispatchReplica(ex, path, raw_query);
  // Network rules first: a denied address learns nothing else. Health probes stay open.
  if (gate_ && path != "/healthz" && path != "/readyz" &&
      !gate_->access().view()->allowsClient(ex.clientAddress())) {
    if (audit_) ex.audit().entry.action = "access";
    co_return co_await ex.sendError(makeError(
        Code::kDenied, "client address " + ex.clientAddress() + " is not allowed by the registry's network rules"));
  }
  auto route = parseRoute(path);
  if (!route) co_return co_await ex.sendError(route.error());
  const RouteRow& row = routeRow(route->kind);
  if (!gate_ && needsAuthentication(row)) {
    co_return co_await ex.sendError(makeError(Code::kRouteUnknown, "no such route"));
  }
  ex.setRouteLabel(row.label);
  auto query = parseQuery(raw_query);
  if (!query) co_return co_await ex.sendError(query.error());
  const std::string_view method = http::to_string(ex.method());
  if (audit_) noteRoute(ex, *route, row, path);
  std::optional<auth::Principal> who;  // nullopt: authentication is off
  if (gate_) {
    const Requirement& req = row.needs.of(method);
    who = co_await gate_->admit(ex, *route, req);
    if (!who) co_return;
  }
  if ((row.methods & methodBit(method)) == 0) {
    server::Response allow;
    allow.set(http::field::allow, allowedMethods(row.methods));
    co_return co_await ex.sendError(
        makeError(Code::kMethodNotAllowed, std::string(method) + " is not allowed on this route"), std::move(allow));
  }
  const Call call{*route, *query, who};
  if (row.admin) co_return co_await runAdmin(ex, row, call);
  co_await row.handler(handlers_, ex, call);
}

// Replicas reading each other: authenticated by the peer's signature, never by users'
// credentials, so neither the network rules (addresses of clients) nor the Gate apply.
Task<void> Api::dispatchReplica(Exchange& ex, std::string_view path, std::string_view raw_query) {
  auto route = parseRoute(path);
  if (!route) co_return co_await ex.sendError(route.error());
  const RouteRow& row = routeRow(route->kind);
  ex.setRouteLabel(row.label);
  const std::string_view method = http::to_string(ex.method());
  if (audit_) noteRoute(ex, *route, row, path);
  if (row.needs.of(method).kind != Requirement::Kind::kReplica) {
    co_return co_await ex.sendError(makeError(Code::kRouteUnknown, "no such route"));
  }
  if (replicator_ == nullptr) {
    co_return co_await ex.sendError(makeError(Code::kRouteUnknown, "replication is not configured on this registry"));
  }
  auto peer = replicator_->auth().verify(ex.header(replication::kRegionHeader), ex.header(replication::kTimeHeader),
                                         ex.header(replication::kSignatureHeader), method,
                                         std::string_view(ex.request().target()), unixNow());
  if (!peer) co_return co_await ex.sendError(peer.error());
  if (audit_) ex.audit().entry.identity = "replica:" + *peer;
  if ((row.methods & methodBit(method)) == 0) {
    server::Response allow;
    allow.set(http::field::allow, allowedMethods(row.methods));
    co_return co_await ex.sendError(
        makeError(Code::kMethodNotAllowed, std::string(method) + " is not allowed on this route"), std::move(allow));
  }
  auto query = parseQuery(raw_query);
  if (!query) co_return co_await ex.sendError(query.error());
  const std::optional<auth::Principal> nobody;
  const Call call{*route, *query, nobody, *peer};
  co_await row.handler(handlers_, ex, call);
}

// The one shape of the admin API: a JSON body in, an operation on the blocking pool, its
// reply rendered as JSON (never cached: replies may hold generated passwords).
Task<void> Api::runAdmin(Exchange& ex, const RouteRow& row, const Call& call) {
  boost::json::object body;
  if (ex.hasBody()) {
    auto text = co_await ex.readBody(kMaxAdminBody);
    if (!text) co_return co_await ex.sendError(text.error());
    auto parsed = auth::parseJsonObject(*text);
    if (!parsed) co_return co_await ex.sendError(invalidArgument("the body must be a JSON object"));
    body = std::move(*parsed);
  }
  const events::RequestInfo request = requestInfo(ex, call.who);
  const AdminCall admin_call{ex.method(), call.route, call.query, body, *call.who, request, unixNow()};
  auto reply = co_await ex.blocking([&] {
    auto r = row.admin(handlers_, admin_call);
    // A change (an identity, a webhook, a repository's settings) is answered once every
    // node of the fleet sees it.
    if (r && admin_call.method != http::verb::get && admin_call.method != http::verb::head) {
      registry_.awaitPropagation();
    }
    return r;
  });
  if (!reply) co_return co_await ex.sendError(reply.error());
  server::Response res{reply->status, 11};
  res.set(http::field::cache_control, "no-store");
  if (!reply->link.empty()) res.set(http::field::link, reply->link);
  if (!reply->body.is_null()) {
    res.set(http::field::content_type, "application/json");
    res.body() = boost::json::serialize(reply->body);
  }
  co_await ex.send(std::move(res));
}

metrics::RouteLabel routeLabel(RouteKind kind) { return routeRow(kind).label; }

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
