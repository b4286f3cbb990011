#include "meta/postgres/pg_identity_store.h"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "meta/postgres/pg_db.h"

namespace berth::meta {
namespace pg_detail {
namespace {

constexpr size_t kMaxCredentials = 2;
constexpr char kActionSeparator = ',';

Error invalid(std::string message) { return makeError(Code::kInvalidArgument, std::move(message)); }

// Every identity transaction ends with this, so the generation moves with each commit.
Status bumpGeneration(Connection& c) {
  return execute(c, "UPDATE identity_generation SET value = value + 1 WHERE id = 1");
}

Result<bool> exists(Connection& c, std::string_view sql, std::string_view key) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  return stmt->bind(key).step();
}

Status validateIdentity(const IdentityRecord& r) {
  if (r.id.empty() || r.name.empty()) return invalid("an identity needs an id and a name");
  if (kindName(r.kind).empty()) return invalid("unknown identity kind");
  if (r.kind == IdentityKind::kToken && r.scope_map.empty()) {
    return invalid("a token needs a scope map");
  }
  if (r.kind != IdentityKind::kToken && !r.scope_map.empty()) {
    return invalid("only tokens have a scope map");
  }
  if (r.credentials.size() > kMaxCredentials)
    return invalid("an identity has at most 2 credentials");
  std::set<std::string_view> names;
  for (const Credential& cred : r.credentials) {
    if (cred.name.empty()) return invalid("a credential needs a name");
    if (!names.insert(cred.name).second) return invalid("duplicate credential " + cred.name);
  }
  return okStatus();
}

// kInvalidArgument unless the record's scope map (if any) exists.
Status checkScopeMapExists(Connection& c, const IdentityRecord& r) {
  if (r.scope_map.empty()) return okStatus();
  auto found = exists(c, "SELECT 1 FROM scope_maps WHERE name = ?", r.scope_map);
  if (!found) return found.takeError();
  if (!*found) return invalid("scope map " + r.scope_map + " does not exist");
  return okStatus();
}

std::vector<Credential> sortedCredentials(std::vector<Credential> creds) {
  std::sort(creds.begin(), creds.end(),
            [](const Credential& a, const Credential& b) { return a.name < b.name; });
  return creds;
}

Result<std::vector<Credential>> loadCredentials(Connection& c, std::string_view identity_id) {
  auto stmt = c.prepare(
      "SELECT name, hash, created_at, expires_at FROM credentials WHERE identity_id = ?"
      " ORDER BY name");
  if (!stmt) return stmt.takeError();
  stmt->bind(identity_id);
  std::vector<Credential> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.takeError();
    if (!*row) return out;
    out.push_back({stmt->text(0), stmt->text(1), stmt->int64(2), stmt->int64(3)});
  }
}

Status replaceCredentials(Connection& c, std::string_view identity_id,
                          const std::vector<Credential>& creds) {
  if (auto s = execute(c, "DELETE FROM credentials WHERE identity_id = ?", identity_id); !s) {
    return s;
  }
  for (const Credential& cred : creds) {
    auto stmt = c.prepare(
        "INSERT INTO credentials(identity_id, name, hash, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)");
    if (!stmt) return stmt.takeError();
    auto s = stmt->bind(identity_id)
                 .bind(cred.name)
                 .bind(cred.hash)
                 .bind(cred.created_at != 0 ? cred.created_at : now())
                 .bind(cred.expires_at)
                 .run();
    if (!s) return s;
  }
  return okStatus();
}

// Binds a token's scope map, or NULL for the other kinds.
void bindScopeMap(Stmt& stmt, const IdentityRecord& r) {
  if (r.scope_map.empty()) {
    stmt.bindNull();
  } else {
    stmt.bind(r.scope_map);
  }
}

std::string joinActions(const std::vector<std::string>& actions) {
  std::string out;
  for (const std::string& action : actions) {
    if (!out.empty()) out += kActionSeparator;
    out += action;
  }
  return out;
}

std::vector<std::string> splitActions(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t end = text.find(kActionSeparator);
    out.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

Status validateScopeMap(const ScopeMap& m) {
  if (m.name.empty()) return invalid("a scope map needs a name");
  for (const ScopeMapEntry& entry : m.entries) {
    if (entry.repository.empty()) return invalid("a scope map entry needs a repository");
    for (const std::string& action : entry.actions) {
      if (action.empty() || action.find(kActionSeparator) != std::string::npos) {
        return invalid("invalid scope map action '" + action + "'");
      }
    }
  }
  return okStatus();
}

// --- snapshot parts, each read inside the snapshot's one transaction ---

Result<std::vector<IdentityRecord>> loadIdentities(Connection& c) {
  std::vector<IdentityRecord> out;
  std::unordered_map<std::string, size_t> by_id;
  {
    auto stmt = c.prepare(
        "SELECT id, name, kind, description, enabled, expires_at, scope_map,"
        " credentials_version, issuer, claim, claim_value, created_at, updated_at"
        " FROM identities ORDER BY name");
    if (!stmt) return stmt.takeError();
    for (;;) {
      auto row = stmt->step();
      if (!row) return row.takeError();
      if (!*row) break;
      IdentityRecord r;
      r.id = stmt->text(0);
      r.name = stmt->text(1);
      const auto kind = parseKind(stmt->text(2));
      if (!kind) return makeError(Code::kCorrupt, "identity " + r.name + " has an unknown kind");
      r.kind = *kind;
      r.description = stmt->text(3);
      r.enabled = stmt->int64(4) != 0;
      r.expires_at = stmt->int64(5);
      r.scope_map = stmt->text(6);  // NULL reads as ""
      r.credentials_version = stmt->int64(7);
      r.issuer = stmt->text(8);
      r.claim = stmt->text(9);
      r.claim_value = stmt->text(10);
      r.created_at = stmt->int64(11);
      r.updated_at = stmt->int64(12);
      by_id.emplace(r.id, out.size());
      out.push_back(std::move(r));
    }
  }
  auto stmt = c.prepare(
      "SELECT identity_id, name, hash, created_at, expires_at FROM credentials"
      " ORDER BY identity_id, name");
  if (!stmt) return stmt.takeError();
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.takeError();
    if (!*row) return out;
    auto it = by_id.find(stmt->text(0));
    if (it == by_id.end()) return makeError(Code::kCorrupt, "credential of an unknown identity");
    out[it->second].credentials.push_back(
        {stmt->text(1), stmt->text(2), stmt->int64(3), stmt->int64(4)});
  }
}

Result<std::vector<RoleAssignment>> loadRoles(Connection& c) {
  auto stmt = c.prepare(
      "SELECT r.id, i.name, r.role, r.scope, r.created_at"
      " FROM role_assignments r JOIN identities i ON i.id = r.identity_id"
      " ORDER BY i.name, r.scope, r.role");
  if (!stmt) return stmt.takeError();
  std::vector<RoleAssignment> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.takeError();
    if (!*row) return out;
    out.push_back({stmt->text(0), stmt->text(1), stmt->text(2), stmt->text(3), stmt->int64(4)});
  }
}

Result<std::vector<ScopeMap>> loadScopeMaps(Connection& c) {
  std::vector<ScopeMap> out;
  {
    auto stmt =
        c.prepare("SELECT name, description, created_at, updated_at FROM scope_maps ORDER BY name");
    if (!stmt) return stmt.takeError();
    for (;;) {
      auto row = stmt->step();
      if (!row) return row.takeError();
      if (!*row) break;
      ScopeMap m;
      m.name = stmt->text(0);
      m.description = stmt->text(1);
      m.created_at = stmt->int64(2);
      m.updated_at = stmt->int64(3);
      out.push_back(std::move(m));
    }
  }
  // Both lists are ordered by scope map name: merge them in one pass.
  auto stmt = c.prepare(
      "SELECT scope_map, repository, actions FROM scope_map_entries"
      " ORDER BY scope_map, position");
  if (!stmt) return stmt.takeError();
  size_t i = 0;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.takeError();
    if (!*row) return out;
    const std::string owner = stmt->text(0);
    while (i < out.size() && out[i].name < owner) ++i;
    if (i == out.size() || out[i].name != owner) {
      return makeError(Code::kCorrupt, "scope map entry of an unknown scope map");
    }
    out[i].entries.push_back({stmt->text(1), splitActions(stmt->text(2))});
  }
}

Result<std::map<std::string, std::string>> loadSettings(Connection& c) {
  auto stmt = c.prepare("SELECT key, value FROM settings");
  if (!stmt) return stmt.takeError();
  std::map<std::string, std::string> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.takeError();
    if (!*row) return out;
    out.emplace(stmt->text(0), stmt->text(1));
  }
}

Result<int64_t> loadGeneration(Connection& c) {
  auto stmt = c.prepare("SELECT value FROM identity_generation WHERE id = 1");
  if (!stmt) return stmt.takeError();
  auto row = stmt->step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kCorrupt, "identity generation row is missing");
  return stmt->int64(0);
}

}  // namespace
}  // namespace pg_detail

using pg_detail::Connection;

PgIdentityStore::PgIdentityStore(std::shared_ptr<pg_detail::Database> db)
    : db_(std::move(db)) {}
PgIdentityStore::~PgIdentityStore() = default;

Result<IdentitySnapshot> PgIdentityStore::snapshot() {
  return db_->read([&](Connection& c) -> Result<IdentitySnapshot> {
    IdentitySnapshot snap;
    auto generation = pg_detail::loadGeneration(c);
    if (!generation) return generation.takeError();
    snap.generation = *generation;
    auto identities = pg_detail::loadIdentities(c);
    if (!identities) return identities.takeError();
    snap.identities = std::move(*identities);
    auto roles = pg_detail::loadRoles(c);
    if (!roles) return roles.takeError();
    snap.roles = std::move(*roles);
    auto scope_maps = pg_detail::loadScopeMaps(c);
    if (!scope_maps) return scope_maps.takeError();
    snap.scope_maps = std::move(*scope_maps);
    auto settings = pg_detail::loadSettings(c);
    if (!settings) return settings.takeError();
    snap.settings = std::move(*settings);
    return snap;
  });
}

Result<int64_t> PgIdentityStore::generation() {
  return db_->read([](Connection& c) { return pg_detail::loadGeneration(c); });
}

// --- identities ---

Status PgIdentityStore::createIdentity(const IdentityRecord& identity) {
  if (auto s = pg_detail::validateIdentity(identity); !s) return s;
  return db_->write([&](Connection& c) -> Status {
    auto name_taken =
        pg_detail::exists(c, "SELECT 1 FROM identities WHERE name = ?", identity.name);
    if (!name_taken) return name_taken.takeError();
    if (*name_taken) return makeError(Code::kConflict, "identity " + identity.name + " exists");
    auto id_taken = pg_detail::exists(c, "SELECT 1 FROM identities WHERE id = ?", identity.id);
    if (!id_taken) return id_taken.takeError();
    if (*id_taken) return makeError(Code::kConflict, "identity id " + identity.id + " exists");
    if (auto s = pg_detail::checkScopeMapExists(c, identity); !s) return s;

    const int64_t created = identity.created_at != 0 ? identity.created_at : pg_detail::now();
    auto stmt = c.prepare(
        "INSERT INTO identities(id, name, kind, description, enabled, expires_at, scope_map,"
        " credentials_version, issuer, claim, claim_value, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.takeError();
    stmt->bind(identity.id)
        .bind(identity.name)
        .bind(kindName(identity.kind))
        .bind(identity.description)
        .bind(int64_t{identity.enabled ? 1 : 0})
        .bind(identity.expires_at);
    pg_detail::bindScopeMap(*stmt, identity);
    auto s = stmt->bind(identity.credentials_version)
                 .bind(identity.issuer)
                 .bind(identity.claim)
                 .bind(identity.claim_value)
                 .bind(created)
                 .bind(identity.updated_at != 0 ? identity.updated_at : created)
                 .run();
    if (!s) return s;
    if (auto s = pg_detail::replaceCredentials(c, identity.id, identity.credentials); !s) {
      return s;
    }
    return pg_detail::bumpGeneration(c);
  });
}

Status PgIdentityStore::updateIdentity(const IdentityRecord& identity) {
  if (auto s = pg_detail::validateIdentity(identity); !s) return s;
  return db_->write([&](Connection& c) -> Status {
    bool enabled = false;
    int64_t expires_at = 0;
    int64_t version = 0;
    {
      auto stmt =
          c.prepare("SELECT enabled, expires_at, credentials_version FROM identities WHERE id = ?");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(identity.id).step();
      if (!row) return row.takeError();
      if (!*row) return makeError(Code::kNotFound, "identity id " + identity.id + " not found");
      enabled = stmt->int64(0) != 0;
      expires_at = stmt->int64(1);
      version = stmt->int64(2);
    }
    {
      auto other = c.prepare("SELECT 1 FROM identities WHERE name = ? AND id != ?");
      if (!other) return other.takeError();
      auto taken = other->bind(identity.name).bind(identity.id).step();
      if (!taken) return taken.takeError();
      if (*taken) return makeError(Code::kConflict, "identity " + identity.name + " exists");
    }
    if (auto s = pg_detail::checkScopeMapExists(c, identity); !s) return s;

    auto stored = pg_detail::loadCredentials(c, identity.id);
    if (!stored) return stored.takeError();
    const bool moved = *stored != pg_detail::sortedCredentials(identity.credentials) ||
                       enabled != identity.enabled || expires_at != identity.expires_at;
    version = std::max(identity.credentials_version, version + (moved ? 1 : 0));

    auto stmt = c.prepare(
        "UPDATE identities SET name = ?, kind = ?, description = ?, enabled = ?,"
        " expires_at = ?, scope_map = ?, credentials_version = ?, issuer = ?, claim = ?,"
        " claim_value = ?, updated_at = ? WHERE id = ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(identity.name)
        .bind(kindName(identity.kind))
        .bind(identity.description)
        .bind(int64_t{identity.enabled ? 1 : 0})
        .bind(identity.expires_at);
    pg_detail::bindScopeMap(*stmt, identity);
    auto s = stmt->bind(version)
                 .bind(identity.issuer)
                 .bind(identity.claim)
                 .bind(identity.claim_value)
                 .bind(identity.updated_at != 0 ? identity.updated_at : pg_detail::now())
                 .bind(identity.id)
                 .run();
    if (!s) return s;
    if (auto s = pg_detail::replaceCredentials(c, identity.id, identity.credentials); !s) {
      return s;
    }
    return pg_detail::bumpGeneration(c);
  });
}

Status PgIdentityStore::deleteIdentity(std::string_view name) {
  return db_->write([&](Connection& c) -> Status {
    // Credentials and role assignments go with the row (ON DELETE CASCADE).
    if (auto s = pg_detail::execute(c, "DELETE FROM identities WHERE name = ?", name); !s) {
      return s;
    }
    if (c.changes() == 0) {
      return makeError(Code::kNotFound, "identity " + std::string(name) + " not found");
    }
    return pg_detail::bumpGeneration(c);
  });
}

// --- role assignments ---

Status PgIdentityStore::addRoleAssignment(const RoleAssignment& assignment) {
  if (assignment.id.empty() || assignment.role.empty() || assignment.scope.empty()) {
    return pg_detail::invalid("a role assignment needs an id, a role and a scope");
  }
  return db_->write([&](Connection& c) -> Status {
    std::string identity_id;
    {
      auto stmt = c.prepare("SELECT id FROM identities WHERE name = ?");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(assignment.identity).step();
      if (!row) return row.takeError();
      if (!*row)
        return makeError(Code::kNotFound, "identity " + assignment.identity + " not found");
      identity_id = stmt->text(0);
    }
    auto stmt = c.prepare(
        "SELECT 1 FROM role_assignments WHERE id = ? OR"
        " (identity_id = ? AND role = ? AND scope = ?)");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(assignment.id)
                   .bind(identity_id)
                   .bind(assignment.role)
                   .bind(assignment.scope)
                   .step();
    if (!row) return row.takeError();
    if (*row) return makeError(Code::kConflict, "role assignment exists");
    auto s = pg_detail::execute(
        c,
        "INSERT INTO role_assignments(id, identity_id, role, scope, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        assignment.id, identity_id, assignment.role, assignment.scope,
        assignment.created_at != 0 ? assignment.created_at : pg_detail::now());
    if (!s) return s;
    return pg_detail::bumpGeneration(c);
  });
}

Status PgIdentityStore::deleteRoleAssignment(std::string_view id) {
  return db_->write([&](Connection& c) -> Status {
    if (auto s = pg_detail::execute(c, "DELETE FROM role_assignments WHERE id = ?", id); !s) {
      return s;
    }
    if (c.changes() == 0) return makeError(Code::kNotFound, "role assignment not found");
    return pg_detail::bumpGeneration(c);
  });
}

// --- scope maps ---

Status PgIdentityStore::putScopeMap(const ScopeMap& scope_map) {
  if (auto s = pg_detail::validateScopeMap(scope_map); !s) return s;
  return db_->write([&](Connection& c) -> Status {
    const int64_t now = pg_detail::now();
    const int64_t created = scope_map.created_at != 0 ? scope_map.created_at : now;
    // An upsert, not a delete and insert: tokens reference the row.
    auto s = pg_detail::execute(
        c,
        "INSERT INTO scope_maps(name, description, created_at, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(name) DO UPDATE SET description = excluded.description,"
        " updated_at = excluded.updated_at",
        scope_map.name, scope_map.description, created,
        scope_map.updated_at != 0 ? scope_map.updated_at : now);
    if (!s) return s;
    s = pg_detail::execute(c, "DELETE FROM scope_map_entries WHERE scope_map = ?",
                               scope_map.name);
    if (!s) return s;
    int64_t position = 0;
    for (const ScopeMapEntry& entry : scope_map.entries) {
      s = pg_detail::execute(
          c,
          "INSERT INTO scope_map_entries(scope_map, position, repository, actions)"
          " VALUES (?, ?, ?, ?)",
          scope_map.name, position++, entry.repository, pg_detail::joinActions(entry.actions));
      if (!s) return s;
    }
    return pg_detail::bumpGeneration(c);
  });
}

Status PgIdentityStore::deleteScopeMap(std::string_view name) {
  return db_->write([&](Connection& c) -> Status {
    auto used =
        pg_detail::exists(c, "SELECT 1 FROM identities WHERE scope_map = ? LIMIT 1", name);
    if (!used) return used.takeError();
    if (*used) {
      return makeError(Code::kConflict, "scope map " + std::string(name) + " is used by a token");
    }
    // Its entries go with the row (ON DELETE CASCADE).
    if (auto s = pg_detail::execute(c, "DELETE FROM scope_maps WHERE name = ?", name); !s) {
      return s;
    }
    if (c.changes() == 0) {
      return makeError(Code::kNotFound, "scope map " + std::string(name) + " not found");
    }
    return pg_detail::bumpGeneration(c);
  });
}

// --- settings ---

Status PgIdentityStore::setSetting(std::string_view key,
                                       std::optional<std::string_view> value) {
  if (key.empty()) return pg_detail::invalid("a setting needs a key");
  return db_->write([&](Connection& c) -> Status {
    auto s = value
                 ? pg_detail::execute(c,
                                          "INSERT INTO settings(key, value) VALUES (?, ?)"
                                          " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                          key, *value)
                 : pg_detail::execute(c, "DELETE FROM settings WHERE key = ?", key);
    if (!s) return s;
    return pg_detail::bumpGeneration(c);
  });
}

}  // namespace berth::meta
