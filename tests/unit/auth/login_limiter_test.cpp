#include "auth/login_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace berth::auth {
namespace {

LoginLimits limits() {
  LoginLimits l;
  l.per_address_burst = 5;
  l.per_identity_burst = 3;
  l.refill_per_second = 0.1;  // one failure back every 10 s
  l.max_entries = 50;
  return l;
}

constexpr double kT = 1000;

// `n` failures from `address`, each against a different identity (so only the address
// bucket drains).
void failDistinct(LoginLimiter& l, const std::string& address, int n, double now) {
  for (int i = 0; i < n; ++i) l.fail(address, "user-" + std::to_string(i), now);
}

TEST(LoginLimiter, FreshAddressMayLogIn) {
  LoginLimiter l(limits());
  EXPECT_EQ(l.check("192.0.2.1", "alice", kT), 0);
}

TEST(LoginLimiter, AddressRunsOutAtItsBurst) {
  LoginLimiter l(limits());
  failDistinct(l, "192.0.2.1", 4, kT);
  EXPECT_EQ(l.check("192.0.2.1", "someone-new", kT), 0);
  l.fail("192.0.2.1", "user-4", kT);
  const int64_t wait = l.check("192.0.2.1", "someone-new", kT);
  EXPECT_GT(wait, 0);
  EXPECT_EQ(wait, 10);  // one token at 0.1/s
}

TEST(LoginLimiter, OtherAddressUnaffected) {
  LoginLimiter l(limits());
  failDistinct(l, "192.0.2.1", 5, kT);
  l.fail("192.0.2.1", "alice", kT);
  ASSERT_GT(l.check("192.0.2.1", "alice", kT), 0);
  EXPECT_EQ(l.check("192.0.2.2", "alice", kT), 0);
  EXPECT_EQ(l.check("2001:db8::1", "alice", kT), 0);
}

TEST(LoginLimiter, IdentityAtAddressRunsOutBeforeTheAddress) {
  LoginLimiter l(limits());
  for (int i = 0; i < 2; ++i) l.fail("192.0.2.1", "alice", kT);
  EXPECT_EQ(l.check("192.0.2.1", "alice", kT), 0);
  l.fail("192.0.2.1", "alice", kT);  // third failure: alice's bucket at this address is empty
  EXPECT_GT(l.check("192.0.2.1", "alice", kT), 0);
  // The address has 2 failures left: another identity from it may still try...
  EXPECT_EQ(l.check("192.0.2.1", "bob", kT), 0);
  // ...and alice from another address too (no bucket per identity alone).
  EXPECT_EQ(l.check("192.0.2.9", "alice", kT), 0);
}

TEST(LoginLimiter, RefillLetsLoginsThroughAgain) {
  LoginLimiter l(limits());
  failDistinct(l, "192.0.2.1", 5, kT);
  const int64_t wait = l.check("192.0.2.1", "x", kT);
  ASSERT_GT(wait, 0);
  EXPECT_GT(l.check("192.0.2.1", "x", kT + wait - 1), 0);
  EXPECT_EQ(l.check("192.0.2.1", "x", kT + wait), 0);
  // One token came back, not the whole burst: the next failure empties it again.
  l.fail("192.0.2.1", "y", kT + wait);
  EXPECT_GT(l.check("192.0.2.1", "x", kT + wait), 0);
  // After a long quiet time the full burst is back.
  const double later = kT + 1000;
  failDistinct(l, "192.0.2.1", 4, later);
  EXPECT_EQ(l.check("192.0.2.1", "x", later), 0);
}

TEST(LoginLimiter, WaitGrowsWithTheDeficitOfTheEmptierBucket) {
  LoginLimits lim = limits();
  lim.refill_per_second = 0.5;
  LoginLimiter l(lim);
  for (int i = 0; i < 3; ++i) l.fail("192.0.2.1", "alice", kT);
  EXPECT_EQ(l.check("192.0.2.1", "alice", kT), 2);      // (1 - 0) / 0.5
  EXPECT_EQ(l.check("192.0.2.1", "alice", kT + 1), 1);  // half a token back
}

TEST(LoginLimiter, FloodOfAddressesForgetsOldBucketsInsteadOfGrowing) {
  LoginLimiter flooded(limits());
  LoginLimiter quiet(limits());
  failDistinct(flooded, "192.0.2.1", 5, kT);
  failDistinct(quiet, "192.0.2.1", 5, kT);
  // 10x max_entries distinct addresses, each one failure, over the next 5 s (too soon
  // for any bucket to refill).
  const size_t n = 10 * limits().max_entries;
  double now = kT;
  for (size_t i = 0; i < n; ++i) {
    now = kT + 0.01 * static_cast<double>(i + 1);
    flooded.fail("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), "u", now);
  }
  // Without the flood the address is still refused; with it, its bucket, the oldest,
  // was dropped to keep the table bounded.
  EXPECT_GT(quiet.check("192.0.2.1", "x", now), 0);
  EXPECT_EQ(flooded.check("192.0.2.1", "x", now), 0);

  // The limiter still works after the flood: a fresh burst is limited.
  for (int i = 0; i < 5; ++i) {
    now += 0.01;
    flooded.fail("198.51.100.7", "user-" + std::to_string(i), now);
  }
  EXPECT_GT(flooded.check("198.51.100.7", "anyone", now), 0);
  EXPECT_EQ(flooded.check("198.51.100.8", "anyone", now), 0);
}

TEST(LoginLimiter, RefilledBucketsAreDroppedFirst) {
  LoginLimiter l(limits());
  // An address that made a few failures long ago (refilled since) and one that is
  // empty right now.
  failDistinct(l, "192.0.2.50", 2, 0);
  failDistinct(l, "192.0.2.1", 5, kT);
  // 9 buckets so far; 21 one-failure addresses (2 buckets each) reach max_entries (50)
  // once, which forces one eviction.
  double now = kT;
  for (int i = 0; i < 21; ++i) {
    now += 0.01;
    l.fail("10.1.0." + std::to_string(i), "u", now);
  }
  // The empty bucket is newer than the refilled one and survives the eviction that
  // the table being full forced.
  EXPECT_GT(l.check("192.0.2.1", "x", now), 0);
}

TEST(LoginLimiter, ConcurrentFailuresAreAllCounted) {
  LoginLimits lim = limits();
  lim.per_address_burst = 201;
  lim.per_identity_burst = 1000;
  lim.refill_per_second = 1e-9;
  LoginLimiter l(lim);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&l, t] {
      for (int i = 0; i < 50; ++i) l.fail("192.0.2.1", "user-" + std::to_string(t), kT);
    });
  }
  for (auto& t : threads) t.join();
  // 200 of 201 taken: exactly one left if no failure was lost.
  EXPECT_EQ(l.check("192.0.2.1", "x", kT), 0);
  l.fail("192.0.2.1", "x", kT);
  EXPECT_GT(l.check("192.0.2.1", "x", kT), 0);
}

// Parallel wrong passwords: each attempt is counted when it starts, before the slow
// verification, so no more than the burst can be in flight; right ones give theirs back.
TEST(LoginLimiter, AcquireCountsAttemptsBeforeTheyAreVerified) {
  LoginLimiter l(limits());  // 3 per (address, identity)
  int admitted = 0;
  for (int i = 0; i < 10; ++i) admitted += l.acquire("192.0.2.1", "alice", kT) == 0 ? 1 : 0;
  EXPECT_EQ(admitted, 3);
  EXPECT_GT(l.check("192.0.2.1", "alice", kT), 0);

  LoginLimiter ok(limits());
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(ok.acquire("192.0.2.1", "bob", kT), 0) << i;
    ok.succeeded("192.0.2.1", "bob", kT);
  }
  EXPECT_EQ(ok.check("192.0.2.1", "bob", kT), 0);
}

TEST(LoginLimiter, AcquireFromManyThreadsAdmitsAtMostTheBurst) {
  LoginLimiter l(limits());
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      if (l.acquire("192.0.2.1", "alice", kT) == 0) admitted.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 3);
}

}  // namespace
}  // namespace berth::auth
