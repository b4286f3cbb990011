#pragma once
// The HTTP server's metrics: requests by route, method and status code, their duration
// and bytes, and open connections. No HTTP library types: the server passes the method
// name and the route label the API set on the exchange.
#include <cstdint>
#include <string_view>

#include "metrics/registry.h"

namespace berth::metrics {

// Which part of the API a request went to: the "route" label.
enum class RouteLabel : uint8_t {
  kOther,  // not (yet) classified: bad paths, refused before routing
  kBase,
  kCatalog,
  kTags,
  kManifest,
  kBlob,
  kUpload,
  kReferrers,
  kHealth,
  kToken,
  kAdmin,
  kMetrics,
  kAcrMetadata,  // /acr/v1
  kReplication,  // /replication/v1: replicas reading each other
};
inline constexpr size_t kRouteLabels = 14;
std::string_view routeLabelName(RouteLabel route);

class HttpMetrics {
 public:
  // Adds the families to `registry`, which must outlive this.
  explicit HttpMetrics(Registry& registry);

  // One answered request. `status` outside 100..599 (no response was sent) counts in
  // duration and bytes only.
  void recordRequest(RouteLabel route, std::string_view method, unsigned status, double seconds,
                     uint64_t bytes_in, uint64_t bytes_out);
  void connectionOpened() { connections_.add(1); }
  void connectionClosed() { connections_.add(-1); }

 private:
  CounterFamily& requests_;
  HistogramFamily& duration_;
  CounterFamily& bytes_in_;
  CounterFamily& bytes_out_;
  Gauge& connections_;
};

}  // namespace berth::metrics
