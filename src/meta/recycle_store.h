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
};

}  // namespace berth::meta
