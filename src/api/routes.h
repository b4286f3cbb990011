#pragma once
// The route table: one row per route says everything about it (its path pattern, methods,
// what the caller needs, the metrics label, what the audit log records, the handler).
// parseRoute matches paths against it; the API derives 404, 405 (with Allow), access
// checks, metrics and audit from the matched row; adding a route is adding a row.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "api/access.h"
#include "api/router.h"
#include "common/result.h"
#include "metrics/http_metrics.h"

namespace berth::server {
class Exchange;
}

namespace berth::api {

// HTTP methods as bits of a route's allowed set.
enum MethodBit : uint16_t { kGet = 1, kHead = 2, kPost = 4, kPut = 8, kPatch = 16, kDelete = 32 };
// The bit of a method name ("GET"); 0 for any other method.
uint16_t methodBit(std::string_view method);
// "GET, HEAD, PUT, DELETE": the value of an Allow header.
std::string allowedMethods(uint16_t methods);

// A value chosen by the request's method: GET and HEAD read, DELETE removes, any other
// method (POST, PUT, PATCH and unknown ones) writes.
template <class T>
struct ByMethod {
  T read;
  T write;
  T remove;
  const T& of(std::string_view method) const {
    if (method == "GET" || method == "HEAD") return read;
    if (method == "DELETE") return remove;
    return write;
  }
};
template <class T>
constexpr ByMethod<T> always(T value) {
  return {value, value, value};
}

// What a request on a route records in the audit log (docs/audit.md).
struct AuditRule {
  std::string_view action;  // "": nothing
  uint8_t flags = 0;
  std::string_view message = {};  // the entry's message, if any
};
inline constexpr uint8_t kAuditFailuresOnly = 1;     // only a request that did not succeed
inline constexpr uint8_t kAuditPullsOption = 2;      // failures only, unless audit.pulls
inline constexpr uint8_t kAuditWithCredentials = 4;  // only when credentials were sent (a 401 without
                                                     // them is the challenge handshake)
inline constexpr uint8_t kAuditPathMessage = 8;      // the path is the entry's message

struct Handlers;
struct Call;
struct AdminCall;
struct AdminReply;
// A handler coroutine, or an admin API operation (run on the blocking pool; its reply is
// rendered as JSON by the API).
using Handler = boost::asio::awaitable<void> (*)(Handlers&, server::Exchange&, const Call&);
using AdminHandler = Result<AdminReply> (*)(Handlers&, const AdminCall&);

struct RouteRow {
  RouteKind kind;
  // Segments of the path: literals, {name} (a repository name: one or more segments, checked
  // against the name grammar), {ref} (one segment without '/' or '%' once decoded), {id} (one
  // segment) and {pattern} (the rest of the path). A trailing '/' makes the final slash optional.
  std::string_view pattern;
  uint16_t methods;
  ByMethod<Requirement> needs;
  metrics::RouteLabel label;
  ByMethod<AuditRule> audit;
  Handler handler;     // or
  AdminHandler admin;  // (admin API rows)
};

// Every route, in matching order.
std::span<const RouteRow> routeTable();
const RouteRow& routeRow(RouteKind kind);

}  // namespace berth::api
