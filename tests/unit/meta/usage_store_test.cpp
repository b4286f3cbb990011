// UsageStore on every driver (SQLite, PostgreSQL): storage numbers on a known set of manifests and blobs with layers shared
// across repositories, and the traffic rows' arithmetic.
#include "meta/usage_store.h"

#include <gtest/gtest.h>

#include "meta_store_contract.h"

#include "oci/digest.h"

namespace berth::meta::testing {
namespace {

struct Blob {
  oci::Digest digest;
  uint64_t size;
};

Blob blob(std::string_view name, uint64_t size) { return {oci::digestOf(name), size}; }

class UsageStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    meta_ = std::move(store_);
    usage_ = meta_->usageStore();
  }

  void link(std::string_view repo, const Blob& b) { ASSERT_TRUE(meta_->linkBlob(repo, b.digest, b.size).ok()); }

  // Stores `bytes` as a manifest of `repo` referencing `blobs` and child `manifests`.
  oci::Digest put(std::string_view repo, const std::string& bytes, std::vector<Blob> blobs,
                  std::vector<oci::Digest> children = {}, std::optional<std::string> tag = std::nullopt) {
    PutManifestRequest req;
    req.repository = std::string(repo);
    req.manifest.digest = oci::digestOf(bytes);
    req.manifest.bytes = bytes;
    req.manifest.media_type = children.empty() ? "application/vnd.oci.image.manifest.v1+json"
                                               : "application/vnd.oci.image.index.v1+json";
    for (const auto& b : blobs) req.blobs.push_back(b.digest);
    req.manifests = std::move(children);
    req.tag = std::move(tag);
    auto s = meta_->putManifest(req);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return req.manifest.digest;
  }

  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<UsageStore> usage_;
};

TEST_P(UsageStoreTest, EmptyRegistryIsAllZeros) {
  auto t = usage_->storageTotals();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->bytes, 0u);
  EXPECT_EQ(t->repositories, 0u);
  EXPECT_EQ(t->blobs, 0u);
  auto repos = usage_->repositoryStorage("", 10);
  ASSERT_TRUE(repos.ok());
  EXPECT_TRUE(repos->empty());
  EXPECT_EQ(usage_->repositoryUsage("nope").code(), Code::kNameUnknown);
}

// a: config A, layers L1 L2 (manifest ma, tag v1)
// b: config B, layers L1 L3 (manifest mb, tags v1, latest)
// c: the same mb (B, L1, L3), an index ic over mb (tag multi), and a loose blob D
TEST_P(UsageStoreTest, SharedLayersCountOnceInTheTotalAndAsSharedPerRepository) {
  const Blob A = blob("A", 100), L1 = blob("L1", 1000), L2 = blob("L2", 2000), B = blob("B", 150),
             L3 = blob("L3", 3000), D = blob("D", 50);
  for (const auto& b : {A, L1, L2}) link("a", b);
  for (const auto& b : {B, L1, L3}) link("b", b);
  for (const auto& b : {B, L1, L3, D}) link("c", b);
  const std::string ma_bytes = R"({"schemaVersion":2,"image":"a"})";
  const std::string mb_bytes = R"({"schemaVersion":2,"image":"b-and-c"})";
  const std::string ic_bytes = R"({"schemaVersion":2,"index":["b-and-c"],"pad":"xxxxxxxx"})";
  const uint64_t la = ma_bytes.size(), lb = mb_bytes.size(), lic = ic_bytes.size();
  const auto ma = put("a", ma_bytes, {A, L1, L2}, {}, "v1");
  const auto mb = put("b", mb_bytes, {B, L1, L3}, {}, "v1");
  put("b", mb_bytes, {B, L1, L3}, {}, "latest");
  put("c", mb_bytes, {B, L1, L3});
  const auto ic = put("c", ic_bytes, {}, {mb}, "multi");

  auto t = usage_->storageTotals();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->blobs, 6u);
  EXPECT_EQ(t->blob_bytes, 100u + 1000 + 2000 + 150 + 3000 + 50);
  EXPECT_EQ(t->unique_manifests, 3u);
  EXPECT_EQ(t->manifest_bytes, la + lb + lic);
  EXPECT_EQ(t->bytes, t->blob_bytes + t->manifest_bytes);
  EXPECT_EQ(t->repositories, 3u);
  EXPECT_EQ(t->manifests, 4u);
  EXPECT_EQ(t->tags, 4u);

  auto repos = usage_->repositoryStorage("", 10);
  ASSERT_TRUE(repos.ok()) << repos.error().message;
  ASSERT_EQ(repos->size(), 3u);
  const auto& a = (*repos)[0];
  EXPECT_EQ(a.repository, "a");
  EXPECT_EQ(a.bytes, 3100 + la);
  EXPECT_EQ(a.unique_bytes, 2100 + la);  // A, L2 and ma; L1 is also in b and c
  EXPECT_EQ(a.shared_bytes, 1000u);
  EXPECT_EQ(a.manifests, 1u);
  EXPECT_EQ(a.tags, 1u);
  EXPECT_EQ(a.blobs, 3u);
  const auto& b = (*repos)[1];
  EXPECT_EQ(b.repository, "b");
  EXPECT_EQ(b.bytes, 4150 + lb);
  EXPECT_EQ(b.unique_bytes, 0u);  // everything is in c too
  EXPECT_EQ(b.shared_bytes, 4150 + lb);
  EXPECT_EQ(b.tags, 2u);
  const auto& c = (*repos)[2];
  EXPECT_EQ(c.bytes, 4200 + lb + lic);
  EXPECT_EQ(c.unique_bytes, 50 + lic);  // D and the index
  EXPECT_EQ(c.shared_bytes, 4150 + lb);
  EXPECT_EQ(c.manifests, 2u);
  EXPECT_EQ(c.blobs, 4u);

  auto page = usage_->repositoryStorage("a", 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].repository, "b");

  auto ua = usage_->repositoryUsage("a");
  ASSERT_TRUE(ua.ok()) << ua.error().message;
  ASSERT_EQ(ua->manifests.size(), 1u);
  EXPECT_EQ(ua->manifests[0].digest, ma);
  EXPECT_EQ(ua->manifests[0].manifest_size, la);
  EXPECT_EQ(ua->manifests[0].size, la + 3100);
  EXPECT_EQ(ua->manifests[0].tags, std::vector<std::string>{"v1"});
  ASSERT_EQ(ua->tags.size(), 1u);
  EXPECT_EQ(ua->tags[0].size, la + 3100);

  auto ub = usage_->repositoryUsage("b");
  ASSERT_TRUE(ub.ok());
  ASSERT_EQ(ub->tags.size(), 2u);
  EXPECT_EQ(ub->tags[0].tag, "latest");
  EXPECT_EQ(ub->tags[1].tag, "v1");
  EXPECT_EQ(ub->tags[0].size, lb + 4150);
  EXPECT_EQ(ub->manifests[0].tags, (std::vector<std::string>{"latest", "v1"}));

  // The index's image size: itself, its child and the child's blobs (the loose D is not in it).
  auto uc = usage_->repositoryUsage("c");
  ASSERT_TRUE(uc.ok());
  ASSERT_EQ(uc->manifests.size(), 2u);
  for (const auto& m : uc->manifests) {
    if (m.digest == ic) {
      EXPECT_EQ(m.size, lic + lb + 4150);
      EXPECT_EQ(m.tags, std::vector<std::string>{"multi"});
    } else {
      EXPECT_EQ(m.size, lb + 4150);
      EXPECT_TRUE(m.tags.empty());
    }
  }
  EXPECT_EQ(uc->storage.unique_bytes, 50 + lic);

  // With b emptied (and pruned), what b shared with c only is now unique to c.
  ASSERT_TRUE(meta_->deleteManifest("b", mb).ok());
  for (const auto& bl : {B, L1, L3}) ASSERT_TRUE(meta_->unlinkBlob("b", bl.digest).ok());
  auto after = usage_->repositoryStorage("", 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[1].repository, "c");
  EXPECT_EQ((*after)[1].unique_bytes, 50 + lic + lb + 150 + 3000);
  EXPECT_EQ((*after)[1].shared_bytes, 1000u);
  auto t2 = usage_->storageTotals();
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->bytes, t->bytes);  // nothing was stored only in b
  EXPECT_EQ(t2->tags, 2u);
}

TEST_P(UsageStoreTest, TrafficRowsAddCountersAndKeepTheLatestTimes) {
  Traffic first;
  first.pulls = 3;
  first.bytes_served = 300;
  first.last_pulled = 2000;
  first.last_pushed = 1000;
  Traffic second;
  second.pulls = 2;
  second.pushes = 1;
  second.bytes_received = 50;
  second.last_pulled = 1500;  // older than what is stored: kept at 2000
  second.last_pushed = 3000;
  ASSERT_TRUE(usage_->addTraffic({{TrafficKind::kRepository, "a", "", first},
                                  {TrafficKind::kManifest, "a", "sha256:x", first},
                                  {TrafficKind::kRepository, "b", "", second}})
                  .ok());
  ASSERT_TRUE(usage_->addTraffic({{TrafficKind::kRepository, "a", "", second},
                                  {TrafficKind::kTag, "a", "v1", second}})
                  .ok());
  auto a = usage_->traffic(TrafficKind::kRepository, "a", "");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->pulls, 5u);
  EXPECT_EQ(a->pushes, 1u);
  EXPECT_EQ(a->bytes_served, 300u);
  EXPECT_EQ(a->bytes_received, 50u);
  EXPECT_EQ(a->last_pulled, 2000);
  EXPECT_EQ(a->last_pushed, 3000);
  auto none = usage_->traffic(TrafficKind::kTag, "a", "nope");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto total = usage_->trafficTotal();
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->pulls, 7u);  // repository rows only: 5 in a, 2 in b
  EXPECT_EQ(total->bytes_received, 100u);
  EXPECT_EQ(total->last_pushed, 3000);
  auto rows = usage_->repositoryTraffic("a");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 3u);
  // The rows survive a reopen.
  usage_.reset();
  meta_.reset();
  auto reopened = env_->open();
  ASSERT_TRUE(reopened.ok());
  auto again = (*reopened)->usageStore()->traffic(TrafficKind::kManifest, "a", "sha256:x");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->pulls, 3u);
}

INSTANTIATE_TEST_SUITE_P(Drivers, UsageStoreTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
