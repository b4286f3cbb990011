#pragma once
// BlobStore: content-addressed, immutable blobs plus the staging area of uploads.
// Implementations must be safe to call from any thread concurrently. A blob becomes
// visible (stat/open succeed) only after commitUpload/put fully succeeded and is durable
// (fsynced); a partial blob is never visible. Blobs are immutable once visible.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "oci/digest.h"

namespace berth::storage {

struct BlobInfo {
  uint64_t size = 0;
  int64_t modified_at = 0;  // unix seconds the blob was stored (0 when the store can not tell)
};

// A file of the staging area (uploads in progress, temp files), for sweeping abandoned ones.
struct StagingFile {
  std::string name;         // the upload id, or the temp file's name
  int64_t modified_at = 0;  // unix seconds of the last write
};

// A readable blob. fd() is valid for the reader's lifetime so the server can sendfile(2);
// without one (-1: an object store) the server streams readAt() in large sequential reads.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual uint64_t size() const = 0;
  // A file descriptor open for reading, or -1 when the store is not file based.
  virtual int fd() const = 0;
  // Reads up to `len` bytes at `offset` into buf; returns bytes read (0 at end).
  virtual Result<size_t> readAt(uint64_t offset, void* buf, size_t len) = 0;
};

// Appends to an upload in progress. Not thread safe: one writer per upload at a time
// (the caller serializes requests on one upload session). Written bytes reach the store
// (hashUpload, commitUpload and openUpload see them, in this process or another) once
// sync() returned or the writer was destroyed: an object store buffers up to one part in
// memory until then. Destroy the writer before committing the upload.
class UploadWriter {
 public:
  virtual ~UploadWriter() = default;
  // Appends bytes; kStorageFull when the disk is full (the upload keeps what was
  // written before the call; the caller truncates back with openUpload(offset)).
  virtual Status write(std::string_view data) = 0;
  // Bytes in the upload so far.
  virtual uint64_t size() const = 0;
  // Makes everything written so far durable (fsync; stored in the bucket): after it,
  // any process may openUpload at size().
  virtual Status sync() = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Opens upload `id` for appending, truncating it to `offset` bytes (bytes past the last
  // acknowledged offset are discarded). offset 0 creates it if missing. kBlobUploadUnknown
  // if offset > 0 and the upload does not exist or is shorter than offset.
  virtual Result<std::unique_ptr<UploadWriter>> openUpload(std::string_view id,
                                                           uint64_t offset) = 0;
  // Hashes the first `length` bytes of upload `id` (used after a restart, when the
  // in-memory hash state is gone, and for algorithms other than the streaming one).
  virtual Result<oci::Digest> hashUpload(std::string_view id, uint64_t length,
                                         oci::DigestAlgorithm alg) = 0;
  // Moves upload `id` into place as blob `digest`. The caller has verified the digest.
  // Durable on return (file and directory fsynced). If the blob already exists the
  // upload is simply removed.
  virtual Status commitUpload(std::string_view id, const oci::Digest& digest) = 0;
  // Removes an upload's staging data; ok if it does not exist.
  virtual Status removeUpload(std::string_view id) = 0;

  // Stores a small blob in one call; verifies that `bytes` hash to `digest`
  // (kDigestInvalid otherwise). Durable on return.
  virtual Status put(const oci::Digest& digest, std::string_view bytes) = 0;

  virtual Result<BlobInfo> stat(const oci::Digest& digest) = 0;           // kBlobUnknown
  virtual Result<std::unique_ptr<BlobReader>> open(const oci::Digest& digest) = 0;  // kBlobUnknown
  // Removes a blob; ok if absent.
  virtual Status remove(const oci::Digest& digest) = 0;
  // Calls fn for every stored blob (for GC and tests); order unspecified.
  virtual Status list(const std::function<void(const oci::Digest&, uint64_t size)>& fn) = 0;
  // Calls fn for every upload's staging data (by upload id) and, separately, every temp file
  // of put(); order unspecified. For sweeping what abandoned uploads and crashes leave.
  virtual Status listStaging(const std::function<void(const StagingFile&)>& uploads,
                             const std::function<void(const StagingFile&)>& temps) {
    return {};
  }
  // Removes a temp file listStaging reported (a put() still writing it then fails cleanly);
  // ok if absent.
  virtual Status removeTemp(std::string_view name) { return {}; }
  // A URL a client may GET the blob's bytes from directly, valid for `ttl` (a presigned
  // S3 URL, an Azure SAS URL), or nullopt when the store cannot hand one out (the
  // filesystem): blob GETs then stream through the node.
  virtual std::optional<std::string> presignedGet(const oci::Digest& digest,
                                                  std::chrono::seconds ttl) {
    return std::nullopt;
  }
  // Whether open() and stat() are local system calls, no network round trip: cheap enough
  // for the server to call on an I/O thread (the filesystem). Object stores say no.
  virtual bool local() const { return false; }
  // Bytes still free for new blobs, when the store can tell (readiness checks).
  virtual std::optional<uint64_t> availableBytes() { return std::nullopt; }
};

}  // namespace berth::storage
