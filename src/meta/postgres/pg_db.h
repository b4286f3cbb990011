#pragma once
// The libpq plumbing shared by the stores on one PostgreSQL database (PgMetaStore and its
// sub-stores): error mapping, parameterized statements, connections, the connection pool
// with its transactions, and the schema migrations. Internal to src/meta/postgres.
//
// The statement API mirrors sqlite_detail's (bind left to right, step, column readers) so
// the two drivers read alike; placeholders are written `?`/`?N` as there and become `$N`
// once per connection. A statement is prepared on the server at its first run, with the
// types of that run's parameters (text, int8, bytea; NULL left to the server), so no value
// is ever typed by guesswork (an id compared with 0 stays int8). Every value is a
// parameter: no SQL is built from data.
//
// Transactions: writes run SERIALIZABLE, reads REPEATABLE READ READ ONLY (a snapshot, as
// SQLite's deferred read). A write that loses a serialization race (40001, 40P01) is run
// again from the start, so each store method behaves as if writers took turns, as they do
// on SQLite: the rules read-then-write (locks, quotas, guards) need no extra row locks.
//
// Connections: at most `pool_size`, handed out one per calling thread at a time. A lost
// connection (server restarted) is dropped with every idle one, and the transaction runs
// again on a new connection unless the loss hit its COMMIT (the outcome is unknown then:
// kUnavailable). A server that cannot be reached is kUnavailable ("database unavailable").
#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
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

namespace berth::meta::pg_detail {

int64_t now();  // unix seconds

class Connection;

// A prepared statement in use: the parameters bound so far, then (after the first step)
// the whole result, read row by row.
class Stmt {
 public:
  struct Prepared {
    std::string name;
    std::string text;       // with $N placeholders
    bool prepared = false;  // on the server, with the types of the first call's parameters
  };
  Stmt(Connection& conn, Prepared* prepared) : conn_(&conn), prepared_(prepared) {}
  Stmt(Stmt&&) noexcept = default;
  Stmt& operator=(Stmt&&) = delete;

  Stmt& bind(std::string_view text) { return add(std::string(text), kText, 0); }
  Stmt& bind(const char* text) { return bind(std::string_view(text)); }
  Stmt& bind(const std::string& text) { return bind(std::string_view(text)); }
  Stmt& bind(const oci::Digest& digest) { return bind(std::string_view(digest.str())); }
  Stmt& bind(int64_t value) { return add(std::to_string(value), kInt8, 0); }
  // Stored as int64 bit for bit, as the SQLite store does.
  Stmt& bindU64(uint64_t value) { return bind(static_cast<int64_t>(value)); }
  Stmt& bindBlob(std::string_view bytes) { return add(std::string(bytes), kBytea, 1); }
  Stmt& bindNull() { return add(std::nullopt, 0, 0); }
  Stmt& bindLimit(size_t n) {
    constexpr auto kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max());
    return bind(static_cast<int64_t>(n < kMax ? n : kMax));
  }

  // True if a row is available, false when done. The first call runs the statement.
  Result<bool> step();
  Status run() {
    auto r = step();
    if (!r) return r.takeError();
    return okStatus();
  }

  // Integer columns; a boolean column reads as 1 or 0.
  int64_t int64(int col) const;
  uint64_t uint64(int col) const { return static_cast<uint64_t>(int64(col)); }
  bool isNull(int col) const { return PQgetisnull(result_.get(), row_, col) != 0; }
  std::string text(int col) const;
  std::string blob(int col) const;  // a bytea column

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
  friend class Connection;
  static constexpr unsigned kText = 25, kInt8 = 20, kBytea = 17;  // type oids
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };

  Stmt& add(std::optional<std::string> value, unsigned type, int format) {
    values_.push_back(std::move(value));
    types_.push_back(type);
    formats_.push_back(format);
    return *this;
  }

  Connection* conn_;
  Prepared* prepared_;
  std::vector<std::optional<std::string>> values_;
  std::vector<unsigned> types_;
  std::vector<int> formats_;
  std::unique_ptr<PGresult, Clear> result_;
  int row_ = -1;
  int rows_ = 0;
};

// One libpq connection with its prepared statements. Used by one thread at a time.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& dsn, const char* application_name = "berth");

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `sql` must be a string literal (or otherwise outlive the connection): the cache keys
  // on it. Placeholders `?` and `?N` are PostgreSQL's `$N`.
  Result<Stmt> prepare(std::string_view sql);
  // Runs one or more statements without parameters (transaction control, migrations).
  Status exec(const char* sql);

  // Rows the last statement changed (INSERT, UPDATE, DELETE).
  int changes() const { return changes_; }
  // Why the current transaction failed, as the pool sees it.
  bool retryable() const { return serialization_failure_; }
  bool lost() const { return lost_ || PQstatus(conn_) != CONNECTION_OK; }
  void clearFailure() { serialization_failure_ = false; }
  // libpq's handle, for LISTEN (the socket, notifications). Not for statements.
  PGconn* raw() { return conn_; }
  bool rollback();  // false if the connection is no longer usable

 private:
  friend class Stmt;
  explicit Connection(PGconn* conn) : conn_(conn) {}
  // Maps a failed result (or a libpq failure when `res` is null) to an Error and records
  // whether the transaction may be retried.
  Error fail(const PGresult* res);
  PGresult* execPrepared(const Stmt& stmt);

  PGconn* conn_;
  std::unordered_map<const char*, std::unique_ptr<Stmt::Prepared>> cache_;  // by the SQL's address
  int changes_ = 0;
  bool serialization_failure_ = false;
  bool lost_ = false;
};

// Runs one statement that returns no rows: prepare, bind `args` in order, run.
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
// Appends `event` (if set) to the outbox in the caller's transaction. Event ids come from
// a sequence, which is not transactional: appenders take a transaction-scoped advisory
// lock first, so events commit in id order and a webhook cursor (the last id done) never
// skips an event that commits later with a smaller id.
// Appends the outbox event (if any) and, for a write made here with replication on, its
// journal row (journal = false: the caller journals the change itself); `previous`: the
// tag's version before the write.
Status appendEvent(Connection& c, const std::optional<EventRecord>& event, const Version& previous = {},
                   bool journal = true);
// Waits for the transactions appending events to finish (held until this one ends).
Status lockEvents(Connection& c);

// Schema history (pg_schema.cpp), oldest first; recorded in table schema_version.
struct Migration {
  int version;
  const char* sql;
};
std::span<const Migration> schemaMigrations();
int schemaVersion();

// The DSN without its password, for messages: secrets never reach an error or a log.
std::string redact(const std::string& dsn, std::string message);

// One database: its connection pool. Shared by every store on it.
class Database {
 public:
  // Connects, then migrates the schema under an advisory lock (another node may be
  // opening the same database at the same time). kUnavailable naming meta.dsn if the
  // server cannot be reached; kUnsupported if the schema is newer than this build.
  static Result<std::shared_ptr<Database>> open(const std::string& dsn, size_t pool_size);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // For a connection of one's own (the change feed's listener). Never logged.
  const std::string& dsn() const { return dsn_; }

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
  static constexpr int kMaxAttempts = 64;  // serialization retries
  static constexpr int kMaxReconnects = 2;

  Database(std::string dsn, size_t pool_size) : dsn_(std::move(dsn)), pool_size_(pool_size) {}

  template <class Fn>
  auto transact(bool write, Fn&& fn) -> decltype(fn(std::declval<Connection&>()));

  Result<std::unique_ptr<Connection>> acquire();
  // Returns the connection to the pool, or drops it (and every idle one) if it was lost.
  void release(std::unique_ptr<Connection> conn);
  static void backoff(int attempt);
  Error unavailable(const Error& cause) const;

  const std::string dsn_;
  const size_t pool_size_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by pool_mutex_
  size_t open_ = 0;                                // connections out or idle
};

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
auto Database::transact(bool write, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  try {
    int reconnects = 0;
    for (int attempt = 0;; ++attempt) {
      auto acquired = acquire();
      if (!acquired) return acquired.takeError();
      Lease lease(*this, std::move(*acquired));
      Connection& c = *lease;
      c.clearFailure();
      auto begun = c.exec(write ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      if (!begun) {
        if (c.lost() && reconnects++ < kMaxReconnects) continue;
        return c.lost() ? unavailable(begun.error()) : begun.takeError();
      }
      auto result = fn(c);
      if (!result.ok()) {
        const bool lost = c.lost();
        const bool retry = c.retryable();
        c.rollback();
        if (lost) {
          if (reconnects++ < kMaxReconnects) continue;
          return unavailable(result.error());
        }
        if (retry && attempt + 1 < kMaxAttempts) {
          backoff(attempt);
          continue;
        }
        return result;
      }
      if (auto committed = c.exec("COMMIT"); !committed) {
        // A lost COMMIT may or may not have committed: the caller must not assume either.
        if (c.lost()) return unavailable(committed.error());
        const bool retry = c.retryable();
        c.rollback();
        if (retry && attempt + 1 < kMaxAttempts) {
          backoff(attempt);
          continue;
        }
        return committed.takeError();
      }
      return result;
    }
  } catch (const std::exception& e) {
    return makeError(Code::kInternal, std::string("metadata store: ") + e.what());
  }
}

}  // namespace berth::meta::pg_detail
