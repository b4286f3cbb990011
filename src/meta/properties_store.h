#pragma once
// PropertiesStore: what ACR's metadata API (/acr/v1) shows and changes about repositories,
// tags and manifests: times, counts, platform, and the changeable attributes
// (deleteEnabled, writeEnabled, listEnabled, readEnabled). It reads the rows MetaStore
// writes; only the attributes are changed here. Every method is one atomic transaction;
// safe to call from any thread; may block.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "oci/digest.h"

namespace berth::meta {

struct Attributes {
  bool delete_enabled = true;
  bool write_enabled = true;
  bool list_enabled = true;
  bool read_enabled = true;
  bool operator==(const Attributes&) const = default;
};

// The attributes a PATCH names; the others stay as they are.
struct AttributesPatch {
  std::optional<bool> delete_enabled;
  std::optional<bool> write_enabled;
  std::optional<bool> list_enabled;
  std::optional<bool> read_enabled;
};

struct RepositoryProperties {
  std::string name;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;  // last manifest push, tag change, delete or attribute change
  uint64_t manifest_count = 0;
  uint64_t tag_count = 0;
  Attributes attributes;
};

struct TagProperties {
  std::string name;
  oci::Digest digest;
  int64_t created_at = 0;
  int64_t updated_at = 0;  // last move to another manifest or attribute change
  Attributes attributes;
};

struct ManifestProperties {
  oci::Digest digest;
  std::string media_type;
  std::string artifact_type;
  // The manifest plus what it references as stored in the repository: config and layer
  // blobs, and for an index its child manifests (their own bytes).
  uint64_t image_size = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;    // last push of the same digest, tag change or attribute change
  std::string architecture;  // from the image config; "" for an index or an artifact
  std::string os;
  std::vector<std::string> tags;  // sorted
  Attributes attributes;
  std::string bytes;  // the manifest as pushed (an index's children are read from it)
};

// A repository, tag or manifest with an attribute set to false (a lock). Exactly one of
// `tag` (not "") and `digest` names an item of the repository; neither: the repository.
struct LockedItem {
  std::string repository;
  std::string tag;
  std::optional<oci::Digest> digest;
  Attributes attributes;
};

enum class PropertiesOrder {
  kName,      // tags by name, manifests by digest (ascending)
  kTimeDesc,  // last updated first
  kTimeAsc,
};

struct PageRequest {
  PropertiesOrder order = PropertiesOrder::kName;
  std::string last;  // the name (tags) or digest (manifests) the previous page ended with
  size_t n = 100;
};

class PropertiesStore {
 public:
  virtual ~PropertiesStore() = default;

  // kNameUnknown if the repository does not exist.
  virtual Result<RepositoryProperties> repository(std::string_view repository) = 0;
  virtual Result<RepositoryProperties> updateRepository(std::string_view repository,
                                                        const AttributesPatch& patch) = 0;

  // Listings leave out what has listEnabled false (it is still read by name).
  // A page of the repository's tags (only those on `digest` when it is set). With a time
  // order, `last` names the tag the previous page ended with; a page after a tag that no
  // longer exists is empty. kNameUnknown if the repository does not exist.
  virtual Result<std::vector<TagProperties>> listTags(std::string_view repository,
                                                      const PageRequest& page,
                                                      const std::optional<oci::Digest>& digest) = 0;
  // kManifestUnknown if there is no such tag (kNameUnknown: no such repository).
  virtual Result<TagProperties> tag(std::string_view repository, std::string_view tag) = 0;
  virtual Result<TagProperties> updateTag(std::string_view repository, std::string_view tag,
                                          const AttributesPatch& patch) = 0;

  virtual Result<std::vector<ManifestProperties>> listManifests(std::string_view repository,
                                                                const PageRequest& page) = 0;
  // kManifestUnknown if the repository has no such manifest.
  virtual Result<ManifestProperties> manifest(std::string_view repository,
                                              const oci::Digest& digest) = 0;
  virtual Result<ManifestProperties> updateManifest(std::string_view repository,
                                                    const oci::Digest& digest,
                                                    const AttributesPatch& patch) = 0;

  // Every repository, tag and manifest with an attribute false, hidden ones included,
  // sorted by repository, tag and digest (what replication exchanges: locks are few,
  // defaults are not).
  virtual Result<std::vector<LockedItem>> lockedItems() = 0;
};

}  // namespace berth::meta
