// Found by tests/fuzz/config_fuzz.cpp: server.max_header_bytes above 2^32-1 was accepted and
// then cast to the uint32_t Beast's parser takes (4294967296 became a limit of 0, refusing
// every request), and max_header_bytes + read slack could wrap around.
#include <gtest/gtest.h>

#include <cstdint>

#include "config/config.h"

namespace berth {
namespace {

TEST(HeaderLimitTruncationRegression, LimitAboveUint32IsRejected) {
  for (const char* value : {"4294967296", "18446744073709551615"}) {
    auto c = parseConfig(std::string("server:\n  max_header_bytes: ") + value + "\n");
    ASSERT_FALSE(c) << value;
    EXPECT_NE(c.error().message.find("server.max_header_bytes"), std::string::npos)
        << c.error().message;
  }
}

TEST(HeaderLimitTruncationRegression, LargestUint32IsAccepted) {
  auto c = parseConfig("server:\n  max_header_bytes: 4294967295\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->limits.max_header_bytes, UINT32_MAX);
}

}  // namespace
}  // namespace berth
