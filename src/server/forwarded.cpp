#include "server/forwarded.h"

#include "common/text.h"

namespace berth::server {
namespace {

constexpr size_t kMaxHostBytes = 255 + 1 + 5;  // a DNS name, ':' and a port

bool isPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535;
}

struct HostPart {
  std::string_view host;
  bool bracketed;  // "[...]": an IPv6 literal, if anything
};

// "host", "host:port", "[v6]", "[v6]:port", or (more than one colon, no brackets) a bare
// IPv6 address; nullopt when a port is present but not a port.
std::optional<HostPart> splitHostPort(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !isPort(rest.substr(1)))) return std::nullopt;
    return HostPart{s.substr(1, close - 1), true};
  }
  auto colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos) {
    if (!isPort(s.substr(colon + 1))) return std::nullopt;
    return HostPart{s.substr(0, colon), false};
  }
  return HostPart{s, false};
}

bool isIpv6Literal(std::string_view s) { return s.find(':') != std::string_view::npos && parseIp(s).ok(); }

}  // namespace

std::optional<IpAddress> parseForwardedAddress(std::string_view element) {
  auto part = splitHostPort(trimOws(element));
  if (!part || (part->bracketed && !isIpv6Literal(part->host))) return std::nullopt;
  auto ip = parseIp(part->host);
  return ip ? std::optional(*ip) : std::nullopt;
}

IpAddress forwardedClient(const IpAddress& peer, const CidrSet& trusted, std::span<const std::string_view> values) {
  IpAddress current = peer;
  for (auto v = values.rbegin(); v != values.rend(); ++v) {
    std::string_view list = *v;
    for (;;) {
      auto comma = list.rfind(',');
      std::string_view element = trimOws(comma == std::string_view::npos ? list : list.substr(comma + 1));
      if (!element.empty()) {
        auto ip = parseForwardedAddress(element);
        if (!ip) return current;
        current = *ip;
        if (!trusted.contains(current)) return current;
      }
      if (comma == std::string_view::npos) break;
      list = list.substr(0, comma);
    }
  }
  return current;
}

std::string_view lastListElement(std::string_view list) {
  auto comma = list.rfind(',');
  return trimOws(comma == std::string_view::npos ? list : list.substr(comma + 1));
}

std::string_view forwardedScheme(std::string_view value) {
  if (equalsIgnoreCase(value, "https")) return "https";
  if (equalsIgnoreCase(value, "http")) return "http";
  return {};
}

bool isValidHost(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostBytes) return false;
  auto part = splitHostPort(host);
  if (!part) return false;
  if (part->bracketed) return isIpv6Literal(part->host);
  std::string_view name = part->host;
  if (name.empty() || name.front() == '.' || name.front() == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace berth::server
