#pragma once
// Parsers for the Range request header (blob GET) and Content-Range (chunked upload PATCH).
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace berth::oci {

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
  uint64_t length() const { return last - first + 1; }
};

// Parses "bytes=a-b", "bytes=a-" and "bytes=-n" (a single range only) against a blob of
// `size` bytes, clamping `last` to size-1 as RFC 9110 says.
//  - kInvalidArgument: the header is malformed or has several ranges (caller may ignore
//    the header and serve 200, as RFC 9110 allows).
//  - kRangeInvalid: syntactically valid but unsatisfiable (first >= size, or empty blob): 416.
Result<ByteRange> parseRangeHeader(std::string_view header, uint64_t size);

// Parses a PATCH Content-Range: "a-b" (the OCI spec form) or "bytes a-b/total" / "bytes a-b/*"
// (RFC form, sent by some clients). Returns the inclusive range. kRangeInvalid if malformed
// or b < a.
Result<ByteRange> parseContentRange(std::string_view header);

}  // namespace berth::oci
