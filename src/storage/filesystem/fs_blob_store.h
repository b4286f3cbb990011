#pragma once
// BlobStore on a local POSIX filesystem.
//
// Layout under the root directory:
//   blobs/<alg>/<first 2 hex>/<hex>   committed blobs (immutable)
//   uploads/<id>                      uploads in progress
//   tmp/                              temp files of put()
// All three live on one filesystem so rename(2) moves a blob into place atomically.
// commitUpload renames the upload file itself: close the upload's writer first, or its
// later writes would land in the committed blob.
// The store holds no mutable state of its own: every method is safe to call from any
// thread, and two processes may share one root.
#include <memory>
#include <string>

#include "storage/blob_store.h"

namespace berth::storage {

class FsBlobStore : public BlobStore {
 public:
  // Opens (creating as needed) a store rooted at `root_dir`.
  static Result<std::unique_ptr<FsBlobStore>> open(const std::string& root_dir);

  Result<std::unique_ptr<UploadWriter>> openUpload(std::string_view id, uint64_t offset) override;
  Result<oci::Digest> hashUpload(std::string_view id, uint64_t length,
                                 oci::DigestAlgorithm alg) override;
  Status commitUpload(std::string_view id, const oci::Digest& digest) override;
  Status removeUpload(std::string_view id) override;
  Status put(const oci::Digest& digest, std::string_view bytes) override;
  Result<BlobInfo> stat(const oci::Digest& digest) override;
  Result<std::unique_ptr<BlobReader>> open(const oci::Digest& digest) override;
  Status remove(const oci::Digest& digest) override;
  Status list(const std::function<void(const oci::Digest&, uint64_t size)>& fn) override;
  Status listStaging(const std::function<void(const StagingFile&)>& uploads,
                     const std::function<void(const StagingFile&)>& temps) override;
  Status removeTemp(std::string_view name) override;
  std::optional<uint64_t> availableBytes() override;
  bool local() const override { return true; }

  const std::string& root() const { return root_; }

 private:
  explicit FsBlobStore(std::string root) : root_(std::move(root)) {}

  // Paths relative to root_, used in error messages so they do not reveal the host layout.
  static std::string blobRelPath(const oci::Digest& digest);
  static std::string uploadRelPath(std::string_view id);
  std::string abs(const std::string& rel) const { return root_ + "/" + rel; }
  // Creates blobs/<alg>/<xx>/ if missing, fsyncing each parent whose entries changed.
  Status ensureBlobDir(const oci::Digest& digest) const;
  // rename(2) `from_rel` onto the blob's path and fsyncs the blob's directory.
  Status moveIntoPlace(const std::string& from_rel, const oci::Digest& digest) const;

  std::string root_;
};

}  // namespace berth::storage
