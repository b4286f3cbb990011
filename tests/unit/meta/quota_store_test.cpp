// The QuotaStore and the quota checks of the MetaStore's commits, on every driver (SQLite,
// PostgreSQL): exact boundaries for the registry and a pattern, deduplication, manifests,
// deletes keeping the counters right, and racing commits that must not overshoot.
#include "meta/quota_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "meta/usage_store.h"
#include "meta_store_contract.h"
#include "oci/digest.h"

namespace berth::meta::testing {
namespace {

oci::Digest d(std::string_view name) { return oci::digestOf(name); }

class QuotaStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    meta_ = store_.get();
    quotas_ = meta_->quotaStore();
    usage_ = meta_->usageStore();
  }

  void set(std::string_view pattern, uint64_t limit) {
    auto q = quotas_->setQuota(pattern, limit);
    ASSERT_TRUE(q.ok()) << q.error().message;
  }
  uint64_t used(std::string_view pattern) {
    auto q = quotas_->getQuota(pattern);
    EXPECT_TRUE(q.ok());
    return q ? q->used_bytes : ~0ull;
  }
  // The usage counted from scratch: the quota deleted and set again.
  uint64_t recounted(std::string_view pattern) {
    auto q = quotas_->getQuota(pattern);
    EXPECT_TRUE(q.ok());
    EXPECT_TRUE(quotas_->deleteQuota(pattern).ok());
    auto again = quotas_->setQuota(pattern, q->limit_bytes);
    EXPECT_TRUE(again.ok());
    return again->used_bytes;
  }
  Status link(std::string_view repo, std::string_view blob, uint64_t size) {
    return meta_->linkBlob(repo, d(blob), size);
  }
  Status put(std::string_view repo, const std::string& bytes, std::vector<std::string> blobs = {},
             std::optional<std::string> tag = std::nullopt) {
    PutManifestRequest req;
    req.repository = std::string(repo);
    req.manifest.digest = oci::digestOf(bytes);
    req.manifest.bytes = bytes;
    req.manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
    for (const auto& b : blobs) req.blobs.push_back(d(b));
    req.tag = std::move(tag);
    return meta_->putManifest(req);
  }

  MetaStore* meta_ = nullptr;
  std::unique_ptr<QuotaStore> quotas_;
  std::unique_ptr<UsageStore> usage_;
};

TEST_P(QuotaStoreTest, RegistryQuotaAllowsExactlyTheLimitAndRefusesOneByteMore) {
  set("*", 1000);
  ASSERT_TRUE(link("a", "b1", 600).ok());
  ASSERT_TRUE(link("b", "b2", 400).ok());  // 1000 == limit
  EXPECT_EQ(used("*"), 1000u);
  auto over = link("a", "b3", 1);
  ASSERT_EQ(over.code(), Code::kDenied);
  EXPECT_EQ(over.error().message, "storage quota for * is 1000 bytes; 1000 are used and this blob needs 1");
  EXPECT_NE(over.error().detail.find("\"neededBytes\":1"), std::string::npos);
  EXPECT_EQ(meta_->repositoryBlob("a", d("b3")).code(), Code::kBlobUnknown);  // nothing linked
  EXPECT_EQ(used("*"), 1000u);
  // One byte of room again: a 1-byte blob fits, a 2-byte one does not.
  ASSERT_TRUE(meta_->unlinkBlob("b", d("b2")).ok());
  ASSERT_TRUE(link("b", "b4", 399).ok());
  EXPECT_EQ(link("b", "b5", 2).code(), Code::kDenied);
  EXPECT_TRUE(link("b", "b5", 1).ok());
  EXPECT_EQ(used("*"), 1000u);
  EXPECT_EQ(usage_->storageTotals()->bytes, 1000u);
}

TEST_P(QuotaStoreTest, PatternQuotaCoversItsNamespaceOnly) {
  set("team-a/*", 1000);
  ASSERT_TRUE(link("team-a/x", "b1", 700).ok());
  ASSERT_TRUE(link("team-a/deep/y", "b2", 300).ok());
  EXPECT_EQ(used("team-a/*"), 1000u);
  auto over = link("team-a/x", "b3", 1);
  ASSERT_EQ(over.code(), Code::kDenied);
  EXPECT_EQ(over.error().message,
            "storage quota for team-a/* is 1000 bytes; 1000 are used and this blob needs 1");
  // Outside the namespace: team-a itself, team-ab/x, team-b/x.
  EXPECT_TRUE(link("team-a", "b4", 5000).ok());
  EXPECT_TRUE(link("team-ab/x", "b5", 5000).ok());
  EXPECT_TRUE(link("team-b/x", "b6", 5000).ok());
  EXPECT_EQ(used("team-a/*"), 1000u);
}

TEST_P(QuotaStoreTest, ExactNameQuotaAndTheTightestQuotaIsNamed) {
  set("*", 10000);
  set("team/app", 500);
  ASSERT_TRUE(link("team/app", "b1", 500).ok());
  auto over = link("team/app", "b2", 10);
  ASSERT_EQ(over.code(), Code::kDenied);
  EXPECT_EQ(over.error().message, "storage quota for team/app is 500 bytes; 500 are used and this blob needs 10");
  EXPECT_TRUE(link("team/other", "b2", 10).ok());
  EXPECT_EQ(used("*"), 510u);
  EXPECT_EQ(used("team/app"), 500u);
}

TEST_P(QuotaStoreTest, ADigestAlreadyCountedCostsNothing) {
  set("*", 1000);
  ASSERT_TRUE(link("a", "shared", 1000).ok());
  // The registry is full, yet the same blob links anywhere, again and again.
  EXPECT_TRUE(link("b", "shared", 1000).ok());
  EXPECT_TRUE(link("a", "shared", 1000).ok());
  EXPECT_EQ(used("*"), 1000u);
  EXPECT_EQ(link("c", "new", 1).code(), Code::kDenied);
}

TEST_P(QuotaStoreTest, MountIntoAPatternCostsOnlyWhatIsNewToThePattern) {
  ASSERT_TRUE(link("outside", "big", 800).ok());
  ASSERT_TRUE(link("team-a/x", "inside", 900).ok());
  set("team-a/*", 1000);
  EXPECT_EQ(used("team-a/*"), 900u);  // counted from what is there
  // New to the pattern: costs its size although the registry has it.
  auto mount = link("team-a/y", "big", 800);
  ASSERT_EQ(mount.code(), Code::kDenied);
  EXPECT_EQ(mount.error().message, "storage quota for team-a/* is 1000 bytes; 900 are used and this blob needs 800");
  // Already in the pattern: free.
  EXPECT_TRUE(link("team-a/y", "inside", 900).ok());
  EXPECT_EQ(used("team-a/*"), 900u);
  // Unlinking one of two copies inside the pattern frees nothing; the last one frees it.
  ASSERT_TRUE(meta_->unlinkBlob("team-a/x", d("inside")).ok());
  EXPECT_EQ(used("team-a/*"), 900u);
  ASSERT_TRUE(meta_->unlinkBlob("team-a/y", d("inside")).ok());
  EXPECT_EQ(used("team-a/*"), 0u);
  EXPECT_TRUE(link("team-a/y", "big", 800).ok());
}

TEST_P(QuotaStoreTest, ManifestsCountTheirBytesOnceAndAreRefusedOverTheLimit) {
  const std::string m1 = R"({"schemaVersion":2,"n":1})";
  const std::string m2 = R"({"schemaVersion":2,"n":22})";
  ASSERT_TRUE(link("a", "layer", 100).ok());
  set("*", 100 + m1.size());
  ASSERT_TRUE(put("a", m1, {"layer"}, "v1").ok());  // exactly the limit
  EXPECT_EQ(used("*"), 100 + m1.size());
  auto over = put("a", m2, {"layer"}, "v2");
  ASSERT_EQ(over.code(), Code::kDenied);
  EXPECT_EQ(over.error().message, "storage quota for * is " + std::to_string(100 + m1.size()) + " bytes; " +
                                      std::to_string(100 + m1.size()) + " are used and this manifest needs " +
                                      std::to_string(m2.size()));
  EXPECT_EQ(meta_->resolveTag("a", "v2").code(), Code::kManifestUnknown);  // nothing stored
  // The same manifest again (another tag, another repository holding its layer) is free.
  EXPECT_TRUE(put("a", m1, {"layer"}, "again").ok());
  ASSERT_TRUE(link("b", "layer", 100).ok());
  EXPECT_TRUE(put("b", m1, {"layer"}, "v1").ok());
  EXPECT_EQ(used("*"), 100 + m1.size());
}

TEST_P(QuotaStoreTest, UploadsInProgressCountNothingAndACompletedUploadIsChecked) {
  set("*", 100);
  UploadRecord up{"u1", "repo", 0, 1, 1};
  ASSERT_TRUE(meta_->createUpload(up).ok());
  ASSERT_TRUE(meta_->updateUpload("u1", 5000, 2).ok());
  EXPECT_EQ(used("*"), 0u);
  EXPECT_EQ(recounted("*"), 0u);
  auto over = meta_->completeUpload("u1", d("big"), 5000);
  ASSERT_EQ(over.code(), Code::kDenied);
  EXPECT_TRUE(meta_->getUpload("u1").ok());  // rolled back as a whole: the session is still there
  ASSERT_TRUE(meta_->deleteUpload("u1").ok());
  EXPECT_EQ(used("*"), 0u);
  UploadRecord fits{"u2", "repo", 0, 1, 1};
  ASSERT_TRUE(meta_->createUpload(fits).ok());
  ASSERT_TRUE(meta_->completeUpload("u2", d("small"), 100).ok());
  EXPECT_EQ(used("*"), 100u);
}

TEST_P(QuotaStoreTest, CountersFollowEveryKindOfDeleteAndMatchARecount) {
  set("*", 1u << 30);
  set("t/*", 1u << 30);
  set("t/a", 1u << 30);
  std::mt19937 rng(7);
  const std::vector<std::string> repos = {"t/a", "t/b", "u/c", "t/a/d"};
  for (int i = 0; i < 400; ++i) {
    const std::string& repo = repos[rng() % repos.size()];
    const int blob = static_cast<int>(rng() % 12);
    const uint64_t size = 100 + static_cast<uint64_t>(blob);  // one size per digest
    switch (rng() % 6) {
      case 0:
      case 1: (void)link(repo, "b" + std::to_string(blob), size); break;
      case 2: (void)meta_->unlinkBlob(repo, d("b" + std::to_string(blob))); break;
      case 3: {
        (void)link(repo, "b" + std::to_string(blob), size);
        (void)put(repo, "{\"m\":" + std::to_string(blob) + "}", {"b" + std::to_string(blob)},
                  "tag" + std::to_string(rng() % 3));
        break;
      }
      case 4: (void)meta_->deleteManifest(repo, oci::digestOf("{\"m\":" + std::to_string(blob) + "}")); break;
      case 5:
        if (rng() % 8 == 0) (void)meta_->deleteRepository(repo, {});
        break;
    }
  }
  EXPECT_GT(used("t/a"), 0u);  // the walk left something behind to count
  EXPECT_EQ(used("*"), usage_->storageTotals()->bytes);
  for (const char* p : {"*", "t/*", "t/a"}) {
    const uint64_t incremental = used(p);
    EXPECT_EQ(incremental, recounted(p)) << p;
  }
  // Deleting everything brings every counter to zero.
  for (const auto& r : repos) (void)meta_->deleteRepository(r, {});
  for (const char* p : {"*", "t/*", "t/a"}) EXPECT_EQ(used(p), 0u) << p;
}

TEST_P(QuotaStoreTest, ALimitBelowTheUsageRefusesGrowthButNotDeletesOrDuplicates) {
  ASSERT_TRUE(link("a", "b1", 500).ok());
  set("*", 100);
  EXPECT_EQ(used("*"), 500u);
  EXPECT_EQ(link("a", "b2", 1).code(), Code::kDenied);
  EXPECT_TRUE(link("b", "b1", 500).ok());
  EXPECT_TRUE(link("a", "empty", 0).ok());  // needs nothing
  ASSERT_TRUE(meta_->unlinkBlob("a", d("b1")).ok());
  ASSERT_TRUE(meta_->unlinkBlob("b", d("b1")).ok());
  EXPECT_EQ(used("*"), 0u);
  EXPECT_TRUE(link("a", "b2", 100).ok());
}

TEST_P(QuotaStoreTest, SetChangesTheLimitAndDeleteLiftsIt) {
  bool created = false;
  auto q = quotas_->setQuota("team-a/*", 10, &created);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(created);
  EXPECT_EQ(q->limit_bytes, 10u);
  ASSERT_TRUE(link("team-a/x", "b1", 10).ok());
  EXPECT_EQ(link("team-a/x", "b2", 10).code(), Code::kDenied);
  q = quotas_->setQuota("team-a/*", 20, &created);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(q->used_bytes, 10u);
  EXPECT_TRUE(link("team-a/x", "b2", 10).ok());
  EXPECT_EQ(link("team-a/x", "b3", 1).code(), Code::kDenied);
  ASSERT_TRUE(quotas_->deleteQuota("team-a/*").ok());
  EXPECT_TRUE(link("team-a/x", "b3", 1).ok());
  EXPECT_EQ(quotas_->deleteQuota("team-a/*").code(), Code::kNotFound);
  EXPECT_EQ(quotas_->getQuota("team-a/*").code(), Code::kNotFound);
  auto list = quotas_->listQuotas();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_P(QuotaStoreTest, InvalidPatternsAreRefused) {
  for (const char* p : {"", "a*", "*/x", "a/*/b", "/a", "a/", "A B", "team-a/**"}) {
    EXPECT_EQ(quotas_->setQuota(p, 1).code(), Code::kInvalidArgument) << p;
  }
  EXPECT_TRUE(quotas_->setQuota("a", 1).ok());
  EXPECT_TRUE(quotas_->setQuota("a/*", 1).ok());
  auto list = quotas_->listQuotas();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].pattern, "a");
  EXPECT_EQ((*list)[1].pattern, "a/*");
}

// Threads race distinct 100-byte blobs into covered repositories: exactly as many as fit
// commit, and the counter and a recount agree on a total at the limit, never over it.
TEST_P(QuotaStoreTest, ConcurrentCommitsCannotOvershoot) {
  constexpr uint64_t kLimit = 2550;
  set("*", 100000);
  set("race/*", kLimit);
  constexpr int kThreads = 8, kEach = 10;
  std::atomic<int> committed{0}, denied{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string repo = "race/r";
        repo += std::to_string(i % 3);
        std::string name = std::to_string(t);
        name += "-";
        name += std::to_string(i);
        Status s;
        if (i % 2 == 0) {
          s = meta_->linkBlob(repo, d(name), 100);
        } else {
          UploadRecord up{name, repo, 0, 1, 1};
          s = meta_->createUpload(up);
          if (s) s = meta_->completeUpload(name, d(name), 100);
        }
        if (s) ++committed;
        else if (s.code() == Code::kDenied) ++denied;
        else ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(committed.load(), 25);
  EXPECT_EQ(denied.load(), kThreads * kEach - 25);
  EXPECT_EQ(used("race/*"), 2500u);
  EXPECT_EQ(recounted("race/*"), 2500u);
  EXPECT_LE(used("race/*"), kLimit);
  EXPECT_EQ(usage_->storageTotals()->bytes, 2500u);
}

INSTANTIATE_TEST_SUITE_P(Drivers, QuotaStoreTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
