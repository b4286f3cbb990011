#include "meta/sqlite/sqlite_meta_store.h"

#include <sqlite3.h>

#include <cerrno>
#include <ctime>
#include <exception>
#include <limits>
#include <optional>
#include <unordered_map>

namespace berth::meta {
namespace sqlite_detail {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kMaxIdleConnections = 16;

// Schema history. Append a migration to change the schema; never edit a released one.
//
// Manifests are stored per repository: each row holds the bytes exactly as pushed plus
// the fields derived from them. Duplicating a few KiB when one image is in several
// repositories buys one-row deletes (tags, references and the subject go with it by
// cascade) and no global manifest rows to garbage-collect. References are per repository
// anyway: that is what push validation and garbage collection ask about.
// Repository rows exist exactly while the repository has a manifest or a blob link
// (pruned when the last one goes), so listing repositories is a plain index range scan.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE repositories (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE blob_links (
  repo_id    INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX blob_links_by_digest ON blob_links(digest);
CREATE TABLE manifests (
  id            INTEGER PRIMARY KEY,
  repo_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest        TEXT NOT NULL,
  media_type    TEXT NOT NULL,
  artifact_type TEXT NOT NULL,
  bytes         BLOB NOT NULL,
  size          INTEGER NOT NULL,
  annotations   TEXT NOT NULL,
  subject       TEXT,
  created_at    INTEGER NOT NULL,
  UNIQUE (repo_id, digest)
);
CREATE INDEX manifests_by_subject ON manifests(repo_id, subject, digest)
  WHERE subject IS NOT NULL;
CREATE TABLE tags (
  repo_id    INTEGER NOT NULL,
  name       TEXT NOT NULL,
  digest     TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, name),
  FOREIGN KEY (repo_id, digest) REFERENCES manifests(repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX tags_by_manifest ON tags(repo_id, digest);
CREATE TABLE manifest_blob_refs (
  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  digest      TEXT NOT NULL,
  PRIMARY KEY (manifest_id, digest)
) WITHOUT ROWID;
CREATE INDEX manifest_blob_refs_by_digest ON manifest_blob_refs(digest);
CREATE TABLE manifest_child_refs (
  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  digest      TEXT NOT NULL,
  PRIMARY KEY (manifest_id, digest)
) WITHOUT ROWID;
CREATE INDEX manifest_child_refs_by_digest ON manifest_child_refs(digest);
CREATE TABLE uploads (
  id            TEXT PRIMARY KEY,
  repository    TEXT NOT NULL,
  upload_offset INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX uploads_by_updated ON uploads(updated_at);
CREATE INDEX uploads_by_repository ON uploads(repository);
)sql";

struct Migration {
  int version;  // user_version after applying `sql`
  const char* sql;
};
constexpr Migration kMigrations[] = {{1, kSchemaV1}};
constexpr int kSchemaVersion = 1;

bool outOfSpace(int err) { return err == ENOSPC || err == EDQUOT; }

// `os_errno` is errno right after the failing call (cleared before it). SQLite reports a
// failed write as SQLITE_FULL only for ENOSPC from write(); ENOSPC from fallocate, the
// shared-memory file or fsync arrives as SQLITE_IOERR_*, and sqlite3_system_errno() is
// not set on the commit path, hence errno too.
Error sqliteError(sqlite3* db, int rc, int os_errno = 0) {
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

}  // namespace

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
  static Result<std::unique_ptr<Connection>> open(const std::string& path) {
    sqlite3* db = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<Connection> conn(new Connection(db));  // closes db even on failure
    if (rc != SQLITE_OK) return sqliteError(db, rc);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    if (auto s = conn->exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"); !s) {
      return s.takeError();
    }
    return conn;
  }

  ~Connection() {
    for (auto& entry : cache_) sqlite3_finalize(entry.second);
    sqlite3_close_v2(db_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `sql` must be a string literal: the cache keys on it.
  Result<Stmt> prepare(std::string_view sql) {
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

  // Runs one or more statements, uncached.
  Status exec(const char* sql) {
    errno = 0;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return sqliteError(db_, rc, errno);
    return okStatus();
  }

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

namespace {

// Runs one statement that returns no rows: prepare, bind `args` in order, step.
template <class... Args>
Status execute(Connection& c, std::string_view sql, const Args&... args) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  (stmt->bind(args), ...);
  return stmt->run();
}

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

Result<int64_t> ensureRepository(Connection& c, std::string_view name) {
  auto found = findRepository(c, name);
  if (!found) return found.takeError();
  if (*found) return **found;
  auto stmt = c.prepare("INSERT INTO repositories(name) VALUES (?) RETURNING id");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(name).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kInternal, "repository insert returned no id");
  return stmt->int64(0);
}

// Deletes the repository row once it has neither manifests nor blob links.
Status pruneRepository(Connection& c, int64_t repo) {
  return execute(c,
                 "DELETE FROM repositories WHERE id = ?1"
                 " AND NOT EXISTS (SELECT 1 FROM blob_links WHERE repo_id = ?1)"
                 " AND NOT EXISTS (SELECT 1 FROM manifests WHERE repo_id = ?1)",
                 repo);
}

Status insertBlobLink(Connection& c, int64_t repo, const oci::Digest& digest, uint64_t size) {
  auto stmt = c.prepare(
      "INSERT INTO blob_links(repo_id, digest, size, created_at) VALUES (?, ?, ?, ?)"
      " ON CONFLICT(repo_id, digest) DO NOTHING");
  if (!stmt) return stmt.takeError();
  return stmt->bind(repo).bind(digest).bindU64(size).bind(now()).run();
}

Result<bool> exists(Connection& c, std::string_view sql, int64_t repo, const oci::Digest& digest) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  return stmt->bind(repo).bind(digest).step();
}

Error manifestBlobUnknown(const oci::Digest& digest, bool is_manifest) {
  return makeError(Code::kManifestBlobUnknown,
                   is_manifest ? "manifest references a manifest unknown to the repository"
                               : "manifest references a blob unknown to the repository",
                   "{\"digest\":\"" + digest.str() + "\"}");
}

Result<std::vector<std::string>> names(Stmt& stmt) {
  std::vector<std::string> out;
  for (;;) {
    auto row = stmt.step();
    if (!row) return row.takeError();
    if (!*row) return out;
    out.push_back(stmt.text(0));
  }
}

Status migrate(Connection& c) {
  if (auto s = c.exec("BEGIN IMMEDIATE"); !s) return s;
  auto stmt = c.prepare("PRAGMA user_version");
  if (!stmt) return stmt.takeError();
  auto row = stmt->step();
  if (!row) return row.takeError();
  const auto version = static_cast<int>(stmt->int64(0));
  if (auto done = stmt->run(); !done) return done;
  if (version > kSchemaVersion) {
    return makeError(Code::kUnsupported, "metadata schema version " + std::to_string(version) +
                                             " is newer than this build supports (" +
                                             std::to_string(kSchemaVersion) + ")");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    if (auto s = c.exec(m.sql); !s) return s;
    const std::string set = "PRAGMA user_version = " + std::to_string(m.version);
    if (auto s = c.exec(set.c_str()); !s) return s;
  }
  return c.exec("COMMIT");
}

}  // namespace
}  // namespace sqlite_detail

using sqlite_detail::Connection;
using sqlite_detail::Stmt;

// Returns the connection to the pool when the method is done with it.
class SqliteMetaStore::Lease {
 public:
  Lease(SqliteMetaStore& store, std::unique_ptr<Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  ~Lease() { store_.release(std::move(conn_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Connection& operator*() { return *conn_; }

 private:
  SqliteMetaStore& store_;
  std::unique_ptr<Connection> conn_;
};

SqliteMetaStore::SqliteMetaStore(std::string db_path) : db_path_(std::move(db_path)) {}
SqliteMetaStore::~SqliteMetaStore() = default;

int SqliteMetaStore::schemaVersion() { return sqlite_detail::kSchemaVersion; }

Result<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::open(const std::string& db_path) {
  try {
    std::unique_ptr<SqliteMetaStore> store(new SqliteMetaStore(db_path));
    auto conn = Connection::open(db_path);
    if (!conn) return conn.takeError();
    {
      // journal_mode is stored in the file; it cannot change inside a transaction.
      auto mode = (*conn)->prepare("PRAGMA journal_mode = WAL");
      if (!mode) return mode.takeError();
      auto row = mode->step();
      if (!row) return row.takeError();
      if (!*row || mode->text(0) != "wal") {
        return makeError(Code::kIoError, "sqlite: cannot enable WAL mode on " + db_path);
      }
    }
    if (auto s = sqlite_detail::migrate(**conn); !s) {
      (*conn)->rollback();
      return s.takeError();
    }
    store->release(std::move(*conn));
    return store;
  } catch (const std::exception& e) {
    return makeError(Code::kInternal, std::string("metadata store open failed: ") + e.what());
  }
}

Result<std::unique_ptr<Connection>> SqliteMetaStore::acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  return Connection::open(db_path_);
}

void SqliteMetaStore::release(std::unique_ptr<Connection> conn) {
  if (!conn || !conn->rollback()) return;  // a connection that cannot roll back is dropped
  std::unique_lock lock(pool_mutex_);
  if (idle_.size() < sqlite_detail::kMaxIdleConnections) {
    idle_.push_back(std::move(conn));
    return;
  }
  lock.unlock();  // close the surplus connection outside the lock
}

template <class Fn>
auto SqliteMetaStore::transact(bool immediate, Fn&& fn)
    -> decltype(fn(std::declval<Connection&>())) {
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

template <class Fn>
auto SqliteMetaStore::write(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  return transact(true, std::forward<Fn>(fn));
}

template <class Fn>
auto SqliteMetaStore::read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
  return transact(false, std::forward<Fn>(fn));
}

// --- blobs linked to repositories ---

Status SqliteMetaStore::linkBlob(std::string_view repository, const oci::Digest& digest,
                                 uint64_t size) {
  return write([&](Connection& c) -> Status {
    auto repo = sqlite_detail::ensureRepository(c, repository);
    if (!repo) return repo.takeError();
    return sqlite_detail::insertBlobLink(c, *repo, digest, size);
  });
}

Result<uint64_t> SqliteMetaStore::repositoryBlob(std::string_view repository,
                                                 const oci::Digest& digest) {
  return read([&](Connection& c) -> Result<uint64_t> {
    auto stmt = c.prepare(
        "SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id"
        " WHERE r.name = ? AND b.digest = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUnknown, "blob unknown to repository");
    return stmt->uint64(0);
  });
}

Result<uint64_t> SqliteMetaStore::anyBlob(const oci::Digest& digest) {
  return read([&](Connection& c) -> Result<uint64_t> {
    auto stmt = c.prepare("SELECT size FROM blob_links WHERE digest = ? LIMIT 1");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUnknown, "blob unknown to registry");
    return stmt->uint64(0);
  });
}

Status SqliteMetaStore::unlinkBlob(std::string_view repository, const oci::Digest& digest) {
  return write([&](Connection& c) -> Status {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    if (!*repo) return makeError(Code::kBlobUnknown, "blob unknown to repository");
    auto s = sqlite_detail::execute(c, "DELETE FROM blob_links WHERE repo_id = ? AND digest = ?",
                                    **repo, digest);
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kBlobUnknown, "blob unknown to repository");
    return sqlite_detail::pruneRepository(c, **repo);
  });
}

// --- upload sessions ---

Status SqliteMetaStore::createUpload(const UploadRecord& upload) {
  return write([&](Connection& c) -> Status {
    auto stmt = c.prepare(
        "INSERT INTO uploads(id, repository, upload_offset, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING");
    if (!stmt) return stmt.takeError();
    auto s = stmt->bind(upload.id)
                 .bind(upload.repository)
                 .bindU64(upload.offset)
                 .bind(upload.created_at)
                 .bind(upload.updated_at)
                 .run();
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kConflict, "upload id already exists");
    return okStatus();
  });
}

Result<UploadRecord> SqliteMetaStore::getUpload(std::string_view id) {
  return read([&](Connection& c) -> Result<UploadRecord> {
    auto stmt = c.prepare(
        "SELECT repository, upload_offset, created_at, updated_at FROM uploads WHERE id = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(id).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUploadUnknown, "blob upload unknown to registry");
    UploadRecord rec;
    rec.id = std::string(id);
    rec.repository = stmt->text(0);
    rec.offset = stmt->uint64(1);
    rec.created_at = stmt->int64(2);
    rec.updated_at = stmt->int64(3);
    return rec;
  });
}

Status SqliteMetaStore::updateUpload(std::string_view id, uint64_t offset, int64_t now) {
  return write([&](Connection& c) -> Status {
    auto stmt = c.prepare("UPDATE uploads SET upload_offset = ?, updated_at = ? WHERE id = ?");
    if (!stmt) return stmt.takeError();
    if (auto s = stmt->bindU64(offset).bind(now).bind(id).run(); !s) return s;
    if (c.changes() == 0) {
      return makeError(Code::kBlobUploadUnknown, "blob upload unknown to registry");
    }
    return okStatus();
  });
}

Status SqliteMetaStore::deleteUpload(std::string_view id) {
  return write([&](Connection& c) -> Status {
    return sqlite_detail::execute(c, "DELETE FROM uploads WHERE id = ?", id);
  });
}

Result<uint64_t> SqliteMetaStore::countUploads(std::string_view repository) {
  return read([&](Connection& c) -> Result<uint64_t> {
    auto stmt = c.prepare("SELECT COUNT(*) FROM uploads WHERE repository = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).step();
    if (!row) return row.takeError();
    return *row ? stmt->uint64(0) : 0;
  });
}

Status SqliteMetaStore::completeUpload(std::string_view id, const oci::Digest& digest,
                                       uint64_t size) {
  return write([&](Connection& c) -> Status {
    auto stmt = c.prepare("SELECT repository FROM uploads WHERE id = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(id).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUploadUnknown, "blob upload unknown to registry");
    const std::string repository = stmt->text(0);
    auto repo = sqlite_detail::ensureRepository(c, repository);
    if (!repo) return repo.takeError();
    if (auto s = sqlite_detail::insertBlobLink(c, *repo, digest, size); !s) return s;
    return sqlite_detail::execute(c, "DELETE FROM uploads WHERE id = ?", id);
  });
}

// --- manifests and tags ---

Status SqliteMetaStore::putManifest(const PutManifestRequest& req) {
  if (req.repository.empty() || req.manifest.digest.empty()) {
    return makeError(Code::kInvalidArgument, "putManifest needs a repository and a digest");
  }
  return write([&](Connection& c) -> Status {
    auto found = sqlite_detail::findRepository(c, req.repository);
    if (!found) return found.takeError();
    // Every reference must already be in the repository; nothing is written otherwise.
    for (const oci::Digest& blob : req.blobs) {
      bool linked = false;
      if (*found) {
        auto r = sqlite_detail::exists(
            c, "SELECT 1 FROM blob_links WHERE repo_id = ? AND digest = ?", **found, blob);
        if (!r) return r.takeError();
        linked = *r;
      }
      if (!linked) return sqlite_detail::manifestBlobUnknown(blob, false);
    }
    for (const oci::Digest& child : req.manifests) {
      bool present = false;
      if (*found) {
        auto r = sqlite_detail::exists(
            c, "SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?", **found, child);
        if (!r) return r.takeError();
        present = *r;
      }
      if (!present) return sqlite_detail::manifestBlobUnknown(child, true);
    }

    auto repo = sqlite_detail::ensureRepository(c, req.repository);
    if (!repo) return repo.takeError();
    const ManifestRecord& m = req.manifest;
    {
      // Idempotent on digest: the first row (and its created_at) stays; only a missing
      // subject is filled in.
      auto stmt = c.prepare(
          "INSERT INTO manifests(repo_id, digest, media_type, artifact_type, bytes, size,"
          " annotations, subject, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
          " ON CONFLICT(repo_id, digest) DO UPDATE SET subject = excluded.subject"
          " WHERE manifests.subject IS NULL AND excluded.subject IS NOT NULL");
      if (!stmt) return stmt.takeError();
      stmt->bind(*repo)
          .bind(m.digest)
          .bind(m.media_type)
          .bind(m.artifact_type)
          .bindBlob(m.bytes)
          .bindU64(m.bytes.size())
          .bind(req.annotations_json);
      if (req.subject) {
        stmt->bind(*req.subject);
      } else {
        stmt->bindNull();
      }
      if (auto s = stmt->bind(m.created_at != 0 ? m.created_at : sqlite_detail::now()).run(); !s) {
        return s;
      }
    }
    auto id_stmt = c.prepare("SELECT id FROM manifests WHERE repo_id = ? AND digest = ?");
    if (!id_stmt) return id_stmt.takeError();
    auto row = id_stmt->bind(*repo).bind(m.digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kInternal, "manifest row missing after insert");
    const int64_t manifest_id = id_stmt->int64(0);

    for (const oci::Digest& blob : req.blobs) {
      auto s = sqlite_detail::execute(c,
                                      "INSERT INTO manifest_blob_refs(manifest_id, digest)"
                                      " VALUES (?, ?) ON CONFLICT DO NOTHING",
                                      manifest_id, blob);
      if (!s) return s;
    }
    for (const oci::Digest& child : req.manifests) {
      auto s = sqlite_detail::execute(c,
                                      "INSERT INTO manifest_child_refs(manifest_id, digest)"
                                      " VALUES (?, ?) ON CONFLICT DO NOTHING",
                                      manifest_id, child);
      if (!s) return s;
    }
    if (req.tag) {
      return sqlite_detail::execute(
          c,
          "INSERT INTO tags(repo_id, name, digest, updated_at) VALUES (?, ?, ?, ?)"
          " ON CONFLICT(repo_id, name) DO UPDATE SET digest = excluded.digest,"
          " updated_at = excluded.updated_at WHERE tags.digest != excluded.digest",
          *repo, std::string_view(*req.tag), m.digest, sqlite_detail::now());
    }
    return okStatus();
  });
}

Result<ManifestRecord> SqliteMetaStore::getManifest(std::string_view repository,
                                                    const oci::Digest& digest) {
  return read([&](Connection& c) -> Result<ManifestRecord> {
    auto stmt = c.prepare(
        "SELECT m.media_type, m.artifact_type, m.bytes, m.created_at"
        " FROM manifests m JOIN repositories r ON r.id = m.repo_id"
        " WHERE r.name = ? AND m.digest = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    ManifestRecord rec;
    rec.digest = digest;
    rec.media_type = stmt->text(0);
    rec.artifact_type = stmt->text(1);
    rec.bytes = stmt->blob(2);
    rec.created_at = stmt->int64(3);
    return rec;
  });
}

Result<oci::Digest> SqliteMetaStore::resolveTag(std::string_view repository, std::string_view tag) {
  return read([&](Connection& c) -> Result<oci::Digest> {
    auto stmt = c.prepare(
        "SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id"
        " WHERE r.name = ? AND t.name = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(tag).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kManifestUnknown, "tag unknown to repository");
    return sqlite_detail::storedDigest(stmt->text(0));
  });
}

Status SqliteMetaStore::deleteManifest(std::string_view repository, const oci::Digest& digest) {
  return write([&](Connection& c) -> Status {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    if (!*repo) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    // Tags, references and the subject relation go with the row (ON DELETE CASCADE).
    auto s = sqlite_detail::execute(c, "DELETE FROM manifests WHERE repo_id = ? AND digest = ?",
                                    **repo, digest);
    if (!s) return s;
    if (c.changes() == 0) {
      return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    }
    return sqlite_detail::pruneRepository(c, **repo);
  });
}

Status SqliteMetaStore::deleteTag(std::string_view repository, std::string_view tag) {
  return write([&](Connection& c) -> Status {
    auto s = sqlite_detail::execute(
        c,
        "DELETE FROM tags WHERE repo_id = (SELECT id FROM repositories WHERE name = ?)"
        " AND name = ?",
        repository, tag);
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kManifestUnknown, "tag unknown to repository");
    return okStatus();
  });
}

Result<std::vector<std::string>> SqliteMetaStore::listTags(std::string_view repository,
                                                           std::string_view last, size_t n) {
  return read([&](Connection& c) -> Result<std::vector<std::string>> {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    if (!*repo) return makeError(Code::kNameUnknown, "repository name not known to registry");
    auto stmt =
        c.prepare("SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(**repo).bind(last).bindLimit(n);
    return sqlite_detail::names(*stmt);
  });
}

Result<std::vector<std::string>> SqliteMetaStore::listRepositories(std::string_view last,
                                                                   size_t n) {
  return read([&](Connection& c) -> Result<std::vector<std::string>> {
    auto stmt = c.prepare("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(last).bindLimit(n);
    return sqlite_detail::names(*stmt);
  });
}

Result<bool> SqliteMetaStore::repositoryExists(std::string_view repository) {
  return read([&](Connection& c) -> Result<bool> {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    return repo->has_value();
  });
}

Result<std::vector<ReferrerRecord>> SqliteMetaStore::referrers(std::string_view repository,
                                                               const oci::Digest& subject,
                                                               std::string_view artifact_type) {
  return read([&](Connection& c) -> Result<std::vector<ReferrerRecord>> {
    auto stmt = c.prepare(
        "SELECT digest, media_type, artifact_type, size, annotations FROM manifests"
        " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1) AND subject = ?2"
        " AND (?3 = '' OR artifact_type = ?3) ORDER BY digest");
    if (!stmt) return stmt.takeError();
    stmt->bind(repository).bind(subject).bind(artifact_type);
    std::vector<ReferrerRecord> out;
    for (;;) {
      auto row = stmt->step();
      if (!row) return row.takeError();
      if (!*row) return out;
      auto digest = sqlite_detail::storedDigest(stmt->text(0));
      if (!digest) return digest.takeError();
      ReferrerRecord rec;
      rec.digest = std::move(*digest);
      rec.media_type = stmt->text(1);
      rec.artifact_type = stmt->text(2);
      rec.size = stmt->uint64(3);
      rec.annotations_json = stmt->text(4);
      out.push_back(std::move(rec));
    }
  });
}

}  // namespace berth::meta
