#include "auth/login_limiter.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace berth::auth {
namespace {

std::string addressKey(std::string_view address) { return "a\n" + std::string(address); }
std::string identityKey(std::string_view address, std::string_view identity) {
  return "i\n" + std::string(address) + "\n" + std::string(identity);
}

}  // namespace

double LoginLimiter::level(Bucket& b, double burst, double now) const {
  if (now > b.updated) {
    b.tokens = std::min(burst, b.tokens + (now - b.updated) * limits_.refill_per_second);
    b.updated = now;
  }
  return b.tokens;
}

LoginLimiter::Bucket& LoginLimiter::bucket(const std::string& key, double burst, double now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limits_.max_entries) evict(now);
    it = buckets_.emplace(key, Bucket{burst, now}).first;
  }
  return it->second;
}

void LoginLimiter::evict(double now) {
  // Drop buckets that have refilled (they carry no information), else the emptiest-
  // longest-ago half: an attacker can only make us forget, never grow without bound.
  const double burst = std::max(limits_.per_address_burst, limits_.per_identity_burst);
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Bucket& b = it->second;
    double refilled = b.tokens + (now - b.updated) * limits_.refill_per_second;
    it = refilled >= burst ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < limits_.max_entries) return;
  std::vector<double> ages;
  ages.reserve(buckets_.size());
  for (auto& [k, b] : buckets_) ages.push_back(b.updated);
  auto mid = ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2);
  std::nth_element(ages.begin(), mid, ages.end());
  const double cutoff = *mid;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = it->second.updated <= cutoff ? buckets_.erase(it) : std::next(it);
  }
}

int64_t LoginLimiter::check(std::string_view address, std::string_view identity, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  return waitLocked(address, identity, now);
}

void LoginLimiter::fail(std::string_view address, std::string_view identity, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  takeLocked(address, identity, now);
}

int64_t LoginLimiter::acquire(std::string_view address, std::string_view identity, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (int64_t wait = waitLocked(address, identity, now); wait > 0) return wait;
  takeLocked(address, identity, now);
  return 0;
}

void LoginLimiter::succeeded(std::string_view address, std::string_view identity, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto give = [&](const std::string& key, double burst) {
    Bucket& b = bucket(key, burst, now);
    b.tokens = std::min(burst, level(b, burst, now) + 1);
  };
  give(addressKey(address), limits_.per_address_burst);
  give(identityKey(address, identity), limits_.per_identity_burst);
}

int64_t LoginLimiter::waitLocked(std::string_view address, std::string_view identity, double now) {
  double wait = 0;
  auto need = [&](const std::string& key, double burst) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) return;
    double t = level(it->second, burst, now);
    if (t < 1) wait = std::max(wait, (1 - t) / limits_.refill_per_second);
  };
  need(addressKey(address), limits_.per_address_burst);
  need(identityKey(address, identity), limits_.per_identity_burst);
  return wait > 0 ? static_cast<int64_t>(std::ceil(wait)) : 0;
}

void LoginLimiter::takeLocked(std::string_view address, std::string_view identity, double now) {
  auto take = [&](const std::string& key, double burst) {
    Bucket& b = bucket(key, burst, now);
    level(b, burst, now);
    b.tokens = std::max(0.0, b.tokens - 1);
  };
  take(addressKey(address), limits_.per_address_burst);
  take(identityKey(address, identity), limits_.per_identity_burst);
}

}  // namespace berth::auth
