#include "meta/postgres/pg_audit_store.h"

#include <mutex>
#include <unordered_set>

#include "meta/postgres/pg_db.h"

namespace berth::meta {

using pg_detail::Connection;
using pg_detail::Stmt;

namespace {

// The SQL of a listing with the given filters. Connection::prepare caches statements by
// their text, which must outlive the connection: the (at most 2^7) variants are kept here
// for the life of the process. Built per filter set so each uses its column's index.
std::string_view listSql(const AuditQuery& q) {
  std::string sql =
      "SELECT id, time_us, identity, identity_kind, client, action, repository, tag, digest,"
      " method, status, result, message, count FROM audit WHERE TRUE";
  if (!q.identity.empty()) sql += " AND identity = ?";
  if (!q.repository.empty()) sql += " AND repository = ?";
  if (!q.action.empty()) sql += " AND action = ?";
  if (!q.result.empty()) sql += " AND result = ?";
  if (q.since_us != 0) sql += " AND time_us >= ?";
  if (q.until_us != 0) sql += " AND time_us < ?";
  if (q.before_id != 0) sql += " AND (time_us, id) < (SELECT time_us, id FROM audit WHERE id = ?)";
  sql += " ORDER BY time_us DESC, id DESC LIMIT ?";
  static std::mutex mu;
  static std::unordered_set<std::string> interned;  // nodes: stable addresses
  std::lock_guard<std::mutex> lock(mu);
  return *interned.insert(std::move(sql)).first;
}

AuditRecord auditRow(const Stmt& s) {
  AuditRecord r;
  r.id = s.int64(0);
  r.time_us = s.int64(1);
  r.identity = s.text(2);
  r.identity_kind = s.text(3);
  r.client = s.text(4);
  r.action = s.text(5);
  r.repository = s.text(6);
  r.tag = s.text(7);
  r.digest = s.text(8);
  r.method = s.text(9);
  r.status = s.int64(10);
  r.result = s.text(11);
  r.message = s.text(12);
  r.count = s.int64(13);
  return r;
}

}  // namespace

PgAuditStore::PgAuditStore(std::shared_ptr<pg_detail::Database> db) : db_(std::move(db)) {}
PgAuditStore::~PgAuditStore() = default;

Status PgAuditStore::append(std::vector<AuditRecord>& records) {
  if (records.empty()) return okStatus();
  std::vector<int64_t> ids;
  ids.reserve(records.size());
  auto s = db_->write([&](Connection& c) -> Status {
    ids.clear();
    for (const auto& r : records) {
      auto stmt = c.prepare(
          "INSERT INTO audit(time_us, identity, identity_kind, client, action, repository, tag,"
          " digest, method, status, result, message, count)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
          " RETURNING id");
      if (!stmt) return stmt.takeError();
      stmt->bind(r.time_us)
          .bind(r.identity)
          .bind(r.identity_kind)
          .bind(r.client)
          .bind(r.action)
          .bind(r.repository)
          .bind(r.tag)
          .bind(r.digest)
          .bind(r.method)
          .bind(r.status)
          .bind(r.result)
          .bind(r.message)
          .bind(r.count);
      auto row = stmt->step();
      if (!row) return row.takeError();
      ids.push_back(stmt->int64(0));
      if (auto done = stmt->run(); !done) return done;
    }
    return okStatus();
  });
  if (!s) return s;
  for (size_t i = 0; i < records.size(); ++i) records[i].id = ids[i];
  return okStatus();
}

Result<std::vector<AuditRecord>> PgAuditStore::list(const AuditQuery& q) {
  const std::string_view sql = listSql(q);
  return db_->read([&](Connection& c) -> Result<std::vector<AuditRecord>> {
    auto stmt = c.prepare(sql);
    if (!stmt) return stmt.takeError();
    if (!q.identity.empty()) stmt->bind(q.identity);
    if (!q.repository.empty()) stmt->bind(q.repository);
    if (!q.action.empty()) stmt->bind(q.action);
    if (!q.result.empty()) stmt->bind(q.result);
    if (q.since_us != 0) stmt->bind(q.since_us);
    if (q.until_us != 0) stmt->bind(q.until_us);
    if (q.before_id != 0) stmt->bind(q.before_id);
    stmt->bindLimit(q.limit);
    return stmt->collect(auditRow);
  });
}

Result<uint64_t> PgAuditStore::prune(int64_t before_us) {
  return db_->write([&](Connection& c) -> Result<uint64_t> {
    if (auto s = pg_detail::execute(c, "DELETE FROM audit WHERE time_us < ?", before_us); !s) {
      return s.takeError();
    }
    return static_cast<uint64_t>(c.changes());
  });
}

}  // namespace berth::meta
