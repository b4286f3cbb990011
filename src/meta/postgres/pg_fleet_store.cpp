#include "meta/postgres/pg_fleet_store.h"

#include "meta/postgres/pg_db.h"

namespace berth::meta {

using pg_detail::Connection;

Result<std::string> PgFleetStore::sharedValue(std::string_view name, const std::function<std::string()>& make) {
  auto stored = [&](Connection& c) -> Result<std::optional<std::string>> {
    auto stmt = c.prepare("SELECT value FROM shared_values WHERE name = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(name).step();
    if (!row) return row.takeError();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(stmt->text(0));
  };
  auto found = db_->read(stored);
  if (!found) return found.takeError();
  if (*found) return std::move(**found);
  const std::string made = make();  // outside the transaction: may be slow (key generation)
  return db_->write([&](Connection& c) -> Result<std::string> {
    auto stmt = c.prepare("INSERT INTO shared_values (name, value, created_at) VALUES (?, ?, ?)"
                          " ON CONFLICT (name) DO NOTHING");
    if (!stmt) return stmt.takeError();
    if (auto s = stmt->bind(name).bind(made).bind(pg_detail::now()).run(); !s) return s.takeError();
    auto winner = stored(c);
    if (!winner) return winner.takeError();
    if (!*winner) return makeError(Code::kInternal, "shared value " + std::string(name) + " vanished");
    return std::move(**winner);
  });
}

Result<bool> PgFleetStore::acquireLease(std::string_view name, std::string_view holder, std::chrono::seconds ttl,
                                            int64_t now) {
  return db_->write([&](Connection& c) -> Result<bool> {
    auto stmt = c.prepare(
        "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
        " WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4");
    if (!stmt) return stmt.takeError();
    if (auto s = stmt->bind(name).bind(holder).bind(now + ttl.count()).bind(now).run(); !s) return s.takeError();
    return c.changes() > 0;
  });
}

Status PgFleetStore::releaseLease(std::string_view name, std::string_view holder) {
  return db_->write([&](Connection& c) -> Status {
    auto stmt = c.prepare("DELETE FROM leases WHERE name = ? AND holder = ?");
    if (!stmt) return stmt.takeError();
    return stmt->bind(name).bind(holder).run();
  });
}

}  // namespace berth::meta
