#pragma once
// FleetStore on PostgreSQL (PgMetaStore::fleetStore()).
#include <memory>

#include "meta/fleet_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}

class PgFleetStore : public FleetStore {
 public:
  explicit PgFleetStore(std::shared_ptr<pg_detail::Database> db) : db_(std::move(db)) {}

  Result<std::string> sharedValue(std::string_view name, const std::function<std::string()>& make) override;
  Result<bool> acquireLease(std::string_view name, std::string_view holder, std::chrono::seconds ttl,
                            int64_t now) override;
  Status releaseLease(std::string_view name, std::string_view holder) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
