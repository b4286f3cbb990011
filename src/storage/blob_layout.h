#pragma once
// What every BlobStore shares: which upload ids are valid, where a blob lives
// ("blobs/<alg>/<first 2 hex>/<hex>", the same in a directory and in a bucket), and the
// errors of the contract.
#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "oci/digest.h"

namespace berth::storage {

// Upload ids come from clients via the URL: only [A-Za-z0-9-]{1,64}, so no path tricks.
bool validUploadId(std::string_view id);
// "blobs/sha256/ab/abcdef..."
std::string blobKey(const oci::Digest& digest);
// The digest of a key blobKey made; nullopt for anything else.
std::optional<oci::Digest> digestOfBlobKey(std::string_view key);

// kDigestInvalid unless `bytes` hash to `digest` (put()).
Status checkDigest(const oci::Digest& digest, std::string_view bytes);

// Serializes the writes of one digest within a process (striped, never one global lock).
class DigestLocks {
 public:
  std::mutex& of(const oci::Digest& digest);

 private:
  std::array<std::mutex, 64> locks_;
};

Error badUploadId();
Error uploadUnknown(std::string_view id);
Error blobUnknown(const oci::Digest& digest);

}  // namespace berth::storage
