#include "replication/config_entities.h"

#include "meta/properties_store.h"
#include "meta/quota_store.h"
#include "meta/retention_store.h"
#include "meta/webhook_store.h"
#include "replication/json_fields.h"
#include "storage/http/crypto.h"

namespace berth::replication {

namespace json = boost::json;

Entity makeEntity(json::object body, std::initializer_list<std::string_view> skip) {
  json::object hashed = body;
  for (auto k : skip) hashed.erase(k);
  return Entity{std::move(body), storage::http::sha256Hex(json::serialize(hashed))};
}

namespace {

json::value optionalInt(const auto& v) { return v ? json::value(static_cast<int64_t>(*v)) : json::value(nullptr); }

template <class T>
std::optional<T> optionalField(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !(it->value().is_int64() || it->value().is_uint64())) return std::nullopt;
  return static_cast<T>(intField(o, key));
}

json::array stringArray(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& i : items) out.push_back(json::string(i));
  return out;
}

std::vector<std::string> stringsField(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (auto it = o.find(key); it != o.end() && it->value().is_array()) {
    for (const auto& v : it->value().get_array()) {
      if (v.is_string()) out.emplace_back(v.get_string());
    }
  }
  return out;
}

// A lock's key: the repository, "repo:tag" or "repo@digest" (a repository name has
// neither ':' nor '@').
std::string lockKey(const meta::LockedItem& item) {
  if (!item.tag.empty()) return item.repository + ":" + item.tag;
  if (item.digest) return item.repository + "@" + item.digest->str();
  return item.repository;
}

struct LockTarget {
  std::string repository;
  std::string tag;
  std::optional<oci::Digest> digest;
};

Result<LockTarget> parseLockKey(const std::string& key) {
  LockTarget t;
  if (auto at = key.find('@'); at != std::string::npos) {
    auto d = oci::Digest::parse(key.substr(at + 1));
    if (!d) return d.takeError();
    t.repository = key.substr(0, at);
    t.digest = *d;
  } else if (auto colon = key.find(':'); colon != std::string::npos) {
    t.repository = key.substr(0, colon);
    t.tag = key.substr(colon + 1);
  } else {
    t.repository = key;
  }
  if (t.repository.empty()) return makeError(Code::kInvalidArgument, "malformed lock key " + key);
  return t;
}

}  // namespace

ConfigEntities::ConfigEntities(meta::MetaStore& meta)
    : webhooks_(meta.webhookStore()),
      retention_(meta.retentionStore()),
      quotas_(meta.quotaStore()),
      properties_(meta.propertiesStore()) {}

ConfigEntities::~ConfigEntities() = default;

std::optional<int> ConfigEntities::rank(std::string_view kind) {
  if (kind == "webhook" || kind == "retention_policy" || kind == "quota") return 0;
  if (kind == "lock") return 4;  // after identities: nothing refers to a lock
  return std::nullopt;
}

Status ConfigEntities::collect(EntityMap& out) {
  auto hooks = webhooks_->listWebhooks();
  if (!hooks) return hooks.takeError();
  for (const auto& w : *hooks) {
    // The delivery cursor is this replica's own: each replica's outbox is its own.
    json::object body{{"name", w.name},       {"uri", w.uri},         {"headers", w.headers_json},
                      {"actions", stringArray(w.actions)}, {"scope", w.scope}, {"enabled", w.enabled},
                      {"format", w.format},   {"secret", w.secret},   {"region", w.region},
                      {"created_at", w.created_at}};
    out[{"webhook", w.name}] = makeEntity(std::move(body), {"created_at"});
  }
  auto policies = retention_->listPolicies();
  if (!policies) return policies.takeError();
  for (const auto& p : *policies) {
    json::object body{{"name", p.name},
                      {"repositories", p.repositories},
                      {"keep_last", optionalInt(p.keep_last)},
                      {"not_pulled_for", optionalInt(p.not_pulled_for)},
                      {"untagged_after", optionalInt(p.untagged_after)},
                      {"keep_tags", p.keep_tags},
                      {"enabled", p.enabled}};
    out[{"retention_policy", p.name}] = makeEntity(std::move(body), {});
  }
  auto quotas = quotas_->listQuotas();
  if (!quotas) return quotas.takeError();
  for (const auto& q : *quotas) {
    // Usage is counted by each replica from what it holds.
    out[{"quota", q.pattern}] = makeEntity(json::object{{"pattern", q.pattern}, {"limit", q.limit_bytes}}, {});
  }
  auto locks = properties_->lockedItems();
  if (!locks) return locks.takeError();
  for (const auto& l : *locks) {
    json::object body{{"delete_enabled", l.attributes.delete_enabled},
                      {"write_enabled", l.attributes.write_enabled},
                      {"list_enabled", l.attributes.list_enabled},
                      {"read_enabled", l.attributes.read_enabled}};
    out[{"lock", lockKey(l)}] = makeEntity(std::move(body), {});
  }
  return okStatus();
}

std::optional<Status> ConfigEntities::apply(const std::string& kind, const std::string& key, const json::object* body) {
  if (kind == "webhook") {
    if (body == nullptr) return webhooks_->deleteWebhook(key);
    meta::WebhookRecord w;
    w.name = key;
    w.uri = textField(*body, "uri");
    w.headers_json = textField(*body, "headers");
    if (w.headers_json.empty()) w.headers_json = "{}";
    w.actions = stringsField(*body, "actions");
    w.scope = textField(*body, "scope");
    w.enabled = boolField(*body, "enabled");
    w.format = textField(*body, "format");
    w.secret = textField(*body, "secret");
    w.region = textField(*body, "region");
    w.created_at = w.updated_at = intField(*body, "created_at");
    auto s = webhooks_->updateWebhook(w);
    if (!s && s.code() == Code::kNotFound) s = webhooks_->createWebhook(w);
    return s;
  }
  if (kind == "retention_policy") {
    if (body == nullptr) return retention_->deletePolicy(key);
    meta::RetentionPolicy p;
    p.name = key;
    p.repositories = textField(*body, "repositories");
    p.keep_last = optionalField<uint64_t>(*body, "keep_last");
    p.not_pulled_for = optionalField<int64_t>(*body, "not_pulled_for");
    p.untagged_after = optionalField<int64_t>(*body, "untagged_after");
    p.keep_tags = textField(*body, "keep_tags");
    p.enabled = boolField(*body, "enabled");
    bool created = false;
    auto r = retention_->putPolicy(p, &created);
    return r ? okStatus() : Status(r.takeError());
  }
  if (kind == "quota") {
    if (body == nullptr) return quotas_->deleteQuota(key);
    auto r = quotas_->setQuota(key, static_cast<uint64_t>(intField(*body, "limit")));
    return r ? okStatus() : Status(r.takeError());
  }
  if (kind == "lock") {
    auto target = parseLockKey(key);
    if (!target) return Status(target.takeError());
    // A lock lifted there: every attribute back to its default.
    meta::AttributesPatch patch{true, true, true, true};
    if (body != nullptr) {
      patch = {boolField(*body, "delete_enabled"), boolField(*body, "write_enabled"), boolField(*body, "list_enabled"),
               boolField(*body, "read_enabled")};
    }
    Status s = okStatus();
    if (target->digest) {
      auto r = properties_->updateManifest(target->repository, *target->digest, patch);
      if (!r) s = r.takeError();
    } else if (!target->tag.empty()) {
      auto r = properties_->updateTag(target->repository, target->tag, patch);
      if (!r) s = r.takeError();
    } else {
      auto r = properties_->updateRepository(target->repository, patch);
      if (!r) s = r.takeError();
    }
    if (!s && (s.code() == Code::kManifestUnknown || s.code() == Code::kNameUnknown)) {
      // Nothing to unlock; or the item has not arrived yet: its push is still on the way.
      if (body == nullptr) return okStatus();
      return Status(makeError(Code::kUnavailable, key + " is not here yet"));
    }
    return s;
  }
  return std::nullopt;
}

}  // namespace berth::replication
