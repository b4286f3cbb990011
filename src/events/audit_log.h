#pragma once
// AuditLog: records who did what (docs/audit.md). record() is cheap and never blocks on
// I/O: entries go to one of a few mutex-guarded queues (one per recording thread in
// practice, so the locks are uncontended; one shared atomic counts what is queued) and a writer thread drains them every
// `flush_every`, appending each batch to the AuditStore in one transaction and, when
// configured, as JSON lines to a file. A full queue drops new entries and counts them.
// With `merge`, an entry identical to one already queued by the same thread only adds to
// that one's count (keeping the earlier time): a repeated pull copies no strings.
// A crash loses at most the entries not yet drained (about `flush_every` worth); stop()
// writes everything first.
#include <array>
#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "meta/audit_store.h"

namespace berth::events {

struct AuditOptions {
  std::string file;             // JSON lines appended here; "" = database only
  int64_t retention_days = 90;  // rows older than this are pruned; 0 keeps them forever
  bool pulls = true;            // record successful pulls (denied ones always are)
  size_t queue_capacity = 100000;  // entries waiting for the writer; beyond: dropped
  bool merge = true;  // identical entries of one write interval are stored once, with a count
  std::chrono::milliseconds flush_every{200};
  std::chrono::seconds prune_every{3600};
};

class AuditLog {
 public:
  AuditLog(std::shared_ptr<meta::AuditStore> store, AuditOptions options = {});
  ~AuditLog();  // stop()
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Fills in identity_kind of entries that name an identity but no kind, on the writer
  // thread (so the request path does no lookup). Set before start().
  void setKindResolver(std::function<std::string(std::string_view identity)> resolve) {
    resolve_kind_ = std::move(resolve);
  }
  // Opens the file (kIoError naming it if it cannot) and starts the writer.
  Status start();
  // Queues an entry (a copy, unless it merges with a queued one); drops it (counted) if the
  // queue is full. Any thread; never blocks on I/O. Entries without a time get the current one.
  void record(const meta::AuditRecord& entry) noexcept;
  // Blocks until every entry recorded before the call is written (or failed to be).
  void flush();
  // Writes what is queued, then stops the writer. Later record() calls are dropped.
  void stop();

  const AuditOptions& options() const { return options_; }
  Result<std::vector<meta::AuditRecord>> list(const meta::AuditQuery& query) { return store_->list(query); }

  // Counted in requests: a merged entry counts as its `count`.
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Entries the database refused (each is still in the file, if there is one).
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct alignas(64) Shard {
    std::mutex mu;
    std::vector<meta::AuditRecord> pending;
    // With merge: pending entries by their request hash (the latest one of each hash).
    std::unordered_map<size_t, size_t> index;
  };

  void run();
  // Takes every queued entry, oldest first.
  std::vector<meta::AuditRecord> drain();
  void write(std::vector<meta::AuditRecord>& batch);
  void writeFile(const std::vector<meta::AuditRecord>& batch);
  Status openFile();
  void prune();

  std::shared_ptr<meta::AuditStore> store_;
  AuditOptions options_;
  std::function<std::string(std::string_view)> resolve_kind_;
  std::array<Shard, kShards> shards_;
  std::atomic<bool> accepting_{false};
  std::atomic<size_t> queued_{0};  // entries in the shards
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_{0};

  std::mutex mu_;  // guards the fields below with cv_ / done_cv_
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  uint64_t flush_requested_ = 0;
  uint64_t flushed_ = 0;
  bool wake_ = false;
  bool stop_ = false;
  bool running_ = false;  // the writer thread is in run()
  std::thread writer_;

  int fd_ = -1;  // the JSON lines file; writer thread only (after start)
  std::chrono::steady_clock::time_point next_prune_{};
  std::chrono::steady_clock::time_point next_error_log_{};
};

// The JSON of an entry, as /api/v1/audit and the JSON lines file show it.
boost::json::object auditJson(const meta::AuditRecord& r);
// Unix microseconds now: an entry's time.
int64_t unixMicrosNow();
// "2026-11-22T10:00:00.123456Z" (UTC, microseconds).
std::string formatRfc3339Micros(int64_t unix_us);

}  // namespace berth::events
