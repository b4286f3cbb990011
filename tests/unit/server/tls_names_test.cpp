#include "server/tls_names.h"

#include <gtest/gtest.h>

namespace berth::server {
namespace {

IpAddress ip(std::string_view text) { return *parseIp(text); }

CertificateNames names(std::vector<std::string> dns, std::vector<IpAddress> ips = {}, std::string_view cn = "") {
  return certificateNames(dns, ips, cn);
}

TEST(TlsNames, ExactDnsIgnoresCaseAndTrailingDot) {
  auto n = names({"Registry.Test"});
  EXPECT_EQ(matchServerName(n, "registry.test"), NameMatch::kExact);
  EXPECT_EQ(matchServerName(n, "REGISTRY.TEST"), NameMatch::kExact);
  EXPECT_EQ(matchServerName(n, "registry.test."), NameMatch::kExact);
  EXPECT_EQ(matchServerName(n, "registry.tes"), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, "x.registry.test"), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, ""), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, "."), NameMatch::kNone);
}

TEST(TlsNames, WildcardCoversExactlyOneLabel) {
  auto n = names({"*.custom.test"});
  EXPECT_EQ(matchServerName(n, "foo.custom.test"), NameMatch::kWildcard);
  EXPECT_EQ(matchServerName(n, "FOO.Custom.Test"), NameMatch::kWildcard);
  EXPECT_EQ(matchServerName(n, "custom.test"), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, "a.b.custom.test"), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, ".custom.test"), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, "foo.custom.test.evil"), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, "foocustom.test"), NameMatch::kNone);
}

TEST(TlsNames, PartialWildcardIsNotAWildcard) {
  auto n = names({"f*.custom.test", "*"});
  EXPECT_EQ(matchServerName(n, "foo.custom.test"), NameMatch::kNone);
  EXPECT_EQ(matchServerName(n, "test"), NameMatch::kNone);
}

TEST(TlsNames, IpEntries) {
  auto n = names({"registry.test"}, {ip("127.0.0.1"), ip("::1")});
  EXPECT_EQ(matchServerName(n, "127.0.0.1"), NameMatch::kExact);
  EXPECT_EQ(matchServerName(n, "::1"), NameMatch::kExact);
  EXPECT_EQ(matchServerName(n, "127.0.0.2"), NameMatch::kNone);
  // An address is never matched against DNS names, nor a name against IP entries.
  EXPECT_EQ(matchServerName(names({"127.0.0.1"}), "127.0.0.1"), NameMatch::kNone);
}

TEST(TlsNames, CommonNameOnlyWithoutSan) {
  auto cn_only = names({}, {}, "Legacy.Test");
  ASSERT_EQ(cn_only.dns.size(), 1u);
  EXPECT_EQ(cn_only.dns[0], "legacy.test");
  EXPECT_EQ(matchServerName(cn_only, "legacy.test"), NameMatch::kExact);
  // With any SAN the CN is ignored (RFC 6125).
  auto with_san = names({"registry.test"}, {}, "legacy.test");
  EXPECT_EQ(matchServerName(with_san, "legacy.test"), NameMatch::kNone);
  auto ip_san = names({}, {ip("10.0.0.1")}, "legacy.test");
  EXPECT_EQ(matchServerName(ip_san, "legacy.test"), NameMatch::kNone);
  // A CN that is an address is an IP entry.
  auto ip_cn = names({}, {}, "192.0.2.1");
  EXPECT_EQ(matchServerName(ip_cn, "192.0.2.1"), NameMatch::kExact);
  EXPECT_TRUE(names({}, {}, "").dns.empty());
}

TEST(TlsNames, SelectPrefersExactThenWildcardThenDefault) {
  std::vector<CertificateNames> certs = {
      names({"registry.test"}, {ip("127.0.0.1")}),
      names({"*.custom.test"}),
      names({"special.custom.test"}),
      names({"*.custom.test", "other.test"}),
  };
  EXPECT_EQ(selectCertificate(certs, "registry.test"), 0u);
  EXPECT_EQ(selectCertificate(certs, "foo.custom.test"), 1u);       // first wildcard
  EXPECT_EQ(selectCertificate(certs, "special.custom.test"), 2u);   // exact beats an earlier wildcard
  EXPECT_EQ(selectCertificate(certs, "other.test"), 3u);
  EXPECT_EQ(selectCertificate(certs, "unknown.test"), 0u);
  EXPECT_EQ(selectCertificate(certs, "a.b.custom.test"), 0u);
  EXPECT_EQ(selectCertificate(certs, ""), 0u);
  EXPECT_EQ(selectCertificate({}, "registry.test"), 0u);
}

}  // namespace
}  // namespace berth::server
