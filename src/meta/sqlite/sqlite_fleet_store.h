#pragma once
// FleetStore on the SQLite database (SqliteMetaStore::fleetStore()).
#include <memory>

#include "meta/fleet_store.h"

namespace berth::meta {

namespace sqlite_detail {
class Database;
}

class SqliteFleetStore : public FleetStore {
 public:
  explicit SqliteFleetStore(std::shared_ptr<sqlite_detail::Database> db) : db_(std::move(db)) {}

  Result<std::string> sharedValue(std::string_view name, const std::function<std::string()>& make) override;
  Result<bool> acquireLease(std::string_view name, std::string_view holder, std::chrono::seconds ttl,
                            int64_t now) override;
  Status releaseLease(std::string_view name, std::string_view holder) override;

 private:
  std::shared_ptr<sqlite_detail::Database> db_;
};

}  // namespace berth::meta
