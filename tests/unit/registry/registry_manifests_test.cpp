// Registry's manifest path seen from its callers: the write locks refuse a push in the
// store's transaction (and leave what is there), and what getManifest and statBlob answer
// from their caches follows every push, delete and attribute change at once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "meta/sqlite/sqlite_meta_store.h"
#include "registry/registry.h"
#include "scratch_registry.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::registry {
namespace {

constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kRepo = "team/app";

std::string indexBytes(const std::string& name) {
  return R"({"schemaVersion":2,"mediaType":")" + std::string(kIndex) + R"(","manifests":[],"annotations":{"n":")" +
         name + R"("}})";
}

oci::Reference ref(const std::string& text) { return *oci::parseReference(text); }

class RegistryManifestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::scratchDir("berth-registry-manifests");
    registry_ = testing::openScratchRegistry(dir_, {}, [&](meta::SqliteMetaStore& meta) { props_ = meta.propertiesStore(); });
    ASSERT_NE(registry_, nullptr);
  }
  void TearDown() override {
    registry_.reset();
    props_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<PutManifestResult> put(const std::string& reference, const std::string& name) {
    return registry_->putManifest(kRepo, ref(reference), kIndex, indexBytes(name));
  }
  oci::Digest push(const std::string& reference, const std::string& name) {
    auto r = put(reference, name);
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->digest : oci::digestOf("");
  }
  // What a pull by `reference` gets: the manifest's digest, or the error code.
  std::string pulled(const std::string& reference) {
    auto m = registry_->getManifest(kRepo, ref(reference));
    if (!m) return "error " + std::to_string(static_cast<int>(m.code()));
    return (*m)->digest.str();
  }
  // Pulls by `reference` until the cache answers: the cache holds it now.
  void warm(const std::string& reference) {
    ASSERT_TRUE(registry_->getManifest(kRepo, ref(reference)));
    ASSERT_NE(registry_->cachedManifest(kRepo, ref(reference)), nullptr) << reference << " is not cached";
  }

  std::filesystem::path dir_;
  std::unique_ptr<meta::PropertiesStore> props_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryManifestsTest, ManifestWriteLockRefusesMovingItsTags) {
  const oci::Digest a = push("v1", "a");
  const oci::Digest b = push("v2", "b");
  meta::AttributesPatch no_write;
  no_write.write_enabled = false;
  ASSERT_TRUE(props_->updateManifest(kRepo, a, no_write));

  auto moved = put("v1", "b");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.code(), Code::kDenied);
  EXPECT_EQ(moved.error().message, "manifest team/app@" + a.str() + " is locked: writeEnabled is false");
  EXPECT_EQ(pulled("v1"), a.str());
  EXPECT_EQ(pulled(b.str()), b.str());
  // Pushing what v1 has is no change; a new tag on the locked manifest moves nothing.
  EXPECT_TRUE(put("v1", "a"));
  EXPECT_TRUE(put("v3", "a"));
  EXPECT_EQ(pulled("v3"), a.str());
  // Unlocked, the same push moves v1.
  meta::AttributesPatch write;
  write.write_enabled = true;
  ASSERT_TRUE(props_->updateManifest(kRepo, a, write));
  ASSERT_TRUE(put("v1", "b"));
  EXPECT_EQ(pulled("v1"), b.str());
}

TEST_F(RegistryManifestsTest, APushIsSeenByTheNextPull) {
  const oci::Digest a = push("v1", "a");
  warm("v1");
  const oci::Digest b = push("v1", "b");
  EXPECT_EQ(pulled("v1"), b.str());
  auto cached = registry_->cachedManifest(kRepo, ref("v1"));
  EXPECT_TRUE(cached == nullptr || cached->digest == b) << "the cache still serves " << a.str();
}

TEST_F(RegistryManifestsTest, ADeleteIsSeenByTheNextPull) {
  const oci::Digest a = push("v1", "a");
  push("v2", "a");
  warm("v1");
  warm("v2");
  warm(a.str());
  ASSERT_TRUE(registry_->deleteManifest(kRepo, ref("v1")));
  EXPECT_EQ(pulled("v1"), "error " + std::to_string(static_cast<int>(Code::kManifestUnknown)));
  EXPECT_TRUE(registry_->cachedManifest(kRepo, ref("v1")) == nullptr) << "v1 is still cached";
  EXPECT_EQ(pulled("v2"), a.str());
  warm("v2");
  ASSERT_TRUE(registry_->deleteManifest(kRepo, ref(a.str())));
  EXPECT_EQ(pulled(a.str()), "error " + std::to_string(static_cast<int>(Code::kManifestUnknown)));
  EXPECT_EQ(pulled("v2"), "error " + std::to_string(static_cast<int>(Code::kManifestUnknown)));
  EXPECT_TRUE(registry_->cachedManifest(kRepo, ref("v2")) == nullptr) << "v2 is still cached";
}

// An attribute changes in the store (as the ACR API does it), then invalidateRepository: the
// next pull and blob read see the lock.
TEST_F(RegistryManifestsTest, AnAttributeChangeIsSeenByTheNextPullAndBlobRead) {
  auto rec = registry_->startUpload(kRepo);
  ASSERT_TRUE(rec);
  auto stream = registry_->beginAppend(kRepo, rec->id, oci::DigestAlgorithm::kSha256);
  ASSERT_TRUE(stream);
  ASSERT_TRUE((*stream)->write("a blob"));
  const oci::Digest blob = oci::digestOf("a blob");
  ASSERT_TRUE(registry_->finishUpload(std::move(*stream), blob));
  push("v1", "a");
  warm("v1");
  EXPECT_EQ((*registry_->getManifest(kRepo, ref("v1")))->denied, "");
  ASSERT_TRUE(registry_->statBlob(kRepo, blob));
  ASSERT_TRUE(registry_->cachedBlobSize(kRepo, blob)) << "the blob link is not cached";

  meta::AttributesPatch no_read;
  no_read.read_enabled = false;
  ASSERT_TRUE(props_->updateTag(kRepo, "v1", no_read));
  registry_->invalidateRepository(kRepo);
  auto m = registry_->getManifest(kRepo, ref("v1"));
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->denied, "tag team/app:v1 is locked: readEnabled is false");

  ASSERT_TRUE(props_->updateRepository(kRepo, no_read));
  registry_->invalidateRepository(kRepo);
  EXPECT_FALSE(registry_->cachedBlobSize(kRepo, blob).has_value());
  EXPECT_EQ(registry_->statBlob(kRepo, blob).code(), Code::kDenied);
}

}  // namespace
}  // namespace berth::registry
