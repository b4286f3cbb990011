// Found by tests/fuzz/config_fuzz.cpp: a timeout of 10^10 seconds or more was accepted, and
// converting it to steady_clock's nanoseconds to arm a timer overflowed (undefined behaviour;
// in practice a negative deadline that cut every connection at once).
#include <gtest/gtest.h>

#include <chrono>

#include "config/config.h"

namespace berth {
namespace {

TEST(TimeoutOverflowRegression, HugeTimeoutsAreRejectedNamingTheKey) {
  for (const char* key :
       {"header_timeout", "idle_timeout", "body_stall_timeout", "shutdown_grace"}) {
    for (const char* value : {"10000000000", "9223372036854775807"}) {
      auto c = parseConfig(std::string("server:\n  ") + key + ": " + value + "\n");
      ASSERT_FALSE(c) << key << ": " << value;
      EXPECT_EQ(c.code(), Code::kInvalidArgument);
      EXPECT_NE(c.error().message.find(std::string("server.") + key), std::string::npos)
          << c.error().message;
    }
  }
}

TEST(TimeoutOverflowRegression, AcceptedTimeoutsFitTheSteadyClock) {
  auto c = parseConfig("server:\n  idle_timeout: 315360000\n");
  ASSERT_TRUE(c) << c.error().message;
  auto headroom = std::chrono::steady_clock::duration::max() -
                  std::chrono::steady_clock::now().time_since_epoch();
  EXPECT_LE(c->limits.idle_timeout, std::chrono::duration_cast<std::chrono::seconds>(headroom));
  EXPECT_FALSE(parseConfig("server:\n  idle_timeout: 315360001\n"));
}

}  // namespace
}  // namespace berth
