#pragma once
// JwksSource: the signing keys of a trusted OIDC issuer, from a JWKS file (fixed) or a
// JWKS URL (fetched, then refreshed: on a schedule the owner drives with
// refreshIfStale(), and at once when a token names a key id the set does not have, at
// most once per 10 s so a flood of bogus kids cannot hammer the issuer). Readers get an
// immutable KeySet; a refresh swaps in a whole new one. Thread-safe.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/keys.h"
#include "common/result.h"

namespace berth::auth {

class JwksSource {
 public:
  // GET `url`; the body of a 200 answer, else an error naming the URL.
  using Fetch = std::function<Result<std::string>(const std::string& url)>;

  static std::shared_ptr<JwksSource> fixed(KeySet keys);
  static std::shared_ptr<JwksSource> remote(std::string url, Fetch fetch);

  std::shared_ptr<const KeySet> keys() const { return std::atomic_load(&keys_); }
  bool isRemote() const { return !url_.empty(); }
  const std::string& url() const { return url_; }

  // Fetches and swaps in the key set (remote only; a failure keeps the old keys).
  Status refresh(int64_t now);
  // Refreshes when the keys are older than `max_age` seconds (or were never fetched) and
  // the last attempt was at least `min_gap` seconds ago. True if it fetched successfully.
  bool refreshIfStale(int64_t now, int64_t max_age, int64_t min_gap);

 private:
  JwksSource(std::string url, Fetch fetch, KeySet keys);

  const std::string url_;
  const Fetch fetch_;
  std::shared_ptr<const KeySet> keys_;  // atomic_load / atomic_store
  std::mutex refresh_mu_;               // one fetch at a time
  int64_t fetched_at_ = 0;              // guarded by refresh_mu_
  int64_t attempted_at_ = 0;            // guarded by refresh_mu_
};

}  // namespace berth::auth
