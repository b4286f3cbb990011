#pragma once
// SqlitePropertiesStore: the PropertiesStore on the same SQLite file as the SqliteMetaStore
// (schema v4 columns). Get one with SqliteMetaStore::propertiesStore().
#include <memory>

#include "meta/properties_store.h"

namespace berth::meta {

namespace sqlite_detail {
class Database;
}  // namespace sqlite_detail

class SqlitePropertiesStore : public PropertiesStore {
 public:
  explicit SqlitePropertiesStore(std::shared_ptr<sqlite_detail::Database> db);
  ~SqlitePropertiesStore() override;

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
  std::shared_ptr<sqlite_detail::Database> db_;
};

}  // namespace berth::meta
