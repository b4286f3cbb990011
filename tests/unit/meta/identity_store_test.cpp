// IdentityStore on every driver (MetaStore::identityStore(), SQLite and PostgreSQL): the
// contract of identity_store.h seen through the interface, on fresh storage per test.
#include "meta/identity_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "identity_store_test_util.h"

namespace berth::meta::testing {
namespace {

TEST(IdentityKind, NamesRoundTrip) {
  for (IdentityKind kind : kAllKinds) {
    const auto parsed = parseKind(kindName(kind));
    ASSERT_TRUE(parsed.has_value()) << kindName(kind);
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(kindName(IdentityKind::kServicePrincipal), "sp");
  EXPECT_FALSE(parseKind("admin").has_value());
  EXPECT_FALSE(parseKind("").has_value());
}

TEST_P(IdentityStoreTest, StartsEmpty) {
  const IdentitySnapshot s = snap();
  EXPECT_EQ(s.generation, 0);
  EXPECT_TRUE(s.identities.empty());
  EXPECT_TRUE(s.roles.empty());
  EXPECT_TRUE(s.scope_maps.empty());
  EXPECT_TRUE(s.settings.empty());
}

TEST_P(IdentityStoreTest, CreatesEachKindAndListsThemByName) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("pull-only"))));
  IdentityRecord fed = identity("zed", IdentityKind::kFederated);
  fed.issuer = "https://token.actions.githubusercontent.com";
  fed.claim = "sub";
  fed.claim_value = "repo:org/app:ref:refs/heads/main";
  fed.credentials.clear();
  const std::vector<IdentityRecord> created = {identity("carol", IdentityKind::kUser),
                                               identity("ci-bot", IdentityKind::kServicePrincipal),
                                               token("pull-token", "pull-only"), fed};
  for (auto it = created.rbegin(); it != created.rend(); ++it) {  // out of order on purpose
    ASSERT_TRUE(ok(store_->createIdentity(*it)));
  }
  EXPECT_EQ(snap().identities, created);  // every field back, sorted by name
}

TEST_P(IdentityStoreTest, UpdatesAndDeletesEachKind) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("pull-only"))));
  for (IdentityKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(kindName(kind)));
    IdentityRecord r = kind == IdentityKind::kToken ? token("x", "pull-only") : identity("x", kind);
    ASSERT_TRUE(ok(store_->createIdentity(r)));
    r.description = "changed";
    r.updated_at = 2000;
    r.claim_value = "other";
    ASSERT_TRUE(ok(store_->updateIdentity(r)));
    ASSERT_EQ(snap().identities.size(), 1u);
    EXPECT_EQ(snap().identities[0], r);

    ASSERT_TRUE(ok(store_->deleteIdentity("x")));
    EXPECT_TRUE(snap().identities.empty());
    EXPECT_TRUE(fails(store_->deleteIdentity("x"), Code::kNotFound));
    EXPECT_TRUE(fails(store_->updateIdentity(r), Code::kNotFound));
  }
}

TEST_P(IdentityStoreTest, TokenCredentialsRoundTripWithExpiry) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("push"))));
  IdentityRecord t = token("deploy", "push");
  t.expires_at = 1900000000;
  t.credentials = {
      {"password1", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaDE", 1000, 0},
      {"password2", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaDI", 1500, 1800000000}};
  ASSERT_TRUE(ok(store_->createIdentity(t)));
  EXPECT_EQ(snap().identities.at(0).credentials, t.credentials);
  EXPECT_EQ(snap().identities.at(0).expires_at, 1900000000);

  // Given out of order, they come back sorted by name.
  IdentityRecord swapped = t;
  std::swap(swapped.credentials[0], swapped.credentials[1]);
  ASSERT_TRUE(ok(store_->updateIdentity(swapped)));
  EXPECT_EQ(snap().identities.at(0).credentials, t.credentials);
  EXPECT_EQ(snap().identities.at(0).credentials_version, 1) << "same credentials, no bump";

  t.credentials.pop_back();  // password2 revoked
  ASSERT_TRUE(ok(store_->updateIdentity(t)));
  EXPECT_EQ(snap().identities.at(0).credentials, t.credentials);
}

TEST_P(IdentityStoreTest, CredentialsVersionMovesWithCredentialsEnabledAndExpiry) {
  IdentityRecord u = identity("alice", IdentityKind::kUser);
  ASSERT_TRUE(ok(store_->createIdentity(u)));
  auto version = [&] { return snap().identities.at(0).credentials_version; };
  EXPECT_EQ(version(), 1);

  u.description = "only the description";
  ASSERT_TRUE(ok(store_->updateIdentity(u)));
  EXPECT_EQ(version(), 1);
  u.credentials[0].hash = "$argon2id$new";
  ASSERT_TRUE(ok(store_->updateIdentity(u)));
  EXPECT_EQ(version(), 2);
  u.enabled = false;
  ASSERT_TRUE(ok(store_->updateIdentity(u)));
  EXPECT_EQ(version(), 3);
  u.expires_at = 1234;
  ASSERT_TRUE(ok(store_->updateIdentity(u)));
  EXPECT_EQ(version(), 4);
  u.credentials_version = 10;  // a caller revoking sessions explicitly
  ASSERT_TRUE(ok(store_->updateIdentity(u)));
  EXPECT_EQ(version(), 10);
  u.credentials_version = 1;  // a stale copy never moves it back
  u.enabled = true;
  ASSERT_TRUE(ok(store_->updateIdentity(u)));
  EXPECT_EQ(version(), 11);
}

TEST_P(IdentityStoreTest, NamesAreUniqueAcrossKinds) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("pull-only"))));
  ASSERT_TRUE(ok(store_->createIdentity(identity("alice", IdentityKind::kUser))));
  IdentityRecord t = token("alice", "pull-only");
  t.id = "another-id";
  EXPECT_TRUE(fails(store_->createIdentity(t), Code::kConflict));
  IdentityRecord sp = identity("alice", IdentityKind::kServicePrincipal);
  sp.id = "sp-id";
  EXPECT_TRUE(fails(store_->createIdentity(sp), Code::kConflict));
  // The same id under another name is taken too.
  IdentityRecord same_id = identity("bob", IdentityKind::kUser);
  same_id.id = identity("alice", IdentityKind::kUser).id;
  EXPECT_TRUE(fails(store_->createIdentity(same_id), Code::kConflict));

  const IdentitySnapshot s = snap();
  ASSERT_EQ(s.identities.size(), 1u);
  EXPECT_EQ(s.identities[0].kind, IdentityKind::kUser);
}

TEST_P(IdentityStoreTest, RenameKeepsRoleAssignmentsAndRefusesATakenName) {
  IdentityRecord alice = identity("alice", IdentityKind::kUser);
  ASSERT_TRUE(ok(store_->createIdentity(alice)));
  ASSERT_TRUE(ok(store_->createIdentity(identity("bob", IdentityKind::kUser))));
  ASSERT_TRUE(ok(store_->addRoleAssignment(role("r1", "alice", "push", "team/*"))));

  IdentityRecord renamed = alice;
  renamed.name = "bob";
  EXPECT_TRUE(fails(store_->updateIdentity(renamed), Code::kConflict));
  renamed.name = "alicia";
  ASSERT_TRUE(ok(store_->updateIdentity(renamed)));

  const IdentitySnapshot s = snap();
  ASSERT_EQ(s.identities.size(), 2u);
  EXPECT_EQ(s.identities[0].name, "alicia");
  EXPECT_EQ(s.identities[0].id, alice.id);
  ASSERT_EQ(s.roles.size(), 1u);
  EXPECT_EQ(s.roles[0].identity, "alicia");
  EXPECT_TRUE(fails(store_->deleteIdentity("alice"), Code::kNotFound));
}

TEST_P(IdentityStoreTest, RoleAssignmentsConflictNotFoundAndOrder) {
  ASSERT_TRUE(ok(store_->createIdentity(identity("bob", IdentityKind::kUser))));
  ASSERT_TRUE(ok(store_->createIdentity(identity("alice", IdentityKind::kUser))));
  const std::vector<RoleAssignment> roles = {
      role("r4", "alice", "pull", "*"), role("r3", "alice", "owner", "team-a/*"),
      role("r2", "alice", "push", "team-a/*"), role("r1", "bob", "reader", "*")};
  for (const RoleAssignment& r : roles) ASSERT_TRUE(ok(store_->addRoleAssignment(r)));
  // Sorted by identity, then scope, then role.
  EXPECT_EQ(snap().roles, roles);

  EXPECT_TRUE(
      fails(store_->addRoleAssignment(role("r9", "alice", "push", "team-a/*")), Code::kConflict));
  EXPECT_TRUE(fails(store_->addRoleAssignment(role("r1", "alice", "delete", "x")), Code::kConflict))
      << "an id in use";
  EXPECT_TRUE(fails(store_->addRoleAssignment(role("r9", "nobody", "pull", "*")), Code::kNotFound));
  EXPECT_TRUE(fails(store_->deleteRoleAssignment("r9"), Code::kNotFound));

  ASSERT_TRUE(ok(store_->deleteRoleAssignment("r4")));
  EXPECT_EQ(snap().roles.size(), 3u);
  // The same role on another scope, or another role on the same scope, is fine.
  ASSERT_TRUE(ok(store_->addRoleAssignment(role("r5", "alice", "push", "team-b/*"))));
  ASSERT_TRUE(ok(store_->addRoleAssignment(role("r6", "alice", "pull", "team-a/*"))));
  EXPECT_EQ(snap().roles.size(), 5u);
}

TEST_P(IdentityStoreTest, DeletingAnIdentityDeletesItsRoleAssignments) {
  ASSERT_TRUE(ok(store_->createIdentity(identity("alice", IdentityKind::kUser))));
  ASSERT_TRUE(ok(store_->createIdentity(identity("bob", IdentityKind::kUser))));
  ASSERT_TRUE(ok(store_->addRoleAssignment(role("r1", "alice", "push", "*"))));
  ASSERT_TRUE(ok(store_->addRoleAssignment(role("r2", "alice", "pull", "a/*"))));
  ASSERT_TRUE(ok(store_->addRoleAssignment(role("r3", "bob", "pull", "*"))));
  ASSERT_TRUE(ok(store_->deleteIdentity("alice")));
  EXPECT_EQ(snap().roles, std::vector<RoleAssignment>{role("r3", "bob", "pull", "*")});
  EXPECT_TRUE(fails(store_->deleteRoleAssignment("r1"), Code::kNotFound));
  // A new identity of the same name starts with no roles.
  ASSERT_TRUE(ok(store_->createIdentity(identity("alice", IdentityKind::kUser))));
  EXPECT_EQ(snap().roles.size(), 1u);
}

TEST_P(IdentityStoreTest, PutScopeMapReplacesEntriesAndKeepsCreatedAt) {
  ScopeMap m = scopeMap("ci");
  m.entries = {
      {"team/app", {"content/read", "content/write"}}, {"team/*", {"metadata/read"}}, {"base", {}}};
  ASSERT_TRUE(ok(store_->putScopeMap(m)));
  ASSERT_EQ(snap().scope_maps.size(), 1u);
  EXPECT_EQ(snap().scope_maps[0], m);  // entries in the order given, actions intact

  ScopeMap replaced = m;
  replaced.description = "narrower";
  replaced.entries = {{"team/app", {"content/read"}}};
  replaced.created_at = 9999;  // ignored on replace
  replaced.updated_at = 3000;
  ASSERT_TRUE(ok(store_->putScopeMap(replaced)));
  replaced.created_at = m.created_at;
  EXPECT_EQ(snap().scope_maps, std::vector<ScopeMap>{replaced});

  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("a-first"))));
  EXPECT_EQ(snap().scope_maps.at(0).name, "a-first");
  EXPECT_EQ(snap().scope_maps.at(1).name, "ci");
}

TEST_P(IdentityStoreTest, ScopeMapInUseCannotBeDeleted) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("ci"))));
  ASSERT_TRUE(ok(store_->createIdentity(token("t1", "ci"))));
  EXPECT_TRUE(fails(store_->deleteScopeMap("ci"), Code::kConflict));
  EXPECT_EQ(snap().scope_maps.size(), 1u);
  // Replacing it while in use is fine; the token keeps pointing at it.
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("ci"))));

  ASSERT_TRUE(ok(store_->deleteIdentity("t1")));
  ASSERT_TRUE(ok(store_->deleteScopeMap("ci")));
  EXPECT_TRUE(snap().scope_maps.empty());
  EXPECT_TRUE(fails(store_->deleteScopeMap("ci"), Code::kNotFound));
}

TEST_P(IdentityStoreTest, TokenNamingAnUnknownScopeMapIsRefused) {
  EXPECT_TRUE(fails(store_->createIdentity(token("t1", "missing")), Code::kInvalidArgument));
  EXPECT_TRUE(snap().identities.empty());

  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("ci"))));
  IdentityRecord t = token("t1", "ci");
  ASSERT_TRUE(ok(store_->createIdentity(t)));
  t.scope_map = "missing";
  EXPECT_TRUE(fails(store_->updateIdentity(t), Code::kInvalidArgument));
  EXPECT_EQ(snap().identities.at(0).scope_map, "ci");

  // Moving a token to another existing map is an update like any other.
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("other"))));
  t.scope_map = "other";
  ASSERT_TRUE(ok(store_->updateIdentity(t)));
  ASSERT_TRUE(ok(store_->deleteScopeMap("ci")));
}

TEST_P(IdentityStoreTest, MalformedRecordsAreInvalidArguments) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("ci"))));
  IdentityRecord no_name = identity("", IdentityKind::kUser);
  EXPECT_TRUE(fails(store_->createIdentity(no_name), Code::kInvalidArgument));
  IdentityRecord three = token("t", "ci");
  three.credentials.push_back({"password3", "h", 1, 0});
  EXPECT_TRUE(fails(store_->createIdentity(three), Code::kInvalidArgument));
  IdentityRecord twice = token("t", "ci");
  twice.credentials[1].name = twice.credentials[0].name;
  EXPECT_TRUE(fails(store_->createIdentity(twice), Code::kInvalidArgument));
  IdentityRecord user_with_map = identity("u", IdentityKind::kUser);
  user_with_map.scope_map = "ci";
  EXPECT_TRUE(fails(store_->createIdentity(user_with_map), Code::kInvalidArgument));
  EXPECT_TRUE(fails(store_->createIdentity(token("t", "")), Code::kInvalidArgument));
  ScopeMap comma = scopeMap("bad");
  comma.entries = {{"repo", {"content/read,content/write"}}};
  EXPECT_TRUE(fails(store_->putScopeMap(comma), Code::kInvalidArgument));
  EXPECT_TRUE(fails(store_->setSetting("", "x"), Code::kInvalidArgument));
  EXPECT_TRUE(fails(store_->addRoleAssignment(role("", "u", "pull", "*")), Code::kInvalidArgument));

  const IdentitySnapshot s = snap();
  EXPECT_TRUE(s.identities.empty());
  EXPECT_EQ(s.scope_maps.size(), 1u);
  EXPECT_EQ(s.generation, 1) << "only the scope map was written";
}

TEST_P(IdentityStoreTest, SettingsSetReplaceAndRemove) {
  ASSERT_TRUE(ok(store_->setSetting("anonymous_pull", "true")));
  ASSERT_TRUE(ok(store_->setSetting("network_rules", "[]")));
  ASSERT_TRUE(ok(store_->setSetting("anonymous_pull", "false")));
  EXPECT_EQ(snap().settings, (std::map<std::string, std::string>{{"anonymous_pull", "false"},
                                                                 {"network_rules", "[]"}}));
  ASSERT_TRUE(ok(store_->setSetting("anonymous_pull", std::nullopt)));
  ASSERT_TRUE(ok(store_->setSetting("never_set", std::nullopt)));
  EXPECT_EQ(snap().settings, (std::map<std::string, std::string>{{"network_rules", "[]"}}));
  ASSERT_TRUE(ok(store_->setSetting("empty", "")));
  EXPECT_EQ(snap().settings.at("empty"), "");
}

TEST_P(IdentityStoreTest, GenerationMovesOnEveryMutationAndOnlyThen) {
  auto generation = [&] {
    auto g = store_->generation();
    EXPECT_TRUE(g.ok()) << g.error().message;
    return g.ok() ? *g : -1;
  };
  IdentityRecord u = identity("alice", IdentityKind::kUser);
  const std::vector<std::function<Status()>> mutations = {
      [&] { return store_->putScopeMap(scopeMap("ci")); },
      [&] { return store_->createIdentity(u); },
      [&] { return store_->createIdentity(token("t", "ci")); },
      [&] {
        u.description = "x";
        return store_->updateIdentity(u);
      },
      [&] { return store_->addRoleAssignment(role("r1", "alice", "pull", "*")); },
      [&] { return store_->deleteRoleAssignment("r1"); },
      [&] { return store_->setSetting("anonymous_pull", "true"); },
      [&] { return store_->setSetting("anonymous_pull", std::nullopt); },
      [&] { return store_->deleteIdentity("t"); },
      [&] { return store_->deleteScopeMap("ci"); },
      [&] { return store_->deleteIdentity("alice"); },
  };
  int64_t last = generation();
  for (size_t i = 0; i < mutations.size(); ++i) {
    SCOPED_TRACE("mutation " + std::to_string(i));
    ASSERT_TRUE(ok(mutations[i]()));
    const int64_t now = generation();
    EXPECT_GT(now, last);
    EXPECT_EQ(snap().generation, now);
    EXPECT_EQ(generation(), now) << "reads do not move it";
    last = now;
  }
  // Failed mutations write nothing, the generation included.
  EXPECT_TRUE(fails(store_->deleteIdentity("alice"), Code::kNotFound));
  EXPECT_TRUE(fails(store_->deleteScopeMap("ci"), Code::kNotFound));
  EXPECT_TRUE(fails(store_->createIdentity(token("t", "ci")), Code::kInvalidArgument));
  EXPECT_EQ(generation(), last);
}

// Also runs the IdentityStoreTest cases of sqlite_identity_store_test.cpp that are not
// SQLite's own (reopen, sharing the database, concurrency).
INSTANTIATE_TEST_SUITE_P(Drivers, IdentityStoreTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
