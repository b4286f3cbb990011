#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace berth {
namespace {

std::string writeTemp(const std::string& text) {
  char path[] = "/tmp/berth-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Config, LoadsValues) {
  auto path = writeTemp(
      "listen: 0.0.0.0:6000\ndata: /srv/berth\nlog:\n  level: warn\n  access: false\n"
      "server:\n  idle_timeout: 5\n  max_connections: 10\n");
  auto c = loadConfigFile(path);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listen, "0.0.0.0:6000");
  EXPECT_EQ(c->data_dir, "/srv/berth");
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_FALSE(c->access_log);
  EXPECT_EQ(c->limits.idle_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c->limits.max_connections, 10u);
  std::remove(path.c_str());
}

TEST(Config, ErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* key;
  } cases[] = {
      {"lisen: x\n", "lisen"},
      {"log:\n  level: loud\n", "log.level"},
      {"server:\n  idle_timeout: -1\n", "server.idle_timeout"},
      {"server:\n  max_connections: many\n", "server.max_connections"},
      {"listen: nowhere\n", "listen"},
      {"server:\n  bogus: 1\n", "server.bogus"},
      {"server:\n  io_threads: 100000\n", "server.io_threads"},
      {"server:\n  blocking_threads: 0\n", "server.blocking_threads"},
      {"server:\n  max_manifest_bytes: 4194305\n", "server.max_manifest_bytes"},
      {"server:\n  min_body_rate: 18446744073709551615\n", "server.min_body_rate"},
      {"server:\n  max_upload_bytes: 0\n", "server.max_upload_bytes"},
      {"server:\n  max_upload_bytes: -1\n", "server.max_upload_bytes"},
      {"server:\n  max_upload_bytes: 10GiB\n", "server.max_upload_bytes"},
  };
  for (const auto& c : cases) {
    auto path = writeTemp(c.yaml);
    auto r = loadConfigFile(path);
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_NE(r.error().message.find(c.key), std::string::npos) << r.error().message;
    std::remove(path.c_str());
  }
}

TEST(Config, MaxUploadBytes) {
  EXPECT_EQ(parseConfig("")->limits.max_upload_bytes, 10737418240u);  // 10 GiB
  auto c = parseConfig("server:\n  max_upload_bytes: 1048576\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->limits.max_upload_bytes, 1048576u);
}

TEST(Config, Auth) {
  auto none = parseConfig("auth: none\n");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->auth.enabled);
  EXPECT_TRUE(parseConfig("")->auth.enabled);  // secure by default
  auto c = parseConfig(
      "auth:\n  service: reg.example\n  access_token_ttl: 60\n  oidc:\n"
      "    - issuer: https://a\n      audience: x\n      jwks_file: /k.json\n"
      "    - issuer: https://b\n      audience: y\n      jwks_url: https://b/keys\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->auth.service, "reg.example");
  EXPECT_EQ(c->auth.access_token_ttl, 60);
  ASSERT_EQ(c->auth.oidc.size(), 2u);
  EXPECT_EQ(c->auth.oidc[1].jwks_url, "https://b/keys");
  struct Case {
    const char* yaml;
    const char* key;
  } bad[] = {
      {"auth: maybe\n", "auth"},
      {"auth:\n  servce: x\n", "auth.servce"},
      {"auth:\n  service: 'a b'\n", "auth.service"},
      {"auth:\n  access_token_ttl: 0\n", "auth.access_token_ttl"},
      {"auth:\n  oidc:\n    - issuer: i\n      audience: a\n", "auth.oidc[0].jwks_file"},
      {"auth:\n  oidc:\n    - issuer: i\n      audience: a\n      jwks_file: f\n      jwks_url: https://u\n",
       "auth.oidc[0].jwks_file"},
      {"auth:\n  oidc:\n    - issuer: i\n      audience: a\n      jwks_url: file:///etc/passwd\n",
       "auth.oidc[0].jwks_url"},
      {"auth:\n  oidc:\n    - audience: a\n      jwks_file: f\n", "auth.oidc[0].issuer"},
  };
  for (const auto& b : bad) {
    auto r = parseConfig(b.yaml);
    ASSERT_FALSE(r) << b.yaml;
    EXPECT_NE(r.error().message.find(b.key), std::string::npos) << r.error().message;
  }
}

TEST(Config, MetricsAnonymous) {
  EXPECT_FALSE(parseConfig("listen: 127.0.0.1:1\n")->metrics_anonymous);
  auto c = parseConfig("metrics:\n  anonymous: true\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->metrics_anonymous);
  for (const char* yaml : {"metrics:\n  anonymous: perhaps\n", "metrics:\n  anonymus: true\n", "metrics: on\n"}) {
    auto r = parseConfig(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message.find("metrics"), std::string::npos) << r.error().message;
  }
  EXPECT_NE(parseConfig("metrics:\n  anonymous: perhaps\n").error().message.find("metrics.anonymous"),
            std::string::npos);
}

TEST(Config, UsageFlushInterval) {
  EXPECT_EQ(parseConfig("listen: 127.0.0.1:1\n")->usage_flush_interval, std::chrono::seconds(5));
  auto c = parseConfig("usage:\n  flush_interval: 30\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->usage_flush_interval, std::chrono::seconds(30));
  for (const char* bad : {"usage:\n  flush_interval: 0\n", "usage:\n  flush_interval: soon\n",
                          "usage:\n  flush_interval: -5\n"}) {
    auto r = parseConfig(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("usage.flush_interval"), std::string::npos) << r.error().message;
  }
  auto unknown = parseConfig("usage:\n  interval: 5\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("usage.interval"), std::string::npos);
}

TEST(Config, Audit) {
  auto d = parseConfig("listen: 127.0.0.1:1\n");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->audit.enabled);
  EXPECT_TRUE(d->audit.pulls);
  EXPECT_EQ(d->audit.retention_days, 90);
  EXPECT_EQ(d->audit.file, "");
  auto c = parseConfig("audit:\n  file: /var/log/berth/audit.jsonl\n  retention_days: 0\n  pulls: false\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->audit.file, "/var/log/berth/audit.jsonl");
  EXPECT_EQ(c->audit.retention_days, 0);
  EXPECT_FALSE(c->audit.pulls);
  EXPECT_FALSE(parseConfig("audit:\n  enabled: false\n")->audit.enabled);
  for (auto [yaml, key] : {std::pair{"audit:\n  retention_days: -1\n", "audit.retention_days"},
                           std::pair{"audit:\n  retention_days: 36501\n", "audit.retention_days"},
                           std::pair{"audit:\n  retention_days: soon\n", "audit.retention_days"},
                           std::pair{"audit:\n  pulls: maybe\n", "audit.pulls"},
                           std::pair{"audit:\n  enabled: 2\n", "audit.enabled"},
                           std::pair{"audit:\n  file: \"\"\n", "audit.file"},
                           std::pair{"audit:\n  path: /x\n", "audit.path"},
                           std::pair{"audit: on\n", "audit."}}) {
    auto r = parseConfig(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

TEST(Config, MissingFile) {
  auto r = loadConfigFile("/nonexistent/berth.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot read"), std::string::npos);
}

TEST(Config, TlsCertificates) {
  auto c = parseConfig(
      "tls:\n  certificates:\n    - cert: /etc/berth/a.crt\n      key: /etc/berth/a.key\n"
      "    - {cert: b.crt, key: b.key}\n");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->tls_certificates.size(), 2u);
  EXPECT_EQ(c->tls_certificates[0].cert, "/etc/berth/a.crt");
  EXPECT_EQ(c->tls_certificates[0].key, "/etc/berth/a.key");
  EXPECT_EQ(c->tls_certificates[1].cert, "b.crt");
  EXPECT_EQ(c->tls_certificates[1].key, "b.key");
  auto none = parseConfig("tls:\n  certificates: []\n");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->tls_certificates.empty());
}

TEST(Config, TrustedProxies) {
  auto c = parseConfig("server:\n  trusted_proxies: [10.0.0.0/8, \"::1\", 192.0.2.7, \"2001:db8::/32\"]\n");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->trusted_proxies.ranges().size(), 4u);
  EXPECT_TRUE(c->trusted_proxies.contains(*parseIp("10.1.2.3")));
  EXPECT_TRUE(c->trusted_proxies.contains(*parseIp("::1")));
  EXPECT_TRUE(c->trusted_proxies.contains(*parseIp("::ffff:192.0.2.7")));
  EXPECT_FALSE(c->trusted_proxies.contains(*parseIp("192.0.2.8")));
  EXPECT_TRUE(parseConfig("")->trusted_proxies.empty());
}

TEST(Config, TlsAndProxyErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* key;
    const char* what;
  } cases[] = {
      {"tls:\n  certificate: []\n", "tls.certificate", "unknown key"},
      {"tls:\n  certificates: a.crt\n", "tls.certificates", "list"},
      {"tls:\n  certificates:\n    - cert: a.crt\n", "tls.certificates[0].key", "missing"},
      {"tls:\n  certificates:\n    - {cert: a.crt, key: a.key}\n    - {key: b.key}\n",
       "tls.certificates[1].cert", "missing"},
      {"tls:\n  certificates:\n    - {cert: a.crt, key: a.key, chain: c.crt}\n", "tls.certificates[0].chain",
       "unknown key"},
      {"tls:\n  certificates:\n    - {cert: \"\", key: a.key}\n", "tls.certificates[0].cert", "PEM"},
      {"tls:\n  certificates:\n    - {cert: [a], key: a.key}\n", "tls.certificates[0].cert", "invalid"},
      {"server:\n  trusted_proxies: 10.0.0.0/8\n", "server.trusted_proxies", "list"},
      {"server:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.1/8]\n", "server.trusted_proxies[1]", "host bits"},
      {"server:\n  trusted_proxies: [proxy.internal]\n", "server.trusted_proxies[0]", "CIDR"},
      {"server:\n  trusted_proxies: [\"::/129\"]\n", "server.trusted_proxies[0]", "prefix length"},
  };
  for (const auto& c : cases) {
    auto r = parseConfig(c.yaml);
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_EQ(r.code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message.find(std::string(c.key) + ":"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.what), std::string::npos) << r.error().message;
  }
}

TEST(Config, ParseListen) {
  EXPECT_EQ(parseListen("127.0.0.1:5000")->second, 5000);
  EXPECT_EQ(parseListen("[::1]:0")->first, "::1");
  EXPECT_EQ(parseListen(":80")->first, "0.0.0.0");
  EXPECT_FALSE(parseListen("host"));
  EXPECT_FALSE(parseListen("h:70000"));
  EXPECT_FALSE(parseListen("h:12a"));
  EXPECT_FALSE(parseListen("[::1]5000"));
}

}  // namespace
}  // namespace berth
