#pragma once
// BlobStore on Amazon S3 (or any S3-compatible server), over libcurl with SigV4.
//
// Layout in the bucket:
//   blobs/<alg>/<first 2 hex>/<hex>      committed blobs (immutable), as on the filesystem
//   uploads/<id>/info                    an upload exists (empty object)
//   uploads/<id>/c<20-digit offset>      a staged chunk: the upload's bytes from that offset
// Staging lives in the bucket, so a chunked upload may continue on any node. A writer
// buffers at most kPartSize bytes and stores them as a chunk when the buffer fills, on
// sync() and when it is destroyed. The chunks from offset 0 on, back to back, are the
// upload; any other chunk is debris that the next openUpload deletes. commitUpload copies
// a single chunk server side, or streams the chunks through one part buffer into a
// multipart upload (parts of kPartSize, over S3's 5 MiB minimum); either way the blob
// appears whole, at once. A blob is at most 10,000 parts (80 GiB).
// Every method is safe from any thread. Writes of one digest are serialized within the
// process and skipped when the blob exists (blobs are immutable): fewer requests, and no
// overwrite under a reader on servers whose overwrites are not atomic (s3rver).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/object_blob_store.h"
#include "storage/http/http_client.h"
#include "storage/s3/sigv4.h"

namespace berth::storage {

struct S3Options {
  std::string bucket;
  std::string region = "us-east-1";
  std::string endpoint;  // "" = https://s3.<region>.amazonaws.com; e.g. http://127.0.0.1:4568
  bool path_style = false;  // bucket in the path, not the host (most S3-compatible servers)
  std::string access_key;
  std::string secret_key;
  std::string session_token;
};

class S3BlobStore : public ObjectBlobStore {
 public:
  static constexpr size_t kPartSize = 8 << 20;

  // Checks that the bucket exists and the credentials work (HEAD bucket); the error names
  // the setting at fault.
  static Result<std::unique_ptr<S3BlobStore>> open(const S3Options& options);

  Result<std::unique_ptr<UploadWriter>> openUpload(std::string_view id, uint64_t offset) override;
  Result<oci::Digest> hashUpload(std::string_view id, uint64_t length,
                                 oci::DigestAlgorithm alg) override;
  Status commitUpload(std::string_view id, const oci::Digest& digest) override;
  Status removeUpload(std::string_view id) override;
  Status listStaging(const std::function<void(const StagingFile&)>& uploads,
                     const std::function<void(const StagingFile&)>& temps) override;

  // One signed request on the bucket (key "" = the bucket itself). Retries connection
  // errors and 5xx (not of a POST) while nothing was handed to the sink. Public for tests and tools
  // (creating a bucket).
  struct Call {
    Call() = default;
    explicit Call(std::string m, std::string k = {}, s3::QueryParams q = {}, std::string_view b = {})
        : method(std::move(m)), key(std::move(k)), query(std::move(q)), body(b) {}
    std::string method = "GET";
    std::string key;
    s3::QueryParams query;
    std::vector<http::Header> headers;
    std::string_view body;
    std::function<bool(std::string_view)> sink;
  };
  Result<http::Response> send(const Call& call) const;
  // Makes the bucket (PUT bucket); ok if it is already ours.
  static Status createBucket(const S3Options& options);

 private:
  class Writer;
  struct Chunk {
    uint64_t start = 0;
    uint64_t size = 0;
    std::string key;
  };
  struct Staged {
    bool exists = false;         // the info object is there
    std::vector<Chunk> chunks;   // back to back from offset 0
    std::vector<Chunk> debris;   // chunks past a gap
    uint64_t size = 0;
  };

  explicit S3BlobStore(S3Options options);

  std::string objectUrl(std::string_view key, const s3::QueryParams& query) const;
  std::string objectPath(std::string_view key) const;  // the URI path, percent-encoded
  // An error for an unexpected response to `what`.
  Error failure(const http::Response& response, std::string_view what) const;
  Result<Staged> staged(std::string_view id) const;

  Result<ObjectInfo> headObject(const std::string& key) const override;
  Status putObject(const std::string& key, std::string_view body) const override;
  Status deleteObject(const std::string& key) const override;
  Status getRange(const std::string& key, uint64_t offset, uint64_t len, const Sink& sink) const override;
  Status listObjects(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override;
  std::string presignedUrl(const std::string& key, std::chrono::seconds ttl) const override;
  Status copyObject(const std::string& from, const std::string& to) const;
  Status multipartCopy(const std::vector<Chunk>& chunks, const std::string& to) const;

  S3Options options_;
  s3::Credentials credentials_;
  std::string scheme_;  // "https"
  std::string host_;    // the Host header: "s3.us-east-1.amazonaws.com", "bucket.s3...", "127.0.0.1:4568"
};

}  // namespace berth::storage
