#pragma once
// PgGcStore: the GcStore on the same PostgreSQL database as the PgMetaStore. Get one with
// PgMetaStore::gcStore().
#include <memory>

#include "meta/gc_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}  // namespace pg_detail

class PgGcStore : public GcStore {
 public:
  explicit PgGcStore(std::shared_ptr<pg_detail::Database> db);
  ~PgGcStore() override;

  Result<std::vector<GcBlob>> unreferencedBlobs(int64_t linked_before, std::string_view after,
                                                size_t n) override;
  Result<std::vector<oci::Digest>> unlinked(const std::vector<oci::Digest>& digests) override;
  Result<std::optional<std::vector<std::string>>> unlinkIfUnreferenced(const oci::Digest& digest,
                                                                       int64_t linked_before) override;
  Result<std::vector<UploadRecord>> staleUploads(int64_t updated_before, size_t n) override;
  Result<std::vector<std::string>> existingUploads(const std::vector<std::string>& ids) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
