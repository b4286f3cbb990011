// Regression: two requests appending to one upload session at once. beginAppend read the
// session's offset before taking the session, so a request could read offset 0, wait out
// another's append, then rewrite bytes already acknowledged at that offset.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "meta/sqlite/sqlite_meta_store.h"
#include "registry/registry.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::registry {
namespace {

TEST(RacingAppendsRegression, NoTwoAppendsStartAtTheSameOffset) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-race-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto blobs = storage::FsBlobStore::open(dir.string());
  ASSERT_TRUE(blobs);
  auto meta = meta::SqliteMetaStore::open((dir / "meta.db").string());
  ASSERT_TRUE(meta);
  Registry registry(std::move(*blobs), std::move(*meta), RegistryOptions{});

  const std::string chunk(4096, 'x');
  for (int round = 0; round < 100; ++round) {
    auto rec = registry.startUpload("race/repo");
    ASSERT_TRUE(rec);
    std::atomic<int> ready{0};
    uint64_t starts[2] = {~0ull, ~0ull};
    auto append = [&](int who) {
      ++ready;
      while (ready.load() < 2) {
      }
      auto stream = registry.beginAppend("race/repo", rec->id, oci::DigestAlgorithm::kSha256);
      if (!stream) return;  // the other request owns the session: refused, fine
      const uint64_t start = (*stream)->offset();
      ASSERT_TRUE((*stream)->write(chunk));
      auto end = registry.endAppend(std::move(*stream));
      ASSERT_TRUE(end) << end.error().message;
      EXPECT_EQ(*end, start + chunk.size());
      starts[who] = start;
    };
    std::thread a(append, 0), b(append, 1);
    a.join();
    b.join();
    if (starts[0] != ~0ull && starts[1] != ~0ull) {
      EXPECT_NE(starts[0], starts[1]) << "round " << round << ": both appends started at " << starts[0];
    }
    auto after = registry.getUpload("race/repo", rec->id);
    ASSERT_TRUE(after);
    const int succeeded = (starts[0] != ~0ull) + (starts[1] != ~0ull);
    EXPECT_EQ(after->offset, succeeded * chunk.size()) << "round " << round;
    ASSERT_TRUE(registry.cancelUpload("race/repo", rec->id));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::registry
