#include "api/access.h"

namespace berth::api {

Requirement requirementFor(RouteKind kind, std::string_view method) {
  using K = Requirement::Kind;
  const bool read = method == "GET" || method == "HEAD";
  switch (kind) {
    case RouteKind::kHealthz:
    case RouteKind::kReadyz:
      return {K::kNone, 0, {}};
    case RouteKind::kBase:
      return {K::kAuthenticated, 0, {}};
    case RouteKind::kMetrics:
      return {K::kMetrics, auth::kPermMetadataRead, {}};
    case RouteKind::kCatalog:
      return {K::kCatalog, 0, {}};
    case RouteKind::kTags:
      return {K::kRepository, auth::kPermPull | auth::kPermMetadataRead, "pull"};
    case RouteKind::kReferrers:
      return {K::kRepository, auth::kPermPull, "pull"};
    case RouteKind::kManifest:
    case RouteKind::kBlob:
      if (read) return {K::kRepository, auth::kPermPull, "pull"};
      if (method == "DELETE") return {K::kRepository, auth::kPermDelete, "delete"};
      return {K::kRepository, auth::kPermPush, "pull,push"};
    case RouteKind::kUploadStart:
    case RouteKind::kUpload:
      return {K::kRepository, auth::kPermPush, "pull,push"};
    case RouteKind::kAcrCatalog:
      return {K::kCatalog, 0, {}};
    case RouteKind::kAcrRepository:
    case RouteKind::kAcrTags:
    case RouteKind::kAcrTag:
    case RouteKind::kAcrManifests:
    case RouteKind::kAcrManifest:
      // ACR asks for metadata_read; pull also lets a client read what it may pull.
      if (read) return {K::kRepository, auth::kPermPull | auth::kPermMetadataRead, "metadata_read,pull"};
      if (method == "DELETE") return {K::kRepository, auth::kPermDelete, "delete"};
      return {K::kRepository, auth::kPermMetadataWrite, "metadata_write"};
    // ACR's soft-delete routes: the scopes az acr asks for (policy.h maps them).
    case RouteKind::kAcrDeletedCatalog:
      return {K::kDeletedCatalog, 0, {}};
    case RouteKind::kAcrDeletedManifests:
    case RouteKind::kAcrDeletedTags:
      return {K::kRepository, auth::kPermDeletedRead, "deleted_read"};
    case RouteKind::kAcrDeletedManifest:  // POST restores
      if (read) return {K::kRepository, auth::kPermDeletedRead, "deleted_read"};
      return {K::kRepository, auth::kPermDeletedRestore, "deleted_read,deleted_restore"};
  }
  return {K::kAuthenticated, 0, {}};
}

std::string challengeScope(const Requirement& req, std::string_view repository) {
  if (req.kind == Requirement::Kind::kRepository) {
    return "repository:" + std::string(repository) + ":" + std::string(req.actions);
  }
  if (req.kind == Requirement::Kind::kCatalog) return "registry:catalog:*";
  if (req.kind == Requirement::Kind::kDeletedCatalog) return "registry:deleted_catalog:*";
  return {};
}

std::string bearerChallenge(std::string_view realm, std::string_view service,
                            std::string_view scope, std::string_view error) {
  std::string out = "Bearer realm=\"";
  out += realm;
  out += "\",service=\"";
  out += service;
  out += '"';
  if (!scope.empty()) {
    out += ",scope=\"";
    out += scope;
    out += '"';
  }
  if (!error.empty()) {
    out += ",error=\"";
    out += error;
    out += '"';
  }
  return out;
}

}  // namespace berth::api
