#include "oci/digest.h"
#include "common/text.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace berth::oci {
namespace {

constexpr std::string_view kSha256Name = "sha256";
constexpr std::string_view kSha512Name = "sha512";
// Longest input echoed back in an error message; the rest is elided.
constexpr size_t kMaxEcho = 80;

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool isAlgorithmSeparator(char c) { return c == '+' || c == '.' || c == '_' || c == '-'; }
bool isEncodedChar(char c) {
  return isLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
}

// algorithm-component (algorithm-separator algorithm-component)*, components [a-z0-9]+.
bool isWellFormedAlgorithm(std::string_view alg) {
  if (alg.empty() || !isLowerAlnum(alg.front()) || !isLowerAlnum(alg.back())) return false;
  for (size_t i = 1; i < alg.size(); ++i) {
    if (isAlgorithmSeparator(alg[i]) && isAlgorithmSeparator(alg[i - 1])) return false;
    if (!isLowerAlnum(alg[i]) && !isAlgorithmSeparator(alg[i])) return false;
  }
  return true;
}

bool isWellFormedEncoded(std::string_view enc) {
  if (enc.empty()) return false;
  for (char c : enc) {
    if (!isEncodedChar(c)) return false;
  }
  return true;
}

bool isLowerHexOfLength(std::string_view enc, size_t length) {
  if (enc.size() != length) return false;
  for (char c : enc) {
    if (!isLowerHex(c)) return false;
  }
  return true;
}

std::string echo(std::string_view text) { return quoteUntrusted(text, kMaxEcho); }

size_t hexLength(DigestAlgorithm alg) { return alg == DigestAlgorithm::kSha512 ? 128 : 64; }

// Implicit fetches (EVP_sha256()) look the algorithm up on every init; fetch once.
const EVP_MD* evpMd(DigestAlgorithm alg) {
  static const EVP_MD* const sha256 = [] {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md != nullptr ? md : EVP_sha256();
  }();
  static const EVP_MD* const sha512 = [] {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    return md != nullptr ? md : EVP_sha512();
  }();
  return alg == DigestAlgorithm::kSha512 ? sha512 : sha256;
}

}  // namespace

std::string_view algorithmName(DigestAlgorithm alg) {
  return alg == DigestAlgorithm::kSha512 ? kSha512Name : kSha256Name;
}

Result<Digest> Digest::parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return makeError(Code::kDigestInvalid,
                     "invalid digest " + echo(text) + ": expected \"algorithm:encoded\"");
  }
  std::string_view alg = text.substr(0, colon);
  std::string_view enc = text.substr(colon + 1);
  if (!isWellFormedAlgorithm(alg)) {
    return makeError(Code::kDigestInvalid,
                     "invalid digest " + echo(text) + ": malformed algorithm");
  }
  DigestAlgorithm parsed;
  if (alg == kSha256Name) {
    parsed = DigestAlgorithm::kSha256;
  } else if (alg == kSha512Name) {
    parsed = DigestAlgorithm::kSha512;
  } else {
    if (!isWellFormedEncoded(enc)) {
      return makeError(Code::kDigestInvalid,
                       "invalid digest " + echo(text) + ": malformed encoded part");
    }
    return makeError(Code::kUnsupported,
                     "unsupported digest algorithm " + echo(alg) + ": use sha256 or sha512");
  }
  size_t want = hexLength(parsed);
  if (!isLowerHexOfLength(enc, want)) {
    return makeError(Code::kDigestInvalid, "invalid digest " + echo(text) + ": " +
                                               std::string(alg) + " needs exactly " +
                                               std::to_string(want) + " lowercase hex digits");
  }
  return Digest(parsed, std::string(text));
}

std::string_view Digest::hex() const {
  std::string_view t = text_;
  size_t colon = t.find(':');
  return colon == std::string_view::npos ? std::string_view() : t.substr(colon + 1);
}

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
// Allocation or init failure of a message digest leaves no sane way to continue.
void checkOrAbort(int ok) {
  if (ok != 1) std::abort();
}
}  // namespace

Hasher::Hasher(DigestAlgorithm alg) : alg_(alg), ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (ctx_->md == nullptr) std::abort();
  checkOrAbort(EVP_DigestInit_ex(ctx_->md, evpMd(alg_), nullptr));
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(const void* data, size_t size) {
  if (!ctx_) *this = Hasher(alg_);  // a moved-from hasher starts afresh
  if (size == 0) return;
  checkOrAbort(EVP_DigestUpdate(ctx_->md, data, size));
}

Digest Hasher::finish() {
  if (!ctx_) *this = Hasher(alg_);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  checkOrAbort(EVP_DigestFinal_ex(ctx_->md, md, &len));
  checkOrAbort(EVP_DigestInit_ex(ctx_->md, evpMd(alg_), nullptr));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(algorithmName(alg_));
  text.reserve(text.size() + 1 + 2 * len);
  text += ':';
  for (unsigned int i = 0; i < len; ++i) {
    text += kHex[md[i] >> 4];
    text += kHex[md[i] & 0xf];
  }
  return Digest(alg_, std::move(text));
}

Digest digestOf(std::string_view bytes, DigestAlgorithm alg) {
  Hasher h(alg);
  h.update(bytes);
  return h.finish();
}

}  // namespace berth::oci
