#pragma once
// BlobStore on Azure Blob Storage (or Azurite), over libcurl with Shared Key or a SAS.
//
// Layout in the container:
//   blobs/<alg>/<first 2 hex>/<hex>   committed blobs (immutable), as on the filesystem
//   uploads/<id>                      the staging block blob of an upload in progress
// The staging blob lives in the container, so a chunked upload may continue on any node.
// A writer buffers at most kBlockSize bytes; a full buffer becomes a block (Put Block,
// its id the block's starting offset), and sync() (or destroying the writer) commits the
// block list, which is when other nodes see the bytes. Truncating to an offset commits the
// blocks before it (the one across it re-put, cut short). commitUpload copies the staging
// blob server side to its final name (Copy Blob; a copy still pending is not visible:
// stat/open report the blob unknown until it succeeded), then deletes the staging blob.
// Every method is safe from any thread. Writes of one digest are serialized within the
// process and skipped when the blob exists (blobs are immutable): fewer requests, and no
// overwrite under a reader on servers whose overwrites are not atomic (s3rver).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/azure/shared_key.h"
#include "storage/object_blob_store.h"
#include "storage/http/http_client.h"

namespace berth::storage {

struct AzureOptions {
  std::string container;
  std::string endpoint;  // e.g. https://ACCOUNT.blob.core.windows.net, http://127.0.0.1:10000/devstoreaccount1
  std::string account;
  std::string key;  // the account key, base64
  std::string sas;  // alternative to key: a SAS token (query string, with or without '?')
};

class AzureBlobStore : public ObjectBlobStore {
 public:
  static constexpr size_t kBlockSize = 8 << 20;

  // Checks that the container exists and the credentials work (Get Container Properties);
  // the error names the setting at fault.
  static Result<std::unique_ptr<AzureBlobStore>> open(const AzureOptions& options);

  Result<std::unique_ptr<UploadWriter>> openUpload(std::string_view id, uint64_t offset) override;
  Result<oci::Digest> hashUpload(std::string_view id, uint64_t length,
                                 oci::DigestAlgorithm alg) override;
  Status commitUpload(std::string_view id, const oci::Digest& digest) override;
  Status removeUpload(std::string_view id) override;
  Status listStaging(const std::function<void(const StagingFile&)>& uploads,
                     const std::function<void(const StagingFile&)>& temps) override;

  // Makes the container (Create Container); ok if it exists.
  static Status createContainer(const AzureOptions& options);

  // One signed request ("" = the container). Retries connection errors and 5xx while
  // nothing was handed to the sink.
  struct Call {
    Call() = default;
    explicit Call(std::string m, std::string k = {}, azure::QueryParams q = {}, std::string_view b = {})
        : method(std::move(m)), key(std::move(k)), query(std::move(q)), body(b) {}
    std::string method = "GET";
    std::string key;
    azure::QueryParams query;
    std::vector<http::Header> headers;
    std::string_view body;
    std::function<bool(std::string_view)> sink;
  };
  Result<http::Response> send(const Call& call) const;

 private:
  class Writer;
  struct Block {
    std::string id;  // base64
    uint64_t size = 0;
  };

  explicit AzureBlobStore(AzureOptions options, std::string key);

  std::string path(std::string_view key) const;  // the URI path, percent-encoded
  std::string url(std::string_view key) const;   // without query
  Error failure(const http::Response& response, std::string_view what) const;
  Status putBlock(const std::string& key, uint64_t start, std::string_view bytes) const;
  Status putBlockList(const std::string& key, const std::vector<Block>& blocks) const;
  Result<std::vector<Block>> committedBlocks(const std::string& key) const;
  Status copyBlob(const std::string& from, const std::string& to) const;

  // kNotFound also while a copy to it is pending (or failed): not a whole blob.
  Result<ObjectInfo> headObject(const std::string& key) const override;
  Status putObject(const std::string& key, std::string_view body) const override;
  Status deleteObject(const std::string& key) const override;
  Status getRange(const std::string& key, uint64_t offset, uint64_t len, const Sink& sink) const override;
  Status listObjects(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const override;
  // A service SAS URL (sp=r) signed with the account key, or the blob's URL with the
  // configured SAS appended (valid as long as that SAS is, whatever `ttl`).
  std::string presignedUrl(const std::string& key, std::chrono::seconds ttl) const override;

  AzureOptions options_;
  std::string key_;  // decoded account key ("" when a SAS is used)
  std::string sas_;  // without '?'
  std::string scheme_host_;  // "http://127.0.0.1:10000"
  std::string base_path_;    // "/devstoreaccount1" (emulator) or ""
};

}  // namespace berth::storage
