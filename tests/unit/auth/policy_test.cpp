#include "auth/policy.h"

#include <gtest/gtest.h>

namespace berth::auth {
namespace {

using Actions = std::vector<std::string>;

Grant grant(std::string_view pattern, Permissions p) {
  auto g = makeGrant(pattern, p);
  EXPECT_TRUE(g.ok()) << pattern;
  return *g;
}

Grant roleGrant(std::string_view pattern, std::string_view role) {
  return grant(pattern, *rolePermissions(role));
}

const Actions kEverything = {"pull", "push", "delete", "metadata_read", "metadata_write"};

TEST(Roles, Table) {
  EXPECT_EQ(*rolePermissions("pull"), kPermPull);
  EXPECT_EQ(*rolePermissions("push"), kPermPull | kPermPush);
  EXPECT_EQ(*rolePermissions("delete"), kPermDelete);
  EXPECT_EQ(*rolePermissions("reader"), kPermMetadataRead);
  EXPECT_EQ(*rolePermissions("owner"), kPermAllActions | kPermAdmin);
  for (const char* bad : {"", "Owner", "admin", "AcrPull", "pull ", "contributor"}) {
    EXPECT_EQ(rolePermissions(bad).code(), Code::kInvalidArgument) << bad;
  }
}

TEST(ScopeMapActions, Table) {
  EXPECT_EQ(*scopeMapPermissions({"content/read"}), kPermPull);
  EXPECT_EQ(*scopeMapPermissions({"content/write"}), kPermPush);
  EXPECT_EQ(*scopeMapPermissions({"content/delete"}), kPermDelete);
  EXPECT_EQ(*scopeMapPermissions({"metadata/read"}), kPermMetadataRead);
  EXPECT_EQ(*scopeMapPermissions({"metadata/write"}), kPermMetadataWrite);
  EXPECT_EQ(*scopeMapPermissions({"content/read", "content/write", "content/read"}),
            kPermPull | kPermPush);
  EXPECT_EQ(*scopeMapPermissions({}), 0);
  EXPECT_FALSE(scopeMapPermissions({"content/read", "content/admin"}).ok());
  EXPECT_FALSE(scopeMapPermissions({"pull"}).ok());
  EXPECT_FALSE(scopeMapPermissions({"Content/Read"}).ok());
}

TEST(Patterns, Validation) {
  for (const char* ok : {"*", "app", "team-a/app", "team-a/*", "a/b/c/*", "my.org/*"}) {
    EXPECT_TRUE(validatePattern(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "/*", "**", "*/*", "team-a*", "team-a/*/x", "team-a/**", "*team", "team/*x", "Team/*",
        "team//*", "team/ *", "team-a/", "a/*/*", "t*m/app", " *"}) {
    EXPECT_FALSE(validatePattern(bad).ok()) << bad;
    EXPECT_FALSE(makeGrant(bad, kPermPull).ok()) << bad;
  }
}

TEST(Patterns, WildcardMatchesOnPathBoundaries) {
  EXPECT_TRUE(patternMatches("team-a/*", "team-a/x"));
  EXPECT_TRUE(patternMatches("team-a/*", "team-a/x/y/z"));
  EXPECT_FALSE(patternMatches("team-a/*", "team-ab/x"));
  EXPECT_FALSE(patternMatches("team-a/*", "team-a"));
  EXPECT_FALSE(patternMatches("team-a/*", "team-a/"));
  EXPECT_FALSE(patternMatches("team-a/*", "team"));
  EXPECT_FALSE(patternMatches("team-a/*", "x/team-a/y"));
  EXPECT_FALSE(patternMatches("team-a/*", "TEAM-A/x"));
  EXPECT_FALSE(patternMatches("team-a/*", "team-a/../team-b/x"));
  EXPECT_FALSE(patternMatches("team-a/*", "team-a//x"));
  EXPECT_TRUE(patternMatches("a/b/*", "a/b/c"));
  EXPECT_FALSE(patternMatches("a/b/*", "a/bc/d"));
  EXPECT_FALSE(patternMatches("a/b/*", "a/c"));
}

TEST(Patterns, ExactAndStar) {
  EXPECT_TRUE(patternMatches("team-a/app", "team-a/app"));
  EXPECT_FALSE(patternMatches("team-a/app", "team-a/app2"));
  EXPECT_FALSE(patternMatches("team-a/app", "team-a/app/sub"));
  EXPECT_FALSE(patternMatches("team-a/app", "team-a"));
  EXPECT_TRUE(patternMatches("*", "anything/at/all"));
  EXPECT_TRUE(patternMatches("*", "x"));
  EXPECT_FALSE(patternMatches("*", ""));
  EXPECT_FALSE(patternMatches("*", "Invalid"));
  EXPECT_FALSE(patternMatches("*", "a/../b"));
}

TEST(AllowedActions, Intersection) {
  Grants g = {roleGrant("team-a/*", "push"), roleGrant("shared/base", "pull")};
  EXPECT_EQ(allowedActions(g, "team-a/app", {"pull", "push"}), (Actions{"pull", "push"}));
  EXPECT_EQ(allowedActions(g, "team-a/app", {"push", "delete", "pull"}), (Actions{"push", "pull"}));
  EXPECT_EQ(allowedActions(g, "shared/base", {"pull", "push"}), (Actions{"pull"}));
  EXPECT_EQ(allowedActions(g, "team-ab/app", {"pull"}), Actions{});
  EXPECT_EQ(allowedActions(g, "team-a", {"pull"}), Actions{});
  EXPECT_EQ(allowedActions(g, "other", {"pull"}), Actions{});
  EXPECT_EQ(allowedActions(g, "team-a/app", {}), Actions{});
  EXPECT_EQ(allowedActions(g, "team-a/app", {"pull", "pull", "fly", "PULL"}), (Actions{"pull"}));
  EXPECT_EQ(allowedActions({}, "team-a/app", {"pull"}), Actions{});
}

TEST(AllowedActions, GrantsAccumulateAcrossPatterns) {
  Grants g = {roleGrant("*", "pull"), roleGrant("team-a/*", "delete"),
              grant("team-a/app", *scopeMapPermissions({"content/write", "metadata/read"}))};
  EXPECT_EQ(allowedActions(g, "team-a/app", kEverything),
            (Actions{"pull", "push", "delete", "metadata_read"}));
  EXPECT_EQ(allowedActions(g, "team-a/other", kEverything), (Actions{"pull", "delete"}));
  EXPECT_EQ(allowedActions(g, "elsewhere", kEverything), (Actions{"pull"}));
}

TEST(AllowedActions, Star) {
  Grants owner = {roleGrant("*", "owner")};
  EXPECT_EQ(allowedActions(owner, "x", {"*"}), (Actions{"*"}));
  EXPECT_EQ(allowedActions(owner, "x", {"pull", "*"}), (Actions{"*"}));
  EXPECT_EQ(allowedActions(owner, "x", kEverything), kEverything);
  Grants pusher = {roleGrant("*", "push")};
  EXPECT_EQ(allowedActions(pusher, "x", {"*"}), (Actions{"pull", "push"}));
  EXPECT_EQ(allowedActions(pusher, "x", {"push", "*"}), (Actions{"push", "pull"}));
  // Every action granted by scope maps (without admin) also earns "*".
  Grants all = {grant("x", *scopeMapPermissions({"content/read", "content/write", "content/delete",
                                                 "metadata/read", "metadata/write"}))};
  EXPECT_EQ(allowedActions(all, "x", {"*"}), (Actions{"*"}));
  Grants admin_only = {grant("*", kPermAdmin)};
  EXPECT_EQ(allowedActions(admin_only, "x", {"*"}), Actions{});
}

TEST(AllowedActions, ReaderIsMetadataOnly) {
  Grants g = {roleGrant("*", "reader")};
  EXPECT_EQ(allowedActions(g, "x", kEverything), (Actions{"metadata_read"}));
}

TEST(Authorize, BuildsTheAccessClaim) {
  Grants g = {roleGrant("team-a/*", "push")};
  auto requested = parseScopes(
      "repository:team-a/app:pull,push,delete repository:team-b/app:pull registry:catalog:* "
      "artifact:x:pull");
  ASSERT_TRUE(requested.ok());
  auto access = authorize(g, *requested);
  ASSERT_EQ(access.size(), 2u);
  EXPECT_EQ(access[0], (ResourceScope{"repository", "team-a/app", {"pull", "push"}}));
  EXPECT_EQ(access[1], (ResourceScope{"registry", "catalog", {"*"}}));
}

TEST(Authorize, CatalogNeedsAReadGrant) {
  auto catalog = *parseScopes("registry:catalog:*");
  // Any grant to read something lets a client ask for the (filtered) catalog.
  EXPECT_EQ(authorize({roleGrant("team-a/*", "reader")}, catalog).size(), 1u);
  EXPECT_EQ(authorize({roleGrant("team-a/app", "pull")}, catalog).size(), 1u);
  EXPECT_TRUE(authorize({roleGrant("team-a/*", "delete")}, catalog).empty());
  EXPECT_TRUE(authorize({roleGrant("*", "delete")}, catalog).empty());
  for (const char* role : {"pull", "push", "reader", "owner"}) {
    auto access = authorize({roleGrant("*", role)}, catalog);
    ASSERT_EQ(access.size(), 1u) << role;
    EXPECT_EQ(access[0], (ResourceScope{"registry", "catalog", {"*"}}));
  }
  EXPECT_TRUE(authorize({roleGrant("*", "pull")}, {{"registry", "catalog", {"pull"}}}).empty());
  EXPECT_TRUE(authorize({roleGrant("*", "pull")}, {{"registry", "other", {"*"}}}).empty());
}

TEST(DeletedActions, FollowFromTheRepositoryPermissions) {
  const Actions deleted = {"deleted_read", "deleted_restore"};
  // deleted_read: metadata_read, or push and delete; deleted_restore: push and delete,
  // also when they come from different grants that cover the repository.
  EXPECT_EQ(allowedActions({roleGrant("*", "reader")}, "x", deleted), (Actions{"deleted_read"}));
  EXPECT_EQ(allowedActions({roleGrant("*", "pull")}, "x", deleted), Actions{});
  EXPECT_EQ(allowedActions({roleGrant("*", "push")}, "x", deleted), Actions{});
  EXPECT_EQ(allowedActions({roleGrant("*", "delete")}, "x", deleted), Actions{});
  EXPECT_EQ(allowedActions({roleGrant("*", "push"), roleGrant("team/*", "delete")}, "team/x", deleted), deleted);
  EXPECT_EQ(allowedActions({roleGrant("*", "push"), roleGrant("team/*", "delete")}, "other", deleted), Actions{});
  EXPECT_EQ(allowedActions({roleGrant("*", "owner")}, "x", deleted), deleted);
  // Never through "*" expanded for a partial grant; a full grant's "*" covers them.
  EXPECT_EQ(allowedActions({roleGrant("*", "push"), roleGrant("*", "delete")}, "x", {"*"}),
            (Actions{"pull", "push", "delete"}));
  EXPECT_EQ(withDeletedPermissions(kPermMetadataRead), kPermMetadataRead | kPermDeletedRead);
  EXPECT_EQ(withDeletedPermissions(kPermPush | kPermDelete),
            kPermPush | kPermDelete | kPermDeletedRead | kPermDeletedRestore);
  EXPECT_EQ(withDeletedPermissions(kPermPull | kPermPush), kPermPull | kPermPush);
}

TEST(Authorize, DeletedCatalogNeedsDeletedReadSomewhere) {
  auto catalog = *parseScopes("registry:deleted_catalog:*");
  const ResourceScope granted{"registry", "deleted_catalog", {"*"}};
  EXPECT_EQ(authorize({roleGrant("team-a/*", "reader")}, catalog), std::vector<ResourceScope>{granted});
  EXPECT_EQ(authorize({roleGrant("team-a/*", "push"), roleGrant("team-a/app", "delete")}, catalog).size(), 1u);
  EXPECT_EQ(authorize({roleGrant("*", "owner")}, catalog).size(), 1u);
  EXPECT_TRUE(authorize({roleGrant("*", "pull")}, catalog).empty());
  EXPECT_TRUE(authorize({roleGrant("*", "push")}, catalog).empty());
  EXPECT_TRUE(authorize({roleGrant("*", "delete")}, catalog).empty());
  EXPECT_TRUE(authorize({roleGrant("*", "reader")}, {{"registry", "deleted_catalog", {"pull"}}}).empty());
  // The plain catalog is a different resource.
  EXPECT_TRUE(authorize({roleGrant("*", "delete")}, *parseScopes("registry:catalog:*")).empty());
}

TEST(Admin, OnlyRegistryWideOwner) {
  EXPECT_TRUE(isRegistryAdmin({roleGrant("*", "owner")}));
  EXPECT_FALSE(isRegistryAdmin({roleGrant("team-a/*", "owner")}));
  EXPECT_FALSE(isRegistryAdmin({roleGrant("*", "push")}));
  EXPECT_FALSE(isRegistryAdmin({}));
}

}  // namespace
}  // namespace berth::auth
