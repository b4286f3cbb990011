#pragma once
// UsageRecorder: traffic counters (pulls, pushes, bytes served and received, last pulled
// and pushed times) per repository, manifest and tag, aggregated in memory and flushed to
// the UsageStore in one transaction every flush interval and once more at stop().
//
// Hot path (manifest GET, blob GET): one mutex of one of kShards shards, picked by the
// repository's name, held for a few hash map updates. An entry seen in the last interval
// is updated in place (no allocation); a flush zeroes the entries it wrote and drops the
// ones that stayed idle for a whole interval.
//
// Reads merge the stored rows with what is not flushed yet, so they are exact as soon as
// the request that counted has completed. They exclude flushes (flush_mu_), never the hot
// path. A crash (kill -9, power loss) loses at most the last interval's counts; a failed
// flush keeps its counts in memory for the next one.
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "meta/usage_store.h"

namespace berth::registry {

class UsageRecorder {
 public:
  UsageRecorder(std::shared_ptr<meta::UsageStore> store, std::chrono::milliseconds flush_interval);
  ~UsageRecorder();  // stop()
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;

  // Starts the background flusher (once).
  void start();
  // Stops the flusher and flushes what is pending. Idempotent.
  void stop();

  // --- the request path: never blocks on I/O ---
  // A manifest GET answered: one pull of the repository and the manifest, and of the tag
  // when it was pulled by tag ("" otherwise); `bytes` of body were sent.
  void pulled(std::string_view repository, std::string_view digest, std::string_view tag, uint64_t bytes,
              int64_t now);
  // A manifest PUT stored: one push of the repository, the manifest and the tag (if any).
  void pushed(std::string_view repository, std::string_view digest, std::string_view tag, uint64_t bytes,
              int64_t now);
  // Blob bytes sent (GET) and committed (upload finished).
  void served(std::string_view repository, uint64_t bytes);
  void received(std::string_view repository, uint64_t bytes);

  // Writes what is pending in one transaction; on failure it stays pending.
  Status flush();

  // --- reads: stored + pending ---
  Result<meta::Traffic> total();
  // Every row of the repository (all kinds), stored and pending merged.
  Result<std::vector<meta::TrafficRow>> repository(std::string_view repository);
  // Traffic of the given repositories (kRepository rows), in the same order.
  Result<std::vector<meta::Traffic>> repositories(const std::vector<std::string>& names);
  // When the manifest (or the tag) of the repository was last pulled; 0 if never. For
  // retention ("not pulled for D days").
  Result<int64_t> lastPulled(std::string_view repository, std::string_view digest);
  Result<int64_t> lastPulledTag(std::string_view repository, std::string_view tag);

  meta::UsageStore& store() { return *store_; }

 private:
  struct Key {
    meta::TrafficKind kind;
    std::string repository;
    std::string name;
  };
  struct KeyRef {
    meta::TrafficKind kind;
    std::string_view repository;
    std::string_view name;
  };
  static KeyRef ref(const Key& k) { return {k.kind, k.repository, k.name}; }
  static KeyRef ref(const KeyRef& k) { return k; }
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyRef& k) const;
    size_t operator()(const Key& k) const { return (*this)(ref(k)); }
  };
  struct KeyEq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      const KeyRef x = ref(a), y = ref(b);
      return x.kind == y.kind && x.repository == y.repository && x.name == y.name;
    }
  };
  using Map = std::unordered_map<Key, meta::Traffic, KeyHash, KeyEq>;
  struct alignas(64) Shard {
    std::mutex mu;
    Map pending;  // guarded by mu
  };
  static constexpr size_t kShards = 64;

  Shard& shardOf(std::string_view repository);
  static meta::Traffic& entry(Map& map, meta::TrafficKind kind, std::string_view repository,
                              std::string_view name);
  // Pending traffic of one row (zeros if none). Caller holds flush_mu_.
  meta::Traffic pendingOf(meta::TrafficKind kind, std::string_view repository, std::string_view name);
  Result<int64_t> lastPulledOf(meta::TrafficKind kind, std::string_view repository, std::string_view name);
  void run();

  std::shared_ptr<meta::UsageStore> store_;
  const std::chrono::milliseconds interval_;
  std::array<Shard, kShards> shards_;
  std::mutex flush_mu_;  // one flush or read at a time; the request path never takes it

  std::mutex run_mu_;  // guards started_, stopping_
  std::condition_variable wake_;
  bool started_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::registry
