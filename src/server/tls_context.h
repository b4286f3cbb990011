#pragma once
// The server's TLS configuration: one OpenSSL context per configured certificate, the first
// the default, the others chosen by SNI (tls_names.h) during the handshake.
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "server/tls_names.h"

struct ssl_st;  // OpenSSL's SSL

namespace boost::asio::ssl {
class context;
}

namespace berth::server {

class TlsContext {
 public:
  // Loads every certificate chain and key (TLS 1.2 and up, OpenSSL's default ciphers).
  // kInvalidArgument naming the config key and the file when one cannot be read or parsed,
  // or a key does not match its certificate. Encrypted keys are refused (no prompt).
  static Result<std::unique_ptr<TlsContext>> load(const std::vector<TlsCertificateFiles>& files);
  ~TlsContext();

  // The context new connections start with; SNI may switch a connection to another one.
  boost::asio::ssl::context& context() { return *contexts_.front(); }

 private:
  TlsContext() = default;
  static int onServerName(ssl_st* ssl, int* alert, void* self);

  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;
  std::vector<CertificateNames> names_;  // parallel to contexts_
};

}  // namespace berth::server
