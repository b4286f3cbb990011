#include "oci/http_range.h"

#include <gtest/gtest.h>

#include <limits>

namespace berth::oci {
namespace {

void expectRange(std::string_view header, uint64_t size, uint64_t first, uint64_t last) {
  auto r = parseRangeHeader(header, size);
  ASSERT_TRUE(r.ok()) << header << ": " << r.error().message;
  EXPECT_EQ(r->first, first) << header;
  EXPECT_EQ(r->last, last) << header;
  EXPECT_EQ(r->length(), last - first + 1);
}

void expectRangeError(std::string_view header, uint64_t size, Code code) {
  auto r = parseRangeHeader(header, size);
  ASSERT_FALSE(r.ok()) << header;
  EXPECT_EQ(r.code(), code) << header << ": " << r.error().message;
}

TEST(RangeTest, ClosedAndOpenRanges) {
  expectRange("bytes=0-0", 10, 0, 0);
  expectRange("bytes=0-9", 10, 0, 9);
  expectRange("bytes=2-5", 10, 2, 5);
  expectRange("bytes=3-", 10, 3, 9);
  expectRange("bytes=9-", 10, 9, 9);
  expectRange("Bytes=1-2", 10, 1, 2);
  expectRange(" bytes=1-2 ", 10, 1, 2);
}

TEST(RangeTest, ClampsLastToSize) {
  expectRange("bytes=0-100", 10, 0, 9);
  expectRange("bytes=5-18446744073709551615", 10, 5, 9);
}

TEST(RangeTest, SuffixRanges) {
  expectRange("bytes=-1", 10, 9, 9);
  expectRange("bytes=-4", 10, 6, 9);
  expectRange("bytes=-10", 10, 0, 9);
  expectRange("bytes=-1000", 10, 0, 9);
  expectRangeError("bytes=-0", 10, Code::kRangeInvalid);
  expectRangeError("bytes=-5", 0, Code::kRangeInvalid);
}

TEST(RangeTest, Unsatisfiable) {
  expectRangeError("bytes=10-", 10, Code::kRangeInvalid);
  expectRangeError("bytes=10-20", 10, Code::kRangeInvalid);
  expectRangeError("bytes=0-", 0, Code::kRangeInvalid);
  expectRangeError("bytes=0-0", 0, Code::kRangeInvalid);
}

TEST(RangeTest, Malformed) {
  for (std::string_view h :
       {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=1-a", "bytes=5-4", "bytes=1-2,4-5",
        "bytes=0-1, 3-4", "items=0-1", "bytes 0-1", "bytes=+1-2", "bytes=1--2", "bytes=--1",
        "bytes=1-2-3", "bytes=0x1-2", "bytes=1 -2"}) {
    expectRangeError(h, 100, Code::kInvalidArgument);
  }
}

TEST(RangeTest, OverflowIsAnErrorNotWraparound) {
  expectRangeError("bytes=0-99999999999999999999999", 100, Code::kInvalidArgument);
  expectRangeError("bytes=99999999999999999999999-", 100, Code::kInvalidArgument);
  expectRangeError("bytes=-99999999999999999999999", 100, Code::kInvalidArgument);
  expectRangeError("bytes=18446744073709551616-", 100, Code::kInvalidArgument);
  // The largest value that fits is a number, not an overflow.
  expectRangeError("bytes=18446744073709551615-", 100, Code::kRangeInvalid);
  uint64_t max = std::numeric_limits<uint64_t>::max();
  expectRange("bytes=0-", max, 0, max - 1);
  expectRange("bytes=-18446744073709551615", max, 0, max - 1);
}

TEST(ContentRangeTest, OciForm) {
  auto r = parseContentRange("0-99");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 0u);
  EXPECT_EQ(r->last, 99u);
  EXPECT_EQ(r->length(), 100u);
  r = parseContentRange("100-100");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->length(), 1u);
}

TEST(ContentRangeTest, RfcForm) {
  auto r = parseContentRange("bytes 10-19/*");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 10u);
  EXPECT_EQ(r->last, 19u);
  r = parseContentRange("bytes 0-9/10");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->last, 9u);
  EXPECT_EQ(parseContentRange("bytes 0-10/10").code(), Code::kRangeInvalid);
}

TEST(ContentRangeTest, Malformed) {
  for (std::string_view h :
       {"", "-", "5-4", "a-b", "1-", "-1", "0-1-2", "bytes=0-1", "bytes 0-1", "bytes 0-1/",
        "bytes 0-1/x", "0 - 1", "+0-1", "0-99999999999999999999999", "0-18446744073709551615",
        "99999999999999999999999-99999999999999999999999"}) {
    auto r = parseContentRange(h);
    ASSERT_FALSE(r.ok()) << h;
    EXPECT_EQ(r.code(), Code::kRangeInvalid) << h;
  }
}

}  // namespace
}  // namespace berth::oci
