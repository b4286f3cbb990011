#pragma once
// The HTTP API: matches a request to its row in the route table (api/routes.h), then, once
// for every route: network rules, the metrics label, the audit note, authentication and the
// row's access requirement, 405 with Allow, and the row's handler. The audit entry is
// recorded after the response.
#include <chrono>
#include <memory>
#include <optional>

#include "api/access.h"
#include "api/handlers.h"
#include "api/routes.h"

namespace berth::api {

// GET /metrics: what it renders (null: no such route), and whether it is open to anyone
// when authentication is on (config `metrics.anonymous`).
struct MetricsEndpoint {
  const metrics::Registry* registry = nullptr;
  bool anonymous = false;
};

inline const Requirement kNoChallengeScope{};

// Who is calling (Basic, Bearer, anonymous) and whether a route admits them; the 401
// challenges that send docker/podman to the token endpoint. Exists when authentication is on.
class Gate {
 public:
  Gate(auth::AccessControl& access, bool audited, bool metrics_anonymous)
      : access_(access), audited_(audited), metrics_anonymous_(metrics_anonymous) {}

  auth::AccessControl& access() const { return access_; }
  // Sends the error response itself and returns nullopt when the request must stop.
  Task<std::optional<auth::Principal>> admit(Exchange& ex, const Route& route, const Requirement& req);
  // `req` on `repository` only names the scope of a challenge, if one is sent
  // (kNoChallengeScope: none; a named constant, as GCC 12 mishandles braced temporaries
  // bound to coroutine parameters).
  Task<std::optional<auth::Principal>> authenticate(Exchange& ex, const Requirement& req,
                                                    std::string_view repository);
  Task<Result<auth::Principal>> login(Exchange& ex, std::string_view user, std::string_view password);
  Task<void> sendLoginError(Exchange& ex, const Error& error);
  Task<void> sendUnauthorized(Exchange& ex, std::string message, std::string_view scope, std::string_view error);
  std::string realm(const Exchange& ex) const;
  void noteIdentity(Exchange& ex, const auth::TokenSubject& who) const;

 private:
  void noteFailedLogin(Exchange& ex, std::string_view user) const;
  bool mayScrape(const auth::Principal& who) const;

  auth::AccessControl& access_;
  bool audited_;
  bool metrics_anonymous_;
};

// Everything the API serves; the optional parts are null when off.
struct ApiParts {
  registry::Registry& registry;
  registry::UsageRecorder& usage;
  meta::PropertiesStore& properties;
  events::Dispatcher& webhooks;
  meta::QuotaStore& quotas;
  registry::GarbageCollector& gc;
  lifecycle::Retention& retention;
  lifecycle::RecycleBin& recycle_bin;
  auth::AccessControl* access = nullptr;  // null: no authentication at all (`auth: none`)
  events::AuditLog* audit = nullptr;      // null: no audit log (off, or authentication off)
  replication::Replicator* replicator = nullptr;  // null: replication is off
  MetricsEndpoint metrics;
};

class Api {
 public:
  explicit Api(const ApiParts& parts);
  Task<void> handle(Exchange& ex);

 private:
  Task<void> dispatch(Exchange& ex);
  Task<void> dispatchReplica(Exchange& ex, std::string_view path, std::string_view raw_query);
  Task<void> runAdmin(Exchange& ex, const RouteRow& row, const Call& call);
  // What the request records in the audit log (audit.cpp).
  void noteRoute(Exchange& ex, const Route& route, const RouteRow& row, std::string_view path) const;
  void recordAudit(Exchange& ex) const;

  registry::Registry& registry_;
  std::optional<Gate> gate_;  // authentication on
  events::AuditLog* audit_;
  replication::Replicator* replicator_;
  Handlers handlers_;
};

// Sets `out` to untrusted text for an audit field: printable ASCII ('?' for anything else),
// at most 256 bytes. In place: the note's strings keep their buffers from request to request.
void assignPrintable(std::string& out, std::string_view text);
// The metrics' route label of a route.
metrics::RouteLabel routeLabel(RouteKind kind);
// Adds the registry's own metrics (caches, uploads, storage) to `metrics`; both must
// outlive scraping.
void addRegistryMetrics(metrics::Registry& metrics, registry::Registry& registry);
// Adds the garbage collector's totals (blobs deleted, bytes freed, uploads removed).
void addGcMetrics(metrics::Registry& metrics, registry::GarbageCollector& gc);
// berth_retention_*: what purge and retention policies removed.
void addRetentionMetrics(metrics::Registry& metrics, lifecycle::Retention& retention);
// Adds the stored totals (deduplicated bytes; repositories, manifests, tags, blobs), read
// from `usage` at most every `max_age` (one scan serves the gauges of a scrape).
void addStorageMetrics(metrics::Registry& metrics, std::shared_ptr<meta::UsageStore> usage,
                       std::chrono::seconds max_age = std::chrono::seconds(15));

}  // namespace berth::api
