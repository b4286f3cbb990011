#pragma once
// The registry's configuration beyond identities, as replicated entities (EntitySync):
// webhooks, retention policies, storage quotas and the locks (attributes set to false on
// repositories, tags and manifests). Each is read whole from its store and applied through
// the same store calls the admin API uses, so the stores' rules hold for copies too.
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "meta/meta_store.h"
#include "replication/entity.h"

namespace berth::meta {
class PropertiesStore;
class QuotaStore;
class RetentionStore;
class WebhookStore;
}  // namespace berth::meta

namespace berth::replication {

class ConfigEntities {
 public:
  explicit ConfigEntities(meta::MetaStore& meta);
  ~ConfigEntities();

  // Adds every entity of these kinds, as it is here now.
  Status collect(EntityMap& out);
  // Applies a peer's entity (`body` null: deleted there). nullopt when `kind` is not one
  // of these. kUnavailable: the item a lock is on has not arrived here yet (its push is
  // still on the way; the merge tries again next time).
  std::optional<Status> apply(const std::string& kind, const std::string& key, const boost::json::object* body);
  // Where in a merge a kind goes (EntitySync's order), nullopt when not one of these.
  static std::optional<int> rank(std::string_view kind);

 private:
  std::unique_ptr<meta::WebhookStore> webhooks_;
  std::unique_ptr<meta::RetentionStore> retention_;
  std::unique_ptr<meta::QuotaStore> quotas_;
  std::unique_ptr<meta::PropertiesStore> properties_;
};

}  // namespace berth::replication
