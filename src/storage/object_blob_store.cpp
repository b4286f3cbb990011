#include "storage/object_blob_store.h"

#include "storage/remote_blob_reader.h"

namespace berth::storage {

Status ObjectBlobStore::writeOnce(const oci::Digest& digest, const std::function<Status()>& write) {
  std::lock_guard lock(digest_locks_.of(digest));
  auto existing = stat(digest);
  if (existing) return okStatus();
  if (existing.code() != Code::kBlobUnknown) return existing.takeError();
  return write();
}

Status ObjectBlobStore::put(const oci::Digest& digest, std::string_view bytes) {
  if (Status s = checkDigest(digest, bytes); !s) return s;
  // One request makes the object whole at once: no temp object needed.
  return writeOnce(digest, [&] { return putObject(blobKey(digest), bytes); });
}

Result<BlobInfo> ObjectBlobStore::stat(const oci::Digest& digest) {
  if (digest.empty()) return blobUnknown(digest);
  auto info = headObject(blobKey(digest));
  if (!info) {
    if (info.code() == Code::kNotFound) return blobUnknown(digest);
    return info.takeError();
  }
  return BlobInfo{info->size, info->modified_at};
}

Result<std::unique_ptr<BlobReader>> ObjectBlobStore::open(const oci::Digest& digest) {
  auto info = stat(digest);
  if (!info) return info.takeError();
  return std::unique_ptr<BlobReader>(new RemoteBlobReader(
      info->size, RemoteBlobReader::fromRangeGet([this, key = blobKey(digest)](uint64_t offset, uint64_t len,
                                                                                const Sink& sink) {
        return getRange(key, offset, len, sink);
      })));
}

Status ObjectBlobStore::remove(const oci::Digest& digest) {
  if (digest.empty()) return okStatus();
  return deleteObject(blobKey(digest));
}

Status ObjectBlobStore::list(const std::function<void(const oci::Digest&, uint64_t size)>& fn) {
  return listObjects("blobs/", [&](const ObjectInfo& o) {
    if (auto d = digestOfBlobKey(o.key)) fn(*d, o.size);
  });
}

std::optional<std::string> ObjectBlobStore::presignedGet(const oci::Digest& digest, std::chrono::seconds ttl) {
  if (digest.empty()) return std::nullopt;
  return presignedUrl(blobKey(digest), ttl);
}

}  // namespace berth::storage
