// api::splitTarget + parseRoute: the request-target of every request, as the server routes
// it (split at '?', the path routed, the query parsed).
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/router.h"
#include "api/routes.h"
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
  // Rebuilt from its row's pattern with the parameters it returned, the route is the path
  // (up to the optional final '/').
  const api::RouteRow& row = api::routeRow(route->kind);
  std::string rebuilt;
  bool named = false, has_ref = false;
  size_t ids = 0;
  std::string_view pattern = row.pattern;
  const bool optional_slash = pattern.size() > 1 && pattern.back() == '/';
  if (optional_slash) pattern.remove_suffix(1);
  for (size_t start = 1; start <= pattern.size();) {
    auto slash = pattern.find('/', start);
    std::string_view seg = pattern.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    rebuilt += '/';
    if (seg == "{name}") {
      rebuilt += route->name;
      named = true;
    } else if (seg == "{ref}") {
      rebuilt += route->ref;
      has_ref = true;
    } else if (seg == "{id}") {
      rebuilt += ids++ == 0 ? route->ref : route->ref2;
    } else if (seg == "{pattern}") {
      rebuilt += route->ref;
    } else {
      rebuilt += seg;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  FUZZ_CHECK(path == rebuilt || (optional_slash && path == rebuilt + "/"));
  if (named) {
    // A routed repository name is valid, so it can reach storage and metadata keys.
    FUZZ_CHECK(berth::oci::validateName(route->name).ok());
    FUZZ_CHECK(route->name.find("..") == std::string::npos && route->name.find('%') == std::string::npos);
  } else {
    FUZZ_CHECK(route->name.empty());
  }
  if (has_ref) FUZZ_CHECK(route->ref.find('/') == std::string::npos && route->ref.find('%') == std::string::npos);
  return 0;
}
