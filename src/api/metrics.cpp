// GET /metrics and the route labels the server's request metrics use.
#include <mutex>

#include "api/api.h"

#include "common/text.h"

namespace berth::api {

namespace http = server::http;

metrics::RouteLabel routeLabel(RouteKind kind) {
  using L = metrics::RouteLabel;
  switch (kind) {
    case RouteKind::kBase: return L::kBase;
    case RouteKind::kCatalog: return L::kCatalog;
    case RouteKind::kTags: return L::kTags;
    case RouteKind::kManifest: return L::kManifest;
    case RouteKind::kBlob: return L::kBlob;
    case RouteKind::kUploadStart:
    case RouteKind::kUpload: return L::kUpload;
    case RouteKind::kReferrers: return L::kReferrers;
    case RouteKind::kHealthz:
    case RouteKind::kReadyz: return L::kHealth;
    case RouteKind::kMetrics: return L::kMetrics;
    case RouteKind::kAcrCatalog:
    case RouteKind::kAcrRepository:
    case RouteKind::kAcrTags:
    case RouteKind::kAcrTag:
    case RouteKind::kAcrManifests:
    case RouteKind::kAcrManifest: return L::kAcrMetadata;
  }
  return L::kOther;
}

void addRegistryMetrics(metrics::Registry& metrics, registry::Registry& registry) {
  const auto& cache = registry.manifestCache();
  metrics.counterFunction("berth_manifest_cache_hits_total", "Manifest lookups answered from the in-memory cache.",
                          [&cache] { return cache.hits(); });
  metrics.counterFunction("berth_manifest_cache_misses_total", "Manifest lookups the cache could not answer.",
                          [&cache] { return cache.misses(); });
  metrics.gaugeFunction("berth_uploads_active", "Upload requests (PATCH, PUT, POST with a body) in progress.",
                        [&registry] { return std::optional<double>(static_cast<double>(registry.activeUploads())); });
  metrics.gaugeFunction("berth_storage_available_bytes", "Free space for blobs, read at scrape time.",
                        [&registry]() -> std::optional<double> {
                          auto bytes = registry.blobStore().availableBytes();
                          if (!bytes) return std::nullopt;
                          return static_cast<double>(*bytes);
                        });
}

namespace {

// The last storage totals read, shared by the gauges that show them.
class StorageTotalsCache {
 public:
  StorageTotalsCache(std::shared_ptr<meta::UsageStore> usage, std::chrono::seconds max_age)
      : usage_(std::move(usage)), max_age_(max_age) {}
  std::optional<meta::StorageTotals> get() {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (!totals_ || now - read_at_ >= max_age_) {
      auto t = usage_->storageTotals();
      if (!t) return std::nullopt;  // the gauges are left out of this scrape
      totals_ = *t;
      read_at_ = now;
    }
    return totals_;
  }

 private:
  std::shared_ptr<meta::UsageStore> usage_;
  std::chrono::seconds max_age_;
  std::mutex mu_;
  std::optional<meta::StorageTotals> totals_;
  std::chrono::steady_clock::time_point read_at_;
};

}  // namespace

void addGcMetrics(metrics::Registry& metrics, registry::GarbageCollector& gc) {
  metrics.counterFunction("berth_gc_blobs_deleted_total", "Blobs garbage collection deleted.",
                          [&gc] { return gc.blobsDeleted(); });
  metrics.counterFunction("berth_gc_bytes_freed_total", "Bytes of blobs garbage collection deleted.",
                          [&gc] { return gc.bytesFreed(); });
  metrics.counterFunction("berth_gc_uploads_removed_total", "Abandoned upload sessions garbage collection removed.",
                          [&gc] { return gc.uploadsRemoved(); });
  metrics.gaugeFunction("berth_gc_running", "1 while garbage collection runs.",
                        [&gc]() -> std::optional<double> { return gc.running() ? 1.0 : 0.0; });
}

void addRetentionMetrics(metrics::Registry& metrics, lifecycle::Retention& retention) {
  metrics.counterFunction("berth_retention_runs_total", "Purge and retention-policy runs that were not dry runs.",
                          [&retention] { return retention.runs(); });
  metrics.counterFunction("berth_retention_tags_deleted_total", "Tags purge and retention policies deleted.",
                          [&retention] { return retention.tagsDeleted(); });
  metrics.counterFunction("berth_retention_manifests_deleted_total",
                          "Manifests purge and retention policies deleted.",
                          [&retention] { return retention.manifestsDeleted(); });
}

void addStorageMetrics(metrics::Registry& metrics, std::shared_ptr<meta::UsageStore> usage,
                       std::chrono::seconds max_age) {
  auto cache = std::make_shared<StorageTotalsCache>(std::move(usage), max_age);
  auto gauge = [&](const char* name, const char* help, uint64_t meta::StorageTotals::*field) {
    metrics.gaugeFunction(name, help, [cache, field]() -> std::optional<double> {
      auto t = cache->get();
      if (!t) return std::nullopt;
      return static_cast<double>((*t).*field);
    });
  };
  gauge("berth_storage_stored_bytes", "Bytes stored, each blob and manifest digest counted once.",
        &meta::StorageTotals::bytes);
  gauge("berth_repositories", "Repositories.", &meta::StorageTotals::repositories);
  gauge("berth_manifests", "Manifests (a manifest in two repositories counts twice).", &meta::StorageTotals::manifests);
  gauge("berth_tags", "Tags.", &meta::StorageTotals::tags);
  gauge("berth_blobs", "Distinct blobs.", &meta::StorageTotals::blobs);
}

bool Api::mayScrape(const auth::Principal& who) const {
  if (who.kind != auth::Principal::Kind::kCredentials) return false;
  for (const auto& g : access_->grants(who.subject(), unixNow())) {
    if (g.pattern == "*" && (g.permissions & auth::kPermMetadataRead)) return true;
  }
  return false;
}

Task<void> Api::metrics(Exchange& ex) {
  // Off the I/O thread: a gauge may ask the file system (free space).
  auto text = co_await ex.blocking([this] { return metrics_.registry->render(); });
  server::Response res{http::status::ok, 11};
  res.set(http::field::content_type, metrics::kTextContentType);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(text);
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
