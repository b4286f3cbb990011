#include "meta/postgres/pg_db.h"
#include "meta/versioned_writes.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>

namespace berth::meta::pg_detail {
namespace {

// Any key the application picks; held only while one opener migrates.
constexpr int64_t kMigrationLockKey = 0x62657274680001;  // "berth", 1
constexpr int64_t kEventLockKey = 0x62657274680002;

// `?` and `?N` (SQLite's placeholders) to `$N`, outside quoted strings and identifiers.
std::string toDollars(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char ch = sql[i];
    if (quote != 0) {
      if (ch == quote) quote = 0;
      out += ch;
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
      out += ch;
      continue;
    }
    if (ch != '?') {
      out += ch;
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
    int n = 0;
    if (j > i + 1) {
      n = std::atoi(std::string(sql.substr(i + 1, j - i - 1)).c_str());
      i = j - 1;
    } else {
      n = next + 1;
    }
    if (n > next) next = n;
    out += '$';
    out += std::to_string(n);
  }
  return out;
}

bool connectionClass(const char* state) {
  if (state == nullptr) return false;
  const std::string_view s(state);
  // 08: connection exception; 57P01-03: the server is shutting down or starting.
  return s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

Status migrate(Connection& c) {
  // The lock is per transaction: a second node opening at the same time waits here, then
  // finds the schema current. READ COMMITTED (the default) so it sees that commit.
  if (auto s = c.exec("BEGIN"); !s) return s;
  if (auto s = execute(c, "SELECT pg_advisory_xact_lock(?)", kMigrationLockKey); !s) return s;
  if (auto s = c.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"); !s) return s;
  auto stmt = c.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  if (!stmt) return stmt.takeError();
  auto row = stmt->step();
  if (!row) return row.takeError();
  const auto version = static_cast<int>(stmt->int64(0));
  if (version > schemaVersion()) {
    return makeError(Code::kUnsupported, "metadata schema version " + std::to_string(version) +
                                             " is newer than this build supports (" +
                                             std::to_string(schemaVersion()) + ")");
  }
  for (const Migration& m : schemaMigrations()) {
    if (m.version <= version) continue;
    if (auto s = c.exec(m.sql); !s) return s;
    if (auto s = execute(c, "DELETE FROM schema_version"); !s) return s;
    if (auto s = execute(c, "INSERT INTO schema_version(version) VALUES (?)", int64_t{m.version}); !s) return s;
  }
  return c.exec("COMMIT");
}

}  // namespace

int64_t now() { return static_cast<int64_t>(std::time(nullptr)); }

int schemaVersion() { return schemaMigrations().back().version; }

std::string redact(const std::string& dsn, std::string message) {
  auto scrub = [&](const std::string& secret) {
    if (secret.empty()) return;
    for (size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at)) {
      message.replace(at, secret.size(), "***");
      at += 3;
    }
  };
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (o->val != nullptr && std::string_view(o->keyword) == "password") scrub(o->val);
    }
    PQconninfoFree(opts);
  }
  if (err != nullptr) PQfreemem(err);
  scrub(dsn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
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

Status lockEvents(Connection& c) { return execute(c, "SELECT pg_advisory_xact_lock(?)", kEventLockKey); }

Status appendEvent(Connection& c, const std::optional<EventRecord>& event, const Version& previous, bool journal) {
  if (!event) return okStatus();
  if (auto s = lockEvents(c); !s) return s;
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

// --- Stmt ---

Result<bool> Stmt::step() {
  if (!result_) {
    PGresult* res = conn_->execPrepared(*this);
    result_.reset(res);
    const auto status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return conn_->fail(res);
    rows_ = PQntuples(res);
    const char* n = PQcmdTuples(res);
    conn_->changes_ = (n != nullptr && *n != '\0') ? std::atoi(n) : 0;
  }
  if (row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  return true;
}

int64_t Stmt::int64(int col) const {
  const char* v = PQgetvalue(result_.get(), row_, col);
  if (v == nullptr || *v == '\0') return 0;
  if (*v == 't') return 1;
  if (*v == 'f') return 0;
  return std::strtoll(v, nullptr, 10);
}

std::string Stmt::text(int col) const {
  return std::string(PQgetvalue(result_.get(), row_, col),
                     static_cast<size_t>(PQgetlength(result_.get(), row_, col)));
}

std::string Stmt::blob(int col) const {
  size_t n = 0;
  unsigned char* bytes =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row_, col)), &n);
  if (bytes == nullptr) return std::string();
  std::string out(reinterpret_cast<const char*>(bytes), n);
  PQfreemem(bytes);
  return out;
}

// --- Connection ---

Result<std::unique_ptr<Connection>> Connection::open(const std::string& dsn, const char* application_name) {
  // Defaults first: with expand_dbname the DSN's own settings override them.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", application_name, dsn.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr) return makeError(Code::kUnavailable, "database unavailable: out of memory");
  std::unique_ptr<Connection> out(new Connection(conn));  // finishes conn even on failure
  if (PQstatus(conn) != CONNECTION_OK) {
    return makeError(Code::kUnavailable, "database unavailable: " + redact(dsn, PQerrorMessage(conn)));
  }
  // Server notices (NOTICE: relation exists, ...) stay out of stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return out;
}

Connection::~Connection() { PQfinish(conn_); }

Result<Stmt> Connection::prepare(std::string_view sql) {
  auto it = cache_.find(sql.data());
  if (it == cache_.end()) {
    auto p = std::make_unique<Stmt::Prepared>();
    p->name = std::to_string(cache_.size());
    p->name.insert(0, 1, 's');  // not "s" + ...: GCC 12 warns (-Wrestrict, a false positive)
    p->text = toDollars(sql);
    it = cache_.emplace(sql.data(), std::move(p)).first;
  }
  return Stmt(*this, it->second.get());
}

PGresult* Connection::execPrepared(const Stmt& stmt) {
  const size_t n = stmt.values_.size();
  Stmt::Prepared& p = *stmt.prepared_;
  if (!p.prepared) {
    std::vector<Oid> types(stmt.types_.begin(), stmt.types_.end());
    PGresult* res = PQprepare(conn_, p.name.c_str(), p.text.c_str(), static_cast<int>(n), types.data());
    if (res == nullptr || PQresultStatus(res) != PGRES_COMMAND_OK) return res;
    PQclear(res);
    p.prepared = true;
  }
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  for (size_t i = 0; i < n; ++i) {
    values[i] = stmt.values_[i] ? stmt.values_[i]->c_str() : nullptr;
    lengths[i] = stmt.values_[i] ? static_cast<int>(stmt.values_[i]->size()) : 0;
  }
  return PQexecPrepared(conn_, p.name.c_str(), static_cast<int>(n), values.data(), lengths.data(),
                        stmt.formats_.data(), 0);
}

Status Connection::exec(const char* sql) {
  PGresult* res = PQexec(conn_, sql);
  std::unique_ptr<PGresult, void (*)(PGresult*)> guard(res, PQclear);
  const auto status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return fail(res);
  return okStatus();
}

bool Connection::rollback() {
  if (lost()) return false;
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return true;
  PGresult* res = PQexec(conn_, "ROLLBACK");
  const bool ok = res != nullptr && PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  return ok && !lost();
}

Error Connection::fail(const PGresult* res) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = res != nullptr ? PQresultErrorMessage(res) : "";
  if (msg.empty()) msg = PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const std::string_view s = state != nullptr ? state : "";
  // Every error the server reports has a SQLSTATE; one without is libpq's own (the
  // connection broke: "server closed the connection unexpectedly"), even while PQstatus
  // still says OK.
  if (state == nullptr || connectionClass(state) || PQstatus(conn_) != CONNECTION_OK) {
    lost_ = true;
    return makeError(Code::kUnavailable, "database unavailable: " + msg);
  }
  if (s == "40001" || s == "40P01") {
    serialization_failure_ = true;
    return makeError(Code::kUnavailable, "database busy: " + msg);
  }
  if (s == "53100") return makeError(Code::kStorageFull, "metadata storage is full");
  if (s.starts_with("53") || s == "55P03" || s == "57014") {
    return makeError(Code::kUnavailable, "database busy: " + msg);
  }
  if (s.starts_with("23")) return makeError(Code::kConflict, "postgres: " + msg);
  return makeError(Code::kIoError, "postgres: " + msg);
}

// --- Database ---

Database::~Database() = default;

Result<std::shared_ptr<Database>> Database::open(const std::string& dsn, size_t pool_size) {
  try {
    std::shared_ptr<Database> db(new Database(dsn, pool_size == 0 ? 1 : pool_size));
    auto conn = Connection::open(dsn);
    if (!conn) {
      return makeError(Code::kUnavailable, "meta.dsn: cannot connect to the metadata database: " +
                                               conn.error().message);
    }
    if (auto s = migrate(**conn); !s) {
      (*conn)->rollback();
      return makeError(s.code(), "meta.dsn: cannot prepare the metadata database: " + s.error().message);
    }
    db->open_ = 1;
    db->release(std::move(*conn));
    return db;
  } catch (const std::exception& e) {
    return makeError(Code::kInternal, std::string("metadata store open failed: ") + e.what());
  }
}

Result<std::unique_ptr<Connection>> Database::acquire() {
  {
    std::unique_lock lock(pool_mutex_);
    pool_cv_.wait(lock, [&] { return !idle_.empty() || open_ < pool_size_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  auto conn = Connection::open(dsn_);
  if (!conn) {
    {
      std::lock_guard lock(pool_mutex_);
      --open_;
    }
    pool_cv_.notify_one();
    return conn.takeError();
  }
  return conn;
}

void Database::release(std::unique_ptr<Connection> conn) {
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    std::lock_guard lock(pool_mutex_);
    if (conn && conn->rollback()) {
      idle_.push_back(std::move(conn));
    } else {
      // Lost: the server most likely restarted, so the idle ones are stale too.
      dropped.swap(idle_);
      open_ -= 1 + dropped.size();
      if (conn) dropped.push_back(std::move(conn));
    }
  }
  pool_cv_.notify_all();
  // Closed outside the lock.
}

void Database::backoff(int attempt) {
  thread_local std::minstd_rand rng(std::random_device{}());
  const int cap = 1 << (attempt < 6 ? attempt : 6);  // up to 64 ms
  std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % (cap * 1000)));
}

Error Database::unavailable(const Error& cause) const {
  if (cause.code == Code::kUnavailable) return cause;
  return makeError(Code::kUnavailable, "database unavailable: " + cause.message);
}

}  // namespace berth::meta::pg_detail
