#pragma once
// IdentityStore: identities (users, service principals, repository-scoped tokens,
// federated OIDC subjects), their credentials, role assignments, scope maps and the
// registry-wide access settings (anonymous pull, network rules).
//
// The whole set is small (thousands of rows at most) and read far more often than it
// changes, so readers load it at once (snapshot()) and keep it in memory; every
// mutation bumps `generation` in the same transaction, so a reader can tell cheaply
// whether its copy is current. Every method is one atomic transaction, safe to call
// from any thread; implementations may block.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::meta {

enum class IdentityKind { kUser, kServicePrincipal, kToken, kFederated };
std::string_view kindName(IdentityKind kind);  // "user", "sp", "token", "federated"
std::optional<IdentityKind> parseKind(std::string_view name);

// A stored secret: argon2id hash string, never the secret itself.
struct Credential {
  std::string name;         // "password" (users, SPs) or "password1"/"password2" (tokens)
  std::string hash;         // "$argon2id$..."
  int64_t created_at = 0;   // unix seconds
  int64_t expires_at = 0;   // 0 = never
  bool operator==(const Credential&) const = default;
};

struct IdentityRecord {
  std::string id;    // stable opaque id (uuid), the "sub" of tokens issued to it
  std::string name;  // unique across all kinds; what clients log in with
  IdentityKind kind = IdentityKind::kUser;
  std::string description;
  bool enabled = true;
  int64_t expires_at = 0;        // 0 = never (tokens may expire)
  std::string scope_map;         // kToken: name of its scope map
  std::vector<Credential> credentials;  // at most 2
  // Bumped whenever credentials, enabled or expiry change: refresh tokens carry the
  // version they were issued under and die when it moves.
  int64_t credentials_version = 1;
  // kFederated: tokens from `issuer` whose claim `claim` ("sub", "email" or "groups")
  // equals / contains `claim_value` are this identity.
  std::string issuer;
  std::string claim;
  std::string claim_value;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool operator==(const IdentityRecord&) const = default;
};

struct RoleAssignment {
  std::string id;        // opaque (uuid)
  std::string identity;  // identity name
  std::string role;      // pull | push | delete | reader | owner
  std::string scope;     // "*" or a repository pattern ("team-a/*", "team-a/app")
  int64_t created_at = 0;
  bool operator==(const RoleAssignment&) const = default;
};

struct ScopeMapEntry {
  std::string repository;            // repository pattern
  std::vector<std::string> actions;  // content/read, content/write, content/delete,
                                     // metadata/read, metadata/write
  bool operator==(const ScopeMapEntry&) const = default;
};

struct ScopeMap {
  std::string name;
  std::string description;
  std::vector<ScopeMapEntry> entries;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool operator==(const ScopeMap&) const = default;
};

struct IdentitySnapshot {
  int64_t generation = 0;
  std::vector<IdentityRecord> identities;      // sorted by name
  std::vector<RoleAssignment> roles;           // sorted by identity, then scope, then role
  std::vector<ScopeMap> scope_maps;            // sorted by name
  std::map<std::string, std::string> settings;  // e.g. "anonymous_pull" -> "true"
};

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  virtual Result<IdentitySnapshot> snapshot() = 0;
  // The current generation (one small read: callers poll it to refresh their copy).
  virtual Result<int64_t> generation() = 0;

  // kConflict if the name is taken (by any kind); kInvalidArgument if a token names a
  // scope map that does not exist.
  virtual Status createIdentity(const IdentityRecord& identity) = 0;
  // Replaces the record with identity.id (name changes allowed, kConflict if the new name
  // is taken). kNotFound if no such id.
  virtual Status updateIdentity(const IdentityRecord& identity) = 0;
  // Deletes the identity and its role assignments. kNotFound if absent.
  virtual Status deleteIdentity(std::string_view name) = 0;

  // kNotFound if the identity does not exist; kConflict if the same (identity, role,
  // scope) exists already.
  virtual Status addRoleAssignment(const RoleAssignment& assignment) = 0;
  // kNotFound if no assignment has that id.
  virtual Status deleteRoleAssignment(std::string_view id) = 0;

  // Creates or replaces the scope map of that name (created_at kept on replace).
  virtual Status putScopeMap(const ScopeMap& scope_map) = 0;
  // kNotFound if absent; kConflict while a token uses it.
  virtual Status deleteScopeMap(std::string_view name) = 0;

  // Sets (or with nullopt removes) a registry-wide setting.
  virtual Status setSetting(std::string_view key, std::optional<std::string_view> value) = 0;
};

}  // namespace berth::meta
