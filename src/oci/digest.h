#pragma once
// Content digests ("sha256:<64 hex>", "sha512:<128 hex>") and streaming hashers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::oci {

enum class DigestAlgorithm : unsigned char { kSha256, kSha512 };

std::string_view algorithmName(DigestAlgorithm alg);

class Digest {
 public:
  Digest() = default;
  // Parses and validates a digest string. Accepts only the registered algorithms
  // sha256 and sha512 with lowercase hex of the exact length. A string that matches
  // the spec's digest grammar but names another algorithm is kUnsupported;
  // everything else is kDigestInvalid. Never throws.
  static Result<Digest> parse(std::string_view text);

  DigestAlgorithm algorithm() const { return alg_; }
  const std::string& str() const { return text_; }         // "sha256:abc..."
  std::string_view hex() const;                            // "abc..."
  bool empty() const { return text_.empty(); }

  friend bool operator==(const Digest& a, const Digest& b) { return a.text_ == b.text_; }
  friend bool operator<(const Digest& a, const Digest& b) { return a.text_ < b.text_; }

 private:
  Digest(DigestAlgorithm alg, std::string text) : alg_(alg), text_(std::move(text)) {}
  friend class Hasher;
  DigestAlgorithm alg_ = DigestAlgorithm::kSha256;
  std::string text_;
};

// Incremental hasher (OpenSSL EVP). Not thread safe; cheap to move.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm alg = DigestAlgorithm::kSha256);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Finishes and returns the digest. The hasher is reset and can be reused.
  Digest finish();
  DigestAlgorithm algorithm() const { return alg_; }

 private:
  DigestAlgorithm alg_;
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Digest digestOf(std::string_view bytes, DigestAlgorithm alg = DigestAlgorithm::kSha256);

}  // namespace berth::oci

template <>
struct std::hash<berth::oci::Digest> {
  size_t operator()(const berth::oci::Digest& d) const noexcept {
    return std::hash<std::string>{}(d.str());
  }
};
