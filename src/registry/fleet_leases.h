#pragma once
// One node's side of the fleet's leases (meta/fleet_store.h): background work that must
// run on one node at a time goes through here.
// - Scheduled jobs (GC, retention): runScheduled(name, period, job) runs `job` only if no
//   other node ran it within `period`: the lease is held with a short expiry, renewed
//   while the job runs (a killed node's lease lapses within `ttl`), and once the job is
//   done it is kept until the period is over, so a node whose timer fires a moment later
//   skips the run instead of repeating it.
// - Continuous work (webhook delivery): want(name) makes the node try for the lease on
//   every heartbeat and holds(name) says whether it has it; a node that dies stops
//   renewing and another node takes over within `ttl`.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "meta/fleet_store.h"

namespace berth::registry {

class FleetLeases {
 public:
  // `node` names this node in the leases (unique per process: host, pid and a random part).
  FleetLeases(std::shared_ptr<meta::FleetStore> store, std::string node,
              std::chrono::seconds ttl = std::chrono::seconds(30));
  ~FleetLeases();
  FleetLeases(const FleetLeases&) = delete;
  FleetLeases& operator=(const FleetLeases&) = delete;

  // A name for this process: "HOST/PID/RANDOM".
  static std::string nodeName();

  // Runs `job` if this node can take lease `name` (false: another node holds it, ran it
  // within `period`, or the database could not be asked). See the header comment.
  bool runScheduled(const std::string& name, std::chrono::seconds period, const std::function<void()>& job);

  // Continuous work: try for `name` on every heartbeat from now on.
  void want(const std::string& name);
  bool holds(const std::string& name) const;

  // Starts and stops the heartbeat (renewals of held leases, attempts at wanted ones).
  void start();
  void stop();  // releases every lease this node holds

  const std::string& node() const { return node_; }

 private:
  bool acquire(const std::string& name, std::chrono::seconds ttl);
  void beat();

  std::shared_ptr<meta::FleetStore> store_;
  const std::string node_;
  const std::chrono::seconds ttl_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, bool, std::less<>> wanted_;  // continuous leases: name -> held
  std::map<std::string, int, std::less<>> running_;  // scheduled jobs running: renew while they run
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::registry
