#pragma once
// A bounded, sharded cache keyed by (repository, key) whose entries are invalidated per
// repository with a generation number: a writer bumps the repository's generation after
// its transaction commits, and a reader inserts only if the generation it read before
// going to the database is still current, so a slow reader can never install stale data.
// No request takes a global lock. `Weigh(const V&)` gives an entry's size in bytes.
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace berth::registry {

template <class V, class Weigh>
class GenerationCache {
 public:
  explicit GenerationCache(size_t max_bytes) : max_bytes_per_shard_(max_bytes / kShards) {}

  // Current generation of a repository (read before a database lookup).
  uint64_t generation(std::string_view repository) const {
    auto& s = shardFor(repository);
    std::lock_guard lock(s.mu);
    return generationLocked(s, repository);
  }

  // Invalidates every cached key of the repository.
  void invalidate(std::string_view repository) {
    auto& s = shardFor(repository);
    std::lock_guard lock(s.mu);
    auto it = s.generations.find(repository);
    if (it == s.generations.end()) it = s.generations.emplace(std::string(repository), 0).first;
    ++it->second;
  }

  // Invalidates every repository (the fleet's change feed may have missed changes). The
  // shards' epochs move: a reader that read a generation before this installs nothing.
  void clear() {
    for (auto& s : shards_) {
      std::lock_guard lock(s.mu);
      ++s.epoch;
      s.entries.clear();
      s.lru.clear();
      s.bytes = 0;
    }
  }

  std::shared_ptr<const V> get(std::string_view repository, std::string_view key) const {
    auto& s = shardFor(repository);
    // The lookup key in the thread's buffer: a hit allocates nothing.
    thread_local std::string k;
    k.clear();
    k.append(repository).push_back('\n');
    k.append(key);
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(std::string_view(k));
    if (it == s.entries.end() || it->second.generation != generationLocked(s, repository)) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    s.lru.splice(s.lru.begin(), s.lru, it->second.lru);
    hits_.fetch_add(1, std::memory_order_relaxed);
    return it->second.value;
  }

  // Inserts unless the repository's generation moved past `generation`.
  void put(std::string_view repository, std::string_view key, uint64_t generation,
           std::shared_ptr<const V> value) {
    auto k = makeKey(repository, key);
    const size_t size = weigh(*value, k);
    if (size > max_bytes_per_shard_) return;
    auto& s = shardFor(repository);
    std::lock_guard lock(s.mu);
    if (generation != generationLocked(s, repository)) return;  // a write happened meanwhile
    if (auto it = s.entries.find(k); it != s.entries.end()) erase(s, it);
    while (s.bytes + size > max_bytes_per_shard_ && !s.lru.empty()) erase(s, s.entries.find(s.lru.back()));
    s.lru.push_front(k);
    s.entries.emplace(std::move(k), Entry{std::move(value), generation, s.lru.begin()});
    s.bytes += size;
  }

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 32;
  struct Entry {
    std::shared_ptr<const V> value;
    uint64_t generation;
    std::list<std::string>::iterator lru;
  };
  // Lookups by string_view, without building a std::string.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <class T>
  using TextMap = std::unordered_map<std::string, T, TextHash, std::equal_to<>>;
  struct Shard {
    mutable std::mutex mu;
    TextMap<Entry> entries;         // key: repository '\n' key
    std::list<std::string> lru;     // front = most recent
    TextMap<uint64_t> generations;  // repositories hashed here
    uint64_t epoch = 0;             // added to each generation; clear() moves it
    size_t bytes = 0;
  };

  static std::string makeKey(std::string_view repository, std::string_view key) {
    std::string k;
    k.reserve(repository.size() + key.size() + 1);
    k.append(repository).push_back('\n');
    k.append(key);
    return k;
  }
  static size_t weigh(const V& value, const std::string& k) { return Weigh{}(value) + k.size() + 128; }
  void erase(Shard& s, typename TextMap<Entry>::iterator it) {
    s.bytes -= weigh(*it->second.value, it->first);
    s.lru.erase(it->second.lru);
    s.entries.erase(it);
  }
  Shard& shardFor(std::string_view repository) const {
    return shards_[std::hash<std::string_view>{}(repository) % kShards];
  }
  uint64_t generationLocked(const Shard& s, std::string_view repository) const {
    auto it = s.generations.find(repository);
    return s.epoch + (it == s.generations.end() ? 0 : it->second);
  }

  size_t max_bytes_per_shard_;
  mutable Shard shards_[kShards];
  mutable std::atomic<uint64_t> hits_{0}, misses_{0};
};

}  // namespace berth::registry
