#pragma once
// The SQLite plumbing shared by the stores on one database file (SqliteMetaStore,
// SqliteIdentityStore): error mapping, prepared statements, connections, the connection
// pool with its transactions, and the schema migrations. Internal to src/meta/sqlite.
//
// Threading: connections come from a mutex-protected free list, one per calling thread
// at a time, each with its own prepared-statement cache. Readers run concurrently under
// WAL. Writers in this process queue on one mutex before BEGIN IMMEDIATE, so they wait
// in order instead of polling SQLite's busy handler; writers in other processes are
// still serialized by SQLite (busy_timeout, then kUnavailable).
#include <sqlite3.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "meta/meta_store.h"
#include "oci/digest.h"

namespace berth::meta::sqlite_detail {

// `os_errno` is errno right after the failing call (cleared before it). Full storage is
// kStorageFull, busy or locked kUnavailable, anything else kIoError.
Error sqliteError(sqlite3* db, int rc, int os_errno = 0);

int64_t now();  // unix seconds

// A cached prepared statement in use. Binds parameters left to right; resets the
// statement and clears its bindings when dropped, so it holds no read lock afterwards.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        next_(other.next_),
        bind_rc_(other.bind_rc_) {}
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Stmt& bind(std::string_view text) {
    // A null data pointer would bind SQL NULL; an empty string must stay ''.
    const char* data = text.data() != nullptr ? text.data() : "";
    return check(
        sqlite3_bind_text64(stmt_, ++next_, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  Stmt& bind(const oci::Digest& digest) { return bind(std::string_view(digest.str())); }
  Stmt& bind(int64_t value) { return check(sqlite3_bind_int64(stmt_, ++next_, value)); }
  // Round-trips through int64 bit for bit.
  Stmt& bindU64(uint64_t value) { return bind(static_cast<int64_t>(value)); }
  Stmt& bindBlob(std::string_view bytes) {
    const char* data = bytes.data() != nullptr ? bytes.data() : "";
    return check(sqlite3_bind_blob64(stmt_, ++next_, data, bytes.size(), SQLITE_TRANSIENT));
  }
  Stmt& bindNull() { return check(sqlite3_bind_null(stmt_, ++next_)); }
  Stmt& bindLimit(size_t n) {
    constexpr auto kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max());
    return bind(static_cast<int64_t>(n < kMax ? n : kMax));
  }

  // True if a row is available, false when done.
  Result<bool> step() {
    if (bind_rc_ != SQLITE_OK) return sqliteError(db_, bind_rc_);
    errno = 0;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqliteError(db_, rc, errno);
  }
  // Runs a statement whose rows (if any) are not needed.
  Status run() {
    auto r = step();
    if (!r) return r.takeError();
    return okStatus();
  }

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  uint64_t uint64(int col) const { return static_cast<uint64_t>(int64(col)); }
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p != nullptr ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::string blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p != nullptr ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }

  // Steps through the rows calling `row(*this)` on each. `row` returns a Status (an error
  // ends the walk and is returned) or a Result<bool> (false ends the walk early, as done).
  template <class Fn>
  Status each(Fn row) {
    for (;;) {
      auto r = step();
      if (!r) return r.takeError();
      if (!*r) return okStatus();
      auto more = row(*this);
      if (!more) return more.takeError();
      if constexpr (std::is_same_v<decltype(more), Result<bool>>) {
        if (!*more) return okStatus();
      }
    }
  }

  // Steps through every row and collects `row(*this)` of each: the rows, or the first error.
  template <class Fn>
  auto collect(Fn row) -> Result<std::vector<std::invoke_result_t<Fn&, Stmt&>>> {
    std::vector<std::invoke_result_t<Fn&, Stmt&>> out;
    for (;;) {
      auto r = step();
      if (!r) return r.takeError();
      if (!*r) return out;
      out.push_back(row(*this));
    }
  }

 private:
  Stmt& check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int next_ = 0;
  int bind_rc_ = SQLITE_OK;
};

// One SQLite connection with its prepared-statement cache. Used by one thread at a time.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& path);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `sql` must be a string literal: the cache keys on it.
  Result<Stmt> prepare(std::string_view sql);
  // Runs one or more statements, uncached.
  Status exec(const char* sql);

  bool inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  // Rolls back if a transaction is open (SQLite may already have rolled back after
  // SQLITE_FULL, IOERR or BUSY). False if the connection is no longer usable.
  bool rollback() { return !inTransaction() || exec("ROLLBACK").ok(); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string_view, sqlite3_stmt*> cache_;
};

// Runs one statement that returns no rows: prepare, bind `args` in order, step.
template <class... Args>
Status execute(Connection& c, std::string_view sql, const Args&... args) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  (stmt->bind(args), ...);
  return stmt->run();
}

// A digest read back from the database; kCorrupt if it no longer parses.
Result<oci::Digest> storedDigest(const std::string& text);
// The id of the repository row named `name`, if there is one.
Result<std::optional<int64_t>> findRepository(Connection& c, std::string_view name);
// Appends `event` (if set) to the outbox (the `events` table) in the caller's transaction.
// Appends the outbox event (if any) and, for a write made here with replication on, its
// journal row (journal = false: the caller journals the change itself); `previous`: the
// tag's version before the write.
Status appendEvent(Connection& c, const std::optional<EventRecord>& event, const Version& previous = {},
                   bool journal = true);

// Schema history (schema.cpp), oldest first. Append a migration to change the schema;
// never edit a released one.
struct Migration {
  int version;  // user_version after applying `sql`
  const char* sql;
};
std::span<const Migration> schemaMigrations();
int schemaVersion();  // the last migration's version

// One database file: its connection pool and this process's writer queue. Shared (by
// std::shared_ptr) by every store on the file; lives as long as the last of them.
class Database {
 public:
  // Opens (creating if needed) the file in WAL mode and migrates its schema to the
  // current version. kUnsupported if the file has a newer schema than this build.
  static Result<std::shared_ptr<Database>> open(const std::string& path);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Run `fn(Connection&)` in one transaction: BEGIN IMMEDIATE for writes, a deferred
  // (snapshot) transaction for reads. Commits if `fn` succeeds, else rolls back. `fn`
  // returns a Result or Status.
  template <class Fn>
  auto write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    return transact(true, std::forward<Fn>(fn));
  }
  template <class Fn>
  auto read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    return transact(false, std::forward<Fn>(fn));
  }

 private:
  class Lease;

  explicit Database(std::string path);

  template <class Fn>
  auto transact(bool immediate, Fn&& fn) -> decltype(fn(std::declval<Connection&>()));

  Result<std::unique_ptr<Connection>> acquire();
  void release(std::unique_ptr<Connection> conn);

  const std::string path_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by pool_mutex_
  std::mutex writer_mutex_;  // orders this process's writers; never held by readers
};

// Returns the connection to the pool when the transaction is done with it.
class Database::Lease {
 public:
  Lease(Database& db, std::unique_ptr<Connection> conn) : db_(db), conn_(std::move(conn)) {}
  ~Lease() { db_.release(std::move(conn_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Connection& operator*() { return *conn_; }

 private:
  Database& db_;
  std::unique_ptr<Connection> conn_;
};

template <class Fn>
auto Database::transact(bool immediate, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  try {
    auto acquired = acquire();
    if (!acquired) return acquired.takeError();
    Lease lease(*this, std::move(*acquired));
    Connection& c = *lease;
    std::unique_lock<std::mutex> writer;
    if (immediate) writer = std::unique_lock(writer_mutex_);
    if (auto s = c.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"); !s) return s.takeError();
    auto result = fn(c);
    if (!result.ok()) {
      c.rollback();
      return result;
    }
    if (auto s = c.exec("COMMIT"); !s) {
      c.rollback();
      return s.takeError();
    }
    return result;
  } catch (const std::exception& e) {
    return makeError(Code::kInternal, std::string("metadata store: ") + e.what());
  }
}

}  // namespace berth::meta::sqlite_detail
