#pragma once
// Authorization as Azure Container Registry has it: built-in roles and scope maps grant
// permissions on repository patterns; the token server intersects what a client asks
// for (scope.h) with what the identity's grants allow.
//
//   role    permissions                    scope-map action  permission
//   pull    pull                           content/read      pull
//   push    pull, push                     content/write     push
//   delete  delete                         content/delete    delete
//   reader  metadata_read                  metadata/read     metadata_read
//   owner   everything, including admin    metadata/write    metadata_write
//
// ACR's soft-delete actions are not granted by a role or a scope map of their own: they
// follow from the permissions above on the same repository (withDeletedPermissions):
//
//   deleted_read     metadata_read, or both push and delete (who may restore may look)
//   deleted_restore  both push and delete (as /api/v1/recycle-bin's restore)
//
// Patterns: an exact repository name ("team-a/app"), a namespace wildcard ("team-a/*":
// every repository below team-a/, at any depth, but not team-a itself nor team-ab/x), or
// "*" (every repository). No other use of '*' is valid.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/scope.h"
#include "common/result.h"

namespace berth::auth {

enum Permission : uint8_t {
  kPermPull = 1 << 0,
  kPermPush = 1 << 1,
  kPermDelete = 1 << 2,
  kPermMetadataRead = 1 << 3,
  kPermMetadataWrite = 1 << 4,
  kPermAdmin = 1 << 5,  // registry management (identities, scope maps); no token action
  // Derived (withDeletedPermissions), never stored in a grant.
  kPermDeletedRead = 1 << 6,     // token action deleted_read
  kPermDeletedRestore = 1 << 7,  // token action deleted_restore
};
using Permissions = uint8_t;
inline constexpr Permissions kPermAllActions =
    kPermPull | kPermPush | kPermDelete | kPermMetadataRead | kPermMetadataWrite;

struct Grant {
  std::string pattern;
  Permissions permissions = 0;
  bool operator==(const Grant&) const = default;
};
using Grants = std::vector<Grant>;

// kInvalidArgument for an unknown role / action (names are case-sensitive).
Result<Permissions> rolePermissions(std::string_view role);
Result<Permissions> scopeMapPermissions(const std::vector<std::string>& actions);

// kInvalidArgument unless `pattern` is "*", "<repository name>/*" or a repository name.
Status validatePattern(std::string_view pattern);
// A grant with a validated pattern.
Result<Grant> makeGrant(std::string_view pattern, Permissions permissions);

// True iff the (valid) pattern covers the repository. Invalid repository names never
// match, so a path trick ("team-a/../b") cannot reach another namespace.
bool patternMatches(std::string_view pattern, std::string_view repository);

// Union of the permissions of every grant whose pattern matches (without the derived
// deleted_* permissions).
Permissions effectivePermissions(const Grants& grants, std::string_view repository);

// `p` plus the soft-delete permissions it implies on the same repository.
Permissions withDeletedPermissions(Permissions p);

// The subset of `requested` token actions (pull, push, delete, metadata_read,
// metadata_write, deleted_read, deleted_restore, *) that the grants allow on `repository`,
// in request order without duplicates. "*" is kept when every action is granted (the
// deleted_* ones follow from them); otherwise it stands for the granted actions among the
// first five: deleted_* are given only when asked for by name. Unknown actions are never
// granted.
std::vector<std::string> allowedActions(const Grants& grants, std::string_view repository,
                                        const std::vector<std::string>& requested);

// The access claim for a token request: each requested scope with its actions reduced
// to allowedActions; "registry:catalog" is granted ("*") when any grant includes pull or
// metadata_read (the listing shows only what the grants cover), and
// "registry:deleted_catalog" when the grants can give deleted_read somewhere (its listing
// shows only repositories where they do); other resource types get nothing. Scopes left
// with no action are dropped.
std::vector<ResourceScope> authorize(const Grants& grants,
                                     const std::vector<ResourceScope>& requested);

// True iff a "*" grant includes admin.
bool isRegistryAdmin(const Grants& grants);

}  // namespace berth::auth
