#pragma once
// What EntitySync exchanges: an entity of some kind (identity, webhook, quota, ...) under
// its key, as the JSON body a peer applies, with the hash that tells a change.
#include <boost/json.hpp>

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace berth::replication {

using EntityKey = std::pair<std::string, std::string>;  // kind, key

struct Entity {
  boost::json::object body;
  std::string hash;  // of the body without the fields the stores set themselves
};

using EntityMap = std::map<EntityKey, Entity>;

// The entity of `body`, hashed without the `skip` fields (times a store sets on apply).
Entity makeEntity(boost::json::object body, std::initializer_list<std::string_view> skip);

}  // namespace berth::replication
