#include "common/cidr.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

IpAddress ip(std::string_view text) {
  auto r = parseIp(text);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : IpAddress{};
}

CidrRange cidr(std::string_view text) {
  auto r = parseCidr(text);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : CidrRange{};
}

TEST(ParseIp, Ipv4) {
  EXPECT_EQ(ip("192.0.2.1").toString(), "192.0.2.1");
  EXPECT_EQ(ip("0.0.0.0").toString(), "0.0.0.0");
  EXPECT_EQ(ip("255.255.255.255").toString(), "255.255.255.255");
  EXPECT_TRUE(ip("10.1.2.3").isV4());
}

TEST(ParseIp, Ipv6Canonical) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"::", "::"},
      {"::1", "::1"},
      {"2001:DB8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"},        // longest run
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},      // first of equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},   // a single zero group stays
      {"fe80::", "fe80::"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"1::2:3:4:5:6:7", "1:0:2:3:4:5:6:7"},
      {"::ffff:192.0.2.1", "192.0.2.1"},                  // IPv4-mapped is IPv4
      {"::FFFF:c000:0201", "192.0.2.1"},
      {"::192.0.2.1", "::c000:201"},                      // IPv4-compatible is not
      {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
  };
  for (const auto& c : cases) EXPECT_EQ(ip(c.in).toString(), c.out) << c.in;
}

TEST(ParseIp, MappedEqualsIpv4) {
  EXPECT_EQ(ip("::ffff:1.2.3.4"), ip("1.2.3.4"));
  EXPECT_NE(ip("::1.2.3.4"), ip("1.2.3.4"));
}

TEST(ParseIp, Rejects) {
  for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.04", "1..2.3",
                          "1.2.3.4 ", " 1.2.3.4", "+1.2.3.4", "1.2.3.-4", "a.b.c.d", ":", ":::", "1:2",
                          "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::1::", "1::2::3", ":1::", "::1:",
                          "12345::", "g::", "::ffff:1.2.3", "1.2.3.4::", "::1.2.3.4:5", "fe80::1%eth0",
                          "[::1]", "1.2.3.4:80", "1:2:3:4:5:6:7::8", "1:2:3:4:5:6:1.2.3.4:8"}) {
    auto r = parseIp(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.code(), Code::kInvalidArgument);
      EXPECT_NE(r.error().message.find("IP address"), std::string::npos) << r.error().message;
    }
  }
}

TEST(ParseIp, AcceptsEdgeForms) {
  EXPECT_TRUE(parseIp("1:2:3:4:5:6:1.2.3.4"));
  EXPECT_TRUE(parseIp("::1:2:3:4:5:6:7"));
  EXPECT_TRUE(parseIp("1:2:3:4:5:6:7::"));
}

TEST(Cidr, Ipv4Range) {
  auto r = cidr("10.0.0.0/8");
  EXPECT_TRUE(r.contains(ip("10.0.0.0")));
  EXPECT_TRUE(r.contains(ip("10.255.255.255")));
  EXPECT_FALSE(r.contains(ip("11.0.0.0")));
  EXPECT_FALSE(r.contains(ip("9.255.255.255")));
  EXPECT_EQ(r.prefixLength(), 8u);
  EXPECT_EQ(r.toString(), "10.0.0.0/8");
}

TEST(Cidr, OddPrefix) {
  auto r = cidr("192.168.4.0/22");
  EXPECT_TRUE(r.contains(ip("192.168.7.255")));
  EXPECT_FALSE(r.contains(ip("192.168.8.0")));
  EXPECT_FALSE(r.contains(ip("192.168.3.255")));
}

TEST(Cidr, MappedMatchesIpv4Range) {
  auto r = cidr("10.0.0.0/8");
  EXPECT_TRUE(r.contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(r.contains(ip("::10.1.2.3")));
  EXPECT_FALSE(r.contains(ip("2001:db8::1")));
  // A range written over mapped addresses matches plain IPv4 the same way.
  auto m = cidr("::ffff:10.0.0.0/104");
  EXPECT_TRUE(m.contains(ip("10.9.9.9")));
  EXPECT_EQ(m.toString(), "::ffff:10.0.0.0/104");
}

TEST(Cidr, Ipv6Range) {
  auto r = cidr("2001:db8::/32");
  EXPECT_TRUE(r.contains(ip("2001:db8::1")));
  EXPECT_TRUE(r.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(r.contains(ip("2001:db9::")));
  EXPECT_FALSE(r.contains(ip("10.0.0.1")));
  EXPECT_EQ(r.toString(), "2001:db8::/32");
}

TEST(Cidr, BareAddressIsSingleHost) {
  auto v4 = cidr("127.0.0.1");
  EXPECT_EQ(v4.prefixLength(), 32u);
  EXPECT_TRUE(v4.contains(ip("127.0.0.1")));
  EXPECT_TRUE(v4.contains(ip("::ffff:127.0.0.1")));
  EXPECT_FALSE(v4.contains(ip("127.0.0.2")));
  auto v6 = cidr("::1");
  EXPECT_EQ(v6.prefixLength(), 128u);
  EXPECT_TRUE(v6.contains(ip("::1")));
  EXPECT_FALSE(v6.contains(ip("::2")));
}

TEST(Cidr, ZeroPrefix) {
  auto all4 = cidr("0.0.0.0/0");
  EXPECT_TRUE(all4.contains(ip("203.0.113.9")));
  EXPECT_FALSE(all4.contains(ip("2001:db8::1")));  // all of IPv4, not all of IPv6
  auto all6 = cidr("::/0");
  EXPECT_TRUE(all6.contains(ip("2001:db8::1")));
  EXPECT_TRUE(all6.contains(ip("203.0.113.9")));
}

TEST(Cidr, HostBitsSetIsRefusedWithTheIntendedRange) {
  auto r = parseCidr("10.0.0.1/8");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message.find("host bits"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("10.0.0.0/8"), std::string::npos) << r.error().message;
  auto v6 = parseCidr("2001:db8::1/32");
  ASSERT_FALSE(v6);
  EXPECT_NE(v6.error().message.find("2001:db8::/32"), std::string::npos) << v6.error().message;
}

TEST(Cidr, Rejects) {
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/+8",
                          "10.0.0.0/8/8", "10.0.0.0/8 ", "::/129", "::/1000", "10.0.0/8", "host/8",
                          "10.0.0.0/a"}) {
    auto r = parseCidr(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("CIDR range"), std::string::npos) << r.error().message;
    }
  }
}

TEST(Cidr, RoundTrips) {
  for (const char* text : {"10.0.0.0/8", "0.0.0.0/0", "192.0.2.7/32", "2001:db8::/32", "::/0", "::1/128",
                           "fe80::/10", "::ffff:0.0.0.0/96"}) {
    auto r = cidr(text);
    EXPECT_EQ(r.toString(), text);
    EXPECT_EQ(cidr(r.toString()), r);
  }
}

TEST(CidrSet, ContainsAny) {
  CidrSet set({cidr("10.0.0.0/8"), cidr("2001:db8::/32")});
  EXPECT_TRUE(set.contains(ip("10.2.3.4")));
  EXPECT_TRUE(set.contains(ip("2001:db8::5")));
  EXPECT_FALSE(set.contains(ip("192.0.2.1")));
  EXPECT_FALSE(CidrSet().contains(ip("10.0.0.1")));
  EXPECT_TRUE(CidrSet().empty());
}

}  // namespace
}  // namespace berth
