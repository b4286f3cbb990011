#pragma once
// PgUsageStore: the UsageStore on the same PostgreSQL database as the PgMetaStore (storage
// from the live tables, traffic in table usage_traffic). Get one with
// PgMetaStore::usageStore().
#include <memory>

#include "meta/usage_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}  // namespace pg_detail

class PgUsageStore : public UsageStore {
 public:
  explicit PgUsageStore(std::shared_ptr<pg_detail::Database> db);
  ~PgUsageStore() override;

  Result<StorageTotals> storageTotals() override;
  Result<std::vector<RepositoryStorage>> repositoryStorage(std::string_view last, size_t n) override;
  Result<RepositoryUsage> repositoryUsage(std::string_view repository) override;
  Status addTraffic(const std::vector<TrafficRow>& rows) override;
  Result<Traffic> trafficTotal() override;
  Result<std::vector<TrafficRow>> repositoryTraffic(std::string_view repository) override;
  Result<Traffic> traffic(TrafficKind kind, std::string_view repository, std::string_view name) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
