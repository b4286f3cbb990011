#include "api/router.h"

#include <algorithm>
#include <boost/container/small_vector.hpp>

#include "api/routes.h"
#include "oci/reference.h"

namespace berth::api {

std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

enum class SegKind : uint8_t { kLiteral, kName, kRef, kId, kRest };

struct Segment {
  SegKind kind = SegKind::kLiteral;
  std::string_view text;  // literals
};

// A row's pattern, split once.
struct Pattern {
  const RouteRow* row = nullptr;
  std::vector<Segment> segments;
  bool optional_slash = false;  // the pattern ends in '/'
  int multi = -1;               // index of the {name} or {pattern} segment, if any
};

std::vector<Pattern> compile() {
  std::vector<Pattern> out;
  for (const RouteRow& row : routeTable()) {
    Pattern p;
    p.row = &row;
    std::string_view rest = row.pattern.substr(1);  // past the leading '/'
    if (!rest.empty() && rest.back() == '/') {
      p.optional_slash = true;
      rest.remove_suffix(1);
    }
    while (!rest.empty()) {
      const auto slash = rest.find('/');
      const std::string_view text = rest.substr(0, slash);
      Segment seg{SegKind::kLiteral, text};
      if (text == "{name}") seg.kind = SegKind::kName;
      if (text == "{ref}") seg.kind = SegKind::kRef;
      if (text == "{id}") seg.kind = SegKind::kId;
      if (text == "{pattern}") seg.kind = SegKind::kRest;
      if (seg.kind == SegKind::kName || seg.kind == SegKind::kRest) p.multi = static_cast<int>(p.segments.size());
      p.segments.push_back(seg);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    out.push_back(std::move(p));
  }
  return out;
}

const std::vector<Pattern>& patterns() {
  static const std::vector<Pattern> compiled = compile();
  return compiled;
}

using Segments = boost::container::small_vector<std::string_view, 16>;

std::string joined(const Segments& segs, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += '/';
    out += segs[i];
  }
  return out;
}

// Whether `segs` has the shape of `p` (literals equal, enough segments for {name});
// fills `route` with its parameters when it has.
bool shapeMatches(const Pattern& p, const Segments& segs, Route& route, size_t& name_from, size_t& name_to) {
  const size_t n = segs.size();
  const size_t fixed = p.segments.size() - (p.multi >= 0 ? 1 : 0);
  if (p.multi < 0 ? n != fixed : n < fixed + 1) return false;
  // Pattern segment i is path segment i before the multi-segment part, and counts from the
  // end after it.
  auto at = [&](size_t i) -> size_t {
    return p.multi < 0 || static_cast<int>(i) < p.multi ? i : n - (p.segments.size() - i);
  };
  for (size_t i = 0; i < p.segments.size(); ++i) {
    if (static_cast<int>(i) == p.multi) continue;
    const Segment& s = p.segments[i];
    if (s.kind == SegKind::kLiteral && segs[at(i)] != s.text) return false;
    if (s.kind == SegKind::kId && segs[at(i)].empty()) return false;
  }
  for (size_t i = 0; i < p.segments.size(); ++i) {
    const Segment& s = p.segments[i];
    if (s.kind == SegKind::kRef || s.kind == SegKind::kId) {
      (route.ref.empty() && route.ref2.empty() ? route.ref : route.ref2) = std::string(segs[at(i)]);
    }
  }
  if (p.multi >= 0) {
    name_from = static_cast<size_t>(p.multi);
    name_to = n - (p.segments.size() - 1 - static_cast<size_t>(p.multi));
    // A path that ends where the name would start ("/acr/v1/") is no route, not a bad name;
    // so is a longer path whose name would start with a reserved word ("/acr/v1/_deleted/x":
    // no name component starts with '_', and such prefixes belong to their own routes).
    if (name_to == n && name_to - name_from == 1 && segs[name_from].empty()) return false;
    if (name_to - name_from > 1 && !segs[name_from].empty() && segs[name_from].front() == '_') return false;
  }
  return true;
}

}  // namespace

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

Result<Route> parseRoute(std::string_view path) {
  if (path.empty() || path.front() != '/') return makeError(Code::kRouteUnknown, "no such route");
  // Segments are split on the raw '/' first and then percent-decoded one by one, so an
  // encoded "%2F" stays inside its segment: the Azure SDK sends "team%2Fapp" as one
  // segment of the name and "sha256%3A..." as a digest. The decoded name must still
  // pass the name grammar, so "%2e%2e" and friends are refused as before.
  const std::string_view rest = path.substr(1);
  Segments segs;
  for (size_t start = 0;;) {
    auto slash = rest.find('/', start);
    segs.push_back(rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const bool encoded = rest.find('%') != std::string_view::npos;
  std::vector<std::string> decoded;
  if (encoded) {
    decoded.reserve(segs.size());
    for (auto& seg : segs) {
      auto d = decodeComponent(seg);
      if (!d) return makeError(Code::kNameInvalid, "malformed percent-encoding in the path");
      decoded.push_back(std::move(*d));
      seg = decoded.back();
    }
  }
  const bool trailing_slash = segs.size() > 1 && segs.back().empty();
  for (const Pattern& p : patterns()) {
    Segments trimmed;
    const Segments* shape = &segs;
    if (trailing_slash && p.optional_slash) {
      trimmed.assign(segs.begin(), segs.end() - 1);
      shape = &trimmed;
    }
    Route route;
    route.kind = p.row->kind;
    size_t name_from = 0, name_to = 0;
    if (!shapeMatches(p, *shape, route, name_from, name_to)) continue;
    if (p.multi >= 0) {
      std::string multi = joined(*shape, name_from, name_to);
      if (p.segments[static_cast<size_t>(p.multi)].kind == SegKind::kRest) {
        route.ref = std::move(multi);
      } else {
        if (auto s = oci::validateName(multi); !s) return s.takeError();
        route.name = std::move(multi);
      }
    }
    // A tag, digest or upload id may not hold '/' or '%' once decoded, so an escape can not
    // smuggle a separator into what later becomes a key.
    const bool has_ref = std::any_of(p.segments.begin(), p.segments.end(),
                                     [](const Segment& s) { return s.kind == SegKind::kRef; });
    if (encoded && has_ref &&
        (route.ref.find('/') != std::string::npos || route.ref.find('%') != std::string::npos)) {
      return makeError(Code::kNameInvalid, "a reference in the path may not contain an encoded '/' or '%'");
    }
    return route;
  }
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
