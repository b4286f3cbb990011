// Retention on real SQLite: MetaStore's deletes with a DeleteGuard (each precondition
// holding and failing; a failed guard changes nothing, not even the outbox or the recycle
// bin; ignore_item_locks), and the RetentionStore on every driver (snapshots, blobsOf, referencedBy,
// stored policies).
#include "meta/retention_store.h"

#include <gtest/gtest.h>

#include "meta_store_contract.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meta/properties_store.h"
#include "meta/recycle_store.h"
#include "oci/digest.h"
#include "manifest_fixtures.h"

namespace berth::meta::testing {
namespace {

constexpr int64_t kDay = 24 * 3600;

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    auto&& r_ = (expr);                                          \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.error().message; \
  } while (0)

AttributesPatch deleteEnabled(bool on) {
  return AttributesPatch{on, std::nullopt, std::nullopt, std::nullopt};
}
AttributesPatch listEnabled(bool on) {
  return AttributesPatch{std::nullopt, std::nullopt, on, std::nullopt};
}

std::optional<EventRecord> deleteEvent(const std::string& repository) {
  EventRecord e;
  e.action = "delete";
  e.repository = repository;
  e.payload = "{}";
  return e;
}

class RetentionTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    store_.reset();
    open();
  }

  void open() {
    auto opened = env_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    meta_ = std::move(*opened);
    meta_->setRecycleBin({true, 7 * kDay});
    retention_ = meta_->retentionStore();
    props_ = meta_->propertiesStore();
    bin_ = meta_->recycleStore();
  }

  // An image manifest whose bytes name `name`, referencing `layers` (each linked first,
  // its size its length).
  oci::Digest image(const std::string& repo, const std::string& name, const std::vector<std::string>& layers,
                    std::optional<std::string> tag = std::nullopt,
                    std::optional<oci::Digest> subject = std::nullopt) {
    return putImage(*meta_, repo, name, layers, std::move(tag), std::move(subject));
  }

  oci::Digest index(const std::string& repo, const std::string& name, const std::vector<oci::Digest>& children,
                    std::optional<std::string> tag = std::nullopt) {
    return putIndex(*meta_, repo, name, children, std::move(tag));
  }

  int count(const std::string& table) {
    return std::stoi(rawQuery("SELECT COUNT(*) FROM " + table));
  }
  size_t binned() {
    auto list = bin_->list(RecycleQuery{});
    EXPECT_TRUE(list.ok()) << list.error().message;
    return list ? list->size() : 0;
  }
  int64_t tagUpdatedAt(const std::string& repo, const std::string& tag) {
    auto t = props_->tag(repo, tag);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t ? t->updated_at : -1;
  }
  int64_t manifestUpdatedAt(const std::string& repo, const oci::Digest& digest) {
    auto m = props_->manifest(repo, digest);
    EXPECT_TRUE(m.ok()) << m.error().message;
    return m ? m->updated_at : -1;
  }
  bool hasManifest(const std::string& repo, const oci::Digest& digest) {
    return meta_->getManifest(repo, digest).ok();
  }

  // A delete the guard refuses: kConflict naming `what`, and nothing changed (no outbox
  // event, nothing binned). The caller checks the item itself is still there.
  template <class Fn>
  void expectConflict(const std::string& what, Fn del) {
    const int events = count("events");
    const size_t in_bin = binned();
    Status s = del();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Code::kConflict);
    EXPECT_EQ(s.error().message, what + " changed since the purge planned it");
    EXPECT_EQ(count("events"), events);
    EXPECT_EQ(binned(), in_bin);
  }

  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<RetentionStore> retention_;
  std::unique_ptr<PropertiesStore> props_;
  std::unique_ptr<RecycleStore> bin_;
};

// --- DeleteGuard on deleteTag ---

TEST_P(RetentionTest, TagGuardDigestHolds) {
  const auto m = image("r", "m", {"l"}, "v1");
  DeleteGuard g;
  g.digest = m;
  ASSERT_OK(meta_->deleteTag("r", "v1", deleteEvent("r"), g));
  EXPECT_EQ(meta_->resolveTag("r", "v1").code(), Code::kManifestUnknown);
  EXPECT_TRUE(hasManifest("r", m));
  EXPECT_EQ(binned(), 1u);
}

TEST_P(RetentionTest, TagGuardFailsWhenTheTagMoved) {
  const auto m1 = image("r", "m1", {"l"}, "v1");
  const auto m2 = image("r", "m2", {"l"}, "v1");  // v1 moves on
  DeleteGuard g;
  g.digest = m1;
  expectConflict("tag r:v1", [&] { return meta_->deleteTag("r", "v1", deleteEvent("r"), g); });
  auto now = meta_->resolveTag("r", "v1");
  ASSERT_OK(now);
  EXPECT_EQ(*now, m2);
}

TEST_P(RetentionTest, TagGuardUpdatedAt) {
  image("r", "m", {"l"}, "v1");
  const int64_t planned = tagUpdatedAt("r", "v1");
  DeleteGuard stale;
  stale.updated_at = planned - 1;  // planned before the tag's last change
  expectConflict("tag r:v1", [&] { return meta_->deleteTag("r", "v1", deleteEvent("r"), stale); });
  EXPECT_TRUE(meta_->resolveTag("r", "v1").ok());

  DeleteGuard current;
  current.updated_at = planned;
  ASSERT_OK(meta_->deleteTag("r", "v1", deleteEvent("r"), current));
  EXPECT_EQ(meta_->resolveTag("r", "v1").code(), Code::kManifestUnknown);
}

TEST_P(RetentionTest, TagGuardOnAMissingTagIsManifestUnknown) {
  const auto m = image("r", "m", {"l"}, "v1");
  DeleteGuard g;
  g.digest = m;
  g.updated_at = 1;
  EXPECT_EQ(meta_->deleteTag("r", "v2", std::nullopt, g).code(), Code::kManifestUnknown);
  EXPECT_EQ(meta_->deleteTag("nope", "v1", std::nullopt, g).code(), Code::kManifestUnknown);
}

// --- DeleteGuard on deleteManifest ---

TEST_P(RetentionTest, ManifestGuardUpdatedAt) {
  const auto m = image("r", "m", {"l"});
  image("r", "keep", {"l"});  // keeps the repository
  const int64_t planned = manifestUpdatedAt("r", m);
  DeleteGuard stale;
  stale.updated_at = planned + 1;
  expectConflict("manifest r@" + m.str(),
                 [&] { return meta_->deleteManifest("r", m, deleteEvent("r"), stale); });
  EXPECT_TRUE(hasManifest("r", m));

  DeleteGuard current;
  current.updated_at = planned;
  const int events = count("events");
  ASSERT_OK(meta_->deleteManifest("r", m, deleteEvent("r"), current));
  EXPECT_FALSE(hasManifest("r", m));
  EXPECT_EQ(count("events"), events + 1);
  EXPECT_EQ(binned(), 1u);
}

TEST_P(RetentionTest, UnreferencedFailsWhileATagNamesTheManifest) {
  const auto m = image("r", "m", {"l"}, "v1");
  DeleteGuard g;
  g.unreferenced = true;
  expectConflict("manifest r@" + m.str(),
                 [&] { return meta_->deleteManifest("r", m, deleteEvent("r"), g); });
  EXPECT_TRUE(hasManifest("r", m));
  EXPECT_TRUE(meta_->resolveTag("r", "v1").ok());

  ASSERT_OK(meta_->deleteTag("r", "v1"));
  ASSERT_OK(meta_->deleteManifest("r", m, deleteEvent("r"), g));
  EXPECT_FALSE(hasManifest("r", m));
}

TEST_P(RetentionTest, UnreferencedFailsWhileAnIndexOfTheRepositoryListsIt) {
  const auto child = image("r", "child", {"l"});
  const auto idx = index("r", "idx", {child});
  // The same child under an index in another repository does not count.
  image("other", "child", {"l"});
  index("other", "idx", {child}, "latest");
  DeleteGuard g;
  g.unreferenced = true;
  expectConflict("manifest r@" + child.str(),
                 [&] { return meta_->deleteManifest("r", child, std::nullopt, g); });
  EXPECT_TRUE(hasManifest("r", child));

  ASSERT_OK(meta_->deleteManifest("r", idx, std::nullopt, g));
  ASSERT_OK(meta_->deleteManifest("r", child, std::nullopt, g));
  EXPECT_FALSE(hasManifest("r", child));
  EXPECT_TRUE(hasManifest("other", child));
}

TEST_P(RetentionTest, UnreferencedFailsWhileTheSubjectIsInTheRepository) {
  const auto subject = image("r", "subject", {"l"});
  const auto sig = image("r", "sig", {"s"}, std::nullopt, subject);
  // A referrer whose subject was never pushed here is unreferenced.
  const auto orphan = image("r", "orphan-sig", {"s"}, std::nullopt, oci::digestOf("not pushed"));
  DeleteGuard g;
  g.unreferenced = true;
  expectConflict("manifest r@" + sig.str(),
                 [&] { return meta_->deleteManifest("r", sig, std::nullopt, g); });
  EXPECT_TRUE(hasManifest("r", sig));
  ASSERT_OK(meta_->deleteManifest("r", orphan, std::nullopt, g));

  // The subject itself is unreferenced (a referrer does not keep its subject), and once it
  // is gone the referrer is too.
  ASSERT_OK(meta_->deleteManifest("r", subject, std::nullopt, g));
  ASSERT_OK(meta_->deleteManifest("r", sig, std::nullopt, g));
  EXPECT_FALSE(hasManifest("r", sig));
}

// A planned manifest that is gone by the delete is kManifestUnknown ("already gone"), not
// kConflict, although it changed before it went: the same guard refused it while it was
// there (without that the test could not tell the guard's answer from the unguarded one).
TEST_P(RetentionTest, ManifestGuardOnAMissingManifestIsManifestUnknown) {
  const auto m = image("r", "m", {"l"});
  image("r", "keep", {"l"});  // keeps the repository
  DeleteGuard g;
  g.unreferenced = true;
  g.updated_at = manifestUpdatedAt("r", m);  // as planned
  image("r", "m", {"l"}, "v1");              // then tagged
  expectConflict("manifest r@" + m.str(), [&] { return meta_->deleteManifest("r", m, deleteEvent("r"), g); });
  ASSERT_TRUE(hasManifest("r", m));
  ASSERT_OK(meta_->deleteManifest("r", m));  // then deleted by someone else

  const int events = count("events");
  const size_t in_bin = binned();
  EXPECT_EQ(meta_->deleteManifest("r", m, deleteEvent("r"), g).code(), Code::kManifestUnknown);
  EXPECT_EQ(meta_->deleteManifest("r", oci::digestOf("absent"), deleteEvent("r"), g).code(),
            Code::kManifestUnknown);
  EXPECT_EQ(count("events"), events);
  EXPECT_EQ(binned(), in_bin);
}

// --- ignore_item_locks ---

TEST_P(RetentionTest, IgnoreItemLocksDeletesALockedTag) {
  image("r", "m", {"l"}, "v1");
  ASSERT_OK(props_->updateTag("r", "v1", deleteEnabled(false)));
  auto denied = meta_->deleteTag("r", "v1");
  EXPECT_EQ(denied.code(), Code::kDenied);
  EXPECT_EQ(denied.error().message, "tag r:v1 is locked: deleteEnabled is false");

  DeleteGuard g;
  g.ignore_item_locks = true;
  ASSERT_OK(meta_->deleteTag("r", "v1", std::nullopt, g));
  EXPECT_EQ(meta_->resolveTag("r", "v1").code(), Code::kManifestUnknown);
}

TEST_P(RetentionTest, IgnoreItemLocksDeletesALockedManifestWithALockedTag) {
  const auto m = image("r", "m", {"l"}, "v1");
  image("r", "keep", {"l"});
  ASSERT_OK(props_->updateManifest("r", m, deleteEnabled(false)));
  ASSERT_OK(props_->updateTag("r", "v1", deleteEnabled(false)));
  EXPECT_EQ(meta_->deleteManifest("r", m).code(), Code::kDenied);
  ASSERT_OK(props_->updateManifest("r", m, deleteEnabled(true)));
  auto tag_locked = meta_->deleteManifest("r", m);  // the tag's lock alone still refuses
  EXPECT_EQ(tag_locked.code(), Code::kDenied);
  EXPECT_EQ(tag_locked.error().message, "tag r:v1 is locked: deleteEnabled is false");
  ASSERT_OK(props_->updateManifest("r", m, deleteEnabled(false)));

  DeleteGuard g;
  g.ignore_item_locks = true;
  ASSERT_OK(meta_->deleteManifest("r", m, std::nullopt, g));
  EXPECT_FALSE(hasManifest("r", m));
  EXPECT_EQ(meta_->resolveTag("r", "v1").code(), Code::kManifestUnknown);
}

TEST_P(RetentionTest, IgnoreItemLocksStillHonoursTheRepositoryLock) {
  const auto m = image("r", "m", {"l"}, "v1");
  ASSERT_OK(props_->updateRepository("r", deleteEnabled(false)));
  DeleteGuard g;
  g.ignore_item_locks = true;
  auto tag = meta_->deleteTag("r", "v1", std::nullopt, g);
  EXPECT_EQ(tag.code(), Code::kDenied);
  EXPECT_EQ(tag.error().message, "repository r is locked: deleteEnabled is false");
  EXPECT_EQ(meta_->deleteManifest("r", m, std::nullopt, g).code(), Code::kDenied);
  EXPECT_TRUE(hasManifest("r", m));
  EXPECT_TRUE(meta_->resolveTag("r", "v1").ok());
  EXPECT_EQ(binned(), 0u);
}

TEST_P(RetentionTest, DefaultGuardDeletesAsBefore) {
  // Tagged, listed by an index, a referrer's subject, updated since: none of it matters
  // without a guard. The manifest goes with its tags.
  const auto m = image("r", "m", {"l"}, "v1");
  index("r", "idx", {m});
  image("r", "sig", {"s"}, std::nullopt, m);
  ASSERT_OK(meta_->deleteTag("r", "v1"));
  image("r", "m", {"l"}, "v2");
  ASSERT_OK(meta_->deleteManifest("r", m, deleteEvent("r")));
  EXPECT_FALSE(hasManifest("r", m));
  EXPECT_EQ(meta_->resolveTag("r", "v2").code(), Code::kManifestUnknown);
  EXPECT_EQ(meta_->deleteManifest("r", m).code(), Code::kManifestUnknown);
  EXPECT_EQ(meta_->deleteTag("r", "v2").code(), Code::kManifestUnknown);
}

// --- snapshot ---

TEST_P(RetentionTest, RepositoriesListsEveryNameSortedHiddenIncluded) {
  image("b/app", "m", {"l"});
  image("a", "m", {"l"});
  image("c", "m", {"l"});
  ASSERT_OK(props_->updateRepository("b/app", listEnabled(false)));
  auto listed = meta_->listRepositories("", 100);
  ASSERT_OK(listed);
  EXPECT_EQ(*listed, (std::vector<std::string>{"a", "c"}));
  auto all = retention_->repositories();
  ASSERT_OK(all);
  EXPECT_EQ(*all, (std::vector<std::string>{"a", "b/app", "c"}));
}

TEST_P(RetentionTest, SnapshotHasEveryManifestAndTagWithTimesAndAttributes) {
  const auto a = image("r", "a", {"la", "config"}, "v1");
  const auto b = image("r", "bb", {"lb", "config"}, "hidden");
  const auto idx = index("r", "idx", {a, b}, "multi");
  const auto sig = image("r", "sig", {"s"}, std::nullopt, a);
  image("r", "a", {"la", "config"}, "v0");  // a second tag on a
  ASSERT_OK(props_->updateTag("r", "hidden", listEnabled(false)));
  ASSERT_OK(props_->updateManifest("r", b, listEnabled(false)));
  ASSERT_OK(props_->updateManifest("r", sig, deleteEnabled(false)));
  ASSERT_OK(props_->updateRepository(
      "r", AttributesPatch{std::nullopt, false, std::nullopt, std::nullopt}));
  image("other", "a", {"la"}, "v1");

  auto snap = retention_->snapshot("r");
  ASSERT_OK(snap);
  EXPECT_EQ(snap->name, "r");
  EXPECT_EQ(snap->attributes, (Attributes{true, false, true, true}));

  std::vector<oci::Digest> digests = {a, b, idx, sig};
  std::sort(digests.begin(), digests.end());
  ASSERT_EQ(snap->manifests.size(), 4u);
  for (size_t i = 0; i < digests.size(); ++i) EXPECT_EQ(snap->manifests[i].digest, digests[i]) << i;
  for (const SnapshotManifest& m : snap->manifests) {
    auto props = props_->manifest("r", m.digest);
    ASSERT_OK(props);
    EXPECT_EQ(m.media_type, props->media_type);
    EXPECT_EQ(m.artifact_type, props->artifact_type);
    EXPECT_EQ(m.created_at, props->created_at);
    EXPECT_EQ(m.updated_at, props->updated_at);
    EXPECT_EQ(m.attributes, props->attributes);
    auto record = meta_->getManifest("r", m.digest);
    ASSERT_OK(record);
    EXPECT_EQ(m.size, record->bytes.size());
    if (m.digest == a) {
      EXPECT_EQ(m.created_at, 1001);  // as pushed, not the re-push
      EXPECT_EQ(m.media_type, kImageType);
      EXPECT_FALSE(m.subject);
      EXPECT_TRUE(m.children.empty());
    } else if (m.digest == b) {
      EXPECT_FALSE(m.attributes.list_enabled);
    } else if (m.digest == idx) {
      std::vector<oci::Digest> children = {a, b};
      std::sort(children.begin(), children.end());
      EXPECT_EQ(m.media_type, kIndexType);
      EXPECT_EQ(m.children, children);
    } else {
      ASSERT_TRUE(m.subject);
      EXPECT_EQ(*m.subject, a);
      EXPECT_EQ(m.artifact_type, "application/vnd.example.sig");
      EXPECT_FALSE(m.attributes.delete_enabled);
    }
  }

  ASSERT_EQ(snap->tags.size(), 4u);
  const std::vector<std::pair<std::string, oci::Digest>> tags = {
      {"hidden", b}, {"multi", idx}, {"v0", a}, {"v1", a}};
  for (size_t i = 0; i < tags.size(); ++i) {
    const SnapshotTag& t = snap->tags[i];
    EXPECT_EQ(t.name, tags[i].first);
    EXPECT_EQ(t.digest, tags[i].second) << t.name;
    auto props = props_->tag("r", t.name);
    ASSERT_OK(props);
    EXPECT_EQ(t.created_at, props->created_at);
    EXPECT_EQ(t.updated_at, props->updated_at);
    EXPECT_GT(t.updated_at, 0);
    EXPECT_EQ(t.attributes, props->attributes);
  }
  EXPECT_FALSE(snap->tags[0].attributes.list_enabled);
  EXPECT_TRUE(snap->tags[1].attributes.list_enabled);

  EXPECT_EQ(retention_->snapshot("absent").code(), Code::kNameUnknown);
}

TEST_P(RetentionTest, SnapshotOfARepositoryWithOnlyBlobs) {
  ASSERT_OK(meta_->linkBlob("blobs-only", oci::digestOf("x"), 1));
  auto snap = retention_->snapshot("blobs-only");
  ASSERT_OK(snap);
  EXPECT_TRUE(snap->manifests.empty());
  EXPECT_TRUE(snap->tags.empty());
}

// --- blobsOf and referencedBy ---

TEST_P(RetentionTest, BlobsOfListsEachBlobOnceWithItsSize) {
  // The same digest linked with another size elsewhere (first, so the digest index lists
  // that link first): the manifest's repository wins.
  ASSERT_OK(meta_->linkBlob("elsewhere", oci::digestOf("shared"), 999));
  const auto a = image("r", "a", {"layer-a", "shared"});
  const auto b = image("r", "b", {"layer-bb", "shared"});
  image("unrelated", "u", {"layer-u"});

  auto blobs =
      retention_->blobsOf({{"r", a}, {"r", b}, {"r", oci::digestOf("gone")}, {"absent", a}});
  ASSERT_OK(blobs);
  std::vector<std::pair<oci::Digest, uint64_t>> want = {
      {oci::digestOf("layer-a"), 7}, {oci::digestOf("layer-bb"), 8}, {oci::digestOf("shared"), 6}};
  std::sort(want.begin(), want.end());
  ASSERT_EQ(blobs->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*blobs)[i].digest, want[i].first) << i;
    EXPECT_EQ((*blobs)[i].size, want[i].second) << i;
  }
  auto none = retention_->blobsOf({});
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(RetentionTest, BlobsOfTakesTheSizeFromAnotherRepositoryWhenItsOwnLinkIsGone) {
  const auto a = image("r", "a", {"layer"});
  ASSERT_OK(meta_->linkBlob("other", oci::digestOf("layer"), 5));
  ASSERT_OK(meta_->unlinkBlob("r", oci::digestOf("layer")));
  auto blobs = retention_->blobsOf({{"r", a}});
  ASSERT_OK(blobs);
  ASSERT_EQ(blobs->size(), 1u);
  EXPECT_EQ(blobs->at(0).size, 5u);
}

TEST_P(RetentionTest, ReferencedByCountsLiveManifestsNotExcluded) {
  const auto a = image("r", "a", {"only-a", "shared"});
  const auto b = image("other", "b", {"shared"});
  // The same manifest digest in two repositories: exclusion is per repository.
  image("r", "twin", {"twin-layer"});
  const auto twin = image("mirror", "twin", {"twin-layer"});
  const auto binned_layer = oci::digestOf("binned");
  const auto gone = image("r", "gone", {"binned"});
  ASSERT_OK(meta_->deleteManifest("r", gone));  // in the recycle bin now
  ASSERT_EQ(binned(), 1u);

  const auto only_a = oci::digestOf("only-a");
  const auto shared = oci::digestOf("shared");
  const auto twin_layer = oci::digestOf("twin-layer");
  const auto unknown = oci::digestOf("never referenced");
  const std::vector<oci::Digest> all = {only_a, shared, twin_layer, binned_layer, unknown};

  auto nothing_excluded = retention_->referencedBy(all, {});
  ASSERT_OK(nothing_excluded);
  EXPECT_EQ(*nothing_excluded, (std::vector<oci::Digest>{only_a, shared, twin_layer}));

  // Excluding r's a: only-a is free, shared is still used by other/b.
  auto without_a = retention_->referencedBy(all, {{"r", a}, {"r", twin}});
  ASSERT_OK(without_a);
  EXPECT_EQ(*without_a, (std::vector<oci::Digest>{shared, twin_layer}));

  auto without_both =
      retention_->referencedBy(all, {{"r", a}, {"other", b}, {"r", twin}, {"mirror", twin}});
  ASSERT_OK(without_both);
  EXPECT_TRUE(without_both->empty());

  // Excluding a manifest under the wrong repository name excludes nothing.
  auto wrong_repo = retention_->referencedBy({only_a}, {{"other", a}});
  ASSERT_OK(wrong_repo);
  EXPECT_EQ(*wrong_repo, std::vector<oci::Digest>{only_a});
}

// --- stored policies ---

RetentionPolicy policy(std::string name) {
  RetentionPolicy p;
  p.name = std::move(name);
  p.repositories = "team/.*";
  p.keep_last = 10;
  p.not_pulled_for = 90 * kDay;
  p.untagged_after = 7 * kDay;
  p.keep_tags = "^v[0-9]+$";
  p.enabled = true;
  return p;
}

TEST_P(RetentionTest, PolicyCrud) {
  auto empty = retention_->listPolicies();
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(retention_->getPolicy("p").code(), Code::kNotFound);
  EXPECT_EQ(retention_->deletePolicy("p").code(), Code::kNotFound);

  bool created = false;
  auto put = retention_->putPolicy(policy("nightly"), &created);
  ASSERT_OK(put);
  EXPECT_TRUE(created);
  EXPECT_EQ(put->name, "nightly");
  EXPECT_EQ(put->repositories, "team/.*");
  EXPECT_EQ(put->keep_last, 10u);
  EXPECT_EQ(put->not_pulled_for, 90 * kDay);
  EXPECT_EQ(put->untagged_after, 7 * kDay);
  EXPECT_EQ(put->keep_tags, "^v[0-9]+$");
  EXPECT_TRUE(put->enabled);
  EXPECT_GT(put->created_at, 0);
  EXPECT_EQ(put->updated_at, put->created_at);

  // Rules not set stay unset; a replace keeps created_at and replaces every rule.
  rawQuery(
           "UPDATE retention_policies SET created_at = 5, updated_at = 5 WHERE name = 'nightly'");
  RetentionPolicy sparse;
  sparse.name = "nightly";
  sparse.repositories = ".*";
  sparse.untagged_after = 3600;
  sparse.enabled = false;
  created = true;
  auto replaced = retention_->putPolicy(sparse, &created);
  ASSERT_OK(replaced);
  EXPECT_FALSE(created);
  EXPECT_EQ(replaced->created_at, 5);
  EXPECT_GE(replaced->updated_at, put->updated_at);
  EXPECT_EQ(replaced->repositories, ".*");
  EXPECT_FALSE(replaced->keep_last);
  EXPECT_FALSE(replaced->not_pulled_for);
  EXPECT_EQ(replaced->untagged_after, 3600);
  EXPECT_EQ(replaced->keep_tags, "");
  EXPECT_FALSE(replaced->enabled);

  auto zero = policy("a-zero");
  zero.keep_last = 0;  // set to 0 is not "not set"
  ASSERT_OK(retention_->putPolicy(zero, nullptr));
  auto listed = retention_->listPolicies();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(listed->at(0).name, "a-zero");
  EXPECT_EQ(listed->at(0).keep_last, std::optional<uint64_t>(0));
  EXPECT_EQ(listed->at(1).name, "nightly");
  auto got = retention_->getPolicy("nightly");
  ASSERT_OK(got);
  EXPECT_EQ(got->created_at, 5);
  EXPECT_EQ(got->untagged_after, 3600);

  ASSERT_OK(retention_->deletePolicy("nightly"));
  EXPECT_EQ(retention_->getPolicy("nightly").code(), Code::kNotFound);
  EXPECT_EQ(retention_->deletePolicy("nightly").code(), Code::kNotFound);
  auto left = retention_->listPolicies();
  ASSERT_OK(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->at(0).name, "a-zero");
}

TEST_P(RetentionTest, PoliciesSurviveReopen) {
  ASSERT_OK(retention_->putPolicy(policy("nightly"), nullptr));
  auto before = retention_->getPolicy("nightly");
  ASSERT_OK(before);
  retention_.reset();
  props_.reset();
  bin_.reset();
  meta_.reset();
  open();
  auto after = retention_->getPolicy("nightly");
  ASSERT_OK(after);
  EXPECT_EQ(after->repositories, before->repositories);
  EXPECT_EQ(after->keep_last, before->keep_last);
  EXPECT_EQ(after->not_pulled_for, before->not_pulled_for);
  EXPECT_EQ(after->untagged_after, before->untagged_after);
  EXPECT_EQ(after->keep_tags, before->keep_tags);
  EXPECT_EQ(after->enabled, before->enabled);
  EXPECT_EQ(after->created_at, before->created_at);
}

INSTANTIATE_TEST_SUITE_P(Drivers, RetentionTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
