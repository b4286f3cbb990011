// api::parseQuery + queryValue: the raw query of every request (?n=&last=, ?digest=,
// ?mount=&from=, ?artifactType=).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/router.h"
#include "fuzz_check.h"

using berth::Code;
namespace api = berth::api;

namespace {

// Percent-encodes everything but unreserved characters, so decoding gives `s` back.
std::string encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view query = berth::fuzz::asText(data, size);
  auto params = api::parseQuery(query);
  if (!params) {
    FUZZ_CHECK(params.code() == Code::kInvalidArgument);
    FUZZ_CHECK(query.find('%') != std::string_view::npos);
    return 0;
  }
  // Without '%' decoding is the identity, so the result is the plain split: '&' between
  // parameters (empty ones dropped), the first '=' between key and value.
  if (query.find('%') == std::string_view::npos) {
    api::QueryParams expected;
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = std::min(query.find('&', start), query.size());
      std::string_view part = query.substr(start, amp - start);
      if (!part.empty()) {
        size_t eq = part.find('=');
        expected.emplace_back(std::string(part.substr(0, eq)),
                              eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1)));
      }
      start = amp + 1;
    }
    FUZZ_CHECK(*params == expected);
  }
  // Decoded parameters, encoded again, parse back to the same list.
  std::string rebuilt;
  for (const auto& [k, v] : *params) {
    if (!rebuilt.empty()) rebuilt += '&';
    rebuilt += encode(k) + "=" + encode(v);
  }
  auto again = api::parseQuery(rebuilt);
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->size() == params->size());
  for (size_t i = 0; i < params->size(); ++i) FUZZ_CHECK((*again)[i] == (*params)[i]);

  // queryValue returns the first value of a key, or nothing (checked on the first few keys;
  // the check is quadratic).
  for (size_t i = 0; i < params->size() && i < 16; ++i) {
    const std::string& key = (*params)[i].first;
    size_t first = 0;
    while ((*params)[first].first != key) ++first;
    auto found = api::queryValue(*params, key);
    FUZZ_CHECK(found && *found == (*params)[first].second);
  }
  for (std::string_view key : {"n", "last", "digest", "mount", "from", "artifactType"}) {
    auto v = api::queryValue(*params, key);
    bool present = false;
    for (const auto& [k, unused] : *params) present = present || k == key;
    FUZZ_CHECK(v.has_value() == present);
  }
  return 0;
}
