// The recycle bin on every driver (SQLite, PostgreSQL): deletes (manifest with tags, tag, index with children,
// repository) move everything into the bin and out of every live query; restore gives
// back the same digests, tags, times and attributes; conflicts, expiry, purge, filters,
// recycle_blob_refs and the restore's outbox events.
#include "meta/recycle_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "manifest_fixtures.h"
#include "meta/properties_store.h"
#include "meta/quota_store.h"
#include "meta_store_contract.h"
#include "oci/digest.h"

namespace berth::meta::testing {
namespace {

constexpr int64_t kDay = 24 * 3600;

RecycleQuery query(std::string repository, std::optional<RecycleKind> kind = std::nullopt, std::string tag = "",
                   std::string digest = "") {
  RecycleQuery q;
  q.repository = std::move(repository);
  q.kind = kind;
  q.tag = std::move(tag);
  q.digest = std::move(digest);
  return q;
}

#define ASSERT_OK(expr)                                        \
  do {                                                         \
    auto&& r_ = (expr);                                        \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().message; \
  } while (0)

class RecycleBinTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    meta_ = std::move(store_);
    meta_->setRecycleBin({true, 7 * kDay});
    bin_ = meta_->recycleStore();
    props_ = meta_->propertiesStore();
  }

  // An image manifest named `name` referencing the blobs `layers` (linked first).
  oci::Digest image(const std::string& repo, const std::string& name, const std::vector<std::string>& layers,
                    std::optional<std::string> tag = std::nullopt) {
    return putImage(*meta_, repo, name, layers, std::move(tag));
  }

  oci::Digest index(const std::string& repo, const std::string& name, const std::vector<oci::Digest>& children,
                    std::optional<std::string> tag) {
    return putIndex(*meta_, repo, name, children, std::move(tag));
  }

  std::vector<RecycleItem> items(RecycleQuery q = {}) {
    auto list = bin_->list(q);
    EXPECT_TRUE(list.ok()) << list.error().message;
    return list ? *list : std::vector<RecycleItem>{};
  }

  std::set<std::string> blobRefs(int64_t item) {
    std::set<std::string> out;
    for (int row = 0;; ++row) {
      const std::string digest = rawQuery("SELECT digest FROM recycle_blob_refs WHERE item_id = " +
                                          std::to_string(item) + " ORDER BY digest LIMIT 1 OFFSET " +
                                          std::to_string(row));
      if (digest.empty()) return out;
      out.insert(digest);
    }
  }

  std::string count(const std::string& table) { return rawQuery("SELECT COUNT(*) FROM " + table); }

  Result<RestoredItem> restore(int64_t id) { return bin_->restore(id, nullptr); }

  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<RecycleStore> bin_;
  std::unique_ptr<PropertiesStore> props_;
};

TEST_P(RecycleBinTest, ManifestWithTagsRoundTrip) {
  const auto m = image("team/app", "m", {"layer-1", "config-1"}, "v1");
  ASSERT_OK(meta_->putManifest([&] {
    PutManifestRequest r;
    r.repository = "team/app";
    r.manifest.bytes = "{\"name\":\"m\"}";
    r.manifest.digest = m;
    r.manifest.media_type = kImageType;
    r.tag = "v2";
    return r;
  }()));
  auto before = props_->manifest("team/app", m);
  ASSERT_OK(before);
  ASSERT_OK(meta_->deleteManifest("team/app", m));

  // Gone from every read and listing.
  EXPECT_EQ(meta_->getManifest("team/app", m).code(), Code::kManifestUnknown);
  EXPECT_EQ(meta_->resolveTag("team/app", "v1").code(), Code::kManifestUnknown);
  auto tags = meta_->listTags("team/app", "", 100);
  ASSERT_OK(tags);
  EXPECT_TRUE(tags->empty());
  EXPECT_EQ(props_->manifest("team/app", m).code(), Code::kManifestUnknown);

  auto list = items();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].kind, RecycleKind::kManifest);
  EXPECT_EQ(list[0].repository, "team/app");
  EXPECT_EQ(list[0].digest, m.str());
  EXPECT_EQ(list[0].tags, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(list[0].manifests, 1u);
  EXPECT_EQ(list[0].expires_at - list[0].deleted_at, 7 * kDay);
  EXPECT_EQ(blobRefs(list[0].id),
            (std::set<std::string>{oci::digestOf("layer-1").str(), oci::digestOf("config-1").str()}));

  auto restored = restore(list[0].id);
  ASSERT_OK(restored);
  EXPECT_EQ(restored->manifests, std::vector<oci::Digest>{m});
  EXPECT_EQ(restored->tags, (std::vector<std::string>{"v1", "v2"}));
  auto back = meta_->getManifest("team/app", m);
  ASSERT_OK(back);
  EXPECT_EQ(back->bytes, "{\"name\":\"m\"}");
  EXPECT_EQ(back->created_at, 1001);
  EXPECT_EQ(meta_->resolveTag("team/app", "v1").value(), m);
  EXPECT_EQ(meta_->resolveTag("team/app", "v2").value(), m);
  auto after = props_->manifest("team/app", m);
  ASSERT_OK(after);
  EXPECT_EQ(after->created_at, before->created_at);
  EXPECT_EQ(after->architecture, "amd64");
  EXPECT_EQ(after->image_size, before->image_size);
  EXPECT_EQ(after->tags, before->tags);
  EXPECT_TRUE(items().empty());
  EXPECT_EQ(count("recycle_blob_refs"), "0");
  EXPECT_EQ(count("recycle_manifests"), "0");
  EXPECT_EQ(restore(list[0].id).code(), Code::kNotFound);
}

TEST_P(RecycleBinTest, ManifestAttributesComeBack) {
  const auto m = image("a", "m", {"l"}, "v1");
  ASSERT_OK(props_->updateManifest("a", m, AttributesPatch{std::nullopt, false, std::nullopt, std::nullopt}));
  ASSERT_OK(props_->updateTag("a", "v1", AttributesPatch{std::nullopt, std::nullopt, false, std::nullopt}));
  ASSERT_OK(meta_->deleteManifest("a", m));
  ASSERT_OK(restore(items().at(0).id));
  auto man = props_->manifest("a", m);
  ASSERT_OK(man);
  EXPECT_FALSE(man->attributes.write_enabled);
  auto tag = props_->tag("a", "v1");
  ASSERT_OK(tag);
  EXPECT_FALSE(tag->attributes.list_enabled);
  EXPECT_TRUE(tag->attributes.write_enabled);
}

TEST_P(RecycleBinTest, TagAloneRoundTripEvenAfterItsManifestWentForGood) {
  const auto m = image("a", "m", {"l1"}, "v1");
  ASSERT_OK(meta_->deleteTag("a", "v1"));
  EXPECT_EQ(meta_->resolveTag("a", "v1").code(), Code::kManifestUnknown);
  ASSERT_OK(meta_->getManifest("a", m));  // only the tag went
  auto list = items();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].kind, RecycleKind::kTag);
  EXPECT_EQ(list[0].digest, m.str());
  EXPECT_EQ(list[0].tags, std::vector<std::string>{"v1"});
  EXPECT_EQ(blobRefs(list[0].id), std::set<std::string>{oci::digestOf("l1").str()});
  const int64_t tag_item = list[0].id;

  // The manifest is deleted too and that item purged: the tag item still brings both back.
  ASSERT_OK(meta_->deleteManifest("a", m));
  ASSERT_OK(meta_->unlinkBlob("a", oci::digestOf("l1")));
  ASSERT_OK(bin_->purge(items(query("a", RecycleKind::kManifest)).at(0).id));
  EXPECT_FALSE(meta_->repositoryExists("a").value());
  auto restored = restore(tag_item);
  ASSERT_OK(restored);
  EXPECT_EQ(restored->manifests, std::vector<oci::Digest>{m});
  EXPECT_EQ(restored->tags, std::vector<std::string>{"v1"});
  EXPECT_EQ(meta_->resolveTag("a", "v1").value(), m);
  EXPECT_EQ(meta_->repositoryBlob("a", oci::digestOf("l1")).value(), 2u);  // the link came back
}

TEST_P(RecycleBinTest, IndexComesBackWithItsChildren) {
  const auto c1 = image("multi", "amd", {"amd-layer", "amd-config"});
  const auto c2 = image("multi", "arm", {"arm-layer"});
  const auto idx = index("multi", "both", {c1, c2}, "latest");
  ASSERT_OK(meta_->deleteManifest("multi", idx));
  auto list = items();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].manifests, 3u);  // the index and both children, to be self-contained
  EXPECT_EQ(blobRefs(list[0].id),
            (std::set<std::string>{oci::digestOf("amd-layer").str(), oci::digestOf("amd-config").str(),
                                   oci::digestOf("arm-layer").str()}));
  const int64_t index_item = list[0].id;
  // The children go too, and their own items are purged.
  ASSERT_OK(meta_->deleteManifest("multi", c1));
  ASSERT_OK(meta_->deleteManifest("multi", c2));
  for (const auto& i : items()) {
    if (i.id != index_item) ASSERT_OK(bin_->purge(i.id));
  }
  EXPECT_EQ(meta_->getManifest("multi", c1).code(), Code::kManifestUnknown);

  auto restored = restore(index_item);
  ASSERT_OK(restored);
  std::vector<oci::Digest> expected{idx, c1, c2};
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.str() < b.str(); });
  EXPECT_EQ(restored->manifests, expected);
  for (const auto& d : expected) ASSERT_OK(meta_->getManifest("multi", d));
  EXPECT_EQ(meta_->resolveTag("multi", "latest").value(), idx);
  // The index's child references are back: pushing another index over the children works,
  // and the storage view counts the children's bytes in the index again.
  auto props = props_->manifest("multi", idx);
  ASSERT_OK(props);
  EXPECT_GT(props->image_size, std::string("{\"index\":\"both\"}").size());
}

TEST_P(RecycleBinTest, WholeRepositoryRoundTrip) {
  const auto a = image("team/app", "a", {"l1", "cfg"}, "v1");
  const auto b = image("team/app", "bb", {"l1"}, "v2");
  ASSERT_OK(meta_->linkBlob("team/app", oci::digestOf("loose"), 5));
  ASSERT_OK(props_->updateRepository("team/app", AttributesPatch{std::nullopt, false, std::nullopt, std::nullopt}));
  auto before = props_->repository("team/app");
  ASSERT_OK(before);
  const std::string created = rawQuery("SELECT created_at FROM repositories WHERE name = 'team/app'");

  auto deleted = meta_->deleteRepository("team/app", nullptr);
  ASSERT_OK(deleted);
  EXPECT_EQ(deleted->tags, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_FALSE(meta_->repositoryExists("team/app").value());
  auto repos = meta_->listRepositories("", 100);
  ASSERT_OK(repos);
  EXPECT_TRUE(repos->empty());
  EXPECT_EQ(meta_->repositoryBlob("team/app", oci::digestOf("l1")).code(), Code::kBlobUnknown);
  EXPECT_EQ(meta_->anyBlob(oci::digestOf("loose")).code(), Code::kBlobUnknown);

  auto list = items(query("", RecycleKind::kRepository));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].digest, "");
  EXPECT_EQ(list[0].manifests, 2u);
  EXPECT_EQ(list[0].tags, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(blobRefs(list[0].id), (std::set<std::string>{oci::digestOf("l1").str(), oci::digestOf("cfg").str(),
                                                         oci::digestOf("loose").str()}));

  ASSERT_OK(restore(list[0].id));
  auto after = props_->repository("team/app");
  ASSERT_OK(after);
  EXPECT_EQ(after->created_at, before->created_at);
  EXPECT_EQ(after->updated_at, before->updated_at);
  EXPECT_EQ(after->manifest_count, 2u);
  EXPECT_EQ(after->tag_count, 2u);
  EXPECT_FALSE(after->attributes.write_enabled);
  EXPECT_EQ(rawQuery("SELECT created_at FROM repositories WHERE name = 'team/app'"), created);
  EXPECT_EQ(meta_->resolveTag("team/app", "v1").value(), a);
  EXPECT_EQ(meta_->resolveTag("team/app", "v2").value(), b);
  EXPECT_EQ(meta_->repositoryBlob("team/app", oci::digestOf("loose")).value(), 5u);
  EXPECT_EQ(meta_->repositoryBlob("team/app", oci::digestOf("cfg")).value(), 3u);
  EXPECT_EQ(count("recycle_items"), "0");
  EXPECT_EQ(count("recycle_blob_links"), "0");
}

TEST_P(RecycleBinTest, RestoreIntoRepositoryWithNewContent) {
  const auto old = image("r", "old", {"l-old"}, "v1");
  ASSERT_OK(meta_->deleteRepository("r", nullptr));
  const auto fresh = image("r", "fresh", {"l-new"}, "v2");
  auto restored = restore(items().at(0).id);
  ASSERT_OK(restored);
  EXPECT_EQ(restored->manifests, std::vector<oci::Digest>{old});
  EXPECT_EQ(meta_->resolveTag("r", "v1").value(), old);
  EXPECT_EQ(meta_->resolveTag("r", "v2").value(), fresh);
  EXPECT_TRUE(meta_->repositoryBlob("r", oci::digestOf("l-old")).ok());
  EXPECT_TRUE(meta_->repositoryBlob("r", oci::digestOf("l-new")).ok());
}

TEST_P(RecycleBinTest, TagNowUsedByAnotherManifestIsAConflict) {
  const auto a = image("r", "a", {"la"}, "v1");
  ASSERT_OK(meta_->deleteManifest("r", a));
  const auto b = image("r", "b", {"lb"}, "v1");
  const int64_t id = items().at(0).id;
  auto r = restore(id);
  EXPECT_EQ(r.code(), Code::kConflict);
  EXPECT_NE(r.error().message.find("v1"), std::string::npos);
  // Nothing changed: the tag stays on b, a is not back, the item is still in the bin.
  EXPECT_EQ(meta_->resolveTag("r", "v1").value(), b);
  EXPECT_EQ(meta_->getManifest("r", a).code(), Code::kManifestUnknown);
  EXPECT_EQ(items().size(), 1u);
  // Once the tag is out of the way (itself binned), the restore works.
  ASSERT_OK(meta_->deleteTag("r", "v1"));
  ASSERT_OK(restore(id));
  EXPECT_EQ(meta_->resolveTag("r", "v1").value(), a);
  const int64_t tag_item = items(query("r", RecycleKind::kTag)).at(0).id;
  EXPECT_EQ(restore(tag_item).code(), Code::kConflict);  // v1 is on a now, the item holds b
  // The same tag on the same manifest again is no conflict.
  ASSERT_OK(meta_->deleteTag("r", "v1"));
  ASSERT_OK(meta_->putManifest([&] {
    PutManifestRequest p;
    p.repository = "r";
    p.manifest.bytes = "{\"name\":\"a\"}";
    p.manifest.digest = a;
    p.manifest.media_type = kImageType;
    p.tag = "v1";
    return p;
  }()));
  const int64_t a_tag_item = items(query("r", RecycleKind::kTag, "v1", a.str())).at(0).id;
  ASSERT_OK(restore(a_tag_item));
  EXPECT_EQ(meta_->resolveTag("r", "v1").value(), a);
}

TEST_P(RecycleBinTest, ExpiredItemsArePurgedWithTheirBlobRefs) {
  meta_->setRecycleBin({true, 60});
  image("r", "a", {"la"}, "v1");
  ASSERT_OK(meta_->deleteTag("r", "v1"));
  const int64_t now = items().at(0).deleted_at;
  EXPECT_EQ(bin_->purgeExpired(now + 59, 100).value(), 0u);
  EXPECT_EQ(count("recycle_blob_refs"), "1");
  EXPECT_EQ(bin_->purgeExpired(now + 60, 100).value(), 1u);
  EXPECT_TRUE(items().empty());
  EXPECT_EQ(count("recycle_blob_refs"), "0");
  EXPECT_EQ(count("recycle_manifests"), "0");
  EXPECT_EQ(count("recycle_tags"), "0");
}

TEST_P(RecycleBinTest, PurgeExpiredWorksInBatches) {
  meta_->setRecycleBin({true, 1});
  for (int i = 0; i < 5; ++i) image("r", "m" + std::to_string(i), {"l" + std::to_string(i)}, "t" + std::to_string(i));
  for (int i = 0; i < 5; ++i) ASSERT_OK(meta_->deleteTag("r", "t" + std::to_string(i)));
  const int64_t later = items().at(0).expires_at + 1;
  EXPECT_EQ(bin_->purgeExpired(later, 2).value(), 2u);
  EXPECT_EQ(bin_->purgeExpired(later, 2).value(), 2u);
  EXPECT_EQ(bin_->purgeExpired(later, 2).value(), 1u);
  EXPECT_EQ(count("recycle_items"), "0");
}

TEST_P(RecycleBinTest, BinOffDeletesForGood) {
  meta_->setRecycleBin({false, 7 * kDay});
  const auto a = image("r", "a", {"la"}, "v1");
  image("r", "b", {"lb"}, "v2");
  ASSERT_OK(meta_->deleteManifest("r", a));
  ASSERT_OK(meta_->deleteTag("r", "v2"));
  ASSERT_OK(meta_->deleteRepository("r", nullptr));
  EXPECT_TRUE(items().empty());
  EXPECT_EQ(count("recycle_blob_refs"), "0");
}

TEST_P(RecycleBinTest, FailedDeleteLeavesNoItem) {
  image("r", "a", {"la"}, "v1");
  EXPECT_EQ(meta_->deleteTag("r", "nope").code(), Code::kManifestUnknown);
  EXPECT_EQ(meta_->deleteManifest("r", oci::digestOf("nope")).code(), Code::kManifestUnknown);
  EXPECT_EQ(meta_->deleteRepository("nope", nullptr).code(), Code::kNameUnknown);
  EXPECT_TRUE(items().empty());
  EXPECT_EQ(count("recycle_blob_refs"), "0");
}

TEST_P(RecycleBinTest, ListingFiltersAndPages) {
  const auto a = image("one", "a", {"la"}, "v1");
  image("two", "b", {"lb"}, "v2");
  ASSERT_OK(meta_->deleteTag("one", "v1"));
  ASSERT_OK(meta_->deleteManifest("one", a));
  ASSERT_OK(meta_->deleteRepository("two", nullptr));
  auto all = items();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].kind, RecycleKind::kRepository);  // newest first
  EXPECT_EQ(all[2].kind, RecycleKind::kTag);
  EXPECT_EQ(items(query("one")).size(), 2u);
  EXPECT_EQ(items(query("", RecycleKind::kTag)).size(), 1u);
  EXPECT_EQ(items(query("", std::nullopt, "v2")).size(), 1u);
  EXPECT_EQ(items(query("", std::nullopt, "", a.str())).size(), 2u);
  RecycleQuery page;
  page.limit = 2;
  auto first = items(page);
  ASSERT_EQ(first.size(), 2u);
  page.before_id = first.back().id;
  auto second = items(page);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, all[2].id);
  EXPECT_EQ(bin_->get(all[1].id).value().digest, a.str());
  EXPECT_EQ(bin_->get(12345).code(), Code::kNotFound);
  EXPECT_EQ(bin_->purge(12345).code(), Code::kNotFound);
}

TEST_P(RecycleBinTest, RestoreAppendsPushEvents) {
  const auto a = image("r", "a", {"la"}, "v1");
  image("r", "b", {"lb"});
  ASSERT_OK(meta_->deleteRepository("r", nullptr));
  const std::string before = count("events");
  std::vector<std::string> seen;
  auto restored = bin_->restore(items().at(0).id, [&](const oci::Digest& d, const std::string& media_type,
                                                      uint64_t size, const std::string& tag) {
    seen.push_back(d.str() + " " + tag);
    EventRecord e;
    e.action = "push";
    e.repository = "r";
    e.tag = tag;
    e.digest = d.str();
    e.media_type = media_type;
    e.size = size;
    e.payload = "{}";
    return std::optional<EventRecord>(e);
  });
  ASSERT_OK(restored);
  // One per tag, one per untagged manifest.
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), a.str() + " v1"), 1);
  EXPECT_EQ(std::stoi(count("events")) - std::stoi(before), 2);
}

TEST_P(RecycleBinTest, BinSurvivesReopen) {
  const auto a = image("r", "a", {"la"}, "v1");
  ASSERT_OK(meta_->deleteManifest("r", a));
  bin_.reset();
  props_.reset();
  meta_.reset();
  auto reopened = env_->open();
  ASSERT_OK(reopened);
  auto bin = (*reopened)->recycleStore();
  auto list = bin->list({});
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 1u);
  ASSERT_OK(bin->restore(list->at(0).id, nullptr));
  EXPECT_EQ((*reopened)->resolveTag("r", "v1").value(), a);
}

}  // namespace
}  // namespace berth::meta::testing

namespace berth::meta::testing {
namespace {

TEST_P(RecycleBinTest, RestoreHoldsTheRepositoryWriteLock) {
  image("r", "keep", {"layer-keep"}, "v0");  // keeps the repository alive after the delete
  const auto a = image("r", "a", {"layer-a"}, "v1");
  ASSERT_OK(meta_->deleteManifest("r", a));
  const auto binned = items(query("r"));
  ASSERT_EQ(binned.size(), 1u);
  AttributesPatch lock;
  lock.write_enabled = false;
  ASSERT_OK(props_->updateRepository("r", lock));
  auto refused = restore(binned[0].id);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::kDenied);
  EXPECT_EQ(refused.error().message, "repository r is locked: writeEnabled is false");
  EXPECT_EQ(items(query("r")).size(), 1u);  // still in the bin
  EXPECT_EQ(meta_->resolveTag("r", "v1").code(), Code::kManifestUnknown);
  lock.write_enabled = true;
  ASSERT_OK(props_->updateRepository("r", lock));
  ASSERT_OK(restore(binned[0].id));
  EXPECT_EQ(*meta_->resolveTag("r", "v1"), a);
}

TEST_P(RecycleBinTest, RestoreHoldsQuotas) {
  image("q", "keep", {"layer-keep"}, "v0");
  const auto a = image("q", "a", {"layer-a"}, "v1");
  ASSERT_OK(meta_->deleteManifest("q", a));
  const auto binned = items(query("q"));
  ASSERT_EQ(binned.size(), 1u);
  auto quotas = meta_->quotaStore();
  // The blob links stay while the manifest is in the bin: a restore adds the manifest's bytes.
  ASSERT_OK(quotas->setQuota("q", 1, nullptr));
  const uint64_t used = quotas->getQuota("q")->used_bytes;
  const uint64_t manifest_size = std::string("{\"name\":\"a\"}").size();
  ASSERT_OK(quotas->setQuota("q", used + manifest_size - 1, nullptr));
  auto refused = restore(binned[0].id);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::kDenied);
  EXPECT_NE(refused.error().message.find("storage quota for q is"), std::string::npos) << refused.error().message;
  EXPECT_EQ(quotas->getQuota("q")->used_bytes, used);  // rolled back
  EXPECT_EQ(items(query("q")).size(), 1u);
  ASSERT_OK(quotas->setQuota("q", used + manifest_size, nullptr));  // exactly enough
  ASSERT_OK(restore(binned[0].id));
  EXPECT_EQ(quotas->getQuota("q")->used_bytes, used + manifest_size);
}

}  // namespace
}  // namespace berth::meta::testing

// ACR's view of the bin (/acr/v1/_deleted): repositories, manifests and tags, paged by
// (key, item id), and the item a restore by digest (and tag) means.
namespace berth::meta::testing {
namespace {

class RecycledViewTest : public RecycleBinTest {
 protected:
  std::vector<RecycledManifest> manifests(const std::string& repo, RecycledCursor after = {}, size_t limit = 100) {
    auto list = bin_->listRecycledManifests(repo, after, limit);
    EXPECT_TRUE(list.ok()) << list.error().message;
    return list ? *list : std::vector<RecycledManifest>{};
  }
  std::vector<RecycledTag> tags(const std::string& repo, RecycledCursor after = {}, size_t limit = 100) {
    auto list = bin_->listRecycledTags(repo, after, limit);
    EXPECT_TRUE(list.ok()) << list.error().message;
    return list ? *list : std::vector<RecycledTag>{};
  }
  std::vector<std::string> repositories(const std::string& after = "", size_t limit = 100) {
    auto list = bin_->listRecycledRepositories(after, limit);
    EXPECT_TRUE(list.ok()) << list.error().message;
    std::vector<std::string> out;
    for (const auto& r : list ? *list : std::vector<RecycledRepository>{}) out.push_back(r.name);
    return out;
  }
  static std::vector<std::string> names(const std::vector<RecycledTag>& list) {
    std::vector<std::string> out;
    for (const auto& t : list) out.push_back(t.name);
    return out;
  }
};

TEST_P(RecycledViewTest, ListsWhatEachKindOfDeleteLeft) {
  const auto a = image("one", "a", {"la"}, "v1");
  ASSERT_OK(meta_->putManifest([&] {
    PutManifestRequest r;
    r.repository = "one";
    r.manifest.bytes = "{\"name\":\"a\"}";
    r.manifest.digest = a;
    r.manifest.media_type = kImageType;
    r.tag = "v2";
    return r;
  }()));
  const auto b = image("one", "b", {"lb"}, "v3");
  const auto c = image("two", "c", {"lc"}, "t");
  image("three", "d", {"ld"}, "live");
  ASSERT_OK(meta_->deleteTag("one", "v3"));      // a tag item: b stays live
  ASSERT_OK(meta_->deleteManifest("one", a));    // a with v1 and v2
  image("one", "a", {"la"}, "v1");               // the same digest again ...
  ASSERT_OK(meta_->deleteManifest("one", a));    // ... deleted again, with v1 only
  ASSERT_OK(meta_->deleteRepository("two", nullptr));

  EXPECT_EQ(repositories(), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(repositories("one"), (std::vector<std::string>{"two"}));
  EXPECT_EQ(repositories("", 1), (std::vector<std::string>{"one"}));
  auto repos = bin_->listRecycledRepositories("", 100);
  ASSERT_OK(repos);
  EXPECT_GT(repos->at(0).deleted_at, 0);
  EXPECT_GT(repos->at(0).created_at, 0);
  EXPECT_LE(repos->at(0).created_at, repos->at(0).deleted_at);

  // Manifests: a twice (oldest deletion first), not b (only its tag went).
  auto one = manifests("one");
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0].digest, a.str());
  EXPECT_EQ(one[1].digest, a.str());
  EXPECT_LT(one[0].item_id, one[1].item_id);
  EXPECT_EQ(one[0].tags, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(one[1].tags, (std::vector<std::string>{"v1"}));
  EXPECT_EQ(one[0].media_type, kImageType);
  EXPECT_EQ(one[0].size, std::string("{\"name\":\"a\"}").size());
  EXPECT_EQ(one[0].created_at, 1001);
  EXPECT_GT(one[0].deleted_at, 0);
  auto two = manifests("two");
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].digest, c.str());
  EXPECT_EQ(two[0].tags, (std::vector<std::string>{"t"}));
  EXPECT_TRUE(manifests("three").empty());
  EXPECT_TRUE(manifests("nothing").empty());

  // Tags: by name, then oldest deletion first; every kind of item.
  auto all = tags("one");
  EXPECT_EQ(names(all), (std::vector<std::string>{"v1", "v1", "v2", "v3"}));
  EXPECT_EQ(all[0].item_id, one[0].item_id);
  EXPECT_EQ(all[1].item_id, one[1].item_id);
  EXPECT_EQ(all[3].digest, b.str());
  EXPECT_EQ(all[0].digest, a.str());
  EXPECT_EQ(names(tags("two")), (std::vector<std::string>{"t"}));
  EXPECT_TRUE(tags("three").empty());
}

TEST_P(RecycledViewTest, PagesByKeyThenItem) {
  const auto a = image("r", "a", {"la"}, "v1");
  ASSERT_OK(meta_->deleteManifest("r", a));
  image("r", "a", {"la"}, "v1");
  ASSERT_OK(meta_->deleteManifest("r", a));
  const auto b = image("r", "bb", {"lb"}, "v2");
  ASSERT_OK(meta_->deleteManifest("r", b));
  const auto all = manifests("r");
  ASSERT_EQ(all.size(), 3u);

  // Sorted by digest, then item; pages of one walk them all, the same digest twice included.
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_TRUE(all[i - 1].digest < all[i].digest ||
                (all[i - 1].digest == all[i].digest && all[i - 1].item_id < all[i].item_id));
  }
  RecycledCursor cursor;
  for (const auto& expected : all) {
    auto page = manifests("r", cursor, 1);
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].item_id, expected.item_id);
    EXPECT_EQ(page[0].digest, expected.digest);
    cursor = {page[0].digest, page[0].item_id};
  }
  EXPECT_TRUE(manifests("r", cursor).empty());
  // A key alone goes past every entry of that key.
  auto past_a = manifests("r", {a.str(), 0});
  EXPECT_EQ(past_a.size(), a.str() < b.str() ? 1u : 0u);
  int64_t first_a = 0;  // the older of a's two items
  for (const auto& m : all) {
    if (m.digest == a.str() && (first_a == 0 || m.item_id < first_a)) first_a = m.item_id;
  }
  auto after_first_a = manifests("r", {a.str(), first_a});
  EXPECT_EQ(after_first_a.size(), a.str() < b.str() ? 2u : 1u);  // a's newer item (and b after it)

  auto t = tags("r");
  EXPECT_EQ(names(t), (std::vector<std::string>{"v1", "v1", "v2"}));
  EXPECT_EQ(names(tags("r", {"v1", t[0].item_id})), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(names(tags("r", {"v1", 0})), (std::vector<std::string>{"v2"}));
  EXPECT_EQ(names(tags("r", {}, 2)), (std::vector<std::string>{"v1", "v1"}));
}

TEST_P(RecycledViewTest, FindsTheItemARestoreMeans) {
  const auto a = image("r", "a", {"la"}, "v1");
  ASSERT_OK(meta_->putManifest([&] {
    PutManifestRequest req;
    req.repository = "r";
    req.manifest.bytes = "{\"name\":\"a\"}";
    req.manifest.digest = a;
    req.manifest.media_type = kImageType;
    req.tag = "v2";
    return req;
  }()));
  const auto b = image("r", "b", {"lb"}, "v3");
  ASSERT_OK(meta_->deleteTag("r", "v3"));
  ASSERT_OK(meta_->deleteManifest("r", a));  // v1, v2
  image("r", "a", {"la"}, "v1");
  ASSERT_OK(meta_->deleteManifest("r", a));  // v1
  const auto c = image("gone", "c", {"lc"});
  ASSERT_OK(meta_->deleteRepository("gone", nullptr));
  const auto listed = manifests("r");
  ASSERT_EQ(listed.size(), 2u);

  EXPECT_EQ(bin_->findRecycledManifest("r", a.str(), "").value(), listed[1].item_id);    // the newest
  EXPECT_EQ(bin_->findRecycledManifest("r", a.str(), "v1").value(), listed[1].item_id);
  EXPECT_EQ(bin_->findRecycledManifest("r", a.str(), "v2").value(), listed[0].item_id);  // only the older has v2
  const auto tag_item = tags("r").back();
  EXPECT_EQ(bin_->findRecycledManifest("r", b.str(), "v3").value(), tag_item.item_id);
  EXPECT_EQ(bin_->findRecycledManifest("r", b.str(), "").code(), Code::kNotFound);  // b was not deleted
  EXPECT_EQ(bin_->findRecycledManifest("r", a.str(), "v3").code(), Code::kNotFound);
  EXPECT_EQ(bin_->findRecycledManifest("gone", c.str(), "").value(), manifests("gone").at(0).item_id);
  EXPECT_EQ(bin_->findRecycledManifest("elsewhere", a.str(), "").code(), Code::kNotFound);

  // Restoring what it found takes that item out of every view.
  ASSERT_OK(restore(listed[0].item_id));
  EXPECT_EQ(manifests("r").size(), 1u);
  EXPECT_EQ(names(tags("r")), (std::vector<std::string>{"v1", "v3"}));
  EXPECT_EQ(*meta_->resolveTag("r", "v2"), a);
  ASSERT_OK(restore(bin_->findRecycledManifest("gone", c.str(), "").value()));
  EXPECT_EQ(repositories(), (std::vector<std::string>{"r"}));
}

INSTANTIATE_TEST_SUITE_P(Drivers, RecycleBinTest, allStores(), storeFactoryName);
INSTANTIATE_TEST_SUITE_P(Drivers, RecycledViewTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
