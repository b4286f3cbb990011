#pragma once
// The handler groups the route table's rows point into: one small class per resource, built
// once with the collaborators it needs. Handlers are thin: parse and validate the request,
// call a service (off the I/O thread when it blocks), map the Result to a response. Errors
// are rendered only by Exchange::sendError; 404, 405 and access checks happened before
// (api/routes.h).
#include <boost/json.hpp>
#include <optional>

#include "api/admin_reply.h"
#include "api/router.h"
#include "auth/access_control.h"
#include "events/audit_log.h"
#include "events/dispatcher.h"
#include "lifecycle/recycle_bin.h"
#include "lifecycle/retention.h"
#include "meta/properties_store.h"
#include "meta/quota_store.h"
#include "metrics/registry.h"
#include "registry/garbage_collector.h"
#include "registry/registry.h"
#include "registry/usage_recorder.h"
#include "replication/replicator.h"
#include "server/exchange.h"

namespace berth::api {

using server::Exchange;
using server::Task;

class Gate;

// What a handler gets besides the exchange.
struct Call {
  const Route& route;
  const QueryParams& query;
  const std::optional<auth::Principal>& who;  // nullopt: authentication is off
  std::string_view replica = {};               // kReplica routes: the peer's region, verified
};

// What an admin API operation gets; it runs on the blocking pool.
struct AdminCall {
  server::http::verb method;
  const Route& route;
  const QueryParams& query;
  const boost::json::object& body;  // {} when the request has none
  const auth::Principal& who;
  const events::RequestInfo& request;
  int64_t now;
};

// /v2/, /healthz, /readyz, /metrics.
class Probes {
 public:
  Probes(registry::Registry& registry, const metrics::Registry* metrics) : registry_(registry), metrics_(metrics) {}
  Task<void> base(Exchange& ex, const Call& call);
  Task<void> healthz(Exchange& ex, const Call& call);
  Task<void> readyz(Exchange& ex, const Call& call);
  Task<void> metrics(Exchange& ex, const Call& call);

 private:
  registry::Registry& registry_;
  const metrics::Registry* metrics_;  // null: no /metrics
};

// Tag lists, the catalog (/v2 and /acr/v1) and referrers.
class Listings {
 public:
  Listings(registry::Registry& registry, const auth::AccessControl* access) : registry_(registry), access_(access) {}
  Task<void> tags(Exchange& ex, const Call& call);
  Task<void> catalog(Exchange& ex, const Call& call);
  Task<void> referrers(Exchange& ex, const Call& call);

 private:
  // Whether the catalog shows `repository` to the caller (AccessControl::mayList).
  bool mayList(const std::optional<auth::Principal>& who, std::string_view repository) const;

  registry::Registry& registry_;
  const auth::AccessControl* access_;  // null: authentication is off
};

// Blobs and uploads.
class Blobs {
 public:
  Blobs(registry::Registry& registry, registry::UsageRecorder& usage, const auth::AccessControl* access)
      : registry_(registry), usage_(usage), access_(access) {}
  Task<void> blob(Exchange& ex, const Call& call);         // GET, HEAD, DELETE
  Task<void> uploadStart(Exchange& ex, const Call& call);  // POST (session, monolithic, mount)
  Task<void> upload(Exchange& ex, const Call& call);       // PATCH, PUT, GET, DELETE

 private:
  // Whether the caller may pull `repository` (a mount source: content, not metadata).
  bool mayRead(const std::optional<auth::Principal>& who, std::string_view repository) const;
  // Pull on every repository (a "*" grant): needed to mount without naming the source.
  bool mayReadAll(const auth::Principal& who) const;

  registry::Registry& registry_;
  registry::UsageRecorder& usage_;
  const auth::AccessControl* access_;  // null: authentication is off
};

class Manifests {
 public:
  Manifests(registry::Registry& registry, registry::UsageRecorder& usage, bool audited)
      : registry_(registry), usage_(usage), audited_(audited) {}
  Task<void> manifest(Exchange& ex, const Call& call);

 private:
  registry::Registry& registry_;
  registry::UsageRecorder& usage_;
  bool audited_;  // the audit log is on: note the digest
};

// ACR's metadata API under /acr/v1 (docs/metadata-api.md).
class Acr {
 public:
  Acr(registry::Registry& registry, meta::PropertiesStore& properties)
      : registry_(registry), properties_(properties) {}
  Task<void> repository(Exchange& ex, const Call& call);  // GET, PATCH, DELETE
  Task<void> tags(Exchange& ex, const Call& call);        // GET
  Task<void> tag(Exchange& ex, const Call& call);         // GET, PATCH, DELETE
  Task<void> manifests(Exchange& ex, const Call& call);   // GET
  Task<void> manifest(Exchange& ex, const Call& call);    // GET, PATCH

 private:
  registry::Registry& registry_;
  meta::PropertiesStore& properties_;
};

// ACR's soft-delete routes under /acr/v1/_deleted over the recycle bin (acr_deleted.cpp).
class AcrDeleted {
 public:
  AcrDeleted(registry::Registry& registry, lifecycle::RecycleBin& bin, const auth::AccessControl* access,
             bool audited)
      : registry_(registry), bin_(bin), access_(access), audited_(audited) {}
  Task<void> catalog(Exchange& ex, const Call& call);    // GET
  Task<void> manifests(Exchange& ex, const Call& call);  // GET
  Task<void> tags(Exchange& ex, const Call& call);       // GET
  Task<void> restore(Exchange& ex, const Call& call);    // POST

 private:
  // Whether the deleted catalog shows `repository` to the caller (its identity's grants).
  bool mayReadDeleted(const std::optional<auth::Principal>& who, std::string_view repository) const;
  // The repository is live or has something in the recycle bin.
  Result<bool> knownToBin(const std::string& name);

  registry::Registry& registry_;
  lifecycle::RecycleBin& bin_;
  const auth::AccessControl* access_;  // null: authentication is off
  bool audited_;
};

// The token server: /oauth2/token and /oauth2/exchange.
class Tokens {
 public:
  explicit Tokens(Gate& gate) : gate_(gate) {}
  Task<void> token(Exchange& ex, const Call& call);     // GET, HEAD, POST
  Task<void> exchange(Exchange& ex, const Call& call);  // POST

 private:
  Task<void> tokenGet(Exchange& ex, const QueryParams& query);
  Task<void> tokenPost(Exchange& ex, const QueryParams& form);
  Task<void> issue(Exchange& ex, const auth::Principal& who, const std::vector<auth::ResourceScope>& requested,
                   bool offline);

  Gate& gate_;
};

// The admin API's identity part: users, service principals, tokens, federated identities,
// scope maps, role assignments, network rules and settings. Every change reloads
// AccessControl's view, so it applies to the very next request.
class IdentityAdmin {
 public:
  explicit IdentityAdmin(auth::AccessControl& access) : access_(access) {}
  Result<AdminReply> identities(const AdminCall& call);  // GET list, POST create
  Result<AdminReply> identity(const AdminCall& call);    // GET, PATCH, DELETE
  Result<AdminReply> createCredential(const AdminCall& call);
  Result<AdminReply> deleteCredential(const AdminCall& call);
  Result<AdminReply> scopeMaps(const AdminCall& call);  // GET, POST
  Result<AdminReply> scopeMap(const AdminCall& call);   // GET, PUT, DELETE
  Result<AdminReply> roles(const AdminCall& call);      // GET, POST
  Result<AdminReply> deleteRole(const AdminCall& call);
  Result<AdminReply> networkRules(const AdminCall& call);  // GET, PATCH
  Result<AdminReply> ipRules(const AdminCall& call);       // POST, DELETE
  Result<AdminReply> settings(const AdminCall& call);      // GET, PATCH

 private:
  Result<AdminReply> createIdentity(const AdminCall& call);
  Result<AdminReply> updateIdentity(const AdminCall& call, const meta::IdentityRecord& current);
  Result<AdminReply> shown(std::string_view name, server::http::status status = server::http::status::ok);
  Status storeRanges(std::vector<std::string> ranges);

  auth::AccessControl& access_;
};

class WebhookAdmin {
 public:
  // `replicator`: null when replication is off (a webhook then names no region).
  WebhookAdmin(events::Dispatcher& dispatcher, const replication::Replicator* replicator)
      : dispatcher_(dispatcher), replicator_(replicator) {}
  Result<AdminReply> webhooks(const AdminCall& call);  // GET, POST
  Result<AdminReply> webhook(const AdminCall& call);   // GET, PATCH, DELETE
  Result<AdminReply> ping(const AdminCall& call);
  Result<AdminReply> events(const AdminCall& call);

 private:
  events::Dispatcher& dispatcher_;
  const replication::Replicator* replicator_;
};

class QuotaAdmin {
 public:
  explicit QuotaAdmin(meta::QuotaStore& store) : store_(store) {}
  Result<AdminReply> quotas(const AdminCall& call);  // GET
  Result<AdminReply> quota(const AdminCall& call);   // GET, PUT, DELETE

 private:
  meta::QuotaStore& store_;
};

class LifecycleAdmin {
 public:
  LifecycleAdmin(registry::GarbageCollector& gc, lifecycle::Retention& retention) : gc_(gc), retention_(retention) {}
  Result<AdminReply> gc(const AdminCall& call);        // GET, POST
  Result<AdminReply> purge(const AdminCall& call);     // POST
  Result<AdminReply> policies(const AdminCall& call);  // GET
  Result<AdminReply> policy(const AdminCall& call);    // GET, PUT, DELETE
  Result<AdminReply> run(const AdminCall& call);       // GET, POST

 private:
  registry::GarbageCollector& gc_;
  lifecycle::Retention& retention_;
};

// /api/v1/usage and /api/v1/recycle-bin: open to identities with the roles they name.
class RepositoryAdmin {
 public:
  RepositoryAdmin(auth::AccessControl& access, registry::UsageRecorder& usage, lifecycle::RecycleBin& bin)
      : access_(access), usage_(usage), bin_(bin) {}
  Result<AdminReply> registryUsage(const AdminCall& call);
  Result<AdminReply> repositoryUsage(const AdminCall& call);
  Result<AdminReply> recycleBin(const AdminCall& call);  // GET
  Result<AdminReply> recycleItem(const AdminCall& call);  // GET, DELETE
  Result<AdminReply> restore(const AdminCall& call);      // POST

 private:
  bool mayUseRecycleBin(const auth::Principal& who, std::string_view repository, int64_t now) const;

  auth::AccessControl& access_;
  registry::UsageRecorder& usage_;
  lifecycle::RecycleBin& bin_;
};

// GET /api/v1/audit.
class AuditAdmin {
 public:
  explicit AuditAdmin(events::AuditLog* audit) : audit_(audit) {}
  Result<AdminReply> query(const AdminCall& call);

 private:
  events::AuditLog* audit_;  // null: the audit log is off
};

// The groups that exist only with authentication on.
struct AuthHandlers {
  Tokens tokens;
  IdentityAdmin identities;
  RepositoryAdmin repositories;
  AuditAdmin audit;
};

// Geo-replication: what peers read (journal, snapshot, manifests, blobs) and the admin
// status, with the replicas created at run time.
class ReplicationApi {
 public:
  ReplicationApi(registry::Registry& registry, replication::Replicator* replicator)
      : registry_(registry), replicator_(replicator) {}
  Task<void> journal(Exchange& ex, const Call& call);
  Task<void> entities(Exchange& ex, const Call& call);
  Task<void> manifest(Exchange& ex, const Call& call);
  Task<void> blob(Exchange& ex, const Call& call);
  Task<void> snapshot(Exchange& ex, const Call& call);
  Result<AdminReply> replicas(const AdminCall& call);  // GET, POST /api/v1/replication
  Result<AdminReply> replica(const AdminCall& call);   // GET, DELETE /api/v1/replication/{region}

 private:
  registry::Registry& registry_;
  replication::Replicator* replicator_;  // null: replication is off
};

struct Handlers {
  Probes probes;
  Listings listings;
  Blobs blobs;
  Manifests manifests;
  Acr acr;
  AcrDeleted acrDeleted;
  WebhookAdmin webhooks;
  QuotaAdmin quotas;
  LifecycleAdmin lifecycle;
  ReplicationApi replication;
  std::optional<AuthHandlers> auth;  // routes needing it are refused before (api/api.cpp)
};

// Shared by the handler files.
Result<oci::Digest> parseDigestParam(std::string_view text);
std::string uploadLocation(const std::string& name, const std::string& id);
std::string blobLocation(const std::string& name, const oci::Digest& digest);
std::string uploadRange(uint64_t offset);  // "0-<offset-1>", "0-0" when empty
// Sends `res` with bytes [offset, offset + length) of the blob (sendfile when it is a file).
Task<void> sendBlobBytes(Exchange& ex, server::http::response<server::http::empty_body> res, storage::BlobReader& blob, uint64_t offset,
                         uint64_t length);
server::Response jsonResponse(server::http::status status, std::string body,
                              std::string_view content_type = "application/json");
// A JSON reply of ACR's API (/acr/v1).
server::Response acrJson(server::http::status status, const boost::json::value& body);

// What an outbox event records about the request that caused it (a new request id).
events::RequestInfo requestInfo(const Exchange& ex, const std::optional<auth::Principal>& who);

}  // namespace berth::api
