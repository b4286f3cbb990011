// UsageRecorder over a real SQLite UsageStore: reads are exact before a flush, counters
// add up across flushes, last times keep the latest, a failed flush loses nothing, and
// concurrent recording while flushing counts every event once.
#include "registry/usage_recorder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "meta/sqlite/sqlite_meta_store.h"

namespace berth::registry {
namespace {

using meta::Traffic;
using meta::TrafficKind;
using namespace std::chrono_literals;

constexpr std::string_view kDigestA = "sha256:aaaa";
constexpr std::string_view kDigestB = "sha256:bbbb";

// Passes everything to the real store, except addTraffic while `fail` is set.
class FlakyStore : public meta::UsageStore {
 public:
  explicit FlakyStore(std::unique_ptr<meta::UsageStore> inner) : inner_(std::move(inner)) {}
  Result<meta::StorageTotals> storageTotals() override { return inner_->storageTotals(); }
  Result<std::vector<meta::RepositoryStorage>> repositoryStorage(std::string_view last, size_t n) override {
    return inner_->repositoryStorage(last, n);
  }
  Result<meta::RepositoryUsage> repositoryUsage(std::string_view r) override { return inner_->repositoryUsage(r); }
  Status addTraffic(const std::vector<meta::TrafficRow>& rows) override {
    if (fail) return makeError(Code::kUnavailable, "database is busy");
    ++flushes;
    return inner_->addTraffic(rows);
  }
  Result<Traffic> trafficTotal() override { return inner_->trafficTotal(); }
  Result<std::vector<meta::TrafficRow>> repositoryTraffic(std::string_view r) override {
    return inner_->repositoryTraffic(r);
  }
  Result<Traffic> traffic(TrafficKind kind, std::string_view r, std::string_view name) override {
    return inner_->traffic(kind, r, name);
  }
  std::atomic<bool> fail{false};
  std::atomic<int> flushes{0};

 private:
  std::unique_ptr<meta::UsageStore> inner_;
};

class UsageRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-usage-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto meta = meta::SqliteMetaStore::open((dir_ / "meta.db").string());
    ASSERT_TRUE(meta.ok()) << meta.error().message;
    meta_ = std::move(*meta);
    store_ = std::make_shared<FlakyStore>(meta_->usageStore());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Traffic stored(TrafficKind kind, std::string_view repo, std::string_view name) {
    auto t = meta_->usageStore()->traffic(kind, repo, name);
    EXPECT_TRUE(t.ok());
    return t.ok() ? *t : Traffic{};
  }
  Traffic row(UsageRecorder& r, std::string_view repo, TrafficKind kind, std::string_view name) {
    auto rows = r.repository(repo);
    EXPECT_TRUE(rows.ok());
    for (const auto& x : *rows) {
      if (x.kind == kind && x.name == name) return x.traffic;
    }
    return {};
  }

  std::filesystem::path dir_;
  std::unique_ptr<meta::SqliteMetaStore> meta_;
  std::shared_ptr<FlakyStore> store_;
};

TEST_F(UsageRecorderTest, ReadsAreExactBeforeAndAfterFlushes) {
  UsageRecorder r(store_, 1h);  // never flushes on its own here
  r.pulled("team/app", kDigestA, "v1", 100, 1000);
  r.pulled("team/app", kDigestA, "", 100, 1005);
  r.pushed("team/app", kDigestA, "v1", 100, 900);
  r.served("team/app", 5000);
  r.received("team/app", 7000);
  r.pulled("other", kDigestB, "latest", 10, 990);

  // Nothing stored yet, and the reads already see everything.
  EXPECT_TRUE(stored(TrafficKind::kRepository, "team/app", "").empty());
  Traffic repo = row(r, "team/app", TrafficKind::kRepository, "");
  EXPECT_EQ(repo.pulls, 2u);
  EXPECT_EQ(repo.pushes, 1u);
  EXPECT_EQ(repo.bytes_served, 5200u);
  EXPECT_EQ(repo.bytes_received, 7100u);
  EXPECT_EQ(repo.last_pulled, 1005);
  EXPECT_EQ(repo.last_pushed, 900);
  EXPECT_EQ(row(r, "team/app", TrafficKind::kManifest, kDigestA).pulls, 2u);
  EXPECT_EQ(row(r, "team/app", TrafficKind::kTag, "v1").pulls, 1u);  // the by-digest pull is not the tag's
  EXPECT_EQ(row(r, "team/app", TrafficKind::kTag, "v1").pushes, 1u);
  EXPECT_EQ(*r.lastPulled("team/app", kDigestA), 1005);
  EXPECT_EQ(*r.lastPulledTag("team/app", "v1"), 1000);
  EXPECT_EQ(*r.lastPulled("team/app", kDigestB), 0);

  ASSERT_TRUE(r.flush().ok());
  EXPECT_EQ(stored(TrafficKind::kRepository, "team/app", "").pulls, 2u);
  EXPECT_EQ(stored(TrafficKind::kManifest, "team/app", kDigestA).last_pulled, 1005);

  // More after the flush: stored + pending, then summed by the next flush. An older pull
  // time does not move the last pull back.
  r.pulled("team/app", kDigestA, "v1", 100, 950);
  r.pulled("team/app", kDigestA, "v1", 100, 1010);
  EXPECT_EQ(row(r, "team/app", TrafficKind::kRepository, "").pulls, 4u);
  EXPECT_EQ(row(r, "team/app", TrafficKind::kTag, "v1").pulls, 3u);
  EXPECT_EQ(*r.lastPulled("team/app", kDigestA), 1010);
  auto total = r.total();
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->pulls, 5u);  // 4 in team/app, 1 in other
  EXPECT_EQ(total->bytes_served, 5400u + 10);

  ASSERT_TRUE(r.flush().ok());
  ASSERT_TRUE(r.flush().ok());  // nothing new: the stored numbers do not change
  const Traffic s = stored(TrafficKind::kRepository, "team/app", "");
  EXPECT_EQ(s.pulls, 4u);
  EXPECT_EQ(s.pushes, 1u);
  EXPECT_EQ(s.bytes_served, 5400u);
  EXPECT_EQ(s.last_pulled, 1010);
  EXPECT_EQ(stored(TrafficKind::kTag, "team/app", "v1").pulls, 3u);
  EXPECT_EQ(row(r, "team/app", TrafficKind::kRepository, ""), s);
  auto repos = r.repositories({"other", "team/app", "none"});
  ASSERT_TRUE(repos.ok());
  EXPECT_EQ((*repos)[0].pulls, 1u);
  EXPECT_EQ((*repos)[1], s);
  EXPECT_TRUE((*repos)[2].empty());
}

TEST_F(UsageRecorderTest, AFailedFlushKeepsItsCountsForTheNext) {
  UsageRecorder r(store_, 1h);
  r.pulled("team/app", kDigestA, "v1", 10, 100);
  store_->fail = true;
  EXPECT_FALSE(r.flush().ok());
  r.pulled("team/app", kDigestA, "v1", 10, 200);
  EXPECT_EQ(row(r, "team/app", TrafficKind::kTag, "v1").pulls, 2u);
  store_->fail = false;
  ASSERT_TRUE(r.flush().ok());
  const Traffic s = stored(TrafficKind::kTag, "team/app", "v1");
  EXPECT_EQ(s.pulls, 2u);
  EXPECT_EQ(s.last_pulled, 200);
  EXPECT_EQ(stored(TrafficKind::kRepository, "team/app", "").bytes_served, 20u);
}

TEST_F(UsageRecorderTest, StopFlushesWhatIsPending) {
  {
    UsageRecorder r(store_, 1h);
    r.start();
    r.pushed("team/app", kDigestA, "v1", 42, 500);
    r.stop();
    r.stop();  // idempotent
  }
  EXPECT_EQ(stored(TrafficKind::kRepository, "team/app", "").bytes_received, 42u);
  EXPECT_EQ(stored(TrafficKind::kManifest, "team/app", kDigestA).last_pushed, 500);
}

TEST_F(UsageRecorderTest, TheBackgroundFlusherWritesEveryInterval) {
  UsageRecorder r(store_, 10ms);
  r.start();
  r.pulled("team/app", kDigestA, "", 1, 1);
  // Wait for the flusher, not for a time: the row appears once it ran.
  for (int i = 0; i < 2000 && stored(TrafficKind::kManifest, "team/app", kDigestA).pulls == 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(stored(TrafficKind::kManifest, "team/app", kDigestA).pulls, 1u);
  r.stop();
}

TEST_F(UsageRecorderTest, ConcurrentRecordingWhileFlushingCountsEveryEventOnce) {
  UsageRecorder r(store_, 1h);
  constexpr int kThreads = 4, kEach = 5000;
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done) {
      EXPECT_TRUE(r.flush().ok());
      std::this_thread::sleep_for(1ms);
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const std::string repo = "repo" + std::to_string(t % 2);
      for (int i = 0; i < kEach; ++i) {
        r.pulled(repo, kDigestA, i % 2 ? "v1" : "", 3, 1000 + i);
        r.served(repo, 1);
      }
    });
  }
  for (auto& w : workers) w.join();
  done = true;
  flusher.join();
  auto total = r.total();
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->pulls, uint64_t{kThreads} * kEach);
  EXPECT_EQ(total->bytes_served, uint64_t{kThreads} * kEach * 4);
  EXPECT_EQ(total->last_pulled, 1000 + kEach - 1);
  ASSERT_TRUE(r.flush().ok());
  EXPECT_EQ(stored(TrafficKind::kTag, "repo0", "v1").pulls, uint64_t{kThreads / 2} * kEach / 2);
  EXPECT_GT(store_->flushes.load(), 0);
}

}  // namespace
}  // namespace berth::registry
