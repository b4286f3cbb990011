// Limits while an upload streams (not only at commit): server.max_upload_bytes and the
// room the repository's quotas leave. Past either, UploadStream::write refuses the bytes
// and abortAppend ends the session (row and staging file), so a client cannot keep one
// session growing forever by sending chunks that each refresh it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "scratch_registry.h"

namespace berth::registry {
namespace {

class UploadLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::scratchDir("berth-upload-limits");
    RegistryOptions options;
    options.max_upload_bytes = 100;
    registry_ = testing::openScratchRegistry(dir_, options, [&](meta::SqliteMetaStore& meta) { quotas_ = meta.quotaStore(); });
    ASSERT_NE(registry_, nullptr);
  }
  void TearDown() override {
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string start(const std::string& repo) {
    auto rec = registry_->startUpload(repo);
    EXPECT_TRUE(rec);
    return rec ? rec->id : std::string();
  }
  std::unique_ptr<UploadStream> begin(const std::string& repo, const std::string& id,
                                      std::optional<oci::Digest> digest = std::nullopt) {
    auto stream = registry_->beginAppend(repo, id, oci::DigestAlgorithm::kSha256, digest);
    EXPECT_TRUE(stream) << stream.error().message;
    return stream ? std::move(*stream) : nullptr;
  }
  // Appends `bytes` as one request (PATCH); the request's status.
  Status patch(const std::string& repo, const std::string& id, const std::string& bytes) {
    auto stream = begin(repo, id);
    if (!stream) return makeError(Code::kInternal, "no stream");
    if (auto s = stream->write(bytes); !s) {
      registry_->abortAppend(std::move(stream));
      return s;
    }
    auto offset = registry_->endAppend(std::move(stream));
    if (!offset) return offset.takeError();
    return okStatus();
  }
  bool stagingFileExists(const std::string& id) { return std::filesystem::exists(dir_ / "uploads" / id); }

  std::filesystem::path dir_;
  std::unique_ptr<meta::QuotaStore> quotas_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(UploadLimitsTest, ChunksPastMaxUploadBytesAreRefusedAndEndTheSession) {
  const std::string id = start("team/app");
  ASSERT_TRUE(patch("team/app", id, std::string(60, 'a')));
  ASSERT_TRUE(patch("team/app", id, std::string(40, 'b')));  // 100 == the limit
  ASSERT_TRUE(stagingFileExists(id));
  auto over = patch("team/app", id, "c");
  ASSERT_EQ(over.code(), Code::kPayloadTooLarge);
  EXPECT_EQ(over.error().message,
            "the upload is larger than the limit of 100 bytes (server.max_upload_bytes); it was cancelled");
  EXPECT_EQ(registry_->getUpload("team/app", id).code(), Code::kBlobUploadUnknown);
  EXPECT_FALSE(stagingFileExists(id));
}

TEST_F(UploadLimitsTest, OneLargeWriteIsRefusedBeforeAnythingIsStored) {
  const std::string id = start("team/app");
  auto stream = begin("team/app", id);
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->write(std::string(101, 'x')).code(), Code::kPayloadTooLarge);
  EXPECT_EQ(stream->offset(), 0u);
  EXPECT_EQ(registry_->finishUpload(std::move(stream), oci::digestOf(std::string(101, 'x'))).code(),
            Code::kPayloadTooLarge);
  EXPECT_EQ(registry_->getUpload("team/app", id).code(), Code::kBlobUploadUnknown);
  EXPECT_FALSE(stagingFileExists(id));
}

TEST_F(UploadLimitsTest, ChunksPastTheQuotaRoomAreDeniedAndEndTheSession) {
  ASSERT_TRUE(quotas_->setQuota("team/*", 50));
  const std::string id = start("team/app");
  ASSERT_TRUE(patch("team/app", id, std::string(30, 'a')));
  ASSERT_TRUE(patch("team/app", id, std::string(20, 'b')));  // 50 == the room
  auto over = patch("team/app", id, "c");
  ASSERT_EQ(over.code(), Code::kDenied);
  EXPECT_EQ(over.error().message,
            "storage quota for team/* is 50 bytes; 0 are used and this blob needs 51");
  EXPECT_EQ(registry_->getUpload("team/app", id).code(), Code::kBlobUploadUnknown);
  EXPECT_FALSE(stagingFileExists(id));
  // Another namespace is not covered.
  const std::string other = start("elsewhere");
  EXPECT_TRUE(patch("elsewhere", other, std::string(90, 'd')));
}

TEST_F(UploadLimitsTest, AKnownDigestTheQuotaHoldsNeedsNoRoom) {
  const std::string layer(40, 'l');
  // team/a holds the layer; the quota is then full.
  const std::string first = start("team/a");
  auto stream = begin("team/a", first);
  ASSERT_TRUE(stream && stream->write(layer));
  ASSERT_TRUE(registry_->finishUpload(std::move(stream), oci::digestOf(layer)));
  ASSERT_TRUE(quotas_->setQuota("team/*", 40));
  // The same bytes to team/b with the digest named up front (PUT ?digest=, POST ?digest=):
  // no new content for team/*, so no room is needed; without it they are new bytes.
  const std::string known = start("team/b");
  stream = begin("team/b", known, oci::digestOf(layer));
  ASSERT_TRUE(stream && stream->write(layer));
  EXPECT_TRUE(registry_->finishUpload(std::move(stream), oci::digestOf(layer)));
  const std::string unknown = start("team/c");
  EXPECT_EQ(patch("team/c", unknown, layer).code(), Code::kDenied);
}

}  // namespace
}  // namespace berth::registry
