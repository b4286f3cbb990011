#pragma once
// Which certificate answers a TLS server name (SNI). Beast- and OpenSSL-free so the rules
// are unit-tested on their own; tls_context.cpp reads the names out of the certificates.
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"

namespace berth::server {

// The names a certificate is valid for, lower-cased. A DNS name may be a wildcard of one
// label ("*.example.com").
struct CertificateNames {
  std::vector<std::string> dns;
  std::vector<IpAddress> ips;
};

// The names from a certificate's subjectAltName DNS and IP entries; its subject CN only when
// it has neither (RFC 6125 6.4.4). A CN that is an IP literal counts as an IP entry.
CertificateNames certificateNames(const std::vector<std::string>& san_dns, const std::vector<IpAddress>& san_ips,
                                  std::string_view common_name);

enum class NameMatch { kNone, kWildcard, kExact };

// How `server_name` matches `names`: DNS names compare case-insensitively (one trailing dot
// ignored); "*.example.com" matches exactly one label in front of example.com, not
// example.com itself nor a.b.example.com; an IP literal compares with the IP entries.
NameMatch matchServerName(const CertificateNames& names, std::string_view server_name);

// The certificate to present: the first with an exact match, else the first with a wildcard
// match, else the default (index 0).
size_t selectCertificate(const std::vector<CertificateNames>& certs, std::string_view server_name);

}  // namespace berth::server
