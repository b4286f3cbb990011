#include "cli/size_text.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(ParseSize, BytesAndUnits) {
  EXPECT_EQ(*parseSize("0"), 0u);
  EXPECT_EQ(*parseSize("1048576"), 1048576u);
  EXPECT_EQ(*parseSize("10B"), 10u);
  EXPECT_EQ(*parseSize("500MB"), 500000000u);
  EXPECT_EQ(*parseSize("500mb"), 500000000u);
  EXPECT_EQ(*parseSize("1kB"), 1000u);
  EXPECT_EQ(*parseSize("10GiB"), 10ull << 30);
  EXPECT_EQ(*parseSize("10 GiB"), 10ull << 30);
  EXPECT_EQ(*parseSize("2T"), 2ull << 40);
  EXPECT_EQ(*parseSize("1.5KiB"), 1536u);
  EXPECT_EQ(*parseSize("0.001KB"), 1u);
  EXPECT_EQ(*parseSize("1PiB"), 1ull << 50);
}

TEST(ParseSize, RejectsWhatIsNoSize) {
  for (const char* t : {"", "GiB", "-1", "1.5", "1.5B", "10 XB", "10GiBs", "1e9", "1..2MB", " 1", "1.MB",
                        "9223372036854775808", "9300PB", "99999999999999999999"}) {
    EXPECT_EQ(parseSize(t).code(), Code::kInvalidArgument) << t;
  }
  EXPECT_EQ(*parseSize("9223372036854775807"), 9223372036854775807ull);
  EXPECT_EQ(*parseSize("9000PB"), 9000000000000000000ull);
}

}  // namespace
}  // namespace berth::cli
