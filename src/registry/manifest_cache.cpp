#include "registry/manifest_cache.h"

namespace berth::registry {
namespace {
std::string key(std::string_view repository, std::string_view reference) {
  std::string k;
  k.reserve(repository.size() + reference.size() + 1);
  k.append(repository).push_back('\n');
  k.append(reference);
  return k;
}
}  // namespace

ManifestCache::ManifestCache(size_t max_bytes) : max_bytes_per_shard_(max_bytes / kShards) {}

ManifestCache::Shard& ManifestCache::shardFor(std::string_view repository) const {
  return shards_[std::hash<std::string_view>{}(repository) % kShards];
}

uint64_t ManifestCache::generationLocked(const Shard& s, std::string_view repository) const {
  auto it = s.generations.find(std::string(repository));
  return it == s.generations.end() ? 0 : it->second;
}

uint64_t ManifestCache::generation(std::string_view repository) const {
  auto& s = shardFor(repository);
  std::lock_guard lock(s.mu);
  return generationLocked(s, repository);
}

void ManifestCache::invalidate(std::string_view repository) {
  auto& s = shardFor(repository);
  std::lock_guard lock(s.mu);
  ++s.generations[std::string(repository)];
}

std::shared_ptr<const CachedManifest> ManifestCache::get(std::string_view repository,
                                                         std::string_view reference) const {
  auto& s = shardFor(repository);
  auto k = key(repository, reference);
  std::lock_guard lock(s.mu);
  auto it = s.entries.find(k);
  if (it == s.entries.end() || it->second.generation != generationLocked(s, repository)) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second.value;
}

void ManifestCache::put(std::string_view repository, std::string_view reference, uint64_t generation,
                        std::shared_ptr<const CachedManifest> value) {
  auto k = key(repository, reference);
  size_t size = value->bytes.size() + k.size() + 128;
  if (size > max_bytes_per_shard_) return;
  auto& s = shardFor(repository);
  std::lock_guard lock(s.mu);
  if (generation != generationLocked(s, repository)) return;  // a write happened meanwhile
  if (auto it = s.entries.find(k); it != s.entries.end()) {
    s.bytes -= it->second.value->bytes.size() + k.size() + 128;
    s.lru.erase(it->second.lru);
    s.entries.erase(it);
  }
  while (s.bytes + size > max_bytes_per_shard_ && !s.lru.empty()) {
    auto victim = s.entries.find(s.lru.back());
    s.bytes -= victim->second.value->bytes.size() + victim->first.size() + 128;
    s.entries.erase(victim);
    s.lru.pop_back();
  }
  s.lru.push_front(k);
  s.entries.emplace(std::move(k), Entry{std::move(value), generation, s.lru.begin()});
  s.bytes += size;
}

}  // namespace berth::registry
