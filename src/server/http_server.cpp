#include "server/http_server.h"

#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <optional>
#include <type_traits>

#include "common/errors.h"
#include "common/text.h"
#include "common/log.h"
#include "config/config.h"
#include "server/stream_exchange.h"
#include "server/tls_context.h"

namespace berth::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using boost::system::error_code;

namespace {
// A connection buffers at most its header limit plus one read of unparsed bytes; this also
// bounds what a chunk header (size, extensions) or a trailer may hold.
constexpr size_t kReadSlack = 64 * 1024;
// Lingering close: how long and how much we discard so the client reads our answer.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 64 * 1024 * 1024;
// Connections over max_connections being answered 503 at once; beyond this they are
// closed without an answer, so a connect flood cannot pile up lingering sockets.
constexpr size_t kMaxRejecting = 1024;
// How long a TLS close waits for the client's close_notify when nothing is left to discard.
constexpr auto kTlsCloseTime = std::chrono::seconds(1);

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, PlainStream>;


// A request refused before it reaches the handler; always followed by closing.
struct Rejection {
  http::status status;
  Error error;
};

// What the parser leaves to us: the target and field-count limits, and framing it accepts
// but RFC 9112 does not. Only a lone "chunked" transfer coding is understood; anything else
// leaves the body length unknown, so the request is refused and the connection closed
// (6.1, 6.3). An HTTP/1.1 request has exactly one Host (3.2). One pass over the fields,
// no allocation unless the request is refused.
std::optional<Rejection> checkRequest(const http::request_header<>& req, const Limits& limits) {
  if (req.target().size() > limits.max_target_bytes) {
    return Rejection{http::status::uri_too_long,
                     makeError(Code::kPayloadTooLarge, "request target of " + std::to_string(req.target().size()) +
                                                           " bytes is longer than the limit of " +
                                                           std::to_string(limits.max_target_bytes))};
  }
  size_t fields = 0, hosts = 0, codings = 0;
  bool chunked_only = true;
  for (const auto& f : req) {
    ++fields;
    if (f.name() == http::field::host) {
      ++hosts;
    } else if (f.name() == http::field::transfer_encoding) {
      ++codings;
      chunked_only = chunked_only && equalsIgnoreCase(trimOws(f.value()), "chunked");
    }
  }
  if (fields > limits.max_header_count) {
    return Rejection{http::status::request_header_fields_too_large,
                     makeError(Code::kPayloadTooLarge, "request has " + std::to_string(fields) +
                                                           " header fields, more than the limit of " +
                                                           std::to_string(limits.max_header_count))};
  }
  if (codings && (codings > 1 || !chunked_only || req.version() < 11)) {
    return Rejection{http::status::bad_request,
                     makeError(Code::kInvalidArgument, "unsupported Transfer-Encoding: only a lone \"chunked\" "
                                                       "coding is accepted")};
  }
  if (hosts > 1 || (hosts == 0 && req.version() >= 11)) {
    return Rejection{http::status::bad_request,
                     makeError(Code::kInvalidArgument, "the request needs exactly one Host header")};
  }
  return std::nullopt;
}

// The answer to a request the parser refused. A header over the limit because of its
// target is a 414, not a 431. The parser consumes the request line once it is complete, so
// the target is either in the message or (line still incomplete) at the buffer's start.
Rejection parseRejection(error_code ec, const http::request_header<>& req, const beast::flat_buffer& buffer,
                         const Limits& limits) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    size_t target = req.target().size();
    if (target == 0) {
      std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
      if (auto sp = data.find(' '); sp != std::string_view::npos) {
        auto end = data.find_first_of(" \r\n", sp + 1);
        target = (end == std::string_view::npos ? data.size() : end) - (sp + 1);
      }
    }
    if (target > limits.max_target_bytes) {
      return Rejection{http::status::uri_too_long,
                       makeError(Code::kPayloadTooLarge, "request target is longer than the limit of " +
                                                             std::to_string(limits.max_target_bytes) + " bytes")};
    }
    return Rejection{http::status::request_header_fields_too_large,
                     makeError(Code::kPayloadTooLarge, "request header is larger than the limit of " +
                                                           std::to_string(limits.max_header_bytes) + " bytes")};
  }
  return Rejection{http::status::bad_request, makeError(Code::kInvalidArgument, "malformed request: " + ec.message())};
}

bool isParseError(error_code ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

}  // namespace

// ------------------------------------------------------------------ HttpServer

struct HttpServer::Impl {
  struct Worker {
    asio::io_context ioc{1};
    // (TCP layer, idle): idle while no request header is complete, so stop() may close it.
    // Touched by this worker's thread only.
    std::list<std::pair<beast::tcp_stream*, bool*>> connections;
  };

  HttpServer& self;
  Config config;
  Handler handler;
  metrics::HttpMetrics* metrics;  // may be null
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  asio::thread_pool pool;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<TlsContext> tls;  // set when config.tls_certificates is not empty
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::atomic<size_t> rejecting{0};
  size_t next_worker = 0;

  Impl(HttpServer& s, const Config& c, Handler h, metrics::HttpMetrics* m)
      : self(s), config(c), handler(std::move(h)), metrics(m), pool(c.blocking_threads) {
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
      // Counted here, on the one accepting thread, so the limit cannot be overshot by
      // sessions that have not started yet.
      if (self.active_connections_.load() >= config.limits.max_connections) {
        if (rejecting.load() >= kMaxRejecting) {
          socket.close(ec);
          continue;
        }
        ++rejecting;
        asio::co_spawn(w.ioc, reject(std::move(socket)), asio::detached);
        continue;
      }
      ++self.active_connections_;
      asio::co_spawn(w.ioc, session(w, std::move(socket)), asio::detached);
    }
  }

  // Over the connection limit: 503 at once (after the handshake on TLS), then a lingering
  // close so the client reads it rather than a reset caused by the request it already sent.
  Task<void> reject(tcp::socket socket) {
    if (tls) {
      TlsStream stream(std::move(socket), tls->context());
      co_await rejectOn(stream);
    } else {
      PlainStream stream(std::move(socket));
      co_await rejectOn(stream);
    }
    --rejecting;
  }

  template <class Stream>
  Task<void> rejectOn(Stream& stream) {
    static const std::string kBusy = [] {
      std::string body = errorBody(makeError(Code::kUnavailable, "too many connections; retry later"));
      return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
             "Docker-Distribution-API-Version: registry/2.0\r\nConnection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    auto& tcp = beast::get_lowest_layer(stream);
    error_code ec;
    tcp.expires_after(kLingerTime);
    if constexpr (kIsTls<Stream>) {
      co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
      if (ec) {
        tcp.socket().close(ec);
        co_return;
      }
    }
    co_await asio::async_write(stream, asio::buffer(kBusy), asio::redirect_error(use_awaitable, ec));
    co_await closeGracefully(stream, !ec, !ec);
  }

  // Reads until at least one byte of a next request is buffered (idle timeout), then the
  // whole header (header timeout), so a trickling client is cut at the header deadline.
  // The first request's deadline is set by the caller at the accept: a connection that
  // sends nothing is not an idle keep-alive, and on TLS the handshake counts against it.
  // A few empty lines before a request line are skipped (RFC 9112 2.2: some clients send
  // CRLF after a body).
  template <class Stream>
  Task<error_code> readHeader(Stream& stream, beast::flat_buffer& buffer,
                              http::request_parser<http::empty_body>& parser, bool& idle, bool first) {
    constexpr int kMaxEmptyLines = 4;
    auto& tcp = beast::get_lowest_layer(stream);
    error_code ec;
    for (int empty_lines = 0;;) {
      // stop() cancels pending reads; a read that completed just before it (its handler
      // already queued) is caught here, before the next read starts.
      if (stopping) co_return asio::error::operation_aborted;
      if (buffer.size() == 0) {
        idle = true;
        if (!first) tcp.expires_after(config.limits.idle_timeout);
        size_t n = co_await stream.async_read_some(buffer.prepare(8192), asio::redirect_error(use_awaitable, ec));
        buffer.commit(n);
        if (ec) co_return ec;
      }
      const char* p = static_cast<const char*>(buffer.data().data());
      if (empty_lines == kMaxEmptyLines || buffer.size() < 2 || p[0] != '\r' || p[1] != '\n') break;
      buffer.consume(2);
      ++empty_lines;
    }
    // Until the header is complete there is no request to drain: stop() may cut it.
    if (stopping) co_return asio::error::operation_aborted;
    idle = true;
    if (!first) tcp.expires_after(config.limits.header_timeout);
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    idle = false;
    co_return ec;
  }

  ConnectionInfo connectionInfo(const tcp::socket& socket) const {
    ConnectionInfo conn;
    conn.tls = tls != nullptr;
    conn.trusted_proxies = &config.trusted_proxies;
    conn.listen_address = &self.address_;
    error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return conn;
    auto addr = ep.address();
    conn.remote = addr.to_string();
    conn.remote_ip = addr.is_v4() ? IpAddress::fromV4(addr.to_v4().to_bytes()) : IpAddress(addr.to_v6().to_bytes());
    conn.trusted_proxy = !config.trusted_proxies.empty() && config.trusted_proxies.contains(conn.remote_ip);
    return conn;
  }

  Task<void> session(Worker& w, tcp::socket socket) {
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    const ConnectionInfo conn = connectionInfo(socket);
    if (metrics) metrics->connectionOpened();
    if (tls) {
      TlsStream stream(std::move(socket), tls->context());
      co_await serve(w, stream, conn);
    } else {
      PlainStream stream(std::move(socket));
      co_await serve(w, stream, conn);
    }
    if (metrics) metrics->connectionClosed();
    --self.active_connections_;
  }

  template <class Stream>
  Task<void> serve(Worker& w, Stream& stream, const ConnectionInfo& conn) {
    auto& tcp = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer(config.limits.max_header_bytes + kReadSlack);
    bool idle = true;
    auto registration = w.connections.insert(w.connections.end(), {&tcp, &idle});
    // From the accept, the TLS handshake and the first request's header share one deadline.
    tcp.expires_after(config.limits.header_timeout);
    error_code ec;
    if constexpr (kIsTls<Stream>) {
      if (!stopping) {
        co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
      }
      if (stopping || ec) {
        if (ec) log::debug("tls handshake failed", {{"remote", conn.remote}, {"error", ec.message()}});
        w.connections.erase(registration);
        tcp.socket().close(ec);
        co_return;
      }
    }
    bool linger = false;
    // Whether to end the TLS session with close_notify: not after a timeout, a reset or a
    // failed write, where the transport is gone or stuck.
    bool goodbye = true;
    bool first = true;
    ConnectionScratch scratch;
    while (!stopping) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(static_cast<uint32_t>(config.limits.max_header_bytes));
      parser.body_limit(boost::none);
      ec = co_await readHeader(stream, buffer, parser, idle, first);
      first = false;
      if (ec) {
        if (isParseError(ec)) {
          co_await rejectRequest(stream, parseRejection(ec, parser.get(), buffer, config.limits));
          linger = true;
        } else {
          goodbye = ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::operation_aborted;
        }
        break;
      }
      if (auto bad = checkRequest(parser.get(), config.limits)) {
        co_await rejectRequest(stream, std::move(*bad));
        linger = true;
        break;
      }
      auto start = std::chrono::steady_clock::now();
      StreamExchange<Stream> ex(stream, buffer, parser, pool, config.limits, stopping, conn, scratch);
      bool failed = false;
      try {
        co_await handler(ex);
      } catch (const std::exception& e) {
        log::error("request failed", {{"error", e.what()}});
        failed = true;
      }
      if (failed && ex.status() == 0) co_await ex.sendError(makeError(Code::kInternal, "internal error"));
      if (config.access_log || metrics) finished(ex, start);
      if (!ex.keepAlive()) {
        linger = !ex.bodyConsumed();
        goodbye = !ex.broken();
        break;
      }
    }
    w.connections.erase(registration);
    co_await closeGracefully(stream, linger, goodbye);
  }

  // After each request: the metrics and the access log.
  void finished(const Exchange& ex, std::chrono::steady_clock::time_point start) {
    auto elapsed = std::chrono::steady_clock::now() - start;
    if (metrics) {
      metrics->recordRequest(ex.routeLabel(), ex.request().method_string(), ex.status(),
                             std::chrono::duration<double>(elapsed).count(), ex.bytesIn(), ex.bytesOut());
    }
    if (config.access_log) accessLog(ex, elapsed);
  }

  // One line per request, built in place: no JSON DOM, no allocation per request.
  void accessLog(const Exchange& ex, std::chrono::steady_clock::duration elapsed) {
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    const auto& req = ex.request();
    log::Line line(log::Level::kInfo, "request");
    line.str("method", std::string_view(req.method_string()))
        .str("path", std::string_view(req.target()))
        .num("status", ex.status())
        .num("bytes_in", ex.bytesIn())
        .num("bytes_out", ex.bytesOut())
        .num("duration_us", us)
        .str("remote", ex.remoteAddress());
    if (ex.clientAddress() != ex.remoteAddress()) line.str("client", ex.clientAddress());
    // What the server made of the request's origin, to check a proxy setup.
    if (log::enabled(log::Level::kDebug)) line.str("scheme", ex.scheme()).str("host", ex.host());
  }

  template <class Stream>
  Task<void> rejectRequest(Stream& stream, Rejection rejection) {
    http::response<http::string_body> res{rejection.status, 11};
    res.set(http::field::content_type, "application/json");
    res.set("Docker-Distribution-API-Version", "registry/2.0");
    res.keep_alive(false);
    res.body() = errorBody(rejection.error);
    res.prepare_payload();
    error_code wec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, asio::redirect_error(use_awaitable, wec));
  }

  // Shuts down our side; when the client may still be sending something we did not read,
  // discard what arrives for a moment first so the client reads our response instead of a
  // connection reset. Plain TCP half-closes first, so the client sees the end at once. TLS
  // has no half-close OpenSSL will keep reading after (it fails on data after our
  // close_notify), so the discarding comes first there; `goodbye` then sends close_notify
  // and waits a moment for the client's.
  template <class Stream>
  Task<void> closeGracefully(Stream& stream, bool linger, bool goodbye) {
    auto& tcp = beast::get_lowest_layer(stream);
    error_code ec;
    if constexpr (kIsTls<Stream>) {
      if (goodbye && linger) {
        ec = co_await discardIncoming(stream);
        goodbye = ec == asio::error::eof;  // the client's close_notify: answer it
      }
      if (goodbye) {
        tcp.expires_after(kTlsCloseTime);
        co_await stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
      }
    } else {
      tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (linger && !ec) co_await discardIncoming(stream);
    }
    tcp.socket().close(ec);
  }

  // Reads and drops what the client sends, for up to kLingerTime or kLingerBytes; returns
  // the error that ended it (eof when the client closed).
  template <class Stream>
  Task<error_code> discardIncoming(Stream& stream) {
    char sink[16384];
    size_t total = 0;
    error_code ec;
    beast::get_lowest_layer(stream).expires_after(kLingerTime);
    while (total < kLingerBytes) {
      total += co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(use_awaitable, ec));
      if (ec) break;
    }
    co_return ec;
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

HttpServer::HttpServer(const Config& config, Handler handler, metrics::HttpMetrics* metrics)
    : impl_(std::make_unique<Impl>(*this, config, std::move(handler), metrics)) {}

HttpServer::~HttpServer() {
  impl_->pool.join();
}

Status HttpServer::loadTls() {
  if (impl_->tls || impl_->config.tls_certificates.empty()) return {};
  auto tls = TlsContext::load(impl_->config.tls_certificates);
  if (!tls) return tls.takeError();
  impl_->tls = std::move(*tls);
  return {};
}

bool HttpServer::tls() const { return impl_->tls != nullptr; }

Status HttpServer::bind() {
  // Never serve plain HTTP where HTTPS was configured, whoever forgot loadTls().
  if (auto s = loadTls(); !s) return s;
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
  // Each connection is a descriptor; past the open file limit accept() fails instead of
  // answering 503, so say so (checked here: main raises the limit after bind()).
  rlimit rl{};
  const size_t wanted = impl_->config.limits.max_connections + kMaxRejecting + 256;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
    log::warn("open file limit is below max_connections", {{"max_connections", impl_->config.limits.max_connections},
                                                          {"open_file_limit", static_cast<uint64_t>(rl.rlim_cur)}});
  }
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
