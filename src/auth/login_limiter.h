#pragma once
// LoginLimiter: throttles failed logins. Each failure takes a token from two buckets,
// one per client address and one per (identity, address); a login is refused (429 with
// Retry-After) while either bucket is empty. There is deliberately no bucket per
// identity alone: a burst of wrong passwords from one address must not lock the right
// password out from another address.
// Bounded memory: at most `max_entries` buckets; full buckets (no recent failure) are
// dropped first, then the oldest. Thread-safe.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace berth::auth {

struct LoginLimits {
  double per_address_burst = 20;   // failures an address may make at once
  double per_identity_burst = 10;  // failures one address may make against one identity
  double refill_per_second = 1.0 / 6;  // one more failure allowed every 6 s
  size_t max_entries = 100000;
};

class LoginLimiter {
 public:
  explicit LoginLimiter(LoginLimits limits = {}) : limits_(limits) {}

  // 0 if a login attempt may proceed, else the seconds to wait (for Retry-After).
  int64_t check(std::string_view address, std::string_view identity, double now);
  // Records a failed attempt.
  void fail(std::string_view address, std::string_view identity, double now);

  // check() and fail() in one step, before the credentials are verified: 0 if the attempt
  // may proceed, and then it already counts as failed (N parallel wrong passwords cannot
  // all pass before the first failure is recorded); else the seconds to wait, and nothing
  // is counted. Call succeeded() when the credentials turn out right.
  int64_t acquire(std::string_view address, std::string_view identity, double now);
  // Gives back what acquire() took for an attempt whose credentials were right.
  void succeeded(std::string_view address, std::string_view identity, double now);

 private:
  struct Bucket {
    double tokens;
    double updated;
  };
  double level(Bucket& b, double burst, double now) const;
  int64_t waitLocked(std::string_view address, std::string_view identity, double now);
  void takeLocked(std::string_view address, std::string_view identity, double now);
  Bucket& bucket(const std::string& key, double burst, double now);
  void evict(double now);

  LoginLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace berth::auth
