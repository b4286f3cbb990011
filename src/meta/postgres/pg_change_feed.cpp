#include "meta/postgres/pg_change_feed.h"

#include <poll.h>

#include <set>

#include "common/log.h"
#include "meta/postgres/pg_db.h"

namespace berth::meta {

using pg_detail::Connection;
using pg_detail::execute;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kSlice = std::chrono::milliseconds(100);  // how soon stop() is noticed
constexpr auto kPruneEvery = std::chrono::minutes(1);
constexpr int64_t kForgetNodesMs = 3600 * 1000;  // rows of nodes gone for an hour
constexpr int kBatch = 10000;                    // changes read per statement

int64_t millis(std::chrono::milliseconds d) { return static_cast<int64_t>(d.count()); }

}  // namespace

PgChangeFeed::PgChangeFeed(std::shared_ptr<pg_detail::Database> db, std::string node, ChangeFeedOptions options)
    : db_(std::move(db)), node_(std::move(node)), options_(options) {}

PgChangeFeed::~PgChangeFeed() { stop(); }

Status PgChangeFeed::start(ChangeHandlers handlers) {
  if (thread_.joinable()) return makeError(Code::kInternal, "change feed already started");
  handlers_ = std::move(handlers);
  thread_ = std::thread([this] { run(); });
  return okStatus();
}

void PgChangeFeed::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  cv_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  // Writers stop waiting for this node at once, not after live_for.
  auto gone = db_->write([&](Connection& c) { return execute(c, "DELETE FROM nodes WHERE name = ?", node_); });
  if (!gone) log::warn("cannot leave the fleet's change feed", {{"node", node_}, {"error", gone.error().message}});
}

void PgChangeFeed::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_.load(); });
}

void PgChangeFeed::run() {
  bool reported = false;  // one warning per outage
  while (!stopping_.load()) {
    auto conn = Connection::open(db_->dsn(), kApplicationName);
    Status s = conn ? session(**conn) : Status(conn.takeError());
    if (stopping_.load()) break;
    // Notifications may be lost with the connection: no cache answers until the next
    // session has cleared them all.
    if (handlers_.trusted_until) handlers_.trusted_until(Clock::time_point{});
    if (!reported) {
      log::warn("the fleet's change feed is down: serving from the database until it is back",
                {{"node", node_}, {"error", s ? std::string("stopped") : s.error().message}});
      reported = true;
    }
    if (s) reported = false;
    pause(std::chrono::milliseconds(250));
  }
}

Status PgChangeFeed::session(Connection& c) {
  if (auto s = c.exec("LISTEN berth_changes; LISTEN berth_acks"); !s) return s;
  // Registered (as having seen nothing) before the position is read: a writer that
  // commits from here on waits for this node, and one that committed before is covered
  // by `everything` below.
  const auto t0 = Clock::now();
  if (auto s = execute(c,
                       "INSERT INTO nodes(name, seen_change, beat_at) VALUES (?, 0, changes_now_ms())"
                       " ON CONFLICT (name) DO UPDATE SET seen_change = 0, beat_at = EXCLUDED.beat_at",
                       node_);
      !s) {
    return s;
  }
  auto top = c.prepare("SELECT COALESCE(MAX(id), 0) FROM changes");
  if (!top) return top.takeError();
  auto row = top->step();
  if (!row) return row.takeError();
  seen_ = top->int64(0);
  // Changes may have been missed while the feed was away.
  if (handlers_.everything) handlers_.everything();
  if (auto s = round(c); !s) return s;
  if (handlers_.trusted_until) handlers_.trusted_until(t0 + options_.trust_for);
  log::info("joined the fleet's change feed", {{"node", node_}});
  auto next_beat = Clock::now() + options_.beat_every;
  while (!stopping_.load()) {
    bool changed = false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - Clock::now());
    if (left.count() > 0) {
      if (auto s = await(c, std::min<std::chrono::milliseconds>(left, kSlice), changed); !s) return s;
    }
    if (!changed && Clock::now() < next_beat) continue;
    const auto started = Clock::now();
    if (auto s = round(c); !s) return s;
    if (handlers_.trusted_until) handlers_.trusted_until(started + options_.trust_for);
    next_beat = started + options_.beat_every;
    if (started - pruned_at_ >= kPruneEvery) {
      if (auto s = prune(c); !s) return s;
      pruned_at_ = started;
    }
  }
  return okStatus();
}

Status PgChangeFeed::await(Connection& c, std::chrono::milliseconds d, bool& changed) {
  PGconn* pq = c.raw();
  pollfd fd{PQsocket(pq), POLLIN, 0};
  if (fd.fd < 0) return makeError(Code::kUnavailable, "database unavailable: the change feed's connection is closed");
  const int n = ::poll(&fd, 1, static_cast<int>(d.count()));
  if (n < 0) return okStatus();  // EINTR: the caller loops
  if (n == 0) return okStatus();
  if (PQconsumeInput(pq) == 0 || PQstatus(pq) != CONNECTION_OK) {
    return makeError(Code::kUnavailable, std::string("database unavailable: ") + PQerrorMessage(pq));
  }
  bool acked = false;
  while (PGnotify* note = PQnotifies(pq)) {
    const std::string_view channel(note->relname);
    if (channel == "berth_changes") changed = true;
    if (channel == "berth_acks") acked = true;
    PQfreemem(note);
  }
  if (acked) {
    {
      std::lock_guard lock(mu_);
      ++acks_;
    }
    cv_.notify_all();
  }
  return okStatus();
}

Status PgChangeFeed::round(Connection& c) {
  const int64_t before = seen_;
  for (;;) {
    auto stmt = c.prepare("SELECT id, kind, repository FROM changes WHERE id > ? ORDER BY id LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(seen_).bind(int64_t{kBatch});
    std::set<std::string, std::less<>> repositories;
    bool identities = false, webhooks = false;
    int rows = 0;
    int64_t last = seen_;
    auto read = stmt->each([&](pg_detail::Stmt& r) -> Status {
      ++rows;
      last = r.int64(0);
      const std::string kind = r.text(1);
      if (kind == "repository") repositories.insert(r.text(2));
      else if (kind == "identities") identities = true;
      else if (kind == "webhooks") webhooks = true;
      return okStatus();
    });
    if (!read) return read;
    if (handlers_.repository) {
      for (const auto& name : repositories) handlers_.repository(name);
    }
    if (identities && handlers_.identities) handlers_.identities();
    if (webhooks && handlers_.webhooks) handlers_.webhooks();
    seen_ = last;
    if (rows < kBatch) break;
  }
  // Progress and heartbeat in one statement; the acks wake the waiting writers.
  const char* sql = seen_ != before
                        ? "WITH beat AS (INSERT INTO nodes(name, seen_change, beat_at) VALUES (?, ?, changes_now_ms())"
                          " ON CONFLICT (name) DO UPDATE SET seen_change = EXCLUDED.seen_change,"
                          " beat_at = EXCLUDED.beat_at RETURNING 1)"
                          " SELECT pg_notify('berth_acks', '') FROM beat"
                        : "INSERT INTO nodes(name, seen_change, beat_at) VALUES (?, ?, changes_now_ms())"
                          " ON CONFLICT (name) DO UPDATE SET seen_change = EXCLUDED.seen_change,"
                          " beat_at = EXCLUDED.beat_at";
  return execute(c, sql, node_, seen_);
}

Status PgChangeFeed::prune(Connection& c) {
  if (auto s = execute(c, "DELETE FROM changes WHERE at < changes_now_ms() - ?",
                       millis(std::chrono::duration_cast<std::chrono::milliseconds>(options_.keep_changes)));
      !s) {
    return s;
  }
  return execute(c, "DELETE FROM nodes WHERE beat_at < changes_now_ms() - ?", kForgetNodesMs);
}

void PgChangeFeed::awaitPropagation() {
  const auto started = Clock::now();
  int64_t target = -1;
  for (;;) {
    uint64_t acks = 0;
    {
      std::lock_guard lock(mu_);
      acks = acks_;
    }
    // The first look fixes the target: every change committed before the call.
    auto lagging = db_->read([&](Connection& c) -> Result<std::string> {
      if (target < 0) {
        auto top = c.prepare("SELECT COALESCE(MAX(id), 0) FROM changes");
        if (!top) return top.takeError();
        auto row = top->step();
        if (!row) return row.takeError();
        target = top->int64(0);
      }
      auto stmt = c.prepare(
          "SELECT name FROM nodes WHERE name <> ? AND seen_change < ? AND beat_at > changes_now_ms() - ?"
          " ORDER BY name LIMIT 1");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(node_).bind(target).bind(millis(options_.live_for)).step();
      if (!row) return row.takeError();
      return *row ? stmt->text(0) : std::string();
    });
    if (!lagging) {
      log::warn("cannot tell whether the fleet saw a change", {{"node", node_}, {"error", lagging.error().message}});
      return;
    }
    if (lagging->empty()) return;
    if (Clock::now() - started >= options_.max_wait) {
      log::warn("a node of the fleet is slow to see a change", {{"node", *lagging}, {"change", target}});
      return;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return acks_ != acks || stopping_.load(); });
    if (stopping_.load()) return;
  }
}

}  // namespace berth::meta
