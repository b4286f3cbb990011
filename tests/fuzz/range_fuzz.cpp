// oci::parseRangeHeader (blob GET Range) and parseContentRange (upload PATCH Content-Range).
// Input: 8 bytes little-endian blob size, then the header value.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "fuzz_check.h"
#include "oci/http_range.h"

using berth::Code;
namespace oci = berth::oci;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  uint64_t blob_size = 0;
  for (int i = 7; i >= 0; --i) blob_size = (blob_size << 8) | data[i];
  std::string_view header = berth::fuzz::asText(data + 8, size - 8);

  auto r = oci::parseRangeHeader(header, blob_size);
  if (r) {
    // A satisfiable range lies inside the blob and is not empty.
    FUZZ_CHECK(blob_size > 0);
    FUZZ_CHECK(r->first <= r->last);
    FUZZ_CHECK(r->last < blob_size);
    FUZZ_CHECK(r->length() >= 1 && r->length() <= blob_size);
    // Its canonical form parses to the same range.
    std::string canonical = "bytes=" + std::to_string(r->first) + "-" + std::to_string(r->last);
    auto again = oci::parseRangeHeader(canonical, blob_size);
    FUZZ_CHECK(again && again->first == r->first && again->last == r->last);
  } else {
    FUZZ_CHECK(r.code() == Code::kInvalidArgument || r.code() == Code::kRangeInvalid);
    FUZZ_CHECK(!r.error().message.empty());
  }

  auto cr = oci::parseContentRange(header);
  if (cr) {
    FUZZ_CHECK(cr->first <= cr->last);
    FUZZ_CHECK(cr->last < std::numeric_limits<uint64_t>::max());
    FUZZ_CHECK(cr->length() == cr->last - cr->first + 1 && cr->length() >= 1);
    std::string canonical = std::to_string(cr->first) + "-" + std::to_string(cr->last);
    auto again = oci::parseContentRange(canonical);
    FUZZ_CHECK(again && again->first == cr->first && again->last == cr->last);
    auto rfc = oci::parseContentRange("bytes " + canonical + "/*");
    FUZZ_CHECK(rfc && rfc->first == cr->first && rfc->last == cr->last);
  } else {
    FUZZ_CHECK(cr.code() == Code::kRangeInvalid);
  }
  return 0;
}
