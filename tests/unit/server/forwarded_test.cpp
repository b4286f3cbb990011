#include "server/forwarded.h"

#include <gtest/gtest.h>

#include <vector>

namespace berth::server {
namespace {

IpAddress ip(std::string_view text) { return *parseIp(text); }

CidrSet trusted(std::initializer_list<const char*> ranges) {
  CidrSet set;
  for (const char* r : ranges) set.add(*parseCidr(r));
  return set;
}

std::string client(const char* peer, const CidrSet& proxies, std::vector<std::string_view> xff) {
  return forwardedClient(ip(peer), proxies, xff).toString();
}

TEST(Forwarded, ParseAddressForms) {
  EXPECT_EQ(parseForwardedAddress("192.0.2.1"), ip("192.0.2.1"));
  EXPECT_EQ(parseForwardedAddress(" 192.0.2.1\t"), ip("192.0.2.1"));
  EXPECT_EQ(parseForwardedAddress("192.0.2.1:5678"), ip("192.0.2.1"));
  EXPECT_EQ(parseForwardedAddress("2001:db8::1"), ip("2001:db8::1"));
  EXPECT_EQ(parseForwardedAddress("[2001:db8::1]"), ip("2001:db8::1"));
  EXPECT_EQ(parseForwardedAddress("[2001:db8::1]:443"), ip("2001:db8::1"));
  EXPECT_EQ(parseForwardedAddress("::ffff:192.0.2.1"), ip("192.0.2.1"));
  for (const char* bad : {"", "unknown", "_hidden", "192.0.2.1:", "192.0.2.1:99999", "192.0.2.1:80:80",
                          "[2001:db8::1", "[2001:db8::1]x", "[192.0.2.1]", "[2001:db8::1]:", "2001:db8::1:99999x",
                          "192.0.2.1 extra", "host.example:80"}) {
    EXPECT_FALSE(parseForwardedAddress(bad)) << bad;
  }
}

TEST(Forwarded, RightMostUntrustedEntry) {
  auto proxies = trusted({"127.0.0.1/32", "10.0.0.0/8"});
  EXPECT_EQ(client("127.0.0.1", proxies, {"203.0.113.7"}), "203.0.113.7");
  // The client may write anything on the left; only what trusted hops appended counts.
  EXPECT_EQ(client("127.0.0.1", proxies, {"6.6.6.6, 203.0.113.7"}), "203.0.113.7");
  EXPECT_EQ(client("127.0.0.1", proxies, {"6.6.6.6, 203.0.113.7, 10.1.2.3"}), "203.0.113.7");
  // Several header lines are one list, in order.
  EXPECT_EQ(client("127.0.0.1", proxies, {"6.6.6.6", "203.0.113.7", "10.1.2.3"}), "203.0.113.7");
  EXPECT_EQ(client("127.0.0.1", proxies, {"[2001:db8::7]:443"}), "2001:db8::7");
}

TEST(Forwarded, EveryEntryTrustedGivesTheLeftMost) {
  auto proxies = trusted({"10.0.0.0/8"});
  EXPECT_EQ(client("10.0.0.1", proxies, {"10.0.0.3, 10.0.0.2"}), "10.0.0.3");
}

TEST(Forwarded, NoHeaderGivesThePeer) {
  auto proxies = trusted({"127.0.0.1/32"});
  EXPECT_EQ(client("127.0.0.1", proxies, {}), "127.0.0.1");
  EXPECT_EQ(client("127.0.0.1", proxies, {""}), "127.0.0.1");
  EXPECT_EQ(client("127.0.0.1", proxies, {" , ,"}), "127.0.0.1");
}

TEST(Forwarded, EmptyElementsAreSkipped) {
  auto proxies = trusted({"127.0.0.1/32"});
  EXPECT_EQ(client("127.0.0.1", proxies, {"203.0.113.7,,"}), "203.0.113.7");
  EXPECT_EQ(client("127.0.0.1", proxies, {"203.0.113.7, , 127.0.0.1"}), "203.0.113.7");
}

TEST(Forwarded, GarbageStopsAtTheHopThatWroteIt) {
  auto proxies = trusted({"127.0.0.1/32", "10.0.0.0/8"});
  // The peer appended garbage: the peer is all we know.
  EXPECT_EQ(client("127.0.0.1", proxies, {"203.0.113.7, unknown"}), "127.0.0.1");
  // A trusted hop further left wrote garbage: that hop, never the client-written 6.6.6.6.
  EXPECT_EQ(client("127.0.0.1", proxies, {"6.6.6.6, garbage<script>, 10.1.2.3"}), "10.1.2.3");
  EXPECT_EQ(client("127.0.0.1", proxies, {"6.6.6.6, 1.2.3.4.5, 10.1.2.3"}), "10.1.2.3");
}

TEST(Forwarded, MappedPeerAndEntries) {
  auto proxies = trusted({"127.0.0.1/32"});
  EXPECT_EQ(client("::ffff:127.0.0.1", proxies, {"::ffff:203.0.113.7"}), "203.0.113.7");
}

TEST(Forwarded, LastListElement) {
  EXPECT_EQ(lastListElement("https"), "https");
  EXPECT_EQ(lastListElement("http, https"), "https");
  EXPECT_EQ(lastListElement("a.example,b.example "), "b.example");
  EXPECT_EQ(lastListElement("a,"), "");
  EXPECT_EQ(lastListElement(""), "");
}

TEST(Forwarded, Scheme) {
  EXPECT_EQ(forwardedScheme("https"), "https");
  EXPECT_EQ(forwardedScheme("HTTPS"), "https");
  EXPECT_EQ(forwardedScheme("http"), "http");
  EXPECT_EQ(forwardedScheme("ftp"), "");
  EXPECT_EQ(forwardedScheme("https "), "");  // callers trim
  EXPECT_EQ(forwardedScheme(""), "");
}

TEST(Forwarded, ValidHost) {
  for (const char* good : {"registry.test", "registry.test:5000", "REGISTRY.example.com", "localhost",
                           "my_registry:80", "127.0.0.1", "127.0.0.1:5000", "[::1]", "[::1]:5000",
                           "[2001:db8::1]:65535", "a-b.c"}) {
    EXPECT_TRUE(isValidHost(good)) << good;
  }
  for (const char* bad : {"", "registry.test:", "registry.test:65536", "registry.test:abc", "a:1:2",
                          "evil.test/path", "evil.test?x", "evil.test#x", "a b", "a\r\nX-Injected: 1",
                          "user@host", "[::1", "[::1]x", "[::1]:", "[host]", "[1.2.3.4]", ".lead", "-lead",
                          "\"quoted\"", "<script>", "a%20b", "::1"}) {
    EXPECT_FALSE(isValidHost(bad)) << bad;
  }
  EXPECT_FALSE(isValidHost(std::string(300, 'a')));
  EXPECT_TRUE(isValidHost(std::string(255, 'a') + ":65535"));
}

}  // namespace
}  // namespace berth::server
