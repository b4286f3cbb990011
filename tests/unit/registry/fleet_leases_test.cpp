// One node of a fleet runs each scheduled job per period, one node delivers webhooks, and
// a node that stops (or dies) hands its work over.
#include "registry/fleet_leases.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "meta/fleet_store.h"
#include "meta/sqlite/sqlite_meta_store.h"
#include "scratch_registry.h"

namespace berth::registry {
namespace {

using std::chrono::seconds;

class FleetLeasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::scratchDir("fleet-leases");
    auto opened = meta::SqliteMetaStore::open((dir_ / "meta.db").string());
    ASSERT_TRUE(opened);
    meta_ = std::move(*opened);
  }
  void TearDown() override {
    meta_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<FleetLeases> node(const std::string& name, seconds ttl = seconds(30)) {
    return std::make_unique<FleetLeases>(std::shared_ptr<meta::FleetStore>(meta_->fleetStore()), name, ttl);
  }

  std::filesystem::path dir_;
  std::unique_ptr<meta::SqliteMetaStore> meta_;
};

TEST_F(FleetLeasesTest, AScheduledJobRunsOnOneNodePerPeriod) {
  auto a = node("a"), b = node("b");
  int runs = 0;
  EXPECT_TRUE(a->runScheduled("gc", seconds(3600), [&] { ++runs; }));
  // b's timer fires a moment later: the run is done for this period
  EXPECT_FALSE(b->runScheduled("gc", seconds(3600), [&] { ++runs; }));
  EXPECT_EQ(runs, 1);
  // a's next period: a takes it again (its own lease)
  EXPECT_TRUE(a->runScheduled("gc", seconds(3600), [&] { ++runs; }));
  // another job is another lease
  EXPECT_TRUE(b->runScheduled("retention", seconds(3600), [&] { ++runs; }));
  EXPECT_EQ(runs, 3);
}

TEST_F(FleetLeasesTest, WhileAJobRunsNoOtherNodeStartsIt) {
  auto a = node("a"), b = node("b");
  std::atomic<bool> inside{false}, b_ran{false};
  std::thread t([&] {
    a->runScheduled("gc", seconds(1), [&] {
      inside = true;
      b_ran = b->runScheduled("gc", seconds(1), [] {});
    });
  });
  t.join();
  EXPECT_TRUE(inside);
  EXPECT_FALSE(b_ran);
}

TEST_F(FleetLeasesTest, OneNodeDeliversAndAStoppedNodeHandsOver) {
  auto a = node("a", seconds(3)), b = node("b", seconds(3));
  a->want("webhooks");
  b->want("webhooks");
  a->start();
  b->start();
  EXPECT_TRUE(a->holds("webhooks"));
  EXPECT_FALSE(b->holds("webhooks"));
  a->stop();  // releases: b takes it on its next heartbeat (every ttl/3)
  EXPECT_FALSE(a->holds("webhooks"));
  for (int i = 0; i < 50 && !b->holds("webhooks"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(b->holds("webhooks"));
}

TEST_F(FleetLeasesTest, ANodeThatDiesLosesItsLeaseWhenItExpires) {
  auto fleet = std::shared_ptr<meta::FleetStore>(meta_->fleetStore());
  // "dead" took the lease 10 s ago with a 3 s expiry and never renewed it
  const int64_t now = std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(*fleet->acquireLease("webhooks", "dead", seconds(3), now - 10));
  auto b = node("b", seconds(3));
  b->want("webhooks");
  EXPECT_TRUE(b->holds("webhooks"));
  // while a live holder's lease runs, nobody else gets it
  ASSERT_TRUE(*fleet->acquireLease("gc", "alive", seconds(600), now));
  EXPECT_FALSE(b->runScheduled("gc", seconds(60), [] {}));
}

}  // namespace
}  // namespace berth::registry
