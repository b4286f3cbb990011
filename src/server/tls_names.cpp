#include "server/tls_names.h"

#include "common/text.h"

namespace berth::server {
namespace {

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view withoutTrailingDot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

CertificateNames certificateNames(const std::vector<std::string>& san_dns, const std::vector<IpAddress>& san_ips,
                                  std::string_view common_name) {
  CertificateNames names;
  for (const auto& d : san_dns) {
    std::string_view name = withoutTrailingDot(d);
    if (!name.empty()) names.dns.push_back(lowerAscii(name));
  }
  names.ips = san_ips;
  if (names.dns.empty() && names.ips.empty() && !common_name.empty()) {
    if (auto ip = parseIp(common_name)) {
      names.ips.push_back(*ip);
    } else {
      names.dns.push_back(lowerAscii(withoutTrailingDot(common_name)));
    }
  }
  return names;
}

NameMatch matchServerName(const CertificateNames& names, std::string_view server_name) {
  server_name = withoutTrailingDot(server_name);
  if (server_name.empty()) return NameMatch::kNone;
  if (auto ip = parseIp(server_name)) {
    for (const auto& a : names.ips) {
      if (a == *ip) return NameMatch::kExact;
    }
    return NameMatch::kNone;
  }
  // The part after the first label, for wildcards: "a.example.com" -> "example.com".
  auto dot = server_name.find('.');
  std::string_view parent = dot == std::string_view::npos || dot == 0 ? std::string_view{}
                                                                      : server_name.substr(dot + 1);
  NameMatch best = NameMatch::kNone;
  for (const auto& d : names.dns) {
    if (equalsIgnoreCase(d, server_name)) return NameMatch::kExact;
    if (d.size() > 2 && d[0] == '*' && d[1] == '.' && !parent.empty() &&
        equalsIgnoreCase(std::string_view(d).substr(2), parent)) {
      best = NameMatch::kWildcard;
    }
  }
  return best;
}

size_t selectCertificate(const std::vector<CertificateNames>& certs, std::string_view server_name) {
  size_t wildcard = certs.size();
  for (size_t i = 0; i < certs.size(); ++i) {
    auto m = matchServerName(certs[i], server_name);
    if (m == NameMatch::kExact) return i;
    if (m == NameMatch::kWildcard && wildcard == certs.size()) wildcard = i;
  }
  return wildcard == certs.size() ? 0 : wildcard;
}

}  // namespace berth::server
