#include "common/text.h"

#include <gtest/gtest.h>

#include <set>

namespace berth {
namespace {

TEST(Rfc3339, FormatsUtcWholeSeconds) {
  EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(1'700'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(formatRfc3339(951'782'400), "2000-02-29T00:00:00Z");  // leap day
}

TEST(Rfc3339, RoundTrip) {
  for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{951'782'400}, int64_t{1'700'000'000},
                    int64_t{1'798'675'199}, int64_t{4'102'444'800}}) {
    EXPECT_EQ(parseRfc3339(formatRfc3339(t)), t) << t;
  }
}

TEST(Rfc3339, Offsets) {
  const int64_t t = 1'700'000'000;  // 2023-11-14T22:13:20Z
  EXPECT_EQ(parseRfc3339("2023-11-14T23:13:20+01:00"), t);
  EXPECT_EQ(parseRfc3339("2023-11-14T16:43:20-05:30"), t);
  EXPECT_EQ(parseRfc3339("2023-11-15T03:43:20+05:30"), t);
  EXPECT_EQ(parseRfc3339("2023-11-14T22:13:20+00:00"), t);
  EXPECT_EQ(parseRfc3339("2023-11-14T22:13:20-00:00"), t);
  EXPECT_EQ(parseRfc3339("2023-11-14t22:13:20z"), t);  // RFC 3339 allows lower case
}

TEST(Rfc3339, FractionalSecondsAreDropped) {
  const int64_t t = 1'700'000'000;
  EXPECT_EQ(parseRfc3339("2023-11-14T22:13:20.5Z"), t);
  EXPECT_EQ(parseRfc3339("2023-11-14T22:13:20.999999999Z"), t);
  EXPECT_EQ(parseRfc3339("2023-11-14T23:13:20.123+01:00"), t);
}

TEST(Rfc3339, MalformedRefused) {
  for (const char* bad : {
           "",
           "2023-11-14",
           "2023-11-14T22:13:20",        // no zone
           "2023-11-14T22:13Z",          // no seconds
           "2023-11-14T22:13:20ZZ",
           "2023-11-14T22:13:20+01",     // offset without minutes
           "2023-11-14T22:13:20+0100",
           "2023-11-14T22:13:20+24:00",
           "2023-11-14T22:13:20+01:60",
           "2023-11-14T22:13:20 Z",
           "2023-11-14T22:13:20.Z-",
           "2023-13-14T22:13:20Z",       // month 13
           "2023-00-14T22:13:20Z",
           "2023-11-00T22:13:20Z",
           "2023-11-32T22:13:20Z",
           "2023-11-14T24:00:00Z",
           "2023-11-14T22:60:00Z",
           "2023-11-14T22:13:61Z",
           "1969-12-31T23:59:59Z",       // before the epoch
           "2023/11/14T22:13:20Z",
           "2023-11-14X22:13:20Z",
           "yesterday",
       }) {
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
  }
}

// Regression: sscanf's %d took signs, spaces and short fields, and timegm normalized
// impossible dates, so these parsed to some other instant instead of being refused.
TEST(Rfc3339, SignsSpacesShortFieldsAndImpossibleDatesRefused) {
  for (const char* bad : {
           "2023-11-14T-1:13:20Z",
           "2023-11-14T22:-5:20Z",
           "2023-11-14T22:13:-1Z",
           "2023-11-14T 2:13:20Z",
           "2023-1-14T22:13:20Z",
           "2023-11-14T22:13:20+-1:00",
           "2023-11-14T22:13:20+ 1:00",
           "2023-11-14T22:13:20.Z",
           "2023-02-29T00:00:00Z",  // not a leap year
           "2023-02-31T00:00:00Z",
           "2023-04-31T00:00:00Z",
       }) {
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
  }
  EXPECT_EQ(parseRfc3339("2024-02-29T00:00:00Z"), 1'709'164'800);  // leap year
  EXPECT_EQ(parseRfc3339("2000-02-29T00:00:00Z"), 951'782'400);
  EXPECT_EQ(parseRfc3339("2023-04-30T00:00:00Z"), 1'682'812'800);
}

TEST(NewUuid, Version4Format) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = newUuid();
    ASSERT_EQ(id.size(), 36u) << id;
    for (size_t j = 0; j < id.size(); ++j) {
      if (j == 8 || j == 13 || j == 18 || j == 23) {
        EXPECT_EQ(id[j], '-') << id;
      } else {
        EXPECT_TRUE((id[j] >= '0' && id[j] <= '9') || (id[j] >= 'a' && id[j] <= 'f')) << id;
      }
    }
    EXPECT_EQ(id[14], '4') << id;                               // version
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
  }
}

TEST(NewUuid, Unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(newUuid());
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace berth

namespace berth {
namespace {

TEST(Duration, ParsesAcrPurgeAgoForms) {
  EXPECT_EQ(parseDuration("30d"), 30 * 86400);
  EXPECT_EQ(parseDuration("1h15m"), 3600 + 15 * 60);
  EXPECT_EQ(parseDuration("2d3h6m"), 2 * 86400 + 3 * 3600 + 6 * 60);
  EXPECT_EQ(parseDuration("90s"), 90);
  EXPECT_EQ(parseDuration("3600"), 3600);
  EXPECT_EQ(parseDuration("0d"), 0);
  EXPECT_EQ(parseDuration("0"), 0);
}

TEST(Duration, RejectsMalformedAndHuge) {
  for (const char* bad : {"", "d", "-1d", "1x", "1h1h", "1m1h", "1d ", " 1d", "1.5h", "1d2", "h1",
                          "99999999999999999999d", "3651d"}) {
    EXPECT_FALSE(parseDuration(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parseDuration("3650d").has_value());
}

TEST(Duration, FormatsShortestAndRoundTrips) {
  EXPECT_EQ(formatDuration(7 * 86400), "7d");
  EXPECT_EQ(formatDuration(5400), "1h30m");
  EXPECT_EQ(formatDuration(45), "45s");
  EXPECT_EQ(formatDuration(0), "0s");
  for (int64_t v : {1LL, 59LL, 61LL, 3601LL, 86399LL, 90061LL, 30LL * 86400}) {
    EXPECT_EQ(parseDuration(formatDuration(v)), v) << v;
  }
}

}  // namespace
}  // namespace berth
