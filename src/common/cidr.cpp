#include "common/cidr.h"

#include <optional>

#include "common/text.h"

namespace berth {
namespace {

constexpr size_t kMaxAddressText = 64;  // longer than any address; bounds the error quote

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Dotted quad, decimal octets without leading zeros ("010" could mean octal elsewhere).
std::optional<std::array<uint8_t, 4>> parseV4(std::string_view s) {
  std::array<uint8_t, 4> out{};
  for (int i = 0; i < 4; ++i) {
    size_t len = 0;
    unsigned value = 0;
    while (len < s.size() && len < 4 && s[len] >= '0' && s[len] <= '9') value = value * 10 + (s[len++] - '0');
    if (len == 0 || len > 3 || value > 255 || (len > 1 && s[0] == '0')) return std::nullopt;
    out[i] = static_cast<uint8_t>(value);
    s.remove_prefix(len);
    if (i < 3) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

// Colon-separated groups of 1-4 hex digits; the last may be a dotted quad (two groups) when
// `v4_tail` allows. Appends to `groups`/`n`, at most `max` groups.
bool parseGroups(std::string_view s, bool v4_tail, uint16_t* groups, size_t& n, size_t max) {
  if (s.empty()) return true;
  for (;;) {
    auto colon = s.find(':');
    std::string_view piece = s.substr(0, colon);
    if (piece.empty()) return false;
    if (colon == std::string_view::npos && v4_tail && piece.find('.') != std::string_view::npos) {
      auto v4 = parseV4(piece);
      if (!v4 || n + 2 > max) return false;
      groups[n++] = static_cast<uint16_t>((*v4)[0] << 8 | (*v4)[1]);
      groups[n++] = static_cast<uint16_t>((*v4)[2] << 8 | (*v4)[3]);
      return true;
    }
    if (piece.size() > 4 || n + 1 > max) return false;
    unsigned value = 0;
    for (char c : piece) {
      int h = hexValue(c);
      if (h < 0) return false;
      value = value << 4 | static_cast<unsigned>(h);
    }
    groups[n++] = static_cast<uint16_t>(value);
    if (colon == std::string_view::npos) return true;
    s.remove_prefix(colon + 1);
  }
}

std::optional<std::array<uint8_t, 16>> parseV6(std::string_view s) {
  uint16_t head[8], tail[8];
  size_t nh = 0, nt = 0;
  auto gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parseGroups(s, true, head, nh, 8) || nh != 8) return std::nullopt;
  } else {
    std::string_view after = s.substr(gap + 2);
    if (after.find("::") != std::string_view::npos) return std::nullopt;
    if (!parseGroups(s.substr(0, gap), false, head, nh, 7)) return std::nullopt;
    if (!parseGroups(after, true, tail, nt, 7) || nh + nt > 7) return std::nullopt;
  }
  std::array<uint8_t, 16> out{};
  auto put = [&](size_t index, uint16_t g) {
    out[2 * index] = static_cast<uint8_t>(g >> 8);
    out[2 * index + 1] = static_cast<uint8_t>(g & 0xff);
  };
  for (size_t i = 0; i < nh; ++i) put(i, head[i]);
  for (size_t i = 0; i < nt; ++i) put(8 - nt + i, tail[i]);
  return out;
}

Error invalid(std::string_view what, std::string_view text, std::string_view why) {
  return makeError(Code::kInvalidArgument,
                   std::string(what) + " " + quoteUntrusted(text, kMaxAddressText) + ": " + std::string(why));
}

}  // namespace

IpAddress IpAddress::fromV4(const std::array<uint8_t, 4>& v4) {
  std::array<uint8_t, 16> b{};
  b[10] = b[11] = 0xff;
  for (int i = 0; i < 4; ++i) b[12 + i] = v4[i];
  return IpAddress(b);
}

bool IpAddress::isV4() const {
  for (int i = 0; i < 10; ++i) {
    if (bytes_[i] != 0) return false;
  }
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

std::string IpAddress::toString() const {
  std::string out;
  if (isV4()) {
    for (int i = 12; i < 16; ++i) {
      if (i > 12) out += '.';
      out += std::to_string(bytes_[i]);
    }
    return out;
  }
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(bytes_[2 * i] << 8 | bytes_[2 * i + 1]);
  // RFC 5952: the longest run of two or more zero groups (the first of equals) becomes "::".
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nibble = (g[i] >> shift) & 0xf;
      if (nibble || started || shift == 0) {
        out += kHex[nibble];
        started = true;
      }
    }
  }
  return out;
}

Result<IpAddress> parseIp(std::string_view text) {
  if (text.find(':') == std::string_view::npos) {
    if (auto v4 = parseV4(text)) return IpAddress::fromV4(*v4);
    return invalid("IP address", text, "expected a dotted quad (192.0.2.1) or an IPv6 address");
  }
  if (auto v6 = parseV6(text)) return IpAddress(*v6);
  return invalid("IP address", text, "not a valid IPv6 address");
}

bool CidrRange::contains(const IpAddress& ip) const {
  const auto& a = ip.bytes();
  const auto& b = base_.bytes();
  unsigned full = prefix_ / 8;
  for (unsigned i = 0; i < full; ++i) {
    if (a[i] != b[i]) return false;
  }
  if (unsigned rest = prefix_ % 8) {
    auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    if ((a[full] & mask) != (b[full] & mask)) return false;
  }
  return true;
}

std::string CidrRange::toString() const {
  // A range written in IPv6 syntax over mapped addresses keeps that syntax, so it parses back.
  std::string base = (!v4_ && base_.isV4()) ? "::ffff:" + base_.toString() : base_.toString();
  return base + "/" + std::to_string(prefixLength());
}

Result<CidrRange> parseCidr(std::string_view text) {
  auto slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  auto ip = parseIp(addr);
  if (!ip) return invalid("CIDR range", text, "the address part is not a valid IPv4 or IPv6 address");
  const bool v4 = addr.find(':') == std::string_view::npos;
  const unsigned max = v4 ? 32 : 128;
  unsigned length = max;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    unsigned value = 0;
    bool ok = !digits.empty() && digits.size() <= 3 && !(digits.size() > 1 && digits[0] == '0');
    for (char c : digits) {
      if (c < '0' || c > '9') ok = false;
      if (ok) value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || value > max) {
      return invalid("CIDR range", text, "the prefix length must be a number from 0 to " + std::to_string(max));
    }
    length = value;
  }
  const unsigned prefix = v4 ? length + 96 : length;
  // Host bits set: refuse rather than silently widen or narrow what the operator meant.
  auto bytes = ip->bytes();
  bool host_bits = false;
  for (unsigned bit = prefix; bit < 128; ++bit) {
    uint8_t& byte = bytes[bit / 8];
    const auto mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if (byte & mask) host_bits = true;
    byte = static_cast<uint8_t>(byte & ~mask);
  }
  CidrRange range(IpAddress(bytes), prefix, v4);
  if (host_bits) {
    return invalid("CIDR range", text, "host bits are set after the /" + std::to_string(length) +
                                           " prefix; did you mean " + range.toString() + "?");
  }
  return range;
}

bool CidrSet::contains(const IpAddress& ip) const {
  for (const auto& r : ranges_) {
    if (r.contains(ip)) return true;
  }
  return false;
}

}  // namespace berth
