#include "auth/cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace berth::auth {
namespace {

struct Value {
  std::string identity;
  int version = 0;
};

using Cache = CredentialCache<Value>;

TEST(CacheKeyer, DistinguishesFieldsAndIsStable) {
  CacheKeyer k;
  EXPECT_EQ(k.key("basic", "alice", "pw"), k.key("basic", "alice", "pw"));
  EXPECT_NE(k.key("basic", "alice", "pw"), k.key("basic", "alice", "pW"));
  EXPECT_NE(k.key("basic", "alice", "pw"), k.key("basic", "bob", "pw"));  // same password
  EXPECT_NE(k.key("basic", "alice", "pw"), k.key("bearer", "alice", "pw"));
  EXPECT_NE(k.key("basic", "ab", "c"), k.key("basic", "a", "bc"));
  EXPECT_NE(k.key("", "", std::string("\0", 1)), k.key("", "", ""));
}

TEST(CacheKeyer, KeysArePerInstanceAndHideTheSecret) {
  CacheKeyer a, b;
  EXPECT_NE(a.key("basic", "alice", "pw"), b.key("basic", "alice", "pw"));
  CacheKey k = a.key("basic", "alice", "hunter2hunter2hunter2");
  std::string_view bytes(reinterpret_cast<const char*>(k.data()), k.size());
  EXPECT_EQ(bytes.find("hunter2"), std::string_view::npos);
}

TEST(CredentialCache, PutGet) {
  Cache c(100);
  CacheKey k = c.key("basic", "alice", "pw");
  EXPECT_FALSE(c.get(k, 0));
  EXPECT_TRUE(c.put(k, "user:alice", {"user:alice", 1}, 100, 0, c.ticket()));
  auto v = c.get(k, 50);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version, 1);
  EXPECT_FALSE(c.get(c.key("basic", "alice", "wrong"), 50));
  EXPECT_EQ(c.size(), 1u);
}

TEST(CredentialCache, NeverReturnsExpiredEntries) {
  Cache c(100);
  CacheKey k = c.key("bearer", "", "token");
  ASSERT_TRUE(c.put(k, "t1", {"t1", 1}, 100, 0, c.ticket()));
  EXPECT_TRUE(c.get(k, 99));
  EXPECT_FALSE(c.get(k, 100));  // expiry is exclusive
  EXPECT_EQ(c.size(), 0u);      // and the expired entry is gone
  EXPECT_FALSE(c.get(k, 50));   // even if the clock goes back
}

TEST(CredentialCache, RefusesAlreadyExpiredPuts) {
  Cache c(100);
  CacheKey k = c.key("bearer", "", "token");
  EXPECT_FALSE(c.put(k, "t1", {"t1", 1}, 100, 100, c.ticket()));
  EXPECT_FALSE(c.put(k, "t1", {"t1", 1}, 99, 100, c.ticket()));
  EXPECT_EQ(c.size(), 0u);
}

TEST(CredentialCache, ReplacesAnExistingEntry) {
  Cache c(100);
  CacheKey k = c.key("basic", "alice", "pw");
  ASSERT_TRUE(c.put(k, "alice", {"alice", 1}, 100, 0, c.ticket()));
  ASSERT_TRUE(c.put(k, "alice", {"alice", 2}, 200, 0, c.ticket()));
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.get(k, 150)->version, 2);
}

TEST(CredentialCache, InvalidateIdentityDropsAllItsEntries) {
  Cache c(1000);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(c.put(c.key("basic", "alice", "pw" + std::to_string(i)), "alice", {"alice", i}, 100,
                      0, c.ticket()));
    ASSERT_TRUE(c.put(c.key("basic", "bob", "pw" + std::to_string(i)), "bob", {"bob", i}, 100, 0,
                      c.ticket()));
  }
  EXPECT_EQ(c.invalidateIdentity("alice"), 50u);
  EXPECT_EQ(c.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(c.get(c.key("basic", "alice", "pw" + std::to_string(i)), 1));
    EXPECT_TRUE(c.get(c.key("basic", "bob", "pw" + std::to_string(i)), 1));
  }
  EXPECT_EQ(c.invalidateIdentity("nobody"), 0u);
  EXPECT_EQ(c.invalidateIdentity("ali"), 0u);  // exact identity, no prefix match
  c.clear();
  EXPECT_EQ(c.size(), 0u);
}

TEST(CredentialCache, StaleVerificationCannotRepopulateAfterInvalidation) {
  Cache c(100);
  CacheKey k = c.key("basic", "alice", "old-password");
  uint64_t t = c.ticket();        // verification starts and reads the old hash...
  c.invalidateIdentity("alice");  // ...the password changes meanwhile...
  EXPECT_FALSE(c.put(k, "alice", {"alice", 1}, 100, 0, t));  // ...so its result is dropped
  EXPECT_FALSE(c.get(k, 1));
  uint64_t t2 = c.ticket();
  c.clear();
  EXPECT_FALSE(c.put(k, "alice", {"alice", 1}, 100, 0, t2));
  EXPECT_TRUE(c.put(k, "alice", {"alice", 1}, 100, 0, c.ticket()));
}

TEST(CredentialCache, EvictsLeastRecentlyUsedAtCapacity) {
  Cache c(3, 1);  // one shard: exact LRU order
  CacheKey a = c.key("k", "", "a"), b = c.key("k", "", "b"), d = c.key("k", "", "d"),
           e = c.key("k", "", "e");
  ASSERT_TRUE(c.put(a, "a", {"a", 1}, 100, 0, c.ticket()));
  ASSERT_TRUE(c.put(b, "b", {"b", 1}, 100, 0, c.ticket()));
  ASSERT_TRUE(c.put(d, "d", {"d", 1}, 100, 0, c.ticket()));
  ASSERT_TRUE(c.get(a, 1));  // a is now most recent; b is least
  ASSERT_TRUE(c.put(e, "e", {"e", 1}, 100, 0, c.ticket()));
  EXPECT_EQ(c.size(), 3u);
  EXPECT_FALSE(c.get(b, 1));
  EXPECT_TRUE(c.get(a, 1));
  EXPECT_TRUE(c.get(d, 1));
  EXPECT_TRUE(c.get(e, 1));
}

TEST(CredentialCache, BoundedAcrossShards) {
  Cache c(64, 8);
  for (int i = 0; i < 10000; ++i) {
    c.put(c.key("k", "", std::to_string(i)), "x", {"x", i}, 100, 0, c.ticket());
  }
  EXPECT_LE(c.size(), 64u);
  EXPECT_GT(c.size(), 0u);
}

TEST(CredentialCache, ZeroCapacityStoresNothing) {
  Cache c(0);
  EXPECT_FALSE(c.put(c.key("k", "", "a"), "a", {"a", 1}, 100, 0, c.ticket()));
  EXPECT_EQ(c.size(), 0u);
  Cache one(1, 0);  // zero shards is treated as one
  EXPECT_TRUE(one.put(one.key("k", "", "a"), "a", {"a", 1}, 100, 0, one.ticket()));
}

TEST(CredentialCache, ConcurrentUseKeepsValuesWithTheirKeys) {
  Cache c(256, 16);
  std::atomic<bool> mismatch{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 4000; ++i) {
        int n = (i * 7 + t * 13) % 500;
        std::string id = "id" + std::to_string(n % 20);
        CacheKey k = c.key("basic", id, std::to_string(n));
        if (i % 3 == 0) {
          c.put(k, id, {id, n}, 1000, i % 500, c.ticket());
        } else if (auto v = c.get(k, i % 500)) {
          if (v->version != n || v->identity != id) mismatch = true;
        }
        if (i % 500 == 0) c.invalidateIdentity("id" + std::to_string(t));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(mismatch);
  EXPECT_LE(c.size(), 256u);
  for (int i = 0; i < 20; ++i) c.invalidateIdentity("id" + std::to_string(i));
  EXPECT_EQ(c.size(), 0u);
}

// Writers follow the protocol (ticket, read the current credential version, put); an
// admin thread changes the version and invalidates. Once an invalidation has returned,
// no reader may see a version older than the one committed before it.
TEST(CredentialCache, InvalidationWinsAgainstConcurrentVerifications) {
  Cache c(1024, 8);
  std::atomic<int> committed{0};    // the credential version "in the database"
  std::atomic<int> invalidated{0};  // highest version whose invalidation has returned
  std::atomic<bool> stop{false};
  std::atomic<bool> stale{false};
  CacheKey k = c.key("basic", "alice", "pw");
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&] {
      while (!stop) {
        uint64_t t = c.ticket();
        int v = committed.load();
        std::this_thread::yield();  // widen the window a slow argon2id would leave
        c.put(k, "alice", {"alice", v}, 1000, 0, t);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop) {
        int floor = invalidated.load();
        if (auto v = c.get(k, 1)) {
          if (v->version < floor) stale = true;
        }
      }
    });
  }
  for (int v = 1; v <= 20000; ++v) {
    committed.store(v);
    c.invalidateIdentity("alice");
    invalidated.store(v);
  }
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_FALSE(stale);
  // With no invalidation in between, a put goes through again.
  uint64_t t = c.ticket();
  EXPECT_TRUE(c.put(k, "alice", {"alice", committed.load()}, 1000, 0, t));
  EXPECT_EQ(c.get(k, 1)->version, 20000);
}

using TokenCache = CredentialCache<Value, TokenKeys>;

// Bearer tokens are cached by their text: equal text hits, any other text misses, even
// one with the same end (the hash covers only the last 32 bytes).
TEST(TokenKeyedCache, HitsOnlyTheSameTokenText) {
  TokenCache c(100);
  const std::string tail(40, 's');
  const std::string a = "header.payload-a." + tail, b = "header.payload-b." + tail;
  ASSERT_TRUE(c.put(a, "alice", {"alice", 1}, 100, 0, c.ticket()));
  ASSERT_TRUE(c.put(b, "bob", {"bob", 2}, 100, 0, c.ticket()));
  EXPECT_EQ(c.get(a, 1)->identity, "alice");
  EXPECT_EQ(c.get(std::string_view(b), 1)->identity, "bob");
  EXPECT_FALSE(c.get("header.payload-c." + tail, 1));
  EXPECT_FALSE(c.get(a.substr(1), 1));
  EXPECT_EQ(c.size(), 2u);
}

TEST(TokenKeyedCache, HonorsExpiryBoundsAndInvalidation) {
  TokenCache c(16, 1);  // one shard: exactly 16 entries
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.put("token-" + std::to_string(i), i % 2 ? "odd" : "even", {"x", i}, 100, 0, c.ticket()));
  }
  EXPECT_EQ(c.size(), 16u);
  EXPECT_FALSE(c.get("token-0", 1));  // the least recently used went first
  EXPECT_TRUE(c.get("token-19", 99));
  EXPECT_FALSE(c.get("token-19", 100));  // not at its expiry ("exp") or after
  EXPECT_EQ(c.invalidateIdentity("odd"), 7u);  // 5..17 odd; 19 expired above
  EXPECT_FALSE(c.get("token-7", 1));
  EXPECT_TRUE(c.get("token-8", 1));
  // Replacing an entry keeps one copy of the key.
  ASSERT_TRUE(c.put("token-8", "even", {"x", 80}, 200, 0, c.ticket()));
  EXPECT_EQ(c.get("token-8", 150)->version, 80);
  EXPECT_EQ(c.size(), 8u);
}

}  // namespace
}  // namespace berth::auth
