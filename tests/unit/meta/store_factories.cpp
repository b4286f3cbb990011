// The StoreEnv of each driver: SQLite on a temp file, PostgreSQL on a fresh database of the
// test server (pg_test_server.cpp).
#include "meta/sqlite/sqlite_meta_store.h"
#include "meta_store_contract.h"
#include "pg_test_server.h"
#include "sqlite_test_files.h"

namespace berth::meta::testing {
namespace {

class SqliteEnv : public StoreEnv {
 public:
  Result<std::unique_ptr<MetaStore>> open() override {
    auto store = SqliteMetaStore::open(dir_.db());
    if (!store) return store.takeError();
    return std::unique_ptr<MetaStore>(std::move(*store));
  }
  std::string rawQuery(const std::string& sql) override { return testing::rawQuery(dir_.db(), sql); }

 private:
  TempDir dir_;
};

}  // namespace

StoreFactory sqliteFactory() {
  return StoreFactory{"Sqlite", [] { return std::unique_ptr<StoreEnv>(std::make_unique<SqliteEnv>()); }};
}

}  // namespace berth::meta::testing
