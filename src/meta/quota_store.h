#pragma once
// QuotaStore: storage quotas (docs/quotas.md). A quota limits the deduplicated bytes of
// committed content in the repositories its pattern covers: "*" (the registry),
// "team-a/*" (every repository below team-a/, at any depth) or one repository name, the
// same patterns as role assignments (auth/policy.h). Usage is what the usage store counts
// as storage: each blob digest and each manifest digest once over those repositories.
// Uploads in progress or abandoned count nothing.
//
// Enforcement is in the MetaStore: linkBlob, completeUpload and putManifest check every
// quota covering the repository inside their write transaction and refuse with kDenied
// (a message naming the quota's pattern and limit, its usage and what the commit needs)
// when the new content would take a quota over its limit. usage + needed == limit is
// allowed. A digest the quota's repositories already hold needs nothing.
// Every method is one transaction; safe to call from any thread; may block.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::meta {

struct QuotaRecord {
  std::string pattern;
  uint64_t limit_bytes = 0;
  uint64_t used_bytes = 0;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

class QuotaStore {
 public:
  virtual ~QuotaStore() = default;

  // Every quota, sorted by pattern, with its current usage.
  virtual Result<std::vector<QuotaRecord>> listQuotas() = 0;
  // kNotFound if there is no quota for exactly this pattern.
  virtual Result<QuotaRecord> getQuota(std::string_view pattern) = 0;
  // Creates the quota (its usage counted from the metadata) or changes its limit; a
  // limit below the current usage is allowed (it refuses every commit that adds bytes).
  // kInvalidArgument for a pattern that is not "*", "<name>/*" or a name.
  // `created` (if given) tells whether the quota is new.
  virtual Result<QuotaRecord> setQuota(std::string_view pattern, uint64_t limit_bytes,
                                       bool* created = nullptr) = 0;
  // kNotFound if there is no such quota.
  virtual Status deleteQuota(std::string_view pattern) = 0;
};

}  // namespace berth::meta
