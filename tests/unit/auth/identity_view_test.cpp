#include "auth/identity_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>

namespace berth::auth {
namespace {
namespace json = boost::json;
using meta::IdentityKind;
using meta::IdentityRecord;

IdentityRecord identity(const std::string& name, IdentityKind kind = IdentityKind::kUser) {
  IdentityRecord r;
  r.id = "id-" + name;
  r.name = name;
  r.kind = kind;
  return r;
}

IdentityRecord federatedIdentity(const std::string& name, const std::string& issuer,
                                 const std::string& claim, const std::string& value) {
  IdentityRecord r = identity(name, IdentityKind::kFederated);
  r.issuer = issuer;
  r.claim = claim;
  r.claim_value = value;
  return r;
}

meta::RoleAssignment role(const std::string& who, const std::string& role,
                          const std::string& scope) {
  return {"ra-" + who + "-" + role + "-" + scope, who, role, scope, 0};
}

TEST(IdentityView, GrantsFromRoleAssignments) {
  meta::IdentitySnapshot s;
  s.identities = {identity("admin"), identity("dev")};
  s.roles = {role("admin", "owner", "*"), role("dev", "pull", "team/*")};
  IdentityView v(std::move(s));

  const Grants& admin = v.grants("id-admin");
  EXPECT_TRUE(isRegistryAdmin(admin));
  EXPECT_EQ(effectivePermissions(admin, "any/repo"), kPermAllActions | kPermAdmin);

  const Grants& dev = v.grants("id-dev");
  EXPECT_FALSE(isRegistryAdmin(dev));
  EXPECT_EQ(effectivePermissions(dev, "team/app"), kPermPull);
  EXPECT_EQ(effectivePermissions(dev, "team/a/b"), kPermPull);
  EXPECT_EQ(effectivePermissions(dev, "other/app"), 0);
  EXPECT_EQ(effectivePermissions(dev, "team"), 0);
}

TEST(IdentityView, LookupsByNameAndId) {
  meta::IdentitySnapshot s;
  s.generation = 42;
  s.identities = {identity("alice"), identity("bob")};
  IdentityView v(std::move(s));
  EXPECT_EQ(v.generation(), 42);
  ASSERT_NE(v.byName("alice"), nullptr);
  EXPECT_EQ(v.byName("alice")->id, "id-alice");
  ASSERT_NE(v.byId("id-bob"), nullptr);
  EXPECT_EQ(v.byId("id-bob")->name, "bob");
  EXPECT_EQ(v.byName("id-alice"), nullptr);
  EXPECT_EQ(v.byId("alice"), nullptr);
  EXPECT_TRUE(v.grants("id-nobody").empty());
  EXPECT_TRUE(v.grants("id-alice").empty());  // no role: nothing
}

TEST(IdentityView, GrantsFromTokenScopeMap) {
  meta::IdentitySnapshot s;
  IdentityRecord tok = identity("ci", IdentityKind::kToken);
  tok.scope_map = "ci-map";
  IdentityRecord user_with_map_name = identity("user");
  user_with_map_name.scope_map = "ci-map";  // a scope map only applies to tokens
  s.identities = {tok, user_with_map_name};
  s.scope_maps = {meta::ScopeMap{"ci-map",
                                 "",
                                 {{"team/app", {"content/read", "content/write"}},
                                  {"team/tools/*", {"metadata/read"}}},
                                 0,
                                 0}};
  IdentityView v(std::move(s));
  ASSERT_NE(v.scopeMap("ci-map"), nullptr);
  const Grants& g = v.grants("id-ci");
  EXPECT_EQ(effectivePermissions(g, "team/app"), kPermPull | kPermPush);
  EXPECT_EQ(effectivePermissions(g, "team/tools/lint"), kPermMetadataRead);
  EXPECT_EQ(effectivePermissions(g, "team/other"), 0);
  EXPECT_FALSE(isRegistryAdmin(g));
  EXPECT_TRUE(v.grants("id-user").empty());
}

TEST(IdentityView, TokenWithMissingScopeMapGrantsNothing) {
  meta::IdentitySnapshot s;
  IdentityRecord tok = identity("ci", IdentityKind::kToken);
  tok.scope_map = "gone";
  s.identities = {tok};
  IdentityView v(std::move(s));
  EXPECT_EQ(v.scopeMap("gone"), nullptr);
  EXPECT_TRUE(v.grants("id-ci").empty());
}

TEST(IdentityView, UnknownRolesAndInvalidPatternsGrantNothing) {
  meta::IdentitySnapshot s;
  IdentityRecord tok = identity("ci", IdentityKind::kToken);
  tok.scope_map = "bad-map";
  s.identities = {identity("eve"), tok};
  s.roles = {role("eve", "superuser", "*"),      // unknown role
             role("eve", "Owner", "*"),          // names are case-sensitive
             role("eve", "owner", "team*"),      // '*' only as "*" or "<name>/*"
             role("eve", "owner", "*/app"),
             role("eve", "owner", "../team/*"),
             role("eve", "push", ""),
             role("ghost", "owner", "*")};       // no such identity
  s.scope_maps = {meta::ScopeMap{"bad-map",
                                 "",
                                 {{"team/*", {"content/read", "content/everything"}},
                                  {"a*b", {"content/read"}},
                                  {"ok/app", {"content/read"}}},
                                 0,
                                 0}};
  IdentityView v(std::move(s));
  EXPECT_TRUE(v.grants("id-eve").empty());
  EXPECT_TRUE(v.grants("id-ghost").empty());
  const Grants& g = v.grants("id-ci");
  EXPECT_EQ(effectivePermissions(g, "team/app"), 0);
  EXPECT_EQ(effectivePermissions(g, "ok/app"), kPermPull);  // the valid entry still counts
}

TEST(IdentityView, Usable) {
  IdentityRecord r = identity("a");
  EXPECT_TRUE(IdentityView::usable(r, 1000));
  r.expires_at = 2000;
  EXPECT_TRUE(IdentityView::usable(r, 1999));
  EXPECT_FALSE(IdentityView::usable(r, 2000));
  EXPECT_FALSE(IdentityView::usable(r, 3000));
  r.expires_at = 0;
  r.enabled = false;
  EXPECT_FALSE(IdentityView::usable(r, 1000));
}

TEST(IdentityView, AnonymousPullSetting) {
  EXPECT_FALSE(IdentityView(meta::IdentitySnapshot{}).anonymousPull());
  meta::IdentitySnapshot on;
  on.settings[std::string(kSettingAnonymousPull)] = "true";
  EXPECT_TRUE(IdentityView(std::move(on)).anonymousPull());
  meta::IdentitySnapshot off;
  off.settings[std::string(kSettingAnonymousPull)] = "false";
  EXPECT_FALSE(IdentityView(std::move(off)).anonymousPull());
}

IdentityView withNetwork(const char* default_action, const char* rules) {
  meta::IdentitySnapshot s;
  if (default_action != nullptr) s.settings[std::string(kSettingNetworkDefault)] = default_action;
  if (rules != nullptr) s.settings[std::string(kSettingNetworkRules)] = rules;
  return IdentityView(std::move(s));
}

TEST(IdentityView, NetworkDefaultAllowsEveryone) {
  IdentityView v = withNetwork(nullptr, nullptr);
  EXPECT_TRUE(v.defaultAllow());
  EXPECT_TRUE(v.allowsClient("203.0.113.5"));
  EXPECT_TRUE(v.allowsClient("2001:db8::1"));
  // Rules alone do not restrict: only with the Deny default.
  IdentityView rules_only = withNetwork("Allow", R"(["10.0.0.0/8"])");
  EXPECT_TRUE(rules_only.allowsClient("203.0.113.5"));
}

TEST(IdentityView, NetworkDenyExceptRules) {
  IdentityView v = withNetwork("Deny", R"(["10.0.0.0/8", "192.0.2.7/32", "2001:db8:1::/48"])");
  EXPECT_FALSE(v.defaultAllow());
  EXPECT_TRUE(v.allowsClient("10.1.2.3"));
  EXPECT_TRUE(v.allowsClient("192.0.2.7"));
  EXPECT_FALSE(v.allowsClient("192.0.2.8"));
  EXPECT_FALSE(v.allowsClient("11.0.0.1"));
  EXPECT_TRUE(v.allowsClient("2001:db8:1:ffff::1"));
  EXPECT_FALSE(v.allowsClient("2001:db8:2::1"));
  EXPECT_FALSE(v.allowsClient("::1"));
  EXPECT_FALSE(v.allowsClient("not-an-address"));
  EXPECT_FALSE(v.allowsClient(""));
}

TEST(IdentityView, NetworkDenyWithBadRulesOnlyNarrows) {
  EXPECT_FALSE(withNetwork("Deny", nullptr).allowsClient("10.0.0.1"));
  EXPECT_FALSE(withNetwork("Deny", "not json").allowsClient("10.0.0.1"));
  EXPECT_FALSE(withNetwork("Deny", R"({"ip":"10.0.0.0/8"})").allowsClient("10.0.0.1"));
  IdentityView mixed = withNetwork("Deny", R"([42, "garbage", "10.0.0.0/33", "10.0.0.0/8"])");
  EXPECT_TRUE(mixed.allowsClient("10.0.0.1"));
  EXPECT_FALSE(mixed.allowsClient("192.0.2.1"));
}

TEST(IdentityView, FederatedMatchesBySubEmailAndGroups) {
  const std::string iss = "https://idp.example";
  meta::IdentitySnapshot s;
  s.identities = {federatedIdentity("by-sub", iss, "sub", "u-123"),
                  federatedIdentity("by-email", iss, "email", "dev@example.com"),
                  federatedIdentity("by-group", iss, "groups", "platform"),
                  federatedIdentity("other-group", iss, "groups", "finance"),
                  federatedIdentity("other-issuer", "https://other.example", "sub", "u-123"),
                  identity("u-123")};  // a user named like the subject is no match
  IdentityView v(std::move(s));

  json::object claims{{"sub", "u-123"},
                      {"email", "dev@example.com"},
                      {"email_verified", true},
                      {"groups", json::array{"staff", "platform"}}};
  auto matched = [&](const json::object& c) {
    std::vector<std::string> names;
    for (const auto* r : v.federated(iss, c)) names.push_back(r->name);
    std::sort(names.begin(), names.end());
    return names;
  };
  EXPECT_EQ(matched(claims), (std::vector<std::string>{"by-email", "by-group", "by-sub"}));
  // The email claim counts only when the issuer says it verified the address.
  json::object unverified = claims;
  unverified["email_verified"] = false;
  EXPECT_EQ(matched(unverified), (std::vector<std::string>{"by-group", "by-sub"}));
  unverified.erase("email_verified");
  EXPECT_EQ(matched(unverified), (std::vector<std::string>{"by-group", "by-sub"}));

  EXPECT_TRUE(v.federated(iss, json::object{{"sub", "u-999"}}).empty());
  EXPECT_TRUE(v.federated("https://unknown.example", claims).empty());
  auto other = v.federated("https://other.example", claims);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0]->name, "other-issuer");
}

TEST(IdentityView, FederatedClaimTypesMustFit) {
  const std::string iss = "https://idp.example";
  meta::IdentitySnapshot s;
  s.identities = {federatedIdentity("by-sub", iss, "sub", "u-123"),
                  federatedIdentity("by-group", iss, "groups", "platform")};
  IdentityView v(std::move(s));
  // An array matches only for "groups"; a number never equals a string value.
  EXPECT_TRUE(v.federated(iss, json::object{{"sub", json::array{"u-123"}}}).empty());
  EXPECT_TRUE(v.federated(iss, json::object{{"groups", json::array{42, "other"}}}).empty());
  auto single = v.federated(iss, json::object{{"groups", "platform"}});
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0]->name, "by-group");
}

}  // namespace
}  // namespace berth::auth
