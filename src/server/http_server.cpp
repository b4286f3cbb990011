#include "server/http_server.h"

#include <sys/resource.h>
#include <sys/sendfile.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>

#include "common/errors.h"
#include "common/log.h"
#include "config/config.h"
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

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}
}  // namespace

// ------------------------------------------------------------------ Exchange

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
  if (sent_continue_ || !iequals(header(http::field::expect), "100-continue")) co_return Status{};
  sent_continue_ = true;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  error_code ec;
  stream_.expires_after(limits_.body_stall_timeout);
  co_await asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                             asio::redirect_error(use_awaitable, ec));
  if (ec) {
    keep_alive_ = false;
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
  stream_.expires_after(limits_.body_stall_timeout);
  co_await http::async_read(stream_, buffer_, p, asio::redirect_error(use_awaitable, ec));
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

Task<Status> Exchange::streamBody(const std::function<Status(std::string_view)>& sink) {
  if (body_done_) co_return Status{};
  if (auto s = co_await sendContinueIfExpected(); !s) co_return s;
  saved_header_ = parser_->get().base();
  http::request_parser<http::buffer_body> p{std::move(*parser_)};
  p.body_limit(boost::none);
  std::unique_ptr<char[]> chunk(new char[kStreamChunk]);
  while (!p.is_done()) {
    p.get().body().data = chunk.get();
    p.get().body().size = kStreamChunk;
    error_code ec;
    stream_.expires_after(limits_.body_stall_timeout);
    co_await http::async_read(stream_, buffer_, p, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    size_t n = kStreamChunk - p.get().body().size;
    bytes_in_ += n;
    if (n) {
      if (auto s = sink(std::string_view(chunk.get(), n)); !s) {
        keep_alive_ = false;
        co_return s;
      }
    }
    if (ec) {
      keep_alive_ = false;
      co_return makeError(Code::kBlobUploadInvalid, "upload body interrupted: " + ec.message());
    }
  }
  body_done_ = true;
  co_return Status{};
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
      // Wait until the client can take more, but not forever.
      asio::steady_timer timer(sock.get_executor());
      timer.expires_after(limits_.body_stall_timeout);
      timer.async_wait([&sock](error_code tec) {
        if (!tec) sock.cancel();
      });
      co_await sock.async_wait(tcp::socket::wait_write, asio::redirect_error(use_awaitable, ec));
      timer.cancel();
      continue;
    }
    break;  // the client went away, or the file ended early
  }
  if (remaining > 0) keep_alive_ = false;  // the response is incomplete: the connection is done
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

// ------------------------------------------------------------------ HttpServer

struct HttpServer::Impl {
  struct Worker {
    asio::io_context ioc{1};
    std::list<std::pair<beast::tcp_stream*, bool*>> connections;  // (stream, idle); this thread only
  };

  HttpServer& self;
  Config config;
  Handler handler;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  asio::thread_pool pool;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  size_t next_worker = 0;

  Impl(HttpServer& s, const Config& c, Handler h)
      : self(s), config(c), handler(std::move(h)), pool(c.blocking_threads) {
    unsigned n = config.io_threads ? config.io_threads : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) workers.push_back(std::make_unique<Worker>());
  }

  Task<void> acceptLoop() {
    for (;;) {
      auto& w = *workers[next_worker++ % workers.size()];
      error_code ec;
      tcp::socket socket = co_await acceptor->async_accept(w.ioc, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        log::warn("accept failed", {{"error", ec.message()}});
        if (ec == asio::error::no_descriptors) {
          asio::steady_timer t(acceptor->get_executor());
          t.expires_after(std::chrono::milliseconds(50));
          co_await t.async_wait(use_awaitable);
        }
        continue;
      }
      if (self.active_connections_.load() >= config.limits.max_connections) {
        asio::co_spawn(w.ioc, reject(std::move(socket)), asio::detached);
        continue;
      }
      asio::co_spawn(w.ioc, session(w, std::move(socket)), asio::detached);
    }
  }

  static Task<void> reject(tcp::socket socket) {
    static const std::string kBusy = [] {
      std::string body = errorBody(makeError(Code::kUnavailable, "too many connections; retry later"));
      return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    error_code ec;
    co_await asio::async_write(socket, asio::buffer(kBusy), asio::redirect_error(use_awaitable, ec));
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  // Reads until at least one byte of a next request is buffered (idle timeout), then the
  // whole header (header timeout), so a trickling client is cut at the header deadline.
  Task<error_code> readHeader(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                              http::request_parser<http::empty_body>& parser, bool& idle) {
    error_code ec;
    if (buffer.size() == 0) {
      idle = true;
      stream.expires_after(config.limits.idle_timeout);
      size_t n = co_await stream.async_read_some(buffer.prepare(8192), asio::redirect_error(use_awaitable, ec));
      buffer.commit(n);
      idle = false;
      if (ec) co_return ec;
    }
    idle = false;
    stream.expires_after(config.limits.header_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    co_return ec;
  }

  Task<void> session(Worker& w, tcp::socket socket) {
    ++self.active_connections_;
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote;
    if (auto ep = socket.remote_endpoint(ec); !ec) remote = ep.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bool idle = true;
    auto registration = w.connections.insert(w.connections.end(), {&stream, &idle});
    bool linger = false;
    while (!stopping) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(static_cast<uint32_t>(config.limits.max_header_bytes));
      parser.body_limit(boost::none);
      ec = co_await readHeader(stream, buffer, parser, idle);
      if (ec) {
        if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream &&
            ec != http::error::partial_message) {
          co_await rejectBadRequest(stream, ec);
        }
        break;
      }
      auto start = std::chrono::steady_clock::now();
      Exchange ex(stream, buffer, parser, pool, config.limits, stopping, remote);
      bool failed = false;
      try {
        co_await handler(ex);
      } catch (const std::exception& e) {
        log::error("request failed", {{"error", e.what()}});
        failed = true;
      }
      if (failed && ex.status() == 0) co_await ex.sendError(makeError(Code::kInternal, "internal error"));
      if (config.access_log) accessLog(ex, start);
      if (!ex.keepAlive()) {
        linger = !ex.bodyConsumed();
        break;
      }
    }
    w.connections.erase(registration);
    co_await closeGracefully(stream, linger);
    --self.active_connections_;
  }

  void accessLog(const Exchange& ex, std::chrono::steady_clock::time_point start) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
    const auto& req = ex.request();
    log::info("request", {{"method", std::string_view(req.method_string())},
                          {"path", std::string_view(req.target())},
                          {"status", ex.status()},
                          {"bytes_in", ex.bytesIn()},
                          {"bytes_out", ex.bytesOut()},
                          {"duration_us", us},
                          {"remote", ex.remoteAddress()}});
  }

  Task<void> rejectBadRequest(beast::tcp_stream& stream, error_code ec) {
    Code code = ec == http::error::header_limit ? Code::kPayloadTooLarge : Code::kInvalidArgument;
    std::string body = errorBody(makeError(code, "malformed or oversized request: " + ec.message()));
    http::response<http::string_body> res{ec == http::error::header_limit ? http::status::request_header_fields_too_large
                                                                           : http::status::bad_request, 11};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    error_code wec;
    stream.expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, wec));
  }

  // Shuts down our side; when the client may still be sending a body we did not read,
  // discard what arrives for a moment first so the client reads our response instead of a
  // connection reset.
  Task<void> closeGracefully(beast::tcp_stream& stream, bool linger) {
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (linger) {
      char sink[16384];
      size_t total = 0;
      stream.expires_after(std::chrono::seconds(2));
      while (total < 64 * 1024 * 1024) {
        size_t n = co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
        if (ec) break;
        total += n;
      }
    }
    stream.socket().close(ec);
  }

  void beginStop() {
    if (stopping.exchange(true)) return;
    log::info("shutting down", {{"active_connections", self.active_connections_.load()}});
    asio::post(workers[0]->ioc, [this] {
      error_code ec;
      if (acceptor) acceptor->close(ec);
    });
    for (auto& w : workers) {
      asio::post(w->ioc, [wp = w.get()] {
        for (auto& [stream, idle] : wp->connections) {
          if (*idle) stream->socket().cancel();
        }
      });
    }
    std::thread([this] {
      auto deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
      while (self.active_connections_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (self.active_connections_.load() > 0) {
        log::warn("grace period over; closing connections", {{"active_connections", self.active_connections_.load()}});
      }
      for (auto& w : workers) w->ioc.stop();
    }).detach();
  }
};

HttpServer::HttpServer(const Config& config, Handler handler)
    : impl_(std::make_unique<Impl>(*this, config, std::move(handler))) {}

HttpServer::~HttpServer() {
  impl_->pool.join();
}

Status HttpServer::bind() {
  auto hp = parseListen(impl_->config.listen);
  if (!hp) return hp.takeError();
  error_code ec;
  auto addr = asio::ip::make_address(hp->first, ec);
  if (ec) return makeError(Code::kInvalidArgument, "listen: invalid address '" + hp->first + "'");
  tcp::endpoint ep(addr, hp->second);
  auto acc = std::make_unique<tcp::acceptor>(impl_->workers[0]->ioc);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return makeError(Code::kUnavailable, "cannot listen on " + impl_->config.listen + ": " + ec.message());
  auto bound = acc->local_endpoint();
  address_ = (bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string()) +
             ":" + std::to_string(bound.port());
  impl_->acceptor = std::move(acc);
  return {};
}

void HttpServer::run() {
  asio::co_spawn(impl_->workers[0]->ioc, impl_->acceptLoop(), asio::detached);
  for (size_t i = 1; i < impl_->workers.size(); ++i) {
    impl_->threads.emplace_back([w = impl_->workers[i].get()] {
      auto guard = asio::make_work_guard(w->ioc);
      w->ioc.run();
    });
  }
  {
    auto guard = asio::make_work_guard(impl_->workers[0]->ioc);
    impl_->workers[0]->ioc.run();
  }
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

void HttpServer::stop() { impl_->beginStop(); }

}  // namespace berth::server
