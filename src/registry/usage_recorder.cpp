#include "registry/usage_recorder.h"

#include <algorithm>
#include <functional>

#include "common/log.h"

namespace berth::registry {

using meta::Traffic;
using meta::TrafficKind;
using meta::TrafficRow;

size_t UsageRecorder::KeyHash::operator()(const KeyRef& k) const {
  const size_t a = std::hash<std::string_view>{}(k.repository);
  const size_t b = std::hash<std::string_view>{}(k.name);
  return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)) ^ static_cast<size_t>(k.kind);
}

UsageRecorder::UsageRecorder(std::shared_ptr<meta::UsageStore> store, std::chrono::milliseconds flush_interval)
    : store_(std::move(store)), interval_(flush_interval) {}

UsageRecorder::~UsageRecorder() { stop(); }

void UsageRecorder::start() {
  std::lock_guard<std::mutex> lock(run_mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void UsageRecorder::stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (auto s = flush(); !s) {
    log::error("usage counters lost at shutdown: the flush failed", {{"error", s.error().message}});
  }
}

void UsageRecorder::run() {
  std::unique_lock<std::mutex> lock(run_mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (auto s = flush(); !s) {
      log::warn("usage flush failed; the counts stay pending", {{"error", s.error().message}});
    }
    lock.lock();
  }
}

UsageRecorder::Shard& UsageRecorder::shardOf(std::string_view repository) {
  return shards_[std::hash<std::string_view>{}(repository) % kShards];
}

Traffic& UsageRecorder::entry(Map& map, TrafficKind kind, std::string_view repository, std::string_view name) {
  auto it = map.find(KeyRef{kind, repository, name});
  if (it == map.end()) it = map.emplace(Key{kind, std::string(repository), std::string(name)}, Traffic{}).first;
  return it->second;
}

void UsageRecorder::pulled(std::string_view repository, std::string_view digest, std::string_view tag,
                           uint64_t bytes, int64_t now) {
  Shard& shard = shardOf(repository);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto count = [now](Traffic& t) {
    ++t.pulls;
    if (now > t.last_pulled) t.last_pulled = now;
  };
  Traffic& repo = entry(shard.pending, TrafficKind::kRepository, repository, {});
  count(repo);
  repo.bytes_served += bytes;
  count(entry(shard.pending, TrafficKind::kManifest, repository, digest));
  if (!tag.empty()) count(entry(shard.pending, TrafficKind::kTag, repository, tag));
}

void UsageRecorder::pushed(std::string_view repository, std::string_view digest, std::string_view tag,
                           uint64_t bytes, int64_t now) {
  Shard& shard = shardOf(repository);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto count = [now](Traffic& t) {
    ++t.pushes;
    if (now > t.last_pushed) t.last_pushed = now;
  };
  Traffic& repo = entry(shard.pending, TrafficKind::kRepository, repository, {});
  count(repo);
  repo.bytes_received += bytes;
  count(entry(shard.pending, TrafficKind::kManifest, repository, digest));
  if (!tag.empty()) count(entry(shard.pending, TrafficKind::kTag, repository, tag));
}

void UsageRecorder::served(std::string_view repository, uint64_t bytes) {
  if (bytes == 0) return;
  Shard& shard = shardOf(repository);
  std::lock_guard<std::mutex> lock(shard.mu);
  entry(shard.pending, TrafficKind::kRepository, repository, {}).bytes_served += bytes;
}

void UsageRecorder::received(std::string_view repository, uint64_t bytes) {
  if (bytes == 0) return;
  Shard& shard = shardOf(repository);
  std::lock_guard<std::mutex> lock(shard.mu);
  entry(shard.pending, TrafficKind::kRepository, repository, {}).bytes_received += bytes;
}

Status UsageRecorder::flush() {
  std::lock_guard<std::mutex> flushing(flush_mu_);
  std::vector<TrafficRow> batch;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (auto it = shard.pending.begin(); it != shard.pending.end();) {
      if (it->second.empty()) {
        it = shard.pending.erase(it);  // idle for a whole interval
        continue;
      }
      batch.push_back(TrafficRow{it->first.kind, it->first.repository, it->first.name, it->second});
      it->second = Traffic{};
      ++it;
    }
  }
  if (batch.empty()) return okStatus();
  auto s = store_->addTraffic(batch);
  if (!s) {
    // Back into memory for the next flush; counts made since merge with them.
    for (const auto& row : batch) {
      Shard& shard = shardOf(row.repository);
      std::lock_guard<std::mutex> lock(shard.mu);
      entry(shard.pending, row.kind, row.repository, row.name).add(row.traffic);
    }
  }
  return s;
}

Traffic UsageRecorder::pendingOf(TrafficKind kind, std::string_view repository, std::string_view name) {
  Shard& shard = shardOf(repository);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.pending.find(KeyRef{kind, repository, name});
  return it == shard.pending.end() ? Traffic{} : it->second;
}

Result<Traffic> UsageRecorder::total() {
  std::lock_guard<std::mutex> flushing(flush_mu_);
  auto stored = store_->trafficTotal();
  if (!stored) return stored.takeError();
  Traffic t = *stored;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (const auto& [key, traffic] : shard.pending) {
      if (key.kind == TrafficKind::kRepository) t.add(traffic);
    }
  }
  return t;
}

Result<std::vector<TrafficRow>> UsageRecorder::repository(std::string_view repository) {
  std::lock_guard<std::mutex> flushing(flush_mu_);
  auto stored = store_->repositoryTraffic(repository);
  if (!stored) return stored.takeError();
  std::vector<TrafficRow> rows = std::move(*stored);
  Shard& shard = shardOf(repository);
  std::lock_guard<std::mutex> lock(shard.mu);
  for (const auto& [key, traffic] : shard.pending) {
    if (key.repository != repository || traffic.empty()) continue;
    auto same = [&](const TrafficRow& r) { return r.kind == key.kind && r.name == key.name; };
    if (auto it = std::find_if(rows.begin(), rows.end(), same); it != rows.end()) {
      it->traffic.add(traffic);
    } else {
      rows.push_back(TrafficRow{key.kind, key.repository, key.name, traffic});
    }
  }
  return rows;
}

Result<std::vector<Traffic>> UsageRecorder::repositories(const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> flushing(flush_mu_);
  std::vector<Traffic> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    auto stored = store_->traffic(TrafficKind::kRepository, name, {});
    if (!stored) return stored.takeError();
    out.push_back(*stored);
    out.back().add(pendingOf(TrafficKind::kRepository, name, {}));
  }
  return out;
}

Result<int64_t> UsageRecorder::lastPulledOf(TrafficKind kind, std::string_view repository, std::string_view name) {
  std::lock_guard<std::mutex> flushing(flush_mu_);
  auto stored = store_->traffic(kind, repository, name);
  if (!stored) return stored.takeError();
  stored->add(pendingOf(kind, repository, name));
  return stored->last_pulled;
}

Result<int64_t> UsageRecorder::lastPulled(std::string_view repository, std::string_view digest) {
  return lastPulledOf(TrafficKind::kManifest, repository, digest);
}

Result<int64_t> UsageRecorder::lastPulledTag(std::string_view repository, std::string_view tag) {
  return lastPulledOf(TrafficKind::kTag, repository, tag);
}

}  // namespace berth::registry
