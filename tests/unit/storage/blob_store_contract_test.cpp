// The BlobStore conformance suite. Every implementation is instantiated below with a
// factory; a new store (S3, Azure, ...) adds one INSTANTIATE line and passes this file.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/blob_store.h"
#include "object_servers.h"
#include "storage/azure/azure_blob_store.h"
#include "storage/filesystem/fs_blob_store.h"
#include "storage/s3/s3_blob_store.h"

namespace berth::storage {
namespace {

using oci::Digest;
using oci::digestOf;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

struct BlobStoreFactory {
  std::string name;
  // Makes a fresh, empty store; `scratch` is a new empty directory it may use.
  std::function<std::unique_ptr<BlobStore>(const std::string& scratch)> make;
  // A second instance of the store `make` made last for `scratch`, as another node would
  // open it.
  std::function<std::unique_ptr<BlobStore>(const std::string& scratch)> another;
  // Why the store's server is not available here (skip, or fail under CI=true); null or
  // nullopt when it is.
  std::function<std::optional<std::string>()> unavailable;
};

void PrintTo(const BlobStoreFactory& factory, std::ostream* os) { *os << factory.name; }

std::string makeScratchDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/berth-blobstore-XXXXXX";
  char* dir = ::mkdtemp(tmpl.data());
  return dir ? std::string(dir) : std::string();
}

class BlobStoreContractTest : public ::testing::TestWithParam<BlobStoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().unavailable) BERTH_REQUIRE_SERVER(GetParam().unavailable());
    scratch_ = makeScratchDir();
    ASSERT_FALSE(scratch_.empty());
    store_ = GetParam().make(scratch_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(scratch_, ec);
  }

  void upload(std::string_view id, std::string_view data) {
    auto w = store_->openUpload(id, 0);
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE((*w)->write(data).ok());
    ASSERT_TRUE((*w)->sync().ok());
  }

  std::string readAll(const Digest& d) {
    auto r = store_->open(d);
    if (!r.ok()) return "<" + r.error().message + ">";
    std::string out((*r)->size(), '\0');
    auto n = (*r)->readAt(0, out.data(), out.size());
    if (!n.ok() || *n != out.size()) return "<short read>";
    return out;
  }

  std::map<std::string, uint64_t> listAll() {
    std::map<std::string, uint64_t> out;
    Status s = store_->list([&](const Digest& d, uint64_t size) { out[d.str()] = size; });
    EXPECT_TRUE(s.ok());
    return out;
  }

  std::string scratch_;
  std::unique_ptr<BlobStore> store_;
};

TEST_P(BlobStoreContractTest, UploadAppends) {
  auto w = store_->openUpload("u1", 0);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ((*w)->size(), 0u);
  ASSERT_TRUE((*w)->write("hello ").ok());
  ASSERT_TRUE((*w)->write("").ok());
  ASSERT_TRUE((*w)->write("world").ok());
  EXPECT_EQ((*w)->size(), 11u);
  ASSERT_TRUE((*w)->sync().ok());
  auto h = store_->hashUpload("u1", 11, oci::DigestAlgorithm::kSha256);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(*h, digestOf("hello world"));
}

TEST_P(BlobStoreContractTest, ReopenTruncatesToOffset) {
  upload("u1", "0123456789");
  auto w = store_->openUpload("u1", 4);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ((*w)->size(), 4u);
  ASSERT_TRUE((*w)->write("XY").ok());
  EXPECT_EQ((*w)->size(), 6u);
  w->reset();
  EXPECT_EQ(*store_->hashUpload("u1", 6, oci::DigestAlgorithm::kSha256), digestOf("0123XY"));
  // The discarded tail is gone, not just hidden.
  EXPECT_FALSE(store_->hashUpload("u1", 7, oci::DigestAlgorithm::kSha256).ok());
}

TEST_P(BlobStoreContractTest, ReopenAtSameSizeKeepsData) {
  upload("u1", "abc");
  auto w = store_->openUpload("u1", 3);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("def").ok());
  w->reset();
  EXPECT_EQ(*store_->hashUpload("u1", 6, oci::DigestAlgorithm::kSha256), digestOf("abcdef"));
}

TEST_P(BlobStoreContractTest, ReopenAtZeroRestarts) {
  upload("u1", "abc");
  auto w = store_->openUpload("u1", 0);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->size(), 0u);
  ASSERT_TRUE((*w)->write("z").ok());
  w->reset();
  EXPECT_EQ(*store_->hashUpload("u1", 1, oci::DigestAlgorithm::kSha256), digestOf("z"));
}

TEST_P(BlobStoreContractTest, ReopenBeyondSizeIsUnknown) {
  upload("u1", "abc");
  EXPECT_EQ(store_->openUpload("u1", 4).code(), Code::kBlobUploadUnknown);
  EXPECT_EQ(store_->openUpload("missing", 1).code(), Code::kBlobUploadUnknown);
  EXPECT_EQ(store_->openUpload("u1", UINT64_MAX).code(), Code::kBlobUploadUnknown);
  // The failed reopen did not touch the data.
  EXPECT_EQ(*store_->hashUpload("u1", 3, oci::DigestAlgorithm::kSha256), digestOf("abc"));
}

TEST_P(BlobStoreContractTest, HashUpload) {
  std::string data(3 * (1 << 20) + 17, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 11));
  upload("big", data);
  EXPECT_EQ(*store_->hashUpload("big", data.size(), oci::DigestAlgorithm::kSha256), digestOf(data));
  EXPECT_EQ(*store_->hashUpload("big", data.size(), oci::DigestAlgorithm::kSha512),
            digestOf(data, oci::DigestAlgorithm::kSha512));
  EXPECT_EQ(*store_->hashUpload("big", 1 << 20, oci::DigestAlgorithm::kSha256),
            digestOf(std::string_view(data).substr(0, 1 << 20)));
  EXPECT_EQ(*store_->hashUpload("big", 0, oci::DigestAlgorithm::kSha256), digestOf(""));
  EXPECT_FALSE(store_->hashUpload("big", data.size() + 1, oci::DigestAlgorithm::kSha256).ok());
  EXPECT_EQ(store_->hashUpload("nope", 0, oci::DigestAlgorithm::kSha256).code(),
            Code::kBlobUploadUnknown);
}

TEST_P(BlobStoreContractTest, CommitMakesVisibleAndRemovesUpload) {
  Digest d = digestOf("layer bytes");
  EXPECT_EQ(store_->stat(d).code(), Code::kBlobUnknown);
  upload("u1", "layer bytes");
  ASSERT_TRUE(store_->commitUpload("u1", d).ok());
  auto info = store_->stat(d);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 11u);
  EXPECT_EQ(readAll(d), "layer bytes");
  EXPECT_EQ(store_->hashUpload("u1", 0, oci::DigestAlgorithm::kSha256).code(),
            Code::kBlobUploadUnknown);
  EXPECT_EQ(store_->openUpload("u1", 1).code(), Code::kBlobUploadUnknown);
  EXPECT_EQ(store_->commitUpload("u1", d).code(), Code::kBlobUploadUnknown);
}

TEST_P(BlobStoreContractTest, CommitWithoutSync) {
  Digest d = digestOf("unsynced");
  {
    auto w = store_->openUpload("u1", 0);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write("unsynced").ok());
  }
  ASSERT_TRUE(store_->commitUpload("u1", d).ok());
  EXPECT_EQ(readAll(d), "unsynced");
}

TEST_P(BlobStoreContractTest, CommitOfExistingDigest) {
  Digest d = digestOf("same");
  ASSERT_TRUE(store_->put(d, "same").ok());
  auto reader = store_->open(d);
  ASSERT_TRUE(reader.ok());
  upload("u2", "same");
  ASSERT_TRUE(store_->commitUpload("u2", d).ok());
  EXPECT_EQ(readAll(d), "same");
  EXPECT_EQ(store_->hashUpload("u2", 0, oci::DigestAlgorithm::kSha256).code(),
            Code::kBlobUploadUnknown);
  char buf[4];
  auto n = (*reader)->readAt(0, buf, 4);  // a reader opened before still works
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "same");
  EXPECT_EQ(listAll().size(), 1u);
}

TEST_P(BlobStoreContractTest, CommitUnknownUpload) {
  EXPECT_EQ(store_->commitUpload("never", digestOf("x")).code(), Code::kBlobUploadUnknown);
}

TEST_P(BlobStoreContractTest, EmptyBlob) {
  upload("e", "");
  ASSERT_TRUE(store_->commitUpload("e", digestOf("")).ok());
  EXPECT_EQ(store_->stat(digestOf(""))->size, 0u);
  auto r = store_->open(digestOf(""));
  ASSERT_TRUE(r.ok());
  char c;
  EXPECT_EQ(*(*r)->readAt(0, &c, 1), 0u);
}

TEST_P(BlobStoreContractTest, PutStoresAndIsIdempotent) {
  Digest d = digestOf("config");
  ASSERT_TRUE(store_->put(d, "config").ok());
  ASSERT_TRUE(store_->put(d, "config").ok());
  EXPECT_EQ(readAll(d), "config");
  Digest d512 = digestOf("config", oci::DigestAlgorithm::kSha512);
  ASSERT_TRUE(store_->put(d512, "config").ok());
  EXPECT_EQ(readAll(d512), "config");
  EXPECT_EQ(listAll().size(), 2u);
}

TEST_P(BlobStoreContractTest, PutWithWrongDigestStoresNothing) {
  Digest claimed = digestOf("expected");
  Status s = store_->put(claimed, "actual");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kDigestInvalid);
  EXPECT_EQ(store_->stat(claimed).code(), Code::kBlobUnknown);
  EXPECT_EQ(store_->stat(digestOf("actual")).code(), Code::kBlobUnknown);
  EXPECT_TRUE(listAll().empty());
  // Same bytes, other algorithm: still a mismatch.
  EXPECT_EQ(store_->put(digestOf("x", oci::DigestAlgorithm::kSha512), "y").code(),
            Code::kDigestInvalid);
}

TEST_P(BlobStoreContractTest, StatAndOpenUnknown) {
  Digest d = digestOf("nothing here");
  EXPECT_EQ(store_->stat(d).code(), Code::kBlobUnknown);
  EXPECT_EQ(store_->open(d).code(), Code::kBlobUnknown);
  EXPECT_EQ(store_->stat(Digest()).code(), Code::kBlobUnknown);
  EXPECT_EQ(store_->open(Digest()).code(), Code::kBlobUnknown);
}

TEST_P(BlobStoreContractTest, ReadAt) {
  Digest d = digestOf("0123456789");
  ASSERT_TRUE(store_->put(d, "0123456789").ok());
  auto r = store_->open(d);
  ASSERT_TRUE(r.ok());
  BlobReader& reader = **r;
  EXPECT_EQ(reader.size(), 10u);
  char buf[16] = {};
  EXPECT_EQ(*reader.readAt(3, buf, 4), 4u);
  EXPECT_EQ(std::string(buf, 4), "3456");
  EXPECT_EQ(*reader.readAt(8, buf, 16), 2u);
  EXPECT_EQ(std::string(buf, 2), "89");
  EXPECT_EQ(*reader.readAt(10, buf, 16), 0u);
  EXPECT_EQ(*reader.readAt(UINT64_MAX, buf, 16), 0u);
  EXPECT_EQ(*reader.readAt(0, buf, 0), 0u);
  if (reader.fd() >= 0) {
    char via_fd[10];
    EXPECT_EQ(::pread(reader.fd(), via_fd, 10, 0), 10);
    EXPECT_EQ(std::string(via_fd, 10), "0123456789");
  }
}

TEST_P(BlobStoreContractTest, Remove) {
  Digest d = digestOf("gone soon");
  ASSERT_TRUE(store_->put(d, "gone soon").ok());
  ASSERT_TRUE(store_->remove(d).ok());
  EXPECT_EQ(store_->stat(d).code(), Code::kBlobUnknown);
  EXPECT_EQ(store_->open(d).code(), Code::kBlobUnknown);
  EXPECT_TRUE(store_->remove(d).ok());
  EXPECT_TRUE(listAll().empty());
}

TEST_P(BlobStoreContractTest, RemoveUpload) {
  upload("u1", "abc");
  ASSERT_TRUE(store_->removeUpload("u1").ok());
  EXPECT_EQ(store_->openUpload("u1", 1).code(), Code::kBlobUploadUnknown);
  EXPECT_TRUE(store_->removeUpload("u1").ok());
  EXPECT_TRUE(store_->removeUpload("never-existed").ok());
}

TEST_P(BlobStoreContractTest, List) {
  EXPECT_TRUE(listAll().empty());
  std::map<std::string, uint64_t> want;
  for (const std::string& s : {std::string("a"), std::string("bb"), std::string(5000, 'd')}) {
    Digest d = digestOf(s);
    ASSERT_TRUE(store_->put(d, s).ok());
    want[d.str()] = s.size();
  }
  Digest d512 = digestOf("e", oci::DigestAlgorithm::kSha512);
  ASSERT_TRUE(store_->put(d512, "e").ok());
  want[d512.str()] = 1;
  upload("not-a-blob", "zzz");  // uploads are not blobs
  EXPECT_EQ(listAll(), want);
}

TEST_P(BlobStoreContractTest, BadUploadIds) {
  const std::string bad[] = {
      "",        "..",  ".",      "../x", "a/b",  "/etc/passwd",          "a b",
      "a.b",     "a_b", "%2e%2e", "a\\b", "a\nb", std::string("a\0b", 3), std::string(65, 'a'),
      "\xc3\xa9"};
  Digest d = digestOf("x");
  for (const std::string& id : bad) {
    EXPECT_EQ(store_->openUpload(id, 0).code(), Code::kBlobUploadUnknown) << id;
    EXPECT_EQ(store_->hashUpload(id, 0, oci::DigestAlgorithm::kSha256).code(),
              Code::kBlobUploadUnknown)
        << id;
    EXPECT_EQ(store_->commitUpload(id, d).code(), Code::kBlobUploadUnknown) << id;
    EXPECT_EQ(store_->removeUpload(id).code(), Code::kBlobUploadUnknown) << id;
  }
  std::string longest(64, 'A');
  longest[10] = '-';
  longest[20] = '7';
  EXPECT_TRUE(store_->openUpload(longest, 0).ok());
  EXPECT_TRUE(store_->openUpload("0f6a1b2c-3d4e-4f50-8a9b-0c1d2e3f4a5b", 0).ok());
}

TEST_P(BlobStoreContractTest, ConcurrentCommitsOfSameDigest) {
  constexpr int kThreads = 8;
  std::string content(256 * 1024, 'q');
  Digest d = digestOf(content);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string id = "upload-";
      id += std::to_string(t);
      auto w = store_->openUpload(id, 0);
      if (!w.ok() || !(*w)->write(content).ok() || !(*w)->sync().ok()) {
        ++failures;
        return;
      }
      w->reset();
      if (Status s = store_->commitUpload(id, d); !s) {
        ADD_FAILURE() << "commit: " << s.error().message;
      }
      if (Status s = store_->put(d, content); !s) ADD_FAILURE() << "put: " << s.error().message;
      if (readAll(d) != content) ADD_FAILURE() << "read back: " << readAll(d).substr(0, 100);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(readAll(d), content);
  auto all = listAll();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all.begin()->second, content.size());
}

TEST_P(BlobStoreContractTest, ConcurrentDistinctUploads) {
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Appending avoids a GCC 12 -Wrestrict false positive on "literal" + std::string.
      std::string id = "u";
      id += std::to_string(t);
      std::string content = "blob number ";
      content += std::to_string(t);
      for (int i = 0; i < 20; ++i) {
        auto w = store_->openUpload(id, 0);
        if (!w.ok() || !(*w)->write(content).ok()) ++failures;
      }
      if (!store_->commitUpload(id, digestOf(content)).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(listAll().size(), static_cast<size_t>(kThreads));
}

// Nodes are stateless: an upload written and synced through one instance continues
// through another (another process, another machine) at the acknowledged offset.
TEST_P(BlobStoreContractTest, UploadContinuesOnAnotherNode) {
  auto other = GetParam().another(scratch_);
  ASSERT_NE(other, nullptr);
  {
    auto w = store_->openUpload("moving", 0);
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE((*w)->write("first node, ").ok());
    ASSERT_TRUE((*w)->sync().ok());
    ASSERT_TRUE((*w)->write("unacknowledged").ok());
    ASSERT_TRUE((*w)->sync().ok());
  }
  auto w = other->openUpload("moving", 12);  // the client was told 12 bytes
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ((*w)->size(), 12u);
  ASSERT_TRUE((*w)->write("second node").ok());
  ASSERT_TRUE((*w)->sync().ok());
  w->reset();
  const std::string want = "first node, second node";
  EXPECT_EQ(*store_->hashUpload("moving", want.size(), oci::DigestAlgorithm::kSha256), digestOf(want));
  ASSERT_TRUE(store_->commitUpload("moving", digestOf(want)).ok());
  EXPECT_EQ(readAll(digestOf(want)), want);
}

// A blob of several parts (object stores buffer 8 MiB per writer), streamed in 1 MiB
// writes with syncs at odd offsets in between, so parts and staged pieces do not line up.
// Neither the test nor the store holds the whole blob.
TEST_P(BlobStoreContractTest, LargeBlobInManyParts) {
  constexpr size_t kMiB = 1 << 20;
  constexpr size_t kTotal = 20 * kMiB + 12345;
  auto piece = [](size_t index, size_t len) {
    std::string p(len, '\0');
    for (size_t i = 0; i < len; ++i) p[i] = static_cast<char>((index * 7919 + i * 31 + (i >> 9)) & 0xff);
    return p;
  };
  struct rusage before {};
  ::getrusage(RUSAGE_SELF, &before);
  oci::Hasher hasher;
  {
    auto w = store_->openUpload("large", 0);
    ASSERT_TRUE(w.ok()) << w.error().message;
    size_t written = 0;
    for (size_t i = 0; written < kTotal; ++i) {
      std::string p = piece(i, std::min(kMiB, kTotal - written));
      hasher.update(p);
      ASSERT_TRUE((*w)->write(p).ok());
      written += p.size();
      if (i == 4 || i == 12) {
        ASSERT_TRUE((*w)->sync().ok());
      }
    }
    EXPECT_EQ((*w)->size(), kTotal);
  }
  const Digest d = hasher.finish();
  ASSERT_TRUE(store_->commitUpload("large", d).ok());
  auto info = store_->stat(d);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, kTotal);
  auto r = store_->open(d);
  ASSERT_TRUE(r.ok());
  oci::Hasher check;
  std::string buf(256 * 1024, '\0');  // the server's chunk size
  for (uint64_t off = 0; off < kTotal;) {
    auto n = (*r)->readAt(off, buf.data(), buf.size());
    ASSERT_TRUE(n.ok()) << n.error().message;
    ASSERT_GT(*n, 0u);
    check.update(buf.data(), *n);
    off += *n;
  }
  EXPECT_EQ(check.finish(), d);
  struct rusage after {};
  ::getrusage(RUSAGE_SELF, &after);
  // ru_maxrss is in KiB: the peak grew by less than the blob. (AddressSanitizer keeps freed
  // memory in quarantine, so there the peak says nothing.)
  if (!kSanitized) {
    EXPECT_LT(static_cast<size_t>(after.ru_maxrss - before.ru_maxrss) * 1024, kTotal);
  }
}

std::unique_ptr<BlobStore> makeFsStore(const std::string& scratch) {
  auto s = FsBlobStore::open(scratch + "/store");
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

// The options of each scratch directory's store, for a second instance.
std::mutex options_mu;
std::map<std::string, S3Options> s3_options;
std::map<std::string, AzureOptions> azure_options;

std::unique_ptr<BlobStore> makeS3StoreStyled(const std::string& scratch, bool virtual_host) {
  S3Options options = testing::freshS3Bucket(virtual_host);
  {
    std::lock_guard lock(options_mu);
    s3_options[scratch] = options;
  }
  auto s = S3BlobStore::open(options);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

std::unique_ptr<BlobStore> makeS3Store(const std::string& scratch) {
  return makeS3StoreStyled(scratch, false);
}
std::unique_ptr<BlobStore> makeS3VirtualHostStore(const std::string& scratch) {
  return makeS3StoreStyled(scratch, true);
}

std::unique_ptr<BlobStore> anotherS3Store(const std::string& scratch) {
  std::lock_guard lock(options_mu);
  auto s = S3BlobStore::open(s3_options[scratch]);
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

std::unique_ptr<BlobStore> makeAzureStore(const std::string& scratch) {
  AzureOptions options = testing::freshAzureContainer();
  {
    std::lock_guard lock(options_mu);
    azure_options[scratch] = options;
  }
  auto s = AzureBlobStore::open(options);
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

std::unique_ptr<BlobStore> anotherAzureStore(const std::string& scratch) {
  std::lock_guard lock(options_mu);
  auto s = AzureBlobStore::open(azure_options[scratch]);
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

INSTANTIATE_TEST_SUITE_P(Filesystem, BlobStoreContractTest,
                         ::testing::Values(BlobStoreFactory{"FsBlobStore", makeFsStore, makeFsStore, nullptr}),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(S3, BlobStoreContractTest,
                         ::testing::Values(BlobStoreFactory{"S3BlobStore", makeS3Store, anotherS3Store,
                                                            testing::s3Unavailable}),
                         [](const auto& info) { return info.param.name; });
// storage.s3.path_style: false: the bucket in the host name, as on AWS.
INSTANTIATE_TEST_SUITE_P(S3VirtualHost, BlobStoreContractTest,
                         ::testing::Values(BlobStoreFactory{"S3BlobStore", makeS3VirtualHostStore, anotherS3Store,
                                                            testing::s3Unavailable}),
                         [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Azure, BlobStoreContractTest,
                         ::testing::Values(BlobStoreFactory{"AzureBlobStore", makeAzureStore, anotherAzureStore,
                                                            testing::azureUnavailable}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace berth::storage
