// PgMetaStore: the conformance and rules suites on a real PostgreSQL (a fresh database per
// test), plus what only this driver has: open errors naming meta.dsn without secrets,
// concurrent openers migrating one database, exact quotas under racing nodes, and a
// server restart under an open store.
#include "meta/postgres/pg_meta_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "manifest_fixtures.h"
#include "meta/quota_store.h"
#include "meta_store_contract.h"
#include "oci/digest.h"
#include "pg_test_server.h"

namespace berth::meta::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Postgres, MetaStoreContract, ::testing::Values(pgFactory()), storeFactoryName);
INSTANTIATE_TEST_SUITE_P(Postgres, RulesContract, ::testing::Values(pgFactory()), storeFactoryName);
INSTANTIATE_TEST_SUITE_P(Postgres, FleetContract, ::testing::Values(pgFactory()), storeFactoryName);

// A fresh database, dropped at the end.
struct ScratchDb {
  explicit ScratchDb(PgTestServer& s) : server(s), dsn(s.createDatabase()) {}
  ~ScratchDb() { server.dropDatabase(dsn); }
  PgTestServer& server;
  std::string dsn;
};

std::string queryOne(const std::string& dsn, const char* sql) { return pgQuery(dsn, sql); }

std::unique_ptr<PgMetaStore> openOrFail(const std::string& dsn, size_t pool = 8) {
  auto store = PgMetaStore::open(PgOptions{dsn, pool});
  EXPECT_TRUE(store.ok()) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

TEST(PgMetaStore, OpenNamesMetaDsnAndNeverTheSecret) {
  // No server is needed: nothing listens on port 1, the socket dir does not exist.
  for (const std::string dsn : {"postgresql://berth:s3cretpw@127.0.0.1:1/berth?connect_timeout=2",
                                "host=/nonexistent/dir port=5432 user=berth password=s3cretpw dbname=berth",
                                "postgresql://berth:s3cretpw@127.0.0.1:notaport/berth",
                                "not a dsn password=s3cretpw ="}) {
    SCOPED_TRACE(dsn);
    auto store = PgMetaStore::open(PgOptions{dsn, 2});
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.error().code, Code::kUnavailable);
    EXPECT_NE(store.error().message.find("meta.dsn"), std::string::npos) << store.error().message;
    EXPECT_EQ(store.error().message.find("s3cretpw"), std::string::npos) << store.error().message;
  }
}

TEST(PgMetaStore, CreatesVersionedSchemaOnceForConcurrentOpeners) {
  BERTH_REQUIRE_PG(server);
  ScratchDb db(*server);
  // Nodes starting at the same time: each migrates under the advisory lock or finds it done.
  std::vector<std::thread> nodes;
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex mu;
  for (int i = 0; i < 6; ++i) {
    nodes.emplace_back([&] {
      auto store = PgMetaStore::open(PgOptions{db.dsn, 2});
      if (!store) {
        std::lock_guard lock(mu);
        if (failures++ == 0) first_error = store.error().message;
      }
    });
  }
  for (auto& t : nodes) t.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  EXPECT_EQ(queryOne(db.dsn, "SELECT COUNT(*) FROM schema_version"), "1");
  EXPECT_EQ(queryOne(db.dsn, "SELECT version FROM schema_version"), std::to_string(PgMetaStore::schemaVersion()));
}

TEST(PgMetaStore, RefusesANewerSchema) {
  BERTH_REQUIRE_PG(server);
  ScratchDb db(*server);
  { ASSERT_NE(openOrFail(db.dsn), nullptr); }
  const std::string bump =
      "UPDATE schema_version SET version = " + std::to_string(PgMetaStore::schemaVersion() + 1);
  queryOne(db.dsn, bump.c_str());
  auto store = PgMetaStore::open(PgOptions{db.dsn, 2});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Code::kUnsupported);
}

// Two nodes (two stores, each with its own pool) race uploads and pushes into one quota:
// exactly as many commit as fit, the counter equals what was committed.
TEST(PgMetaStore, QuotaIsExactUnderRacingNodes) {
  BERTH_REQUIRE_PG(server);
  ScratchDb db(*server);
  auto node_a = openOrFail(db.dsn, 4);
  auto node_b = openOrFail(db.dsn, 4);
  ASSERT_TRUE(node_a && node_b);
  constexpr uint64_t kSize = 100;
  constexpr int kFit = 10;
  ASSERT_TRUE(node_a->quotaStore()->setQuota("team/*", kSize * kFit, nullptr).ok());

  constexpr int kThreads = 8, kEach = 4;  // 32 uploads for room of 10
  std::atomic<int> committed{0}, denied{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MetaStore& node = t % 2 == 0 ? static_cast<MetaStore&>(*node_a) : *node_b;
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "u-" + std::to_string(t) + "-" + std::to_string(i);
        const std::string repo = "team/r" + std::to_string(t % 3);
        if (!node.createUpload(UploadRecord{id, repo, 0, 1, 1}).ok()) ++other;
        auto s = node.completeUpload(id, oci::digestOf(id), kSize);
        if (s.ok()) {
          ++committed;
        } else if (s.code() == Code::kDenied) {
          ++denied;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(committed.load(), kFit);
  EXPECT_EQ(denied.load(), kThreads * kEach - kFit);
  EXPECT_EQ(node_b->quotaStore()->getQuota("team/*")->used_bytes, kSize * kFit);

  // Manifests race the same way once the limit leaves room for some.
  ASSERT_TRUE(node_a->quotaStore()->setQuota("team/*", kSize * kFit + 5 * 20, nullptr).ok());
  committed = 0;
  denied = 0;
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      MetaStore& node = t % 2 == 0 ? static_cast<MetaStore&>(*node_a) : *node_b;
      for (int i = 0; i < kEach; ++i) {
        PutManifestRequest req;
        req.repository = "team/m";
        char bytes[32];
        std::snprintf(bytes, sizeof bytes, "{\"m\":\"%02d-%02d-xxxxxx\"}", t, i);
        EXPECT_EQ(std::string(bytes).size(), 20u);
        req.manifest.bytes = bytes;
        req.manifest.digest = oci::digestOf(req.manifest.bytes);
        req.manifest.media_type = kImageType;
        auto s = node.putManifest(req);
        if (s.ok()) {
          ++committed;
        } else if (s.code() == Code::kDenied) {
          ++denied;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(committed.load(), 5);
  EXPECT_EQ(node_a->quotaStore()->getQuota("team/*")->used_bytes, kSize * kFit + 5 * 20);
  EXPECT_EQ(queryOne(db.dsn, "SELECT SUM(size) FROM manifests"), "100");
}

// The server restarts (and is down for a moment) under an open store: every call either
// succeeds or fails with kUnavailable, and the store works again afterwards.
TEST(PgMetaStore, SurvivesAServerRestart) {
  BERTH_REQUIRE_PG(server);
  ScratchDb db(*server);
  auto store = openOrFail(db.dsn, 4);
  ASSERT_NE(store, nullptr);
  putImage(*store, "r", "before", {"l0"}, "v0");

  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, unavailable{0}, other{0};
  std::string other_error;
  std::mutex mu;
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !done; ++i) {
        const std::string layer = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto s = store->linkBlob("r", oci::digestOf(layer), layer.size());
        auto r = store->resolveTag("r", "v0");
        for (Code code : {s.ok() ? Code::kInternal : s.code(), r.ok() ? Code::kInternal : r.code()}) {
          if (code == Code::kInternal) {
            ++ok;
          } else if (code == Code::kUnavailable) {
            ++unavailable;
          } else {
            std::lock_guard lock(mu);
            if (other++ == 0) other_error = !s.ok() ? s.error().message : r.error().message;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(server->stop());
  // Down: a call fails as unavailable (HTTP 503), it does not hang or crash.
  // EXPECT, not ASSERT: the server must come back for the tests after this one.
  auto down = store->resolveTag("r", "v0");
  EXPECT_FALSE(down.ok());
  if (!down.ok()) {
    EXPECT_EQ(down.code(), Code::kUnavailable) << down.error().message;
  }
  ASSERT_TRUE(server->start());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(server->restart());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  done = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(other.load(), 0) << other_error;
  EXPECT_GT(unavailable.load(), 0);
  // Reconnected: the first call after the restart succeeds (stale connections are dropped
  // and the transaction runs again on a new one).
  auto tag = store->resolveTag("r", "v0");
  ASSERT_TRUE(tag.ok()) << tag.error().message;
  putImage(*store, "r", "after", {"l1"}, "v1");
  EXPECT_TRUE(store->resolveTag("r", "v1").ok());
}

}  // namespace
}  // namespace berth::meta::testing
