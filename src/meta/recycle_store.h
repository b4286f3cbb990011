#pragma once
// RecycleStore: the recycle bin (soft delete, docs/recycle-bin.md). While the bin is on
// (SqliteMetaStore::setRecycleBin), MetaStore's deleteManifest, deleteTag and
// deleteRepository move what they remove into the bin in their own transaction; this
// interface lists, restores and purges the items. Every method is one transaction; safe
// from any thread; may block.
//
// An item is self-contained: it holds every manifest it needs (a tag its manifest, an
// index its children, a repository everything) and the blob links to them, so it can be
// restored whatever happened to the live repository since. Its blobs are listed in the
// table recycle_blob_refs, which garbage collection counts as references.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "meta/meta_store.h"

namespace berth::meta {

// Whether deletes go to the bin, and for how long items stay.
struct RecycleBinOptions {
  bool enabled = false;
  int64_t retention_seconds = 7 * 24 * 3600;
};

enum class RecycleKind { kManifest, kTag, kRepository };
const char* recycleKindName(RecycleKind kind);               // "manifest", "tag", "repository"
std::optional<RecycleKind> parseRecycleKind(std::string_view name);

struct RecycleItem {
  int64_t id = 0;
  RecycleKind kind = RecycleKind::kManifest;
  std::string repository;
  std::string digest;             // the manifest (manifest, tag); "" for a repository
  std::vector<std::string> tags;  // the tags it brings back, sorted
  uint64_t manifests = 0;         // manifests it holds (an index's children count)
  int64_t deleted_at = 0;         // unix seconds
  int64_t expires_at = 0;
};

// Filters of list(); empty ones do not filter.
struct RecycleQuery {
  std::string repository;
  std::optional<RecycleKind> kind;
  std::string tag;        // items that bring this tag back
  std::string digest;     // items whose manifest is this digest
  int64_t before_id = 0;  // the page after the one that ended with this id
  size_t limit = 100;
};

// What a restore brought back.
struct RestoredItem {
  RecycleItem item;
  std::vector<oci::Digest> manifests;  // put back (those already live are not listed), sorted
  std::vector<std::string> tags;       // put back, sorted
};

// ACR's view of the bin (/acr/v1/_deleted, docs/metadata-api.md): a repository that has
// items in the bin.
struct RecycledRepository {
  std::string name;
  int64_t created_at = 0;  // the earliest creation time of the repository the bin holds
  int64_t deleted_at = 0;  // its newest item's deletion
};

// A manifest a restore by digest brings back: the manifest of a manifest item, or any
// manifest of a repository item. One per (item, digest).
struct RecycledManifest {
  int64_t item_id = 0;
  std::string digest;
  std::string media_type;
  uint64_t size = 0;              // the manifest's bytes
  int64_t created_at = 0;         // when it was pushed
  int64_t deleted_at = 0;         // the item's
  std::vector<std::string> tags;  // the item's tags on this digest, sorted
};

// A tag an item brings back (a tag item's, or one that went with a manifest or
// repository). One per (item, tag).
struct RecycledTag {
  int64_t item_id = 0;
  std::string name;
  std::string digest;
  int64_t created_at = 0;  // when the tag was first pushed
  int64_t deleted_at = 0;  // the item's
};

// Where a listing of recycled manifests or tags goes on. Entries sort by key (digest or
// tag name), then by item id (the oldest deletion first); a page starts after (key,
// item_id), or with item_id 0 after every entry of that key. An empty key: from the start.
struct RecycledCursor {
  std::string key;
  int64_t item_id = 0;
};

// The outbox event for one manifest or tag a restore puts back (tag "" for a manifest
// without tags); nullopt: none.
using RestoreEventFn = std::function<std::optional<EventRecord>(
    const oci::Digest& digest, const std::string& media_type, uint64_t size, const std::string& tag)>;

class RecycleStore {
 public:
  virtual ~RecycleStore() = default;

  // Matching items, newest first (by id), at most query.limit.
  virtual Result<std::vector<RecycleItem>> list(const RecycleQuery& query) = 0;
  virtual Result<RecycleItem> get(int64_t id) = 0;  // kNotFound
  // Puts the item back exactly (digests, tags, times, attributes; a repository's blob
  // links) into the live repository, which may have new content meanwhile, and removes it
  // from the bin. kConflict, and nothing changes, if one of its tags now names another
  // manifest. kNotFound if there is no such item (also when it expired).
  virtual Result<RestoredItem> restore(int64_t id, const RestoreEventFn& event) = 0;
  // Removes the item for good (its blobs become garbage unless referenced elsewhere).
  virtual Status purge(int64_t id) = 0;  // kNotFound
  // Removes up to `limit` items with expires_at <= now; returns how many went.
  virtual Result<uint64_t> purgeExpired(int64_t now, size_t limit) = 0;

  // ACR's view (/acr/v1/_deleted). Repositories with items, by name, after `after`.
  virtual Result<std::vector<RecycledRepository>> listRecycledRepositories(const std::string& after,
                                                                           size_t limit) = 0;
  // The manifests of `repository` a restore by digest brings back, in cursor order.
  virtual Result<std::vector<RecycledManifest>> listRecycledManifests(const std::string& repository,
                                                                      const RecycledCursor& after, size_t limit) = 0;
  // The tags the items of `repository` bring back, in cursor order.
  virtual Result<std::vector<RecycledTag>> listRecycledTags(const std::string& repository,
                                                            const RecycledCursor& after, size_t limit) = 0;
  // The newest item of `repository` that restoring `digest` means: with a `tag`, one that
  // brings back that tag on that digest (of any kind); without, a manifest item of the
  // digest or a repository item holding it. kNotFound if there is none.
  virtual Result<int64_t> findRecycledManifest(const std::string& repository, const std::string& digest,
                                               const std::string& tag) = 0;
};

}  // namespace berth::meta
