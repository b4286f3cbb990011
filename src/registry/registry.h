#pragma once
// Registry: the service behind the distribution API. Handlers parse HTTP, call this and map
// the Result. Methods block (disk, database): the server runs them off the I/O threads,
// except the cache lookups and the UploadStream appends, which are cheap.
#include <array>
#include <atomic>
#include <functional>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "events/event_payload.h"
#include "meta/change_feed.h"
#include "meta/meta_store.h"
#include "oci/digest.h"
#include "oci/manifest.h"
#include "oci/reference.h"
#include "registry/manifest_cache.h"
#include "storage/blob_store.h"

namespace berth::registry {

struct RegistryOptions {
  size_t manifest_cache_bytes = 64 * 1024 * 1024;
  size_t blob_link_cache_bytes = 16 * 1024 * 1024;
  size_t max_manifest_bytes = oci::kMaxManifestSize;
  size_t max_uploads_per_repository = 1000;  // open sessions
  size_t max_uploads_per_client = 64;        // concurrent upload requests per address
  uint64_t max_upload_bytes = uint64_t{10} << 30;  // one upload session's bytes
  uint64_t min_free_bytes = 1024 * 1024;     // below this the registry is not ready
  // Blob GETs answer 307 to a URL of the storage valid this long (storage.redirect), when
  // the blob store can hand one out; nullopt: bytes stream through the node.
  std::optional<std::chrono::seconds> blob_redirect_ttl;
};

// Readiness as /readyz reports it.
struct Health {
  bool ready = true;
  std::string storage = "ok";   // "ok", or what is wrong
  std::string metadata = "ok";
  std::optional<uint64_t> available_bytes;
};

class Registry;

// A slot for one upload request of a client; released on destruction.
class UploadSlot {
 public:
  UploadSlot(Registry* registry, std::string client) : registry_(registry), client_(std::move(client)) {}
  UploadSlot(UploadSlot&& o) noexcept : registry_(std::exchange(o.registry_, nullptr)), client_(std::move(o.client_)) {}
  UploadSlot(const UploadSlot&) = delete;
  UploadSlot& operator=(const UploadSlot&) = delete;
  UploadSlot& operator=(UploadSlot&&) = delete;
  ~UploadSlot();

 private:
  Registry* registry_;
  std::string client_;
};

// An upload being appended to by one request. Created by Registry::beginAppend, finished by
// Registry::endAppend (durable progress) or Registry::finishUpload.
class UploadStream {
 public:
  // Appends `data`. Refused, before anything is written, when the session would pass
  // max_upload_bytes (kPayloadTooLarge) or the room the repository's quotas had when the
  // request began (kDenied, the quota's message); Registry::abortAppend then removes the
  // session.
  Status write(std::string_view data);
  uint64_t offset() const { return offset_; }
  const std::string& id() const { return id_; }
  const std::string& repository() const { return repository_; }

 private:
  friend class Registry;
  std::string id_;
  std::string repository_;
  uint64_t start_offset_ = 0;
  uint64_t offset_ = 0;
  std::unique_ptr<storage::UploadWriter> writer_;
  std::optional<oci::Hasher> hasher_;  // valid only when it covers bytes [0, offset_)
  uint64_t max_bytes_ = UINT64_MAX;     // max_upload_bytes
  std::optional<meta::QuotaRoom> quota_;  // the tightest quota when the request began
  bool failed_ = false;
  std::optional<Error> over_limit_;  // why write() refused bytes past a limit
  Code failure_ = Code::kInternal;  // why write() failed
};

struct PutManifestResult {
  oci::Digest digest;
  std::optional<oci::Digest> subject;
};

class Registry {
 public:
  Registry(std::shared_ptr<storage::BlobStore> blobs, std::shared_ptr<meta::MetaStore> meta,
           RegistryOptions options);
  ~Registry();

  // --- blobs ---
  // Cache only (no database access): the blob's size if the repository is known to have it.
  std::optional<uint64_t> cachedBlobSize(const std::string& repository, const oci::Digest& digest) const;
  // Size of the blob if the repository has it (kBlobUnknown otherwise).
  Result<uint64_t> statBlob(const std::string& repository, const oci::Digest& digest);
  Result<std::unique_ptr<storage::BlobReader>> openBlob(const std::string& repository,
                                                        const oci::Digest& digest);
  Status deleteBlob(const std::string& repository, const oci::Digest& digest);
  // Where a client may fetch the blob from instead of this node (a presigned storage URL),
  // or nullopt (redirects off, or a store without URLs). The caller has checked the
  // repository has the blob.
  std::optional<std::string> blobRedirect(const oci::Digest& digest) const;
  // Links an existing blob into `repository`: from `from` if given (the caller must be
  // allowed to read it), else from any repository. kBlobUnknown if not possible.
  Result<uint64_t> mountBlob(const std::string& repository, const oci::Digest& digest,
                             const std::optional<std::string>& from);

  // --- uploads ---
  // kTooManyRequests when the client already has max_uploads_per_client upload requests
  // in flight.
  Result<UploadSlot> acquireUploadSlot(const std::string& client);
  // Upload slots held right now, over all clients (a gauge; no lock).
  size_t activeUploads() const { return active_uploads_.load(std::memory_order_relaxed); }
  // kTooManyRequests when the repository has max_uploads_per_repository open sessions.
  Result<meta::UploadRecord> startUpload(const std::string& repository);
  Result<meta::UploadRecord> getUpload(const std::string& repository, const std::string& id);
  Status cancelUpload(const std::string& repository, const std::string& id);
  // Opens the upload for appending at its acknowledged offset. `expected_alg` is the
  // algorithm the final digest will likely use (sha256 unless told). kBlobUploadInvalid if
  // another request is appending to it right now. Reads the repository's quota room once,
  // for the stream's limits (UploadStream::write); `final_digest`, when the request names
  // the blob's digest, leaves out quotas that hold it already (it needs nothing there).
  Result<std::unique_ptr<UploadStream>> beginAppend(const std::string& repository, const std::string& id,
                                                    oci::DigestAlgorithm expected_alg,
                                                    const std::optional<oci::Digest>& final_digest = std::nullopt);
  // Makes the appended bytes durable and records the new offset. Always releases the stream.
  Result<uint64_t> endAppend(std::unique_ptr<UploadStream> stream);
  // Abandons the bytes appended by this stream (a failed request): the offset stays. A
  // stream that went past a limit ends its session: the session and its bytes are removed.
  void abortAppend(std::unique_ptr<UploadStream> stream);
  // Verifies the digest of everything appended and commits the blob into the repository.
  // On a digest mismatch the upload is removed (kDigestInvalid).
  Result<uint64_t> finishUpload(std::unique_ptr<UploadStream> stream, const oci::Digest& digest);

  // --- manifests ---
  // Manifest pushes and deletes append an event to the outbox in their transaction;
  // `request` describes the request that made the change (empty when none).
  Result<PutManifestResult> putManifest(const std::string& repository, const oci::Reference& ref,
                                        std::string_view content_type, std::string bytes,
                                        const events::RequestInfo& request = {});
  // Cache only: nullptr on a miss (no database access).
  std::shared_ptr<const CachedManifest> cachedManifest(const std::string& repository,
                                                       const oci::Reference& ref);
  Result<std::shared_ptr<const CachedManifest>> getManifest(const std::string& repository,
                                                            const oci::Reference& ref);
  // By digest: the manifest and its tags; by tag: only the tag. Both record a "delete".
  // `guard`: a conditional delete (purge; kConflict when the item changed since planned).
  Status deleteManifest(const std::string& repository, const oci::Reference& ref,
                        const events::RequestInfo& request = {}, const meta::DeleteGuard& guard = {});
  // Removes the repository with all its manifests, tags and blob links; one "delete"
  // event per manifest. kNameUnknown if it does not exist.
  Result<meta::DeletedRepository> deleteRepository(const std::string& repository,
                                                   const events::RequestInfo& request = {});
  // Forgets what the caches hold for the repository (after its attributes changed), here
  // and, before returning, on every node of the fleet.
  void invalidateRepository(const std::string& repository);
  // Forgets what this node's caches hold for the repository, nothing else (the change
  // feed's handler: it must not wait for the fleet).
  void forget(const std::string& repository);
  // After a change to the repository committed outside the Registry (a recycle-bin
  // restore): drops its cached manifests and blob links and wakes the event listener.
  void changed(const std::string& repository);
  // With replication on: the version of a write made here (a clock reading and this
  // replica's region), recorded with each manifest push and delete. Set before serving.
  void setVersionClock(std::function<meta::Version()> clock, std::string region) {
    clock_ = std::move(clock);
    region_ = std::move(region);
  }
  // Called after an event committed (the webhook dispatcher's wake-up). Set before serving.
  void setEventListener(std::function<void()> listener) { on_event_ = std::move(listener); }

  // --- a fleet (meta/change_feed.h) ---
  // Set before serving, on a node of a fleet: writes then wait for the other nodes to see
  // them (awaitPropagation), and the caches answer only while the feed vouches for them
  // (trustCachesUntil); until it first does, every lookup goes to the database.
  void setChangeFeed(meta::ChangeFeed* feed) {
    feed_ = feed;
    fenced_.store(feed != nullptr, std::memory_order_release);
  }
  void trustCachesUntil(std::chrono::steady_clock::time_point until) {
    trusted_until_.store(until.time_since_epoch().count(), std::memory_order_release);
  }
  bool cachesTrusted() const {
    return !fenced_.load(std::memory_order_acquire) ||
           std::chrono::steady_clock::now().time_since_epoch().count() <
               trusted_until_.load(std::memory_order_acquire);
  }
  // Drops every cached manifest and blob link (the feed may have missed changes).
  void clearCaches() {
    cache_.clear();
    links_.clear();
  }
  // Blocks until the other nodes saw every change committed so far (no-op on one node).
  void awaitPropagation() {
    if (feed_ != nullptr) feed_->awaitPropagation();
  }

  // --- listings ---
  Result<std::vector<std::string>> listTags(const std::string& repository, std::string_view last, size_t n);
  Result<std::vector<std::string>> listRepositories(std::string_view last, size_t n);
  // The referrers response: an OCI image index (serialized JSON).
  Result<std::string> referrers(const std::string& repository, const oci::Digest& subject,
                                std::string_view artifact_type);

  // Readiness: free space, whether the last write ran out of space, and whether the
  // metadata store answers. Blocks briefly (one statvfs, one read).
  Health health();

  // --- garbage collection (garbage_collector.h, docs/gc.md) ---
  // The lock of `digest`'s stripe. finishUpload (file commit + link) and mountBlob (check +
  // link) hold it, and so does garbage collection from its re-checking unlink to the file
  // removal: a blob is never linked while its file is being deleted. Never taken on the
  // pull path.
  std::unique_lock<std::mutex> lockDigest(const oci::Digest& digest);
  // Removes upload session `id` (staging data, then row) if no request is using it and it
  // was last updated at or before `updated_before`; while it does, requests on the session
  // are refused. False when it was kept (busy, updated since, or gone already).
  Result<bool> removeStaleUpload(const std::string& id, int64_t updated_before);
  // Drops the cached "repository has blob" answers of `repository` (after links went).
  void forgetBlobLinks(const std::string& repository) { links_.invalidate(repository); }

  const ManifestCache& manifestCache() const { return cache_; }
  storage::BlobStore& blobStore() { return *blobs_; }
  meta::MetaStore& metaStore() { return *meta_; }

 private:
  struct LiveUpload {
    bool busy = false;
    uint64_t hashed_offset = 0;
    std::optional<oci::Hasher> hasher;
  };
  void releaseLive(const std::string& id, UploadStream& stream, bool keep_hasher);
  // Remembers whether storage ran out of space, for readiness; passes `r` through.
  template <class R>
  R noteWrite(R r) {
    if (!r.ok() && r.code() == Code::kStorageFull) storage_full_.store(true, std::memory_order_relaxed);
    else if (r.ok()) storage_full_.store(false, std::memory_order_relaxed);
    return r;
  }
  friend class UploadSlot;
  void releaseUploadSlot(const std::string& client);

  std::shared_ptr<storage::BlobStore> blobs_;
  std::shared_ptr<meta::MetaStore> meta_;
  RegistryOptions options_;
  ManifestCache cache_;
  BlobLinkCache links_;  // positive answers of repositoryBlob
  std::mutex live_mu_;  // guards live_ (upload sessions being appended; short sections)
  std::unordered_map<std::string, LiveUpload> live_;
  std::atomic<bool> storage_full_{false};
  std::mutex slots_mu_;  // guards upload_slots_
  std::unordered_map<std::string, size_t> upload_slots_;
  std::atomic<size_t> active_uploads_{0};  // sum of upload_slots_
  // Gives the event its version: the replicated one, else a reading of clock_ (if set).
  void stamp(meta::EventRecord& event, const events::RequestInfo& request) const;
  // The request as events record it: with this replica's region when replicating.
  events::RequestInfo regional(const events::RequestInfo& request) const {
    events::RequestInfo r = request;
    r.region = region_;
    return r;
  }

  std::function<void()> on_event_;
  std::function<meta::Version()> clock_;
  std::string region_;
  meta::ChangeFeed* feed_ = nullptr;
  std::atomic<bool> fenced_{false};  // a fleet's node: caches answer only while trusted
  std::atomic<std::chrono::steady_clock::rep> trusted_until_{0};
  static constexpr size_t kDigestStripes = 64;
  std::array<std::mutex, kDigestStripes> digest_locks_;
};

}  // namespace berth::registry
