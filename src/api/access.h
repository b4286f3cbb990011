#pragma once
// What each registry route requires of its caller. No HTTP library types, so it is unit
// tested on its own.
#include <string>
#include <string_view>

#include "api/router.h"
#include "auth/policy.h"

namespace berth::api {

struct Requirement {
  enum class Kind {
    kNone,           // open: health probes
    kAuthenticated,  // any identity (GET /v2/)
    kCatalog,        // an identity; the listing is filtered by its grants
    kRepository,     // `any_of` permissions on the route's repository
    kMetrics,        // credentials with the owner or reader role on "*" (metadata_read there)
    kOwner,          // an identity with the owner role on "*" (the admin API)
    kIdentity,       // an identity; the handler checks its roles (usage, recycle bin)
    kDeletedCatalog,  // an identity; the listing is filtered by its deleted_read grants
    kReplica,         // a peer replica, by its signature (replication/peer_auth.h); never a user
  };
  Kind kind = Kind::kNone;
  auth::Permissions any_of = 0;
  std::string_view actions;  // token actions to ask for in a challenge ("pull,push")
};

// What `kind` requires for `method` (the HTTP method name, "GET", "HEAD", ...), from its
// row in the route table. Unknown methods need what a write needs (the route refuses them
// with 405 afterwards).
Requirement requirementFor(RouteKind kind, std::string_view method);

// The scope a challenge names for `req` on `repository`: "repository:<name>:<actions>",
// "registry:catalog:*", "registry:deleted_catalog:*", or "" for other requirements. Built only when a challenge is sent.
std::string challengeScope(const Requirement& req, std::string_view repository);

// The value of a WWW-Authenticate Bearer challenge. `scope` and `error` are left out
// when empty. Values are quoted; they never hold '"' (scopes and realms are validated).
std::string bearerChallenge(std::string_view realm, std::string_view service,
                            std::string_view scope, std::string_view error);

}  // namespace berth::api
