#include "auth/identity_view.h"

#include <boost/json.hpp>

namespace berth::auth {
namespace json = boost::json;

namespace {
const Grants kNoGrants;
}

IdentityView::IdentityView(meta::IdentitySnapshot snapshot) : snapshot_(std::move(snapshot)) {
  for (const auto& i : snapshot_.identities) {
    by_name_.emplace(i.name, &i);
    by_id_.emplace(i.id, &i);
  }
  // Unknown roles/actions or invalid patterns in the store grant nothing (the admin API
  // validates them on the way in; this keeps a hand-edited database from widening access).
  for (const auto& r : snapshot_.roles) {
    const meta::IdentityRecord* who = byName(r.identity);
    auto perms = rolePermissions(r.role);
    if (who == nullptr || !perms) continue;
    if (auto g = makeGrant(r.scope, *perms)) grants_[who->id].push_back(std::move(*g));
  }
  for (const auto& i : snapshot_.identities) {
    if (i.kind != meta::IdentityKind::kToken) continue;
    const meta::ScopeMap* map = scopeMap(i.scope_map);
    if (map == nullptr) continue;
    for (const auto& e : map->entries) {
      auto perms = scopeMapPermissions(e.actions);
      if (!perms) continue;
      if (auto g = makeGrant(e.repository, *perms)) grants_[i.id].push_back(std::move(*g));
    }
  }
  anonymous_pull_ = setting(kSettingAnonymousPull) == "true";
  default_allow_ = setting(kSettingNetworkDefault) != "Deny";
  // Stored by the admin API, which validates each range; anything unparsable is skipped
  // (it can only narrow access).
  if (auto rules = setting(kSettingNetworkRules); !rules.empty()) {
    boost::system::error_code ec;
    auto v = json::parse(rules, ec);
    if (!ec && v.is_array()) {
      for (const auto& r : v.get_array()) {
        if (!r.is_string()) continue;
        if (auto range = parseCidr(r.get_string())) allowed_.add(*range);
      }
    }
  }
}

bool IdentityView::allowsClient(std::string_view address) const {
  if (default_allow_) return true;
  auto ip = parseIp(address);
  return ip && allowed_.contains(*ip);
}

const meta::IdentityRecord* IdentityView::byName(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const meta::IdentityRecord* IdentityView::byId(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

const meta::ScopeMap* IdentityView::scopeMap(std::string_view name) const {
  for (const auto& m : snapshot_.scope_maps) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const Grants& IdentityView::grants(std::string_view id) const {
  auto it = grants_.find(id);
  return it == grants_.end() ? kNoGrants : it->second;
}

bool IdentityView::usable(const meta::IdentityRecord& identity, int64_t now) {
  return identity.enabled && (identity.expires_at == 0 || now < identity.expires_at);
}

std::string IdentityView::setting(std::string_view key) const {
  auto it = snapshot_.settings.find(std::string(key));
  return it == snapshot_.settings.end() ? std::string() : it->second;
}

bool IdentityView::emailVerified(const json::object& claims) {
  auto v = claims.find("email_verified");
  return v != claims.end() && v->value().is_bool() && v->value().get_bool();
}

std::vector<const meta::IdentityRecord*> IdentityView::federated(
    std::string_view issuer, const json::object& claims) const {
  std::vector<const meta::IdentityRecord*> out;
  for (const auto& i : snapshot_.identities) {
    if (i.kind != meta::IdentityKind::kFederated || i.issuer != issuer) continue;
    auto c = claims.find(i.claim);
    if (c == claims.end()) continue;
    if (i.claim == "email" && !emailVerified(claims)) continue;
    bool match = false;
    if (c->value().is_string()) {
      match = c->value().get_string() == i.claim_value;
    } else if (c->value().is_array() && i.claim == "groups") {
      for (const auto& g : c->value().get_array()) {
        if (g.is_string() && g.get_string() == i.claim_value) match = true;
      }
    }
    if (match) out.push_back(&i);
  }
  return out;
}

}  // namespace berth::auth
