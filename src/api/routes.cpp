// The route table (api/routes.h). Rows are matched in order: fixed paths before the ones
// with a {name}, longer suffixes before shorter ones.
#include "api/routes.h"

#include <array>

#ifndef BERTH_ROUTES_ONLY
#include "api/handlers.h"
// A row's handler: a member of one of the handler groups.
#define ROUTE(group, fn) \
  [](Handlers& h, server::Exchange& ex, const Call& c) -> boost::asio::awaitable<void> { return h.group.fn(ex, c); }, nullptr
#define AUTH_ROUTE(group, fn) \
  [](Handlers& h, server::Exchange& ex, const Call& c) -> boost::asio::awaitable<void> { return h.auth->group.fn(ex, c); }, nullptr
#define ADMIN(group, fn) nullptr, [](Handlers& h, const AdminCall& c) -> Result<AdminReply> { return h.group.fn(c); }
#define AUTH_ADMIN(group, fn) nullptr, [](Handlers& h, const AdminCall& c) -> Result<AdminReply> { return h.auth->group.fn(c); }
#else
// The route fuzzer compiles the table without the handlers (and so without Beast).
#define ROUTE(group, fn) nullptr, nullptr
#define AUTH_ROUTE(group, fn) nullptr, nullptr
#define ADMIN(group, fn) nullptr, nullptr
#define AUTH_ADMIN(group, fn) nullptr, nullptr
#endif

namespace berth::api {

namespace {

using K = Requirement::Kind;
using L = metrics::RouteLabel;

// What a caller needs.
constexpr Requirement kOpen{K::kNone, 0, {}};
constexpr Requirement kSignedIn{K::kAuthenticated, 0, {}};
constexpr Requirement kCatalogAccess{K::kCatalog, 0, {}};
constexpr Requirement kScrape{K::kMetrics, auth::kPermMetadataRead, {}};
constexpr Requirement kPull{K::kRepository, auth::kPermPull, "pull"};
constexpr Requirement kPullOrRead{K::kRepository, auth::kPermPull | auth::kPermMetadataRead, "pull"};
constexpr Requirement kPush{K::kRepository, auth::kPermPush, "pull,push"};
constexpr Requirement kRemove{K::kRepository, auth::kPermDelete, "delete"};
// ACR asks for metadata_read; pull also lets a client read what it may pull.
constexpr Requirement kMetadataRead{K::kRepository, auth::kPermPull | auth::kPermMetadataRead, "metadata_read,pull"};
constexpr Requirement kMetadataWrite{K::kRepository, auth::kPermMetadataWrite, "metadata_write"};
constexpr Requirement kDeletedRead{K::kRepository, auth::kPermDeletedRead, "deleted_read"};
constexpr Requirement kDeletedRestore{K::kRepository, auth::kPermDeletedRestore, "deleted_read,deleted_restore"};
constexpr Requirement kDeletedCatalogAccess{K::kDeletedCatalog, 0, {}};
constexpr Requirement kOwner{K::kOwner, 0, {}};
constexpr Requirement kIdentity{K::kIdentity, 0, {}};
constexpr Requirement kReplicaPeer{K::kReplica, 0, {}};

constexpr ByMethod<Requirement> kContent{kPull, kPush, kRemove};
constexpr ByMethod<Requirement> kMetadata{kMetadataRead, kMetadataWrite, kRemove};

// What the audit log records.
constexpr AuditRule kNothing{};
constexpr AuditRule kRefusedList{"list", kAuditFailuresOnly};
constexpr AuditRule kRefusedPush{"push", kAuditFailuresOnly};
constexpr AuditRule kSignedInList{"list", kAuditFailuresOnly | kAuditWithCredentials};
constexpr AuditRule kSignedInAccess{"access", kAuditFailuresOnly | kAuditWithCredentials};
constexpr AuditRule kDeletion{"delete"};
// Manifest pulls follow audit.pulls; the manifest PUT is the push.
constexpr ByMethod<AuditRule> kManifestAudit{{"pull", kAuditPullsOption}, {"push"}, kDeletion};
// Blob reads are too many to audit one by one; the manifest pull stands for them.
constexpr ByMethod<AuditRule> kBlobAudit{{"pull", kAuditFailuresOnly}, kNothing, kDeletion};
// Metadata reads only when refused; attribute changes and deletes always.
constexpr ByMethod<AuditRule> kMetadataAudit{kRefusedList, {"update"}, kDeletion};
// Every admin change; reads only when refused.
constexpr ByMethod<AuditRule> kConfigAudit{{"config", kAuditFailuresOnly | kAuditPathMessage},
                                           {"config", kAuditPathMessage},
                                           {"config", kAuditPathMessage}};

constexpr uint16_t kRead = kGet | kHead;

constexpr std::array kRoutes = std::to_array<RouteRow>({
    // The distribution API.
    {RouteKind::kBase, "/v2/", kRead, always(kSignedIn), L::kBase, always(kSignedInAccess), ROUTE(probes, base)},
    {RouteKind::kCatalog, "/v2/_catalog", kGet, always(kCatalogAccess), L::kCatalog, always(kSignedInList),
     ROUTE(listings, catalog)},
    {RouteKind::kTags, "/v2/{name}/tags/list", kGet, always(kPullOrRead), L::kTags, always(kRefusedList),
     ROUTE(listings, tags)},
    {RouteKind::kUploadStart, "/v2/{name}/blobs/uploads/", kPost, always(kPush), L::kUpload, always(kRefusedPush),
     ROUTE(blobs, uploadStart)},
    {RouteKind::kUpload, "/v2/{name}/blobs/uploads/{ref}", kGet | kPatch | kPut | kDelete, always(kPush), L::kUpload,
     always(kRefusedPush), ROUTE(blobs, upload)},
    {RouteKind::kBlob, "/v2/{name}/blobs/{ref}", kRead | kDelete, kContent, L::kBlob, kBlobAudit, ROUTE(blobs, blob)},
    {RouteKind::kManifest, "/v2/{name}/manifests/{ref}", kRead | kPut | kDelete, kContent, L::kManifest,
     kManifestAudit, ROUTE(manifests, manifest)},
    {RouteKind::kReferrers, "/v2/{name}/referrers/{ref}", kGet, always(kPull), L::kReferrers, always(kRefusedList),
     ROUTE(listings, referrers)},
    // Probes.
    {RouteKind::kHealthz, "/healthz", kRead, always(kOpen), L::kHealth, always(kNothing), ROUTE(probes, healthz)},
    {RouteKind::kReadyz, "/readyz", kRead, always(kOpen), L::kHealth, always(kNothing), ROUTE(probes, readyz)},
    {RouteKind::kMetrics, "/metrics", kRead, always(kScrape), L::kMetrics, always(kSignedInAccess),
     ROUTE(probes, metrics)},
    // ACR's metadata API.
    {RouteKind::kAcrCatalog, "/acr/v1/_catalog", kGet, always(kCatalogAccess), L::kAcrMetadata,
     always(kSignedInList), ROUTE(listings, catalog)},
    // ACR's soft-delete routes over the recycle bin (before the {name} forms: no name starts
    // with '_'). A restore puts content back: audited as a push.
    {RouteKind::kAcrDeletedCatalog, "/acr/v1/_deleted/_catalog", kGet, always(kDeletedCatalogAccess),
     L::kAcrMetadata, always(kSignedInList), ROUTE(acrDeleted, catalog)},
    {RouteKind::kAcrDeletedManifests, "/acr/v1/_deleted/{name}/_manifests", kGet, always(kDeletedRead),
     L::kAcrMetadata, always(kRefusedList), ROUTE(acrDeleted, manifests)},
    {RouteKind::kAcrDeletedTags, "/acr/v1/_deleted/{name}/_tags", kGet, always(kDeletedRead), L::kAcrMetadata,
     always(kRefusedList), ROUTE(acrDeleted, tags)},
    {RouteKind::kAcrDeletedManifest, "/acr/v1/_deleted/{name}/_manifests/{ref}", kPost,
     {kDeletedRead, kDeletedRestore, kDeletedRestore}, L::kAcrMetadata, always(AuditRule{"push", 0, "restore"}),
     ROUTE(acrDeleted, restore)},
    {RouteKind::kAcrTags, "/acr/v1/{name}/_tags", kGet, kMetadata, L::kAcrMetadata, kMetadataAudit,
     ROUTE(acr, tags)},
    {RouteKind::kAcrManifests, "/acr/v1/{name}/_manifests", kGet, kMetadata, L::kAcrMetadata, kMetadataAudit,
     ROUTE(acr, manifests)},
    {RouteKind::kAcrTag, "/acr/v1/{name}/_tags/{ref}", kRead | kPatch | kDelete, kMetadata, L::kAcrMetadata,
     kMetadataAudit, ROUTE(acr, tag)},
    {RouteKind::kAcrManifest, "/acr/v1/{name}/_manifests/{ref}", kRead | kPatch, kMetadata, L::kAcrMetadata,
     kMetadataAudit, ROUTE(acr, manifest)},
    {RouteKind::kAcrRepository, "/acr/v1/{name}", kRead | kPatch | kDelete, kMetadata, L::kAcrMetadata,
     kMetadataAudit, ROUTE(acr, repository)},
    // The token server: it authenticates the caller itself.
    {RouteKind::kOauthToken, "/oauth2/token", kRead | kPost, always(kOpen), L::kToken, always(AuditRule{"login"}),
     AUTH_ROUTE(tokens, token)},
    {RouteKind::kOauthExchange, "/oauth2/exchange", kPost, always(kOpen), L::kToken, always(AuditRule{"login"}),
     AUTH_ROUTE(tokens, exchange)},
    // The admin API.
    {RouteKind::kAdminUsers, "/api/v1/users/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(identities, identities)},
    {RouteKind::kAdminUser, "/api/v1/users/{id}/", kGet | kPatch | kDelete, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(identities, identity)},
    {RouteKind::kAdminServicePrincipals, "/api/v1/service-principals/", kGet | kPost, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, identities)},
    {RouteKind::kAdminServicePrincipal, "/api/v1/service-principals/{id}/", kGet | kPatch | kDelete, always(kOwner),
     L::kAdmin, kConfigAudit, AUTH_ADMIN(identities, identity)},
    {RouteKind::kAdminTokens, "/api/v1/tokens/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(identities, identities)},
    {RouteKind::kAdminToken, "/api/v1/tokens/{id}/", kGet | kPatch | kDelete, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, identity)},
    {RouteKind::kAdminTokenCredentials, "/api/v1/tokens/{id}/credentials/", kPost, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, createCredential)},
    {RouteKind::kAdminTokenCredential, "/api/v1/tokens/{id}/credentials/{id}/", kDelete, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, deleteCredential)},
    {RouteKind::kAdminFederatedIdentities, "/api/v1/federated-identities/", kGet | kPost, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, identities)},
    {RouteKind::kAdminFederatedIdentity, "/api/v1/federated-identities/{id}/", kGet | kDelete, always(kOwner),
     L::kAdmin, kConfigAudit, AUTH_ADMIN(identities, identity)},
    {RouteKind::kAdminScopeMaps, "/api/v1/scope-maps/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(identities, scopeMaps)},
    {RouteKind::kAdminScopeMap, "/api/v1/scope-maps/{id}/", kGet | kPut | kDelete, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, scopeMap)},
    {RouteKind::kAdminRoles, "/api/v1/role-assignments/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(identities, roles)},
    {RouteKind::kAdminRole, "/api/v1/role-assignments/{id}/", kDelete, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(identities, deleteRole)},
    {RouteKind::kAdminNetworkRules, "/api/v1/network-rules/", kGet | kPatch, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, networkRules)},
    {RouteKind::kAdminIpRules, "/api/v1/network-rules/ip-rules/", kPost | kDelete, always(kOwner), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(identities, ipRules)},
    {RouteKind::kAdminSettings, "/api/v1/settings/", kGet | kPatch, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(identities, settings)},
    {RouteKind::kAdminWebhooks, "/api/v1/webhooks/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(webhooks, webhooks)},
    {RouteKind::kAdminWebhookPing, "/api/v1/webhooks/{id}/ping/", kPost, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(webhooks, ping)},
    {RouteKind::kAdminWebhookEvents, "/api/v1/webhooks/{id}/events/", kGet, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(webhooks, events)},
    {RouteKind::kAdminWebhook, "/api/v1/webhooks/{id}/", kGet | kPatch | kDelete, always(kOwner), L::kAdmin,
     kConfigAudit, ADMIN(webhooks, webhook)},
    {RouteKind::kAdminQuotas, "/api/v1/quotas/", kGet, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(quotas, quotas)},
    {RouteKind::kAdminQuota, "/api/v1/quotas/{pattern}", kGet | kPut | kDelete, always(kOwner), L::kAdmin,
     kConfigAudit, ADMIN(quotas, quota)},
    {RouteKind::kAdminGc, "/api/v1/gc/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit, ADMIN(lifecycle, gc)},
    {RouteKind::kAdminPurge, "/api/v1/purge/", kPost, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(lifecycle, purge)},
    {RouteKind::kAdminRetentionPolicies, "/api/v1/retention/policies/", kGet, always(kOwner), L::kAdmin,
     kConfigAudit, ADMIN(lifecycle, policies)},
    {RouteKind::kAdminRetentionPolicy, "/api/v1/retention/policies/{id}/", kGet | kPut | kDelete, always(kOwner),
     L::kAdmin, kConfigAudit, ADMIN(lifecycle, policy)},
    {RouteKind::kAdminRetentionRun, "/api/v1/retention/run/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(lifecycle, run)},
    {RouteKind::kAdminAudit, "/api/v1/audit/", kGet, always(kOwner), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(audit, query)},
    {RouteKind::kAdminUsage, "/api/v1/usage/", kGet, always(kIdentity), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(repositories, registryUsage)},
    {RouteKind::kAdminRepositoryUsage, "/api/v1/usage/repositories/{name}", kGet, always(kIdentity), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(repositories, repositoryUsage)},
    {RouteKind::kAdminRecycleBin, "/api/v1/recycle-bin/", kGet, always(kIdentity), L::kAdmin, kConfigAudit,
     AUTH_ADMIN(repositories, recycleBin)},
    {RouteKind::kAdminRecycleRestore, "/api/v1/recycle-bin/{id}/restore/", kPost, always(kIdentity), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(repositories, restore)},
    {RouteKind::kAdminRecycleItem, "/api/v1/recycle-bin/{id}/", kGet | kDelete, always(kIdentity), L::kAdmin,
     kConfigAudit, AUTH_ADMIN(repositories, recycleItem)},
    {RouteKind::kAdminReplication, "/api/v1/replication/", kGet | kPost, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(replication, replicas)},
    {RouteKind::kAdminReplica, "/api/v1/replication/{id}/", kGet | kDelete, always(kOwner), L::kAdmin, kConfigAudit,
     ADMIN(replication, replica)},
    // Geo-replication between replicas (docs/replication.md): signed by the peer, refused
    // when replication is off. Reads only; failures are audited.
    {RouteKind::kReplicationJournal, "/replication/v1/journal", kGet, always(kReplicaPeer), L::kReplication,
     always(AuditRule{"replicate", kAuditFailuresOnly}), ROUTE(replication, journal)},
    {RouteKind::kReplicationSnapshot, "/replication/v1/snapshot", kGet, always(kReplicaPeer), L::kReplication,
     always(AuditRule{"replicate", kAuditFailuresOnly}), ROUTE(replication, snapshot)},
    {RouteKind::kReplicationEntities, "/replication/v1/entities", kGet, always(kReplicaPeer), L::kReplication,
     always(AuditRule{"replicate", kAuditFailuresOnly}), ROUTE(replication, entities)},
    {RouteKind::kReplicationManifest, "/replication/v1/{name}/manifests/{ref}", kGet, always(kReplicaPeer),
     L::kReplication, always(AuditRule{"replicate", kAuditFailuresOnly}), ROUTE(replication, manifest)},
    {RouteKind::kReplicationBlob, "/replication/v1/{name}/blobs/{ref}", kGet, always(kReplicaPeer), L::kReplication,
     always(AuditRule{"replicate", kAuditFailuresOnly}), ROUTE(replication, blob)},
});

// routeRow(kind) indexes by kind: every kind has exactly one row.
constexpr auto kByKind = [] {
  std::array<int, kRoutes.size()> at{};
  for (auto& a : at) a = -1;
  for (size_t i = 0; i < kRoutes.size(); ++i) at[static_cast<size_t>(kRoutes[i].kind)] = static_cast<int>(i);
  return at;
}();
static_assert([] {
  for (int i : kByKind) {
    if (i < 0) return false;
  }
  return true;
}(), "every RouteKind needs exactly one row in kRoutes");

}  // namespace

std::span<const RouteRow> routeTable() { return kRoutes; }

const RouteRow& routeRow(RouteKind kind) { return kRoutes[static_cast<size_t>(kByKind[static_cast<size_t>(kind)])]; }

uint16_t methodBit(std::string_view method) {
  if (method == "GET") return kGet;
  if (method == "HEAD") return kHead;
  if (method == "POST") return kPost;
  if (method == "PUT") return kPut;
  if (method == "PATCH") return kPatch;
  if (method == "DELETE") return kDelete;
  return 0;
}

std::string allowedMethods(uint16_t methods) {
  std::string out;
  for (auto [bit, name] : {std::pair{kGet, "GET"}, std::pair{kHead, "HEAD"}, std::pair{kPost, "POST"},
                           std::pair{kPut, "PUT"}, std::pair{kPatch, "PATCH"}, std::pair{kDelete, "DELETE"}}) {
    if ((methods & bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Requirement requirementFor(RouteKind kind, std::string_view method) { return routeRow(kind).needs.of(method); }

}  // namespace berth::api
