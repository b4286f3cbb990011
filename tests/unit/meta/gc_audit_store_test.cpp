// The GcStore and the AuditStore on every driver (SQLite, PostgreSQL): what garbage
// collection may unlink (references from manifests and from the recycle bin keep a blob),
// the re-check in the unlink's transaction, stale uploads; audit ids, order, filters,
// pages and pruning. (registry/garbage_collector_test.cpp and events/audit_log_test.cpp
// drive them through their callers on SQLite.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "manifest_fixtures.h"
#include "meta/audit_store.h"
#include "meta/gc_store.h"
#include "meta/recycle_store.h"
#include "meta_store_contract.h"
#include "oci/digest.h"

namespace berth::meta::testing {
namespace {

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    auto&& r_ = (expr);                                          \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().message; \
  } while (0)

class GcStoreTest : public StoreTest {};
class AuditStoreTest : public StoreTest {};

std::vector<std::string> digests(const std::vector<GcBlob>& blobs) {
  std::vector<std::string> out;
  for (const auto& b : blobs) out.push_back(b.digest.str());
  return out;
}

TEST_P(GcStoreTest, OnlyBlobsNothingReferencesAreGarbage) {
  store().setRecycleBin({true, 3600});
  putImage(store(), "r", "live", {"used"}, "v1");
  const auto binned = putImage(store(), "r", "binned", {"binned-layer"}, "v2");
  ASSERT_OK(store().deleteManifest("r", binned));  // its layer is needed by the bin item
  ASSERT_OK(store().linkBlob("r", oci::digestOf("orphan"), 6));
  ASSERT_OK(store().linkBlob("s", oci::digestOf("orphan"), 6));
  auto gc = store().gcStore();
  const int64_t later = 4102444800;  // 2100: every link is older
  auto found = gc->unreferencedBlobs(later, "", 100);
  ASSERT_OK(found);
  EXPECT_EQ(digests(*found), std::vector<std::string>{oci::digestOf("orphan").str()});
  EXPECT_EQ(found->at(0).size, 6u);
  auto none = gc->unreferencedBlobs(0, "", 100);  // every link is newer than that
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto after = gc->unreferencedBlobs(later, oci::digestOf("orphan").str(), 100);
  ASSERT_OK(after);
  EXPECT_TRUE(after->empty());

  // A manifest referencing it now: no longer garbage, nothing unlinked.
  PutManifestRequest req;
  req.repository = "s";
  req.manifest.bytes = "{\"uses\":\"orphan\"}";
  req.manifest.digest = oci::digestOf(req.manifest.bytes);
  req.manifest.media_type = kImageType;
  req.blobs = {oci::digestOf("orphan")};
  ASSERT_OK(store().putManifest(req));
  auto kept = gc->unlinkIfUnreferenced(oci::digestOf("orphan"), later);
  ASSERT_OK(kept);
  EXPECT_FALSE(kept->has_value());
  store().setRecycleBin({false, 3600});  // a binned manifest would keep referencing it
  ASSERT_OK(store().deleteManifest("s", req.manifest.digest));

  auto gone = gc->unlinkIfUnreferenced(oci::digestOf("orphan"), later);
  ASSERT_OK(gone);
  ASSERT_TRUE(gone->has_value());
  EXPECT_EQ(**gone, (std::vector<std::string>{"r", "s"}));
  EXPECT_EQ(store().repositoryBlob("r", oci::digestOf("orphan")).code(), Code::kBlobUnknown);
  EXPECT_FALSE(*store().repositoryExists("s"));  // pruned: nothing left in it
  EXPECT_TRUE(*store().repositoryExists("r"));
  auto unlinked = gc->unlinked({oci::digestOf("orphan"), oci::digestOf("used")});
  ASSERT_OK(unlinked);
  EXPECT_EQ(*unlinked, std::vector<oci::Digest>{oci::digestOf("orphan")});
}

TEST_P(GcStoreTest, ANewerLinkKeepsTheBlob) {
  ASSERT_OK(store().linkBlob("r", oci::digestOf("fresh"), 5));
  auto gc = store().gcStore();
  auto kept = gc->unlinkIfUnreferenced(oci::digestOf("fresh"), 0);
  ASSERT_OK(kept);
  EXPECT_FALSE(kept->has_value());
  EXPECT_TRUE(store().repositoryBlob("r", oci::digestOf("fresh")).ok());
}

TEST_P(GcStoreTest, StaleAndExistingUploads) {
  ASSERT_OK(store().createUpload(UploadRecord{"u-old", "r", 0, 10, 10}));
  ASSERT_OK(store().createUpload(UploadRecord{"u-mid", "r", 3, 10, 20}));
  ASSERT_OK(store().createUpload(UploadRecord{"u-new", "r", 0, 10, 30}));
  auto gc = store().gcStore();
  auto stale = gc->staleUploads(20, 10);
  ASSERT_OK(stale);
  ASSERT_EQ(stale->size(), 2u);
  EXPECT_EQ(stale->at(0).id, "u-old");
  EXPECT_EQ(stale->at(1).id, "u-mid");
  EXPECT_EQ(stale->at(1).offset, 3u);
  auto one = gc->staleUploads(20, 1);
  ASSERT_OK(one);
  EXPECT_EQ(one->size(), 1u);
  auto existing = gc->existingUploads({"u-new", "u-gone", "u-old"});
  ASSERT_OK(existing);
  EXPECT_EQ(*existing, (std::vector<std::string>{"u-new", "u-old"}));
}

AuditRecord entry(int64_t time_us, std::string identity, std::string action, std::string repository = "") {
  AuditRecord r;
  r.time_us = time_us;
  r.identity = std::move(identity);
  r.identity_kind = "user";
  r.client = "127.0.0.1";
  r.action = std::move(action);
  r.repository = std::move(repository);
  r.method = "GET";
  r.status = 200;
  r.result = "success";
  return r;
}

std::vector<int64_t> ids(const std::vector<AuditRecord>& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

TEST_P(AuditStoreTest, AppendListFilterPageAndPrune) {
  auto audit = store().auditStore();
  std::vector<AuditRecord> batch = {entry(100, "alice", "pull", "team/app"), entry(200, "bob", "push", "team/app"),
                                    entry(200, "alice", "login"), entry(300, "alice", "pull", "other")};
  batch[3].count = 4;
  batch[3].message = "merged";
  ASSERT_OK(audit->append(batch));
  for (size_t i = 1; i < batch.size(); ++i) EXPECT_GT(batch[i].id, batch[i - 1].id);

  auto all = audit->list({});
  ASSERT_OK(all);
  // Newest first by time, then id.
  EXPECT_EQ(ids(*all), (std::vector<int64_t>{batch[3].id, batch[2].id, batch[1].id, batch[0].id}));
  EXPECT_EQ(all->at(0).count, 4);
  EXPECT_EQ(all->at(0).message, "merged");
  EXPECT_EQ(all->at(0).status, 200);

  AuditQuery q;
  q.identity = "alice";
  q.action = "pull";
  auto pulls = audit->list(q);
  ASSERT_OK(pulls);
  EXPECT_EQ(ids(*pulls), (std::vector<int64_t>{batch[3].id, batch[0].id}));
  AuditQuery window;
  window.since_us = 200;
  window.until_us = 300;
  window.limit = 1;
  auto page = audit->list(window);
  ASSERT_OK(page);
  EXPECT_EQ(ids(*page), std::vector<int64_t>{batch[2].id});
  window.before_id = batch[2].id;
  auto next = audit->list(window);
  ASSERT_OK(next);
  EXPECT_EQ(ids(*next), std::vector<int64_t>{batch[1].id});
  AuditQuery repo;
  repo.repository = "team/app";
  EXPECT_EQ(audit->list(repo)->size(), 2u);

  auto pruned = audit->prune(200);
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 1u);
  EXPECT_EQ(audit->list({})->size(), 3u);
  std::vector<AuditRecord> more = {entry(400, "carol", "delete")};
  ASSERT_OK(audit->append(more));
  EXPECT_GT(more[0].id, batch[3].id);  // ids are never reused
}

INSTANTIATE_TEST_SUITE_P(Drivers, GcStoreTest, allStores(), storeFactoryName);
INSTANTIATE_TEST_SUITE_P(Drivers, AuditStoreTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
