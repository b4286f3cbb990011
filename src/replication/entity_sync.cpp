#include "replication/entity_sync.h"

#include <boost/json.hpp>

#include <map>

#include "replication/json_fields.h"

namespace berth::replication {

namespace json = boost::json;

namespace {

json::object identityJson(const meta::IdentityRecord& i) {
  json::array creds;
  for (const auto& c : i.credentials) {
    creds.push_back(json::object{{"name", c.name}, {"hash", c.hash}, {"created_at", c.created_at},
                                 {"expires_at", c.expires_at}});
  }
  return json::object{{"id", i.id},
                      {"name", i.name},
                      {"kind", meta::kindName(i.kind)},
                      {"description", i.description},
                      {"enabled", i.enabled},
                      {"expires_at", i.expires_at},
                      {"scope_map", i.scope_map},
                      {"credentials", std::move(creds)},
                      {"credentials_version", i.credentials_version},
                      {"issuer", i.issuer},
                      {"claim", i.claim},
                      {"claim_value", i.claim_value},
                      {"created_at", i.created_at}};
}

Result<meta::IdentityRecord> identityFrom(const json::object& o) {
  meta::IdentityRecord i;
  i.id = textField(o, "id");
  i.name = textField(o, "name");
  auto kind = meta::parseKind(textField(o, "kind"));
  if (!kind || i.id.empty() || i.name.empty()) return makeError(Code::kInvalidArgument, "malformed identity");
  i.kind = *kind;
  i.description = textField(o, "description");
  i.enabled = boolField(o, "enabled");
  i.expires_at = intField(o, "expires_at");
  i.scope_map = textField(o, "scope_map");
  if (auto it = o.find("credentials"); it != o.end() && it->value().is_array()) {
    for (const auto& c : it->value().get_array()) {
      if (!c.is_object()) continue;
      const auto& co = c.get_object();
      i.credentials.push_back({textField(co, "name"), textField(co, "hash"), intField(co, "created_at"), intField(co, "expires_at")});
    }
  }
  i.credentials_version = intField(o, "credentials_version");
  i.issuer = textField(o, "issuer");
  i.claim = textField(o, "claim");
  i.claim_value = textField(o, "claim_value");
  i.created_at = i.updated_at = intField(o, "created_at");
  return i;
}

// Timestamps and the credentials version are left out of the hashes: the stores set them
// themselves when a copy is applied.
EntityMap entitiesOf(const meta::IdentitySnapshot& s) {
  EntityMap out;
  for (const auto& i : s.identities) {
    out[{"identity", i.id}] = makeEntity(identityJson(i), {"created_at", "credentials_version"});
  }
  for (const auto& r : s.roles) {
    json::object body{{"id", r.id}, {"identity", r.identity}, {"role", r.role}, {"scope", r.scope},
                      {"created_at", r.created_at}};
    out[{"role", r.id}] = makeEntity(std::move(body), {"created_at"});
  }
  for (const auto& m : s.scope_maps) {
    json::array entries;
    for (const auto& e : m.entries) {
      json::array actions;
      for (const auto& a : e.actions) actions.push_back(json::string(a));
      entries.push_back(json::object{{"repository", e.repository}, {"actions", std::move(actions)}});
    }
    json::object body{{"name", m.name}, {"description", m.description}, {"entries", std::move(entries)},
                      {"created_at", m.created_at}};
    out[{"scope_map", m.name}] = makeEntity(std::move(body), {"created_at"});
  }
  for (const auto& [k, v] : s.settings) out[{"setting", k}] = makeEntity(json::object{{"key", k}, {"value", v}}, {});
  return out;
}

// Applies order: what others refer to first (scope maps before the tokens naming them,
// identities before their roles); deletes the other way round.
int rank(std::string_view kind) {
  if (auto r = ConfigEntities::rank(kind)) return *r;
  if (kind == "setting") return 0;
  if (kind == "scope_map") return 1;
  if (kind == "identity") return 2;
  return 3;  // role
}

}  // namespace

Result<EntityMap> EntitySync::current() {
  auto snap = identities_.snapshot();
  if (!snap) return snap.takeError();
  auto out = entitiesOf(*snap);
  if (auto s = config_.collect(out); !s) return s.takeError();
  return out;
}

Status EntitySync::recordLocalChanges() {
  auto now = this->current();
  if (!now) return now.takeError();
  auto versions = store_.entityVersions();
  if (!versions) return versions.takeError();
  const auto& current = *now;
  std::map<EntityKey, const meta::EntityVersion*> known;
  for (const auto& v : *versions) known[{v.kind, v.key}] = &v;
  std::vector<meta::EntityVersion> changed;
  // The first comparison ever finds what this replica had before replication was on: it
  // gets the oldest version there is, so that what the registry holds (and every change
  // made since anywhere) wins over it; between two such, the region name decides.
  const bool first = versions->empty();
  for (const auto& [key, e] : current) {
    auto it = known.find(key);
    if (it != known.end() && !it->second->deleted && it->second->hash == e.hash) continue;
    changed.push_back({key.first, key.second, e.hash, meta::Version{first ? 1 : clock_.now(), region_}, false});
  }
  for (const auto& [key, v] : known) {
    if (!v->deleted && !current.count(key)) {
      changed.push_back({key.first, key.second, "", meta::Version{clock_.now(), region_}, true});
    }
  }
  return store_.putEntityVersions(changed);
}

Result<std::string> EntitySync::exportState() {
  std::lock_guard lock(mu_);
  if (auto s = recordLocalChanges(); !s) return s.takeError();
  auto now = this->current();
  if (!now) return now.takeError();
  auto versions = store_.entityVersions();
  if (!versions) return versions.takeError();
  const auto& current = *now;
  json::array out;
  for (const auto& v : *versions) {
    json::object o{{"kind", v.kind}, {"key", v.key}, {"hlc", v.version.hlc}, {"origin", v.version.origin},
                   {"deleted", v.deleted}};
    if (!v.deleted) {
      auto it = current.find({v.kind, v.key});
      if (it == current.end()) continue;  // deleted since: the next comparison records it
      o["body"] = it->second.body;
    }
    out.push_back(std::move(o));
  }
  return json::serialize(json::object{{"region", region_}, {"entities", std::move(out)}});
}

Result<bool> EntitySync::merge(std::string_view exported) {
  std::lock_guard lock(mu_);
  if (auto s = recordLocalChanges(); !s) return s.takeError();
  json::array remote;
  try {
    remote = json::parse(exported).at("entities").as_array();
  } catch (const std::exception& e) {
    return makeError(Code::kInvalidArgument, std::string("malformed entities: ") + e.what());
  }
  auto versions = store_.entityVersions();
  if (!versions) return versions.takeError();
  std::map<EntityKey, meta::EntityVersion> known;
  for (const auto& v : *versions) known[{v.kind, v.key}] = v;
  auto snap = identities_.snapshot();
  if (!snap) return snap.takeError();

  struct Incoming {
    meta::EntityVersion version;
    json::object body;
  };
  std::vector<Incoming> newer;
  for (const auto& v : remote) {
    if (!v.is_object()) continue;
    const auto& o = v.get_object();
    meta::EntityVersion ev{textField(o, "kind"), textField(o, "key"), "", meta::Version{intField(o, "hlc"), textField(o, "origin")},
                           boolField(o, "deleted")};
    if (ev.kind.empty() || ev.key.empty() || ev.version.hlc == 0) continue;
    auto it = known.find({ev.kind, ev.key});
    if (it != known.end() && !(ev.version > it->second.version)) continue;
    Incoming in{std::move(ev), {}};
    if (auto b = o.find("body"); b != o.end() && b->value().is_object()) in.body = b->value().get_object();
    if (!in.version.deleted && in.body.empty()) continue;
    clock_.observe(in.version.version.hlc);
    newer.push_back(std::move(in));
  }
  std::stable_sort(newer.begin(), newer.end(), [](const Incoming& a, const Incoming& b) {
    const int ra = a.version.deleted ? -rank(a.version.kind) : rank(a.version.kind);
    const int rb = b.version.deleted ? -rank(b.version.kind) : rank(b.version.kind);
    return ra < rb;
  });
  bool changed = false;
  std::vector<meta::EntityVersion> applied;
  for (auto& in : newer) {
    const auto& kind = in.version.kind;
    Status s = okStatus();
    if (auto c = config_.apply(kind, in.version.key, in.version.deleted ? nullptr : &in.body)) {
      s = *c;
      // A lock on what has not arrived yet: left for a later merge, not recorded.
      if (!s && s.code() == Code::kUnavailable) continue;
    } else if (kind == "setting") {
      s = in.version.deleted ? identities_.setSetting(in.version.key, std::nullopt)
                             : identities_.setSetting(in.version.key, textField(in.body, "value"));
    } else if (kind == "scope_map") {
      if (in.version.deleted) {
        s = identities_.deleteScopeMap(in.version.key);
      } else {
        meta::ScopeMap m;
        m.name = textField(in.body, "name");
        m.description = textField(in.body, "description");
        m.created_at = m.updated_at = intField(in.body, "created_at");
        if (auto e = in.body.find("entries"); e != in.body.end() && e->value().is_array()) {
          for (const auto& entry : e->value().get_array()) {
            if (!entry.is_object()) continue;
            meta::ScopeMapEntry se;
            se.repository = textField(entry.get_object(), "repository");
            if (auto a = entry.get_object().find("actions"); a != entry.get_object().end() && a->value().is_array()) {
              for (const auto& action : a->value().get_array()) {
                if (action.is_string()) se.actions.emplace_back(action.get_string());
              }
            }
            m.entries.push_back(std::move(se));
          }
        }
        s = identities_.putScopeMap(m);
      }
    } else if (kind == "identity") {
      const meta::IdentityRecord* local = nullptr;
      for (const auto& i : snap->identities) {
        if (i.id == in.version.key) local = &i;
      }
      if (in.version.deleted) {
        s = local != nullptr ? identities_.deleteIdentity(local->name) : okStatus();
      } else {
        auto record = identityFrom(in.body);
        if (!record) {
          s = record.takeError();
        } else {
          // One name, two identities (made in two replicas): the newer keeps it.
          const meta::IdentityRecord* clash = nullptr;
          for (const auto& i : snap->identities) {
            if (i.name == record->name && i.id != record->id) clash = &i;
          }
          if (clash != nullptr) {
            const auto theirs = known.find({"identity", clash->id});
            const meta::Version clash_version = theirs != known.end() ? theirs->second.version : meta::Version{};
            if (clash_version > in.version.version) {
              on_conflict_("identity " + record->name + ": kept the one made in " + clash_version.origin +
                           ", not the one made in " + in.version.version.origin);
              continue;
            }
            on_conflict_("identity " + record->name + ": kept the one made in " + in.version.version.origin +
                         ", not the one made in " + clash_version.origin);
            if (auto d = identities_.deleteIdentity(clash->name); !d) {
              s = d;
            } else {
              applied.push_back({"identity", clash->id, "", in.version.version, true});
            }
          }
          if (s) s = local != nullptr ? identities_.updateIdentity(*record) : identities_.createIdentity(*record);
        }
      }
    } else if (kind == "role") {
      if (in.version.deleted) {
        s = identities_.deleteRoleAssignment(in.version.key);
      } else {
        s = identities_.addRoleAssignment({textField(in.body, "id"), textField(in.body, "identity"), textField(in.body, "role"),
                                           textField(in.body, "scope"), intField(in.body, "created_at")});
        // The same grant made in both replicas: it is there either way.
        if (!s && s.code() == Code::kConflict) s = okStatus();
      }
    } else {
      continue;  // a kind this version does not know
    }
    if (!s && s.code() != Code::kNotFound) {
      on_conflict_(kind + " " + in.version.key + " from " + in.version.version.origin +
                   " could not be applied: " + s.error().message);
      continue;
    }
    changed = true;
    applied.push_back(in.version);
  }
  if (applied.empty()) return changed;
  // The hashes of what is here now, so that the applied copies are not taken for changes
  // made here.
  auto after = this->current();
  if (!after) return after.takeError();
  const auto& current = *after;
  for (auto& v : applied) {
    auto it = current.find({v.kind, v.key});
    if (v.deleted || it == current.end()) {
      v.hash.clear();
      v.deleted = true;
    } else {
      v.hash = it->second.hash;
    }
  }
  if (auto s = store_.putEntityVersions(applied); !s) return s.takeError();
  return changed;
}

}  // namespace berth::replication
