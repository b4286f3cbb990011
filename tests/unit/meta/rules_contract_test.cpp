// The rules every MetaStore enforces inside its own transactions, whatever its SQL: locks
// refuse writes, deletes and reads; quotas are exact at commit; deletes go to the recycle
// bin and come back whole; a restore holds the locks and quotas too. Every implementation
// instantiates this suite (SQLite: sqlite_meta_store_test.cpp), so a store that skips a
// rule fails here.
#include <gtest/gtest.h>

#include "manifest_fixtures.h"
#include "meta/properties_store.h"
#include "meta/quota_store.h"
#include "meta/recycle_store.h"
#include "meta_store_contract.h"

namespace berth::meta::testing {
namespace {

constexpr int64_t kWeek = 7 * 24 * 3600;

#define ASSERT_OK(expr)                                              \
  do {                                                               \
    auto&& r_ = (expr);                                              \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().message;     \
  } while (0)

TEST_P(RulesContract, ATagLockRefusesMovingAndDeletingIt) {
  const auto a = putImage(store(), "team/app", "a", {"l1"}, "v1");
  const auto b = putImage(store(), "team/app", "b", {"l2"}, "v2");
  auto props = store().propertiesStore();
  AttributesPatch no_write;
  no_write.write_enabled = false;
  ASSERT_OK(props->updateTag("team/app", "v1", no_write));
  PutManifestRequest move;
  move.repository = "team/app";
  move.manifest.bytes = "{\"name\":\"b\"}";
  move.manifest.digest = b;
  move.manifest.media_type = kImageType;
  move.tag = "v1";
  EXPECT_EQ(store().putManifest(move).code(), Code::kDenied);
  EXPECT_EQ(*store().resolveTag("team/app", "v1"), a);

  AttributesPatch no_delete;
  no_delete.delete_enabled = false;
  ASSERT_OK(props->updateTag("team/app", "v1", no_delete));
  EXPECT_EQ(store().deleteTag("team/app", "v1").code(), Code::kDenied);
  EXPECT_EQ(store().deleteManifest("team/app", a).code(), Code::kDenied);  // its tag is locked
  EXPECT_EQ(store().deleteRepository("team/app", nullptr).code(), Code::kDenied);
  EXPECT_TRUE(store().getManifest("team/app", a).ok());
  EXPECT_EQ(*store().resolveTag("team/app", "v1"), a);
}

TEST_P(RulesContract, ARepositoryLockRefusesPushesAndReads) {
  const auto a = putImage(store(), "team/app", "a", {"l1"}, "v1");
  auto props = store().propertiesStore();
  AttributesPatch no_write;
  no_write.write_enabled = false;
  ASSERT_OK(props->updateRepository("team/app", no_write));
  PutManifestRequest req;
  req.repository = "team/app";
  req.manifest.bytes = "{}";
  req.manifest.digest = oci::digestOf("{}");
  req.manifest.media_type = kImageType;
  EXPECT_EQ(store().putManifest(req).code(), Code::kDenied);
  EXPECT_EQ(store().getManifest("team/app", req.manifest.digest).code(), Code::kManifestUnknown);

  AttributesPatch no_read;
  no_read.read_enabled = false;
  ASSERT_OK(props->updateRepository("team/app", no_read));
  EXPECT_NE(*store().readDenied("team/app", "v1", a), "");
  EXPECT_EQ(store().repositoryBlob("team/app", oci::digestOf("l1")).code(), Code::kDenied);

  AttributesPatch no_list;
  no_list.list_enabled = false;
  ASSERT_OK(props->updateRepository("team/app", no_list));
  EXPECT_EQ(*store().listRepositories("", 10), std::vector<std::string>{});
}

TEST_P(RulesContract, AQuotaIsExactAtCommit) {
  auto quotas = store().quotaStore();
  ASSERT_OK(quotas->setQuota("*", 1000, nullptr));
  ASSERT_OK(store().linkBlob("a", oci::digestOf("b1"), 600));
  ASSERT_OK(store().linkBlob("b", oci::digestOf("b2"), 400));  // exactly the limit
  auto over = store().linkBlob("a", oci::digestOf("b3"), 1);
  EXPECT_EQ(over.code(), Code::kDenied);
  EXPECT_EQ(store().repositoryBlob("a", oci::digestOf("b3")).code(), Code::kBlobUnknown);  // nothing linked
  EXPECT_EQ(quotas->getQuota("*")->used_bytes, 1000u);
  // A digest already counted costs nothing; freeing bytes makes room again.
  ASSERT_OK(store().linkBlob("b", oci::digestOf("b1"), 600));
  ASSERT_OK(store().unlinkBlob("b", oci::digestOf("b2")));
  ASSERT_OK(store().linkBlob("b", oci::digestOf("b4"), 400));
  EXPECT_EQ(store().linkBlob("b", oci::digestOf("b5"), 1).code(), Code::kDenied);
  EXPECT_EQ(quotas->getQuota("*")->used_bytes, 1000u);
}

TEST_P(RulesContract, AManifestOverTheQuotaIsRefusedAndChangesNothing) {
  putImage(store(), "q", "keep", {"layer"}, "v0");
  auto quotas = store().quotaStore();
  const uint64_t used = [&] {
    EXPECT_TRUE(quotas->setQuota("q", 1u << 30, nullptr).ok());
    return quotas->getQuota("q")->used_bytes;
  }();
  const std::string bytes = "{\"name\":\"new\"}";
  ASSERT_OK(quotas->setQuota("q", used + bytes.size() - 1, nullptr));
  PutManifestRequest req;
  req.repository = "q";
  req.manifest.bytes = bytes;
  req.manifest.digest = oci::digestOf(bytes);
  req.manifest.media_type = kImageType;
  req.tag = "v1";
  EXPECT_EQ(store().putManifest(req).code(), Code::kDenied);
  EXPECT_EQ(store().resolveTag("q", "v1").code(), Code::kManifestUnknown);
  EXPECT_EQ(quotas->getQuota("q")->used_bytes, used);
  ASSERT_OK(quotas->setQuota("q", used + bytes.size(), nullptr));  // exactly enough
  ASSERT_OK(store().putManifest(req));
  EXPECT_EQ(quotas->getQuota("q")->used_bytes, used + bytes.size());
}

TEST_P(RulesContract, DeletesGoToTheRecycleBinAndComeBackWhole) {
  store().setRecycleBin({true, kWeek});
  putImage(store(), "r", "keep", {"layer-keep"}, "v0");
  const auto a = putImage(store(), "r", "a", {"layer-a"}, "v1");
  ASSERT_OK(store().deleteManifest("r", a));
  EXPECT_EQ(store().getManifest("r", a).code(), Code::kManifestUnknown);
  EXPECT_EQ(store().resolveTag("r", "v1").code(), Code::kManifestUnknown);
  auto bin = store().recycleStore();
  RecycleQuery q;
  q.repository = "r";
  auto items = bin->list(q);
  ASSERT_OK(items);
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].digest, a.str());
  EXPECT_EQ((*items)[0].tags, std::vector<std::string>{"v1"});
  ASSERT_OK(bin->restore((*items)[0].id, nullptr));
  EXPECT_EQ(*store().resolveTag("r", "v1"), a);
  EXPECT_TRUE(store().getManifest("r", a).ok());
  EXPECT_TRUE(bin->list(q)->empty());
}

TEST_P(RulesContract, WithTheBinOffDeletesAreForGood) {
  store().setRecycleBin({false, kWeek});
  const auto a = putImage(store(), "r", "a", {"layer-a"}, "v1");
  ASSERT_OK(store().deleteManifest("r", a));
  EXPECT_TRUE(store().recycleStore()->list({})->empty());
}

TEST_P(RulesContract, ARestoreHoldsTheLocksAndTheQuotas) {
  store().setRecycleBin({true, kWeek});
  putImage(store(), "r", "keep", {"layer-keep"}, "v0");
  const auto a = putImage(store(), "r", "a", {"layer-a"}, "v1");
  ASSERT_OK(store().deleteManifest("r", a));
  auto bin = store().recycleStore();
  const int64_t id = (*bin->list({}))[0].id;

  auto props = store().propertiesStore();
  AttributesPatch lock;
  lock.write_enabled = false;
  ASSERT_OK(props->updateRepository("r", lock));
  EXPECT_EQ(bin->restore(id, nullptr).code(), Code::kDenied);
  EXPECT_EQ(store().resolveTag("r", "v1").code(), Code::kManifestUnknown);
  lock.write_enabled = true;
  ASSERT_OK(props->updateRepository("r", lock));

  auto quotas = store().quotaStore();
  ASSERT_OK(quotas->setQuota("r", 1u << 30, nullptr));
  const uint64_t used = quotas->getQuota("r")->used_bytes;
  const uint64_t manifest_size = std::string("{\"name\":\"a\"}").size();
  ASSERT_OK(quotas->setQuota("r", used + manifest_size - 1, nullptr));
  EXPECT_EQ(bin->restore(id, nullptr).code(), Code::kDenied);
  EXPECT_EQ(quotas->getQuota("r")->used_bytes, used);  // rolled back
  EXPECT_EQ(bin->list({})->size(), 1u);
  ASSERT_OK(quotas->setQuota("r", used + manifest_size, nullptr));
  ASSERT_OK(bin->restore(id, nullptr));
  EXPECT_EQ(*store().resolveTag("r", "v1"), a);
}

}  // namespace
}  // namespace berth::meta::testing
