#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace berth::log {
namespace {

// Points stderr at a temporary file for the test's lifetime.
class StderrCapture {
 public:
  StderrCapture() {
    char path[] = "/tmp/berth-log-test-XXXXXX";
    fd_ = ::mkstemp(path);
    path_ = path;
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fd_, STDERR_FILENO);
  }
  ~StderrCapture() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

std::string afterTime(const std::string& line) { return line.substr(line.find("\"level\"")); }

// The access log's Line writes exactly what write() writes for the same fields, escaping
// included (which is boost::json's).
TEST(LogLine, SameJsonAsWriteWithAnObject) {
  StderrCapture capture;
  init(Level::kInfo, /*async=*/false);
  const std::string tricky = std::string("/v2/a\"b\\c\n\t\x01\x1f\x7f/\xc3\xa9") + std::string(1, '\0') + "end";
  // Escapes after whole clean words (the 8-byte fast path), and at the very end.
  const std::string later = "/v2/library/some-name/manifests/latest\"tag\\" + std::string(9, 'x') + "\x02";
  write(Level::kInfo, "request",
        {{"method", "GET"}, {"path", tricky}, {"status", 200u}, {"delta", int64_t{-5}}, {"bytes", uint64_t{1} << 40}, {"later", later}});
  Line(Level::kInfo, "request")
      .str("method", "GET")
      .str("path", tricky)
      .num("status", 200u)
      .num("delta", int64_t{-5})
      .num("bytes", uint64_t{1} << 40)
      .str("later", later);
  Line(Level::kDebug, "not enabled").str("k", "v");
  auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(afterTime(lines[0]), afterTime(lines[1]));
  auto parsed = boost::json::parse(lines[1]).as_object();
  EXPECT_EQ(parsed.at("path").as_string(), tricky);
  EXPECT_EQ(parsed.at("later").as_string(), later);
  EXPECT_EQ(parsed.at("status").to_number<int64_t>(), 200);
  EXPECT_EQ(parsed.at("level").as_string(), "info");
  EXPECT_EQ(parsed.at("time").as_string().size(), std::string("2026-11-22T10:00:00.123Z").size());
  EXPECT_NE(lines[1].find("\"path\":" + boost::json::serialize(boost::json::value(tricky))), std::string::npos);
}

// Buffered (async) logging loses nothing and keeps each thread's order; flush() writes
// everything logged before it.
TEST(LogLine, AsyncWritesEveryLineInOrderByFlush) {
  StderrCapture capture;
  init(Level::kInfo, /*async=*/true);
  constexpr int kThreads = 4, kLines = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) Line(Level::kInfo, "line").num("thread", t).num("seq", i);
    });
  }
  for (auto& th : threads) th.join();
  flush();
  auto lines = capture.lines();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  std::vector<int64_t> next(kThreads, 0);
  for (const auto& l : lines) {
    auto o = boost::json::parse(l).as_object();
    const auto t = o.at("thread").to_number<int64_t>();
    ASSERT_EQ(o.at("seq").to_number<int64_t>(), next[t]) << l;
    ++next[t];
  }
}

}  // namespace
}  // namespace berth::log
