#pragma once
// SqliteAuditStore: the AuditStore on the same SQLite file as the SqliteMetaStore (schema
// v6 table `audit`). Get one with SqliteMetaStore::auditStore().
#include <memory>

#include "meta/audit_store.h"

namespace berth::meta {

namespace sqlite_detail {
class Database;
}  // namespace sqlite_detail

class SqliteAuditStore : public AuditStore {
 public:
  explicit SqliteAuditStore(std::shared_ptr<sqlite_detail::Database> db);
  ~SqliteAuditStore() override;

  Status append(std::vector<AuditRecord>& records) override;
  Result<std::vector<AuditRecord>> list(const AuditQuery& query) override;
  Result<uint64_t> prune(int64_t before_us) override;

 private:
  std::shared_ptr<sqlite_detail::Database> db_;
};

}  // namespace berth::meta
