// The gc section: durations with units, defaults, and errors naming the key.
#include <gtest/gtest.h>

#include "config/config.h"

namespace berth {
namespace {

TEST(Config, GarbageCollection) {
  auto d = parseConfig("");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->gc.schedule);
  EXPECT_EQ(d->gc.grace_period.count(), 3600);
  EXPECT_EQ(d->gc.interval.count(), 24 * 3600);
  EXPECT_EQ(d->gc.upload_max_age.count(), 24 * 3600);
  auto c = parseConfig("gc:\n  grace_period: 30m\n  interval: 7d\n  upload_max_age: 90\n  schedule: false\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->gc.grace_period.count(), 1800);
  EXPECT_EQ(c->gc.interval.count(), 7 * 86400);
  EXPECT_EQ(c->gc.upload_max_age.count(), 90);
  EXPECT_FALSE(c->gc.schedule);
  EXPECT_EQ(parseConfig("gc:\n  grace_period: 0\n")->gc.grace_period.count(), 0);
  EXPECT_EQ(parseConfig("gc:\n  interval: 45s\n")->gc.interval.count(), 45);
  EXPECT_EQ(parseConfig("gc:\n  interval: 2h\n")->gc.interval.count(), 7200);
  for (auto [yaml, key] : {std::pair{"gc:\n  interval: 0\n", "gc.interval"},
                           std::pair{"gc:\n  interval: 0h\n", "gc.interval"},
                           std::pair{"gc:\n  upload_max_age: 0\n", "gc.upload_max_age"},
                           std::pair{"gc:\n  grace_period: -1h\n", "gc.grace_period"},
                           std::pair{"gc:\n  grace_period: 1w\n", "gc.grace_period"},
                           std::pair{"gc:\n  grace_period: h\n", "gc.grace_period"},
                           std::pair{"gc:\n  interval: 99999999999d\n", "gc.interval"},
                           std::pair{"gc:\n  schedule: often\n", "gc.schedule"},
                           std::pair{"gc:\n  period: 1h\n", "gc.period"}}) {
    auto r = parseConfig(yaml);
    ASSERT_FALSE(r) << yaml;
    EXPECT_NE(r.error().message.find(key), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace berth
