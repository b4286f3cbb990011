#pragma once
// UsageStore: usage telemetry (docs/usage.md). Storage numbers are computed from the
// metadata on demand (nothing to keep in step); traffic counters are rows the
// UsageRecorder (registry/usage_recorder.h) adds to in batches.
// Every method is one transaction; safe to call from any thread; may block.
//
// What storage counts: every blob linked to a repository (config, layers, and blobs no
// manifest references yet) at its linked size, and every manifest at its byte size.
// Registry totals count each digest once (blobs and manifests separately); a repository
// counts everything it holds, split into bytes no other repository holds (unique) and
// bytes another repository holds too (shared).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "oci/digest.h"

namespace berth::meta {

struct StorageTotals {
  uint64_t bytes = 0;           // blob_bytes + manifest_bytes
  uint64_t blob_bytes = 0;      // distinct blob digests
  uint64_t manifest_bytes = 0;  // distinct manifest digests
  uint64_t repositories = 0;
  uint64_t manifests = 0;         // (repository, manifest) pairs
  uint64_t unique_manifests = 0;  // distinct manifest digests
  uint64_t tags = 0;
  uint64_t blobs = 0;  // distinct blob digests
};

struct RepositoryStorage {
  std::string repository;
  uint64_t bytes = 0;         // its blob links and manifests
  uint64_t unique_bytes = 0;  // of those, digests no other repository holds
  uint64_t shared_bytes = 0;  // bytes - unique_bytes
  uint64_t manifests = 0;
  uint64_t tags = 0;
  uint64_t blobs = 0;  // blob links
};

struct ManifestStorage {
  oci::Digest digest;
  std::string media_type;
  uint64_t manifest_size = 0;  // the manifest's own bytes
  // The image size: the manifest, the distinct blobs it references (config, layers) and,
  // for an index, the distinct child manifests and their blobs, each counted once.
  uint64_t size = 0;
  std::vector<std::string> tags;  // sorted
  int64_t created_at = 0;
};

struct TagStorage {
  std::string tag;
  oci::Digest digest;
  uint64_t size = 0;  // the image size of its manifest
  int64_t updated_at = 0;
};

struct RepositoryUsage {
  RepositoryStorage storage;
  std::vector<ManifestStorage> manifests;  // by digest
  std::vector<TagStorage> tags;            // by name
};

enum class TrafficKind { kRepository, kManifest, kTag };

// Counters add up; last times are unix seconds (0: never) and merge by max.
struct Traffic {
  uint64_t pulls = 0;           // manifest GETs
  uint64_t pushes = 0;          // manifest PUTs
  uint64_t bytes_served = 0;    // repository rows only
  uint64_t bytes_received = 0;  // repository rows only
  int64_t last_pulled = 0;
  int64_t last_pushed = 0;

  void add(const Traffic& o) {
    pulls += o.pulls;
    pushes += o.pushes;
    bytes_served += o.bytes_served;
    bytes_received += o.bytes_received;
    if (o.last_pulled > last_pulled) last_pulled = o.last_pulled;
    if (o.last_pushed > last_pushed) last_pushed = o.last_pushed;
  }
  bool empty() const {
    return pulls == 0 && pushes == 0 && bytes_served == 0 && bytes_received == 0 && last_pulled == 0 &&
           last_pushed == 0;
  }
  bool operator==(const Traffic&) const = default;
};

struct TrafficRow {
  TrafficKind kind = TrafficKind::kRepository;
  std::string repository;
  std::string name;  // "" for kRepository, the digest for kManifest, the tag for kTag
  Traffic traffic;
};

class UsageStore {
 public:
  virtual ~UsageStore() = default;

  // --- storage, from the metadata ---
  virtual Result<StorageTotals> storageTotals() = 0;
  // Repositories sorted by name, those > last, at most n.
  virtual Result<std::vector<RepositoryStorage>> repositoryStorage(std::string_view last, size_t n) = 0;
  // One repository with its manifests and tags; kNameUnknown if it does not exist.
  virtual Result<RepositoryUsage> repositoryUsage(std::string_view repository) = 0;

  // --- traffic ---
  // Adds each row to its stored row (counters summed, last times max'ed) in one
  // transaction: all rows or none.
  virtual Status addTraffic(const std::vector<TrafficRow>& rows) = 0;
  // The sum of every repository row, repositories that no longer exist included.
  virtual Result<Traffic> trafficTotal() = 0;
  // Every row (all kinds) of the repository.
  virtual Result<std::vector<TrafficRow>> repositoryTraffic(std::string_view repository) = 0;
  // One row; zeros if there is none.
  virtual Result<Traffic> traffic(TrafficKind kind, std::string_view repository, std::string_view name) = 0;
};

}  // namespace berth::meta
