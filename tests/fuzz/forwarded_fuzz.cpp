// The forwarded-header parsers (server/forwarded.h): X-Forwarded-For, -Proto and -Host as a
// trusted proxy passes them on, written by whoever is in front of it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "server/forwarded.h"

namespace server = berth::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = berth::fuzz::asText(data, size);
  static const berth::CidrSet kTrusted({*berth::parseCidr("127.0.0.0/8"), *berth::parseCidr("10.0.0.0/8"),
                                        *berth::parseCidr("2001:db8::/32")});
  static const berth::IpAddress kPeer = *berth::parseIp("127.0.0.1");

  // Newlines split the input into header lines, as several X-Forwarded-For fields.
  std::vector<std::string_view> lines;
  for (size_t start = 0;;) {
    auto nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  auto client = server::forwardedClient(kPeer, kTrusted, lines);
  // The answer is the peer or an address some element really holds.
  bool found = client == kPeer;
  for (auto line : lines) {
    for (size_t start = 0; !found;) {
      auto comma = line.find(',', start);
      auto ip = server::parseForwardedAddress(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
      found = ip && *ip == client;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }
  FUZZ_CHECK(found);
  if (auto ip = server::parseForwardedAddress(text)) FUZZ_CHECK(berth::parseIp(ip->toString()));

  auto scheme = server::forwardedScheme(server::lastListElement(text));
  FUZZ_CHECK(scheme.empty() || scheme == "http" || scheme == "https");

  if (server::isValidHost(text)) {
    // Nothing that could end a URL's authority or a header line.
    FUZZ_CHECK(text.find_first_of("/?#@ \t\r\n\"<>\\%,") == std::string_view::npos);
    FUZZ_CHECK(!text.empty() && text.size() <= 261);
  }
  return 0;
}
