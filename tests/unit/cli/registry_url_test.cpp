#include "cli/registry_url.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

RegistryUrl parsed(std::string_view text) {
  auto url = parseRegistryUrl(text);
  EXPECT_TRUE(url) << text << ": " << (url ? "" : url.error().message);
  return url ? *url : RegistryUrl{};
}

TEST(RegistryUrl, WithoutSchemeIsHttps) {
  auto url = parsed("registry.example.com");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "registry.example.com");
  EXPECT_EQ(url.port, "");
  EXPECT_EQ(url.authority(), "registry.example.com");
  EXPECT_EQ(url.base(), "https://registry.example.com");
}

TEST(RegistryUrl, HostAndPortWithoutScheme) {
  auto url = parsed("localhost:5000");
  EXPECT_EQ(url.base(), "https://localhost:5000");
  EXPECT_EQ(url.authority(), "localhost:5000");
}

TEST(RegistryUrl, ExplicitHttpScheme) {
  auto url = parsed("http://127.0.0.1:5000");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "5000");
  EXPECT_EQ(url.authority(), "127.0.0.1:5000");
  EXPECT_EQ(url.base(), "http://127.0.0.1:5000");
}

TEST(RegistryUrl, SchemeAndHostAreCaseInsensitiveTrailingSlashesGo) {
  auto url = parsed("HTTPS://Registry.Example.COM:8443//");
  EXPECT_EQ(url.base(), "https://registry.example.com:8443");
  EXPECT_EQ(url.authority(), "registry.example.com:8443");
}

TEST(RegistryUrl, PortIsNormalised) {
  EXPECT_EQ(parsed("host:05000").authority(), "host:5000");
  EXPECT_EQ(parsed("host:1").port, "1");
  EXPECT_EQ(parsed("host:65535").port, "65535");
}

TEST(RegistryUrl, Ipv6InBrackets) {
  auto url = parsed("http://[::1]:5000");
  EXPECT_EQ(url.host, "[::1]");
  EXPECT_EQ(url.port, "5000");
  EXPECT_EQ(url.base(), "http://[::1]:5000");
  EXPECT_EQ(parsed("[FE80::1]").authority(), "[fe80::1]");
}

TEST(RegistryUrl, RejectsWhatIsNoRegistry) {
  for (std::string_view bad :
       {"", "ftp://host", "http://", "https://:5000", "host:", "host:0", "host:65536", "host:99999999", "host:abc",
        "host:-1", "host/path", "https://host/v2/", "user@host", "user:pw@host:5000", "host?x=1", "host#frag",
        "[::1", "[]:5000", "[::1]x", "[::1]:", "[zz::1]", "ho st", "host:5000:6000", "://host"}) {
    auto url = parseRegistryUrl(bad);
    EXPECT_FALSE(url) << "accepted: " << bad;
    if (!url) {
      EXPECT_EQ(url.error().code, Code::kInvalidArgument);
      EXPECT_NE(url.error().message.find("invalid registry"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace berth::cli
