#pragma once
// PgQuotaStore: the QuotaStore on the same PostgreSQL database as the PgMetaStore (the
// table `quotas`, whose usage counters the quota triggers of pg_schema.cpp keep current). Get one with
// PgMetaStore::quotaStore(). checkQuota is the commit-time check the MetaStore runs
// inside its own write transactions.
#include <cstdint>
#include <map>
#include <string>
#include <memory>
#include <string_view>

#include "meta/meta_store.h"
#include "meta/quota_store.h"
#include "oci/digest.h"

namespace berth::meta {

namespace pg_detail {
class Connection;
class Database;

enum class QuotaObject { kBlob, kManifest };

// Inside a write transaction, before `repository` gains `digest` of `size` bytes: kDenied
// if a quota covering the repository would go over its limit. The digest needs nothing
// from a quota whose repositories already hold it (as a blob, or as a manifest, by
// `object`). Reads the few quota rows and, per covering quota over the limit, one
// indexed lookup by digest.
Status checkQuota(Connection& c, std::string_view repository, const oci::Digest& digest, uint64_t size,
                  QuotaObject object);

// The covering quota with the least room (MetaStore::quotaRoom).
Result<std::optional<QuotaRoom>> leastQuotaRoom(Connection& c, std::string_view repository,
                                                const std::optional<oci::Digest>& digest);

// For a change that adds many things at once (a recycle-bin restore): the usage of each
// quota covering `repository` before it, then, after it and still inside the transaction,
// kDenied if one of them grew past its limit.
using QuotaUsage = std::map<std::string, int64_t>;
Result<QuotaUsage> coveringQuotaUsage(Connection& c, std::string_view repository);
Status checkQuotaGrowth(Connection& c, std::string_view repository, const QuotaUsage& before);
}  // namespace pg_detail

class PgQuotaStore : public QuotaStore {
 public:
  explicit PgQuotaStore(std::shared_ptr<pg_detail::Database> db);
  ~PgQuotaStore() override;

  Result<std::vector<QuotaRecord>> listQuotas() override;
  Result<QuotaRecord> getQuota(std::string_view pattern) override;
  Result<QuotaRecord> setQuota(std::string_view pattern, uint64_t limit_bytes, bool* created) override;
  Status deleteQuota(std::string_view pattern) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
