#include "registry/fleet_leases.h"

#include <unistd.h>

#include <random>

#include "common/log.h"
#include "common/text.h"

namespace berth::registry {

namespace {

int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

FleetLeases::FleetLeases(std::shared_ptr<meta::FleetStore> store, std::string node, std::chrono::seconds ttl)
    : store_(std::move(store)), node_(std::move(node)), ttl_(ttl) {}

FleetLeases::~FleetLeases() { stop(); }

std::string FleetLeases::nodeName() {
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  char random[9];
  std::snprintf(random, sizeof random, "%08x", rd());
  return std::string(host) + "/" + std::to_string(getpid()) + "/" + random;
}

bool FleetLeases::acquire(const std::string& name, std::chrono::seconds ttl) {
  auto got = store_->acquireLease(name, node_, ttl, nowSeconds());
  if (!got) {
    log::warn("cannot reach the fleet's leases", {{"lease", name}, {"error", got.error().message}});
    return false;
  }
  return *got;
}

bool FleetLeases::runScheduled(const std::string& name, std::chrono::seconds period,
                               const std::function<void()>& job) {
  if (!acquire(name, ttl_)) return false;
  {
    std::lock_guard lock(mu_);
    ++running_[name];
  }
  const auto started = std::chrono::steady_clock::now();
  job();
  const auto took = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  {
    std::lock_guard lock(mu_);
    if (--running_[name] == 0) running_.erase(name);
  }
  // Keep it for the rest of the period: the other nodes' timers skip this run.
  const auto rest = period - took;
  (void)acquire(name, rest > ttl_ ? rest : ttl_);
  return true;
}

void FleetLeases::want(const std::string& name) {
  const bool got = acquire(name, ttl_);
  std::lock_guard lock(mu_);
  wanted_[name] = got;
}

bool FleetLeases::holds(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = wanted_.find(name);
  return it != wanted_.end() && it->second;
}

void FleetLeases::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { beat(); });
}

void FleetLeases::beat() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, ttl_ / 3, [this] { return stopping_; })) {
    std::vector<std::string> names;
    for (const auto& [name, held] : wanted_) names.push_back(name);
    for (const auto& [name, n] : running_) names.push_back(name);
    lock.unlock();
    std::map<std::string, bool> got;
    for (const auto& name : names) got[name] = acquire(name, ttl_);
    lock.lock();
    for (auto& [name, held] : wanted_) {
      if (auto it = got.find(name); it != got.end()) {
        if (it->second != held) {
          log::info(it->second ? "took the fleet lease" : "lost the fleet lease", {{"lease", name}, {"node", node_}});
        }
        held = it->second;
      }
    }
  }
}

void FleetLeases::stop() {
  std::vector<std::string> held;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (const auto& [name, h] : wanted_) {
      if (h) held.push_back(name);
    }
    for (auto& [name, h] : wanted_) h = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (const auto& name : held) (void)store_->releaseLease(name, node_);
}

}  // namespace berth::registry
