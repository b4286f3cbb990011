#pragma once
// The distribution API: routes a request to its handler. Handlers are thin: parse and
// validate the request, call the Registry (off the I/O thread when it blocks), map the
// Result to a response. Errors are rendered only by Exchange::sendError.
#include <chrono>
#include <memory>
#include <optional>

#include "api/access.h"
#include "api/router.h"
#include "auth/access_control.h"
#include "events/audit_log.h"
#include "events/dispatcher.h"
#include "lifecycle/recycle_bin.h"
#include "lifecycle/retention.h"
#include "meta/properties_store.h"
#include "meta/quota_store.h"
#include "meta/usage_store.h"
#include "metrics/registry.h"
#include "registry/garbage_collector.h"
#include "registry/registry.h"
#include "registry/usage_recorder.h"
#include "server/exchange.h"

namespace berth::api {

using server::Exchange;
using server::Task;

// GET /metrics: what it renders (null: no such route), and whether it is open to anyone
// when authentication is on (config `metrics.anonymous`).
struct MetricsEndpoint {
  const metrics::Registry* registry = nullptr;
  bool anonymous = false;
};

inline const Requirement kNoChallengeScope{};

class Api {
 public:
  // `access` null: no authentication at all (config `auth: none`).
  Api(registry::Registry& registry, auth::AccessControl* access, MetricsEndpoint metrics = {})
      : registry_(registry), access_(access), metrics_(metrics) {}
  Task<void> handle(Exchange& ex);
  // The webhook admin API (/api/v1/webhooks) works when set.
  void setWebhooks(events::Dispatcher* webhooks) { webhooks_ = webhooks; }
  // ACR's metadata API (/acr/v1 beyond _catalog) works when set.
  void setProperties(meta::PropertiesStore* properties) { properties_ = properties; }
  // Traffic is counted, and /api/v1/usage works, when set.
  void setUsage(registry::UsageRecorder* usage) { usage_ = usage; }
  // Requests are audited and /api/v1/audit works when set (authentication on only).
  void setAudit(events::AuditLog* audit) { audit_ = audit; }
  // The storage-quota admin API (/api/v1/quotas) works when set.
  void setQuotas(meta::QuotaStore* quotas) { quotas_ = quotas; }
  // /api/v1/gc works when set.
  void setGarbageCollector(registry::GarbageCollector* gc) { gc_ = gc; }
  // /api/v1/purge and /api/v1/retention work when set.
  void setRetention(lifecycle::Retention* retention) { retention_ = retention; }
  // /api/v1/recycle-bin works when set.
  void setRecycleBin(lifecycle::RecycleBin* bin) { recycle_bin_ = bin; }

 private:
  Task<void> dispatch(Exchange& ex);

  // audit.cpp: what a request records in the audit log, and /api/v1/audit.
  void noteRoute(Exchange& ex, const Route& route) const;
  void noteIdentity(Exchange& ex, const auth::TokenSubject& who) const;
  void noteFailedLogin(Exchange& ex, std::string_view user) const;
  void recordAudit(Exchange& ex) const;
  Task<void> auditQuery(Exchange& ex, const std::vector<std::string>& seg, const QueryParams& query);

  // auth.cpp: who is calling and whether the route admits them. Both send the error
  // response themselves and return nullopt when the request must stop.
  Task<std::optional<auth::Principal>> admit(Exchange& ex, const Route& route);
  // `req` on `repository` only names the scope of a challenge, if one is sent
  // (kNoChallengeScope: none; a named constant, as GCC 12 mishandles braced temporaries
  // bound to coroutine parameters).
  Task<std::optional<auth::Principal>> authenticate(Exchange& ex, const Requirement& req,
                                                    std::string_view repository);
  Task<Result<auth::Principal>> login(Exchange& ex, std::string_view user, std::string_view password);
  Task<void> sendLoginError(Exchange& ex, const Error& error);
  Task<void> sendUnauthorized(Exchange& ex, std::string message, std::string_view scope,
                              std::string_view error);
  std::string realm(const Exchange& ex) const;
  // Whether the caller may pull `repository` (a mount source: content, not metadata).
  bool mayRead(const std::optional<auth::Principal>& who, std::string_view repository) const;
  // Whether the catalog shows `repository` to the caller (AccessControl::mayList).
  bool mayList(const std::optional<auth::Principal>& who, std::string_view repository) const;
  // Pull on every repository (a "*" grant): needed to mount without naming the source.
  bool mayReadAll(const auth::Principal& who) const;

  // admin.cpp: /api/v1.
  Task<void> admin(Exchange& ex, std::string_view path, std::string_view raw_query);

  // admin_gc.cpp: /api/v1/gc (`seg` starts with "gc"; the caller is an owner on "*").
  Task<void> gc(Exchange& ex, const std::vector<std::string>& seg, const boost::json::object& body);

  // usage.cpp: /api/v1/usage (authenticated `who`; its own role checks).
  Task<void> usage(Exchange& ex, std::string path, std::string raw_query, const auth::Principal& who);

  // recycle_bin.cpp: /api/v1/recycle-bin (authenticated `who`; its own role checks).
  Task<void> recycleBin(Exchange& ex, std::string path, std::string raw_query, const auth::Principal& who);
  bool mayUseRecycleBin(const auth::Principal& who, std::string_view repository) const;

  // token.cpp: /oauth2/token and /oauth2/exchange.
  Task<void> oauth(Exchange& ex, std::string_view path, std::string_view raw_query);
  Task<void> tokenGet(Exchange& ex, const QueryParams& query);
  Task<void> tokenPost(Exchange& ex, const QueryParams& form);
  Task<void> exchange(Exchange& ex, const QueryParams& form);
  Task<void> issue(Exchange& ex, const auth::Principal& who,
                   const std::vector<auth::ResourceScope>& requested, bool offline);


  Task<void> blob(Exchange& ex, const Route& route);
  Task<void> uploadStart(Exchange& ex, const Route& route, const QueryParams& query,
                         const std::optional<auth::Principal>& who);
  Task<void> upload(Exchange& ex, const Route& route, const QueryParams& query);
  Task<void> manifest(Exchange& ex, const Route& route, const std::optional<auth::Principal>& who);
  Task<void> tags(Exchange& ex, const Route& route, const QueryParams& query);
  // `path` is the listing's own path, for the Link header (/v2/_catalog, /acr/v1/_catalog).
  Task<void> catalog(Exchange& ex, const QueryParams& query, const std::optional<auth::Principal>& who,
                     std::string path);
  // acr.cpp: /acr/v1.
  Task<void> acr(Exchange& ex, const Route& route, const QueryParams& query,
                 const std::optional<auth::Principal>& who);
  Task<void> referrers(Exchange& ex, const Route& route, const QueryParams& query);
  // metrics.cpp
  Task<void> metrics(Exchange& ex);
  bool mayScrape(const auth::Principal& who) const;

  registry::Registry& registry_;
  auth::AccessControl* access_;
  MetricsEndpoint metrics_;
  events::Dispatcher* webhooks_ = nullptr;
  meta::PropertiesStore* properties_ = nullptr;
  registry::UsageRecorder* usage_ = nullptr;
  events::AuditLog* audit_ = nullptr;
  meta::QuotaStore* quotas_ = nullptr;
  registry::GarbageCollector* gc_ = nullptr;
  lifecycle::RecycleBin* recycle_bin_ = nullptr;
  lifecycle::Retention* retention_ = nullptr;
};

// Shared by the handler files.
Result<oci::Digest> parseDigestParam(std::string_view text);
std::string uploadLocation(const std::string& name, const std::string& id);
std::string blobLocation(const std::string& name, const oci::Digest& digest);
std::string uploadRange(uint64_t offset);  // "0-<offset-1>", "0-0" when empty

// What an outbox event records about the request that caused it (a new request id).
events::RequestInfo requestInfo(const Exchange& ex, const std::optional<auth::Principal>& who);
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
