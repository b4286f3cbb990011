#pragma once
// PgAuditStore: the AuditStore on the same PostgreSQL database as the PgMetaStore (schema
// v6 table `audit`). Get one with PgMetaStore::auditStore().
#include <memory>

#include "meta/audit_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}  // namespace pg_detail

class PgAuditStore : public AuditStore {
 public:
  explicit PgAuditStore(std::shared_ptr<pg_detail::Database> db);
  ~PgAuditStore() override;

  Status append(std::vector<AuditRecord>& records) override;
  Result<std::vector<AuditRecord>> list(const AuditQuery& query) override;
  Result<uint64_t> prune(int64_t before_us) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
