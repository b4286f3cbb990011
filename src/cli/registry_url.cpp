#include "cli/registry_url.h"

#include <algorithm>

#include "common/text.h"

namespace berth::cli {
namespace {

Error invalid(std::string_view text, std::string_view why) {
  return makeError(Code::kInvalidArgument,
                   "invalid registry " + quoteUntrusted(text) + ": " + std::string(why));
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool isIpv6Char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

}  // namespace

std::string RegistryUrl::authority() const { return port.empty() ? host : host + ":" + port; }

std::string RegistryUrl::base() const { return scheme + "://" + authority(); }

Result<RegistryUrl> parseRegistryUrl(std::string_view text) {
  RegistryUrl url;
  std::string_view rest = text;
  if (auto sep = rest.find("://"); sep != std::string_view::npos) {
    std::string scheme(rest.substr(0, sep));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), lower);
    if (scheme != "http" && scheme != "https") return invalid(text, "the scheme must be http or https");
    url.scheme = std::move(scheme);
    rest.remove_prefix(sep + 3);
  } else {
    url.scheme = "https";
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return invalid(text, "expected [scheme://]host[:port], without a path");
  if (rest.find_first_of("@?#") != std::string_view::npos) {
    return invalid(text, "expected [scheme://]host[:port], without user, query or fragment");
  }
  std::string host(rest);
  std::transform(host.begin(), host.end(), host.begin(), lower);
  std::string port;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string::npos || close == 1) return invalid(text, "malformed IPv6 address");
    if (!std::all_of(host.begin() + 1, host.begin() + close, isIpv6Char)) return invalid(text, "malformed IPv6 address");
    std::string after = host.substr(close + 1);
    host.resize(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid(text, "unexpected characters after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) return invalid(text, "empty port");
    }
  } else {
    if (auto colon = host.rfind(':'); colon != std::string::npos) {
      port = host.substr(colon + 1);
      host.resize(colon);
      if (port.empty()) return invalid(text, "empty port");
    }
    if (host.empty()) return invalid(text, "empty host");
    if (!std::all_of(host.begin(), host.end(), isHostChar)) return invalid(text, "the host has invalid characters");
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return invalid(text, "the port must be a number");
    }
    int n = std::stoi(port);
    if (n < 1 || n > 65535) return invalid(text, "the port must be 1 to 65535");
    port = std::to_string(n);  // one key per port: "05000" and "5000" are the same
  }
  url.host = std::move(host);
  url.port = std::move(port);
  return url;
}

}  // namespace berth::cli
