// Exchange::sendRead: a response body from a reader with no file descriptor (a blob in an
// object store), read on the blocking pool in large pieces.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/exchange.h"
#include "server/http_server.h"
#include "storage/http/http_client.h"

namespace berth::server {
namespace {

class SendReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < blob_.size(); ++i) blob_[i] = static_cast<char>('a' + i % 26);
    config_.listen = "127.0.0.1:0";
    config_.io_threads = 1;
    config_.blocking_threads = 2;
    server_ = std::make_unique<HttpServer>(config_, [this](Exchange& ex) -> Task<void> {
      http::response<http::empty_body> res{http::status::ok, 11};
      const uint64_t offset = ex.header("X-Offset").empty() ? 0 : 5;
      const uint64_t length = blob_.size() - offset;
      co_await ex.sendRead(
          std::move(res),
          [this](uint64_t at, char* buf, size_t len) -> Result<size_t> {
            ++reads_;
            if (fail_at_ && at >= fail_at_) return makeError(Code::kUnavailable, "store down");
            size_t n = std::min<size_t>(len, blob_.size() - at);
            std::copy_n(blob_.data() + at, n, buf);
            return n;
          },
          offset, length);
    });
    ASSERT_TRUE(server_->bind().ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  Result<storage::http::Response> get(std::string method = "GET", std::vector<storage::http::Header> headers = {}) {
    storage::http::Request req;
    req.method = std::move(method);
    req.url = "http://" + server_->address() + "/blob";
    req.headers = std::move(headers);
    return storage::http::perform(req);
  }

  Config config_;
  std::string blob_ = std::string(3 * 1024 * 1024 + 123, '\0');
  std::atomic<int> reads_{0};
  uint64_t fail_at_ = 0;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST_F(SendReadTest, StreamsTheWholeBodyInLargeReads) {
  auto r = get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), std::to_string(blob_.size()));
  EXPECT_TRUE(r->body == blob_);
  EXPECT_EQ(reads_.load(), 4);  // 1 MiB each
}

TEST_F(SendReadTest, StartsAtTheOffset) {
  auto r = get("GET", {{"X-Offset", "1"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->body == blob_.substr(5));
}

TEST_F(SendReadTest, HeadSendsNoBodyAndReadsNothing) {
  auto r = get("HEAD");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->header("content-length"), std::to_string(blob_.size()));
  EXPECT_EQ(reads_.load(), 0);
}

TEST_F(SendReadTest, AReadErrorCutsTheResponseShort) {
  fail_at_ = 2 * 1024 * 1024;
  auto r = get();
  // The headers promised more: the client sees a truncated transfer, never a short 200.
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace berth::server
