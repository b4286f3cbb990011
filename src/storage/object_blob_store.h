#pragma once
// What the object stores (S3, Azure Blob) share: a blob is one object at blobKey(digest),
// made whole by one request (a PUT, a server-side copy, a completed multipart upload) and
// read with ranged GETs through a read-ahead buffer. Subclasses provide the object
// primitives and the staging of uploads.
#include <chrono>
#include <functional>
#include <string>

#include "storage/blob_layout.h"
#include "storage/blob_store.h"

namespace berth::storage {

class ObjectBlobStore : public BlobStore {
 public:
  // put() writes nothing when the blob exists.
  Status put(const oci::Digest& digest, std::string_view bytes) final;
  Result<BlobInfo> stat(const oci::Digest& digest) final;
  Result<std::unique_ptr<BlobReader>> open(const oci::Digest& digest) final;
  Status remove(const oci::Digest& digest) final;
  Status list(const std::function<void(const oci::Digest&, uint64_t size)>& fn) final;
  std::optional<std::string> presignedGet(const oci::Digest& digest, std::chrono::seconds ttl) final;

 protected:
  struct ObjectInfo {
    std::string key;
    uint64_t size = 0;
    int64_t modified_at = 0;
  };
  using Sink = std::function<bool(std::string_view)>;

  // The object's size and time; kNotFound when there is none (or it is not complete yet).
  virtual Result<ObjectInfo> headObject(const std::string& key) const = 0;
  virtual Status putObject(const std::string& key, std::string_view body) const = 0;
  // Ok when absent.
  virtual Status deleteObject(const std::string& key) const = 0;
  // Hands bytes [offset, offset + len) of the object to the sink; kNotFound when it is gone.
  virtual Status getRange(const std::string& key, uint64_t offset, uint64_t len, const Sink& sink) const = 0;
  virtual Status listObjects(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const = 0;
  virtual std::string presignedUrl(const std::string& key, std::chrono::seconds ttl) const = 0;

  // Writes blob `digest` with `write` unless it exists, the writes of one digest serialized
  // within the process. Blobs are immutable: an existing one is never written again (on
  // servers whose overwrites are not atomic, like s3rver, a reader could see it half written).
  Status writeOnce(const oci::Digest& digest, const std::function<Status()>& write);

 private:
  DigestLocks digest_locks_;
};

}  // namespace berth::storage
