#include "meta/postgres/pg_quota_store.h"

#include <boost/json.hpp>
#include <cstdint>
#include <optional>

#include "meta/postgres/pg_db.h"

namespace berth::meta {

using pg_detail::Connection;
using pg_detail::Stmt;

namespace {

// How a pattern matches a name (the columns prefix and exact).
struct Coverage {
  std::string prefix;
  bool exact = false;
};

bool nameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
}

// "*", "<name>/*" or a name; the full repository-name grammar is checked by the API
// (auth::validatePattern). This keeps the stored prefix meaningful on its own.
Result<Coverage> coverage(std::string_view pattern) {
  if (pattern == "*") return Coverage{"", false};
  std::string_view name = pattern;
  const bool wildcard = name.size() >= 2 && name.substr(name.size() - 2) == "/*";
  if (wildcard) name.remove_suffix(2);
  bool valid = !name.empty() && name.size() <= 255 && name.front() != '/' && name.back() != '/';
  for (char c : name) valid = valid && nameChar(c);
  if (!valid) {
    return makeError(Code::kInvalidArgument, "quota pattern must be a repository name, <namespace>/* or *");
  }
  if (wildcard) return Coverage{std::string(name) + "/", false};
  return Coverage{std::string(name), true};
}

QuotaRecord quotaAt(const Stmt& s) {
  QuotaRecord q;
  q.pattern = s.text(0);
  q.limit_bytes = s.uint64(1);
  const int64_t used = s.int64(2);
  q.used_bytes = used > 0 ? static_cast<uint64_t>(used) : 0;
  q.created_at = s.int64(3);
  q.updated_at = s.int64(4);
  return q;
}

Result<std::optional<QuotaRecord>> findQuota(Connection& c, std::string_view pattern) {
  auto stmt = c.prepare(
      "SELECT pattern, limit_bytes, used_bytes, created_at, updated_at FROM quotas WHERE pattern = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(pattern).step();
  if (!row) return row.takeError();
  if (!*row) return std::optional<QuotaRecord>();
  return std::optional<QuotaRecord>(quotaAt(*stmt));
}

// The deduplicated bytes the covered repositories hold, counted from scratch (the same
// numbers as the usage store's storage totals, restricted to those repositories).
Result<uint64_t> countUsage(Connection& c, const Coverage& cov) {
  auto stmt = c.prepare(
      "SELECT (SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(b.size) AS size FROM blob_links b"
      "  JOIN repositories r ON r.id = b.repo_id WHERE CASE ?2 WHEN 1 THEN r.name = ?1"
      "  ELSE substr(r.name, 1, length(?1)) = ?1 END GROUP BY b.digest) AS x)"
      " + (SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(m.size) AS size FROM manifests m"
      "  JOIN repositories r ON r.id = m.repo_id WHERE CASE ?2 WHEN 1 THEN r.name = ?1"
      "  ELSE substr(r.name, 1, length(?1)) = ?1 END GROUP BY m.digest) AS x)");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(std::string_view(cov.prefix)).bind(int64_t{cov.exact ? 1 : 0}).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kInternal, "quota usage query returned no row");
  return stmt->uint64(0);
}

}  // namespace

namespace pg_detail {

Status checkQuota(Connection& c, std::string_view repository, const oci::Digest& digest, uint64_t size,
                  QuotaObject object) {
  if (size == 0) return okStatus();  // needs nothing
  // The quota with the least room among those that cover the repository, would go over
  // their limit, and do not hold the digest yet.
  const bool blob = object == QuotaObject::kBlob;
  auto stmt = blob ? c.prepare(
                         "SELECT q.pattern, q.limit_bytes, q.used_bytes FROM quotas q"
                         " WHERE CASE q.exact WHEN 1 THEN ?1 = q.prefix"
                         " ELSE substr(?1, 1, length(q.prefix)) = q.prefix END"
                         " AND q.used_bytes + ?3 > q.limit_bytes"
                         " AND NOT EXISTS (SELECT 1 FROM blob_links b JOIN repositories r ON r.id = b.repo_id"
                         "  WHERE b.digest = ?2 AND CASE q.exact WHEN 1 THEN r.name = q.prefix"
                         "  ELSE substr(r.name, 1, length(q.prefix)) = q.prefix END)"
                         " ORDER BY q.limit_bytes - q.used_bytes, q.pattern LIMIT 1")
                   : c.prepare(
                         "SELECT q.pattern, q.limit_bytes, q.used_bytes FROM quotas q"
                         " WHERE CASE q.exact WHEN 1 THEN ?1 = q.prefix"
                         " ELSE substr(?1, 1, length(q.prefix)) = q.prefix END"
                         " AND q.used_bytes + ?3 > q.limit_bytes"
                         " AND NOT EXISTS (SELECT 1 FROM manifests m JOIN repositories r ON r.id = m.repo_id"
                         "  WHERE m.digest = ?2 AND CASE q.exact WHEN 1 THEN r.name = q.prefix"
                         "  ELSE substr(r.name, 1, length(q.prefix)) = q.prefix END)"
                         " ORDER BY q.limit_bytes - q.used_bytes, q.pattern LIMIT 1");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(repository).bind(digest).bindU64(size).step();
  if (!row) return row.takeError();
  if (!*row) return okStatus();
  const std::string pattern = stmt->text(0);
  const uint64_t limit = stmt->uint64(1);
  const int64_t used_raw = stmt->int64(2);
  const uint64_t used = used_raw > 0 ? static_cast<uint64_t>(used_raw) : 0;
  boost::json::object detail{{"quota", pattern},
                             {"limitBytes", limit},
                             {"usedBytes", used},
                             {"neededBytes", size},
                             {"digest", digest.str()}};
  return makeError(Code::kDenied,
                   "storage quota for " + pattern + " is " + std::to_string(limit) + " bytes; " +
                       std::to_string(used) + " are used and this " + (blob ? "blob" : "manifest") +
                       " needs " + std::to_string(size),
                   boost::json::serialize(detail));
}

Result<std::optional<QuotaRoom>> leastQuotaRoom(Connection& c, std::string_view repository,
                                                const std::optional<oci::Digest>& digest) {
  // No digest: '' matches no blob link, so every covering quota counts.
  auto stmt = c.prepare(
      "SELECT q.pattern, q.limit_bytes, q.used_bytes FROM quotas q"
      " WHERE CASE q.exact WHEN 1 THEN ?1 = q.prefix ELSE substr(?1, 1, length(q.prefix)) = q.prefix END"
      " AND NOT EXISTS (SELECT 1 FROM blob_links b JOIN repositories r ON r.id = b.repo_id"
      "  WHERE b.digest = ?2 AND CASE q.exact WHEN 1 THEN r.name = q.prefix"
      "  ELSE substr(r.name, 1, length(q.prefix)) = q.prefix END)"
      " ORDER BY q.limit_bytes - q.used_bytes, q.pattern LIMIT 1");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(repository).bind(digest ? digest->str() : std::string()).step();
  if (!row) return row.takeError();
  if (!*row) return std::optional<QuotaRoom>();
  const int64_t used = stmt->int64(2);
  return std::optional<QuotaRoom>(
      QuotaRoom{stmt->text(0), stmt->uint64(1), used > 0 ? static_cast<uint64_t>(used) : 0});
}

Result<QuotaUsage> coveringQuotaUsage(Connection& c, std::string_view repository) {
  auto stmt = c.prepare(
      "SELECT pattern, used_bytes FROM quotas WHERE CASE exact WHEN 1 THEN ?1 = prefix"
      " ELSE substr(?1, 1, length(prefix)) = prefix END");
  if (!stmt) return stmt.takeError();
  QuotaUsage out;
  auto s = stmt->bind(repository).each([&](Stmt& row) -> Status {
    out[row.text(0)] = row.int64(1);
    return okStatus();
  });
  if (!s) return s.takeError();
  return out;
}

Status checkQuotaGrowth(Connection& c, std::string_view repository, const QuotaUsage& before) {
  auto stmt = c.prepare(
      "SELECT pattern, limit_bytes, used_bytes FROM quotas WHERE CASE exact WHEN 1 THEN ?1 = prefix"
      " ELSE substr(?1, 1, length(prefix)) = prefix END AND used_bytes > limit_bytes ORDER BY pattern");
  if (!stmt) return stmt.takeError();
  return stmt->bind(repository).each([&](Stmt& row) -> Status {
    const std::string pattern = row.text(0);
    const int64_t used = row.int64(2);
    auto was = before.find(pattern);
    if (was != before.end() && used <= was->second) return okStatus();  // over already, and not growing
    const uint64_t limit = row.uint64(1);
    const uint64_t prior = was != before.end() && was->second > 0 ? static_cast<uint64_t>(was->second) : 0;
    boost::json::object detail{{"quota", pattern},
                               {"limitBytes", limit},
                               {"usedBytes", prior},
                               {"neededBytes", static_cast<uint64_t>(used) - prior}};
    return makeError(Code::kDenied,
                     "storage quota for " + pattern + " is " + std::to_string(limit) + " bytes; " +
                         std::to_string(prior) + " are used and the restore needs " +
                         std::to_string(static_cast<uint64_t>(used) - prior),
                     boost::json::serialize(detail));
  });
}

}  // namespace pg_detail

PgQuotaStore::PgQuotaStore(std::shared_ptr<pg_detail::Database> db) : db_(std::move(db)) {}
PgQuotaStore::~PgQuotaStore() = default;

Result<std::vector<QuotaRecord>> PgQuotaStore::listQuotas() {
  return db_->read([&](Connection& c) -> Result<std::vector<QuotaRecord>> {
    auto stmt = c.prepare(
        "SELECT pattern, limit_bytes, used_bytes, created_at, updated_at FROM quotas ORDER BY pattern");
    if (!stmt) return stmt.takeError();
    return stmt->collect([](Stmt& s) { return quotaAt(s); });
  });
}

Result<QuotaRecord> PgQuotaStore::getQuota(std::string_view pattern) {
  return db_->read([&](Connection& c) -> Result<QuotaRecord> {
    auto found = findQuota(c, pattern);
    if (!found) return found.takeError();
    if (!*found) return makeError(Code::kNotFound, "no quota for " + std::string(pattern));
    return std::move(**found);
  });
}

Result<QuotaRecord> PgQuotaStore::setQuota(std::string_view pattern, uint64_t limit_bytes, bool* created) {
  auto cov = coverage(pattern);
  if (!cov) return cov.takeError();
  if (limit_bytes > static_cast<uint64_t>(INT64_MAX)) {
    return makeError(Code::kInvalidArgument, "quota limit is too large");
  }
  bool is_new = false;
  auto out = db_->write([&](Connection& c) -> Result<QuotaRecord> {
    auto found = findQuota(c, pattern);
    if (!found) return found.takeError();
    const int64_t now = pg_detail::now();
    is_new = !found->has_value();
    if (!is_new) {
      auto s = pg_detail::execute(c, "UPDATE quotas SET limit_bytes = ?, updated_at = ? WHERE pattern = ?",
                                      static_cast<int64_t>(limit_bytes), now, pattern);
      if (!s) return s.takeError();
    } else {
      // Counted in this write transaction: no commit can slip in between the count and
      // the row whose triggers keep it current.
      auto used = countUsage(c, *cov);
      if (!used) return used.takeError();
      auto s = pg_detail::execute(
          c,
          "INSERT INTO quotas(pattern, prefix, exact, limit_bytes, used_bytes, created_at, updated_at)"
          " VALUES (?, ?, ?, ?, ?, ?, ?)",
          pattern, std::string_view(cov->prefix), int64_t{cov->exact ? 1 : 0},
          static_cast<int64_t>(limit_bytes), static_cast<int64_t>(*used), now, now);
      if (!s) return s.takeError();
    }
    auto row = findQuota(c, pattern);
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kInternal, "quota row missing after write");
    return std::move(**row);
  });
  if (out && created != nullptr) *created = is_new;
  return out;
}

Status PgQuotaStore::deleteQuota(std::string_view pattern) {
  return db_->write([&](Connection& c) -> Status {
    auto s = pg_detail::execute(c, "DELETE FROM quotas WHERE pattern = ?", pattern);
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kNotFound, "no quota for " + std::string(pattern));
    return okStatus();
  });
}

}  // namespace berth::meta
