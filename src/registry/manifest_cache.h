#pragma once
// In-memory cache of manifests by (repository, reference), bounded in bytes, sharded so
// no request takes a global lock. Entries are invalidated per repository with a
// generation number: a writer bumps the repository's generation after its transaction
// commits, and a reader inserts only if the generation it read before going to the
// database is still current, so a slow reader can never install stale data.
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "oci/digest.h"

namespace berth::registry {

struct CachedManifest {
  oci::Digest digest;
  std::string media_type;
  std::string bytes;
};

class ManifestCache {
 public:
  explicit ManifestCache(size_t max_bytes);

  // Current generation of a repository (read before a database lookup).
  uint64_t generation(std::string_view repository) const;
  // Invalidates every cached reference of the repository.
  void invalidate(std::string_view repository);

  std::shared_ptr<const CachedManifest> get(std::string_view repository, std::string_view reference) const;
  // Inserts unless the repository's generation moved past `generation`.
  void put(std::string_view repository, std::string_view reference, uint64_t generation,
           std::shared_ptr<const CachedManifest> value);

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 32;
  struct Entry {
    std::shared_ptr<const CachedManifest> value;
    uint64_t generation;
    std::list<std::string>::iterator lru;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;  // key: repository '\n' reference
    std::list<std::string> lru;                      // front = most recent
    std::unordered_map<std::string, uint64_t> generations;  // repositories hashed here
    size_t bytes = 0;
  };
  Shard& shardFor(std::string_view repository) const;
  uint64_t generationLocked(const Shard& s, std::string_view repository) const;

  size_t max_bytes_per_shard_;
  mutable Shard shards_[kShards];
  mutable std::atomic<uint64_t> hits_{0}, misses_{0};
};

}  // namespace berth::registry
