#include <sys/sendfile.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/errors.h"
#include "common/text.h"
#include "server/exchange.h"

namespace berth::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using boost::system::error_code;

namespace {
constexpr size_t kStreamChunk = 256 * 1024;
constexpr std::string_view kApiVersionHeader = "Docker-Distribution-API-Version";

}  // namespace

Exchange::Exchange(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                   http::request_parser<http::empty_body>& parser, asio::thread_pool& pool, const Limits& limits,
                   const std::atomic<bool>& draining, std::string remote)
    : stream_(stream),
      buffer_(buffer),
      parser_(&parser),
      pool_(pool),
      limits_(limits),
      remote_(std::move(remote)),
      draining_(draining) {
  body_done_ = parser.is_done();
  request_keep_alive_ = parser.keep_alive();
}

std::string_view Exchange::header(http::field f) const {
  auto it = request().find(f);
  return it == request().end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view Exchange::header(std::string_view name) const {
  auto it = request().find(beast::string_view(name.data(), name.size()));
  return it == request().end() ? std::string_view{} : std::string_view(it->value());
}

bool Exchange::hasBody() const { return !body_done_; }

std::optional<uint64_t> Exchange::contentLength() const {
  auto cl = parser_->content_length();
  if (saved_header_ || !cl) return std::nullopt;
  return *cl;
}

Task<Status> Exchange::sendContinueIfExpected() {
  // HTTP/1.0 clients do not know 100 Continue (RFC 9110 10.1.1).
  if (sent_continue_ || request().version() < 11 || !equalsIgnoreCase(header(http::field::expect), "100-continue"))
    co_return Status{};
  sent_continue_ = true;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  error_code ec;
  stream_.expires_after(limits_.body_stall_timeout);
  co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                             asio::redirect_error(use_awaitable, ec));
  if (ec) {
    keep_alive_ = false;
    broken_ = true;
    co_return makeError(Code::kBlobUploadInvalid, "connection failed: " + ec.message());
  }
  co_return Status{};
}

Task<Result<std::string>> Exchange::readBody(size_t limit) {
  if (body_done_) co_return std::string{};
  if (auto cl = parser_->content_length(); cl && *cl > limit) {
    keep_alive_ = false;
    co_return makeError(Code::kPayloadTooLarge, "request body of " + std::to_string(*cl) +
                                                    " bytes is larger than the limit of " + std::to_string(limit));
  }
  if (auto s = co_await sendContinueIfExpected(); !s) co_return s.takeError();
  saved_header_ = parser_->get().base();
  http::request_parser<http::string_body> p{std::move(*parser_)};
  p.body_limit(limit);
  error_code ec;
  // One deadline per read, so body_stall_timeout means "no progress for that long".
  while (!p.is_done() && !ec) {
    stream_.expires_after(limits_.body_stall_timeout);
    co_await http::async_read_some(stream_, buffer_, p, asio::redirect_error(use_awaitable, ec));
  }
  if (ec == http::error::body_limit) {
    keep_alive_ = false;
    co_return makeError(Code::kPayloadTooLarge, "request body is larger than the limit of " + std::to_string(limit));
  }
  if (ec) {
    keep_alive_ = false;
    co_return makeError(Code::kInvalidArgument, "request body could not be read: " + ec.message());
  }
  body_done_ = true;
  bytes_in_ = p.get().body().size();
  co_return std::move(p.get().body());
}

namespace {

// Cuts a body that arrives slower than limits.min_body_rate, judged over windows of
// body_stall_timeout (a trickle of a byte now and then is as bad as a stall).
class BodyRateGuard {
 public:
  explicit BodyRateGuard(const Limits& limits)
      : window_(limits.body_stall_timeout),
        min_bytes_(limits.min_body_rate * static_cast<uint64_t>(limits.body_stall_timeout.count())),
        start_(std::chrono::steady_clock::now()) {}
  // Records n more bytes; false once a whole window passed with too few.
  bool add(size_t n) {
    bytes_ += n;
    auto now = std::chrono::steady_clock::now();
    if (now - start_ < window_) return true;
    bool ok = bytes_ >= min_bytes_;
    bytes_ = 0;
    start_ = now;
    return ok;
  }

 private:
  std::chrono::steady_clock::duration window_;
  uint64_t min_bytes_;
  uint64_t bytes_ = 0;
  std::chrono::steady_clock::time_point start_;
};

Error tooSlow(const Limits& limits) {
  return makeError(Code::kBlobUploadInvalid, "upload body slower than the minimum of " +
                                                 std::to_string(limits.min_body_rate) + " bytes/s; cut");
}

}  // namespace

Task<Status> Exchange::streamBody(const std::function<Status(std::string_view)>& sink) {
  if (body_done_) co_return Status{};
  if (auto s = co_await sendContinueIfExpected(); !s) co_return s;
  if (auto cl = parser_->content_length(); cl && !parser_->chunked()) {
    co_return co_await streamFixedBody(*cl, sink);
  }
  saved_header_ = parser_->get().base();
  http::request_parser<http::buffer_body> p{std::move(*parser_)};
  p.body_limit(boost::none);
  std::unique_ptr<char[]> chunk(new char[kStreamChunk]);
  BodyRateGuard rate(limits_);
  while (!p.is_done()) {
    p.get().body().data = chunk.get();
    p.get().body().size = kStreamChunk;
    error_code ec;
    // Fill the chunk read by read, each with its own stall deadline; hand it to the sink
    // when full, at the end of the body, or on an error (what arrived before it is kept).
    while (!p.is_done() && p.get().body().size > 0) {
      stream_.expires_after(limits_.body_stall_timeout);
      size_t consumed =
          co_await http::async_read_some(stream_, buffer_, p, asio::redirect_error(use_awaitable, ec));
      if (ec == http::error::need_buffer) {
        ec = {};
        break;
      }
      if (ec) break;
      if (!rate.add(consumed)) {
        keep_alive_ = false;
        co_return tooSlow(limits_);
      }
    }
    if (auto s = deliver(sink, chunk.get(), kStreamChunk - p.get().body().size, ec); !s) co_return s;
  }
  body_done_ = true;
  co_return Status{};
}

// A body of known length needs no parsing: read it from the socket straight into the chunk
// handed to the sink (no copy through the parser, reads as large as the chunk).
Task<Status> Exchange::streamFixedBody(uint64_t length, const std::function<Status(std::string_view)>& sink) {
  uint64_t remaining = length;
  if (buffer_.size() > 0 && remaining > 0) {  // body bytes that came in with the header
    size_t n = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), remaining));
    remaining -= n;
    if (auto s = deliver(sink, static_cast<const char*>(buffer_.data().data()), n, {}); !s) co_return s;
    buffer_.consume(n);
  }
  constexpr size_t kFixedChunk = 1024 * 1024;
  std::unique_ptr<char[]> chunk(remaining ? new char[kFixedChunk] : nullptr);
  BodyRateGuard rate(limits_);
  while (remaining > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, kFixedChunk));
    size_t filled = 0;
    error_code ec;
    while (filled < want) {
      stream_.expires_after(limits_.body_stall_timeout);  // a deadline per read: progress, not total time
      size_t n = co_await stream_.async_read_some(asio::buffer(chunk.get() + filled, want - filled),
                                                  asio::redirect_error(use_awaitable, ec));
      filled += n;
      if (ec) break;
      if (!rate.add(n)) {
        keep_alive_ = false;
        co_return tooSlow(limits_);
      }
    }
    remaining -= filled;
    if (auto s = deliver(sink, chunk.get(), filled, ec); !s) co_return s;
  }
  body_done_ = true;
  co_return Status{};
}

Status Exchange::deliver(const std::function<Status(std::string_view)>& sink, const char* data, size_t n,
                         error_code read_error) {
  bytes_in_ += n;
  Status s;
  if (n) s = sink(std::string_view(data, n));
  if (s && read_error) {
    s = makeError(Code::kBlobUploadInvalid, "upload body interrupted: " + read_error.message());
  }
  if (!s) keep_alive_ = false;  // the rest of the body is unread: the connection is done
  return s;
}

void Exchange::finishHeaders(http::header<false>& h) {
  status_ = h.result_int();
  h.set(beast::string_view(kApiVersionHeader.data(), kApiVersionHeader.size()), "registry/2.0");
  keep_alive_ = keep_alive_ && request_keep_alive_ && body_done_ && !draining_.load(std::memory_order_relaxed);
  if (!keep_alive_) {
    h.set(http::field::connection, "close");
  } else if (request().version() < 11) {
    h.set(http::field::connection, "keep-alive");
  }
}

Task<void> Exchange::send(Response res) {
  if (method() == http::verb::head) {
    const uint64_t length = res.body().size();
    http::response<http::empty_body> head;
    head.base() = std::move(res.base());
    co_return co_await sendHeaders(std::move(head), length);
  }
  res.version(11);
  finishHeaders(res.base());
  res.prepare_payload();
  error_code ec;
  stream_.expires_after(limits_.body_stall_timeout);
  co_await http::async_write(stream_, res, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    keep_alive_ = false;
    broken_ = true;
  } else {
    bytes_out_ += res.body().size();
  }
}

Task<void> Exchange::sendHeaders(http::response<http::empty_body> res, uint64_t content_length) {
  res.version(11);
  finishHeaders(res.base());
  res.content_length(content_length);
  error_code ec;
  stream_.expires_after(limits_.body_stall_timeout);
  http::response_serializer<http::empty_body> sr{res};
  co_await http::async_write_header(stream_, sr, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    keep_alive_ = false;
    broken_ = true;
  }
}

Task<void> Exchange::sendFile(http::response<http::empty_body> res, int fd, uint64_t offset, uint64_t length) {
  using namespace asio::experimental::awaitable_operators;
  co_await sendHeaders(std::move(res), length);
  if (broken_) co_return;
  auto& sock = stream_.socket();
  error_code ec;
  sock.native_non_blocking(true, ec);
  off_t off = static_cast<off_t>(offset);
  uint64_t remaining = length;
  while (remaining > 0 && !ec) {
    ssize_t n = ::sendfile(sock.native_handle(), fd, &off, std::min<uint64_t>(remaining, 1u << 30));
    if (n > 0) {
      remaining -= static_cast<uint64_t>(n);
      bytes_out_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Wait until the client can take more, but not longer than the stall timeout. The
      // operator|| waits for the loser's cancellation, so nothing outlives this frame.
      asio::steady_timer timer(sock.get_executor());
      timer.expires_after(limits_.body_stall_timeout);
      auto which = co_await (sock.async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec)) ||
                             timer.async_wait(use_awaitable));
      if (which.index() == 1) break;  // stalled
      continue;
    }
    break;  // the client went away, or the file ended early
  }
  if (remaining > 0) {
    keep_alive_ = false;  // the response is incomplete: the connection is done
    broken_ = true;
  }
}

Task<void> Exchange::sendError(const Error& error, Response res) {
  auto info = errorInfo(error.code);
  res.result(info.status);
  res.set(http::field::content_type, "application/json");
  res.body() = errorBody(error);
  if (error.code == Code::kTooManyRequests || error.code == Code::kUnavailable) {
    if (res.find(http::field::retry_after) == res.end()) res.set(http::field::retry_after, "1");
  }
  co_await send(std::move(res));
}

}  // namespace berth::server
