#pragma once
// What every BlobStore shares: which upload ids are valid, where a blob lives
// ("blobs/<alg>/<first 2 hex>/<hex>", the same in a directory and in a bucket), and the
// errors of the contract.
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

Error badUploadId();
Error uploadUnknown(std::string_view id);
Error blobUnknown(const oci::Digest& digest);

}  // namespace berth::storage
