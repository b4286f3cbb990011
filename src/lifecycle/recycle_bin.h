#pragma once
// RecycleBin: the service side of the recycle bin (docs/recycle-bin.md). The soft delete
// itself happens inside MetaStore's delete transactions; this restores items (with outbox
// events and cache invalidation, like a push) and purges expired ones: once at start and
// then every interval on its own thread.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.h"
#include "events/event_payload.h"
#include "meta/recycle_store.h"
#include "registry/fleet_leases.h"
#include "registry/registry.h"

namespace berth::lifecycle {

class RecycleBin {
 public:
  // `leases` (optional): the fleet's; the scheduled purge then runs on one node per interval.
  RecycleBin(std::shared_ptr<meta::RecycleStore> store, registry::Registry& registry,
             std::chrono::seconds purge_interval = std::chrono::hours(1),
             registry::FleetLeases* leases = nullptr);
  ~RecycleBin();  // stop()
  RecycleBin(const RecycleBin&) = delete;
  RecycleBin& operator=(const RecycleBin&) = delete;

  // Purges what expired while the registry was down, then starts the purge thread.
  void start();
  void stop();

  meta::RecycleStore& store() { return *store_; }
  // Restores the item: one "push" event per tag (or untagged manifest) it puts back.
  Result<meta::RestoredItem> restore(int64_t id, const events::RequestInfo& request);
  // Every item expired at `now`, in batches; how many went.
  Result<uint64_t> purgeExpired(int64_t now);

 private:
  void run();

  std::shared_ptr<meta::RecycleStore> store_;
  registry::Registry& registry_;
  const std::chrono::seconds interval_;
  registry::FleetLeases* const leases_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace berth::lifecycle
