// The Replicator's peers: those of the config file and the replicas created at run time
// (docs/replication.md), each read by a thread of its own.
#include <map>

#include "common/log.h"
#include "replication/region.h"
#include "replication/replicator.h"

namespace berth::replication {

void Replicator::refreshPeers() {
  std::lock_guard serial(refresh_mu_);
  auto snapshot = identities_->snapshot();
  if (!snapshot) {
    log::warn("replication: peers not refreshed", {{"error", snapshot.error().message}});
    return;
  }
  settings_generation_ = snapshot->generation;
  std::map<std::string, std::string> wanted;  // region -> url
  for (const auto& p : options_.peers) wanted[p.region] = p.url;
  for (const auto& [key, url] : snapshot->settings) {
    if (!key.starts_with(kReplicaSettingPrefix)) continue;
    const std::string region = key.substr(kReplicaSettingPrefix.size());
    if (region != options_.region && !wanted.contains(region)) wanted[region] = url;
  }
  std::vector<std::unique_ptr<Peer>> gone;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !started_) return;
    for (auto it = peers_.begin(); it != peers_.end();) {
      auto w = wanted.find((*it)->config.region);
      if (w != wanted.end() && w->second == (*it)->config.url) {
        ++it;
        continue;
      }
      (*it)->stopped = true;
      gone.push_back(std::move(*it));
      it = peers_.erase(it);
    }
    for (const auto& [region, url] : wanted) {
      bool have = false;
      for (const auto& p : peers_) have = have || p->config.region == region;
      if (have) continue;
      auto peer = std::make_unique<Peer>();
      peer->config = {region, url};
      peer->status.region = region;
      peer->status.url = url;
      peer->thread = std::thread([this, p = peer.get()] { run(*p); });
      log::info("replication: reading from peer", {{"peer", region}, {"url", url}});
      peers_.push_back(std::move(peer));
    }
  }
  std::vector<std::string> regions;
  for (const auto& [region, url] : wanted) regions.push_back(region);
  auth_->setPeers(std::move(regions));
  wake_.notify_all();
  for (auto& p : gone) {
    if (p->thread.joinable()) p->thread.join();
    if (!wanted.contains(p->config.region)) {
      // Removed: a replica created again later fills itself anew.
      log::info("replication: peer removed", {{"peer", p->config.region}});
      (void)store_->forgetPeer(p->config.region);
    }
  }
}

std::vector<std::string> Replicator::peerRegions() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& p : peers_) out.push_back(p->config.region);
  return out;
}

void Replicator::supervise() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      if (stopping_) return;
    }
    auto generation = identities_->generation();
    if (generation && *generation != settings_generation_) refreshPeers();
  }
}

Status Replicator::createReplica(const std::string& region, const std::string& url) {
  if (auto problem = regionNameProblem(region); !problem.empty()) {
    return makeError(Code::kInvalidArgument, "region " + problem);
  }
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return makeError(Code::kInvalidArgument, "url must be an http(s) URL of the replica (http(s)://HOST:PORT)");
  }
  if (region == options_.region) {
    return makeError(Code::kConflict, "region " + region + " is this replica's own");
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& p : peers_) {
      if (p->config.region == region) return makeError(Code::kConflict, "replica " + region + " exists already");
    }
  }
  std::string trimmed = url;
  while (trimmed.ends_with('/')) trimmed.pop_back();
  if (auto s = identities_->setSetting(std::string(kReplicaSettingPrefix) + region, trimmed); !s) return s;
  refreshPeers();
  return okStatus();
}

Status Replicator::deleteReplica(const std::string& region) {
  for (const auto& p : options_.peers) {
    if (p.region == region) {
      return makeError(Code::kConflict, "replica " + region +
                                            " is a peer in this replica's config file (replication.peers): remove it there");
    }
  }
  auto snapshot = identities_->snapshot();
  if (!snapshot) return snapshot.takeError();
  const std::string key = std::string(kReplicaSettingPrefix) + region;
  if (!snapshot->settings.contains(key)) return makeError(Code::kNotFound, "no replica in region " + region);
  if (auto s = identities_->setSetting(key, std::nullopt); !s) return s;
  refreshPeers();
  return okStatus();
}

}  // namespace berth::replication
