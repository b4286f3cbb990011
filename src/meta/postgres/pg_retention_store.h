#pragma once
// PgRetentionStore: the RetentionStore on the same PostgreSQL database as the PgMetaStore
// (the live tables it reads, and the v9 table `retention_policies`). Get one with
// PgMetaStore::retentionStore().
#include <memory>
#include <string_view>
#include <vector>

#include "meta/meta_store.h"  // BlobRef
#include "meta/retention_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}  // namespace pg_detail

class PgRetentionStore : public RetentionStore {
 public:
  explicit PgRetentionStore(std::shared_ptr<pg_detail::Database> db);
  ~PgRetentionStore() override;

  Result<std::vector<std::string>> repositories() override;
  Result<RepositorySnapshot> snapshot(std::string_view repository) override;
  Result<std::vector<BlobRef>> blobsOf(const std::vector<ManifestKey>& manifests) override;
  Result<std::vector<oci::Digest>> referencedBy(const std::vector<oci::Digest>& blobs,
                                                const std::vector<ManifestKey>& excluding) override;

  Result<std::vector<RetentionPolicy>> listPolicies() override;
  Result<RetentionPolicy> getPolicy(std::string_view name) override;
  Result<RetentionPolicy> putPolicy(const RetentionPolicy& policy, bool* created) override;
  Status deletePolicy(std::string_view name) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
