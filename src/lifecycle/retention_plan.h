#pragma once
// What purge and retention policies remove from one repository (docs/retention.md), decided
// on a snapshot without touching the store, so a dry run and a real run plan the same.
//
// Rules choose tags to remove and whether an untagged manifest may go; planRepository adds
// what every rule set shares:
//  - Locks: a tag is locked when it or its manifest has deleteEnabled or writeEnabled false,
//    a manifest when it has; locked items stay (reported as skipped) unless include_locked.
//    A locked repository is skipped whole, whatever include_locked says.
//  - Untagged manifests are those without a tag once the planned tags are gone. A manifest
//    stays while something that stays needs it: a child of a kept index is kept, and so is
//    a referrer (signature, SBOM) of a kept subject. An untagged referrer of a removed
//    subject goes with it, however young (when the rules let untagged manifests go at all);
//    a referrer whose subject is not in the repository is judged like any manifest.
//  - Order: tags first, then manifests with every index before its children and every
//    subject before its referrers, so a conditional delete (meta::DeleteGuard::unreferenced)
//    of each one succeeds when nothing changed meanwhile.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "meta/retention_store.h"

namespace berth::lifecycle {

struct PlannedTag {
  std::string tag;
  oci::Digest digest;
  int64_t updated_at = 0;  // as planned: the delete's guard
};

struct PlannedManifest {
  oci::Digest digest;
  std::string media_type;
  uint64_t size = 0;
  int64_t updated_at = 0;
};

// Something the rules would remove that stays, and why.
struct SkippedItem {
  std::string tag;     // "" for a manifest or the repository
  std::string digest;  // "" for the repository
  std::string reason;
};

struct RepositoryPlan {
  std::string repository;
  std::vector<PlannedTag> tags;            // in delete order
  std::vector<PlannedManifest> manifests;  // in delete order
  std::vector<SkippedItem> skipped;
  bool empty() const { return tags.empty() && manifests.empty() && skipped.empty(); }
};

struct PlanRules {
  // The tags to remove, as indexes into snapshot.tags (locked ones included: planRepository
  // skips those unless include_locked).
  std::function<std::vector<size_t>(const meta::RepositorySnapshot&)> tags;
  // Whether an untagged manifest may go; empty: untagged manifests stay.
  std::function<bool(const meta::SnapshotManifest&)> untagged;
  bool include_locked = false;
};

bool locked(const meta::Attributes& a);
// The tag or the manifest it names is locked.
bool tagLocked(const meta::RepositorySnapshot& snapshot, const meta::SnapshotTag& tag);

RepositoryPlan planRepository(const meta::RepositorySnapshot& snapshot, const PlanRules& rules);

}  // namespace berth::lifecycle
