#pragma once
// PgMetaStore: the MetaStore on a PostgreSQL database through libpq, for several Berth
// nodes sharing one metadata database. The connection pool, transactions (SERIALIZABLE
// writes, retried on serialization failures), reconnects and schema migrations are in
// pg_db.h (one Database per store, shared with the sub-stores it hands out).
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

namespace pg_detail {
class Database;
}  // namespace pg_detail

// Configuration key meta.dsn (and meta.pool_size).
struct PgOptions {
  // A libpq URI (postgresql://user@host:5432/berth) or key=value string; the password
  // from PGPASSWORD, ~/.pgpass or the DSN. Never written to a message or a log.
  std::string dsn;
  size_t pool_size = 8;  // connections at most, shared by every store on the database
};

class PgMetaStore : public MetaStore {
 public:
  // Connects and migrates the schema to the current version (safe when several nodes
  // open the same database at once). kUnavailable with a message naming meta.dsn if the
  // server cannot be reached or refuses the login; kUnsupported if the database has a
  // newer schema than this build. Every later call that cannot reach the database fails
  // with kUnavailable (HTTP 503); a restarted server is reconnected to.
  static Result<std::unique_ptr<PgMetaStore>> open(const PgOptions& options);

  // Schema version stored in table schema_version by this build.
  static int schemaVersion();

  // The IdentityStore on the same database, sharing this store's connection pool. It keeps the database open on
  // its own, so it may outlive this store. Call as often as needed; the stores are cheap.
  std::unique_ptr<IdentityStore> identityStore() const override;
  // The WebhookStore on the same database (webhooks and the outbox), like
  // identityStore().
  std::unique_ptr<WebhookStore> webhookStore() const override;
  // The PropertiesStore (ACR metadata: times, counts, changeable attributes) on the same
  // database, like identityStore().
  std::unique_ptr<PropertiesStore> propertiesStore() const override;
  // The UsageStore on the same database (storage numbers, traffic counters), like
  // identityStore().
  std::unique_ptr<UsageStore> usageStore() const override;
  // The AuditStore on the same database (the audit log), like identityStore().
  std::unique_ptr<AuditStore> auditStore() const override;
  // The QuotaStore (storage quotas) on the same database, like identityStore(). The
  // quotas it sets are enforced by this store's linkBlob, completeUpload and putManifest.
  std::unique_ptr<QuotaStore> quotaStore() const override;
  // The GcStore (what garbage collection reads and unlinks) on the same database, like
  // identityStore().
  std::unique_ptr<GcStore> gcStore() const override;
  // The RecycleStore on the same database (the recycle bin), like identityStore().
  std::unique_ptr<RecycleStore> recycleStore() const override;
  // The RetentionStore (what purge and retention policies read, and the stored policies)
  // on the same database, like identityStore().
  std::unique_ptr<RetentionStore> retentionStore() const override;
  std::unique_ptr<FleetStore> fleetStore() const override;
  std::unique_ptr<ReplicationStore> replicationStore() const override;
  // The feed over table `changes` and LISTEN/NOTIFY (pg_change_feed.h); its listener has a
  // connection of its own, outside the pool.
  std::unique_ptr<ChangeFeed> changeFeed(std::string node, ChangeFeedOptions options = {}) const override;
  void setRecycleBin(const RecycleBinOptions& options) override;

  ~PgMetaStore() override;
  PgMetaStore(const PgMetaStore&) = delete;
  PgMetaStore& operator=(const PgMetaStore&) = delete;

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
  explicit PgMetaStore(std::shared_ptr<pg_detail::Database> db);

  RecycleBinOptions recycleBin() const;

  std::shared_ptr<pg_detail::Database> db_;
  std::atomic<bool> bin_enabled_{false};
  std::atomic<int64_t> bin_retention_{0};
};

}  // namespace berth::meta
