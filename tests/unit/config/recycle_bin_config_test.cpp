// recycle_bin: on by default with 7 days; retention 1-90; errors name the key.
#include <gtest/gtest.h>

#include <utility>

#include "config/config.h"

namespace berth {
namespace {

TEST(Config, RecycleBin) {
  auto d = parseConfig("listen: 127.0.0.1:1\n");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->recycle_bin.enabled);
  EXPECT_EQ(d->recycle_bin.retention_days, 7);
  auto c = parseConfig("recycle_bin:\n  enabled: false\n  retention_days: 90\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->recycle_bin.enabled);
  EXPECT_EQ(c->recycle_bin.retention_days, 90);
  EXPECT_EQ(parseConfig("recycle_bin:\n  retention_days: 1\n")->recycle_bin.retention_days, 1);
  for (auto [yaml, key] : {std::pair{"recycle_bin:\n  retention_days: 0\n", "recycle_bin.retention_days"},
                           std::pair{"recycle_bin:\n  retention_days: 91\n", "recycle_bin.retention_days"},
                           std::pair{"recycle_bin:\n  retention_days: week\n", "recycle_bin.retention_days"},
                           std::pair{"recycle_bin:\n  enabled: perhaps\n", "recycle_bin.enabled"},
                           std::pair{"recycle_bin:\n  days: 3\n", "recycle_bin.days"}}) {
    auto r = parseConfig(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace berth
