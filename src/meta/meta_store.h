#pragma once
// MetaStore: the single source of truth for repositories, tags, manifests, blob links per
// repository, manifest references, referrers and upload sessions.
// Every method is one atomic transaction. Implementations are safe to call from any thread
// concurrently and may block (callers run them off the I/O threads). Repositories exist
// implicitly: a repository is created by its first blob link or manifest, and listed while
// it has at least one manifest or blob link.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "meta/change_feed.h"
#include "oci/digest.h"

namespace berth::meta {

struct UploadRecord {
  std::string id;          // opaque upload id (uuid)
  std::string repository;
  uint64_t offset = 0;     // bytes acknowledged (durable in the BlobStore)
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

// The storage quota (quota_store.h) that leaves a repository the least room.
struct QuotaRoom {
  std::string pattern;
  uint64_t limit_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t room() const { return used_bytes >= limit_bytes ? 0 : limit_bytes - used_bytes; }
};

struct ManifestRecord {
  oci::Digest digest;
  std::string media_type;
  std::string artifact_type;
  std::string bytes;       // exactly as pushed
  int64_t created_at = 0;  // unix seconds
};

// A write's place in the replication order (docs/replication.md): a hybrid logical clock
// reading and the region whose replica made the write, compared in that order. hlc 0: a
// write made while replication was off (older than any replicated one).
struct Version {
  int64_t hlc = 0;
  std::string origin;
  auto operator<=>(const Version&) const = default;
  bool operator==(const Version&) const = default;
};

struct BlobRef {
  oci::Digest digest;
  uint64_t size = 0;  // as declared in the manifest's descriptor
};

// An outbox row (events table): written in the same transaction as the change it
// describes, so an event exists exactly when its change committed. `payload` is the
// ACR event body (JSON text) without per-webhook fields; id and created_at are assigned
// by the store.
struct EventRecord {
  int64_t id = 0;
  int64_t created_at = 0;  // unix seconds
  std::string action;      // "push" or "delete"
  std::string repository;
  std::string tag;         // "" when the change names no tag
  std::string digest;
  std::string media_type;
  uint64_t size = 0;
  std::string payload;
  // With replication on, the write's version: recorded on the tag or manifest it writes
  // (a delete leaves a tombstone with it) and, for a write made here, in the journal the
  // peers read. `replicated`: the write was made in replica version.origin and arrived
  // from it; the store applies it only where it is newer than what it holds (else
  // kConflict, nothing changed) and does not journal it again.
  Version version;
  bool replicated = false;
};

struct PutManifestRequest {
  std::string repository;
  ManifestRecord manifest;
  std::vector<oci::Digest> blobs;      // config and layers (external-url layers excluded)
  std::vector<oci::Digest> manifests;  // index children
  std::optional<oci::Digest> subject;
  std::optional<std::string> tag;      // set or move this tag to the manifest
  std::string annotations_json;        // the manifest's "annotations" object, or ""
  std::string architecture;            // platform from the image config ("" if none)
  std::string os;
  std::optional<EventRecord> event;    // appended to the outbox in the same transaction
};

// What deleteRepository removed.
struct DeletedRepository {
  std::vector<oci::Digest> manifests;  // sorted
  std::vector<std::string> tags;       // sorted
};

// The outbox event for one manifest a repository delete removes (nullopt: none).
using DeleteEventFn = std::function<std::optional<EventRecord>(
    const oci::Digest& digest, const std::string& media_type, uint64_t size)>;

// Preconditions of a delete made by retention (purge and retention policies), checked in
// the delete's transaction. When one does not hold, nothing changes and the delete fails
// with kConflict: the item changed since the purge planned it. The default checks nothing.
struct DeleteGuard {
  std::optional<oci::Digest> digest;  // deleteTag: the tag still names this manifest
  std::optional<int64_t> updated_at;  // the tag's or manifest's updated_at is still this
  // deleteManifest: no tag names the manifest, no manifest of the repository lists it as a
  // child (index), and the manifest its subject names (if any) is not in the repository.
  bool unreferenced = false;
  // Tag and manifest locks (deleteEnabled) are not checked; repository locks still are.
  bool ignore_item_locks = false;
};

struct ReferrerRecord {
  oci::Digest digest;
  std::string media_type;
  std::string artifact_type;
  uint64_t size = 0;
  std::string annotations_json;  // the manifest's "annotations" object serialized, or ""
};

class AuditStore;
class FleetStore;
class GcStore;
class IdentityStore;
class PropertiesStore;
class QuotaStore;
class RecycleStore;
class ReplicationStore;
class RetentionStore;
class UsageStore;
class WebhookStore;
struct RecycleBinOptions;

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  // --- the rules' other stores, on the same database ---
  // The rules every store enforces inside its own transactions (locks refuse writes and
  // deletes, quotas are exact at commit, deletes go to the recycle bin) are one contract
  // suite (tests/unit/meta/rules_contract_test.cpp) that each implementation instantiates.
  // Each call returns a new handle; handles may outlive this store.
  virtual std::unique_ptr<PropertiesStore> propertiesStore() const = 0;  // attributes (locks)
  virtual std::unique_ptr<QuotaStore> quotaStore() const = 0;            // storage quotas
  virtual std::unique_ptr<RecycleStore> recycleStore() const = 0;        // the recycle bin
  // The other stores of the same database (one driver provides them all).
  virtual std::unique_ptr<IdentityStore> identityStore() const = 0;    // users, tokens, scope maps
  virtual std::unique_ptr<WebhookStore> webhookStore() const = 0;      // webhooks, outbox cursors
  virtual std::unique_ptr<UsageStore> usageStore() const = 0;          // pulls, pushes, bytes
  virtual std::unique_ptr<AuditStore> auditStore() const = 0;          // the audit log
  virtual std::unique_ptr<GcStore> gcStore() const = 0;                // unreferenced blobs
  virtual std::unique_ptr<RetentionStore> retentionStore() const = 0;  // policies, purge runs
  virtual std::unique_ptr<FleetStore> fleetStore() const = 0;          // shared values, leases
  virtual std::unique_ptr<ReplicationStore> replicationStore() const = 0;  // journal, peer cursors
  // The change feed of node `node` of a fleet (change_feed.h), not started; nullptr when
  // the store serves one process only (SQLite), whose caches see every write.
  virtual std::unique_ptr<ChangeFeed> changeFeed(std::string node, ChangeFeedOptions options = {}) const {
    (void)node;
    (void)options;
    return nullptr;
  }
  // While enabled, deleteManifest, deleteTag and deleteRepository move what they remove
  // into the recycle bin in their transaction (off until called). Set before serving.
  virtual void setRecycleBin(const RecycleBinOptions& options) = 0;

  // --- blobs linked to repositories ---
  // Records that `repository` contains blob `digest` of `size` bytes (idempotent).
  virtual Status linkBlob(std::string_view repository, const oci::Digest& digest,
                          uint64_t size) = 0;
  // Size of the blob if `repository` contains it, else kBlobUnknown.
  virtual Result<uint64_t> repositoryBlob(std::string_view repository,
                                          const oci::Digest& digest) = 0;
  // Size of the blob if any repository whose reads are enabled contains it, else
  // kBlobUnknown (a read-locked repository is no source for a mount without `from`).
  virtual Result<uint64_t> anyBlob(const oci::Digest& digest) = 0;
  // Removes the link; kBlobUnknown if it was not linked.
  virtual Status unlinkBlob(std::string_view repository, const oci::Digest& digest) = 0;

  // --- upload sessions ---
  virtual Status createUpload(const UploadRecord& upload) = 0;
  virtual Result<UploadRecord> getUpload(std::string_view id) = 0;  // kBlobUploadUnknown
  // Records a new acknowledged offset; kBlobUploadUnknown if gone.
  virtual Status updateUpload(std::string_view id, uint64_t offset, int64_t now) = 0;
  virtual Status deleteUpload(std::string_view id) = 0;  // ok if absent
  // Open upload sessions of the repository.
  virtual Result<uint64_t> countUploads(std::string_view repository) = 0;
  // Finishes an upload in one transaction: links the blob into the upload's repository
  // and deletes the session. kBlobUploadUnknown if the session is gone.
  virtual Status completeUpload(std::string_view id, const oci::Digest& digest,
                                uint64_t size) = 0;
  // The quota covering `repository` with the least room left, nullopt when none covers
  // it: how many bytes an upload may stream before completeUpload would refuse it. With
  // the blob's `digest` (known up front), quotas whose repositories hold it already are
  // left out, as completeUpload needs nothing from them.
  virtual Result<std::optional<QuotaRoom>> quotaRoom(std::string_view repository,
                                                     const std::optional<oci::Digest>& digest) = 0;

  // --- manifests and tags ---
  // In one transaction: checks every blob in req.blobs is linked in the repository and
  // every digest in req.manifests is a manifest of the repository (else
  // kManifestBlobUnknown with detail {"digest":"..."} naming the first missing one),
  // stores the manifest (idempotent on digest), records its references and subject, and
  // moves req.tag to it if set, and appends req.event (if set) to the outbox.
  virtual Status putManifest(const PutManifestRequest& req) = 0;
  // kManifestUnknown if the repository has no such manifest.
  virtual Result<ManifestRecord> getManifest(std::string_view repository,
                                             const oci::Digest& digest) = 0;
  // kManifestUnknown if the tag does not exist.
  virtual Result<oci::Digest> resolveTag(std::string_view repository, std::string_view tag) = 0;
  // Removes the manifest and every tag pointing to it from the repository;
  // kManifestUnknown if absent. Appends `event` (if set) to the outbox in the same
  // transaction. `guard`: see DeleteGuard (kConflict when it does not hold).
  virtual Status deleteManifest(std::string_view repository, const oci::Digest& digest,
                                const std::optional<EventRecord>& event = std::nullopt,
                                const DeleteGuard& guard = {}) = 0;
  // Removes only the tag; kManifestUnknown if absent. Appends `event` as above.
  virtual Status deleteTag(std::string_view repository, std::string_view tag,
                           const std::optional<EventRecord>& event = std::nullopt,
                           const DeleteGuard& guard = {}) = 0;
  // Locks (changeable attributes): pushes, deletes and reads above check them in their
  // transaction and fail with kDenied naming the lock ("tag team/app:v1 is locked:
  // writeEnabled is false"); listings leave out what has listEnabled false.
  // Why a pull of `digest` (by `tag` when not empty) is refused: the message naming the
  // lock, or "" when the repository, the tag and the manifest allow reads.
  virtual Result<std::string> readDenied(std::string_view repository, std::string_view tag,
                                         const oci::Digest& digest) = 0;
  // Removes the repository: every manifest, tag and blob link, in one transaction, with
  // the outbox event `event` makes for each manifest. kNameUnknown if absent.
  virtual Result<DeletedRepository> deleteRepository(std::string_view repository,
                                                     const DeleteEventFn& event) = 0;
  // Tags of the repository sorted ascending (byte order), those > last, at most n.
  // kNameUnknown if the repository does not exist.
  virtual Result<std::vector<std::string>> listTags(std::string_view repository,
                                                    std::string_view last, size_t n) = 0;
  // Repository names sorted ascending, those > last, at most n.
  virtual Result<std::vector<std::string>> listRepositories(std::string_view last,
                                                            size_t n) = 0;
  // Whether the repository exists (has a manifest or a blob link).
  virtual Result<bool> repositoryExists(std::string_view repository) = 0;
  // Manifests of the repository whose subject is `subject`, optionally only those with
  // artifact type `artifact_type` (empty = all). Sorted by digest.
  virtual Result<std::vector<ReferrerRecord>> referrers(std::string_view repository,
                                                        const oci::Digest& subject,
                                                        std::string_view artifact_type) = 0;
};

}  // namespace berth::meta
