#include "events/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "common/log.h"

namespace berth::events {
namespace {

// A queue this full wakes the writer before its next tick.
constexpr size_t kWakeAt = 1024;

}  // namespace

int64_t unixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// A hash of the fields that tell requests apart most often (sameRequest() compares all of
// mergeIdentical's key).
size_t requestHash(const meta::AuditRecord& r) {
  size_t h = std::hash<int64_t>{}(r.status);
  for (const std::string* f : {&r.identity, &r.client, &r.repository, &r.tag, &r.digest}) {
    h ^= std::hash<std::string_view>{}(*f) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}

bool sameRequest(const meta::AuditRecord& a, const meta::AuditRecord& b) {
  return a.status == b.status && a.identity == b.identity && a.identity_kind == b.identity_kind &&
         a.client == b.client && a.action == b.action && a.repository == b.repository && a.tag == b.tag &&
         a.digest == b.digest && a.method == b.method && a.result == b.result && a.message == b.message;
}

// Each recording thread sticks to one shard: with fewer threads than shards (the I/O
// threads), no two contend for a lock.
size_t shardIndex(size_t shards) {
  static std::atomic<size_t> next{0};
  thread_local const size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine % shards;
}

}  // namespace

std::string formatRfc3339Micros(int64_t unix_us) {
  int64_t secs = unix_us / 1000000;
  int64_t us = unix_us % 1000000;
  if (us < 0) {
    us += 1000000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[40];
  const size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buf + n, sizeof buf - n, ".%06dZ", static_cast<int>(us));
  return buf;
}

boost::json::object auditJson(const meta::AuditRecord& r) {
  boost::json::object o;
  if (r.id != 0) {
    o["id"] = r.id;
  } else {
    o["id"] = nullptr;  // the database refused it (file only)
  }
  o["time"] = formatRfc3339Micros(r.time_us);
  o["identity"] = r.identity;
  o["identityKind"] = r.identity_kind;
  o["clientAddress"] = r.client;
  o["action"] = r.action;
  o["repository"] = r.repository;
  o["tag"] = r.tag;
  o["digest"] = r.digest;
  o["method"] = r.method;
  o["status"] = r.status;
  o["result"] = r.result;
  o["message"] = r.message;
  o["count"] = r.count;
  return o;
}

AuditLog::AuditLog(std::shared_ptr<meta::AuditStore> store, AuditOptions options)
    : store_(std::move(store)), options_(std::move(options)) {}

AuditLog::~AuditLog() { stop(); }

Status AuditLog::openFile() {
  const int fd = ::open(options_.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return makeError(Code::kIoError, "audit.file: cannot open " + options_.file + ": " + std::strerror(errno));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return okStatus();
}

Status AuditLog::start() {
  if (!options_.file.empty()) {
    if (auto s = openFile(); !s) return s;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    running_ = true;
  }
  next_prune_ = std::chrono::steady_clock::now();
  accepting_.store(true, std::memory_order_release);
  writer_ = std::thread([this] { run(); });
  return okStatus();
}

void AuditLog::record(const meta::AuditRecord& entry) noexcept {
  if (!accepting_.load(std::memory_order_acquire)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const int64_t time_us = entry.time_us != 0 ? entry.time_us : unixMicrosNow();
  const size_t hash = options_.merge ? requestHash(entry) : 0;
  Shard& shard = shards_[shardIndex(kShards)];
  size_t size = 0;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    if (options_.merge) {
      // The writer would merge the two anyway (mergeIdentical): do it now, without a copy.
      if (auto it = shard.index.find(hash); it != shard.index.end()) {
        meta::AuditRecord& queued = shard.pending[it->second];
        if (sameRequest(queued, entry)) {
          queued.count += entry.count;
          queued.time_us = std::min(queued.time_us, time_us);
          return;
        }
      }
    }
    if (queued_.fetch_add(1, std::memory_order_relaxed) >= options_.queue_capacity) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    try {
      shard.pending.push_back(entry);
    } catch (...) {  // out of memory: the entry is lost, the request is not
      queued_.fetch_sub(1, std::memory_order_relaxed);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    shard.pending.back().time_us = time_us;
    size = shard.pending.size();
    if (options_.merge) {
      try {
        shard.index[hash] = size - 1;
      } catch (...) {  // the index only saves copies: the entry is queued either way
      }
    }
  }
  if (size == kWakeAt) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake_ = true;
    }
    cv_.notify_one();
  }
}

void AuditLog::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!running_) return;
  const uint64_t ticket = ++flush_requested_;
  cv_.notify_one();
  done_cv_.wait(lock, [&] { return flushed_ >= ticket || !running_; });
}

void AuditLog::stop() {
  accepting_.store(false, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

std::vector<meta::AuditRecord> AuditLog::drain() {
  std::vector<meta::AuditRecord> batch;
  for (auto& shard : shards_) {
    std::vector<meta::AuditRecord> taken;
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      taken.swap(shard.pending);
      shard.index.clear();
    }
    queued_.fetch_sub(taken.size(), std::memory_order_relaxed);
    if (batch.empty()) {
      batch = std::move(taken);
    } else {
      batch.insert(batch.end(), std::make_move_iterator(taken.begin()), std::make_move_iterator(taken.end()));
    }
  }
  // Shards interleave in time: ids follow time within a batch. Across batches they may
  // not quite (a request that started earlier can finish later); listings sort by time.
  std::stable_sort(batch.begin(), batch.end(),
                   [](const auto& a, const auto& b) { return a.time_us < b.time_us; });
  return batch;
}

void AuditLog::run() {
  for (;;) {
    uint64_t target = 0;
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.flush_every,
                   [&] { return stop_ || wake_ || flush_requested_ > flushed_; });
      wake_ = false;
      target = flush_requested_;
      stopping = stop_;
    }
    // After `target` was read: holds every entry recorded before those flush() calls.
    auto batch = drain();
    if (!batch.empty()) write(batch);
    if (options_.retention_days > 0 && std::chrono::steady_clock::now() >= next_prune_) {
      prune();
      next_prune_ = std::chrono::steady_clock::now() + options_.prune_every;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      flushed_ = target;
    }
    done_cv_.notify_all();
    if (stopping) {
      // record() stopped accepting before stop_ was set; take any entry that raced in.
      auto rest = drain();
      if (!rest.empty()) write(rest);
      {
        std::lock_guard<std::mutex> lock(mu_);
        running_ = false;
      }
      done_cv_.notify_all();
      return;
    }
  }
}

namespace {

// Identical entries of one batch become one with a count: under heavy load (a CI fleet
// pulling the same image) the writer then stores a row per distinct request, not per
// request, and keeps up. The first (earliest) entry keeps its time.
void mergeIdentical(std::vector<meta::AuditRecord>& batch) {
  if (batch.size() < 2) return;
  std::unordered_map<std::string, size_t> seen;
  std::vector<meta::AuditRecord> out;
  out.reserve(batch.size());
  std::string key;
  for (auto& r : batch) {
    key.clear();
    for (const std::string* f : {&r.identity, &r.identity_kind, &r.client, &r.action, &r.repository, &r.tag,
                                 &r.digest, &r.method, &r.result, &r.message}) {
      key += *f;
      key += '\0';
    }
    key += std::to_string(r.status);
    auto [it, fresh] = seen.try_emplace(key, out.size());
    if (fresh) {
      out.push_back(std::move(r));
    } else {
      out[it->second].count += r.count;
    }
  }
  batch = std::move(out);
}

}  // namespace

void AuditLog::write(std::vector<meta::AuditRecord>& batch) {
  if (options_.merge) mergeIdentical(batch);
  if (resolve_kind_) {
    for (auto& r : batch) {
      if (!r.identity.empty() && r.identity_kind.empty()) r.identity_kind = resolve_kind_(r.identity);
    }
  }
  if (auto s = store_->append(batch); !s) {
    for (const auto& r : batch) failed_.fetch_add(r.count, std::memory_order_relaxed);
    for (auto& r : batch) r.id = 0;
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_error_log_) {  // at most one line a minute while the database fails
      log::error("audit entries not stored", {{"entries", batch.size()}, {"error", s.error().message}});
      next_error_log_ = now + std::chrono::minutes(1);
    }
  } else {
    for (const auto& r : batch) written_.fetch_add(r.count, std::memory_order_relaxed);
  }
  if (fd_ >= 0) writeFile(batch);
}

void AuditLog::writeFile(const std::vector<meta::AuditRecord>& batch) {
  // Follows log rotation: when the path no longer names the open file, open it anew.
  struct stat by_path {}, by_fd {};
  if (::stat(options_.file.c_str(), &by_path) != 0 || ::fstat(fd_, &by_fd) != 0 ||
      by_path.st_ino != by_fd.st_ino || by_path.st_dev != by_fd.st_dev) {
    if (auto s = openFile(); !s) log::error("audit file not reopened", {{"error", s.error().message}});
  }
  std::string text;
  for (const auto& r : batch) {
    text += boost::json::serialize(auditJson(r));
    text += '\n';
  }
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      log::error("audit file write failed", {{"file", options_.file}, {"error", std::strerror(errno)}});
      return;
    }
    done += static_cast<size_t>(n);
  }
  ::fdatasync(fd_);
}

void AuditLog::prune() {
  const int64_t before = unixMicrosNow() - options_.retention_days * 86400 * 1000000;
  auto n = store_->prune(before);
  if (!n) {
    log::warn("audit prune failed", {{"error", n.error().message}});
  } else if (*n > 0) {
    log::info("audit entries pruned", {{"entries", *n}, {"retention_days", options_.retention_days}});
  }
}

}  // namespace berth::events
