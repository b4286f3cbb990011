#pragma once
// The MetaStore conformance suite: every implementation instantiates it with a factory
//   INSTANTIATE_TEST_SUITE_P(Impl, MetaStoreContract, testing::Values(StoreFactory{...}),
//                            storeFactoryName);
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/result.h"
#include "meta/meta_store.h"

namespace berth::meta::testing {

// The backing storage of one test (a temp file, a scratch database, ...). Removed when
// destroyed. open() may be called again after the previous store is destroyed and must
// see the same data: that is how the suite checks durability across a restart.
class StoreEnv {
 public:
  virtual ~StoreEnv() = default;
  virtual Result<std::unique_ptr<MetaStore>> open() = 0;
  // Runs `sql` (written to be valid on every driver) on the storage directly, outside any
  // store: the first column of the first row, or "" when none.
  virtual std::string rawQuery(const std::string& sql) = 0;
};

struct StoreFactory {
  std::string name;  // test-name suffix: letters, digits and '_' only
  std::function<std::unique_ptr<StoreEnv>()> make;
};

// Names the parameter in test output instead of dumping its bytes.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

inline std::string storeFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

// A test on one store of each driver (StoreFactory): `store()` is a MetaStore on fresh
// storage; the sub-stores come from its virtuals.
class StoreTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  // make() returns nullptr when the store's server is not installed: the test skips (a
  // factory that must not skip reports the failure itself).
  void SetUp() override {
    env_ = GetParam().make();
    if (env_ == nullptr) GTEST_SKIP() << GetParam().name << " is not available here";
    reopen();
  }
  void TearDown() override {
    store_.reset();
    env_.reset();
  }
  // Closes the store (if open) and opens it again on the same storage.
  void reopen() {
    store_.reset();
    auto opened = env_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }
  MetaStore& store() { return *store_; }
  std::string rawQuery(const std::string& sql) { return env_->rawQuery(sql); }

  std::unique_ptr<StoreEnv> env_;
  std::unique_ptr<MetaStore> store_;
};

class MetaStoreContract : public StoreTest {};

// The rules suite (rules_contract_test.cpp) on the same fixture: locks, quotas, the
// recycle bin, as every store must enforce them.
class RulesContract : public MetaStoreContract {};

// What the nodes of a fleet share (fleet_store.h): fleet_contract_test.cpp.
class FleetContract : public MetaStoreContract {};

// The drivers, for INSTANTIATE_TEST_SUITE_P (store_factories.cpp). PostgreSQL's skips
// where the server binaries are missing (fails with CI=true).
StoreFactory sqliteFactory();
StoreFactory pgFactory();
inline auto allStores() { return ::testing::Values(sqliteFactory(), pgFactory()); }

}  // namespace berth::meta::testing
