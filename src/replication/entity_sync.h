#pragma once
// EntitySync: replication of the registry's configuration entities (docs/replication.md):
// identities (with their credential hashes), role assignments, scope maps and settings
// (anonymous pull, network rules), and ConfigEntities' webhooks, retention policies,
// quotas and locks. They are few and change rarely, so replicas exchange them whole;
// what makes the exchange converge is a version per entity:
//  - A change made here is found by comparing each entity's content hash with the one
//    recorded with its version (replicated_entities); a changed or new entity gets a new
//    version (a clock reading and this region), a vanished one a deleted version. The
//    comparison runs before every export and merge, so a change is never missed, crash or
//    not: the recorded hashes are durable, the entities are.
//  - A peer's entity is applied when its version is newer than ours, and recorded with
//    the hash of what was applied, so it is not taken for a change made here.
//  - Two identities of one name made in two replicas: the newer stays, the older is
//    removed (recorded as a conflict).
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"
#include "meta/identity_store.h"
#include "meta/replication_store.h"
#include "replication/clock.h"
#include "replication/config_entities.h"
#include "replication/entity.h"

namespace berth::replication {

class EntitySync {
 public:
  // `on_conflict(message)`: an entity lost to a newer one of another replica.
  EntitySync(meta::MetaStore& meta, meta::IdentityStore& identities, meta::ReplicationStore& store, HybridClock& clock,
             std::string region, std::function<void(const std::string&)> on_conflict)
      : identities_(identities),
        config_(meta),
        store_(store),
        clock_(clock),
        region_(std::move(region)),
        on_conflict_(std::move(on_conflict)) {}

  // Every entity with its version, as JSON (what a peer merges).
  Result<std::string> exportState();
  // Applies the entities of a peer's export that are newer here. True when something
  // changed (the caller reloads the identity view).
  Result<bool> merge(std::string_view exported);

 private:
  Status recordLocalChanges();
  // Every entity as it is here now.
  Result<EntityMap> current();

  meta::IdentityStore& identities_;
  ConfigEntities config_;
  meta::ReplicationStore& store_;
  HybridClock& clock_;
  std::string region_;
  std::function<void(const std::string&)> on_conflict_;
  std::mutex mu_;  // one comparison or merge at a time
};

}  // namespace berth::replication
