// Shared values and leases: every node of a fleet reads the same signing key, and one node
// at a time runs each kind of background work. Every MetaStore instantiates this suite.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "meta/fleet_store.h"
#include "meta_store_contract.h"

namespace berth::meta::testing {
namespace {

using std::chrono::seconds;

TEST_P(FleetContract, ASharedValueIsMadeOnceAndSurvivesARestart) {
  auto fleet = store().fleetStore();
  int made = 0;
  auto first = fleet->sharedValue("key", [&] { ++made; return std::string("one"); });
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, "one");
  auto again = fleet->sharedValue("key", [&] { ++made; return std::string("two"); });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "one");
  EXPECT_EQ(made, 1);
  auto other = fleet->sharedValue("other", [] { return std::string("x"); });
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, "x");
  fleet.reset();
  reopen();
  auto after = store().fleetStore()->sharedValue("key", [] { return std::string("three"); });
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, "one");
}

TEST_P(FleetContract, NodesRacingToMakeAValueAllGetTheWinner) {
  constexpr int kNodes = 8;
  std::vector<std::string> got(kNodes);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      auto fleet = store().fleetStore();
      auto v = fleet->sharedValue("signing-key", [i] { return "key-of-node-" + std::to_string(i); });
      if (v.ok()) {
        got[i] = *v;
      } else {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& v : got) EXPECT_EQ(v, got[0]);
  EXPECT_TRUE(got[0].starts_with("key-of-node-"));
}

TEST_P(FleetContract, ALeaseIsOneHoldersUntilItExpires) {
  auto fleet = store().fleetStore();
  const int64_t t0 = 1'000'000;
  EXPECT_TRUE(*fleet->acquireLease("gc", "node-a", seconds(30), t0));
  EXPECT_FALSE(*fleet->acquireLease("gc", "node-b", seconds(30), t0 + 1));
  EXPECT_TRUE(*fleet->acquireLease("gc", "node-a", seconds(30), t0 + 20));  // renewed to t0 + 50
  EXPECT_FALSE(*fleet->acquireLease("gc", "node-b", seconds(30), t0 + 49));
  EXPECT_TRUE(*fleet->acquireLease("retention", "node-b", seconds(30), t0 + 49));  // another lease
  EXPECT_TRUE(*fleet->acquireLease("gc", "node-b", seconds(30), t0 + 50));  // expired: node-a was killed
  EXPECT_FALSE(*fleet->acquireLease("gc", "node-a", seconds(30), t0 + 51));
  // Only the holder releases.
  ASSERT_TRUE(fleet->releaseLease("gc", "node-a").ok());
  EXPECT_FALSE(*fleet->acquireLease("gc", "node-c", seconds(30), t0 + 52));
  ASSERT_TRUE(fleet->releaseLease("gc", "node-b").ok());
  EXPECT_TRUE(*fleet->acquireLease("gc", "node-c", seconds(30), t0 + 52));
  // A lease outlives a restart of the store: a node restarting does not take it over.
  fleet.reset();
  reopen();
  EXPECT_FALSE(*store().fleetStore()->acquireLease("gc", "node-a", seconds(30), t0 + 60));
}

TEST_P(FleetContract, OneOfManyNodesRacingForALeaseGetsIt) {
  for (int round = 0; round < 5; ++round) {
    constexpr int kNodes = 8;
    std::atomic<int> holders{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    const std::string lease = "race-" + std::to_string(round);
    for (int i = 0; i < kNodes; ++i) {
      threads.emplace_back([&, i] {
        auto fleet = store().fleetStore();
        auto got = fleet->acquireLease(lease, "node-" + std::to_string(i), seconds(60), 5000);
        if (!got.ok()) {
          ++failures;
        } else if (*got) {
          ++holders;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(holders.load(), 1) << lease;
  }
}

}  // namespace
}  // namespace berth::meta::testing
