#pragma once
// Maps a request target to an API route by the route table (api/routes.h). No HTTP library
// types here so it can be unit tested and fuzzed on its own.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::api {

// Every route of the server; its facts (pattern, methods, access, metrics label, audit,
// handler) are one row of kRoutes in api/routes.cpp.
enum class RouteKind {
  kBase,         // /v2/
  kCatalog,      // /v2/_catalog
  kTags,         // /v2/<name>/tags/list
  kManifest,     // /v2/<name>/manifests/<reference>
  kBlob,         // /v2/<name>/blobs/<digest>
  kUploadStart,  // /v2/<name>/blobs/uploads/
  kUpload,       // /v2/<name>/blobs/uploads/<id>
  kReferrers,    // /v2/<name>/referrers/<digest>
  kHealthz,      // /healthz
  kReadyz,       // /readyz
  kMetrics,      // /metrics (Prometheus)
  // ACR's metadata API (docs/metadata-api.md).
  kAcrCatalog,     // /acr/v1/_catalog
  kAcrRepository,  // /acr/v1/<name>
  kAcrTags,        // /acr/v1/<name>/_tags
  kAcrTag,         // /acr/v1/<name>/_tags/<tag>
  kAcrManifests,   // /acr/v1/<name>/_manifests
  kAcrManifest,    // /acr/v1/<name>/_manifests/<digest>
  // ACR's soft-delete routes (docs/metadata-api.md, "Deleted items"; acr_deleted.cpp).
  kAcrDeletedCatalog,    // /acr/v1/_deleted/_catalog
  kAcrDeletedManifests,  // /acr/v1/_deleted/<name>/_manifests
  kAcrDeletedTags,       // /acr/v1/_deleted/<name>/_tags
  kAcrDeletedManifest,   // /acr/v1/_deleted/<name>/_manifests/<digest>
  // The token server (docs/api.md).
  kOauthToken,     // /oauth2/token
  kOauthExchange,  // /oauth2/exchange
  // The admin API /api/v1 (docs/api.md); `ref` holds the resource's id, `ref2` a second one.
  kAdminUsers,            // /api/v1/users
  kAdminUser,             // /api/v1/users/<name>
  kAdminServicePrincipals,  // /api/v1/service-principals
  kAdminServicePrincipal,   // /api/v1/service-principals/<name>
  kAdminTokens,           // /api/v1/tokens
  kAdminToken,            // /api/v1/tokens/<name>
  kAdminFederatedIdentities,  // /api/v1/federated-identities
  kAdminFederatedIdentity,    // /api/v1/federated-identities/<name>
  kAdminTokenCredentials, // /api/v1/tokens/<name>/credentials
  kAdminTokenCredential,  // /api/v1/tokens/<name>/credentials/<password1|password2>
  kAdminScopeMaps,        // /api/v1/scope-maps
  kAdminScopeMap,         // /api/v1/scope-maps/<name>
  kAdminRoles,            // /api/v1/role-assignments
  kAdminRole,             // /api/v1/role-assignments/<id>
  kAdminNetworkRules,     // /api/v1/network-rules
  kAdminIpRules,          // /api/v1/network-rules/ip-rules
  kAdminSettings,         // /api/v1/settings
  kAdminWebhooks,         // /api/v1/webhooks
  kAdminWebhook,          // /api/v1/webhooks/<name>
  kAdminWebhookPing,      // /api/v1/webhooks/<name>/ping
  kAdminWebhookEvents,    // /api/v1/webhooks/<name>/events
  kAdminQuotas,           // /api/v1/quotas
  kAdminQuota,            // /api/v1/quotas/<pattern...>
  kAdminGc,               // /api/v1/gc
  kAdminPurge,            // /api/v1/purge
  kAdminRetentionPolicies,  // /api/v1/retention/policies
  kAdminRetentionPolicy,    // /api/v1/retention/policies/<name>
  kAdminRetentionRun,       // /api/v1/retention/run
  kAdminAudit,            // /api/v1/audit
  kAdminUsage,            // /api/v1/usage
  kAdminRepositoryUsage,  // /api/v1/usage/repositories/<name>
  kAdminRecycleBin,       // /api/v1/recycle-bin
  kAdminRecycleItem,      // /api/v1/recycle-bin/<id>
  kAdminRecycleRestore,   // /api/v1/recycle-bin/<id>/restore
  kAdminReplication,      // /api/v1/replication
  kAdminReplica,          // /api/v1/replication/<region>
  kReplicationJournal,    // /replication/v1/journal
  kReplicationSnapshot,   // /replication/v1/snapshot
  kReplicationEntities,   // /replication/v1/entities
  kReplicationManifest,   // /replication/v1/<name>/manifests/<digest>
  kReplicationBlob,       // /replication/v1/<name>/blobs/<digest>
};

struct Route {
  RouteKind kind = RouteKind::kBase;
  std::string name;  // repository (validated)
  std::string ref;   // reference, digest, upload id or resource id (not yet validated)
  std::string ref2;  // a second id (a token's credential slot)
};

// Splits a request target into path and raw query ("a?b" -> "a", "b").
std::pair<std::string_view, std::string_view> splitTarget(std::string_view target);

// kRouteUnknown for paths that are no route; kNameInvalid for a route whose repository
// name breaks the grammar or holds percent-encoding or traversal.
Result<Route> parseRoute(std::string_view path);

// Decoded query parameters in order. kInvalidArgument on malformed percent-encoding.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
Result<QueryParams> parseQuery(std::string_view query);
// First value of `key`, if any.
std::optional<std::string> queryValue(const QueryParams& params, std::string_view key);

// Percent-decodes one path segment or query component ('+' stays literal).
Result<std::string> decodeComponent(std::string_view in);

}  // namespace berth::api
