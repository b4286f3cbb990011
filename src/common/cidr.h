#pragma once
// IP addresses and CIDR ranges, for trusted proxies and network rules. IPv4 addresses are
// held as IPv4-mapped IPv6 (::ffff:a.b.c.d), so "::ffff:10.1.2.3" and "10.1.2.3" are the
// same address and both lie in 10.0.0.0/8.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth {

class IpAddress {
 public:
  IpAddress() = default;  // ::
  // 16 bytes in network order (IPv4 as ::ffff:a.b.c.d).
  explicit IpAddress(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}
  static IpAddress fromV4(const std::array<uint8_t, 4>& bytes);

  // True for IPv4 (including an IPv4-mapped IPv6 address).
  bool isV4() const;
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  // Canonical text: dotted quad for IPv4, RFC 5952 for IPv6 ("2001:db8::1").
  std::string toString() const;

  bool operator==(const IpAddress&) const = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

// "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1". No zone ids, ports or brackets; IPv4
// octets are decimal without leading zeros. kInvalidArgument naming the text otherwise.
Result<IpAddress> parseIp(std::string_view text);

class CidrRange {
 public:
  CidrRange() = default;  // ::/0 (everything)
  // `prefix` counts bits of the 128-bit form (an IPv4 /8 is 104); host bits must be zero.
  CidrRange(IpAddress base, unsigned prefix, bool v4_syntax) : base_(base), prefix_(prefix), v4_(v4_syntax) {}

  bool contains(const IpAddress& ip) const;
  const IpAddress& base() const { return base_; }
  // The prefix length as written ("/8" of 10.0.0.0/8 is 8).
  unsigned prefixLength() const { return v4_ ? prefix_ - 96 : prefix_; }
  std::string toString() const;

  bool operator==(const CidrRange&) const = default;

 private:
  IpAddress base_;
  unsigned prefix_ = 0;
  bool v4_ = false;
};

// "10.0.0.0/8", "2001:db8::/32"; a bare address is a single host (/32 or /128). A range
// with host bits set ("10.0.0.1/8") is refused, as it is most likely a typo.
Result<CidrRange> parseCidr(std::string_view text);

class CidrSet {
 public:
  CidrSet() = default;
  explicit CidrSet(std::vector<CidrRange> ranges) : ranges_(std::move(ranges)) {}

  bool contains(const IpAddress& ip) const;
  bool empty() const { return ranges_.empty(); }
  const std::vector<CidrRange>& ranges() const { return ranges_; }
  void add(const CidrRange& range) { ranges_.push_back(range); }

 private:
  std::vector<CidrRange> ranges_;
};

}  // namespace berth
