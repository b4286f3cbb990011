// oci::Digest::parse: every digest in a URL, a query (?digest=, ?mount=) and a manifest.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "oci/digest.h"

using berth::Code;
using berth::oci::Digest;
using berth::oci::DigestAlgorithm;

namespace {

bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = berth::fuzz::asText(data, size);
  // The hasher's output is always a digest the parser accepts, for the same algorithm.
  DigestAlgorithm alg = size % 2 ? DigestAlgorithm::kSha512 : DigestAlgorithm::kSha256;
  Digest computed = berth::oci::digestOf(text, alg);
  auto reparsed = Digest::parse(computed.str());
  FUZZ_CHECK(reparsed && *reparsed == computed && reparsed->algorithm() == alg);

  auto d = Digest::parse(text);
  if (!d) {
    FUZZ_CHECK(d.code() == Code::kDigestInvalid || d.code() == Code::kUnsupported);
    FUZZ_CHECK(!d.error().message.empty());
    // Untrusted input is echoed bounded: a huge digest must not make a huge message.
    FUZZ_CHECK(d.error().message.size() < 400);
    return 0;
  }
  // A parsed digest re-serializes to its input and re-parses equal.
  FUZZ_CHECK(d->str() == text);
  FUZZ_CHECK(!d->empty());
  size_t want = d->algorithm() == DigestAlgorithm::kSha512 ? 128 : 64;
  FUZZ_CHECK(d->hex().size() == want);
  for (char c : d->hex()) FUZZ_CHECK(isLowerHex(c));
  std::string rebuilt =
      std::string(berth::oci::algorithmName(d->algorithm())) + ":" + std::string(d->hex());
  FUZZ_CHECK(rebuilt == text);
  auto again = Digest::parse(d->str());
  FUZZ_CHECK(again && *again == *d && again->algorithm() == d->algorithm());
  FUZZ_CHECK(std::hash<Digest>{}(*again) == std::hash<Digest>{}(*d));
  return 0;
}
