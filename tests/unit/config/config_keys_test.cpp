// The key table is the only list of configuration keys: the README's full sample must
// parse, and must name every key the table has (so the docs cannot drift from the code).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "config/config.h"

namespace berth {
namespace {

std::string readmeSample() {
  std::ifstream in(std::string(BERTH_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const auto intro = all.find("Every key with its default");
  if (intro == std::string::npos) return {};
  const auto start = all.find("```yaml\n", intro);
  const auto end = all.find("```\n", start + 8);
  if (start == std::string::npos || end == std::string::npos) return {};
  return all.substr(start + 8, end - start - 8);
}

void collect(const YAML::Node& node, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& kv : node) {
    const std::string name = prefix + kv.first.as<std::string>();
    out.insert(name);
    if (kv.second.IsMap()) collect(kv.second, name + ".", out);
  }
}

TEST(ConfigKeys, TheReadmeSampleParsesAndNamesEveryKey) {
  const std::string sample = readmeSample();
  ASSERT_FALSE(sample.empty()) << "README.md has no configuration sample after 'Every key with its default'";
  auto parsed = parseConfig(sample);
  ASSERT_TRUE(parsed) << parsed.error().message;
  std::set<std::string> named;
  collect(YAML::Load(sample), "", named);
  for (const auto& key : configKeys()) {
    EXPECT_TRUE(named.count(std::string(key.name))) << key.name << " is missing from README.md's sample";
  }
}

TEST(ConfigKeys, EveryKeyHasADocAndAReaderAndTheHelpListsIt) {
  std::set<std::string_view> seen;
  const std::string help = configKeysHelp();
  for (const auto& key : configKeys()) {
    EXPECT_TRUE(seen.insert(key.name).second) << key.name;
    EXPECT_FALSE(key.doc.empty()) << key.name;
    EXPECT_NE(key.read, nullptr) << key.name;
    EXPECT_NE(help.find("  " + std::string(key.name) + " "), std::string::npos) << key.name;
  }
}

TEST(ConfigKeys, UnknownKeysAndBadValuesNameTheKey) {
  for (const auto& [yaml, key] : {std::pair{"server:\n  idle_timeout: -1\n", "server.idle_timeout"},
                                  std::pair{"server:\n  nope: 1\n", "server.nope"},
                                  std::pair{"nope: 1\n", "nope"},
                                  std::pair{"gc: 3\n", "gc"},
                                  std::pair{"recycle_bin:\n  retention_days: 91\n", "recycle_bin.retention_days"},
                                  std::pair{"auth: maybe\n", "auth"}}) {
    auto r = parseConfig(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

TEST(ConfigKeys, DriversAndTheirSettings) {
  auto c = parseConfig(
      "meta: {driver: postgresql, dsn: 'postgresql://berth@127.0.0.1:5432/berth', pool_size: 4}\n"
      "storage:\n  driver: s3\n  redirect: true\n  redirect_ttl: 5m\n"
      "  s3: {bucket: b, region: eu-west-1, endpoint: 'http://127.0.0.1:4568/', path_style: true}\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->meta.driver, "postgresql");
  EXPECT_EQ(c->meta.pool_size, 4u);
  EXPECT_EQ(c->storage.driver, "s3");
  EXPECT_TRUE(c->storage.redirect);
  EXPECT_EQ(c->storage.redirect_ttl, std::chrono::minutes(5));
  EXPECT_EQ(c->storage.s3.bucket, "b");
  EXPECT_EQ(c->storage.s3.endpoint, "http://127.0.0.1:4568");  // trailing '/' dropped
  EXPECT_TRUE(c->storage.s3.path_style);

  auto defaults = parseConfig("");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->meta.driver, "sqlite");
  EXPECT_EQ(defaults->storage.driver, "filesystem");
  EXPECT_FALSE(defaults->storage.redirect);

  for (const auto& [yaml, key] : {
           std::pair{"meta: {driver: mysql}\n", "meta.driver"},
           std::pair{"meta: {driver: postgresql}\n", "meta.dsn"},
           std::pair{"storage: {driver: s3}\n", "storage.s3.bucket"},
           std::pair{"storage: {driver: azure}\n", "storage.azure.container"},
           std::pair{"storage: {redirect: true}\n", "storage.redirect"},
           std::pair{"storage: {s3: {bucket: b, nope: 1}}\n", "storage.s3.nope"},
           std::pair{"storage: {s3: {endpoint: 'ftp://x'}}\n", "storage.s3.endpoint"},
           std::pair{"storage: {s3: 3}\n", "storage.s3"},
           std::pair{"storage: {driver: s3, redirect_ttl: 30s, s3: {bucket: b}}\n", "storage.redirect_ttl"}}) {
    auto r = parseConfig(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace berth
