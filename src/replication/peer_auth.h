#pragma once
// How replicas prove to each other who they are (docs/replication.md): every request
// between replicas carries the sender's region, the time and an HMAC-SHA256, keyed with
// the shared secret (replication.secret_file), over both and the method and target. The
// receiver accepts only a configured peer region, a time within kMaxSkew of its own clock
// and a matching signature; users' credentials are never involved.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::replication {

inline constexpr std::string_view kRegionHeader = "X-Berth-Replica";
inline constexpr std::string_view kTimeHeader = "X-Berth-Replica-Time";
inline constexpr std::string_view kSignatureHeader = "X-Berth-Replica-Signature";
inline constexpr int64_t kMaxSkewSeconds = 120;

struct SignedHeaders {
  std::string region;
  std::string time;
  std::string signature;
};

class PeerAuth {
 public:
  // `secret`: the shared key (at least 32 bytes); `region`: this replica's; `peers`: the
  // regions allowed to call.
  PeerAuth(std::string secret, std::string region, std::vector<std::string> peers)
      : secret_(std::move(secret)), region_(std::move(region)), peers_(std::move(peers)) {}

  // The headers of a request from this replica.
  SignedHeaders sign(std::string_view method, std::string_view target, int64_t now) const;
  // The calling peer's region, or why the request is refused (kUnauthorized: no or a bad
  // signature, an unknown region; kDenied: a clock too far off), naming no secret.
  Result<std::string> verify(std::string_view region, std::string_view time, std::string_view signature,
                             std::string_view method, std::string_view target, int64_t now) const;

  const std::string& region() const { return region_; }
  // The regions allowed to call from now on (replicas created or deleted at run time).
  void setPeers(std::vector<std::string> peers) {
    std::lock_guard lock(mu_);
    peers_ = std::move(peers);
  }

 private:
  std::string mac(std::string_view region, std::string_view time, std::string_view method,
                  std::string_view target) const;

  std::string secret_;
  std::string region_;
  mutable std::mutex mu_;  // guards peers_
  std::vector<std::string> peers_;
};

// The token signing key of a registry of replicas: an ES256 (P-256) private key derived
// from the shared secret (HMAC-SHA256 as the key derivation), as SEC1 PEM. Every replica
// derives the same key, so a token issued by one is valid at all, and the key never
// travels between them.
std::string signingKeyPem(std::string_view secret);

// Reads the shared secret file: its content without surrounding whitespace, at least 32
// bytes. kInvalidArgument naming the file (never its content) otherwise.
Result<std::string> readSecretFile(const std::string& path);

}  // namespace berth::replication
