#pragma once
// Records, assertions and a fixture (fresh storage per test, on every driver) for the
// IdentityStore tests.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "meta/identity_store.h"
#include "meta_store_contract.h"

namespace berth::meta::testing {

inline constexpr IdentityKind kAllKinds[] = {IdentityKind::kUser, IdentityKind::kServicePrincipal,
                                             IdentityKind::kToken, IdentityKind::kFederated};

inline ::testing::AssertionResult ok(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "failed: " << s.error().message;
}

// Status::code() of a success is meaningless, hence this.
inline ::testing::AssertionResult fails(const Status& s, Code code) {
  if (s.ok()) return ::testing::AssertionFailure() << "succeeded";
  if (s.error().code != code) {
    return ::testing::AssertionFailure()
           << "failed with code " << static_cast<int>(s.error().code) << ": " << s.error().message;
  }
  return ::testing::AssertionSuccess();
}

// A record with every field set, timestamps fixed so it compares equal when read back.
inline IdentityRecord identity(const std::string& name, IdentityKind kind) {
  IdentityRecord r;
  r.id = "id-" + name;
  r.name = name;
  r.kind = kind;
  r.description = "the " + name + " identity";
  r.credentials = {{"password", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$" + name, 1000, 0}};
  r.created_at = 1000;
  r.updated_at = 1000;
  return r;
}

inline IdentityRecord token(const std::string& name, const std::string& scope_map) {
  IdentityRecord r = identity(name, IdentityKind::kToken);
  r.scope_map = scope_map;
  r.credentials = {{"password1", "$argon2id$1-" + name, 1000, 0},
                   {"password2", "$argon2id$2-" + name, 1000, 0}};
  return r;
}

inline ScopeMap scopeMap(const std::string& name) {
  ScopeMap m;
  m.name = name;
  m.description = "the " + name + " scope map";
  m.entries = {{name + "/*", {"content/read", "metadata/read"}}};
  m.created_at = 1000;
  m.updated_at = 1000;
  return m;
}

inline RoleAssignment role(const std::string& id, const std::string& identity,
                           const std::string& role, const std::string& scope) {
  return RoleAssignment{id, identity, role, scope, 1000};
}

inline bool sameSnapshot(const IdentitySnapshot& a, const IdentitySnapshot& b) {
  return a.generation == b.generation && a.identities == b.identities && a.roles == b.roles &&
         a.scope_maps == b.scope_maps && a.settings == b.settings;
}

// store_ (the IdentityStore) hides StoreTest's MetaStore, which SetUp closes: meta_ is the
// MetaStore here.
class IdentityStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    StoreTest::store_.reset();
    reopen();
  }

  // Closes both stores and opens the storage again.
  void reopen() {
    store_.reset();
    meta_.reset();
    auto meta = env_->open();
    ASSERT_TRUE(meta.ok()) << meta.error().message;
    meta_ = std::move(*meta);
    store_ = meta_->identityStore();
  }

  IdentitySnapshot snap() {
    auto s = store_->snapshot();
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : IdentitySnapshot{};
  }

  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<IdentityStore> store_;
};

}  // namespace berth::meta::testing
