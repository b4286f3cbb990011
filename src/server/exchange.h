#pragma once
// Exchange: one HTTP request on a connection, as handlers see it. Owns body reading
// (streamed, never buffered whole for blobs), response writing (sendfile for blobs over
// plain TCP), and offloading of blocking work to the blocking pool. The I/O is implemented
// once per stream type (plain TCP, TLS) in stream_exchange.h; handlers see only this class.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/cidr.h"
#include "common/result.h"
#include "config/config.h"
#include "meta/audit_store.h"
#include "metrics/http_metrics.h"

namespace berth::server {

namespace http = boost::beast::http;
template <class T>
using Task = boost::asio::awaitable<T>;

using Response = http::response<http::string_body>;

// What the server knows of a connection before its first request; one per connection,
// outliving every Exchange on it.
struct ConnectionInfo {
  std::string remote;              // the TCP peer's address as text
  IpAddress remote_ip;
  bool trusted_proxy = false;      // remote_ip is in server.trusted_proxies
  bool tls = false;
  const CidrSet* trusted_proxies = nullptr;
  const std::string* listen_address = nullptr;  // host() when the request names none usable
};

// What the audit log records about a request (docs/audit.md): handlers fill in what they
// learn (identity, digest, ...); the API records it once the response is sent.
struct AuditNote {
  meta::AuditRecord entry;     // action "": nothing to record
  bool failures_only = false;  // record only if the request did not succeed
};

// Memory a connection lends each of its requests in turn, so that a request on a
// keep-alive connection fills in its audit note and writes a prepared response without
// allocating: cleared per request, capacity kept.
struct ConnectionScratch {
  AuditNote audit;
  std::string head;  // the header bytes of sendPrepared()
};

// A header field of sendPrepared(); `quoted` wraps the value in double quotes (an ETag).
struct PreparedField {
  std::string_view name;
  std::string_view value;
  bool quoted = false;
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const http::request_header<>& request() const {
    return saved_header_ ? *saved_header_ : parser_->get().base();
  }
  // True once the request body was read to its end (or there was none).
  bool bodyConsumed() const { return body_done_; }
  http::verb method() const { return request().method(); }
  std::string_view header(http::field f) const;
  std::string_view header(std::string_view name) const;

  // The TCP peer.
  const std::string& remoteAddress() const { return conn_.remote; }
  // The client: the peer, or when the peer is a trusted proxy, the right-most
  // X-Forwarded-For address that is not a trusted proxy itself (server/forwarded.h).
  const std::string& clientAddress() const { return client_.empty() ? conn_.remote : client_; }
  // "https" on TLS; from a trusted proxy, its X-Forwarded-Proto; else "http".
  std::string_view scheme() const;
  // The host the client asked for, with its port if it gave one: X-Forwarded-Host from a
  // trusted proxy, else Host; the listen address when that is missing or not a valid host.
  std::string_view host() const;
  // scheme() + "://" + host(): the base of absolute URLs the client can follow.
  std::string externalBase() const;

  // Whether the request carries a body (Content-Length > 0 or chunked).
  bool hasBody() const;
  std::optional<uint64_t> contentLength() const;
  // Reads the whole body; kPayloadTooLarge past `limit` bytes.
  virtual Task<Result<std::string>> readBody(size_t limit) = 0;
  // Streams the body to `sink` in chunks as it arrives. Stops at the first sink error and
  // returns it; a client that stalls or goes away gives kBlobUploadInvalid.
  virtual Task<Status> streamBody(const std::function<Status(std::string_view)>& sink) = 0;

  // Sends a response with a body (Content-Length set from the body; on HEAD the body is
  // dropped and Content-Length kept).
  virtual Task<void> send(Response res) = 0;
  // Sends headers with the given Content-Length and no body (HEAD).
  virtual Task<void> sendHeaders(http::response<http::empty_body> res, uint64_t content_length) = 0;
  // Sends `status` with `fields`, Docker-Distribution-API-Version, Connection when needed
  // and Content-Length, then `body` (not on HEAD), in one gathered write: no header object,
  // no copy of the body. The caller keeps `fields` and `body` alive until it returns. For
  // hot responses whose bytes are already in memory (a cached manifest).
  virtual Task<void> sendPrepared(http::status status, std::span<const PreparedField> fields,
                                  std::string_view body) = 0;
  // Sends headers then `length` bytes of `fd` from `offset`: sendfile(2) over plain TCP,
  // read in chunks and encrypted over TLS.
  virtual Task<void> sendFile(http::response<http::empty_body> res, int fd, uint64_t offset, uint64_t length) = 0;
  // Reads up to `len` bytes at `offset` into `buf` (blocking); 0 only at the end.
  using ReadAt = std::function<Result<size_t>(uint64_t offset, char* buf, size_t len)>;
  // Sends headers then `length` bytes from `offset` as `read` returns them, each read run on
  // the blocking pool: a body with no file descriptor (a blob in an object store).
  virtual Task<void> sendRead(http::response<http::empty_body> res, const ReadAt& read, uint64_t offset,
                              uint64_t length) = 0;
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
  // A write failed or a response was cut short: the connection is unusable.
  bool broken() const { return broken_; }
  unsigned status() const { return status_; }
  uint64_t bytesOut() const { return bytes_out_; }
  uint64_t bytesIn() const { return bytes_in_; }
  // Which part of the API the handler took the request to (the metrics' route label).
  metrics::RouteLabel routeLabel() const { return route_label_; }
  void setRouteLabel(metrics::RouteLabel route) { route_label_ = route; }
  AuditNote& audit() { return audit_; }

 protected:
  Exchange(boost::beast::flat_buffer& buffer, http::request_parser<http::empty_body>& parser,
           boost::asio::thread_pool& pool, const Limits& limits, const std::atomic<bool>& draining,
           const ConnectionInfo& conn, ConnectionScratch& scratch);

  // Hands n received bytes to the sink, then reports a read error as the body's end.
  Status deliver(const std::function<Status(std::string_view)>& sink, const char* data, size_t n,
                 boost::system::error_code read_error);
  void finishHeaders(http::header<false>& h);
  // Records the status and decides whether the connection stays open after this response.
  void settleResponse(unsigned status);
  // The header bytes of a prepared response, in the connection's scratch buffer.
  std::string_view prepareHead(http::status status, std::span<const PreparedField> fields, uint64_t length);
  // Whether an Expect: 100-continue is still owed (and records it as sent).
  bool takeContinue();
  // Records a failed write: nothing more can be sent on this connection.
  void markBroken() {
    keep_alive_ = false;
    broken_ = true;
  }

  boost::beast::flat_buffer& buffer_;
  http::request_parser<http::empty_body>* parser_;
  boost::asio::thread_pool& pool_;
  const Limits& limits_;
  const std::atomic<bool>& draining_;
  const ConnectionInfo& conn_;
  std::string client_;  // set only when a trusted proxy forwarded another client address
  std::optional<http::request_header<>> saved_header_;  // once the parser moved on to the body
  bool keep_alive_ = true;
  bool request_keep_alive_ = true;
  bool body_done_ = false;
  bool sent_continue_ = false;
  bool broken_ = false;
  unsigned status_ = 0;
  metrics::RouteLabel route_label_ = metrics::RouteLabel::kOther;
  AuditNote& audit_;
  std::string& head_;
  uint64_t bytes_out_ = 0;
  uint64_t bytes_in_ = 0;
};

}  // namespace berth::server
