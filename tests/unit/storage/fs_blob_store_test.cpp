// FsBlobStore specifics beyond the BlobStore contract: on-disk layout, durability
// plumbing and path safety.
#include "storage/filesystem/fs_blob_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace berth::storage {
namespace {

namespace fs = std::filesystem;
using oci::digestOf;

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/berth-fsstore-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    scratch_ = tmpl;
    root_ = scratch_ + "/root";
    auto s = FsBlobStore::open(root_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string scratch_;
  std::string root_;
  std::unique_ptr<FsBlobStore> store_;
};

TEST_F(FsBlobStoreTest, OpenCreatesLayout) {
  EXPECT_EQ(store_->root(), root_);
  for (const char* dir :
       {"blobs/sha256/00", "blobs/sha256/ff", "blobs/sha512/7a", "uploads", "tmp"}) {
    EXPECT_TRUE(fs::is_directory(root_ + "/" + dir)) << dir;
  }
}

TEST_F(FsBlobStoreTest, BlobAndUploadPaths) {
  oci::Digest d = digestOf("layout");
  ASSERT_TRUE(store_->put(d, "layout").ok());
  std::string hex(d.hex());
  EXPECT_EQ(slurp(root_ + "/blobs/sha256/" + hex.substr(0, 2) + "/" + hex), "layout");

  auto w = store_->openUpload("abc-123", 0);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("partial").ok());
  ASSERT_TRUE((*w)->sync().ok());
  EXPECT_EQ(slurp(root_ + "/uploads/abc-123"), "partial");
  EXPECT_TRUE(fs::is_empty(root_ + "/tmp"));  // put() cleaned up its temp file
}

TEST_F(FsBlobStoreTest, ReopenSeesExistingBlobs) {
  oci::Digest d = digestOf("persisted");
  ASSERT_TRUE(store_->put(d, "persisted").ok());
  store_.reset();
  auto again = FsBlobStore::open(root_ + "/");  // trailing slash tolerated
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->stat(d)->size, 9u);
}

TEST_F(FsBlobStoreTest, OpenFailsOnAFile) {
  std::ofstream(scratch_ + "/file") << "x";
  auto s = FsBlobStore::open(scratch_ + "/file");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ(FsBlobStore::open("").code(), Code::kInvalidArgument);
}

TEST_F(FsBlobStoreTest, ReaderOutlivesRemove) {
  oci::Digest d = digestOf("still readable");
  ASSERT_TRUE(store_->put(d, "still readable").ok());
  auto r = store_->open(d);
  ASSERT_TRUE(r.ok());
  EXPECT_GE((*r)->fd(), 0);
  ASSERT_TRUE(store_->remove(d).ok());
  char buf[32];
  auto n = (*r)->readAt(0, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "still readable");
}

TEST_F(FsBlobStoreTest, TraversalIdsTouchNothingOutsideTheRoot) {
  std::ofstream(scratch_ + "/victim") << "keep";
  for (const char* id : {"../victim", "../../victim", "..", "uploads/../../victim"}) {
    EXPECT_EQ(store_->openUpload(id, 0).code(), Code::kBlobUploadUnknown) << id;
    EXPECT_EQ(store_->removeUpload(id).code(), Code::kBlobUploadUnknown) << id;
    EXPECT_EQ(store_->commitUpload(id, digestOf("keep")).code(), Code::kBlobUploadUnknown);
  }
  EXPECT_EQ(slurp(scratch_ + "/victim"), "keep");
  EXPECT_TRUE(fs::is_empty(root_ + "/uploads"));
}

TEST_F(FsBlobStoreTest, PlantedUploadSymlinkIsNotFollowed) {
  std::ofstream(scratch_ + "/victim") << "keep";
  fs::create_symlink(scratch_ + "/victim", root_ + "/uploads/evil");
  EXPECT_FALSE(store_->openUpload("evil", 0).ok());
  EXPECT_FALSE(store_->hashUpload("evil", 0, oci::DigestAlgorithm::kSha256).ok());
  EXPECT_FALSE(store_->commitUpload("evil", digestOf("keep")).ok());
  EXPECT_EQ(slurp(scratch_ + "/victim"), "keep");
  EXPECT_EQ(store_->stat(digestOf("keep")).code(), Code::kBlobUnknown);
}

TEST_F(FsBlobStoreTest, FailedPutLeavesNoTempFile) {
  oci::Digest d = digestOf("blocked");
  std::string hex(d.hex());
  std::string dir = root_ + "/blobs/sha256/" + hex.substr(0, 2);
  fs::remove(dir);
  std::ofstream(dir) << "not a directory";
  Status s = store_->put(d, "blocked");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_TRUE(fs::is_empty(root_ + "/tmp"));
}

TEST_F(FsBlobStoreTest, RecreatesMissingPrefixDirectory) {
  oci::Digest d = digestOf("prefix");
  std::string hex(d.hex());
  fs::remove(root_ + "/blobs/sha256/" + hex.substr(0, 2));
  ASSERT_TRUE(store_->put(d, "prefix").ok());
  EXPECT_EQ(store_->stat(d)->size, 6u);
}

TEST_F(FsBlobStoreTest, ListSkipsStrayFiles) {
  oci::Digest d = digestOf("real");
  ASSERT_TRUE(store_->put(d, "real").ok());
  std::ofstream(root_ + "/blobs/sha256/00/not-a-digest") << "x";
  std::ofstream(root_ + "/blobs/sha256/00/" + std::string(d.hex())) << "wrong prefix dir";
  std::ofstream(root_ + "/blobs/sha256/README") << "x";
  int count = 0;
  ASSERT_TRUE(store_
                  ->list([&](const oci::Digest& got, uint64_t size) {
                    EXPECT_EQ(got, d);
                    EXPECT_EQ(size, 4u);
                    ++count;
                  })
                  .ok());
  EXPECT_EQ(count, 1);
}

}  // namespace
}  // namespace berth::storage
