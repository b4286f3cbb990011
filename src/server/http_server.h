#pragma once
// The HTTP/1.1 server, over plain TCP or TLS: one io_context per I/O thread (connections
// never migrate, so no strands), one acceptor handing connections out round-robin, a thread
// pool for blocking work, connection limits, and graceful drain on stop().
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "metrics/http_metrics.h"

namespace berth::server {

class Exchange;

// The application: handles one request. Must always send exactly one response.
using Handler = std::function<boost::asio::awaitable<void>(Exchange&)>;

class HttpServer {
 public:
  // `metrics`, when given, records every request and open connection; it must outlive this.
  HttpServer(const Config& config, Handler handler, metrics::HttpMetrics* metrics = nullptr);
  ~HttpServer();

  // Loads config.tls_certificates (nothing to do without them). Errors name the config key
  // and the file. bind() calls it if it has not been called.
  Status loadTls();
  // Whether the server speaks HTTPS (after loadTls()).
  bool tls() const;
  // Binds the listening socket; the bound address is in address() afterwards.
  Status bind();
  const std::string& address() const { return address_; }
  // Runs until stop() finishes draining. Blocks the calling thread.
  void run();
  // Stops accepting, lets in-flight requests finish (up to the grace period), closes idle
  // keep-alive connections, then makes run() return. Safe from any thread / signal handler
  // context via asio.
  void stop();

  uint64_t activeConnections() const { return active_connections_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string address_;
  std::atomic<uint64_t> active_connections_{0};
  friend struct Impl;
};

}  // namespace berth::server
