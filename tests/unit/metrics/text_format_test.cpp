#include "metrics/text_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "metrics/registry.h"

namespace berth::metrics {
namespace {

TEST(TextFormat, Numbers) {
  EXPECT_EQ(formatDouble(0.0001), "0.0001");
  EXPECT_EQ(formatDouble(0.00025), "0.00025");
  EXPECT_EQ(formatDouble(2.5), "2.5");
  EXPECT_EQ(formatDouble(10), "10");
  EXPECT_EQ(formatDouble(0), "0");
  EXPECT_EQ(formatDouble(74870480896.0), "74870480896");
  EXPECT_EQ(formatDouble(1e300), "1e+300");
  EXPECT_EQ(formatDouble(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatDouble(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatDouble(std::nan("")), "NaN");
}

TEST(TextFormat, EscapesLabelValuesAndHelp) {
  std::string out;
  TextWriter w(out);
  w.family("x_total", "a \\ help\nline with \"quotes\"", "counter");
  const Label labels[] = {{"path", "a\\b\"c\nd"}, {"m", "GET"}};
  w.sample("x_total", labels, uint64_t{3});
  EXPECT_EQ(out,
            "# HELP x_total a \\\\ help\\nline with \"quotes\"\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"a\\\\b\\\"c\\nd\",m=\"GET\"} 3\n");
}

TEST(TextFormat, SampleWithoutLabels) {
  std::string out;
  TextWriter w(out);
  w.sample("g", {}, int64_t{-2});
  w.sample("h", {}, 0.5);
  EXPECT_EQ(out, "g -2\nh 0.5\n");
}

TEST(TextFormat, HistogramBucketsAreCumulativeWithInf) {
  Registry r;
  auto& h = r.histogram("d_seconds", "Durations.", {{"route", {"a", "b"}}}, {0.1, 1, 10});
  h.at({1}).observe(0.05);
  h.at({1}).observe(0.1);  // le is inclusive
  h.at({1}).observe(0.5);
  h.at({1}).observe(100);
  EXPECT_EQ(r.render(),
            "# HELP d_seconds Durations.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{route=\"b\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{route=\"b\",le=\"1\"} 3\n"
            "d_seconds_bucket{route=\"b\",le=\"10\"} 3\n"
            "d_seconds_bucket{route=\"b\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{route=\"b\"} 100.65\n"
            "d_seconds_count{route=\"b\"} 4\n");
}

TEST(TextFormat, UntouchedLabelledCountersAreLeftOutUnlabelledAreNot) {
  Registry r;
  auto& c = r.counter("c_total", "C.", {{"a", {"x", "y"}}, {"b", {"1", "2", "3"}}});
  c.at({1, 2}).inc(5);
  c.at({0, 1}).inc();
  r.counter("plain_total", "Plain.");
  r.gauge("open", "Open.").at({}).add(2);
  r.counterFunction("fn_total", "Fn.", [] { return uint64_t{7}; });
  r.gaugeFunction("maybe", "Maybe.", [] { return std::nullopt; });
  r.info("build_info", "Build.", {{"version", "1.2.3"}});
  EXPECT_EQ(r.render(),
            "# HELP c_total C.\n# TYPE c_total counter\n"
            "c_total{a=\"x\",b=\"2\"} 1\n"
            "c_total{a=\"y\",b=\"3\"} 5\n"
            "# HELP plain_total Plain.\n# TYPE plain_total counter\nplain_total 0\n"
            "# HELP open Open.\n# TYPE open gauge\nopen 2\n"
            "# HELP fn_total Fn.\n# TYPE fn_total counter\nfn_total 7\n"
            "# HELP maybe Maybe.\n# TYPE maybe gauge\n"
            "# HELP build_info Build.\n# TYPE build_info gauge\nbuild_info{version=\"1.2.3\"} 1\n");
}

}  // namespace
}  // namespace berth::metrics
