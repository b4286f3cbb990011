#include "api/router.h"

#include "oci/reference.h"

namespace berth::api {

std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

namespace {

Result<Route> named(RouteKind kind, std::string_view name, std::string_view ref) {
  if (auto s = oci::validateName(name); !s) return s.takeError();
  return Route{kind, std::string(name), std::string(ref)};
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> decodeComponent(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    // '+' stays literal: media types in artifactType= contain it and no value here has spaces.
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return makeError(Code::kInvalidArgument, "malformed percent-encoding in query");
      }
      int hi = hexValue(in[i + 1]), lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return makeError(Code::kInvalidArgument, "malformed percent-encoding in query");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Result<Route> parseRoute(std::string_view path) {
  if (path == "/v2/" || path == "/v2") return Route{RouteKind::kBase, {}, {}};
  if (path == "/healthz") return Route{RouteKind::kHealthz, {}, {}};
  if (path == "/readyz") return Route{RouteKind::kReadyz, {}, {}};
  if (path == "/metrics") return Route{RouteKind::kMetrics, {}, {}};
  constexpr std::string_view kV2 = "/v2/";
  constexpr std::string_view kAcr = "/acr/v1/";
  const bool acr = path.starts_with(kAcr);
  if (!acr && !path.starts_with(kV2)) return makeError(Code::kRouteUnknown, "no such route");
  std::string_view rest = path.substr(acr ? kAcr.size() : kV2.size());
  if (rest == "_catalog") return Route{acr ? RouteKind::kAcrCatalog : RouteKind::kCatalog, {}, {}};
  // ACR's soft-delete routes, before the /acr/v1/<name> forms (no name starts with '_').
  constexpr std::string_view kDeleted = "_deleted/";
  const bool deleted = acr && rest.starts_with(kDeleted);
  if (deleted) {
    rest.remove_prefix(kDeleted.size());
    if (rest == "_catalog") return Route{RouteKind::kAcrDeletedCatalog, {}, {}};
  }
  if (rest.empty()) return makeError(Code::kRouteUnknown, "no such route");
  // Segments are split on the raw '/' first and then percent-decoded one by one, so an
  // encoded "%2F" stays inside its segment: the Azure SDK sends "team%2Fapp" as one
  // segment of the name and "sha256%3A..." as a digest. The decoded name must still
  // pass the name grammar, so "%2e%2e" and friends are refused as before.
  std::vector<std::string> decoded;
  std::vector<std::string_view> segs;
  for (size_t start = 0;;) {
    auto slash = rest.find('/', start);
    segs.push_back(rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (rest.find('%') != std::string_view::npos) {
    decoded.reserve(segs.size());
    for (auto& seg : segs) {
      auto d = decodeComponent(seg);
      if (!d) return makeError(Code::kNameInvalid, "malformed percent-encoding in the path");
      decoded.push_back(std::move(*d));
      seg = decoded.back();
    }
  }
  const size_t n = segs.size();
  // The repository name is everything before the route's fixed suffix segments.
  std::string joined;
  auto nameBefore = [&](size_t suffix_segments) -> std::string_view {
    if (decoded.empty()) {
      size_t end = 0;
      for (size_t i = 0; i + suffix_segments < n; ++i) end += segs[i].size() + 1;
      return rest.substr(0, end ? end - 1 : 0);
    }
    for (size_t i = 0; i + suffix_segments < n; ++i) {
      if (i > 0) joined += '/';
      joined += segs[i];
    }
    return joined;
  };
  // A tag, digest or upload id (the last segment) may not hold '/' or '%' once decoded, so
  // an escape can not smuggle a separator into what later becomes a key.
  auto withRef = [&](RouteKind kind, size_t suffix_segments) -> Result<Route> {
    const std::string_view ref = segs[n - 1];
    if (!decoded.empty() && (ref.find('/') != std::string_view::npos || ref.find('%') != std::string_view::npos)) {
      return makeError(Code::kNameInvalid, "a reference in the path may not contain an encoded '/' or '%'");
    }
    return named(kind, nameBefore(suffix_segments), ref);
  };
  if (deleted) {
    // /acr/v1/_deleted/<name>/_manifests[/<digest>], <name>/_tags.
    if (n >= 2 && segs[n - 1] == "_manifests") return named(RouteKind::kAcrDeletedManifests, nameBefore(1), {});
    if (n >= 2 && segs[n - 1] == "_tags") return named(RouteKind::kAcrDeletedTags, nameBefore(1), {});
    if (n >= 3 && segs[n - 2] == "_manifests") return withRef(RouteKind::kAcrDeletedManifest, 2);
    return makeError(Code::kRouteUnknown, "no such route");
  }
  if (acr) {
    // /acr/v1/<name>, <name>/_tags[/<tag>], <name>/_manifests[/<digest>]. No name
    // component starts with '_', so the suffixes are unambiguous.
    if (n >= 2 && segs[n - 1] == "_tags") return named(RouteKind::kAcrTags, nameBefore(1), {});
    if (n >= 2 && segs[n - 1] == "_manifests") return named(RouteKind::kAcrManifests, nameBefore(1), {});
    if (n >= 3 && segs[n - 2] == "_tags") return withRef(RouteKind::kAcrTag, 2);
    if (n >= 3 && segs[n - 2] == "_manifests") return withRef(RouteKind::kAcrManifest, 2);
    return named(RouteKind::kAcrRepository, nameBefore(0), {});
  }
  if (n >= 3 && segs[n - 2] == "tags" && segs[n - 1] == "list") return named(RouteKind::kTags, nameBefore(2), {});
  if (n >= 4 && segs[n - 3] == "blobs" && segs[n - 2] == "uploads") {
    if (segs[n - 1].empty()) return named(RouteKind::kUploadStart, nameBefore(3), {});
    return withRef(RouteKind::kUpload, 3);
  }
  if (n >= 3 && segs[n - 2] == "blobs") {
    if (segs[n - 1] == "uploads") return named(RouteKind::kUploadStart, nameBefore(2), {});
    return withRef(RouteKind::kBlob, 2);
  }
  if (n >= 3 && segs[n - 2] == "manifests") return withRef(RouteKind::kManifest, 2);
  if (n >= 3 && segs[n - 2] == "referrers") return withRef(RouteKind::kReferrers, 2);
  return makeError(Code::kRouteUnknown, "no such route");
}

Result<QueryParams> parseQuery(std::string_view query) {
  QueryParams out;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    auto amp = query.find('&', start);
    auto part = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      auto k = decodeComponent(part.substr(0, eq));
      if (!k) return k.takeError();
      std::string v;
      if (eq != std::string_view::npos) {
        auto dv = decodeComponent(part.substr(eq + 1));
        if (!dv) return dv.takeError();
        v = std::move(*dv);
      }
      out.emplace_back(std::move(*k), std::move(v));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

std::optional<std::string> queryValue(const QueryParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace berth::api
