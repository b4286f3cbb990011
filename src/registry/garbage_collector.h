#pragma once
// GarbageCollector: online garbage collection of blobs and sweeping of abandoned uploads
// (docs/gc.md). Runs while the registry serves pushes and pulls: no read-only window.
//
// A blob is garbage when nothing references it (no manifest of any repository, no item in
// the recycle bin: meta/gc_store.h) and it was linked or stored longer than the grace period
// ago. Its links go first, in one write transaction that re-checks the references, then its
// file; both under the Registry's lock of the digest, which finishUpload and mountBlob take
// around their file-commit and link steps. Why nothing wanted is ever lost:
//  - A manifest PUT checks the links in its own write transaction. SQLite orders the two
//    transactions: the manifest committed first (the re-check sees its reference and keeps
//    the blob) or the links are gone (the PUT fails with MANIFEST_BLOB_UNKNOWN, never
//    referencing a missing file).
//  - A new link (upload completing, mount) needs the digest's lock, held by collection from
//    the re-check to the file removal: the link comes before (the re-check sees a link newer
//    than the cutoff and keeps the blob) or after the file is gone (an upload puts it back,
//    a mount finds no blob). A link never points to a missing file.
//  - A crash after the unlink leaves a file without links, which the next run finds among
//    the stored files (older than the grace period, linked nowhere) and removes: idempotent
//    re-scan, no journal needed.
// Upload sessions not updated for `upload_max_age` are removed unless a request is using them
// (Registry::removeStaleUpload), with staging and temp files of that age that no session owns.
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
#include "registry/fleet_leases.h"
#include "meta/gc_store.h"
#include "registry/registry.h"

namespace berth::registry {

struct GcOptions {
  std::chrono::seconds grace_period{3600};    // unreferenced blobs younger than this stay
  std::chrono::seconds interval{24 * 3600};   // between scheduled runs
  std::chrono::seconds upload_max_age{24 * 3600};  // upload sessions idle longer are removed
  std::string state_file;        // the last report is kept here across restarts ("" = not kept)
  size_t report_digests = 100;   // digests listed in a report
  // The fleet's leases: a scheduled run happens on one node per interval (null: this
  // process alone).
  FleetLeases* leases = nullptr;
};

struct GcReport {
  bool dry_run = false;
  int64_t started_at = 0;   // unix seconds
  int64_t finished_at = 0;
  uint64_t blobs_deleted = 0;  // in a dry run: would be deleted
  uint64_t bytes_freed = 0;
  uint64_t uploads_removed = 0;     // upload sessions and stray upload files
  uint64_t temp_files_removed = 0;
  uint64_t errors = 0;              // steps that failed (retried by the next run)
  std::string first_error;
  std::vector<std::string> digests;  // the first report_digests blobs deleted
};

// The API's JSON shape of a report (docs/api.md) and back (for the state file).
boost::json::object gcReportJson(const GcReport& report);
std::optional<GcReport> gcReportFromJson(const boost::json::value& v);

class GarbageCollector {
 public:
  GarbageCollector(Registry& registry, std::shared_ptr<meta::GcStore> store, GcOptions options);
  ~GarbageCollector();
  GarbageCollector(const GarbageCollector&) = delete;
  GarbageCollector& operator=(const GarbageCollector&) = delete;

  // Runs one collection now and blocks until it is done. kConflict when one is running.
  Result<GcReport> run(bool dry_run);

  // Starts the schedule: a run every `interval` after the last one (also across restarts
  // when state_file is set). stop() waits for a run in progress to finish.
  void start();
  void stop();

  bool running() const { return running_.load(std::memory_order_relaxed); }
  std::optional<GcReport> lastReport() const;

  // Totals of the real runs since start (for /metrics).
  uint64_t blobsDeleted() const { return total_blobs_.load(std::memory_order_relaxed); }
  uint64_t bytesFreed() const { return total_bytes_.load(std::memory_order_relaxed); }
  uint64_t uploadsRemoved() const { return total_uploads_.load(std::memory_order_relaxed); }

 private:
  void collect(GcReport& report);
  void sweepUploads(GcReport& report, int64_t cutoff);
  void collectLinked(GcReport& report, int64_t cutoff, std::vector<oci::Digest>& failed);
  void collectStray(GcReport& report, int64_t cutoff, const std::vector<oci::Digest>& failed);
  // Unlinks (re-checking) and removes one blob under its lock; false if it was kept.
  bool deleteBlob(GcReport& report, const oci::Digest& digest, int64_t cutoff, bool& failed);
  void noteBlob(GcReport& report, const oci::Digest& digest, uint64_t size);
  void noteError(GcReport& report, const std::string& what, const Error& e);
  void loop();

  Registry& registry_;
  std::shared_ptr<meta::GcStore> store_;
  GcOptions options_;

  std::mutex run_mu_;  // one run at a time
  std::atomic<bool> running_{false};
  mutable std::mutex last_mu_;
  std::optional<GcReport> last_;  // guarded by last_mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;  // guarded by loop_mu_
  std::thread thread_;

  std::atomic<uint64_t> total_blobs_{0};
  std::atomic<uint64_t> total_bytes_{0};
  std::atomic<uint64_t> total_uploads_{0};
};

}  // namespace berth::registry
