#pragma once
// SqliteMetaStore: the MetaStore on one SQLite database file (WAL, synchronous=FULL).
// The connection pool, transactions and schema migrations are in sqlite_db.h (one
// Database per file, shared with the other stores on it).
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "meta/audit_store.h"
#include "meta/gc_store.h"
#include "meta/identity_store.h"
#include "meta/meta_store.h"
#include "meta/properties_store.h"
#include "meta/quota_store.h"
#include "meta/recycle_store.h"
#include "meta/retention_store.h"
#include "meta/usage_store.h"
#include "meta/webhook_store.h"

namespace berth::meta {

namespace sqlite_detail {
class Database;
}  // namespace sqlite_detail

class SqliteMetaStore : public MetaStore {
 public:
  // Opens (creating if needed) the database at `db_path` and migrates its schema to the
  // current version. kUnsupported if the file has a newer schema than this build.
  static Result<std::unique_ptr<SqliteMetaStore>> open(const std::string& db_path);

  // Schema version stored in PRAGMA user_version by this build.
  static int schemaVersion();

  // The IdentityStore on the same database file, sharing this store's connection pool
  // and writer queue (one writer at a time across both). It keeps the database open on
  // its own, so it may outlive this store. Call as often as needed; the stores are cheap.
  std::unique_ptr<IdentityStore> identityStore() const override;
  // The WebhookStore on the same database file (webhooks and the outbox), like
  // identityStore().
  std::unique_ptr<WebhookStore> webhookStore() const override;
  // The PropertiesStore (ACR metadata: times, counts, changeable attributes) on the same
  // database file, like identityStore().
  std::unique_ptr<PropertiesStore> propertiesStore() const override;
  // The UsageStore on the same database file (storage numbers, traffic counters), like
  // identityStore().
  std::unique_ptr<UsageStore> usageStore() const override;
  // The AuditStore on the same database file (the audit log), like identityStore().
  std::unique_ptr<AuditStore> auditStore() const override;
  // The QuotaStore (storage quotas) on the same database file, like identityStore(). The
  // quotas it sets are enforced by this store's linkBlob, completeUpload and putManifest.
  std::unique_ptr<QuotaStore> quotaStore() const override;
  // The GcStore (what garbage collection reads and unlinks) on the same database file, like
  // identityStore().
  std::unique_ptr<GcStore> gcStore() const override;
  // The RecycleStore on the same database file (the recycle bin), like identityStore().
  std::unique_ptr<RecycleStore> recycleStore() const override;
  // The RetentionStore (what purge and retention policies read, and the stored policies)
  // on the same database file, like identityStore().
  std::unique_ptr<RetentionStore> retentionStore() const override;
  // Shared values and leases (one process: every lease is this node's to take).
  std::unique_ptr<FleetStore> fleetStore() const override;
  std::unique_ptr<ReplicationStore> replicationStore() const override;
  void setRecycleBin(const RecycleBinOptions& options) override;

  ~SqliteMetaStore() override;
  SqliteMetaStore(const SqliteMetaStore&) = delete;
  SqliteMetaStore& operator=(const SqliteMetaStore&) = delete;

  Status linkBlob(std::string_view repository, const oci::Digest& digest, uint64_t size) override;
  Result<uint64_t> repositoryBlob(std::string_view repository, const oci::Digest& digest) override;
  Result<uint64_t> anyBlob(const oci::Digest& digest) override;
  Status unlinkBlob(std::string_view repository, const oci::Digest& digest) override;

  Status createUpload(const UploadRecord& upload) override;
  Result<UploadRecord> getUpload(std::string_view id) override;
  Status updateUpload(std::string_view id, uint64_t offset, int64_t now) override;
  Status deleteUpload(std::string_view id) override;
  Result<uint64_t> countUploads(std::string_view repository) override;
  Status completeUpload(std::string_view id, const oci::Digest& digest, uint64_t size) override;
  Result<std::optional<QuotaRoom>> quotaRoom(std::string_view repository,
                                             const std::optional<oci::Digest>& digest) override;

  Status putManifest(const PutManifestRequest& req) override;
  Result<ManifestRecord> getManifest(std::string_view repository,
                                     const oci::Digest& digest) override;
  Result<oci::Digest> resolveTag(std::string_view repository, std::string_view tag) override;
  Status deleteManifest(std::string_view repository, const oci::Digest& digest,
                        const std::optional<EventRecord>& event = std::nullopt,
                        const DeleteGuard& guard = {}) override;
  Status deleteTag(std::string_view repository, std::string_view tag,
                   const std::optional<EventRecord>& event = std::nullopt,
                   const DeleteGuard& guard = {}) override;
  Result<std::string> readDenied(std::string_view repository, std::string_view tag,
                                 const oci::Digest& digest) override;
  Result<DeletedRepository> deleteRepository(std::string_view repository,
                                             const DeleteEventFn& event) override;
  Result<std::vector<std::string>> listTags(std::string_view repository, std::string_view last,
                                            size_t n) override;
  Result<std::vector<std::string>> listRepositories(std::string_view last, size_t n) override;
  Result<bool> repositoryExists(std::string_view repository) override;
  Result<std::vector<ReferrerRecord>> referrers(std::string_view repository,
                                                const oci::Digest& subject,
                                                std::string_view artifact_type) override;

 private:
  explicit SqliteMetaStore(std::shared_ptr<sqlite_detail::Database> db);

  RecycleBinOptions recycleBin() const;

  std::shared_ptr<sqlite_detail::Database> db_;
  std::atomic<bool> bin_enabled_{false};
  std::atomic<int64_t> bin_retention_{0};
};

}  // namespace berth::meta
