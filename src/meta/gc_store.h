#pragma once
// GcStore: what garbage collection (registry/garbage_collector.h, docs/gc.md) asks of the
// metadata. A blob is referenced while a manifest of any repository names it
// (manifest_blob_refs) or an item in the recycle bin needs it (recycle_blob_refs); links
// (blob_links) alone do not keep it. Every method is one transaction; safe from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "meta/meta_store.h"
#include "oci/digest.h"

namespace berth::meta {

struct GcBlob {
  oci::Digest digest;
  uint64_t size = 0;         // as linked
  int64_t newest_link = 0;   // created_at of its newest link, unix seconds
};

class GcStore {
 public:
  virtual ~GcStore() = default;

  // Linked blobs that nothing references and whose newest link was created at or before
  // `linked_before`: digests > `after`, ascending, at most n.
  virtual Result<std::vector<GcBlob>> unreferencedBlobs(int64_t linked_before, std::string_view after,
                                                        size_t n) = 0;
  // Of `digests`, those no repository links (one read transaction).
  virtual Result<std::vector<oci::Digest>> unlinked(const std::vector<oci::Digest>& digests) = 0;
  // In one write transaction, re-checking what unreferencedBlobs found: if `digest` is still
  // referenced by nothing and has no link created after `linked_before`, deletes all its
  // links (pruning repositories left empty) and returns the repositories it was linked in
  // (empty when it had no link). nullopt, changing nothing, when it is no longer garbage.
  // Because putManifest checks links in its own write transaction, a manifest either
  // committed first (and this sees its reference) or fails with MANIFEST_BLOB_UNKNOWN.
  virtual Result<std::optional<std::vector<std::string>>> unlinkIfUnreferenced(const oci::Digest& digest,
                                                                               int64_t linked_before) = 0;
  // Upload sessions last updated at or before `updated_before`, oldest first, at most n.
  virtual Result<std::vector<UploadRecord>> staleUploads(int64_t updated_before, size_t n) = 0;
  // Of `ids`, those with an upload session row (one read transaction).
  virtual Result<std::vector<std::string>> existingUploads(const std::vector<std::string>& ids) = 0;
};

}  // namespace berth::meta
