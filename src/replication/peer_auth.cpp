#include "replication/peer_auth.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "events/event_payload.h"
#include "storage/http/crypto.h"

namespace berth::replication {

std::string PeerAuth::mac(std::string_view region, std::string_view time, std::string_view method,
                          std::string_view target) const {
  std::string text = "berth-replication-v1\n";
  text.append(region).append("\n").append(time).append("\n").append(method).append("\n").append(target);
  return events::signature(secret_, text);
}

SignedHeaders PeerAuth::sign(std::string_view method, std::string_view target, int64_t now) const {
  const std::string time = std::to_string(now);
  return SignedHeaders{region_, time, mac(region_, time, method, target)};
}

Result<std::string> PeerAuth::verify(std::string_view region, std::string_view time, std::string_view signature,
                                     std::string_view method, std::string_view target, int64_t now) const {
  if (region.empty() || signature.empty()) {
    return makeError(Code::kUnauthorized, "replication requests must be signed by a replica");
  }
  {
    std::lock_guard lock(mu_);
    if (std::find(peers_.begin(), peers_.end(), region) == peers_.end()) {
      return makeError(Code::kUnauthorized, "region " + std::string(region) + " is not a peer of this replica");
    }
  }
  int64_t sent = 0;
  auto [end, ec] = std::from_chars(time.data(), time.data() + time.size(), sent);
  if (ec != std::errc() || end != time.data() + time.size()) {
    return makeError(Code::kUnauthorized, "malformed replication request time");
  }
  const std::string expected = mac(region, time, method, target);
  if (expected.size() != signature.size() ||
      CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return makeError(Code::kUnauthorized, "replication signature does not match (is replication.secret_file the same on every replica?)");
  }
  if (sent < now - kMaxSkewSeconds || sent > now + kMaxSkewSeconds) {
    return makeError(Code::kDenied, "the clock of replica " + std::string(region) + " is " +
                                        std::to_string(sent - now) + " s off this one's; at most " +
                                        std::to_string(kMaxSkewSeconds) + " s is accepted (synchronize the clocks)");
  }
  return std::string(region);
}

std::string signingKeyPem(std::string_view secret) {
  // The order of P-256: a scalar must be in [1, n-1].
  static constexpr unsigned char kOrder[32] = {
      0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
      0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
  std::string scalar;
  for (int counter = 0;; ++counter) {
    scalar = storage::http::hmacSha256(secret, "berth token signing key " + std::to_string(counter));
    const bool zero = std::all_of(scalar.begin(), scalar.end(), [](char c) { return c == 0; });
    if (!zero && std::lexicographical_compare(scalar.begin(), scalar.end(), std::begin(kOrder), std::end(kOrder),
                                              [](char a, unsigned char b) { return static_cast<unsigned char>(a) < b; })) {
      break;
    }
  }
  // SEC1 ECPrivateKey { version 1, privateKey, [0] prime256v1 }; OpenSSL derives the
  // public key from the scalar when it reads it.
  std::string der = std::string("\x30\x31\x02\x01\x01\x04\x20", 7) + scalar +
                    std::string("\xa0\x0a\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 12);
  const std::string b64 = storage::http::base64Encode(der);
  std::string pem = "-----BEGIN EC PRIVATE KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  pem += "-----END EC PRIVATE KEY-----\n";
  return pem;
}

Result<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(Code::kInvalidArgument, "replication.secret_file: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  auto space = [](unsigned char ch) { return std::isspace(ch) != 0; };
  while (!s.empty() && space(s.back())) s.pop_back();
  size_t start = 0;
  while (start < s.size() && space(s[start])) ++start;
  s.erase(0, start);
  if (s.size() < 32) {
    return makeError(Code::kInvalidArgument, "replication.secret_file: " + path +
                                                 " must hold at least 32 bytes (e.g. openssl rand -hex 32 > " + path + ")");
  }
  return s;
}

}  // namespace berth::replication
