// Retention on a real Registry (filesystem blobs, SQLite): a purge racing with a client that
// tags the manifests it is removing never loses an acknowledged tag (the conditional
// deletes of meta::DeleteGuard), and reports what it left alone as skipped. The same
// without the race: a tag moved or a manifest tagged between the plan and the deletes.
#include "lifecycle/retention.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include "../registry/scratch_registry.h"
#include "meta/sqlite/sqlite_meta_store.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::lifecycle {
namespace {

constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";

std::string indexBytes(int n) {
  return R"({"schemaVersion":2,"mediaType":")" + std::string(kIndex) + R"(","manifests":[],"annotations":{"n":")" +
         std::to_string(n) + R"("}})";
}

// Forwards to a RetentionStore; `before_deletes` runs once, when the run asks blobsOf, which
// it does after planning every repository and before the first delete.
class HookedRetentionStore : public meta::RetentionStore {
 public:
  HookedRetentionStore(std::shared_ptr<meta::RetentionStore> inner, std::function<void()> before_deletes)
      : inner_(std::move(inner)), before_deletes_(std::move(before_deletes)) {}

  Result<std::vector<std::string>> repositories() override { return inner_->repositories(); }
  Result<meta::RepositorySnapshot> snapshot(std::string_view repository) override {
    return inner_->snapshot(repository);
  }
  Result<std::vector<meta::BlobRef>> blobsOf(const std::vector<meta::ManifestKey>& manifests) override {
    if (before_deletes_) std::exchange(before_deletes_, nullptr)();
    return inner_->blobsOf(manifests);
  }
  Result<std::vector<oci::Digest>> referencedBy(const std::vector<oci::Digest>& blobs,
                                                const std::vector<meta::ManifestKey>& excluding) override {
    return inner_->referencedBy(blobs, excluding);
  }
  Result<std::vector<meta::RetentionPolicy>> listPolicies() override { return inner_->listPolicies(); }
  Result<meta::RetentionPolicy> getPolicy(std::string_view name) override { return inner_->getPolicy(name); }
  Result<meta::RetentionPolicy> putPolicy(const meta::RetentionPolicy& policy, bool* created) override {
    return inner_->putPolicy(policy, created);
  }
  Status deletePolicy(std::string_view name) override { return inner_->deletePolicy(name); }

 private:
  std::shared_ptr<meta::RetentionStore> inner_;
  std::function<void()> before_deletes_;
};

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = registry::testing::scratchDir("berth-retention");
    registry_ = registry::testing::openScratchRegistry(
        dir_, {}, [&](meta::SqliteMetaStore& meta) { store_ = meta.retentionStore(); });
    ASSERT_NE(registry_, nullptr);
    retention_ = std::make_unique<Retention>(*registry_, store_, nullptr, RetentionOptions{false});
  }
  void TearDown() override {
    retention_.reset();
    registry_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A Retention whose run calls `before_deletes` between its plan and its deletes.
  std::unique_ptr<Retention> hooked(std::function<void()> before_deletes) {
    return std::make_unique<Retention>(*registry_, std::make_shared<HookedRetentionStore>(store_, std::move(before_deletes)),
                                       nullptr, RetentionOptions{false});
  }

  oci::Digest push(int n, const std::string& ref) {
    auto put = registry_->putManifest("race/app", *oci::parseReference(ref), kIndex, indexBytes(n));
    EXPECT_TRUE(put) << put.error().message;
    return put ? put->digest : oci::digestOf("");
  }

  std::filesystem::path dir_;
  std::shared_ptr<meta::RetentionStore> store_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<Retention> retention_;
};

TEST_F(RetentionTest, PurgeNeverRemovesWhatIsTaggedDuringTheRun) {
  constexpr int kManifests = 400;
  std::vector<oci::Digest> digests;
  for (int i = 0; i < kManifests; ++i) digests.push_back(push(i, oci::digestOf(indexBytes(i)).str()));
  // Everything above is older than the purge's cutoff (ago 0: before the current second).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  // A client tags the manifests from the last one down while the purge removes untagged
  // ones: each tag it gets acknowledged must survive, with its manifest.
  std::atomic<bool> done{false};
  std::vector<std::pair<std::string, oci::Digest>> acknowledged;
  std::thread tagger([&] {
    for (int i = kManifests - 1; i >= 0 && !done.load(); --i) {
      const std::string tag = "keep-" + std::to_string(i);
      auto put = registry_->putManifest("race/app", *oci::parseReference(tag), kIndex, indexBytes(i));
      if (put) acknowledged.emplace_back(tag, put->digest);
    }
  });
  PurgeRequest req;
  req.filters.push_back({"race/app", ".*"});
  req.ago = 0;
  req.untagged = true;
  auto report = retention_->purge(req);
  done = true;
  tagger.join();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->errors, 0u) << report->first_error;

  for (const auto& [tag, digest] : acknowledged) {
    auto resolved = registry_->metaStore().resolveTag("race/app", tag);
    ASSERT_TRUE(resolved) << tag << " was acknowledged and is gone";
    EXPECT_EQ(*resolved, digest);
    EXPECT_TRUE(registry_->metaStore().getManifest("race/app", digest)) << tag;
  }
  // What the purge reports deleted is gone (unless the tagger pushed it again after).
  size_t deleted = 0;
  for (const auto& r : report->repositories) {
    deleted += r.manifests.size();
    EXPECT_TRUE(r.tags.empty());
    for (const auto& s : r.skipped) EXPECT_EQ(s.reason, "changed since planned") << s.digest;
  }
  EXPECT_EQ(deleted, report->manifests_deleted);
  EXPECT_GT(acknowledged.size(), 0u);
  EXPECT_GT(deleted, 0u);
}

TEST_F(RetentionTest, DryRunPlansWhatTheRealRunDeletes) {
  for (int i = 0; i < 5; ++i) push(i, "v" + std::to_string(i));
  push(10, oci::digestOf(indexBytes(10)).str());  // untagged
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  PurgeRequest req;
  req.filters.push_back({"race/.*", "^v[0-3]$"});
  req.untagged = true;
  req.keep = 1;
  req.dry_run = true;
  auto dry = retention_->purge(req);
  ASSERT_TRUE(dry) << dry.error().message;
  req.dry_run = false;
  auto real = retention_->purge(req);
  ASSERT_TRUE(real) << real.error().message;
  ASSERT_EQ(dry->repositories.size(), 1u);
  ASSERT_EQ(real->repositories.size(), 1u);
  const auto names = [](const RepositoryPlan& p) {
    std::vector<std::string> out;
    for (const auto& t : p.tags) out.push_back(t.tag);
    for (const auto& m : p.manifests) out.push_back(m.digest.str());
    return out;
  };
  EXPECT_EQ(names(dry->repositories[0]), names(real->repositories[0]));
  // v0-v3 match; the newest of them (v3: pushed in the same second, the greater name counts as
  // newer) is kept; v4 does not match. Their manifests and the untagged one go.
  EXPECT_EQ(dry->tags_deleted, 3u);
  EXPECT_EQ(dry->manifests_deleted, 4u);
  EXPECT_TRUE(registry_->metaStore().resolveTag("race/app", "v3"));
  EXPECT_TRUE(registry_->metaStore().resolveTag("race/app", "v4"));
  EXPECT_FALSE(registry_->metaStore().resolveTag("race/app", "v0"));
}

TEST_F(RetentionTest, PurgeLeavesATagMovedAfterThePlan) {
  const oci::Digest planned = push(1, "v1");
  const oci::Digest other = push(2, "v2");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // both older than the cutoff
  std::optional<oci::Digest> moved;
  auto retention = hooked([&] { moved = push(3, "v1"); });
  PurgeRequest req;
  req.filters.push_back({"race/app", "^v[12]$"});
  auto report = retention->purge(req);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(moved) << "the run did not reach its deletes";
  EXPECT_EQ(report->errors, 0u) << report->first_error;

  auto v1 = registry_->metaStore().resolveTag("race/app", "v1");
  ASSERT_TRUE(v1) << "v1 was moved after the plan and is gone";
  EXPECT_EQ(*v1, *moved);
  EXPECT_FALSE(registry_->metaStore().resolveTag("race/app", "v2"));
  EXPECT_EQ(report->tags_deleted, 1u);
  ASSERT_EQ(report->repositories.size(), 1u);
  const RepositoryPlan& done = report->repositories[0];
  ASSERT_EQ(done.tags.size(), 1u);
  EXPECT_EQ(done.tags[0].tag, "v2");
  EXPECT_EQ(done.tags[0].digest, other);
  ASSERT_EQ(done.skipped.size(), 1u);
  EXPECT_EQ(done.skipped[0].tag, "v1");
  EXPECT_EQ(done.skipped[0].digest, planned.str());
  EXPECT_EQ(done.skipped[0].reason, "changed since planned");
}

TEST_F(RetentionTest, PurgeLeavesAnUntaggedManifestTaggedAfterThePlan) {
  const oci::Digest planned = push(1, oci::digestOf(indexBytes(1)).str());
  const oci::Digest other = push(2, oci::digestOf(indexBytes(2)).str());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // both older than the cutoff
  bool tagged = false;
  auto retention = hooked([&] { tagged = push(1, "keep") == planned; });
  PurgeRequest req;
  req.filters.push_back({"race/app", ".*"});
  req.untagged = true;
  auto report = retention->purge(req);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(tagged) << "the run did not reach its deletes";
  EXPECT_EQ(report->errors, 0u) << report->first_error;

  auto keep = registry_->metaStore().resolveTag("race/app", "keep");
  ASSERT_TRUE(keep) << "the manifest was tagged after the plan and went with its tag";
  EXPECT_EQ(*keep, planned);
  EXPECT_TRUE(registry_->metaStore().getManifest("race/app", planned));
  EXPECT_FALSE(registry_->metaStore().getManifest("race/app", other));
  EXPECT_EQ(report->manifests_deleted, 1u);
  ASSERT_EQ(report->repositories.size(), 1u);
  const RepositoryPlan& done = report->repositories[0];
  ASSERT_EQ(done.manifests.size(), 1u);
  EXPECT_EQ(done.manifests[0].digest, other);
  ASSERT_EQ(done.skipped.size(), 1u);
  EXPECT_EQ(done.skipped[0].tag, "");
  EXPECT_EQ(done.skipped[0].digest, planned.str());
  EXPECT_EQ(done.skipped[0].reason, "changed since planned");
}

}  // namespace
}  // namespace berth::lifecycle
