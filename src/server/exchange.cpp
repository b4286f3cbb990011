#include <sys/sendfile.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <array>
#include <charconv>
#include <vector>

#include "common/errors.h"
#include "common/text.h"
#include "server/forwarded.h"
#include "server/stream_exchange.h"

namespace berth::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using boost::system::error_code;

namespace {
constexpr size_t kStreamChunk = 256 * 1024;
// Over TLS a file is read into memory and encrypted: chunks of this size per write.
constexpr size_t kFileChunk = 256 * 1024;
// A read of sendRead: one hop to the blocking pool each, so larger than a file chunk.
constexpr size_t kReadChunk = 1024 * 1024;
constexpr std::string_view kApiVersionHeader = "Docker-Distribution-API-Version";
constexpr std::string_view kForwardedFor = "X-Forwarded-For";
constexpr std::string_view kForwardedProto = "X-Forwarded-Proto";
constexpr std::string_view kForwardedHost = "X-Forwarded-Host";

beast::string_view fieldName(std::string_view name) { return {name.data(), name.size()}; }

}  // namespace

// ------------------------------------------------------------------ Exchange

Exchange::Exchange(beast::flat_buffer& buffer, http::request_parser<http::empty_body>& parser,
                   asio::thread_pool& pool, const Limits& limits, const std::atomic<bool>& draining,
                   const ConnectionInfo& conn, ConnectionScratch& scratch)
    : buffer_(buffer),
      parser_(&parser),
      pool_(pool),
      limits_(limits),
      draining_(draining),
      conn_(conn),
      audit_(scratch.audit),
      head_(scratch.head) {
  // Empty strings move-assigned keep the note's buffers: no allocation per request.
  audit_ = AuditNote{};
  body_done_ = parser.is_done();
  request_keep_alive_ = parser.keep_alive();
  // Only a trusted proxy pays for this; everyone else's client is the peer, with no copy.
  if (conn.trusted_proxy) {
    const auto& req = parser.get();
    auto range = req.equal_range(fieldName(kForwardedFor));
    if (range.first != range.second) {
      std::vector<std::string_view> values;
      for (auto it = range.first; it != range.second; ++it) values.emplace_back(it->value());
      IpAddress client = forwardedClient(conn.remote_ip, *conn.trusted_proxies, values);
      if (client != conn.remote_ip) client_ = client.toString();
    }
  }
}

std::string_view Exchange::header(http::field f) const {
  auto it = request().find(f);
  return it == request().end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view Exchange::header(std::string_view name) const {
  auto it = request().find(fieldName(name));
  return it == request().end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view Exchange::scheme() const {
  if (conn_.tls) return "https";
  if (conn_.trusted_proxy) {
    if (auto s = forwardedScheme(lastListElement(header(kForwardedProto))); !s.empty()) return s;
  }
  return "http";
}

std::string_view Exchange::host() const {
  if (conn_.trusted_proxy) {
    if (auto h = lastListElement(header(kForwardedHost)); isValidHost(h)) return h;
  }
  if (auto h = header(http::field::host); isValidHost(h)) return h;
  return *conn_.listen_address;
}

std::string Exchange::externalBase() const {
  std::string_view s = scheme(), h = host();
  std::string out;
  out.reserve(s.size() + 3 + h.size());
  out.append(s).append("://").append(h);
  return out;
}

bool Exchange::hasBody() const { return !body_done_; }

std::optional<uint64_t> Exchange::contentLength() const {
  auto cl = parser_->content_length();
  if (saved_header_ || !cl) return std::nullopt;
  return *cl;
}

bool Exchange::takeContinue() {
  // HTTP/1.0 clients do not know 100 Continue (RFC 9110 10.1.1).
  if (sent_continue_ || request().version() < 11 || !equalsIgnoreCase(header(http::field::expect), "100-continue"))
    return false;
  sent_continue_ = true;
  return true;
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

void Exchange::settleResponse(unsigned status) {
  status_ = status;
  keep_alive_ = keep_alive_ && request_keep_alive_ && body_done_ && !draining_.load(std::memory_order_relaxed);
}

void Exchange::finishHeaders(http::header<false>& h) {
  settleResponse(h.result_int());
  h.set(fieldName(kApiVersionHeader), "registry/2.0");
  if (!keep_alive_) {
    h.set(http::field::connection, "close");
  } else if (request().version() < 11) {
    h.set(http::field::connection, "keep-alive");
  }
}

std::string_view Exchange::prepareHead(http::status status, std::span<const PreparedField> fields,
                                       uint64_t length) {
  settleResponse(static_cast<unsigned>(status));
  // The bytes Beast's serializer writes for the same response, fields in the same order.
  std::string& h = head_;
  h.clear();
  char digits[24];
  auto number = [&](uint64_t n) {
    auto r = std::to_chars(digits, digits + sizeof digits, n);
    h.append(digits, static_cast<size_t>(r.ptr - digits));
  };
  using namespace std::string_view_literals;
  h += "HTTP/1.1 "sv;
  number(static_cast<unsigned>(status));
  h += ' ';
  const auto reason = http::obsolete_reason(status);
  h.append(reason.data(), reason.size());
  h += "\r\n"sv;
  for (const PreparedField& f : fields) {
    h.append(f.name).append(": "sv);
    if (f.quoted) h += '"';
    h.append(f.value);
    if (f.quoted) h += '"';
    h += "\r\n"sv;
  }
  h.append(kApiVersionHeader).append(": registry/2.0\r\n"sv);
  if (!keep_alive_) {
    h += "Connection: close\r\n"sv;
  } else if (request().version() < 11) {
    h += "Connection: keep-alive\r\n"sv;
  }
  h += "Content-Length: "sv;
  number(length);
  h += "\r\n\r\n"sv;
  return h;
}

Task<void> Exchange::sendError(const Error& error, Response res) {
  auto info = errorInfo(error.code);
  res.result(info.status);
  res.set(http::field::content_type, "application/json");
  res.body() = errorBody(error);
  if (error.code == Code::kTooManyRequests || error.code == Code::kUnavailable) {
    if (res.find(http::field::retry_after) == res.end()) res.set(http::field::retry_after, "1");
  }
  if (!audit_.entry.action.empty()) {  // the audited request's error, after what it noted
    constexpr size_t kMaxMessage = 300;
    std::string& m = audit_.entry.message;
    if (!m.empty()) m += ": ";
    m += error.message;
    if (m.size() > kMaxMessage) {
      m.resize(kMaxMessage);
      // No cut UTF-8 sequence at the end.
      while (!m.empty() && (static_cast<unsigned char>(m.back()) & 0x80) != 0) m.pop_back();
    }
  }
  co_await send(std::move(res));
}

// ------------------------------------------------------------------ StreamExchange

template <class Stream>
Task<Status> StreamExchange<Stream>::sendContinueIfExpected() {
  if (!takeContinue()) co_return Status{};
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  error_code ec;
  tcp().expires_after(limits_.body_stall_timeout);
  co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                             asio::redirect_error(use_awaitable, ec));
  if (ec) {
    markBroken();
    co_return makeError(Code::kBlobUploadInvalid, "connection failed: " + ec.message());
  }
  co_return Status{};
}

template <class Stream>
Task<Result<std::string>> StreamExchange<Stream>::readBody(size_t limit) {
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
    tcp().expires_after(limits_.body_stall_timeout);
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

template <class Stream>
Task<Status> StreamExchange<Stream>::streamBody(const std::function<Status(std::string_view)>& sink) {
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
      tcp().expires_after(limits_.body_stall_timeout);
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

// A body of known length needs no parsing: read it from the stream straight into the chunk
// handed to the sink (no copy through the parser, reads as large as the chunk).
template <class Stream>
Task<Status> StreamExchange<Stream>::streamFixedBody(uint64_t length,
                                                     const std::function<Status(std::string_view)>& sink) {
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
      tcp().expires_after(limits_.body_stall_timeout);  // a deadline per read: progress, not total time
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

template <class Stream>
Task<void> StreamExchange<Stream>::send(Response res) {
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
  tcp().expires_after(limits_.body_stall_timeout);
  co_await http::async_write(stream_, res, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    markBroken();
  } else {
    bytes_out_ += res.body().size();
  }
}

template <class Stream>
Task<void> StreamExchange<Stream>::sendHeaders(http::response<http::empty_body> res, uint64_t content_length) {
  res.version(11);
  finishHeaders(res.base());
  res.content_length(content_length);
  error_code ec;
  tcp().expires_after(limits_.body_stall_timeout);
  http::response_serializer<http::empty_body> sr{res};
  co_await http::async_write_header(stream_, sr, asio::redirect_error(use_awaitable, ec));
  if (ec) markBroken();
}

template <class Stream>
Task<void> StreamExchange<Stream>::sendPrepared(http::status status, std::span<const PreparedField> fields,
                                                std::string_view body) {
  const bool head = method() == http::verb::head;
  const std::string_view header = prepareHead(status, fields, body.size());
  std::array<asio::const_buffer, 2> buffers;
  buffers[0] = asio::buffer(header.data(), header.size());
  buffers[1] = asio::buffer(body.data(), head ? 0 : body.size());
  error_code ec;
  tcp().expires_after(limits_.body_stall_timeout);
  co_await asio::async_write(stream_, buffers, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    markBroken();
  } else if (!head) {
    bytes_out_ += body.size();
  }
}

template <class Stream>
Task<void> StreamExchange<Stream>::sendFile(http::response<http::empty_body> res, int fd, uint64_t offset,
                                            uint64_t length) {
  co_await sendHeaders(std::move(res), length);
  if (broken_) co_return;
  uint64_t sent = 0;
  if constexpr (std::is_same_v<Stream, PlainStream>) {
    sent = co_await sendfileBody(fd, offset, length);
  } else {
    sent = co_await copyFileBody(fd, offset, length);
  }
  bytes_out_ += sent;
  if (sent < length) markBroken();  // the response is incomplete: the connection is done
}

template <class Stream>
Task<uint64_t> StreamExchange<Stream>::sendfileBody(int fd, uint64_t offset, uint64_t length) {
  using namespace asio::experimental::awaitable_operators;
  auto& sock = tcp().socket();
  error_code ec;
  sock.native_non_blocking(true, ec);
  off_t off = static_cast<off_t>(offset);
  uint64_t remaining = length;
  while (remaining > 0 && !ec) {
    ssize_t n = ::sendfile(sock.native_handle(), fd, &off, std::min<uint64_t>(remaining, 1u << 30));
    if (n > 0) {
      remaining -= static_cast<uint64_t>(n);
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
  co_return length - remaining;
}

// TLS cannot use sendfile: read a chunk, encrypt and write it, each write under the stall
// deadline. The read is from the page cache as sendfile's would be, on the I/O thread.
template <class Stream>
Task<uint64_t> StreamExchange<Stream>::copyFileBody(int fd, uint64_t offset, uint64_t length) {
  std::unique_ptr<char[]> chunk(new char[static_cast<size_t>(std::min<uint64_t>(length, kFileChunk))]);
  uint64_t sent = 0;
  while (sent < length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length - sent, kFileChunk));
    ssize_t n = ::pread(fd, chunk.get(), want, static_cast<off_t>(offset + sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a read error, or the file ended early
    error_code ec;
    tcp().expires_after(limits_.body_stall_timeout);
    co_await asio::async_write(stream_, asio::buffer(chunk.get(), static_cast<size_t>(n)),
                               asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    sent += static_cast<uint64_t>(n);
  }
  co_return sent;
}

template <class Stream>
Task<void> StreamExchange<Stream>::sendRead(http::response<http::empty_body> res, const ReadAt& read,
                                            uint64_t offset, uint64_t length) {
  co_await sendHeaders(std::move(res), length);
  if (broken_ || method() == http::verb::head) co_return;
  const size_t chunk_size = static_cast<size_t>(std::min<uint64_t>(length, kReadChunk));
  std::unique_ptr<char[]> chunk(new char[chunk_size]);
  uint64_t sent = 0;
  while (sent < length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(length - sent, chunk_size));
    auto n = co_await blocking([&] { return read(offset + sent, chunk.get(), want); });
    if (!n || *n == 0) break;  // a read error, or the blob ended early
    error_code ec;
    tcp().expires_after(limits_.body_stall_timeout);
    co_await asio::async_write(stream_, asio::buffer(chunk.get(), *n), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    sent += *n;
  }
  bytes_out_ += sent;
  if (sent < length) markBroken();  // the response is incomplete: the connection is done
}

template class StreamExchange<PlainStream>;
template class StreamExchange<TlsStream>;

}  // namespace berth::server
