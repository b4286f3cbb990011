// The admin REST API under /api/v1 (docs/api.md): identities, scope maps, role
// assignments, network rules and settings. The caller needs the owner role on "*".
// Each request runs as one synchronous operation on the blocking pool: validate, write
// through the IdentityStore, reload AccessControl's view so the change applies to the
// very next request.
#include <boost/json.hpp>

#include "api/admin_fields.h"
#include "api/handlers.h"
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

const char* collectionName(IdentityKind kind) {
  switch (kind) {
    case IdentityKind::kUser: return "users";
    case IdentityKind::kServicePrincipal: return "servicePrincipals";
    case IdentityKind::kToken: return "tokens";
    case IdentityKind::kFederated: return "federatedIdentities";
  }
  return "identities";
}

IdentityKind kindOf(RouteKind route) {
  switch (route) {
    case RouteKind::kAdminServicePrincipals:
    case RouteKind::kAdminServicePrincipal:
      return IdentityKind::kServicePrincipal;
    case RouteKind::kAdminTokens:
    case RouteKind::kAdminToken:
      return IdentityKind::kToken;
    case RouteKind::kAdminFederatedIdentities:
    case RouteKind::kAdminFederatedIdentity:
      return IdentityKind::kFederated;
    default:
      return IdentityKind::kUser;
  }
}

}  // namespace

Result<Reply> IdentityAdmin::identities(const AdminCall& call) {
  const IdentityKind kind = kindOf(call.route.kind);
  if (call.method == http::verb::post) return createIdentity(call);
  auto v = access_.view();
  json::array out;
  for (const auto& i : v->snapshot().identities) {
    if (i.kind == kind) out.push_back(identityJson(*v, i));
  }
  return Reply{http::status::ok, json::object{{collectionName(kind), std::move(out)}}};
}

Result<Reply> IdentityAdmin::identity(const AdminCall& call) {
  const IdentityKind kind = kindOf(call.route.kind);
  auto v = access_.view();
  const IdentityRecord* found = v->byName(call.route.ref);
  if (found == nullptr || found->kind != kind) return notFound(std::string(meta::kindName(kind)) + " not found");
  const IdentityRecord current = *found;
  if (call.method == http::verb::patch) return updateIdentity(call, current);
  if (call.method == http::verb::delete_) {
    if (auto s = access_.store().deleteIdentity(current.name); !s) return s.takeError();
    if (auto s = access_.reload(); !s) return s.takeError();
    log::info("identity deleted", {{"identity", current.name}});
    return Reply{http::status::no_content, nullptr};
  }
  return Reply{http::status::ok, identityJson(*v, current)};
}

Result<Reply> IdentityAdmin::shown(std::string_view name, http::status status) {
  if (auto s = access_.reload(); !s) return s.takeError();
  auto v = access_.view();
  const IdentityRecord* i = v->byName(name);
  if (i == nullptr) return notFound("identity not found");
  return Reply{status, identityJson(*v, *i)};
}

Result<Reply> IdentityAdmin::createIdentity(const AdminCall& call) {
  const IdentityKind kind = kindOf(call.route.kind);
  const int64_t now_ = call.now;
  Fields f(call.body);
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
    if (access_.view()->scopeMap(*scope_map) == nullptr) return invalidArgument("scope map " + quoteUntrusted(*scope_map) + " does not exist");
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
  if (auto s = access_.store().createIdentity(rec); !s) return s.takeError();
  log::info("identity created", {{"identity", rec.name}, {"kind", std::string(meta::kindName(kind))}});
  TRY(reply, shown(rec.name, http::status::created));
  if (password) reply.body.as_object()["password"] = *password;
  return reply;
}

Result<Reply> IdentityAdmin::updateIdentity(const AdminCall& call, const IdentityRecord& current) {
  const int64_t now_ = call.now;
  Fields f(call.body);
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
      if (access_.view()->scopeMap(*scope_map) == nullptr) return invalidArgument("scope map " + quoteUntrusted(*scope_map) + " does not exist");
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
  if (auto s = access_.store().updateIdentity(rec); !s) return s.takeError();
  log::info("identity updated", {{"identity", rec.name}});
  return shown(rec.name);
}

namespace {

// The token named by a credentials route.
Result<IdentityRecord> tokenNamed(const auth::IdentityView& view, const std::string& name) {
  const IdentityRecord* found = view.byName(name);
  if (found == nullptr || found->kind != IdentityKind::kToken) return notFound("token not found");
  return *found;
}

}  // namespace

Result<Reply> IdentityAdmin::createCredential(const AdminCall& call) {
  TRY(rec, tokenNamed(*access_.view(), call.route.ref));
  Fields f(call.body);
  if (auto s = f.only({"name", "expiresOn"}); !s) return s.takeError();
  TRY(slot, f.str("name"));
  if (!slot || (*slot != "password1" && *slot != "password2")) return invalidArgument("name must be password1 or password2");
  TRY(expires, f.time("expiresOn"));
  const std::string value = auth::generateSecret(32);
  TRY(hash, auth::hashSecret(value));
  std::erase_if(rec.credentials, [&](const meta::Credential& c) { return c.name == *slot; });
  rec.credentials.push_back({*slot, std::move(hash), call.now, expires.value_or(0)});
  std::sort(rec.credentials.begin(), rec.credentials.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  ++rec.credentials_version;
  rec.updated_at = call.now;
  if (auto s = access_.store().updateIdentity(rec); !s) return s.takeError();
  if (auto s = access_.reload(); !s) return s.takeError();
  log::info("token password generated", {{"identity", rec.name}, {"slot", *slot}});
  json::object out;
  out["name"] = *slot;
  out["value"] = value;
  out["expiresOn"] = timeOrNull(expires.value_or(0));
  return Reply{http::status::created, std::move(out)};
}

Result<Reply> IdentityAdmin::deleteCredential(const AdminCall& call) {
  TRY(rec, tokenNamed(*access_.view(), call.route.ref));
  const std::string& slot = call.route.ref2;
  if (slot != "password1" && slot != "password2") return notFound("no such credential: use password1 or password2");
  auto n = std::erase_if(rec.credentials, [&](const meta::Credential& c) { return c.name == slot; });
  if (n == 0) return notFound("the token has no " + slot);
  ++rec.credentials_version;
  rec.updated_at = call.now;
  if (auto s = access_.store().updateIdentity(rec); !s) return s.takeError();
  if (auto s = access_.reload(); !s) return s.takeError();
  return Reply{http::status::no_content, nullptr};
}

namespace {

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

}  // namespace

Result<Reply> IdentityAdmin::scopeMaps(const AdminCall& call) {
  auto v = access_.view();
  if (call.method == http::verb::get) {
    json::array out;
    for (const auto& m : v->snapshot().scope_maps) out.push_back(scopeMapJson(m));
    return Reply{http::status::ok, json::object{{"scopeMaps", std::move(out)}}};
  }
  TRY(name, Fields(call.body).str("name"));
  if (!name || !validName(*name)) return invalidArgument("name must be 1-64 letters, digits, '.', '_', '-', '@'");
  if (v->scopeMap(*name) != nullptr) return makeError(Code::kConflict, "scope map " + *name + " exists");
  TRY(m, parseScopeMap(call.body, *name, call.now));
  if (auto s = access_.store().putScopeMap(m); !s) return s.takeError();
  if (auto s = access_.reload(); !s) return s.takeError();
  return Reply{http::status::created, scopeMapJson(*access_.view()->scopeMap(m.name))};
}

Result<Reply> IdentityAdmin::scopeMap(const AdminCall& call) {
  auto v = access_.view();
  const meta::ScopeMap* found = v->scopeMap(call.route.ref);
  if (found == nullptr) return notFound("scope map not found");
  if (call.method == http::verb::put) {
    json::object copy = call.body;
    copy.erase("name");
    TRY(m, parseScopeMap(copy, found->name, call.now));
    m.created_at = found->created_at;
    if (auto s = access_.store().putScopeMap(m); !s) return s.takeError();
    if (auto s = access_.reload(); !s) return s.takeError();
    return Reply{http::status::ok, scopeMapJson(*access_.view()->scopeMap(m.name))};
  }
  if (call.method == http::verb::delete_) {
    if (auto s = access_.store().deleteScopeMap(found->name); !s) return s.takeError();
    if (auto s = access_.reload(); !s) return s.takeError();
    return Reply{http::status::no_content, nullptr};
  }
  return Reply{http::status::ok, scopeMapJson(*found)};
}

Result<Reply> IdentityAdmin::roles(const AdminCall& call) {
  if (call.method == http::verb::get) {
    auto filter = queryValue(call.query, "identity");
    json::array out;
    for (const auto& r : access_.view()->snapshot().roles) {
      if (!filter || r.identity == *filter) out.push_back(roleJson(r));
    }
    return Reply{http::status::ok, json::object{{"roleAssignments", std::move(out)}}};
  }
  Fields f(call.body);
  if (auto s = f.only({"identity", "role", "scope"}); !s) return s.takeError();
  TRY(identity, f.str("identity"));
  TRY(role, f.str("role"));
  TRY(scope, f.str("scope"));
  if (!identity || !role) return invalidArgument("identity and role are required");
  meta::RoleAssignment r{newUuid(), *identity, *role, scope.value_or("*"), call.now};
  if (!auth::rolePermissions(r.role)) return invalidArgument("role must be pull, push, delete, reader or owner");
  if (!auth::validatePattern(r.scope)) return invalidArgument("scope must be '*', 'ns/*' or a repository name");
  const IdentityRecord* who = access_.view()->byName(r.identity);
  if (who == nullptr) return notFound("identity " + quoteUntrusted(r.identity) + " not found");
  if (who->kind == IdentityKind::kToken) return invalidArgument("tokens get their permissions from their scope map");
  if (auto s = access_.store().addRoleAssignment(r); !s) return s.takeError();
  if (auto s = access_.reload(); !s) return s.takeError();
  log::info("role assigned", {{"identity", r.identity}, {"role", r.role}, {"scope", r.scope}});
  return Reply{http::status::created, roleJson(r)};
}

Result<Reply> IdentityAdmin::deleteRole(const AdminCall& call) {
  if (auto s = access_.store().deleteRoleAssignment(call.route.ref); !s) return s.takeError();
  if (auto s = access_.reload(); !s) return s.takeError();
  return Reply{http::status::no_content, nullptr};
}

namespace {

json::object networkJson(const auth::IdentityView& v) {
  json::array rules;
  for (const auto& r : v.allowedRanges().ranges()) rules.push_back(json::object{{"value", r.toString()}});
  json::object o;
  o["defaultAction"] = v.defaultAllow() ? "Allow" : "Deny";
  o["ipRules"] = std::move(rules);
  return o;
}

}  // namespace

Status IdentityAdmin::storeRanges(std::vector<std::string> ranges) {
  json::array a;
  for (auto& r : ranges) a.emplace_back(r);
  if (auto s = access_.store().setSetting(auth::kSettingNetworkRules, json::serialize(a)); !s) return s;
  return access_.reload();
}

Result<Reply> IdentityAdmin::networkRules(const AdminCall& call) {
  if (call.method == http::verb::patch) {
    Fields f(call.body);
    if (auto s = f.only({"defaultAction"}); !s) return s.takeError();
    TRY(action, f.str("defaultAction"));
    if (!action || (*action != "Allow" && *action != "Deny")) return invalidArgument("defaultAction must be Allow or Deny");
    if (auto s = access_.store().setSetting(auth::kSettingNetworkDefault, *action); !s) return s.takeError();
    if (auto s = access_.reload(); !s) return s.takeError();
    log::info("network default action changed", {{"default_action", *action}});
  }
  return Reply{http::status::ok, networkJson(*access_.view())};
}

Result<Reply> IdentityAdmin::ipRules(const AdminCall& call) {
  std::vector<std::string> ranges;
  for (const auto& r : access_.view()->allowedRanges().ranges()) ranges.push_back(r.toString());
  if (call.method == http::verb::post) {
    Fields f(call.body);
    if (auto s = f.only({"value"}); !s) return s.takeError();
    TRY(value, f.str("value"));
    if (!value) return invalidArgument("value (a CIDR range or address) is required");
    TRY(range, parseCidr(*value));
    const std::string text = range.toString();
    if (std::find(ranges.begin(), ranges.end(), text) != ranges.end()) {
      return makeError(Code::kConflict, "the rule " + text + " exists");
    }
    ranges.push_back(text);
    if (auto s = storeRanges(ranges); !s) return s.takeError();
    log::info("network rule added", {{"value", text}});
    return Reply{http::status::created, networkJson(*access_.view())};
  }
  auto value = queryValue(call.query, "value");
  if (!value) return invalidArgument("value query parameter is required");
  TRY(range, parseCidr(*value));
  auto n = std::erase(ranges, range.toString());
  if (n == 0) return notFound("no such network rule");
  if (auto s = storeRanges(ranges); !s) return s.takeError();
  log::info("network rule removed", {{"value", range.toString()}});
  return Reply{http::status::no_content, nullptr};
}

Result<Reply> IdentityAdmin::settings(const AdminCall& call) {
  if (call.method == http::verb::patch) {
    Fields f(call.body);
    if (auto s = f.only({"anonymousPullEnabled"}); !s) return s.takeError();
    TRY(anonymous, f.boolean("anonymousPullEnabled"));
    if (anonymous) {
      if (auto s = access_.store().setSetting(auth::kSettingAnonymousPull, *anonymous ? "true" : "false"); !s) {
        return s.takeError();
      }
      if (auto s = access_.reload(); !s) return s.takeError();
      log::info("settings changed", {{"anonymous_pull", *anonymous}});
    }
  }
  return Reply{http::status::ok, json::object{{"anonymousPullEnabled", access_.view()->anonymousPull()}}};
}

}  // namespace berth::api
