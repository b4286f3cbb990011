#pragma once
// Maps a request target to an API route. No HTTP library types here so it can be unit
// tested and fuzzed on its own.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::api {

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
  // ACR's metadata API (docs/api.md, "Repository metadata").
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
};

struct Route {
  RouteKind kind = RouteKind::kBase;
  std::string name;  // repository (validated)
  std::string ref;   // reference, digest or upload id (not yet validated)
};

// Splits a request target into path and raw query ("a?b" -> "a", "b").
std::pair<std::string_view, std::string_view> splitTarget(std::string_view target);

// kRouteUnknown for paths that are no API route; kNameInvalid for a route whose repository
// name breaks the grammar or holds percent-encoding or traversal.
Result<Route> parseRoute(std::string_view path);

// Decoded query parameters in order. kInvalidArgument on malformed percent-encoding.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
Result<QueryParams> parseQuery(std::string_view query);
// First value of `key`, if any.
std::optional<std::string> queryValue(const QueryParams& params, std::string_view key);

}  // namespace berth::api
