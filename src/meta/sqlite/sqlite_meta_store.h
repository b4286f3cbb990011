#pragma once
// SqliteMetaStore: the MetaStore on one SQLite database file (WAL, synchronous=FULL).
//
// Threading: connections come from a mutex-protected free list, one per calling thread
// at a time, each with its own prepared-statement cache. Readers run concurrently under
// WAL. Writers in this process queue on one mutex before BEGIN IMMEDIATE, so they wait
// in order instead of polling SQLite's busy handler; writers in other processes are
// still serialized by SQLite (busy_timeout, then kUnavailable).
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "meta/meta_store.h"

namespace berth::meta {

namespace sqlite_detail {
class Connection;
}  // namespace sqlite_detail

class SqliteMetaStore : public MetaStore {
 public:
  // Opens (creating if needed) the database at `db_path` and migrates its schema to the
  // current version. kUnsupported if the file has a newer schema than this build.
  static Result<std::unique_ptr<SqliteMetaStore>> open(const std::string& db_path);

  // Schema version stored in PRAGMA user_version by this build.
  static int schemaVersion();

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

  Status putManifest(const PutManifestRequest& req) override;
  Result<ManifestRecord> getManifest(std::string_view repository,
                                     const oci::Digest& digest) override;
  Result<oci::Digest> resolveTag(std::string_view repository, std::string_view tag) override;
  Status deleteManifest(std::string_view repository, const oci::Digest& digest) override;
  Status deleteTag(std::string_view repository, std::string_view tag) override;
  Result<std::vector<std::string>> listTags(std::string_view repository, std::string_view last,
                                            size_t n) override;
  Result<std::vector<std::string>> listRepositories(std::string_view last, size_t n) override;
  Result<bool> repositoryExists(std::string_view repository) override;
  Result<std::vector<ReferrerRecord>> referrers(std::string_view repository,
                                                const oci::Digest& subject,
                                                std::string_view artifact_type) override;

 private:
  using Connection = sqlite_detail::Connection;
  class Lease;

  explicit SqliteMetaStore(std::string db_path);

  Result<std::unique_ptr<Connection>> acquire();
  void release(std::unique_ptr<Connection> conn);

  // Run `fn(Connection&)` in one transaction: BEGIN IMMEDIATE for writes, a deferred
  // (snapshot) transaction for reads. Commits if `fn` succeeds, else rolls back.
  template <class Fn>
  auto write(Fn&& fn) -> decltype(fn(std::declval<Connection&>()));
  template <class Fn>
  auto read(Fn&& fn) -> decltype(fn(std::declval<Connection&>()));
  template <class Fn>
  auto transact(bool immediate, Fn&& fn) -> decltype(fn(std::declval<Connection&>()));

  const std::string db_path_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by pool_mutex_
  std::mutex writer_mutex_;  // orders this process's writers; never held by readers
};

}  // namespace berth::meta
