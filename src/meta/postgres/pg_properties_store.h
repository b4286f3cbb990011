#pragma once
// PgPropertiesStore: the PropertiesStore on the same PostgreSQL database as the PgMetaStore
// (schema v4 columns). Get one with PgMetaStore::propertiesStore().
#include <memory>

#include "meta/properties_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}  // namespace pg_detail

class PgPropertiesStore : public PropertiesStore {
 public:
  explicit PgPropertiesStore(std::shared_ptr<pg_detail::Database> db);
  ~PgPropertiesStore() override;

  Result<RepositoryProperties> repository(std::string_view repository) override;
  Result<RepositoryProperties> updateRepository(std::string_view repository,
                                                const AttributesPatch& patch) override;
  Result<std::vector<TagProperties>> listTags(std::string_view repository, const PageRequest& page,
                                              const std::optional<oci::Digest>& digest) override;
  Result<TagProperties> tag(std::string_view repository, std::string_view tag) override;
  Result<TagProperties> updateTag(std::string_view repository, std::string_view tag,
                                  const AttributesPatch& patch) override;
  Result<std::vector<ManifestProperties>> listManifests(std::string_view repository,
                                                        const PageRequest& page) override;
  Result<ManifestProperties> manifest(std::string_view repository, const oci::Digest& digest) override;
  Result<ManifestProperties> updateManifest(std::string_view repository, const oci::Digest& digest,
                                            const AttributesPatch& patch) override;
  Result<std::vector<LockedItem>> lockedItems() override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
