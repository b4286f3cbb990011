#include "metrics/metric.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "metrics/http_metrics.h"
#include "metrics/registry.h"

namespace berth::metrics {
namespace {

constexpr int kThreads = 8;
constexpr int kPerThread = 100000;

TEST(Metrics, CountersAndHistogramsUnderThreads) {
  Registry r;
  auto& c = r.counter("c_total", "C.", {{"k", {"a", "b"}}});
  auto& g = r.gauge("g", "G.").at({});
  auto& h = r.histogram("h", "H.", {}, {1, 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        c.at({size_t(t % 2)}).inc();
        g.add(1);
        h.at({}).observe(i % 3);  // 0, 1, 2: buckets le=1 gets 2/3, le=2 the rest
        g.add(-1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.at({0}).value() + c.at({1}).value(), uint64_t(kThreads) * kPerThread);
  EXPECT_EQ(c.at({0}).value(), uint64_t(kThreads / 2) * kPerThread);
  EXPECT_EQ(g.value(), 0);
  auto snap = h.at({}).snapshot();
  ASSERT_EQ(snap.cumulative.size(), 3u);
  EXPECT_EQ(snap.cumulative[2], uint64_t(kThreads) * kPerThread);
  EXPECT_EQ(snap.cumulative[1], snap.cumulative[2]);
  uint64_t ones_and_zeros = 0;
  for (int i = 0; i < kPerThread; ++i) ones_and_zeros += (i % 3) <= 1;
  EXPECT_EQ(snap.cumulative[0], ones_and_zeros * kThreads);
  double sum = 0;
  for (int i = 0; i < kPerThread; ++i) sum += i % 3;
  EXPECT_DOUBLE_EQ(snap.sum, sum * kThreads);
}

TEST(Metrics, HttpMetricsRecordsByRouteMethodAndCode) {
  Registry r;
  HttpMetrics m(r);
  m.recordRequest(RouteLabel::kManifest, "GET", 200, 0.002, 0, 512);
  m.recordRequest(RouteLabel::kManifest, "GET", 200, 0.003, 0, 512);
  m.recordRequest(RouteLabel::kManifest, "GET", 404, 0.001, 0, 100);
  m.recordRequest(RouteLabel::kOther, "BREW", 405, 0.001, 10, 0);
  m.recordRequest(RouteLabel::kBlob, "GET", 0, 0.001, 0, 0);  // no response: no code
  m.connectionOpened();
  const std::string text = r.render();
  EXPECT_NE(text.find("berth_http_requests_total{route=\"manifest\",method=\"GET\",code=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("berth_http_requests_total{route=\"manifest\",method=\"GET\",code=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("berth_http_requests_total{route=\"other\",method=\"other\",code=\"405\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("route=\"blob\",method=\"GET\",code="), std::string::npos);
  EXPECT_NE(text.find("berth_http_request_duration_seconds_count{route=\"manifest\",method=\"GET\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("berth_http_request_duration_seconds_bucket{route=\"manifest\",method=\"GET\",le=\"0.0025\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("berth_http_response_bytes_total{route=\"manifest\"} 1124\n"), std::string::npos);
  EXPECT_NE(text.find("berth_http_request_bytes_total{route=\"other\"} 10\n"), std::string::npos);
  EXPECT_NE(text.find("berth_http_connections 1\n"), std::string::npos);
}

}  // namespace
}  // namespace berth::metrics
