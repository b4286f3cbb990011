// Quotas at the Registry's commit points, with the real blob and metadata stores: a
// finished upload, a cross-repository mount and a manifest PUT are refused over the
// limit; a failed or refused upload costs nothing and leaves no session behind. (An
// upload is also held to the quota's room while it streams: upload_limits_test.cpp.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "meta/sqlite/sqlite_meta_store.h"
#include "registry/registry.h"
#include "scratch_registry.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::registry {
namespace {

class QuotaCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::scratchDir("berth-quota");
    registry_ = testing::openScratchRegistry(dir_, {}, [&](meta::SqliteMetaStore& meta) { quotas_ = meta.quotaStore(); });
    ASSERT_NE(registry_, nullptr);
  }
  void TearDown() override {
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Uploads `bytes` in one append and finishes with `digest`; returns the upload id too.
  Result<uint64_t> upload(const std::string& repo, const std::string& bytes, const oci::Digest& digest,
                          std::string* id = nullptr) {
    auto rec = registry_->startUpload(repo);
    if (!rec) return rec.takeError();
    if (id != nullptr) *id = rec->id;
    auto stream = registry_->beginAppend(repo, rec->id, oci::DigestAlgorithm::kSha256, digest);
    if (!stream) return stream.takeError();
    if (auto s = (*stream)->write(bytes); !s) {
      registry_->abortAppend(std::move(*stream));  // as the upload handlers do
      return s.takeError();
    }
    return registry_->finishUpload(std::move(*stream), digest);
  }
  uint64_t used(const std::string& pattern) { return quotas_->getQuota(pattern)->used_bytes; }

  std::filesystem::path dir_;
  std::unique_ptr<meta::QuotaStore> quotas_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(QuotaCommitTest, UploadsCountAtCommitOnlyAndAreRefusedOneByteOver) {
  ASSERT_TRUE(quotas_->setQuota("team/*", 10));
  const std::string six(6, 'a'), four(4, 'b'), one(1, 'c');
  // A failed upload (wrong digest) costs nothing.
  auto bad = upload("team/app", six, oci::digestOf("other"));
  EXPECT_EQ(bad.code(), Code::kDigestInvalid);
  EXPECT_EQ(used("team/*"), 0u);
  ASSERT_TRUE(upload("team/app", six, oci::digestOf(six)));
  ASSERT_TRUE(upload("team/app", four, oci::digestOf(four)));  // 10 == limit
  EXPECT_EQ(used("team/*"), 10u);
  std::string id;
  auto over = upload("team/app", one, oci::digestOf(one), &id);
  ASSERT_EQ(over.code(), Code::kDenied);
  EXPECT_EQ(over.error().message, "storage quota for team/* is 10 bytes; 10 are used and this blob needs 1");
  EXPECT_EQ(registry_->getUpload("team/app", id).code(), Code::kBlobUploadUnknown);  // the session is gone
  EXPECT_EQ(registry_->statBlob("team/app", oci::digestOf(one)).code(), Code::kBlobUnknown);
  EXPECT_EQ(used("team/*"), 10u);
  // The same content again is no new content; other repositories are not covered.
  EXPECT_TRUE(upload("team/other", six, oci::digestOf(six)));
  EXPECT_TRUE(upload("elsewhere", one, oci::digestOf(one)));
  EXPECT_EQ(used("team/*"), 10u);
}

TEST_F(QuotaCommitTest, MountsAndManifestPushesAreChecked) {
  const std::string layer(8, 'l');
  ASSERT_TRUE(upload("src", layer, oci::digestOf(layer)));
  ASSERT_TRUE(quotas_->setQuota("team/*", 10));
  // New to team/*: 8 bytes fit.
  ASSERT_TRUE(registry_->mountBlob("team/a", oci::digestOf(layer), std::string("src")));
  const std::string big(3, 'x');
  ASSERT_TRUE(upload("src", big, oci::digestOf(big)));
  auto mount = registry_->mountBlob("team/b", oci::digestOf(big), std::string("src"));
  ASSERT_EQ(mount.code(), Code::kDenied);
  EXPECT_EQ(mount.error().message, "storage quota for team/* is 10 bytes; 8 are used and this blob needs 3");
  // Already in team/*: free.
  EXPECT_TRUE(registry_->mountBlob("team/b", oci::digestOf(layer), std::nullopt));

  const std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";
  const char* kIndex = "application/vnd.oci.image.index.v1+json";
  auto put = registry_->putManifest("team/a", *oci::parseReference("v1"), kIndex, index);
  ASSERT_EQ(put.code(), Code::kDenied);
  EXPECT_EQ(put.error().message, "storage quota for team/* is 10 bytes; 8 are used and this manifest needs " +
                                     std::to_string(index.size()));
  EXPECT_EQ(registry_->getManifest("team/a", *oci::parseReference("v1")).code(), Code::kManifestUnknown);
  ASSERT_TRUE(quotas_->setQuota("team/*", 8 + index.size()));
  EXPECT_TRUE(registry_->putManifest("team/a", *oci::parseReference("v1"), kIndex, index));
  EXPECT_EQ(used("team/*"), 8 + index.size());
}

}  // namespace
}  // namespace berth::registry
