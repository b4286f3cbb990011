#pragma once
// PgIdentityStore: the IdentityStore on the same PostgreSQL database as the PgMetaStore
// (identity tables). Get one with PgMetaStore::identityStore(); it shares that
// store's Database (connection pool) and keeps it alive on its own.
//
// Beyond the interface's contract:
// - A token must name an existing scope map, and only tokens may name one
//   (kInvalidArgument otherwise). Ids, names, credential names, role assignment ids,
//   roles, scopes, scope map names and setting keys must be non-empty, credential names
//   distinct, scope map actions non-empty without ',' (kInvalidArgument).
// - Records come back with credentials sorted by name and scope map entries in the
//   order given. A zero created_at/updated_at is stored as the current time.
// - updateIdentity keeps the stored created_at, and stores
//   credentials_version = max(given, stored + 1 if credentials, enabled or expires_at
//   changed, else stored), so the version moves even if the caller forgot to bump it.
// - Every successful mutation bumps the generation, even one that changes nothing
//   (removing an absent setting); readers then merely reload once more.
#include <memory>
#include <optional>
#include <string_view>

#include "meta/identity_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}  // namespace pg_detail

class PgIdentityStore : public IdentityStore {
 public:
  // `db` is open and migrated (see PgMetaStore::identityStore()).
  explicit PgIdentityStore(std::shared_ptr<pg_detail::Database> db);
  ~PgIdentityStore() override;
  PgIdentityStore(const PgIdentityStore&) = delete;
  PgIdentityStore& operator=(const PgIdentityStore&) = delete;

  Result<IdentitySnapshot> snapshot() override;
  Result<int64_t> generation() override;

  Status createIdentity(const IdentityRecord& identity) override;
  Status updateIdentity(const IdentityRecord& identity) override;
  Status deleteIdentity(std::string_view name) override;

  Status addRoleAssignment(const RoleAssignment& assignment) override;
  Status deleteRoleAssignment(std::string_view id) override;

  Status putScopeMap(const ScopeMap& scope_map) override;
  Status deleteScopeMap(std::string_view name) override;

  Status setSetting(std::string_view key, std::optional<std::string_view> value) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
