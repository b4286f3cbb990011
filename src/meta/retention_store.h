#pragma once
// RetentionStore: what purge and retention policies (lifecycle/retention.h,
// docs/retention.md) read, and the stored policies. The deletes themselves are MetaStore's
// (deleteTag/deleteManifest with a DeleteGuard), so locks, the recycle bin and the outbox
// apply to them like to any delete. Every method is one transaction; safe from any thread;
// may block.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "meta/meta_store.h"
#include "meta/properties_store.h"
#include "oci/digest.h"

namespace berth::meta {

struct SnapshotTag {
  std::string name;
  oci::Digest digest;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  Attributes attributes;
};

struct SnapshotManifest {
  oci::Digest digest;
  std::string media_type;
  std::string artifact_type;
  uint64_t size = 0;  // of the manifest itself
  int64_t created_at = 0;
  int64_t updated_at = 0;
  Attributes attributes;
  std::optional<oci::Digest> subject;   // a referrer's subject
  std::vector<oci::Digest> children;    // an index's manifests, sorted
};

// One repository as one read transaction saw it, hidden (listEnabled false) items included.
struct RepositorySnapshot {
  std::string name;
  Attributes attributes;                   // the repository's own
  std::vector<SnapshotManifest> manifests;  // sorted by digest
  std::vector<SnapshotTag> tags;            // sorted by name
};

// A manifest of a repository.
struct ManifestKey {
  std::string repository;
  oci::Digest digest;
  bool operator==(const ManifestKey&) const = default;
};

// A stored retention policy (docs/retention.md). Durations are seconds; nullopt: the rule
// is not set.
struct RetentionPolicy {
  std::string name;
  std::string repositories;               // regular expression matched against whole names
  std::optional<uint64_t> keep_last;      // keep the N most recently updated tags
  std::optional<int64_t> not_pulled_for;  // remove tags not pulled (nor pushed) for this long
  std::optional<int64_t> untagged_after;  // remove untagged manifests older than this
  std::string keep_tags;                  // tags matching this expression stay ("" = none)
  bool enabled = true;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

class RetentionStore {
 public:
  virtual ~RetentionStore() = default;

  // Every repository name, sorted, hidden ones included.
  virtual Result<std::vector<std::string>> repositories() = 0;
  // kNameUnknown if the repository does not exist.
  virtual Result<RepositorySnapshot> snapshot(std::string_view repository) = 0;

  // Blobs (config, layers) that manifests in `manifests` reference, each once, with its
  // size: sorted by digest. Manifests that no longer exist are ignored.
  virtual Result<std::vector<BlobRef>> blobsOf(const std::vector<ManifestKey>& manifests) = 0;
  // Of `blobs`, those a live manifest not in `excluding` references (any repository).
  // Recycle-bin items do not count: this answers "would live images still use it".
  virtual Result<std::vector<oci::Digest>> referencedBy(const std::vector<oci::Digest>& blobs,
                                                        const std::vector<ManifestKey>& excluding) = 0;

  // --- stored policies ---
  virtual Result<std::vector<RetentionPolicy>> listPolicies() = 0;  // sorted by name
  virtual Result<RetentionPolicy> getPolicy(std::string_view name) = 0;  // kNotFound
  // Creates or replaces the policy named policy.name (times set by the store); `created`
  // tells which.
  virtual Result<RetentionPolicy> putPolicy(const RetentionPolicy& policy, bool* created) = 0;
  virtual Status deletePolicy(std::string_view name) = 0;  // kNotFound
};

}  // namespace berth::meta
