#include "oci/http_range.h"

#include <limits>

#include "common/text.h"

namespace berth::oci {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

enum class NumberError { kNone, kMalformed, kOverflow };

// Parses a non-empty run of ASCII digits into a uint64_t, refusing anything that does
// not fit instead of wrapping around.
NumberError parseNumber(std::string_view s, uint64_t& out) {
  if (s.empty()) return NumberError::kMalformed;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  for (char c : s) {
    if (!isDigit(c)) return NumberError::kMalformed;
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (kMax - d) / 10) return NumberError::kOverflow;
    v = v * 10 + d;
  }
  out = v;
  return NumberError::kNone;
}

Error rangeError(Code code, std::string what) {
  return makeError(code, "invalid range: " + std::move(what));
}

}  // namespace

Result<ByteRange> parseRangeHeader(std::string_view header, uint64_t size) {
  std::string_view h = trimOws(header);
  if (!startsWithNoCase(h, "bytes=")) {
    return rangeError(Code::kInvalidArgument, "expected \"bytes=first-last\"");
  }
  std::string_view spec = trimOws(h.substr(6));
  if (spec.find(',') != std::string_view::npos) {
    return rangeError(Code::kInvalidArgument, "multiple ranges are not supported");
  }
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) {
    return rangeError(Code::kInvalidArgument, "expected \"bytes=first-last\"");
  }
  std::string_view first_text = spec.substr(0, dash);
  std::string_view last_text = spec.substr(dash + 1);

  if (first_text.empty()) {  // suffix range "-n": the last n bytes
    uint64_t n = 0;
    NumberError e = parseNumber(last_text, n);
    if (e == NumberError::kOverflow) return rangeError(Code::kInvalidArgument, "number too large");
    if (e != NumberError::kNone) return rangeError(Code::kInvalidArgument, "malformed suffix");
    if (n == 0 || size == 0) {
      return rangeError(Code::kRangeInvalid, "suffix range selects no bytes");
    }
    uint64_t len = n < size ? n : size;
    return ByteRange{size - len, size - 1};
  }

  uint64_t first = 0;
  NumberError e = parseNumber(first_text, first);
  if (e == NumberError::kOverflow) return rangeError(Code::kInvalidArgument, "number too large");
  if (e != NumberError::kNone) return rangeError(Code::kInvalidArgument, "malformed first byte");
  uint64_t last = std::numeric_limits<uint64_t>::max();
  if (!last_text.empty()) {
    e = parseNumber(last_text, last);
    if (e == NumberError::kOverflow) {
      return rangeError(Code::kInvalidArgument, "number too large");
    }
    if (e != NumberError::kNone) return rangeError(Code::kInvalidArgument, "malformed last byte");
    if (last < first) return rangeError(Code::kInvalidArgument, "last byte before first byte");
  }
  if (first >= size) {
    return rangeError(Code::kRangeInvalid, "first byte " + std::to_string(first) +
                                               " is beyond the blob size " + std::to_string(size));
  }
  if (last > size - 1) last = size - 1;
  return ByteRange{first, last};
}

Result<ByteRange> parseContentRange(std::string_view header) {
  std::string_view h = trimOws(header);
  bool rfc_form = startsWithNoCase(h, "bytes ");
  std::optional<uint64_t> total;
  if (rfc_form) {
    h = trimOws(h.substr(6));
    size_t slash = h.find('/');
    if (slash == std::string_view::npos) {
      return rangeError(Code::kRangeInvalid, "expected \"bytes first-last/total\"");
    }
    std::string_view total_text = h.substr(slash + 1);
    h = h.substr(0, slash);
    if (total_text != "*") {
      uint64_t t = 0;
      if (parseNumber(total_text, t) != NumberError::kNone) {
        return rangeError(Code::kRangeInvalid, "malformed total length");
      }
      total = t;
    }
  }
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) {
    return rangeError(Code::kRangeInvalid, "expected \"first-last\"");
  }
  uint64_t first = 0;
  uint64_t last = 0;
  if (parseNumber(h.substr(0, dash), first) != NumberError::kNone ||
      parseNumber(h.substr(dash + 1), last) != NumberError::kNone) {
    return rangeError(Code::kRangeInvalid, "expected \"first-last\" with decimal byte offsets");
  }
  if (last < first) return rangeError(Code::kRangeInvalid, "last byte before first byte");
  // Keeps ByteRange::length() from wrapping to 0.
  if (last == std::numeric_limits<uint64_t>::max()) {
    return rangeError(Code::kRangeInvalid, "number too large");
  }
  if (total && last >= *total) {
    return rangeError(Code::kRangeInvalid, "last byte beyond the total length");
  }
  return ByteRange{first, last};
}

}  // namespace berth::oci
