#pragma once
// SqliteGcStore: the GcStore on the same SQLite file as the SqliteMetaStore. Get one with
// SqliteMetaStore::gcStore().
#include <memory>

#include "meta/gc_store.h"

namespace berth::meta {

namespace sqlite_detail {
class Database;
}  // namespace sqlite_detail

class SqliteGcStore : public GcStore {
 public:
  explicit SqliteGcStore(std::shared_ptr<sqlite_detail::Database> db);
  ~SqliteGcStore() override;

  Result<std::vector<GcBlob>> unreferencedBlobs(int64_t linked_before, std::string_view after,
                                                size_t n) override;
  Result<std::vector<oci::Digest>> unlinked(const std::vector<oci::Digest>& digests) override;
  Result<std::optional<std::vector<std::string>>> unlinkIfUnreferenced(const oci::Digest& digest,
                                                                       int64_t linked_before) override;
  Result<std::vector<UploadRecord>> staleUploads(int64_t updated_before, size_t n) override;
  Result<std::vector<std::string>> existingUploads(const std::vector<std::string>& ids) override;

 private:
  std::shared_ptr<sqlite_detail::Database> db_;
};

}  // namespace berth::meta
