// /v2/ (the API version check), /healthz, /readyz and /metrics.
#include <boost/json.hpp>

#include "api/handlers.h"
#include "metrics/text_format.h"

namespace berth::api {

namespace http = server::http;

Task<void> Probes::base(Exchange& ex, const Call&) {
  co_await ex.send(jsonResponse(http::status::ok, "{}"));
}

Task<void> Probes::healthz(Exchange& ex, const Call&) {
  // Liveness: answering at all is the signal.
  co_await ex.send(jsonResponse(http::status::ok, "{\"status\":\"ok\"}"));
}

Task<void> Probes::readyz(Exchange& ex, const Call&) {
  auto h = co_await ex.blocking([&] { return registry_.health(); });
  boost::json::object checks{{"storage", h.storage}, {"metadata", h.metadata}};
  if (h.available_bytes) checks["storage_available_bytes"] = *h.available_bytes;
  boost::json::object body{{"status", h.ready ? "ok" : "unavailable"}, {"checks", std::move(checks)}};
  co_await ex.send(jsonResponse(h.ready ? http::status::ok : http::status::service_unavailable,
                                boost::json::serialize(body)));
}

Task<void> Probes::metrics(Exchange& ex, const Call&) {
  if (metrics_ == nullptr) co_return co_await ex.sendError(makeError(Code::kRouteUnknown, "no such route"));
  // Off the I/O thread: a gauge may ask the file system (free space).
  const metrics::Registry* registry = metrics_;
  auto text = co_await ex.blocking([registry] { return registry->render(); });
  server::Response res{http::status::ok, 11};
  res.set(http::field::content_type, metrics::kTextContentType);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(text);
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
