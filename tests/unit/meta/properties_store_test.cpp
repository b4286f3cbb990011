// PropertiesStore (ACR metadata) on every driver (SQLite, PostgreSQL): counts, image sizes, platform, the changeable
// attributes, time order and paging, the SQLite v3 -> v4 backfill, and MetaStore's
// deleteRepository with its outbox events.
#include "meta/sqlite/sqlite_properties_store.h"

#include <gtest/gtest.h>

#include "meta_store_contract.h"

#include <string>
#include <vector>

#include "meta/sqlite/sqlite_db.h"
#include "meta/sqlite/sqlite_meta_store.h"
#include "oci/digest.h"
#include "sqlite_test_files.h"

namespace berth::meta::testing {
namespace {

constexpr const char* kImage = "application/vnd.oci.image.manifest.v1+json";

class PropertiesStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    meta_ = std::move(store_);
    props_ = meta_->propertiesStore();
  }

  // An image manifest referencing `layers` (linked first with their sizes).
  oci::Digest push(const std::string& repo, const std::string& name,
                   const std::vector<std::pair<std::string, uint64_t>>& layers,
                   std::optional<std::string> tag, std::string arch = "amd64") {
    PutManifestRequest req;
    req.repository = repo;
    req.manifest.bytes = "{\"name\":\"" + name + "\"}";
    req.manifest.digest = oci::digestOf(req.manifest.bytes);
    req.manifest.media_type = kImage;
    for (const auto& [content, size] : layers) {
      EXPECT_TRUE(meta_->linkBlob(repo, oci::digestOf(content), size).ok());
      req.blobs.push_back(oci::digestOf(content));
    }
    req.tag = std::move(tag);
    req.architecture = std::move(arch);
    req.os = "linux";
    auto s = meta_->putManifest(req);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return req.manifest.digest;
  }

  std::vector<std::string> tagNames(const std::string& repo, PropertiesOrder order, std::string last, size_t n) {
    auto tags = props_->listTags(repo, PageRequest{order, std::move(last), n}, std::nullopt);
    EXPECT_TRUE(tags.ok()) << tags.error().message;
    std::vector<std::string> out;
    if (tags) {
      for (const auto& t : *tags) out.push_back(t.name);
    }
    return out;
  }

  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<PropertiesStore> props_;
};

TEST_P(PropertiesStoreTest, RepositoryCountsAndAttributes) {
  const auto a = push("team/app", "a", {{"l1", 100}, {"cfg", 10}}, "v1");
  push("team/app", "b", {{"l1", 100}}, "v2");
  EXPECT_TRUE(meta_->putManifest([&] {
                PutManifestRequest r;
                r.repository = "team/app";
                r.manifest.bytes = "{\"name\":\"a\"}";
                r.manifest.digest = a;
                r.manifest.media_type = kImage;
                r.tag = "latest";
                return r;
              }()).ok());
  auto r = props_->repository("team/app");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->manifest_count, 2u);
  EXPECT_EQ(r->tag_count, 3u);
  EXPECT_GT(r->created_at, 0);
  EXPECT_GE(r->updated_at, r->created_at);
  EXPECT_EQ(r->attributes, Attributes{});

  AttributesPatch patch;
  patch.write_enabled = false;
  auto updated = props_->updateRepository("team/app", patch);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_FALSE(updated->attributes.write_enabled);
  EXPECT_TRUE(updated->attributes.delete_enabled);
  patch = {};
  patch.delete_enabled = false;
  ASSERT_TRUE(props_->updateRepository("team/app", patch).ok());
  auto again = props_->repository("team/app");
  EXPECT_EQ(again->attributes, (Attributes{false, false, true, true}));

  EXPECT_EQ(props_->repository("team/none").code(), Code::kNameUnknown);
  EXPECT_EQ(props_->updateRepository("team/none", patch).code(), Code::kNameUnknown);
}

TEST_P(PropertiesStoreTest, ManifestSizePlatformTagsAndAttributes) {
  const auto d = push("team/app", "a", {{"l1", 100}, {"l2", 50}, {"cfg", 7}}, "v1", "arm64");
  push("other/app", "x", {{"l1", 100}}, "v1");  // another repository does not count
  auto m = props_->manifest("team/app", d);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->image_size, std::string("{\"name\":\"a\"}").size() + 157);
  EXPECT_EQ(m->architecture, "arm64");
  EXPECT_EQ(m->os, "linux");
  EXPECT_EQ(m->tags, std::vector<std::string>{"v1"});

  AttributesPatch patch;
  patch.read_enabled = false;
  auto updated = props_->updateManifest("team/app", d, patch);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->attributes, (Attributes{true, true, true, false}));
  EXPECT_EQ(props_->manifest("other/app", oci::digestOf("{\"name\":\"x\"}"))->attributes, Attributes{});

  auto tag = props_->tag("team/app", "v1");
  ASSERT_TRUE(tag.ok());
  EXPECT_EQ(tag->digest, d);
  EXPECT_EQ(tag->attributes, Attributes{});
  patch = {};
  patch.list_enabled = false;
  EXPECT_EQ(props_->updateTag("team/app", "v1", patch)->attributes, (Attributes{true, true, false, true}));
  EXPECT_FALSE(props_->tag("team/app", "v1")->attributes.list_enabled);

  EXPECT_EQ(props_->manifest("team/app", oci::digestOf("nope")).code(), Code::kManifestUnknown);
  EXPECT_EQ(props_->manifest("team/none", d).code(), Code::kManifestUnknown);
  EXPECT_EQ(props_->tag("team/app", "nope").code(), Code::kManifestUnknown);
  EXPECT_EQ(props_->updateTag("team/app", "nope", patch).code(), Code::kManifestUnknown);
}

TEST_P(PropertiesStoreTest, LockedItemsAreEveryItemWithAnAttributeOff) {
  const oci::Digest d = push("team/app", "a", {}, "v1");
  push("team/app", "b", {}, "v2");
  push("zeta", "z", {}, "latest");
  auto none = props_->lockedItems();
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());

  AttributesPatch off;
  off.write_enabled = false;
  ASSERT_TRUE(props_->updateTag("team/app", "v2", off).ok());
  ASSERT_TRUE(props_->updateRepository("zeta", off).ok());
  AttributesPatch hidden;
  hidden.list_enabled = false;
  ASSERT_TRUE(props_->updateManifest("team/app", d, hidden).ok());
  auto locked = props_->lockedItems();
  ASSERT_TRUE(locked.ok()) << locked.error().message;
  ASSERT_EQ(locked->size(), 3u);
  EXPECT_EQ((*locked)[0].repository, "team/app");
  EXPECT_EQ((*locked)[0].tag, "");
  EXPECT_EQ((*locked)[0].digest, d);
  EXPECT_EQ((*locked)[0].attributes, (Attributes{true, true, false, true}));
  EXPECT_EQ((*locked)[1].tag, "v2");
  EXPECT_FALSE((*locked)[1].digest.has_value());
  EXPECT_EQ((*locked)[1].attributes, (Attributes{true, false, true, true}));
  EXPECT_EQ((*locked)[2].repository, "zeta");
  EXPECT_EQ((*locked)[2].tag, "");
  EXPECT_FALSE((*locked)[2].digest.has_value());

  // Back to the defaults: no longer a lock.
  AttributesPatch on;
  on.write_enabled = true;
  ASSERT_TRUE(props_->updateTag("team/app", "v2", on).ok());
  ASSERT_TRUE(props_->updateRepository("zeta", on).ok());
  EXPECT_EQ(props_->lockedItems()->size(), 1u);
}

TEST_P(PropertiesStoreTest, TagPagesByNameAndByTime) {
  for (const char* t : {"c", "a", "d", "b"}) push("team/app", t, {}, t);
  // Times the test controls: c oldest ... b newest; a and d share a second.
  rawQuery(
           "UPDATE tags SET updated_at = CASE name WHEN 'c' THEN 10 WHEN 'a' THEN 20"
           " WHEN 'd' THEN 20 ELSE 30 END");
  EXPECT_EQ(tagNames("team/app", PropertiesOrder::kName, "", 10), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(tagNames("team/app", PropertiesOrder::kName, "b", 1), (std::vector<std::string>{"c"}));
  EXPECT_EQ(tagNames("team/app", PropertiesOrder::kTimeDesc, "", 10),
            (std::vector<std::string>{"b", "d", "a", "c"}));
  EXPECT_EQ(tagNames("team/app", PropertiesOrder::kTimeDesc, "d", 10), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(tagNames("team/app", PropertiesOrder::kTimeAsc, "a", 2), (std::vector<std::string>{"d", "b"}));
  // After a tag that is gone, a time-ordered page is empty (never a restart).
  EXPECT_EQ(tagNames("team/app", PropertiesOrder::kTimeAsc, "zz", 10), std::vector<std::string>{});
  auto filtered = props_->listTags("team/app", PageRequest{}, oci::digestOf("{\"name\":\"a\"}"));
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->size(), 1u);
  EXPECT_EQ(filtered->front().name, "a");
  EXPECT_EQ(props_->listTags("team/none", PageRequest{}, std::nullopt).code(), Code::kNameUnknown);
}

TEST_P(PropertiesStoreTest, DeleteRepositoryRemovesEverythingWithOneEventPerManifest) {
  const auto a = push("team/app", "a", {{"l1", 100}}, "v1");
  const auto b = push("team/app", "b", {{"l2", 10}}, "v2");
  push("team/keep", "a", {{"l1", 100}}, "v1");
  std::vector<std::string> events;
  auto deleted = meta_->deleteRepository(
      "team/app", [&](const oci::Digest& digest, const std::string& media_type, uint64_t size) {
        events.push_back(digest.str() + " " + media_type + " " + std::to_string(size));
        EventRecord e;
        e.action = "delete";
        e.repository = "team/app";
        e.digest = digest.str();
        e.payload = "{}";
        return std::optional<EventRecord>(e);
      });
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  std::vector<oci::Digest> expected{a, b};
  std::sort(expected.begin(), expected.end(), [](auto& x, auto& y) { return x.str() < y.str(); });
  EXPECT_EQ(deleted->manifests, expected);
  EXPECT_EQ(deleted->tags, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(events.size(), 2u);
  EXPECT_EQ(rawQuery("SELECT count(*) FROM events WHERE repository = 'team/app'"), "2");
  EXPECT_EQ(*meta_->repositoryExists("team/app"), false);
  EXPECT_EQ(meta_->repositoryBlob("team/app", oci::digestOf("l1")).code(), Code::kBlobUnknown);
  EXPECT_EQ(*meta_->repositoryBlob("team/keep", oci::digestOf("l1")), 100u);
  EXPECT_EQ(rawQuery("SELECT count(*) FROM manifest_blob_refs"), "1");
  EXPECT_EQ(meta_->deleteRepository("team/app", nullptr).code(), Code::kNameUnknown);
}

// A mount without `from` (Registry::mountBlob) takes the blob from anyBlob: a read-locked
// repository must not lend it.
TEST_P(PropertiesStoreTest, AnyBlobSkipsReadLockedRepositories) {
  push("team/locked", "a", {{"only-here", 10}, {"shared", 20}}, "v1");
  push("team/open", "b", {{"shared", 20}}, "v1");
  AttributesPatch no_read;
  no_read.read_enabled = false;
  ASSERT_TRUE(props_->updateRepository("team/locked", no_read).ok());
  EXPECT_EQ(meta_->anyBlob(oci::digestOf("only-here")).code(), Code::kBlobUnknown);
  EXPECT_EQ(*meta_->anyBlob(oci::digestOf("shared")), 20u);
  AttributesPatch read;
  read.read_enabled = true;
  ASSERT_TRUE(props_->updateRepository("team/locked", read).ok());
  EXPECT_EQ(*meta_->anyBlob(oci::digestOf("only-here")), 10u);
}

TEST_P(PropertiesStoreTest, LocksAreCheckedInTheStoreTransactions) {
  const auto a = push("team/app", "a", {{"l1", 10}}, "v1");
  const auto b = push("team/app", "b", {{"l2", 10}}, "v2");
  AttributesPatch no_write, no_delete, no_read, no_list;
  no_write.write_enabled = false;
  no_delete.delete_enabled = false;
  no_read.read_enabled = false;
  no_list.list_enabled = false;
  auto moveV1ToB = [&] {
    PutManifestRequest r;
    r.repository = "team/app";
    r.manifest.bytes = "{\"name\":\"b\"}";
    r.manifest.digest = b;
    r.manifest.media_type = kImage;
    r.tag = "v1";
    return meta_->putManifest(r);
  };
  ASSERT_TRUE(props_->updateTag("team/app", "v1", no_write).ok());
  auto s = moveV1ToB();
  ASSERT_EQ(s.code(), Code::kDenied);
  EXPECT_EQ(s.error().message, "tag team/app:v1 is locked: writeEnabled is false");
  EXPECT_EQ(*meta_->resolveTag("team/app", "v1"), a);

  ASSERT_TRUE(props_->updateTag("team/app", "v1", no_delete).ok());
  EXPECT_EQ(meta_->deleteTag("team/app", "v1").code(), Code::kDenied);
  EXPECT_EQ(meta_->deleteManifest("team/app", a).code(), Code::kDenied);  // its tag is locked
  EXPECT_EQ(meta_->deleteRepository("team/app", nullptr).code(), Code::kDenied);
  EXPECT_TRUE(meta_->getManifest("team/app", a).ok());

  ASSERT_TRUE(props_->updateManifest("team/app", b, no_read).ok());
  EXPECT_EQ(*meta_->readDenied("team/app", "v2", b), "manifest team/app@" + b.str() + " is locked: readEnabled is false");
  EXPECT_EQ(*meta_->readDenied("team/app", "v1", a), "");
  ASSERT_TRUE(props_->updateRepository("team/app", no_read).ok());
  EXPECT_EQ(*meta_->readDenied("team/app", "", a), "repository team/app is locked: readEnabled is false");
  EXPECT_EQ(meta_->repositoryBlob("team/app", oci::digestOf("l1")).code(), Code::kDenied);

  ASSERT_TRUE(props_->updateTag("team/app", "v2", no_list).ok());
  EXPECT_EQ(*meta_->listTags("team/app", "", 10), std::vector<std::string>{"v1"});
  ASSERT_TRUE(props_->updateRepository("team/app", no_list).ok());
  EXPECT_EQ(*meta_->listRepositories("", 10), std::vector<std::string>{});

  ASSERT_TRUE(props_->updateRepository("team/app", no_write).ok());
  s = meta_->putManifest([&] {
    PutManifestRequest r;
    r.repository = "team/app";
    r.manifest.bytes = "{}";
    r.manifest.digest = oci::digestOf("{}");
    r.manifest.media_type = kImage;
    return r;
  }());
  ASSERT_EQ(s.code(), Code::kDenied);
  EXPECT_EQ(s.error().message, "repository team/app is locked: writeEnabled is false");
}

// A file at schema v3 (its exact SQL) migrates to v4 with times backfilled from what it
// has, every attribute enabled and image sizes computed from its rows.
TEST(SqlitePropertiesMigration, BackfillsAVersion3File) {
  TempDir dir;
  const auto migrations = sqlite_detail::schemaMigrations();
  ASSERT_GE(migrations.size(), 4u);
  ASSERT_EQ(migrations[3].version, 4);
  std::string v3;
  for (size_t i = 0; i < 3; ++i) v3 += migrations[i].sql;
  const std::string bytes = R"({"schemaVersion":2,"layers":[]})";
  const std::string m = oci::digestOf(bytes).str();
  const std::string layer = oci::digestOf("layer").str();
  rawQuery(dir.db(), v3 + "PRAGMA user_version = 3;");
  rawQuery(dir.db(), "INSERT INTO repositories(id, name) VALUES (1, 'team/app');"
                     "INSERT INTO blob_links VALUES (1, '" + layer + "', 5, 90);"
                     "INSERT INTO manifests(id, repo_id, digest, media_type, artifact_type, bytes, size,"
                     " annotations, subject, created_at) VALUES (1, 1, '" + m + "', '" + kImage + "', '', '" +
                         bytes + "', " + std::to_string(bytes.size()) + ", '', NULL, 100);"
                     "INSERT INTO manifest_blob_refs VALUES (1, '" + layer + "');"
                     "INSERT INTO tags VALUES (1, 'v1', '" + m + "', 150);");
  auto opened = SqliteMetaStore::open(dir.db());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(rawQuery(dir.db(), "PRAGMA integrity_check"), "ok");
  auto props = (*opened)->propertiesStore();
  auto repo = props->repository("team/app");
  ASSERT_TRUE(repo.ok()) << repo.error().message;
  EXPECT_EQ(repo->created_at, 90);
  EXPECT_EQ(repo->updated_at, 150);
  EXPECT_EQ(repo->manifest_count, 1u);
  EXPECT_EQ(repo->tag_count, 1u);
  EXPECT_EQ(repo->attributes, Attributes{});
  auto tag = props->tag("team/app", "v1");
  ASSERT_TRUE(tag.ok());
  EXPECT_EQ(tag->created_at, 150);
  EXPECT_EQ(tag->updated_at, 150);
  auto manifest = props->manifest("team/app", *oci::Digest::parse(m));
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->created_at, 100);
  EXPECT_EQ(manifest->updated_at, 150);
  EXPECT_EQ(manifest->image_size, bytes.size() + 5);
  EXPECT_EQ(manifest->architecture, "");
}

INSTANTIATE_TEST_SUITE_P(Drivers, PropertiesStoreTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
