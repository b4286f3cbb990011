#pragma once
// PgRecycleStore: the RecycleStore on the same PostgreSQL database as the PgMetaStore
// (tables recycle_*). Get one with PgMetaStore::recycleStore(). The
// bin* functions are what PgMetaStore's deletes call inside their transaction.
#include <memory>
#include <string_view>

#include "meta/recycle_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
class Connection;

// Each copies what the delete that follows will remove (and what restoring it needs)
// into a new bin item expiring after `options.retention_seconds`. Call in the delete's
// transaction, before it, with the repository's row id. A tag or manifest that does not
// exist makes an empty item; the caller's delete then fails and rolls it back.
Status binManifest(Connection& c, int64_t repo, std::string_view repository, const oci::Digest& digest,
                   const RecycleBinOptions& options);
Status binTag(Connection& c, int64_t repo, std::string_view repository, std::string_view tag,
              const RecycleBinOptions& options);
Status binRepository(Connection& c, int64_t repo, std::string_view repository, const RecycleBinOptions& options);
}  // namespace pg_detail

class PgRecycleStore : public RecycleStore {
 public:
  explicit PgRecycleStore(std::shared_ptr<pg_detail::Database> db);
  ~PgRecycleStore() override;

  Result<std::vector<RecycleItem>> list(const RecycleQuery& query) override;
  Result<RecycleItem> get(int64_t id) override;
  Result<RestoredItem> restore(int64_t id, const RestoreEventFn& event) override;
  Status purge(int64_t id) override;
  Result<uint64_t> purgeExpired(int64_t now, size_t limit) override;
  Result<std::vector<RecycledRepository>> listRecycledRepositories(const std::string& after, size_t limit) override;
  Result<std::vector<RecycledManifest>> listRecycledManifests(const std::string& repository,
                                                              const RecycledCursor& after, size_t limit) override;
  Result<std::vector<RecycledTag>> listRecycledTags(const std::string& repository, const RecycledCursor& after,
                                                    size_t limit) override;
  Result<int64_t> findRecycledManifest(const std::string& repository, const std::string& digest,
                                       const std::string& tag) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
