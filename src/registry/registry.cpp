#include "registry/registry.h"

#include <boost/json.hpp>
#include <chrono>

#include "common/text.h"

namespace berth::registry {

namespace {

constexpr uint64_t kMaxConfigBytes = 1 << 20;  // larger configs are not read for the platform

// The architecture and OS an image config declares ("" when it is no image config, is
// missing or unreadable): what ACR's metadata API shows for a manifest.
std::pair<std::string, std::string> imagePlatform(storage::BlobStore& blobs, const oci::Descriptor& config) {
  if (config.media_type != "application/vnd.oci.image.config.v1+json" &&
      config.media_type != "application/vnd.docker.container.image.v1+json") {
    return {};
  }
  if (static_cast<uint64_t>(config.size) > kMaxConfigBytes) return {};
  auto reader = blobs.open(config.digest);
  if (!reader || (*reader)->size() > kMaxConfigBytes) return {};
  std::string bytes((*reader)->size(), '\0');
  for (size_t done = 0; done < bytes.size();) {
    auto n = (*reader)->readAt(done, bytes.data() + done, bytes.size() - done);
    if (!n || *n == 0) return {};
    done += *n;
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(bytes, ec);
  if (ec || !doc.is_object()) return {};
  auto field = [&](std::string_view key) -> std::string {
    const auto* v = doc.as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  return {field("architecture"), field("os")};
}

}  // namespace

Status UploadStream::write(std::string_view data) {
  if (failed_) return makeError(Code::kBlobUploadInvalid, "upload stream already failed");
  const uint64_t total = offset_ + data.size();
  auto over = [&](Error e) -> Status {
    failed_ = true;
    failure_ = e.code;
    over_limit_ = e;
    return e;
  };
  if (total > max_bytes_) {
    return over(makeError(Code::kPayloadTooLarge, "the upload is larger than the limit of " +
                                                      std::to_string(max_bytes_) +
                                                      " bytes (server.max_upload_bytes); it was cancelled"));
  }
  if (quota_ && total > quota_->room()) {
    boost::json::object detail{{"quota", quota_->pattern},
                               {"limitBytes", quota_->limit_bytes},
                               {"usedBytes", quota_->used_bytes},
                               {"neededBytes", total}};
    // The commit-time message (sqlite_quota_store.cpp checkQuota), with what arrived so far.
    return over(makeError(Code::kDenied,
                          "storage quota for " + quota_->pattern + " is " + std::to_string(quota_->limit_bytes) +
                              " bytes; " + std::to_string(quota_->used_bytes) + " are used and this blob needs " +
                              std::to_string(total),
                          boost::json::serialize(detail)));
  }
  if (auto s = writer_->write(data); !s) {
    failed_ = true;
    failure_ = s.code();
    return s;
  }
  if (hasher_) hasher_->update(data);
  offset_ += data.size();
  return {};
}

Registry::Registry(std::shared_ptr<storage::BlobStore> blobs, std::shared_ptr<meta::MetaStore> meta,
                   RegistryOptions options)
    : blobs_(std::move(blobs)),
      meta_(std::move(meta)),
      options_(options),
      cache_(options.manifest_cache_bytes),
      links_(options.blob_link_cache_bytes) {}

Registry::~Registry() = default;

// ---------------------------------------------------------------- blobs

std::optional<uint64_t> Registry::cachedBlobSize(const std::string& repository, const oci::Digest& digest) const {
  if (!cachesTrusted()) return std::nullopt;
  if (auto hit = links_.get(repository, digest.str())) return hit->size;
  return std::nullopt;
}

Result<uint64_t> Registry::statBlob(const std::string& repository, const oci::Digest& digest) {
  if (auto size = cachedBlobSize(repository, digest)) return *size;
  const uint64_t generation = links_.generation(repository);
  auto size = meta_->repositoryBlob(repository, digest);
  if (size) links_.put(repository, digest.str(), generation, std::make_shared<CachedBlobLink>(CachedBlobLink{*size}));
  return size;
}

std::optional<std::string> Registry::blobRedirect(const oci::Digest& digest) const {
  if (!options_.blob_redirect_ttl) return std::nullopt;
  return blobs_->presignedGet(digest, *options_.blob_redirect_ttl);
}

Result<std::unique_ptr<storage::BlobReader>> Registry::openBlob(const std::string& repository,
                                                                const oci::Digest& digest) {
  if (auto linked = statBlob(repository, digest); !linked) return linked.takeError();
  return blobs_->open(digest);
}

Status Registry::deleteBlob(const std::string& repository, const oci::Digest& digest) {
  // Only the link goes; the bytes stay until garbage collection finds them unreferenced.
  auto s = meta_->unlinkBlob(repository, digest);
  links_.invalidate(repository);
  if (s) awaitPropagation();
  return s;
}

Result<uint64_t> Registry::mountBlob(const std::string& repository, const oci::Digest& digest,
                                     const std::optional<std::string>& from) {
  // Check, stat and link under the digest's lock: garbage collection can not delete the
  // file in between (it unlinks first, under the same lock, so the check then fails).
  auto locked = lockDigest(digest);
  auto size = from ? meta_->repositoryBlob(*from, digest) : meta_->anyBlob(digest);
  if (!size) return size;
  if (auto stat = blobs_->stat(digest); !stat) return stat.takeError();
  if (auto s = noteWrite(meta_->linkBlob(repository, digest, *size)); !s) return s.takeError();
  return size;
}

// ---------------------------------------------------------------- uploads

UploadSlot::~UploadSlot() {
  if (registry_) registry_->releaseUploadSlot(client_);
}

Result<UploadSlot> Registry::acquireUploadSlot(const std::string& client) {
  std::lock_guard lock(slots_mu_);
  auto& n = upload_slots_[client];
  if (n >= options_.max_uploads_per_client) {
    return makeError(Code::kTooManyRequests, "too many concurrent uploads from " + client + " (limit " +
                                                 std::to_string(options_.max_uploads_per_client) + ")");
  }
  ++n;
  active_uploads_.fetch_add(1, std::memory_order_relaxed);
  return UploadSlot(this, client);
}

void Registry::releaseUploadSlot(const std::string& client) {
  std::lock_guard lock(slots_mu_);
  auto it = upload_slots_.find(client);
  if (it == upload_slots_.end()) return;
  active_uploads_.fetch_sub(1, std::memory_order_relaxed);
  if (--it->second == 0) upload_slots_.erase(it);
}

Result<meta::UploadRecord> Registry::startUpload(const std::string& repository) {
  auto open = meta_->countUploads(repository);
  if (!open) return open.takeError();
  if (*open >= options_.max_uploads_per_repository) {
    return makeError(Code::kTooManyRequests, "repository " + repository + " has " + std::to_string(*open) +
                                                 " open upload sessions (limit " +
                                                 std::to_string(options_.max_uploads_per_repository) +
                                                 "); finish or cancel some");
  }
  meta::UploadRecord rec;
  rec.id = newUuid();
  rec.repository = repository;
  rec.created_at = rec.updated_at = unixNow();
  if (auto s = noteWrite(meta_->createUpload(rec)); !s) return s.takeError();
  return rec;
}

Result<meta::UploadRecord> Registry::getUpload(const std::string& repository, const std::string& id) {
  auto rec = meta_->getUpload(id);
  if (!rec) return rec;
  if (rec->repository != repository) {
    return makeError(Code::kBlobUploadUnknown, "upload " + id + " is not in repository " + repository);
  }
  return rec;
}

Status Registry::cancelUpload(const std::string& repository, const std::string& id) {
  if (auto rec = getUpload(repository, id); !rec) return rec.takeError();
  // The bytes go first: a crash in between leaves a session that no longer resumes
  // (BLOB_UPLOAD_UNKNOWN), never a file that nothing refers to.
  if (auto s = blobs_->removeUpload(id); !s) return s;
  {
    std::lock_guard lock(live_mu_);
    if (auto it = live_.find(id); it != live_.end() && !it->second.busy) live_.erase(it);
  }
  return meta_->deleteUpload(id);
}

Result<std::unique_ptr<UploadStream>> Registry::beginAppend(const std::string& repository,
                                                            const std::string& id,
                                                            oci::DigestAlgorithm expected_alg,
                                                            const std::optional<oci::Digest>& final_digest) {
  auto stream = std::make_unique<UploadStream>();
  stream->id_ = id;
  stream->repository_ = repository;
  {
    std::lock_guard lock(live_mu_);
    auto& live = live_[id];
    if (live.busy) {
      return makeError(Code::kBlobUploadInvalid, "another request is writing to upload " + id);
    }
    live.busy = true;
  }
  // The offset is read only once this request owns the session: read before, it could
  // predate the append of a request that finished in between, and this one would then
  // rewrite acknowledged bytes.
  auto rec = getUpload(repository, id);
  if (!rec) {
    releaseLive(id, *stream, false);
    return rec.takeError();
  }
  stream->start_offset_ = stream->offset_ = rec->offset;
  stream->max_bytes_ = options_.max_upload_bytes;
  auto quota = meta_->quotaRoom(repository, final_digest);  // once per request, not per chunk
  if (!quota) {
    releaseLive(id, *stream, false);
    return quota.takeError();
  }
  stream->quota_ = std::move(*quota);
  {
    std::lock_guard lock(live_mu_);
    auto& live = live_[id];
    if (live.hasher && live.hashed_offset == rec->offset && live.hasher->algorithm() == expected_alg) {
      stream->hasher_ = std::move(live.hasher);
    } else if (rec->offset == 0) {
      stream->hasher_.emplace(expected_alg);
    }
    live.hasher.reset();
  }
  auto writer = blobs_->openUpload(id, rec->offset);
  if (!writer) {
    releaseLive(id, *stream, false);
    return writer.takeError();
  }
  stream->writer_ = std::move(*writer);
  return stream;
}

void Registry::releaseLive(const std::string& id, UploadStream& stream, bool keep_hasher) {
  std::lock_guard lock(live_mu_);
  auto it = live_.find(id);
  if (it == live_.end()) return;
  it->second.busy = false;
  if (keep_hasher && stream.hasher_) {
    it->second.hasher = std::move(stream.hasher_);
    it->second.hashed_offset = stream.offset_;
  } else {
    live_.erase(it);
  }
}

Result<uint64_t> Registry::endAppend(std::unique_ptr<UploadStream> stream) {
  if (stream->over_limit_) {
    Error e = *stream->over_limit_;
    abortAppend(std::move(stream));
    return e;
  }
  Status s;
  if (stream->failed_) s = makeError(Code::kBlobUploadInvalid, "upload data could not be stored");
  if (s) s = stream->writer_->sync();
  if (s) s = meta_->updateUpload(stream->id_, stream->offset_, unixNow());
  if (stream->failed_ && stream->failure_ == Code::kStorageFull) {
    s = makeError(Code::kStorageFull, "storage is full; the chunk was not stored");
  }
  (void)noteWrite(s);
  stream->writer_.reset();
  if (!s) (void)blobs_->openUpload(stream->id_, stream->start_offset_);  // drop the unacknowledged bytes
  releaseLive(stream->id_, *stream, s.ok());
  if (!s) return s.takeError();
  return stream->offset_;
}

void Registry::abortAppend(std::unique_ptr<UploadStream> stream) {
  if (stream->failed_) (void)noteWrite(Status(makeError(stream->failure_, "")));
  stream->writer_.reset();
  if (stream->over_limit_) {
    // Past a limit the session is over at once: refreshed by every chunk, it would never
    // be old enough for the stale-upload sweep. Bytes first, as in cancelUpload.
    (void)blobs_->removeUpload(stream->id_);
    (void)meta_->deleteUpload(stream->id_);
  } else {
    // Free the unacknowledged bytes now (they would be cut at the next append anyway).
    (void)blobs_->openUpload(stream->id_, stream->start_offset_);
  }
  releaseLive(stream->id_, *stream, false);
}

Result<uint64_t> Registry::finishUpload(std::unique_ptr<UploadStream> stream, const oci::Digest& digest) {
  if (stream->over_limit_) {
    Error e = *stream->over_limit_;
    abortAppend(std::move(stream));
    return e;
  }
  const std::string id = stream->id_;
  const uint64_t size = stream->offset_;
  auto fail = [&](Error e) -> Result<uint64_t> {
    releaseLive(id, *stream, false);
    return e;
  };
  if (stream->failed_) {
    if (stream->failure_ == Code::kStorageFull) {
      (void)noteWrite(Status(makeError(Code::kStorageFull, "")));
      return fail(makeError(Code::kStorageFull, "storage is full; the upload was not stored"));
    }
    return fail(makeError(Code::kBlobUploadInvalid, "upload data could not be stored"));
  }
  stream->writer_.reset();
  oci::Digest computed;
  if (stream->hasher_ && stream->hasher_->algorithm() == digest.algorithm()) {
    computed = stream->hasher_->finish();
  } else {
    auto h = blobs_->hashUpload(id, size, digest.algorithm());
    if (!h) return fail(h.takeError());
    computed = *h;
  }
  if (computed != digest) {
    (void)meta_->deleteUpload(id);
    (void)blobs_->removeUpload(id);
    return fail(makeError(Code::kDigestInvalid,
                          "provided digest " + digest.str() + " does not match uploaded content " + computed.str(),
                          boost::json::serialize(boost::json::object{{"expected", digest.str()},
                                                                     {"computed", computed.str()}})));
  }
  // The blob is made durable before the metadata row that references it commits. Both
  // under the digest's lock: garbage collection removing an unlinked file of this digest
  // (left by a crash) runs entirely before (the upload then puts the file back) or after
  // (it then sees the link and keeps the file).
  {
    auto locked = lockDigest(digest);
    if (auto s = noteWrite(blobs_->commitUpload(id, digest)); !s) return fail(s.takeError());
    if (auto s = noteWrite(meta_->completeUpload(id, digest, size)); !s) {
      // Over a storage quota: the session is over (nothing was linked, nothing counts); the
      // committed bytes are garbage collection's unless another repository links them.
      if (s.code() == Code::kDenied) {
        (void)meta_->deleteUpload(id);
        (void)blobs_->removeUpload(id);
      }
      return fail(s.takeError());
    }
  }
  releaseLive(id, *stream, false);
  return size;
}

// ---------------------------------------------------------------- manifests

Result<PutManifestResult> Registry::putManifest(const std::string& repository, const oci::Reference& ref,
                                                std::string_view content_type, std::string bytes,
                                                const events::RequestInfo& request) {
  if (bytes.size() > options_.max_manifest_bytes) {
    return makeError(Code::kPayloadTooLarge, "manifest is larger than the limit of " +
                                                 std::to_string(options_.max_manifest_bytes) + " bytes");
  }
  auto parsed = oci::parseManifest(bytes, content_type);
  if (!parsed) return parsed.takeError();
  oci::Digest digest = oci::digestOf(bytes, ref.isDigest() ? ref.digest().algorithm() : oci::DigestAlgorithm::kSha256);
  if (ref.isDigest() && digest != ref.digest()) {
    return makeError(Code::kDigestInvalid, "manifest content has digest " + digest.str() + ", not " + ref.digest().str());
  }
  meta::PutManifestRequest req;
  req.repository = repository;
  req.manifest.digest = digest;
  req.manifest.media_type = parsed->media_type;
  req.manifest.artifact_type = parsed->artifact_type;
  req.manifest.created_at = unixNow();
  if (parsed->config) req.blobs.push_back(parsed->config->digest);
  for (const auto& l : parsed->layers) {
    if (!l.has_urls) req.blobs.push_back(l.digest);  // non-distributable layers live elsewhere
  }
  for (const auto& m : parsed->manifests) req.manifests.push_back(m.digest);
  if (parsed->subject) req.subject = parsed->subject->digest;
  if (!ref.isDigest()) req.tag = ref.tag();
  req.annotations_json = parsed->annotations_json;
  if (parsed->config) {
    auto platform = imagePlatform(*blobs_, *parsed->config);
    req.architecture = std::move(platform.first);
    req.os = std::move(platform.second);
  }
  req.event = events::makeEvent(
      "push", {repository, req.tag.value_or(""), digest.str(), parsed->media_type, bytes.size()},
      regional(request), newUuid(), req.manifest.created_at);
  stamp(*req.event, request);
  req.manifest.bytes = std::move(bytes);
  auto s = noteWrite(meta_->putManifest(req));
  cache_.invalidate(repository);
  if (!s) return s.takeError();
  if (on_event_) on_event_();
  awaitPropagation();
  return PutManifestResult{digest, req.subject};
}

std::shared_ptr<const CachedManifest> Registry::cachedManifest(const std::string& repository,
                                                               const oci::Reference& ref) {
  if (!cachesTrusted()) return nullptr;
  return cache_.get(repository, ref.str());
}

Result<std::shared_ptr<const CachedManifest>> Registry::getManifest(const std::string& repository,
                                                                    const oci::Reference& ref) {
  if (auto hit = cachedManifest(repository, ref)) return hit;
  const uint64_t generation = cache_.generation(repository);
  oci::Digest digest;
  if (ref.isDigest()) {
    digest = ref.digest();
  } else {
    auto d = meta_->resolveTag(repository, ref.tag());
    if (!d) return d.takeError();
    digest = *d;
  }
  auto rec = meta_->getManifest(repository, digest);
  if (!rec) return rec.takeError();
  // The read locks are cached with the manifest (an attribute change invalidates both),
  // so a cached pull checks them without the database.
  auto denied = meta_->readDenied(repository, ref.isDigest() ? std::string_view() : ref.tag(), digest);
  if (!denied) return denied.takeError();
  auto value = std::make_shared<CachedManifest>(
      CachedManifest{rec->digest, std::move(rec->media_type), std::move(rec->bytes), std::move(*denied)});
  cache_.put(repository, ref.str(), generation, value);
  return std::shared_ptr<const CachedManifest>(std::move(value));
}

Status Registry::deleteManifest(const std::string& repository, const oci::Reference& ref,
                                const events::RequestInfo& request, const meta::DeleteGuard& guard) {
  // The event names what was deleted; its digest and media type are read just before
  // the delete (best effort: a concurrent push may change them in between).
  events::EventTarget target{repository, ref.isDigest() ? "" : ref.tag(), "", "", 0};
  std::optional<oci::Digest> digest;
  if (ref.isDigest()) {
    digest = ref.digest();
  } else if (auto d = meta_->resolveTag(repository, ref.tag())) {
    digest = *d;
  }
  if (digest) {
    target.digest = digest->str();
    if (auto m = meta_->getManifest(repository, *digest)) target.media_type = m->media_type;
  }
  auto event = events::makeEvent("delete", target, regional(request), newUuid(), unixNow());
  stamp(event, request);
  auto s = ref.isDigest() ? meta_->deleteManifest(repository, ref.digest(), event, guard)
                          : meta_->deleteTag(repository, ref.tag(), event, guard);
  cache_.invalidate(repository);
  if (s && on_event_) on_event_();
  if (s) awaitPropagation();
  return s;
}

Result<meta::DeletedRepository> Registry::deleteRepository(const std::string& repository,
                                                           const events::RequestInfo& request) {
  const int64_t now = unixNow();
  auto deleted = meta_->deleteRepository(
      repository, [&](const oci::Digest& digest, const std::string& media_type, uint64_t size) {
        auto event = events::makeEvent("delete", {repository, "", digest.str(), media_type, size},
                                       regional(request), newUuid(), now);
        stamp(event, request);
        return std::optional<meta::EventRecord>(std::move(event));
      });
  cache_.invalidate(repository);
  links_.invalidate(repository);
  if (deleted && !deleted->manifests.empty() && on_event_) on_event_();
  if (deleted) awaitPropagation();
  return deleted;
}

void Registry::stamp(meta::EventRecord& event, const events::RequestInfo& request) const {
  if (request.replicated) {
    event.version = *request.replicated;
    event.replicated = true;
  } else if (clock_) {
    event.version = clock_();
  }
}

void Registry::invalidateRepository(const std::string& repository) {
  forget(repository);
  awaitPropagation();
}

void Registry::forget(const std::string& repository) {
  cache_.invalidate(repository);
  links_.invalidate(repository);
}

std::unique_lock<std::mutex> Registry::lockDigest(const oci::Digest& digest) {
  return std::unique_lock(digest_locks_[std::hash<std::string>{}(digest.str()) % kDigestStripes]);
}

Result<bool> Registry::removeStaleUpload(const std::string& id, int64_t updated_before) {
  bool existed = false;
  {
    std::lock_guard lock(live_mu_);
    auto [it, inserted] = live_.try_emplace(id);
    if (it->second.busy) return false;
    existed = !inserted;
    it->second.busy = true;  // beginAppend refuses the session until this is done
  }
  auto release = [&](bool removed) {
    std::lock_guard lock(live_mu_);
    auto it = live_.find(id);
    if (it == live_.end()) return;
    if (removed || !existed) live_.erase(it);
    else it->second.busy = false;
  };
  auto rec = meta_->getUpload(id);
  if (!rec) {
    release(false);
    if (rec.code() == Code::kBlobUploadUnknown) return false;
    return rec.takeError();
  }
  if (rec->updated_at > updated_before) {
    release(false);
    return false;
  }
  // Bytes first, as cancelUpload: a crash in between leaves a row that no longer resumes.
  Status s = blobs_->removeUpload(id);
  if (s) s = meta_->deleteUpload(id);
  release(s.ok());
  if (!s) return s.takeError();
  return true;
}

void Registry::changed(const std::string& repository) {
  forget(repository);
  if (on_event_) on_event_();
  awaitPropagation();
}

Health Registry::health() {
  Health h;
  h.available_bytes = blobs_->availableBytes();
  if (storage_full_.load(std::memory_order_relaxed)) {
    h.ready = false;
    h.storage = "full: the last write ran out of space";
  } else if (h.available_bytes && *h.available_bytes < options_.min_free_bytes) {
    h.ready = false;
    h.storage = "full: " + std::to_string(*h.available_bytes) + " bytes free";
  }
  // A store reached over the network (S3, Azure) answers "unknown" for a blob nobody has.
  static const oci::Digest kProbe =
      *oci::Digest::parse("sha256:0000000000000000000000000000000000000000000000000000000000000000");
  if (auto probe = blobs_->stat(kProbe); !probe && probe.code() != Code::kBlobUnknown) {
    h.ready = false;
    h.storage = "unavailable: " + probe.error().message;
  }
  if (auto probe = meta_->repositoryExists("readiness/probe"); !probe) {
    h.ready = false;
    h.metadata = "unavailable: " + probe.error().message;
  }
  return h;
}

// ---------------------------------------------------------------- listings

Result<std::vector<std::string>> Registry::listTags(const std::string& repository, std::string_view last, size_t n) {
  return meta_->listTags(repository, last, n);
}

Result<std::vector<std::string>> Registry::listRepositories(std::string_view last, size_t n) {
  return meta_->listRepositories(last, n);
}

Result<std::string> Registry::referrers(const std::string& repository, const oci::Digest& subject,
                                        std::string_view artifact_type) {
  auto found = meta_->referrers(repository, subject, artifact_type);
  if (!found) return found.takeError();
  boost::json::array manifests;
  for (const auto& r : *found) {
    boost::json::object d;
    d["mediaType"] = r.media_type;
    d["digest"] = r.digest.str();
    d["size"] = r.size;
    if (!r.artifact_type.empty()) d["artifactType"] = r.artifact_type;
    if (!r.annotations_json.empty()) {
      boost::system::error_code ec;
      auto v = boost::json::parse(r.annotations_json, ec);
      if (!ec && v.is_object() && !v.as_object().empty()) d["annotations"] = std::move(v);
    }
    manifests.push_back(std::move(d));
  }
  boost::json::object index;
  index["schemaVersion"] = 2;
  index["mediaType"] = oci::kOciIndex;
  index["manifests"] = std::move(manifests);
  return boost::json::serialize(index);
}

}  // namespace berth::registry
