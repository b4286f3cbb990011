#pragma once
// Exchange: one HTTP request on a connection, as handlers see it. Owns body reading
// (streamed, never buffered whole for blobs), response writing (sendfile for blobs), and
// offloading of blocking work to the blocking pool.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"
#include "config/config.h"

namespace berth::server {

namespace http = boost::beast::http;
template <class T>
using Task = boost::asio::awaitable<T>;

using Response = http::response<http::string_body>;

class Exchange {
 public:
  Exchange(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
           http::request_parser<http::empty_body>& parser, boost::asio::thread_pool& pool,
           const Limits& limits, const std::atomic<bool>& draining, std::string remote);

  const http::request_header<>& request() const {
    return saved_header_ ? *saved_header_ : parser_->get().base();
  }
  // True once the request body was read to its end (or there was none).
  bool bodyConsumed() const { return body_done_; }
  http::verb method() const { return request().method(); }
  std::string_view header(http::field f) const;
  std::string_view header(std::string_view name) const;
  const std::string& remoteAddress() const { return remote_; }

  // Whether the request carries a body (Content-Length > 0 or chunked).
  bool hasBody() const;
  std::optional<uint64_t> contentLength() const;
  // Reads the whole body; kPayloadTooLarge past `limit` bytes.
  Task<Result<std::string>> readBody(size_t limit);
  // Streams the body to `sink` in chunks as it arrives. Stops at the first sink error and
  // returns it; a client that stalls or goes away gives kBlobUploadInvalid.
  Task<Status> streamBody(const std::function<Status(std::string_view)>& sink);

  // Sends a response with a body (Content-Length set from the body; on HEAD the body is
  // dropped and Content-Length kept).
  Task<void> send(Response res);
  // Sends headers with the given Content-Length and no body (HEAD).
  Task<void> sendHeaders(http::response<http::empty_body> res, uint64_t content_length);
  // Sends headers then `length` bytes of `fd` from `offset` with sendfile(2).
  Task<void> sendFile(http::response<http::empty_body> res, int fd, uint64_t offset, uint64_t length);
  // The spec's JSON error body with the error table's status.
  // `base` may carry extra headers (e.g. Range on a 416).
  Task<void> sendError(const Error& error, Response base = {});

  // Runs blocking `f` (disk, database) on the blocking pool and resumes on this connection.
  template <class F>
  Task<std::invoke_result_t<F&>> blocking(F f) {
    using R = std::invoke_result_t<F&>;
    std::optional<R> out;
    co_await boost::asio::co_spawn(
        pool_, [&]() -> Task<void> { out.emplace(f()); co_return; }, boost::asio::use_awaitable);
    co_return std::move(*out);
  }

  // Whether the connection may serve another request after this one.
  bool keepAlive() const { return keep_alive_; }
  unsigned status() const { return status_; }
  uint64_t bytesOut() const { return bytes_out_; }
  uint64_t bytesIn() const { return bytes_in_; }

 private:
  Task<Status> sendContinueIfExpected();
  // Hands n received bytes to the sink, then reports a read error as the body's end.
  Status deliver(const std::function<Status(std::string_view)>& sink, const char* data, size_t n,
                 boost::system::error_code read_error);
  Task<Status> streamFixedBody(uint64_t length, const std::function<Status(std::string_view)>& sink);
  void finishHeaders(http::header<false>& h);

  boost::beast::tcp_stream& stream_;
  boost::beast::flat_buffer& buffer_;
  http::request_parser<http::empty_body>* parser_;
  boost::asio::thread_pool& pool_;
  const Limits& limits_;
  std::string remote_;
  const std::atomic<bool>& draining_;
  std::optional<http::request_header<>> saved_header_;  // once the parser moved on to the body
  bool keep_alive_ = true;
  bool request_keep_alive_ = true;
  bool body_started_ = false;
  bool body_done_ = false;
  bool sent_continue_ = false;
  bool broken_ = false;  // a write failed: the connection is unusable
  unsigned status_ = 0;
  uint64_t bytes_out_ = 0;
  uint64_t bytes_in_ = 0;
};

}  // namespace berth::server
