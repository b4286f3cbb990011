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

}  // namespace

std::optional<IpAddress> parseForwardedAddress(std::string_view element) {
  element = trimOws(element);
  if (!element.empty() && element.front() == '[') {
    auto close = element.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = element.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !isPort(rest.substr(1)))) return std::nullopt;
    std::string_view inner = element.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos) return std::nullopt;  // brackets hold IPv6 only
    auto ip = parseIp(inner);
    return ip ? std::optional(*ip) : std::nullopt;
  }
  // One colon: IPv4 with a port. More: a bare IPv6 address.
  auto colon = element.find(':');
  if (colon != std::string_view::npos && element.find(':', colon + 1) == std::string_view::npos) {
    if (!isPort(element.substr(colon + 1))) return std::nullopt;
    element = element.substr(0, colon);
    if (element.find(':') != std::string_view::npos) return std::nullopt;
  }
  auto ip = parseIp(element);
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
  std::string_view name = host;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view inner = host.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos || !parseIp(inner)) return false;
    std::string_view rest = host.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && isPort(rest.substr(1)));
  }
  if (auto colon = host.find(':'); colon != std::string_view::npos) {
    if (!isPort(host.substr(colon + 1))) return false;
    name = host.substr(0, colon);
  }
  if (name.empty() || name.front() == '.' || name.front() == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace berth::server
