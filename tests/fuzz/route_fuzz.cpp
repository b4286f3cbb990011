// api::splitTarget + parseRoute: the request-target of every request, as the server routes
// it (split at '?', the path routed, the query parsed).
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/router.h"
#include "fuzz_check.h"
#include "oci/reference.h"

using berth::Code;
namespace api = berth::api;
using api::RouteKind;

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path with each '/'-separated segment percent-decoded on its own (what the router
// routes on); the raw '/' separators are kept. Only called on paths that routed, so
// every escape is well formed.
std::string decodeSegments(std::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex(path[i + 1]) >= 0 && hex(path[i + 2]) >= 0) {
      out += static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2]));
      i += 2;
    } else {
      out += path[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view target = berth::fuzz::asText(data, size);
  auto [path, query] = api::splitTarget(target);
  // Splitting loses nothing but the first '?', and the path holds none.
  FUZZ_CHECK(path.find('?') == std::string_view::npos);
  if (path.size() == target.size()) {
    FUZZ_CHECK(path == target && query.empty());
  } else {
    FUZZ_CHECK(std::string(path) + "?" + std::string(query) == target);
  }
  (void)api::parseQuery(query);

  auto route = api::parseRoute(path);
  if (!route) {
    FUZZ_CHECK(route.code() == Code::kRouteUnknown || route.code() == Code::kNameInvalid);
    return 0;
  }
  // Routed paths compare against name and reference after per-segment decoding.
  const std::string decoded = decodeSegments(path);
  path = decoded;
  const std::string& name = route->name;
  const std::string& ref = route->ref;
  std::string prefix = "/v2/" + name;
  switch (route->kind) {
    case RouteKind::kBase:
      FUZZ_CHECK(path == "/v2/" || path == "/v2");
      break;
    case RouteKind::kHealthz:
      FUZZ_CHECK(path == "/healthz");
      break;
    case RouteKind::kReadyz:
      FUZZ_CHECK(path == "/readyz");
      break;
    case RouteKind::kMetrics:
      FUZZ_CHECK(path == "/metrics");
      break;
    case RouteKind::kCatalog:
      FUZZ_CHECK(path == "/v2/_catalog");
      break;
    case RouteKind::kTags:
      FUZZ_CHECK(path == prefix + "/tags/list");
      break;
    case RouteKind::kManifest:
      FUZZ_CHECK(path == prefix + "/manifests/" + ref);
      break;
    case RouteKind::kBlob:
      FUZZ_CHECK(path == prefix + "/blobs/" + ref);
      break;
    case RouteKind::kUploadStart:
      FUZZ_CHECK(ref.empty());
      FUZZ_CHECK(path == prefix + "/blobs/uploads/" || path == prefix + "/blobs/uploads");
      break;
    case RouteKind::kUpload:
      FUZZ_CHECK(!ref.empty());
      FUZZ_CHECK(path == prefix + "/blobs/uploads/" + ref);
      break;
    case RouteKind::kReferrers:
      FUZZ_CHECK(path == prefix + "/referrers/" + ref);
      break;
    case RouteKind::kAcrDeletedCatalog:
      FUZZ_CHECK(path == "/acr/v1/_deleted/_catalog");
      break;
    case RouteKind::kAcrDeletedManifests:
      FUZZ_CHECK(path == "/acr/v1/_deleted/" + name + "/_manifests");
      break;
    case RouteKind::kAcrDeletedTags:
      FUZZ_CHECK(path == "/acr/v1/_deleted/" + name + "/_tags");
      break;
    case RouteKind::kAcrDeletedManifest:
      FUZZ_CHECK(path == "/acr/v1/_deleted/" + name + "/_manifests/" + ref);
      break;
    default:
      break;
  }
  bool named = route->kind != RouteKind::kBase && route->kind != RouteKind::kHealthz &&
               route->kind != RouteKind::kReadyz && route->kind != RouteKind::kCatalog &&
               route->kind != RouteKind::kMetrics && route->kind != RouteKind::kAcrCatalog &&
               route->kind != RouteKind::kAcrDeletedCatalog;
  if (named) {
    // A routed repository name is valid, so it can reach storage and metadata keys.
    FUZZ_CHECK(berth::oci::validateName(name).ok());
    FUZZ_CHECK(name.find("..") == std::string::npos && name.find('%') == std::string::npos);
    FUZZ_CHECK(ref.find('/') == std::string::npos && ref.find('%') == std::string::npos);
  } else {
    FUZZ_CHECK(name.empty() && ref.empty());
  }
  return 0;
}
