// berth::parseIp and parseCidr: server.trusted_proxies in the config, and (parseIp) every
// X-Forwarded-For entry a trusted proxy passes on.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/cidr.h"
#include "fuzz_check.h"

using berth::Code;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = berth::fuzz::asText(data, size);

  auto ip = berth::parseIp(text);
  if (ip) {
    // The canonical form parses back to the same address, and is its own canonical form.
    std::string canonical = ip->toString();
    auto again = berth::parseIp(canonical);
    FUZZ_CHECK(again && *again == *ip);
    FUZZ_CHECK(again->toString() == canonical);
    FUZZ_CHECK(canonical.size() <= 39);
    // A single-host range of it holds it.
    auto host = berth::parseCidr(canonical);
    FUZZ_CHECK(host && host->contains(*ip));
    FUZZ_CHECK(host->prefixLength() == (ip->isV4() ? 32u : 128u));
  } else {
    FUZZ_CHECK(ip.code() == Code::kInvalidArgument);
    FUZZ_CHECK(!ip.error().message.empty());
  }

  auto range = berth::parseCidr(text);
  if (range) {
    FUZZ_CHECK(range->contains(range->base()));
    FUZZ_CHECK(range->prefixLength() <= 128);
    auto again = berth::parseCidr(range->toString());
    FUZZ_CHECK(again && *again == *range);
    // Every range is a subset of ::/0; an IPv4 range is a subset of 0.0.0.0/0.
    FUZZ_CHECK(berth::parseCidr("::/0")->contains(range->base()));
    if (range->base().isV4()) FUZZ_CHECK(berth::parseCidr("0.0.0.0/0")->contains(range->base()));
  } else {
    FUZZ_CHECK(range.code() == Code::kInvalidArgument);
    FUZZ_CHECK(range.error().message.rfind("CIDR range ", 0) == 0);
  }
  return 0;
}
