#include "auth/access_control.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>

#include "auth/password.h"
#include "auth_test_util.h"
#include "meta/sqlite/sqlite_meta_store.h"

namespace berth::auth {
namespace {
namespace json = boost::json;
using meta::IdentityKind;
using meta::IdentityRecord;

constexpr int64_t kNow = 1'700'000'000;
constexpr std::string_view kIdp = "https://idp.example";

std::string cheapHash(std::string_view secret) {
  auto h = hashSecret(secret, minimumCost());
  EXPECT_TRUE(h);
  return h ? *h : std::string();
}

ResourceScope repo(std::string name, std::vector<std::string> actions) {
  return ResourceScope{"repository", std::move(name), std::move(actions)};
}

// A real SQLite identity store in a scratch directory, and AccessControl over it.
class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto meta = meta::SqliteMetaStore::open((dir_.path() / "meta.db").string());
    ASSERT_TRUE(meta) << meta.error().message;
    meta_ = std::move(*meta);
    store_ = meta_->identityStore();
    auto key = SigningKey::generate();
    ASSERT_TRUE(key);
    TokenSettings ts;
    ts.issuer = "berth-test";
    ts.service = "registry.test";
    AccessOptions options;
    options.basic_cache_seconds = 300;
    json::object jwks{{"keys", json::array{testing::rsa().jwk}}};
    KeySet keys;
    auto added = keys.addJwks(json::serialize(jwks));
    ASSERT_TRUE(added && *added == 1);
    options.oidc.push_back(OidcIssuer{std::string(kIdp), "berth-client", JwksSource::fixed(std::move(keys))});
    ac_ = std::make_unique<AccessControl>(*store_, TokenService(*key, ts), options);
    ASSERT_TRUE(ac_->reload());
  }

  // Creates an identity with a password hashed at minimum cost and optional role.
  IdentityRecord addIdentity(const std::string& name, const std::string& password,
                             IdentityKind kind = IdentityKind::kUser) {
    IdentityRecord r;
    r.id = "id-" + name;
    r.name = name;
    r.kind = kind;
    if (!password.empty()) {
      r.credentials.push_back({kind == IdentityKind::kToken ? "password1" : "password",
                               cheapHash(password), kNow, 0});
    }
    r.created_at = r.updated_at = kNow;
    EXPECT_TRUE(store_->createIdentity(r));
    return r;
  }
  void addRole(const std::string& who, const std::string& role, const std::string& scope) {
    EXPECT_TRUE(store_->addRoleAssignment({"ra-" + who + role + scope, who, role, scope, kNow}));
  }
  IdentityRecord stored(const std::string& name) {
    auto snap = store_->snapshot();
    EXPECT_TRUE(snap);
    for (const auto& i : snap->identities) {
      if (i.name == name) return i;
    }
    ADD_FAILURE() << "no identity " << name;
    return {};
  }
  void update(const IdentityRecord& r) {
    ASSERT_TRUE(store_->updateIdentity(r));
    ASSERT_TRUE(ac_->reload());
  }
  TokenSubject subjectOf(const std::string& name) {
    IdentityRecord r = stored(name);
    return TokenSubject{r.id, r.name, {r.id}, {r.credentials_version}};
  }
  // Basic login that must succeed; anonymous (so later checks fail) if it does not.
  Principal login(std::string_view name, std::string_view password) {
    auto p = ac_->verifyBasic(name, password, kNow);
    EXPECT_TRUE(p) << name << ": " << p.error().message;
    return p ? *p : Principal{};
  }
  Principal bearerFor(const std::string& name, const std::vector<ResourceScope>& access) {
    auto token = ac_->tokens().issueAccess(subjectOf(name), access, kNow).token;
    auto p = ac_->bearer(token, kNow);
    EXPECT_TRUE(p) << p.error().message;
    return p ? *p : Principal{};
  }

  testing::ScratchDir dir_;
  std::unique_ptr<meta::SqliteMetaStore> meta_;
  std::unique_ptr<meta::IdentityStore> store_;
  std::unique_ptr<AccessControl> ac_;
};

TEST_F(AccessControlTest, BootstrapCreatesAdminOnceAndReturnsThePassword) {
  auto first = ac_->bootstrap("", kNow);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(first->has_value());
  const std::string password = **first;
  EXPECT_GE(password.size(), 16u);

  auto admin = ac_->verifyBasic("admin", password, kNow);
  ASSERT_TRUE(admin) << admin.error().message;
  EXPECT_TRUE(ac_->isAdmin(*admin, kNow));

  auto second = ac_->bootstrap("chosen-password", kNow);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->has_value());
  EXPECT_FALSE(ac_->verifyBasic("admin", "chosen-password", kNow));
  EXPECT_EQ(ac_->view()->snapshot().identities.size(), 1u);
}

TEST_F(AccessControlTest, BootstrapKeepsAGivenPassword) {
  auto r = ac_->bootstrap("chosen-password", kNow);
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ(**r, "chosen-password");
  EXPECT_TRUE(ac_->verifyBasic("admin", "chosen-password", kNow));
}

TEST_F(AccessControlTest, BootstrapDoesNothingWhenAnyIdentityExists) {
  addIdentity("alice", "pw-alice");
  auto r = ac_->bootstrap("", kNow);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  ASSERT_TRUE(ac_->reload());
  EXPECT_EQ(ac_->view()->byName("admin"), nullptr);
  auto again = ac_->bootstrap("", kNow);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->has_value());
}

TEST_F(AccessControlTest, VerifyBasicRightAndWrongPassword) {
  addIdentity("alice", "pw-alice");
  ASSERT_TRUE(ac_->reload());
  auto ok = ac_->verifyBasic("alice", "pw-alice", kNow);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->kind, Principal::Kind::kCredentials);
  EXPECT_EQ(ok->subject().subject, "id-alice");
  EXPECT_EQ(ok->subject().name, "alice");

  for (auto [user, password] : {std::pair{"alice", "wrong-secret"}, std::pair{"alice", ""},
                                std::pair{"nobody", "pw-alice"}, std::pair{"ALICE", "pw-alice"}}) {
    auto bad = ac_->verifyBasic(user, password, kNow);
    ASSERT_FALSE(bad) << user << ":" << password;
    EXPECT_EQ(bad.error().code, Code::kUnauthorized);
    if (*password) {
      EXPECT_EQ(bad.error().message.find(password), std::string::npos) << bad.error().message;
    }
  }
}

TEST_F(AccessControlTest, ExpiredCredentialOrIdentityRefused) {
  IdentityRecord r = addIdentity("alice", "pw-alice");
  r = stored("alice");
  r.credentials[0].expires_at = kNow + 10;
  update(r);
  EXPECT_TRUE(ac_->verifyBasic("alice", "pw-alice", kNow + 9));
  EXPECT_FALSE(ac_->verifyBasic("alice", "pw-alice", kNow + 10));
  r = stored("alice");
  r.credentials[0].expires_at = 0;
  r.expires_at = kNow + 20;
  update(r);
  EXPECT_TRUE(ac_->verifyBasic("alice", "pw-alice", kNow + 19));
  EXPECT_FALSE(ac_->verifyBasic("alice", "pw-alice", kNow + 20));
}

TEST_F(AccessControlTest, CachedBasicHitsOnlyAfterVerify) {
  addIdentity("alice", "pw-alice");
  ASSERT_TRUE(ac_->reload());
  EXPECT_FALSE(ac_->cachedBasic("alice", "pw-alice", kNow));
  ASSERT_TRUE(ac_->verifyBasic("alice", "pw-alice", kNow));
  auto hit = ac_->cachedBasic("alice", "pw-alice", kNow + 1);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->subject().subject, "id-alice");
  EXPECT_EQ(hit->kind, Principal::Kind::kCredentials);
  EXPECT_FALSE(ac_->cachedBasic("alice", "pw-alice2", kNow + 1));
  EXPECT_FALSE(ac_->cachedBasic("bob", "pw-alice", kNow + 1));
  // Remembered for basic_cache_seconds only.
  EXPECT_TRUE(ac_->cachedBasic("alice", "pw-alice", kNow + 299));
  EXPECT_FALSE(ac_->cachedBasic("alice", "pw-alice", kNow + 300));
}

TEST_F(AccessControlTest, FailedVerifyIsNotCached) {
  addIdentity("alice", "pw-alice");
  ASSERT_TRUE(ac_->reload());
  EXPECT_FALSE(ac_->verifyBasic("alice", "guess", kNow));
  EXPECT_FALSE(ac_->cachedBasic("alice", "guess", kNow));
}

TEST_F(AccessControlTest, PasswordChangeEndsCachedEntryAndOldPassword) {
  addIdentity("alice", "old-password");
  ASSERT_TRUE(ac_->reload());
  ASSERT_TRUE(ac_->verifyBasic("alice", "old-password", kNow));
  ASSERT_TRUE(ac_->cachedBasic("alice", "old-password", kNow));

  IdentityRecord r = stored("alice");
  const int64_t version = r.credentials_version;
  r.credentials = {{"password", cheapHash("new-password"), kNow + 1, 0}};
  update(r);
  EXPECT_GT(stored("alice").credentials_version, version);

  EXPECT_FALSE(ac_->cachedBasic("alice", "old-password", kNow + 2));
  EXPECT_FALSE(ac_->verifyBasic("alice", "old-password", kNow + 2));
  EXPECT_TRUE(ac_->verifyBasic("alice", "new-password", kNow + 2));
  EXPECT_TRUE(ac_->cachedBasic("alice", "new-password", kNow + 3));
}

TEST_F(AccessControlTest, DisabledIdentityEndsEarlierBearerToken) {
  addIdentity("alice", "pw");
  addRole("alice", "push", "team/*");
  ASSERT_TRUE(ac_->reload());
  auto token = ac_->tokens().issueAccess(subjectOf("alice"), {repo("team/app", {"pull"})}, kNow);
  ASSERT_TRUE(ac_->bearer(token.token, kNow));  // now cached as well

  IdentityRecord r = stored("alice");
  r.enabled = false;
  update(r);
  auto after = ac_->bearer(token.token, kNow + 1);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Code::kUnauthorized);

  r = stored("alice");
  r.enabled = true;
  update(r);
  EXPECT_TRUE(ac_->bearer(token.token, kNow + 2));
}

TEST_F(AccessControlTest, BearerRefusesBadTokens) {
  addIdentity("alice", "pw");
  ASSERT_TRUE(ac_->reload());
  auto refresh = ac_->tokens().issueRefresh(subjectOf("alice"), kNow);
  EXPECT_FALSE(ac_->bearer(refresh.token, kNow));
  auto access = ac_->tokens().issueAccess(subjectOf("alice"), {}, kNow);
  EXPECT_TRUE(ac_->bearer(access.token, kNow));
  EXPECT_FALSE(ac_->bearer(access.token, access.expires_at));  // expired, even though cached
  EXPECT_FALSE(ac_->bearer("garbage", kNow));
  // A token for an identity that does not exist (deleted, or never here).
  auto ghost = ac_->tokens().issueAccess({"id-ghost", "ghost", {"id-ghost"}, {}}, {}, kNow);
  EXPECT_FALSE(ac_->bearer(ghost.token, kNow));
}

TEST_F(AccessControlTest, AnonymousAccessTokenIsAnonymous) {
  auto token = ac_->tokens().issueAccess({std::string(kAnonymousSubject), "", {}, {}},
                                         {repo("team/app", {"pull", "push"})}, kNow);
  auto p = ac_->bearer(token.token, kNow);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->anonymous());
  EXPECT_EQ(ac_->permissions(*p, "team/app", kNow), 0);  // anonymous pull is off
}

TEST_F(AccessControlTest, BearerPermissionsAreTokenAccessIntersectCurrentGrants) {
  addIdentity("alice", "pw");
  addRole("alice", "push", "team/*");
  ASSERT_TRUE(ac_->reload());
  Principal p = bearerFor("alice", {repo("team/app", {"pull", "push", "delete"}),
                                    repo("other/app", {"pull"})});
  EXPECT_EQ(p.kind, Principal::Kind::kBearer);
  EXPECT_EQ(ac_->permissions(p, "team/app", kNow), kPermPull | kPermPush);  // no delete role
  EXPECT_EQ(ac_->permissions(p, "other/app", kNow), 0);                    // no grant there
  EXPECT_EQ(ac_->permissions(p, "team/lib", kNow), 0);                     // not in the token

  // The same identity with Basic credentials gets its grants, unreduced.
  auto basic = ac_->verifyBasic("alice", "pw", kNow);
  ASSERT_TRUE(basic);
  EXPECT_EQ(ac_->permissions(*basic, "team/lib", kNow), kPermPull | kPermPush);

  // Grants are read now, not when the token was issued.
  ASSERT_TRUE(store_->deleteRoleAssignment("ra-alicepushteam/*"));
  addRole("alice", "pull", "team/*");
  ASSERT_TRUE(ac_->reload());
  EXPECT_EQ(ac_->permissions(p, "team/app", kNow), kPermPull);
}

TEST_F(AccessControlTest, DeletedPermissionsNeedTheirOwnTokenActions) {
  addIdentity("bob", "pw");
  addRole("bob", "push", "team/*");
  addRole("bob", "delete", "team/app");
  ASSERT_TRUE(ac_->reload());
  auto basic = ac_->verifyBasic("bob", "pw", kNow);
  ASSERT_TRUE(basic);
  EXPECT_EQ(ac_->permissions(*basic, "team/app", kNow),
            kPermPull | kPermPush | kPermDelete | kPermDeletedRead | kPermDeletedRestore);
  EXPECT_EQ(ac_->permissions(*basic, "team/lib", kNow), kPermPull | kPermPush);
  // A token is worth what it names: push and delete do not restore.
  Principal content = bearerFor("bob", {repo("team/app", {"pull", "push", "delete"})});
  EXPECT_EQ(ac_->permissions(content, "team/app", kNow) & (kPermDeletedRead | kPermDeletedRestore), 0);
  Principal read = bearerFor("bob", {repo("team/app", {"deleted_read"})});
  EXPECT_EQ(ac_->permissions(read, "team/app", kNow), kPermDeletedRead);
  Principal restore = bearerFor("bob", {repo("team/app", {"deleted_read", "deleted_restore"}),
                                        repo("team/lib", {"deleted_read", "deleted_restore"})});
  EXPECT_EQ(ac_->permissions(restore, "team/app", kNow), kPermDeletedRead | kPermDeletedRestore);
  EXPECT_EQ(ac_->permissions(restore, "team/lib", kNow), 0);  // named, but not granted
}

// A Bearer access token is limited to what it names, wherever grants are consulted: an
// owner's repository-scoped token is no admin credential, holds no "*" (usage, recycle
// bin, mount without a source) and lists only what it names unless it holds the catalog.
TEST_F(AccessControlTest, BearerTokenIsNeverWorthMoreThanItNames) {
  addIdentity("root", "pw");
  addRole("root", "owner", "*");
  ASSERT_TRUE(ac_->reload());
  EXPECT_TRUE(ac_->isAdmin(login("root", "pw"), kNow));
  Principal token = bearerFor("root", {repo("team/app", {"pull"}), repo("team/lib", {"*"})});
  EXPECT_FALSE(ac_->isAdmin(token, kNow));
  EXPECT_EQ(ac_->effectiveGrants(token, kNow),
            (Grants{{"team/app", kPermPull}, {"team/lib", kPermAllActions | kPermDeletedRead | kPermDeletedRestore}}));
  EXPECT_TRUE(ac_->mayList(token, "team/app", kNow));
  EXPECT_FALSE(ac_->mayList(token, "other/app", kNow));
  Principal catalog = bearerFor("root", {ResourceScope{"registry", "catalog", {"*"}}});
  EXPECT_TRUE(ac_->mayList(catalog, "other/app", kNow));
  EXPECT_TRUE(ac_->effectiveGrants(catalog, kNow).empty());
  EXPECT_FALSE(ac_->isAdmin(catalog, kNow));
  EXPECT_TRUE(ac_->effectiveGrants(Principal{}, kNow).empty());
}

TEST_F(AccessControlTest, RefreshTokenAsPasswordIsNotCachedPastItsExpiry) {
  addIdentity("alice", "pw");
  ASSERT_TRUE(ac_->reload());
  // Issued long ago: 10 s of validity left.
  const int64_t ttl = ac_->tokens().settings().refresh_ttl;
  auto refresh = ac_->tokens().issueRefresh(subjectOf("alice"), kNow - ttl + 10);
  ASSERT_TRUE(ac_->verifyBasic(kTokenUsername, refresh.token, kNow));
  EXPECT_TRUE(ac_->cachedBasic(kTokenUsername, refresh.token, kNow + 9));
  EXPECT_FALSE(ac_->cachedBasic(kTokenUsername, refresh.token, kNow + 10));
  EXPECT_FALSE(ac_->verifyBasic(kTokenUsername, refresh.token, kNow + 10));
}

TEST_F(AccessControlTest, DisabledIdentityGetsTheWrongPasswordAnswer) {
  addIdentity("alice", "pw-alice");
  IdentityRecord r = stored("alice");
  r.enabled = false;
  update(r);
  auto right = ac_->verifyBasic("alice", "pw-alice", kNow);
  auto wrong = ac_->verifyBasic("alice", "not-the-password", kNow);
  ASSERT_FALSE(right);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(right.error().code, wrong.error().code);
  EXPECT_EQ(right.error().message, wrong.error().message);
  r = stored("alice");
  r.enabled = true;
  r.expires_at = kNow - 1;
  update(r);
  right = ac_->verifyBasic("alice", "pw-alice", kNow);
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().message, wrong.error().message);
}

TEST_F(AccessControlTest, TokenIdentityPermissionsFollowItsScopeMap) {
  ASSERT_TRUE(store_->putScopeMap({"ci", "", {{"team/app", {"content/read"}}}, kNow, kNow}));
  IdentityRecord tok;
  tok.id = "id-ci-token";
  tok.name = "ci-token";
  tok.kind = IdentityKind::kToken;
  tok.scope_map = "ci";
  tok.credentials = {{"password1", cheapHash("tok-secret"), kNow, 0}};
  ASSERT_TRUE(store_->createIdentity(tok));
  ASSERT_TRUE(ac_->reload());
  auto p = ac_->verifyBasic("ci-token", "tok-secret", kNow);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(ac_->permissions(*p, "team/app", kNow), kPermPull);
  EXPECT_EQ(ac_->permissions(*p, "team/other", kNow), 0);
  EXPECT_FALSE(ac_->isAdmin(*p, kNow));
}

TEST_F(AccessControlTest, RefreshTokenRevokedByVersionBump) {
  addIdentity("alice", "pw");
  ASSERT_TRUE(ac_->reload());
  auto refresh = ac_->tokens().issueRefresh(subjectOf("alice"), kNow);
  auto subject = ac_->refresh(refresh.token, kNow + 1);
  ASSERT_TRUE(subject) << subject.error().message;
  EXPECT_EQ(subject->subject, "id-alice");

  // The identity-token login docker and the ACR CLI use.
  auto basic = ac_->verifyBasic(kTokenUsername, refresh.token, kNow + 1);
  ASSERT_TRUE(basic) << basic.error().message;
  EXPECT_EQ(basic->subject().subject, "id-alice");
  EXPECT_TRUE(ac_->cachedBasic(kTokenUsername, refresh.token, kNow + 2));

  IdentityRecord r = stored("alice");
  r.credentials = {{"password", cheapHash("new-pw"), kNow + 3, 0}};
  update(r);
  auto after = ac_->refresh(refresh.token, kNow + 4);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, Code::kUnauthorized);
  EXPECT_FALSE(ac_->verifyBasic(kTokenUsername, refresh.token, kNow + 4));
  EXPECT_FALSE(ac_->cachedBasic(kTokenUsername, refresh.token, kNow + 4));
  // A refresh token issued after the change works.
  auto fresh = ac_->tokens().issueRefresh(subjectOf("alice"), kNow + 5);
  EXPECT_TRUE(ac_->refresh(fresh.token, kNow + 5));
}

TEST_F(AccessControlTest, TokenUsernameDoesNotTakeAnAccessTokenOrPassword) {
  addIdentity("alice", "pw");
  ASSERT_TRUE(ac_->reload());
  auto access = ac_->tokens().issueAccess(subjectOf("alice"), {}, kNow);
  EXPECT_FALSE(ac_->verifyBasic(kTokenUsername, access.token, kNow));
  EXPECT_FALSE(ac_->verifyBasic(kTokenUsername, "pw", kNow));
}

TEST_F(AccessControlTest, IsAdmin) {
  addIdentity("root", "pw");
  addRole("root", "owner", "*");
  addIdentity("teamowner", "pw");
  addRole("teamowner", "owner", "team/*");
  ASSERT_TRUE(ac_->reload());
  EXPECT_TRUE(ac_->isAdmin(login("root", "pw"), kNow));
  EXPECT_FALSE(ac_->isAdmin(login("teamowner", "pw"), kNow));
  EXPECT_FALSE(ac_->isAdmin(Principal{}, kNow));
  // Admin ends with the identity.
  IdentityRecord r = stored("root");
  Principal root = login("root", "pw");
  r.enabled = false;
  update(r);
  EXPECT_FALSE(ac_->isAdmin(root, kNow));
}

TEST_F(AccessControlTest, AuthorizeAnonymous) {
  const std::vector<ResourceScope> requested = {repo("team/app", {"pull", "push"}),
                                                ResourceScope{"registry", "catalog", {"*"}}};
  Principal anonymous;
  EXPECT_TRUE(ac_->authorize(anonymous, requested, kNow).empty());
  EXPECT_EQ(ac_->permissions(anonymous, "team/app", kNow), 0);

  ASSERT_TRUE(store_->setSetting(kSettingAnonymousPull, "true"));
  ASSERT_TRUE(ac_->reload());
  auto granted = ac_->authorize(anonymous, requested, kNow);
  EXPECT_EQ(granted, (std::vector<ResourceScope>{repo("team/app", {"pull"})}));
  EXPECT_EQ(ac_->permissions(anonymous, "team/app", kNow), kPermPull);
}

TEST_F(AccessControlTest, AuthorizeReducesToCurrentGrants) {
  addIdentity("alice", "pw");
  addRole("alice", "pull", "team/*");
  addIdentity("root", "pw");
  addRole("root", "owner", "*");
  ASSERT_TRUE(ac_->reload());
  const std::vector<ResourceScope> requested = {repo("team/app", {"pull", "push"}),
                                                repo("other/app", {"pull"}),
                                                ResourceScope{"registry", "catalog", {"*"}}};
  auto alice = ac_->authorize(login("alice", "pw"), requested, kNow);
  EXPECT_EQ(alice, (std::vector<ResourceScope>{repo("team/app", {"pull"}),
                                               ResourceScope{"registry", "catalog", {"*"}}}));
  auto root = ac_->authorize(login("root", "pw"), requested, kNow);
  EXPECT_EQ(root, requested);
}

std::string idToken(json::object claims) {
  return testing::rsaToken(testing::rsaHeader(), claims);
}

json::object oidcClaims(std::string sub) {
  return json::object{{"iss", kIdp},          {"aud", "berth-client"}, {"sub", std::move(sub)},
                      {"exp", kNow + 300},    {"iat", kNow},           {"email", "dev@example.com"},
                      {"email_verified", true},                        {"groups", json::array{"platform"}}};
}

TEST_F(AccessControlTest, FederatedMapsIdTokenToIdentities) {
  IdentityRecord by_group = addIdentity("platform-team", "", IdentityKind::kFederated);
  by_group = stored("platform-team");
  by_group.issuer = kIdp;
  by_group.claim = "groups";
  by_group.claim_value = "platform";
  ASSERT_TRUE(store_->updateIdentity(by_group));
  addRole("platform-team", "push", "platform/*");
  ASSERT_TRUE(ac_->reload());

  auto subject = ac_->federated(idToken(oidcClaims("u-1")), kNow);
  ASSERT_TRUE(subject) << subject.error().message;
  EXPECT_EQ(subject->subject, std::string("oidc:") + std::string(kIdp) + "#u-1");
  EXPECT_EQ(subject->name, "dev@example.com");
  EXPECT_EQ(subject->identity_ids, std::vector<std::string>{"id-platform-team"});
  EXPECT_EQ(effectivePermissions(ac_->grants(*subject, kNow), "platform/app"),
            kPermPull | kPermPush);

  json::object wrong_aud = oidcClaims("u-1");
  wrong_aud["aud"] = "someone-else";
  EXPECT_FALSE(ac_->federated(idToken(wrong_aud), kNow));
  json::object other_group = oidcClaims("u-1");
  other_group["groups"] = json::array{"finance"};
  EXPECT_FALSE(ac_->federated(idToken(other_group), kNow));
  json::object untrusted = oidcClaims("u-1");
  untrusted["iss"] = "https://evil.example";
  EXPECT_FALSE(ac_->federated(idToken(untrusted), kNow));
  EXPECT_FALSE(ac_->federated(idToken(oidcClaims("u-1")), kNow + 1000));  // expired
  EXPECT_FALSE(ac_->federated("garbage", kNow));

  // A federated identity has no password to log in with.
  EXPECT_FALSE(ac_->verifyBasic("platform-team", "", kNow));

  by_group = stored("platform-team");
  by_group.enabled = false;
  update(by_group);
  EXPECT_FALSE(ac_->federated(idToken(oidcClaims("u-1")), kNow));
}

// Many issuers let a user type any address: the email claim proves nothing unless the
// issuer says it verified it.
TEST_F(AccessControlTest, FederatedEmailClaimNeedsEmailVerified) {
  IdentityRecord by_email = addIdentity("dev", "", IdentityKind::kFederated);
  by_email = stored("dev");
  by_email.issuer = kIdp;
  by_email.claim = "email";
  by_email.claim_value = "dev@example.com";
  ASSERT_TRUE(store_->updateIdentity(by_email));
  IdentityRecord by_sub = addIdentity("u-3", "", IdentityKind::kFederated);
  by_sub = stored("u-3");
  by_sub.issuer = kIdp;
  by_sub.claim = "sub";
  by_sub.claim_value = "u-3";
  ASSERT_TRUE(store_->updateIdentity(by_sub));
  ASSERT_TRUE(ac_->reload());

  json::object claims = oidcClaims("u-2");
  auto verified = ac_->federated(idToken(claims), kNow);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->identity_ids, std::vector<std::string>{"id-dev"});
  for (const json::value& v : {json::value(false), json::value("true"), json::value(1), json::value(nullptr)}) {
    claims["email_verified"] = v;
    EXPECT_FALSE(ac_->federated(idToken(claims), kNow)) << json::serialize(v);
  }
  claims.erase("email_verified");
  EXPECT_FALSE(ac_->federated(idToken(claims), kNow));
  // An unverified address is not the display name either.
  claims["sub"] = "u-3";
  auto by_subject = ac_->federated(idToken(claims), kNow);
  ASSERT_TRUE(by_subject) << by_subject.error().message;
  EXPECT_EQ(by_subject->identity_ids, std::vector<std::string>{"id-u-3"});
  EXPECT_EQ(by_subject->name, "u-3");
}

}  // namespace
}  // namespace berth::auth
