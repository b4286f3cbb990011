// retention: policies run hourly by default; the interval takes durations; errors name the key.
#include <gtest/gtest.h>

#include <utility>

#include "config/config.h"

namespace berth {
namespace {

TEST(Config, Retention) {
  auto d = parseConfig("listen: 127.0.0.1:1\n");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->retention.schedule);
  EXPECT_EQ(d->retention.interval.count(), 3600);
  auto c = parseConfig("retention:\n  schedule: false\n  interval: 1h30m\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->retention.schedule);
  EXPECT_EQ(c->retention.interval.count(), 5400);
  for (auto [yaml, key] : {std::pair{"retention:\n  interval: 0\n", "retention.interval"},
                           std::pair{"retention:\n  interval: soon\n", "retention.interval"},
                           std::pair{"retention:\n  schedule: perhaps\n", "retention.schedule"},
                           std::pair{"retention:\n  keep: 3\n", "retention.keep"}}) {
    auto r = parseConfig(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace berth
