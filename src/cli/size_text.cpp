#include "cli/size_text.h"

#include <cctype>
#include <limits>
#include <string>

namespace berth::cli {
namespace {

constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Bytes per unit; 0 for an unknown unit.
uint64_t unitBytes(const std::string& unit) {
  if (unit.empty() || unit == "b") return 1;
  const std::string prefixes = "kmgtp";
  if (unit.size() > 3) return 0;
  const auto p = prefixes.find(unit[0]);
  if (p == std::string::npos) return 0;
  const std::string rest = unit.substr(1);
  uint64_t base = 0;
  if (rest.empty() || rest == "ib") base = 1024;
  else if (rest == "b") base = 1000;
  else return 0;
  uint64_t n = 1;
  for (size_t i = 0; i <= p; ++i) n *= base;
  return n;
}

Error invalid(std::string_view text) {
  return makeError(Code::kInvalidArgument, "invalid size '" + std::string(text.substr(0, 40)) +
                                               "': use bytes or a number with a unit (500MB, 10GiB)");
}

}  // namespace

Result<uint64_t> parseSize(std::string_view text) {
  size_t i = 0;
  uint64_t whole = 0;
  size_t whole_digits = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++whole_digits) {
    const auto digit = static_cast<uint64_t>(text[i] - '0');
    if (whole > (kMax - digit) / 10) return invalid(text);
    whole = whole * 10 + digit;
  }
  std::string fraction;
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) fraction += text[i];
    if (fraction.empty() || fraction.size() > 12) return invalid(text);
  }
  if (whole_digits == 0) return invalid(text);
  while (i < text.size() && text[i] == ' ') ++i;
  const uint64_t unit = unitBytes(lower(text.substr(i)));
  if (unit == 0) return invalid(text);
  if (!fraction.empty() && unit == 1) return invalid(text);  // no fractions of a byte
  if (whole > kMax / unit) return invalid(text);
  uint64_t bytes = whole * unit;
  if (!fraction.empty()) {
    // fraction / 10^digits * unit, rounded down; unit <= 1024^5 < 2^51 and the
    // fraction < 10^12 < 2^40, so split the product to stay within 64 bits.
    uint64_t scale = 1;
    for (size_t k = 0; k < fraction.size(); ++k) scale *= 10;
    const uint64_t f = std::stoull(fraction);
    const unsigned __int128 part = static_cast<unsigned __int128>(f) * unit / scale;
    if (part > kMax - bytes) return invalid(text);
    bytes += static_cast<uint64_t>(part);
  }
  return bytes;
}

}  // namespace berth::cli
