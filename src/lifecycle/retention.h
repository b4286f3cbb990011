#pragma once
// Retention (docs/retention.md): `berth purge` (acr purge's semantics, run by the server)
// and the stored retention policies, run on a schedule and on demand. Both plan each
// repository on a snapshot (retention_plan.h) and then delete through the Registry with a
// meta::DeleteGuard per item, so a tag moved, a manifest re-pushed or tagged, or an index
// pushed over a child since the plan is left alone (reported as skipped). Deletes are
// ordinary deletes: locks, the recycle bin, webhooks and the caches apply.
//
// A dry run reports exactly what a real run would remove given no change in between, and
// the bytes that live images would no longer reference (what garbage collection frees once
// no recycle-bin item holds them).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "common/result.h"
#include "events/audit_log.h"
#include "events/event_payload.h"
#include "lifecycle/retention_plan.h"
#include "meta/retention_store.h"
#include "registry/fleet_leases.h"
#include "registry/registry.h"
#include "registry/usage_recorder.h"

namespace berth::lifecycle {

// One --filter: repositories whose whole name matches `repository` (a regular expression,
// ECMAScript syntax), tags that contain a match of `tag`.
struct PurgeFilter {
  std::string repository;
  std::string tag;
};
// "repoRegex:tagRegex" (split at the first ':', which a repository name cannot contain).
Result<PurgeFilter> parsePurgeFilter(std::string_view text);

struct PurgeRequest {
  std::vector<PurgeFilter> filters;
  int64_t ago = 0;        // tags (and with `untagged`, manifests) last updated longer ago go
  bool untagged = false;  // also remove manifests left without tags
  uint64_t keep = 0;      // of the tags a filter would remove in a repository, keep the newest N
  bool include_locked = false;
  bool dry_run = false;
};

struct RetentionReport {
  bool dry_run = false;
  bool recycle_bin = false;  // deletes went to the recycle bin
  int64_t started_at = 0;
  int64_t finished_at = 0;
  std::vector<std::string> policies;          // the policies run (policy runs only)
  std::vector<RepositoryPlan> repositories;   // removed (would be) and skipped, non-empty ones
  uint64_t tags_deleted = 0;
  uint64_t manifests_deleted = 0;
  uint64_t bytes_freed = 0;
  uint64_t errors = 0;
  std::string first_error;
};
boost::json::object retentionReportJson(const RetentionReport& report);

// The API's JSON shape of a policy (durations as "7d").
boost::json::object retentionPolicyJson(const meta::RetentionPolicy& policy);
// Checks the expressions and numbers; kInvalidArgument naming the field.
Status validatePolicy(const meta::RetentionPolicy& policy);

struct RetentionOptions {
  bool schedule = true;
  std::chrono::seconds interval{3600};
  bool recycle_bin = false;  // for the report only: whether deletes go to the bin
  // The fleet's leases: the scheduled run happens on one node per interval (null: this
  // process alone).
  registry::FleetLeases* leases = nullptr;
};

class Retention {
 public:
  // `usage` (optional) gives the last-pulled times that removeNotPulledFor asks for; without
  // it only push times count.
  Retention(registry::Registry& registry, std::shared_ptr<meta::RetentionStore> store,
            registry::UsageRecorder* usage, RetentionOptions options);
  ~Retention();  // stop()
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // One run at a time: these wait for a run in progress.
  Result<RetentionReport> purge(const PurgeRequest& request, const events::RequestInfo& info = {});
  // Every enabled policy, or only the one named `only` (enabled or not; kNotFound).
  Result<RetentionReport> runPolicies(bool dry_run, const std::string& only = {},
                                      const events::RequestInfo& info = {});
  // The last scheduled or on-demand policy run that was not a dry run.
  std::optional<RetentionReport> lastPolicyRun() const;

  // Runs the enabled policies every interval (when options.schedule). stop() waits for a
  // run in progress.
  void start();
  void stop();

  meta::RetentionStore& store() { return *store_; }
  // Records one audit entry ("delete", message naming the purge or the policies) per tag and
  // manifest a real run removes. Set before serving.
  void setAudit(events::AuditLog* audit) { audit_ = audit; }

  // Totals since start, over runs that were not dry runs (for /metrics).
  uint64_t runs() const { return runs_.load(std::memory_order_relaxed); }
  uint64_t tagsDeleted() const { return tags_deleted_.load(std::memory_order_relaxed); }
  uint64_t manifestsDeleted() const { return manifests_deleted_.load(std::memory_order_relaxed); }

 private:
  // `why` names the run in audit entries ("purge", "retention policies a, b").
  Result<RetentionReport> execute(std::vector<RepositoryPlan> plans, bool dry_run, bool ignore_locks,
                                  const events::RequestInfo& info, int64_t started_at, const std::string& why);
  void run();

  registry::Registry& registry_;
  std::shared_ptr<meta::RetentionStore> store_;
  registry::UsageRecorder* usage_;
  events::AuditLog* audit_ = nullptr;
  const RetentionOptions options_;
  std::mutex run_mu_;  // one purge or policy run at a time
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                         // guarded by mu_
  std::optional<RetentionReport> last_run_;   // guarded by mu_
  std::thread thread_;
  std::atomic<uint64_t> runs_{0};
  std::atomic<uint64_t> tags_deleted_{0};
  std::atomic<uint64_t> manifests_deleted_{0};
};

}  // namespace berth::lifecycle
