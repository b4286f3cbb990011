// The fleet's change feed on PostgreSQL: two PgMetaStores on one database are two nodes.
// A change through one reaches the other's handlers; awaitPropagation returns only once the
// other node handled it; a node that left or stopped beating is not waited for; a listener
// whose connection is killed stops vouching for the caches, clears them on reconnect, then
// vouches again.
#include "meta/postgres/pg_change_feed.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "identity_store_test_util.h"
#include "manifest_fixtures.h"
#include "meta/identity_store.h"
#include "meta/postgres/pg_meta_store.h"
#include "meta/webhook_store.h"
#include "pg_test_server.h"

namespace berth::meta::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Short periods: the tests wait on them.
ChangeFeedOptions fastOptions() {
  ChangeFeedOptions o;
  o.beat_every = 100ms;
  o.trust_for = 400ms;
  o.live_for = 600ms;
  o.max_wait = 5000ms;
  return o;
}

// What a node's handlers saw, for the assertions.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::multiset<std::string> repositories;
  int identities = 0;
  int webhooks = 0;
  int everything = 0;
  std::vector<std::string> log;  // "everything", "untrusted", "trusted" in order
  Clock::time_point trusted_until{};

  ChangeHandlers handlers(std::function<void(const std::string&)> on_repository = nullptr) {
    ChangeHandlers h;
    h.repository = [this, on_repository](const std::string& r) {
      if (on_repository) on_repository(r);
      note([&] { repositories.insert(r); });
    };
    h.identities = [this] { note([&] { ++identities; }); };
    h.webhooks = [this] { note([&] { ++webhooks; }); };
    h.everything = [this] { note([&] { ++everything, log.push_back("everything"); }); };
    h.trusted_until = [this](Clock::time_point t) {
      note([&] {
        const char* what = t == Clock::time_point{} ? "untrusted" : "trusted";
        if (log.empty() || log.back() != what) log.push_back(what);
        trusted_until = t;
      });
    };
    return h;
  }
  template <class Fn>
  void note(Fn fn) {
    {
      std::lock_guard lock(mu);
      fn();
    }
    cv.notify_all();
  }
  template <class Pred>
  bool waitFor(Pred pred, std::chrono::milliseconds d = 5000ms) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, d, [&] { return pred(); });
  }
  bool trusted() {
    std::lock_guard lock(mu);
    return Clock::now() < trusted_until;
  }
};

class PgChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = PgTestServer::get(&why_);
    if (server_ == nullptr) {
      if (pgRequired()) FAIL() << why_;
      GTEST_SKIP() << why_;
    }
    dsn_ = server_->createDatabase();
    a_ = open();
    b_ = open();
  }
  void TearDown() override {
    if (server_ == nullptr) return;
    feeds_.clear();  // stopped before the stores go
    a_.reset();
    b_.reset();
    server_->dropDatabase(dsn_);
  }
  std::unique_ptr<PgMetaStore> open() {
    auto store = PgMetaStore::open(PgOptions{dsn_, 4});
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  ChangeFeed& feed(PgMetaStore& store, const std::string& node, Seen& seen,
                   std::function<void(const std::string&)> on_repository = nullptr) {
    feeds_.push_back(store.changeFeed(node, fastOptions()));
    EXPECT_TRUE(feeds_.back()->start(seen.handlers(std::move(on_repository))).ok());
    EXPECT_TRUE(seen.waitFor([&] { return Clock::now() < seen.trusted_until; })) << node << " never joined";
    return *feeds_.back();
  }

  std::string why_;
  PgTestServer* server_ = nullptr;
  std::string dsn_;
  std::unique_ptr<PgMetaStore> a_, b_;
  // What the nodes' handlers saw; outlives the feeds (TearDown stops them first).
  Seen seen_a, seen_b;
  std::vector<std::unique_ptr<ChangeFeed>> feeds_;
};

TEST_F(PgChangeFeedTest, ChangesThroughOneNodeReachTheOthersHandlers) {
  feed(*b_, "b", seen_b);
  EXPECT_EQ(seen_b.everything, 1);  // a joining node starts from empty caches

  const auto digest = putImage(*a_, "team/app", "one", {"layer"}, "v1");
  EXPECT_TRUE(seen_b.waitFor([&] { return seen_b.repositories.count("team/app") > 0; }));
  ASSERT_TRUE(a_->deleteTag("team/app", "v1").ok());
  ASSERT_TRUE(a_->deleteManifest("team/app", digest).ok());
  ASSERT_TRUE(a_->unlinkBlob("team/app", oci::digestOf("layer")).ok());
  putImage(*a_, "other/app", "two", {}, "v2");
  EXPECT_TRUE(seen_b.waitFor([&] { return seen_b.repositories.count("other/app") > 0; }));

  auto identities = a_->identityStore();
  ASSERT_TRUE(identities->createIdentity(identity("alice", IdentityKind::kUser)).ok());
  EXPECT_TRUE(seen_b.waitFor([&] { return seen_b.identities > 0; }));

  auto hooks = a_->webhookStore();
  WebhookRecord w;
  w.name = "hook1";
  w.uri = "http://example.test/";
  w.actions = {"push"};
  ASSERT_TRUE(hooks->createWebhook(w).ok());
  EXPECT_TRUE(seen_b.waitFor([&] { return seen_b.webhooks == 1; }));
  // Deliveries move the cursor: not a change of the configuration.
  ASSERT_TRUE(hooks->advanceCursor("hook1", 5).ok());
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard lock(seen_b.mu);
    EXPECT_EQ(seen_b.webhooks, 1);
  }
  // A change of region alone is one: which node's replica delivers depends on it.
  w.region = "eastus";
  ASSERT_TRUE(hooks->updateWebhook(w).ok());
  EXPECT_TRUE(seen_b.waitFor([&] { return seen_b.webhooks == 2; }));
}

TEST_F(PgChangeFeedTest, AwaitPropagationReturnsOnlyAfterTheOtherNodeHandledTheChange) {
  ChangeFeed& fa = feed(*a_, "a", seen_a);
  std::atomic<int> handled{0};
  // A slow handler: the writer must wait for it, not for the notification.
  feed(*b_, "b", seen_b, [&](const std::string&) {
    std::this_thread::sleep_for(300ms);
    handled.fetch_add(1);
  });
  putImage(*a_, "team/app", "one", {}, "v1");
  fa.awaitPropagation();
  EXPECT_GE(handled.load(), 1);
  for (int i = 0; i < 3; ++i) {
    const int before = handled.load();
    putImage(*a_, "team/app", "n" + std::to_string(i), {}, "v1");  // a tag move
    const auto t0 = Clock::now();
    fa.awaitPropagation();
    EXPECT_GT(handled.load(), before) << "returned before node b handled the tag move";
    EXPECT_LT(Clock::now() - t0, 3s);
  }
}

TEST_F(PgChangeFeedTest, NodesThatLeftOrStoppedBeatingAreNotWaitedFor) {
  ChangeFeed& fa = feed(*a_, "a", seen_a);
  ChangeFeed& fb = feed(*b_, "b", seen_b);
  fb.stop();
  EXPECT_EQ(pgQuery(dsn_, "SELECT count(*) FROM nodes WHERE name = 'b'"), "0");
  // A node that died without leaving: its last heartbeat is a minute old.
  pgQuery(dsn_, "INSERT INTO nodes(name, seen_change, beat_at) VALUES ('ghost', 0, changes_now_ms() - 60000)");
  putImage(*a_, "team/app", "one", {}, "v1");
  const auto t0 = Clock::now();
  fa.awaitPropagation();
  EXPECT_LT(Clock::now() - t0, 500ms);
}

TEST_F(PgChangeFeedTest, AWriterWaitsForALiveNodeThatLagsUntilItsHeartbeatIsStale) {
  ChangeFeed& fa = feed(*a_, "a", seen_a);
  // A node that beat just now and never handles anything: waited for until its heartbeat
  // is older than live_for (by then its caches are no longer trusted), not forever.
  pgQuery(dsn_, "INSERT INTO nodes(name, seen_change, beat_at) VALUES ('stuck', 0, changes_now_ms())");
  putImage(*a_, "team/app", "one", {}, "v1");
  const auto t0 = Clock::now();
  fa.awaitPropagation();
  const auto waited = Clock::now() - t0;
  EXPECT_GE(waited, 400ms);
  EXPECT_LT(waited, 2s);
}

TEST_F(PgChangeFeedTest, AListenerThatLostItsConnectionStopsTrustingThenClearsAndRecovers) {
  feed(*b_, "b", seen_b);
  ASSERT_TRUE(seen_b.trusted());
  const std::string killed = pgQuery(
      dsn_, std::string("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '") +
                PgChangeFeed::kApplicationName + "' AND datname = current_database()");
  ASSERT_EQ(killed, "1");
  // Untrusted as soon as the loss is noticed, cleared on reconnect, then trusted again.
  ASSERT_TRUE(seen_b.waitFor([&] { return seen_b.everything >= 2 && Clock::now() < seen_b.trusted_until; }));
  {
    std::lock_guard lock(seen_b.mu);
    const std::vector<std::string> expected{"everything", "trusted", "untrusted", "everything", "trusted"};
    EXPECT_EQ(seen_b.log, expected);
  }
  // And it hears changes again.
  putImage(*a_, "team/app", "one", {}, "v1");
  EXPECT_TRUE(seen_b.waitFor([&] { return seen_b.repositories.count("team/app") > 0; }));
}

}  // namespace
}  // namespace berth::meta::testing
