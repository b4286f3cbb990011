#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/log.h"

namespace berth::server {
namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's queued errors as one line (and the queue emptied).
std::string opensslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

Error fileError(const std::string& key, const std::string& file, const std::string& what) {
  return makeError(Code::kInvalidArgument, "config: " + key + ": " + file + ": " + what);
}

// Readable at all? OpenSSL's own message for a missing file is obscure.
Status checkReadable(const std::string& key, const std::string& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return fileError(key, file, std::string("cannot read: ") + std::strerror(errno));
  std::fclose(f);
  return {};
}

// A passphrase prompt would block start-up on a terminal that is not there.
int refusePassphrase(char*, int, int, void*) { return 0; }

std::string asn1Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
}

CertificateNames namesOf(X509* cert) {
  std::vector<std::string> dns;
  std::vector<IpAddress> ips;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS) {
        dns.push_back(asn1Text(n->d.dNSName));
      } else if (n->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* a = n->d.iPAddress;
        const unsigned char* p = ASN1_STRING_get0_data(a);
        if (ASN1_STRING_length(a) == 4) {
          ips.push_back(IpAddress::fromV4({p[0], p[1], p[2], p[3]}));
        } else if (ASN1_STRING_length(a) == 16) {
          std::array<uint8_t, 16> b;
          std::memcpy(b.data(), p, 16);
          ips.emplace_back(b);
        }
      }
    }
    GENERAL_NAMES_free(sans);
  }
  std::string cn;
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (idx >= 0) cn = asn1Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
  return certificateNames(dns, ips, cn);
}

std::string joinNames(const CertificateNames& names) {
  std::string out;
  for (const auto& d : names.dns) out += (out.empty() ? "" : ", ") + d;
  for (const auto& ip : names.ips) out += (out.empty() ? "" : ", ") + ip.toString();
  return out;
}

Result<std::unique_ptr<ssl::context>> loadOne(const TlsCertificateFiles& files, const std::string& key) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* h = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION);
  // No compression (CRIME), no renegotiation (a client-driven CPU sink); otherwise OpenSSL's
  // default ciphers, in the server's order of preference.
  SSL_CTX_set_options(h, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(h, refusePassphrase);
  if (auto s = checkReadable(key + ".cert", files.cert); !s) return s.takeError();
  if (SSL_CTX_use_certificate_chain_file(h, files.cert.c_str()) != 1) {
    return fileError(key + ".cert", files.cert, "not a PEM certificate chain (" + opensslErrors() + ")");
  }
  // Read the key ourselves, so a key that belongs to another certificate is reported as
  // such rather than as an OpenSSL "key values mismatch".
  std::FILE* f = std::fopen(files.key.c_str(), "rb");
  if (!f) return fileError(key + ".key", files.key, std::string("cannot read: ") + std::strerror(errno));
  EVP_PKEY* pkey = PEM_read_PrivateKey(f, nullptr, refusePassphrase, nullptr);
  std::fclose(f);
  if (!pkey) {
    return fileError(key + ".key", files.key, "not an unencrypted PEM private key (" + opensslErrors() + ")");
  }
  const bool matches = X509_check_private_key(SSL_CTX_get0_certificate(h), pkey) == 1;
  const bool used = matches && SSL_CTX_use_PrivateKey(h, pkey) == 1;
  EVP_PKEY_free(pkey);
  if (!matches) {
    ERR_clear_error();
    return fileError(key + ".key", files.key, "does not match the certificate in " + files.cert);
  }
  if (!used) return fileError(key + ".key", files.key, "cannot be used (" + opensslErrors() + ")");
  return ctx;
}

}  // namespace

TlsContext::~TlsContext() = default;

Result<std::unique_ptr<TlsContext>> TlsContext::load(const std::vector<TlsCertificateFiles>& files) {
  if (files.empty()) return makeError(Code::kInvalidArgument, "config: tls.certificates: empty");
  std::unique_ptr<TlsContext> tls(new TlsContext);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string key = "tls.certificates[" + std::to_string(i) + "]";
    auto ctx = loadOne(files[i], key);
    if (!ctx) return ctx.takeError();
    X509* leaf = SSL_CTX_get0_certificate((*ctx)->native_handle());
    tls->names_.push_back(namesOf(leaf));
    const auto& names = tls->names_.back();
    log::info("tls certificate", {{"cert", files[i].cert}, {"names", joinNames(names)}, {"default", i == 0}});
    if (names.dns.empty() && names.ips.empty()) {
      log::warn("tls certificate names nothing; it is used only as the default", {{"cert", files[i].cert}});
    }
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
      log::warn("tls certificate has expired", {{"cert", files[i].cert}});
    }
    tls->contexts_.push_back(std::move(*ctx));
  }
  SSL_CTX* first = tls->contexts_.front()->native_handle();
  SSL_CTX_set_tlsext_servername_callback(first, &TlsContext::onServerName);
  SSL_CTX_set_tlsext_servername_arg(first, tls.get());
  return tls;
}

// Runs during the handshake, on the connection's I/O thread; reads only immutable state.
int TlsContext::onServerName(ssl_st* ssl, int*, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;  // no SNI: the default certificate
  size_t i = selectCertificate(self->names_, name);
  if (i != 0) SSL_set_SSL_CTX(ssl, self->contexts_[i]->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace berth::server
