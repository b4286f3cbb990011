#include "storage/blob_layout.h"

namespace berth::storage {

namespace {
constexpr size_t kMaxUploadIdLength = 64;
}

bool validUploadId(std::string_view id) {
  if (id.empty() || id.size() > kMaxUploadIdLength) return false;
  for (char c : id) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string blobKey(const oci::Digest& digest) {
  std::string_view hex = digest.hex();
  return "blobs/" + std::string(oci::algorithmName(digest.algorithm())) + "/" +
         std::string(hex.substr(0, 2)) + "/" + std::string(hex);
}

std::optional<oci::Digest> digestOfBlobKey(std::string_view key) {
  if (!key.starts_with("blobs/")) return std::nullopt;
  key.remove_prefix(6);
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view alg = key.substr(0, slash);
  std::string_view rest = key.substr(slash + 1);
  if (rest.size() < 4 || rest[2] != '/') return std::nullopt;
  std::string_view hex = rest.substr(3);
  if (hex.substr(0, 2) != rest.substr(0, 2)) return std::nullopt;
  auto digest = oci::Digest::parse(std::string(alg) + ":" + std::string(hex));
  if (!digest) return std::nullopt;
  return *digest;
}

Status checkDigest(const oci::Digest& digest, std::string_view bytes) {
  if (digest.empty()) return makeError(Code::kDigestInvalid, "put needs a digest");
  oci::Digest actual = oci::digestOf(bytes, digest.algorithm());
  if (actual != digest) {
    return makeError(Code::kDigestInvalid,
                     "digest mismatch: content hashes to " + actual.str() + ", not " + digest.str(),
                     "{\"digest\":\"" + digest.str() + "\"}");
  }
  return okStatus();
}

std::mutex& DigestLocks::of(const oci::Digest& digest) {
  return locks_[std::hash<std::string_view>{}(digest.hex()) % locks_.size()];
}

Error badUploadId() {
  return makeError(Code::kBlobUploadUnknown, "blob upload unknown: invalid upload id");
}

Error uploadUnknown(std::string_view id) {
  return makeError(Code::kBlobUploadUnknown, "blob upload unknown: " + std::string(id));
}

Error blobUnknown(const oci::Digest& digest) {
  return makeError(Code::kBlobUnknown, "blob unknown: " + digest.str(),
                   "{\"digest\":\"" + digest.str() + "\"}");
}

}  // namespace berth::storage
