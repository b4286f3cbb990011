#include "registry/garbage_collector.h"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "common/atomic_file.h"
#include "common/log.h"
#include "common/text.h"

namespace berth::registry {

namespace json = boost::json;

namespace {

constexpr size_t kPage = 500;            // unreferenced blobs read per query
constexpr size_t kStrayBatch = 256;      // stored files checked for links per query
constexpr size_t kMaxStaleUploads = 10000;  // sessions removed per run (the rest next run)

uint64_t number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() > 0) return static_cast<uint64_t>(v->get_int64());
  return 0;
}

int64_t seconds(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

}  // namespace

json::object gcReportJson(const GcReport& r) {
  json::object o;
  o["dryRun"] = r.dry_run;
  o["startedOn"] = formatRfc3339(r.started_at);
  o["finishedOn"] = formatRfc3339(r.finished_at);
  o["startedAt"] = r.started_at;
  o["finishedAt"] = r.finished_at;
  o["blobsDeleted"] = r.blobs_deleted;
  o["bytesFreed"] = r.bytes_freed;
  o["uploadsRemoved"] = r.uploads_removed;
  o["tempFilesRemoved"] = r.temp_files_removed;
  o["errors"] = r.errors;
  if (!r.first_error.empty()) o["firstError"] = r.first_error;
  json::array digests;
  for (const auto& d : r.digests) digests.emplace_back(d);
  o["digests"] = std::move(digests);
  return o;
}

std::optional<GcReport> gcReportFromJson(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  GcReport r;
  const json::value* dry = o.if_contains("dryRun");
  r.dry_run = dry != nullptr && dry->is_bool() && dry->get_bool();
  r.started_at = seconds(o, "startedAt");
  r.finished_at = seconds(o, "finishedAt");
  r.blobs_deleted = number(o, "blobsDeleted");
  r.bytes_freed = number(o, "bytesFreed");
  r.uploads_removed = number(o, "uploadsRemoved");
  r.temp_files_removed = number(o, "tempFilesRemoved");
  r.errors = number(o, "errors");
  if (const auto* e = o.if_contains("firstError"); e != nullptr && e->is_string()) r.first_error = e->get_string();
  if (const auto* d = o.if_contains("digests"); d != nullptr && d->is_array()) {
    for (const auto& x : d->get_array()) {
      if (x.is_string()) r.digests.emplace_back(x.get_string());
    }
  }
  return r;
}

GarbageCollector::GarbageCollector(Registry& registry, std::shared_ptr<meta::GcStore> store, GcOptions options)
    : registry_(registry), store_(std::move(store)), options_(std::move(options)) {
  if (!options_.state_file.empty()) {
    std::ifstream in(options_.state_file);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      boost::system::error_code ec;
      auto v = json::parse(text.str(), ec);
      if (!ec) last_ = gcReportFromJson(v);
    }
  }
}

GarbageCollector::~GarbageCollector() { stop(); }

std::optional<GcReport> GarbageCollector::lastReport() const {
  std::lock_guard lock(last_mu_);
  return last_;
}

Result<GcReport> GarbageCollector::run(bool dry_run) {
  std::unique_lock lock(run_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return makeError(Code::kConflict, "garbage collection is already running");
  running_.store(true, std::memory_order_relaxed);
  GcReport report;
  report.dry_run = dry_run;
  report.started_at = unixNow();
  collect(report);
  report.finished_at = unixNow();
  running_.store(false, std::memory_order_relaxed);
  if (!dry_run) {
    total_blobs_.fetch_add(report.blobs_deleted, std::memory_order_relaxed);
    total_bytes_.fetch_add(report.bytes_freed, std::memory_order_relaxed);
    total_uploads_.fetch_add(report.uploads_removed, std::memory_order_relaxed);
  }
  log::info("garbage collection finished", {{"dry_run", dry_run},
                                            {"blobs_deleted", report.blobs_deleted},
                                            {"bytes_freed", report.bytes_freed},
                                            {"uploads_removed", report.uploads_removed},
                                            {"temp_files_removed", report.temp_files_removed},
                                            {"errors", report.errors},
                                            {"seconds", report.finished_at - report.started_at}});
  {
    std::lock_guard last(last_mu_);
    last_ = report;
  }
  if (!dry_run && !options_.state_file.empty()) {
    if (auto s = writeFileAtomic(options_.state_file, json::serialize(gcReportJson(report))); !s) {
      log::warn("cannot save the garbage collection report", {{"error", s.error().message}});
    }
  }
  return report;
}

void GarbageCollector::collect(GcReport& report) {
  const int64_t now = unixNow();
  sweepUploads(report, now - options_.upload_max_age.count());
  // Blobs linked or stored at or before the cutoff may go; the file scan runs after the
  // linked pass, so a blob unlinked just now is not counted twice.
  const int64_t cutoff = now - options_.grace_period.count();
  std::vector<oci::Digest> failed;
  collectLinked(report, cutoff, failed);
  collectStray(report, cutoff, failed);
}

void GarbageCollector::noteError(GcReport& report, const std::string& what, const Error& e) {
  ++report.errors;
  if (report.first_error.empty()) report.first_error = what + ": " + e.message;
  log::warn("garbage collection step failed", {{"step", what}, {"error", e.message}});
}

void GarbageCollector::noteBlob(GcReport& report, const oci::Digest& digest, uint64_t size) {
  ++report.blobs_deleted;
  report.bytes_freed += size;
  if (report.digests.size() < options_.report_digests) report.digests.push_back(digest.str());
}

void GarbageCollector::sweepUploads(GcReport& report, int64_t cutoff) {
  auto stale = store_->staleUploads(cutoff, kMaxStaleUploads);
  if (!stale) return noteError(report, "list stale uploads", stale.error());
  for (const auto& u : *stale) {
    if (report.dry_run) {
      ++report.uploads_removed;
      continue;
    }
    auto removed = registry_.removeStaleUpload(u.id, cutoff);
    if (!removed) noteError(report, "remove upload " + u.id, removed.error());
    else if (*removed) ++report.uploads_removed;
  }
  // Staging data without a session (a crash between removing the bytes and the row leaves
  // the opposite, which the rows above cover) and temp files of put() of that age.
  std::vector<std::string> files, temps;
  auto listed = registry_.blobStore().listStaging(
      [&](const storage::StagingFile& f) {
        if (f.modified_at <= cutoff) files.push_back(f.name);
      },
      [&](const storage::StagingFile& f) {
        if (f.modified_at <= cutoff) temps.push_back(f.name);
      });
  if (!listed) return noteError(report, "list staging files", listed.error());
  auto owned = store_->existingUploads(files);
  if (!owned) return noteError(report, "look up upload sessions", owned.error());
  std::unordered_set<std::string> sessions(owned->begin(), owned->end());
  for (const auto& id : files) {
    if (sessions.count(id) != 0) continue;  // a session (busy, or updated since): kept
    if (report.dry_run) {
      // Sessions the dry run counted above still have their rows; do not count them twice.
      ++report.uploads_removed;
      continue;
    }
    if (auto s = registry_.blobStore().removeUpload(id); !s) noteError(report, "remove upload file", s.error());
    else ++report.uploads_removed;
  }
  for (const auto& name : temps) {
    if (report.dry_run) {
      ++report.temp_files_removed;
      continue;
    }
    if (auto s = registry_.blobStore().removeTemp(name); !s) noteError(report, "remove temp file", s.error());
    else ++report.temp_files_removed;
  }
}

bool GarbageCollector::deleteBlob(GcReport& report, const oci::Digest& digest, int64_t cutoff, bool& failed) {
  failed = false;
  auto locked = registry_.lockDigest(digest);
  auto unlinked = store_->unlinkIfUnreferenced(digest, cutoff);
  if (!unlinked) {
    noteError(report, "unlink " + digest.str(), unlinked.error());
    failed = true;
    return false;
  }
  if (!*unlinked) return false;  // referenced or linked again since the scan: kept
  for (const auto& repository : **unlinked) registry_.forgetBlobLinks(repository);
  // Before the file goes: no node of the fleet still answers from a cached link.
  if (!(*unlinked)->empty()) registry_.awaitPropagation();
  auto stat = registry_.blobStore().stat(digest);
  const uint64_t size = stat ? stat->size : 0;
  // A failure here (or a crash) leaves a file without links: the next run's scan of the
  // stored files removes it.
  if (auto s = registry_.blobStore().remove(digest); !s) {
    noteError(report, "remove " + digest.str(), s.error());
    failed = true;
    return false;
  }
  noteBlob(report, digest, size);
  return true;
}

void GarbageCollector::collectLinked(GcReport& report, int64_t cutoff, std::vector<oci::Digest>& failed) {
  std::string after;
  for (;;) {
    auto page = store_->unreferencedBlobs(cutoff, after, kPage);
    if (!page) return noteError(report, "list unreferenced blobs", page.error());
    for (const auto& b : *page) {
      after = b.digest.str();
      if (report.dry_run) {
        noteBlob(report, b.digest, b.size);
        continue;
      }
      bool step_failed = false;
      deleteBlob(report, b.digest, cutoff, step_failed);
      if (step_failed) failed.push_back(b.digest);
    }
    if (page->size() < kPage) return;
  }
}

void GarbageCollector::collectStray(GcReport& report, int64_t cutoff, const std::vector<oci::Digest>& failed) {
  std::unordered_set<std::string> skip;
  for (const auto& d : failed) skip.insert(d.str());
  std::vector<oci::Digest> batch;
  auto flush = [&] {
    auto unlinked = store_->unlinked(batch);
    batch.clear();
    if (!unlinked) return noteError(report, "look up blob links", unlinked.error());
    for (const auto& d : *unlinked) {
      if (skip.count(d.str()) != 0) continue;
      auto stat = registry_.blobStore().stat(d);
      if (!stat || stat->modified_at > cutoff) continue;  // gone, or stored within the grace period
      if (report.dry_run) {
        noteBlob(report, d, stat->size);
        continue;
      }
      bool step_failed = false;
      deleteBlob(report, d, cutoff, step_failed);
    }
  };
  auto listed = registry_.blobStore().list([&](const oci::Digest& d, uint64_t) {
    batch.push_back(d);
    if (batch.size() >= kStrayBatch) flush();
  });
  if (!listed) return noteError(report, "list stored blobs", listed.error());
  if (!batch.empty()) flush();
}

void GarbageCollector::start() {
  std::lock_guard lock(loop_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void GarbageCollector::stop() {
  {
    std::lock_guard lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GarbageCollector::loop() {
  // The next run is due `interval` after the last real one (kept across restarts in the
  // state file), else `interval` after start.
  int64_t last = 0;
  if (auto r = lastReport(); r && !r->dry_run) last = r->finished_at;
  int64_t due = (last > 0 ? last : unixNow()) + options_.interval.count();
  std::unique_lock lock(loop_mu_);
  while (!stopping_) {
    const int64_t wait = std::max<int64_t>(0, due - unixNow());
    if (loop_cv_.wait_for(lock, std::chrono::seconds(wait), [&] { return stopping_; })) break;
    if (unixNow() < due) continue;
    lock.unlock();
    auto scheduled = [this] {
      auto r = run(false);
      if (!r) log::info("scheduled garbage collection skipped", {{"reason", r.error().message}});
    };
    if (options_.leases == nullptr) {
      scheduled();
    } else if (!options_.leases->runScheduled("gc", options_.interval, scheduled)) {
      log::debug("scheduled garbage collection left to another node", {});
    }
    lock.lock();
    due = unixNow() + options_.interval.count();
  }
}

}  // namespace berth::registry
