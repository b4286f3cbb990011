// The admin REST API under /api/v1 (docs/api.md): identities, scope maps, role
// assignments, network rules and settings. The caller needs the owner role on "*".
// Each request runs as one synchronous operation on the blocking pool: validate, write
// through the IdentityStore, reload AccessControl's view so the change applies to the
// very next request.
#include <boost/json.hpp>

#include "api/admin_fields.h"
#include "api/admin_quotas.h"
#include "api/admin_retention.h"
#include "api/admin_webhooks.h"
#include "api/api.h"
#include "auth/encoding.h"
#include "auth/password.h"
#include "common/log.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;
using meta::IdentityKind;
using meta::IdentityRecord;

namespace {

constexpr size_t kMaxAdminBody = 1024 * 1024;
constexpr size_t kMinPassword = 8;

using Reply = AdminReply;

Error notFound(std::string message) { return makeError(Code::kNotFound, std::move(message)); }

// Names of identities and scope maps: 1-64 of [A-Za-z0-9._@-], starting alphanumeric.
bool validName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-' && c != '@') return false;
  }
  return name != auth::kTokenUsername && name != auth::kAnonymousSubject;
}

json::value timeOrNull(int64_t t) { return t == 0 ? json::value(nullptr) : json::value(formatRfc3339(t)); }

json::object roleJson(const meta::RoleAssignment& r) {
  json::object o;
  o["id"] = r.id;
  o["identity"] = r.identity;
  o["role"] = r.role;
  o["scope"] = r.scope;
  o["createdOn"] = formatRfc3339(r.created_at);
  return o;
}

json::object identityJson(const auth::IdentityView& view, const IdentityRecord& i) {
  json::object o;
  o["id"] = i.id;
  o["name"] = i.name;
  o["kind"] = meta::kindName(i.kind);
  o["description"] = i.description;
  o["enabled"] = i.enabled;
  o["createdOn"] = formatRfc3339(i.created_at);
  o["lastUpdatedOn"] = formatRfc3339(i.updated_at);
  if (i.kind == IdentityKind::kToken) {
    o["scopeMap"] = i.scope_map;
    o["expiresOn"] = timeOrNull(i.expires_at);
    json::array creds;
    for (const auto& c : i.credentials) {
      json::object co;
      co["name"] = c.name;
      co["createdOn"] = formatRfc3339(c.created_at);
      co["expiresOn"] = timeOrNull(c.expires_at);
      creds.push_back(std::move(co));
    }
    o["credentials"] = std::move(creds);
    return o;
  }
  if (i.kind == IdentityKind::kFederated) {
    o["issuer"] = i.issuer;
    o["claim"] = i.claim;
    o["value"] = i.claim_value;
  }
  json::array roles;
  for (const auto& r : view.snapshot().roles) {
    if (r.identity == i.name) roles.push_back(roleJson(r));
  }
  o["roles"] = std::move(roles);
  return o;
}

json::object scopeMapJson(const meta::ScopeMap& m) {
  json::object o;
  o["name"] = m.name;
  o["description"] = m.description;
  json::array repos;
  for (const auto& e : m.entries) {
    json::array actions;
    for (const auto& a : e.actions) actions.emplace_back(a);
    repos.push_back(json::object{{"repository", e.repository}, {"actions", std::move(actions)}});
  }
  o["repositories"] = std::move(repos);
  o["createdOn"] = formatRfc3339(m.created_at);
  o["lastUpdatedOn"] = formatRfc3339(m.updated_at);
  return o;
}

#define TRY(var, expr)                  \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.takeError(); \
  auto var = std::move(*var##_r)

class Admin {
 public:
  Admin(auth::AccessControl& access, int64_t now, events::Dispatcher* webhooks = nullptr,
        events::RequestInfo request = {}, meta::QuotaStore* quotas = nullptr,
        lifecycle::Retention* retention = nullptr)
      : access_(access),
        store_(access.store()),
        now_(now),
        webhooks_(webhooks),
        request_(std::move(request)),
        quotas_(quotas),
        retention_(retention) {}

  Result<Reply> run(http::verb method, const std::vector<std::string>& seg, const QueryParams& query,
                    const json::object& body);

 private:
  std::shared_ptr<const auth::IdentityView> view() const { return access_.view(); }
  Status changed() { return access_.reload(); }

  Result<Reply> identities(IdentityKind kind, http::verb method, const std::vector<std::string>& seg,
                           const json::object& body);
  Result<Reply> createIdentity(IdentityKind kind, const json::object& body);
  Result<Reply> updateIdentity(const IdentityRecord& current, const json::object& body);
  Result<Reply> tokenCredentials(const IdentityRecord& token, http::verb method,
                                 const std::vector<std::string>& seg, const json::object& body);
  Result<Reply> scopeMaps(http::verb method, const std::vector<std::string>& seg, const json::object& body);
  Result<Reply> roles(http::verb method, const std::vector<std::string>& seg, const QueryParams& query,
                      const json::object& body);
  Result<Reply> networkRules(http::verb method, const std::vector<std::string>& seg,
                             const QueryParams& query, const json::object& body);
  Result<Reply> settings(http::verb method, const json::object& body);
  Result<Reply> shown(std::string_view name, http::status status = http::status::ok) {
    if (auto s = changed(); !s) return s.takeError();
    auto v = view();
    const IdentityRecord* i = v->byName(name);
    if (i == nullptr) return notFound("identity not found");
    return Reply{status, identityJson(*v, *i)};
  }

  auth::AccessControl& access_;
  meta::IdentityStore& store_;
  int64_t now_;
  events::Dispatcher* webhooks_;
  events::RequestInfo request_;
  meta::QuotaStore* quotas_;
  lifecycle::Retention* retention_;
};

const char* collectionName(IdentityKind kind) {
  switch (kind) {
    case IdentityKind::kUser: return "users";
    case IdentityKind::kServicePrincipal: return "servicePrincipals";
    case IdentityKind::kToken: return "tokens";
    case IdentityKind::kFederated: return "federatedIdentities";
  }
  return "identities";
}

Result<Reply> Admin::run(http::verb method, const std::vector<std::string>& seg, const QueryParams& query,
                         const json::object& body) {
  if (seg.empty()) return notFound("no such admin resource");
  const std::string& top = seg[0];
  if (top == "users") return identities(IdentityKind::kUser, method, seg, body);
  if (top == "service-principals") return identities(IdentityKind::kServicePrincipal, method, seg, body);
  if (top == "tokens") return identities(IdentityKind::kToken, method, seg, body);
  if (top == "federated-identities") return identities(IdentityKind::kFederated, method, seg, body);
  if (top == "scope-maps") return scopeMaps(method, seg, body);
  if (top == "role-assignments") return roles(method, seg, query, body);
  if (top == "network-rules") return networkRules(method, seg, query, body);
  if (top == "settings" && seg.size() == 1) return settings(method, body);
  if (top == "webhooks" && webhooks_ != nullptr) {
    return webhooksAdmin(*webhooks_, method, seg, body, request_);
  }
  if (top == "quotas" && quotas_ != nullptr) return quotasAdmin(*quotas_, method, seg, body);
  if ((top == "purge" || top == "retention") && retention_ != nullptr) {
    return retentionAdmin(*retention_, method, seg, body, request_);
  }
  return notFound("no such admin resource");
}

Result<Reply> Admin::identities(IdentityKind kind, http::verb method, const std::vector<std::string>& seg,
                                const json::object& body) {
  auto v = view();
  if (seg.size() == 1) {
    if (method == http::verb::get) {
      json::array out;
      for (const auto& i : v->snapshot().identities) {
        if (i.kind == kind) out.push_back(identityJson(*v, i));
      }
      return Reply{http::status::ok, json::object{{collectionName(kind), std::move(out)}}};
    }
    if (method == http::verb::post) return createIdentity(kind, body);
    return makeError(Code::kMethodNotAllowed, "use GET or POST");
  }
  const IdentityRecord* found = v->byName(seg[1]);
  if (found == nullptr || found->kind != kind) return notFound(std::string(meta::kindName(kind)) + " not found");
  const IdentityRecord current = *found;
  if (seg.size() >= 3 && kind == IdentityKind::kToken && seg[2] == "credentials") {
    return tokenCredentials(current, method, seg, body);
  }
  if (seg.size() != 2) return notFound("no such admin resource");
  if (method == http::verb::get) return Reply{http::status::ok, identityJson(*v, current)};
  if (method == http::verb::patch && kind != IdentityKind::kFederated) return updateIdentity(current, body);
  if (method == http::verb::delete_) {
    if (auto s = store_.deleteIdentity(current.name); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    log::info("identity deleted", {{"identity", current.name}});
    return Reply{http::status::no_content, nullptr};
  }
  return makeError(Code::kMethodNotAllowed, "method not allowed on this resource");
}

Result<Reply> Admin::createIdentity(IdentityKind kind, const json::object& body) {
  Fields f(body);
  IdentityRecord rec;
  rec.id = newUuid();
  rec.kind = kind;
  rec.created_at = rec.updated_at = now_;
  TRY(name, f.str("name"));
  TRY(description, f.str("description"));
  TRY(enabled, f.boolean("enabled"));
  if (!name && kind == IdentityKind::kServicePrincipal) name = "sp-" + newUuid().substr(0, 8);
  if (!name || !validName(*name)) {
    return invalidArgument("name must be 1-64 characters of letters, digits, '.', '_', '-', '@', starting with a letter or digit");
  }
  rec.name = *name;
  rec.description = description.value_or("");
  rec.enabled = enabled.value_or(true);
  std::optional<std::string> password;
  if (kind == IdentityKind::kUser || kind == IdentityKind::kServicePrincipal) {
    if (auto s = f.only({"name", "password", "description", "enabled"}); !s) return s.takeError();
    TRY(given, f.str("password"));
    if (given && given->size() < kMinPassword) return invalidArgument("password must have at least 8 characters");
    if (!given) password = auth::generateSecret(24);  // returned once, in the reply
    TRY(hash, auth::hashSecret(given ? *given : *password));
    rec.credentials.push_back({"password", std::move(hash), now_, 0});
  } else if (kind == IdentityKind::kToken) {
    if (auto s = f.only({"name", "scopeMap", "description", "enabled", "expiresOn"}); !s) return s.takeError();
    TRY(scope_map, f.str("scopeMap"));
    if (!scope_map) return invalidArgument("scopeMap is required");
    if (view()->scopeMap(*scope_map) == nullptr) return invalidArgument("scope map " + quoteUntrusted(*scope_map) + " does not exist");
    rec.scope_map = *scope_map;
    TRY(expires, f.time("expiresOn"));
    rec.expires_at = expires.value_or(0);
  } else {
    if (auto s = f.only({"name", "issuer", "claim", "value", "description", "enabled"}); !s) return s.takeError();
    TRY(issuer, f.str("issuer"));
    TRY(claim, f.str("claim"));
    TRY(value, f.str("value"));
    if (!issuer || issuer->empty()) return invalidArgument("issuer is required");
    if (!claim || (*claim != "sub" && *claim != "email" && *claim != "groups")) {
      return invalidArgument("claim must be sub, email or groups");
    }
    if (!value || value->empty()) return invalidArgument("value is required");
    rec.issuer = *issuer;
    rec.claim = *claim;
    rec.claim_value = *value;
  }
  if (auto s = store_.createIdentity(rec); !s) return s.takeError();
  log::info("identity created", {{"identity", rec.name}, {"kind", std::string(meta::kindName(kind))}});
  TRY(reply, shown(rec.name, http::status::created));
  if (password) reply.body.as_object()["password"] = *password;
  return reply;
}

Result<Reply> Admin::updateIdentity(const IdentityRecord& current, const json::object& body) {
  Fields f(body);
  IdentityRecord rec = current;
  const bool token = current.kind == IdentityKind::kToken;
  if (auto s = token ? f.only({"scopeMap", "enabled", "expiresOn", "description"})
                     : f.only({"password", "enabled", "description"});
      !s) {
    return s.takeError();
  }
  TRY(description, f.str("description"));
  TRY(enabled, f.boolean("enabled"));
  if (description) rec.description = *description;
  if (enabled) rec.enabled = *enabled;
  bool credentials_changed = enabled && *enabled != current.enabled;
  if (token) {
    TRY(scope_map, f.str("scopeMap"));
    if (scope_map) {
      if (view()->scopeMap(*scope_map) == nullptr) return invalidArgument("scope map " + quoteUntrusted(*scope_map) + " does not exist");
      rec.scope_map = *scope_map;
    }
    TRY(expires, f.time("expiresOn"));
    if (expires) {
      rec.expires_at = *expires;
      credentials_changed = true;
    }
  } else {
    TRY(password, f.str("password"));
    if (password) {
      if (password->size() < kMinPassword) return invalidArgument("password must have at least 8 characters");
      TRY(hash, auth::hashSecret(*password));
      rec.credentials = {{"password", std::move(hash), now_, 0}};
      credentials_changed = true;
    }
  }
  if (credentials_changed) ++rec.credentials_version;
  rec.updated_at = now_;
  if (auto s = store_.updateIdentity(rec); !s) return s.takeError();
  log::info("identity updated", {{"identity", rec.name}});
  return shown(rec.name);
}

Result<Reply> Admin::tokenCredentials(const IdentityRecord& token, http::verb method,
                                      const std::vector<std::string>& seg, const json::object& body) {
  IdentityRecord rec = token;
  auto slotValid = [](std::string_view s) { return s == "password1" || s == "password2"; };
  if (method == http::verb::post && seg.size() == 3) {
    Fields f(body);
    if (auto s = f.only({"name", "expiresOn"}); !s) return s.takeError();
    TRY(slot, f.str("name"));
    if (!slot || !slotValid(*slot)) return invalidArgument("name must be password1 or password2");
    TRY(expires, f.time("expiresOn"));
    const std::string value = auth::generateSecret(32);
    TRY(hash, auth::hashSecret(value));
    std::erase_if(rec.credentials, [&](const meta::Credential& c) { return c.name == *slot; });
    rec.credentials.push_back({*slot, std::move(hash), now_, expires.value_or(0)});
    std::sort(rec.credentials.begin(), rec.credentials.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    ++rec.credentials_version;
    rec.updated_at = now_;
    if (auto s = store_.updateIdentity(rec); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    log::info("token password generated", {{"identity", rec.name}, {"slot", *slot}});
    json::object out;
    out["name"] = *slot;
    out["value"] = value;
    out["expiresOn"] = timeOrNull(expires.value_or(0));
    return Reply{http::status::created, std::move(out)};
  }
  if (method == http::verb::delete_ && seg.size() == 4 && slotValid(seg[3])) {
    auto n = std::erase_if(rec.credentials, [&](const meta::Credential& c) { return c.name == seg[3]; });
    if (n == 0) return notFound("the token has no " + seg[3]);
    ++rec.credentials_version;
    rec.updated_at = now_;
    if (auto s = store_.updateIdentity(rec); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    return Reply{http::status::no_content, nullptr};
  }
  return notFound("no such admin resource");
}

Result<meta::ScopeMap> parseScopeMap(const json::object& body, std::string name, int64_t now) {
  Fields f(body);
  if (auto s = f.only({"name", "description", "repositories"}); !s) return s.takeError();
  meta::ScopeMap m;
  m.name = std::move(name);
  TRY(description, f.str("description"));
  m.description = description.value_or("");
  m.created_at = m.updated_at = now;
  auto repos = body.find("repositories");
  if (repos == body.end() || !repos->value().is_array() || repos->value().get_array().empty()) {
    return invalidArgument("repositories must be a non-empty list of {repository, actions}");
  }
  for (const auto& r : repos->value().get_array()) {
    const json::object* o = r.if_object();
    const json::value* repo = o ? o->if_contains("repository") : nullptr;
    const json::value* actions = o ? o->if_contains("actions") : nullptr;
    if (!repo || !repo->is_string() || !actions || !actions->is_array() || actions->get_array().empty()) {
      return invalidArgument("each repositories entry needs a repository and a non-empty actions list");
    }
    meta::ScopeMapEntry e;
    e.repository = std::string(repo->get_string());
    if (auto s = auth::validatePattern(e.repository); !s) {
      return invalidArgument("repository " + quoteUntrusted(e.repository) + ": use a repository name, 'ns/*' or '*'");
    }
    for (const auto& a : actions->get_array()) {
      if (!a.is_string()) return invalidArgument("actions must be strings");
      e.actions.emplace_back(a.get_string());
    }
    if (!auth::scopeMapPermissions(e.actions)) {
      return invalidArgument("actions must be content/read, content/write, content/delete, metadata/read or metadata/write");
    }
    m.entries.push_back(std::move(e));
  }
  return m;
}

Result<Reply> Admin::scopeMaps(http::verb method, const std::vector<std::string>& seg, const json::object& body) {
  auto v = view();
  if (seg.size() == 1 && method == http::verb::get) {
    json::array out;
    for (const auto& m : v->snapshot().scope_maps) out.push_back(scopeMapJson(m));
    return Reply{http::status::ok, json::object{{"scopeMaps", std::move(out)}}};
  }
  if (seg.size() == 1 && method == http::verb::post) {
    TRY(name, Fields(body).str("name"));
    if (!name || !validName(*name)) return invalidArgument("name must be 1-64 letters, digits, '.', '_', '-', '@'");
    if (v->scopeMap(*name) != nullptr) return makeError(Code::kConflict, "scope map " + *name + " exists");
    TRY(m, parseScopeMap(body, *name, now_));
    if (auto s = store_.putScopeMap(m); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    return Reply{http::status::created, scopeMapJson(*view()->scopeMap(m.name))};
  }
  if (seg.size() != 2) return notFound("no such admin resource");
  const meta::ScopeMap* found = v->scopeMap(seg[1]);
  if (found == nullptr) return notFound("scope map not found");
  if (method == http::verb::get) return Reply{http::status::ok, scopeMapJson(*found)};
  if (method == http::verb::put) {
    json::object copy = body;
    copy.erase("name");
    TRY(m, parseScopeMap(copy, found->name, now_));
    m.created_at = found->created_at;
    if (auto s = store_.putScopeMap(m); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    return Reply{http::status::ok, scopeMapJson(*view()->scopeMap(m.name))};
  }
  if (method == http::verb::delete_) {
    if (auto s = store_.deleteScopeMap(found->name); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    return Reply{http::status::no_content, nullptr};
  }
  return makeError(Code::kMethodNotAllowed, "method not allowed on this resource");
}

Result<Reply> Admin::roles(http::verb method, const std::vector<std::string>& seg, const QueryParams& query,
                           const json::object& body) {
  if (seg.size() == 1 && method == http::verb::get) {
    auto filter = queryValue(query, "identity");
    json::array out;
    for (const auto& r : view()->snapshot().roles) {
      if (!filter || r.identity == *filter) out.push_back(roleJson(r));
    }
    return Reply{http::status::ok, json::object{{"roleAssignments", std::move(out)}}};
  }
  if (seg.size() == 1 && method == http::verb::post) {
    Fields f(body);
    if (auto s = f.only({"identity", "role", "scope"}); !s) return s.takeError();
    TRY(identity, f.str("identity"));
    TRY(role, f.str("role"));
    TRY(scope, f.str("scope"));
    if (!identity || !role) return invalidArgument("identity and role are required");
    meta::RoleAssignment r{newUuid(), *identity, *role, scope.value_or("*"), now_};
    if (!auth::rolePermissions(r.role)) return invalidArgument("role must be pull, push, delete, reader or owner");
    if (!auth::validatePattern(r.scope)) return invalidArgument("scope must be '*', 'ns/*' or a repository name");
    const IdentityRecord* who = view()->byName(r.identity);
    if (who == nullptr) return notFound("identity " + quoteUntrusted(r.identity) + " not found");
    if (who->kind == IdentityKind::kToken) return invalidArgument("tokens get their permissions from their scope map");
    if (auto s = store_.addRoleAssignment(r); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    log::info("role assigned", {{"identity", r.identity}, {"role", r.role}, {"scope", r.scope}});
    return Reply{http::status::created, roleJson(r)};
  }
  if (seg.size() == 2 && method == http::verb::delete_) {
    if (auto s = store_.deleteRoleAssignment(seg[1]); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    return Reply{http::status::no_content, nullptr};
  }
  return notFound("no such admin resource");
}

json::object networkJson(const auth::IdentityView& v) {
  json::array rules;
  for (const auto& r : v.allowedRanges().ranges()) rules.push_back(json::object{{"value", r.toString()}});
  json::object o;
  o["defaultAction"] = v.defaultAllow() ? "Allow" : "Deny";
  o["ipRules"] = std::move(rules);
  return o;
}

Result<Reply> Admin::networkRules(http::verb method, const std::vector<std::string>& seg,
                                  const QueryParams& query, const json::object& body) {
  auto v = view();
  std::vector<std::string> ranges;
  for (const auto& r : v->allowedRanges().ranges()) ranges.push_back(r.toString());
  auto store = [&](std::vector<std::string> next) -> Status {
    json::array a;
    for (auto& r : next) a.emplace_back(r);
    if (auto s = store_.setSetting(auth::kSettingNetworkRules, json::serialize(a)); !s) return s;
    return changed();
  };
  if (seg.size() == 1 && method == http::verb::get) return Reply{http::status::ok, networkJson(*v)};
  if (seg.size() == 1 && method == http::verb::patch) {
    Fields f(body);
    if (auto s = f.only({"defaultAction"}); !s) return s.takeError();
    TRY(action, f.str("defaultAction"));
    if (!action || (*action != "Allow" && *action != "Deny")) return invalidArgument("defaultAction must be Allow or Deny");
    if (auto s = store_.setSetting(auth::kSettingNetworkDefault, *action); !s) return s.takeError();
    if (auto s = changed(); !s) return s.takeError();
    log::info("network default action changed", {{"default_action", *action}});
    return Reply{http::status::ok, networkJson(*view())};
  }
  if (seg.size() == 2 && seg[1] == "ip-rules" && method == http::verb::post) {
    Fields f(body);
    if (auto s = f.only({"value"}); !s) return s.takeError();
    TRY(value, f.str("value"));
    if (!value) return invalidArgument("value (a CIDR range or address) is required");
    TRY(range, parseCidr(*value));
    const std::string text = range.toString();
    if (std::find(ranges.begin(), ranges.end(), text) != ranges.end()) {
      return makeError(Code::kConflict, "the rule " + text + " exists");
    }
    ranges.push_back(text);
    if (auto s = store(ranges); !s) return s.takeError();
    log::info("network rule added", {{"value", text}});
    return Reply{http::status::created, networkJson(*view())};
  }
  if (seg.size() == 2 && seg[1] == "ip-rules" && method == http::verb::delete_) {
    auto value = queryValue(query, "value");
    if (!value) return invalidArgument("value query parameter is required");
    TRY(range, parseCidr(*value));
    auto n = std::erase(ranges, range.toString());
    if (n == 0) return notFound("no such network rule");
    if (auto s = store(ranges); !s) return s.takeError();
    log::info("network rule removed", {{"value", range.toString()}});
    return Reply{http::status::no_content, nullptr};
  }
  return notFound("no such admin resource");
}

Result<Reply> Admin::settings(http::verb method, const json::object& body) {
  if (method == http::verb::patch) {
    Fields f(body);
    if (auto s = f.only({"anonymousPullEnabled"}); !s) return s.takeError();
    TRY(anonymous, f.boolean("anonymousPullEnabled"));
    if (anonymous) {
      if (auto s = store_.setSetting(auth::kSettingAnonymousPull, *anonymous ? "true" : "false"); !s) {
        return s.takeError();
      }
      if (auto s = changed(); !s) return s.takeError();
      log::info("settings changed", {{"anonymous_pull", *anonymous}});
    }
  } else if (method != http::verb::get) {
    return makeError(Code::kMethodNotAllowed, "use GET or PATCH");
  }
  return Reply{http::status::ok, json::object{{"anonymousPullEnabled", view()->anonymousPull()}}};
}

// "/api/v1/a/b" -> {"a","b"}; percent-decoded per segment.
Result<std::vector<std::string>> segments(std::string_view path) {
  std::vector<std::string> out;
  path.remove_prefix(std::min(path.size(), std::string_view("/api/v1").size()));
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    auto seg = path.substr(0, slash);
    auto decoded = parseQuery("x=" + std::string(seg));
    if (!decoded || decoded->empty()) return invalidArgument("malformed path");
    out.push_back(decoded->front().second);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash);
  }
  return out;
}

}  // namespace

Task<void> Api::admin(Exchange& ex, std::string_view path, std::string_view raw_query) {
  if (audit_) {
    // Every change is audited; reads only when refused.
    server::AuditNote& note = ex.audit();
    note.entry.action = "config";
    note.entry.message = std::string(path.substr(0, 200));
    note.failures_only = ex.method() == http::verb::get || ex.method() == http::verb::head;
  }
  auto who = co_await authenticate(ex, kNoChallengeScope, {});
  if (!who) co_return;
  if (who->anonymous()) {
    server::Response base;
    base.set(http::field::www_authenticate, "Basic realm=\"berth\"");
    co_return co_await ex.sendError(makeError(Code::kUnauthorized, "authentication required"), std::move(base));
  }
  if (path == "/api/v1/usage" || path.starts_with("/api/v1/usage/")) {
    std::string usage_path(path), usage_query(raw_query);
    co_return co_await usage(ex, std::move(usage_path), std::move(usage_query), *who);
  }
  if (path == "/api/v1/recycle-bin" || path.starts_with("/api/v1/recycle-bin/")) {
    std::string bin_path(path), bin_query(raw_query);
    co_return co_await recycleBin(ex, std::move(bin_path), std::move(bin_query), *who);
  }
  if (!access_->isAdmin(*who, unixNow())) {
    co_return co_await ex.sendError(makeError(
        Code::kDenied, "the admin API needs the owner role on '*' and Basic credentials (an access token never grants it)"));
  }
  auto seg = segments(path);
  if (!seg) co_return co_await ex.sendError(seg.error());
  auto query = parseQuery(raw_query);
  if (!query) co_return co_await ex.sendError(query.error());
  if (!seg->empty() && (*seg)[0] == "audit") co_return co_await auditQuery(ex, *seg, *query);
  json::object body;
  if (ex.hasBody()) {
    auto text = co_await ex.readBody(kMaxAdminBody);
    if (!text) co_return co_await ex.sendError(text.error());
    auto parsed = auth::parseJsonObject(*text);
    if (!parsed) co_return co_await ex.sendError(invalidArgument("the body must be a JSON object"));
    body = std::move(*parsed);
  }
  if (gc_ != nullptr && !seg->empty() && (*seg)[0] == "gc") co_return co_await gc(ex, *seg, body);
  const auto method = ex.method();
  const events::RequestInfo request = requestInfo(ex, who);
  auto reply = co_await ex.blocking([&] {
    return Admin(*access_, unixNow(), webhooks_, request, quotas_, retention_).run(method, *seg, *query, body);
  });
  if (!reply) co_return co_await ex.sendError(reply.error());
  server::Response res{reply->status, 11};
  if (!reply->body.is_null()) {
    res.set(http::field::content_type, "application/json");
    res.body() = json::serialize(reply->body);
  }
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
