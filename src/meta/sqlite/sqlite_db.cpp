#include "meta/sqlite/sqlite_db.h"
#include "meta/versioned_writes.h"

#include <ctime>

namespace berth::meta::sqlite_detail {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kMaxIdleConnections = 16;

bool outOfSpace(int err) { return err == ENOSPC || err == EDQUOT; }

Status migrate(Connection& c) {
  if (auto s = c.exec("BEGIN IMMEDIATE"); !s) return s;
  auto stmt = c.prepare("PRAGMA user_version");
  if (!stmt) return stmt.takeError();
  auto row = stmt->step();
  if (!row) return row.takeError();
  const auto version = static_cast<int>(stmt->int64(0));
  if (auto done = stmt->run(); !done) return done;
  if (version > schemaVersion()) {
    return makeError(Code::kUnsupported, "metadata schema version " + std::to_string(version) +
                                             " is newer than this build supports (" +
                                             std::to_string(schemaVersion()) + ")");
  }
  for (const Migration& m : schemaMigrations()) {
    if (m.version <= version) continue;
    if (auto s = c.exec(m.sql); !s) return s;
    const std::string set = "PRAGMA user_version = " + std::to_string(m.version);
    if (auto s = c.exec(set.c_str()); !s) return s;
  }
  return c.exec("COMMIT");
}

}  // namespace

// SQLite reports a failed write as SQLITE_FULL only for ENOSPC from write(); ENOSPC from
// fallocate, the shared-memory file or fsync arrives as SQLITE_IOERR_*, and
// sqlite3_system_errno() is not set on the commit path, hence errno too.
Error sqliteError(sqlite3* db, int rc, int os_errno) {
  const int primary = rc & 0xff;
  const int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  if (primary == SQLITE_FULL ||
      (primary == SQLITE_IOERR && (outOfSpace(os_errno) || outOfSpace(sys_errno)))) {
    return makeError(Code::kStorageFull, "metadata storage is full");
  }
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return makeError(Code::kUnavailable, "metadata store is busy: " + msg);
  }
  if (primary == SQLITE_IOERR) {
    msg += " (code " + std::to_string(rc) + ", errno " +
           std::to_string(os_errno != 0 ? os_errno : sys_errno) + ")";
  }
  return makeError(Code::kIoError, "sqlite: " + msg);
}

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

int schemaVersion() { return schemaMigrations().back().version; }

Result<oci::Digest> storedDigest(const std::string& text) {
  auto d = oci::Digest::parse(text);
  if (!d) return makeError(Code::kCorrupt, "metadata holds an invalid digest: " + text);
  return d;
}

Result<std::optional<int64_t>> findRepository(Connection& c, std::string_view name) {
  auto stmt = c.prepare("SELECT id FROM repositories WHERE name = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(name).step();
  if (!row) return row.takeError();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>(stmt->int64(0));
}

Status appendEvent(Connection& c, const std::optional<EventRecord>& event, const Version& previous, bool journal) {
  if (!event) return okStatus();
  auto stmt = c.prepare(
      "INSERT INTO events(created_at, action, repository, tag, digest, media_type, size, payload, origin)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.takeError();
  stmt->bind(event->created_at != 0 ? event->created_at : now())
      .bind(event->action)
      .bind(event->repository)
      .bind(event->tag)
      .bind(event->digest)
      .bind(event->media_type)
      .bindU64(event->size)
      .bind(event->payload)
      .bind(event->version.origin);
  if (auto s = stmt->run(); !s) return s;
  if (!journal || !versioned::journaled(event)) return okStatus();
  return versioned::journal(c, versioned::journalOp(*event), *event, previous);
}


// --- Connection ---

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Connection> conn(new Connection(db));  // closes db even on failure
  if (rc != SQLITE_OK) return sqliteError(db, rc);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (auto s = conn->exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"); !s) {
    return s.takeError();
  }
  return conn;
}

Connection::~Connection() {
  for (auto& entry : cache_) sqlite3_finalize(entry.second);
  sqlite3_close_v2(db_);
}

Result<Stmt> Connection::prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqliteError(db_, rc);
    it = cache_.emplace(sql, stmt).first;
  }
  return Stmt(db_, it->second);
}

Status Connection::exec(const char* sql) {
  errno = 0;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqliteError(db_, rc, errno);
  return okStatus();
}

// --- Database ---

Database::Database(std::string path) : path_(std::move(path)) {}
Database::~Database() = default;

Result<std::shared_ptr<Database>> Database::open(const std::string& path) {
  try {
    std::shared_ptr<Database> db(new Database(path));
    auto conn = Connection::open(path);
    if (!conn) return conn.takeError();
    {
      // journal_mode is stored in the file; it cannot change inside a transaction.
      auto mode = (*conn)->prepare("PRAGMA journal_mode = WAL");
      if (!mode) return mode.takeError();
      auto row = mode->step();
      if (!row) return row.takeError();
      if (!*row || mode->text(0) != "wal") {
        return makeError(Code::kIoError, "sqlite: cannot enable WAL mode on " + path);
      }
    }
    if (auto s = migrate(**conn); !s) {
      (*conn)->rollback();
      return s.takeError();
    }
    db->release(std::move(*conn));
    return db;
  } catch (const std::exception& e) {
    return makeError(Code::kInternal, std::string("metadata store open failed: ") + e.what());
  }
}

Result<std::unique_ptr<Connection>> Database::acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  return Connection::open(path_);
}

void Database::release(std::unique_ptr<Connection> conn) {
  if (!conn || !conn->rollback()) return;  // a connection that cannot roll back is dropped
  std::unique_lock lock(pool_mutex_);
  if (idle_.size() < kMaxIdleConnections) {
    idle_.push_back(std::move(conn));
    return;
  }
  lock.unlock();  // close the surplus connection outside the lock
}

}  // namespace berth::meta::sqlite_detail
