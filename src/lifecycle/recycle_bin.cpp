#include "lifecycle/recycle_bin.h"

#include "common/log.h"
#include "common/text.h"

namespace berth::lifecycle {

namespace {
constexpr size_t kPurgeBatch = 100;  // items per transaction: short write locks
}  // namespace

RecycleBin::RecycleBin(std::shared_ptr<meta::RecycleStore> store, registry::Registry& registry,
                       std::chrono::seconds purge_interval, registry::FleetLeases* leases)
    : store_(std::move(store)), registry_(registry), interval_(purge_interval), leases_(leases) {}

RecycleBin::~RecycleBin() { stop(); }

void RecycleBin::start() {
  (void)purgeExpired(unixNow());
  thread_ = std::thread([this] { run(); });
}

void RecycleBin::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RecycleBin::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, interval_, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    if (leases_ == nullptr) {
      (void)purgeExpired(unixNow());
    } else {
      (void)leases_->runScheduled("recycle-bin-expiry", interval_, [this] { (void)purgeExpired(unixNow()); });
    }
    lock.lock();
  }
}

Result<uint64_t> RecycleBin::purgeExpired(int64_t now) {
  uint64_t total = 0;
  for (;;) {
    auto n = store_->purgeExpired(now, kPurgeBatch);
    if (!n) {
      log::warn("recycle bin purge failed", {{"error", n.error().message}});
      return n.takeError();
    }
    total += *n;
    if (*n < kPurgeBatch) break;
  }
  if (total > 0) log::info("recycle bin purged expired items", {{"items", total}});
  return total;
}

Result<meta::RestoredItem> RecycleBin::restore(int64_t id, const events::RequestInfo& request) {
  const int64_t now = unixNow();
  // An item's repository never changes; the restore below fails if the item went meanwhile.
  auto item = store_->get(id);
  if (!item) return item.takeError();
  const std::string repository = item->repository;
  auto restored = store_->restore(
      id, [&](const oci::Digest& digest, const std::string& media_type, uint64_t size, const std::string& tag) {
        return std::optional<meta::EventRecord>(events::makeEvent(
            "push", {repository, tag, digest.str(), media_type, size}, request, newUuid(), now));
      });
  if (!restored) return restored;
  registry_.changed(restored->item.repository);
  log::info("recycle bin item restored", {{"id", id},
                                          {"kind", meta::recycleKindName(restored->item.kind)},
                                          {"repository", restored->item.repository},
                                          {"digest", restored->item.digest}});
  return restored;
}

}  // namespace berth::lifecycle
