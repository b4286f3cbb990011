#include "registry/manifest_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace berth::registry {
namespace {

std::shared_ptr<const CachedManifest> entry(const std::string& bytes) {
  return std::make_shared<CachedManifest>(CachedManifest{oci::digestOf(bytes), "application/json", bytes, ""});
}

TEST(ManifestCache, HitAfterPut) {
  ManifestCache cache(1 << 20);
  EXPECT_EQ(cache.get("r", "t"), nullptr);
  cache.put("r", "t", cache.generation("r"), entry("a"));
  auto hit = cache.get("r", "t");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->bytes, "a");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(ManifestCache, InvalidateDropsOnlyThatRepository) {
  ManifestCache cache(1 << 20);
  cache.put("r1", "t", cache.generation("r1"), entry("a"));
  cache.put("r2", "t", cache.generation("r2"), entry("b"));
  cache.invalidate("r1");
  EXPECT_EQ(cache.get("r1", "t"), nullptr);
  EXPECT_NE(cache.get("r2", "t"), nullptr);
}

TEST(ManifestCache, StaleReaderCannotInstall) {
  // A reader took the generation, then a writer committed and invalidated: the reader's
  // (old) value must not become visible.
  ManifestCache cache(1 << 20);
  uint64_t before = cache.generation("r");
  cache.invalidate("r");
  cache.put("r", "t", before, entry("old"));
  EXPECT_EQ(cache.get("r", "t"), nullptr);
  cache.put("r", "t", cache.generation("r"), entry("new"));
  EXPECT_EQ(cache.get("r", "t")->bytes, "new");
}

TEST(ManifestCache, BoundedInBytes) {
  ManifestCache cache(32 * 64 * 1024);  // 64 KiB per shard
  std::string big(10 * 1024, 'x');
  for (int i = 0; i < 1000; ++i) {
    cache.put("r", "t" + std::to_string(i), cache.generation("r"), entry(big + std::to_string(i)));
  }
  int present = 0;
  for (int i = 0; i < 1000; ++i) present += cache.get("r", "t" + std::to_string(i)) != nullptr;
  EXPECT_GT(present, 0);
  EXPECT_LE(present, 6);  // one repository lives in one shard of 64 KiB
  EXPECT_NE(cache.get("r", "t999"), nullptr);  // the most recent survives
}

TEST(ManifestCache, ConcurrentUse) {
  ManifestCache cache(1 << 20);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string repo = "r" + std::to_string(i % 7);
        if (i % 13 == t) cache.invalidate(repo);
        cache.put(repo, "t", cache.generation(repo), entry(repo));
        if (auto hit = cache.get(repo, "t")) ASSERT_EQ(hit->bytes, repo);
      }
    });
  }
  for (auto& th : threads) th.join();
}

}  // namespace
}  // namespace berth::registry
