#include "metrics/http_metrics.h"

#include <array>

namespace berth::metrics {

namespace {

constexpr std::array<std::string_view, kRouteLabels> kRouteNames = {
    "other", "base", "catalog", "tags", "manifest", "blob", "upload", "referrers", "health", "token", "admin",
    "metrics", "acr_metadata", "replication"};
// The last one stands for any other method, so a client cannot grow the label set.
constexpr std::array<std::string_view, 8> kMethods = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS",
                                                      "other"};
constexpr unsigned kMinCode = 100, kMaxCode = 599;

size_t methodIndex(std::string_view method) {
  for (size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) return i;
  }
  return kMethods.size() - 1;
}

Dimension routes() {
  Dimension d{"route", {}};
  for (auto r : kRouteNames) d.values.emplace_back(r);
  return d;
}
Dimension methods() {
  Dimension d{"method", {}};
  for (auto m : kMethods) d.values.emplace_back(m);
  return d;
}
Dimension codes() {
  Dimension d{"code", {}};
  for (unsigned c = kMinCode; c <= kMaxCode; ++c) d.values.push_back(std::to_string(c));
  return d;
}

// 100 us to 10 s.
std::vector<double> durationBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

std::string_view routeLabelName(RouteLabel route) { return kRouteNames[static_cast<size_t>(route)]; }

HttpMetrics::HttpMetrics(Registry& registry)
    : requests_(registry.counter("berth_http_requests_total", "HTTP requests answered, by route, method and status code.",
                                 {routes(), methods(), codes()})),
      duration_(registry.histogram("berth_http_request_duration_seconds",
                                   "Time from a request's complete header to the end of its response.",
                                   {routes(), methods()}, durationBuckets())),
      bytes_in_(registry.counter("berth_http_request_bytes_total", "Request body bytes received, by route.",
                                 {routes()})),
      bytes_out_(registry.counter("berth_http_response_bytes_total", "Response body bytes sent, by route.",
                                  {routes()})),
      connections_(registry.gauge("berth_http_connections", "Open client connections.").at({})) {}

void HttpMetrics::recordRequest(RouteLabel route, std::string_view method, unsigned status, double seconds,
                                uint64_t bytes_in, uint64_t bytes_out) {
  const size_t r = static_cast<size_t>(route), m = methodIndex(method);
  if (status >= kMinCode && status <= kMaxCode) requests_.at({r, m, status - kMinCode}).inc();
  duration_.at({r, m}).observe(seconds);
  if (bytes_in) bytes_in_.at({r}).inc(bytes_in);
  if (bytes_out) bytes_out_.at({r}).inc(bytes_out);
}

}  // namespace berth::metrics
