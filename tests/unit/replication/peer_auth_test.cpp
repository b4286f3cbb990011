// How replicas authenticate each other, and the signing key they all derive.
#include "replication/peer_auth.h"

#include <gtest/gtest.h>

#include "auth/keys.h"
#include "replication/clock.h"

namespace berth::replication {
namespace {

const std::string kSecret(64, 'k');

TEST(PeerAuth, ASignedRequestOfAPeerIsAccepted) {
  PeerAuth east(kSecret, "eastus", {"westeurope"});
  PeerAuth west(kSecret, "westeurope", {"eastus"});
  const auto h = east.sign("GET", "/replication/v1/journal?after=3", 1000);
  auto who = west.verify(h.region, h.time, h.signature, "GET", "/replication/v1/journal?after=3", 1000);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(*who, "eastus");
}

TEST(PeerAuth, WhatIsNotExactlySignedIsRefused) {
  PeerAuth east(kSecret, "eastus", {"westeurope"});
  PeerAuth west(kSecret, "westeurope", {"eastus"});
  const auto h = east.sign("GET", "/replication/v1/journal?after=3", 1000);
  // Another target, method, time or region than the one signed.
  EXPECT_EQ(west.verify(h.region, h.time, h.signature, "GET", "/replication/v1/journal?after=0", 1000).code(),
            Code::kUnauthorized);
  EXPECT_EQ(west.verify(h.region, h.time, h.signature, "POST", "/replication/v1/journal?after=3", 1000).code(),
            Code::kUnauthorized);
  EXPECT_EQ(west.verify(h.region, "1001", h.signature, "GET", "/replication/v1/journal?after=3", 1000).code(),
            Code::kUnauthorized);
  // A region that is no peer, even with a signature made with the secret.
  PeerAuth mars(kSecret, "mars", {"westeurope"});
  const auto m = mars.sign("GET", "/x", 1000);
  auto refused = west.verify(m.region, m.time, m.signature, "GET", "/x", 1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("mars is not a peer"), std::string::npos);
  // Another secret.
  PeerAuth other(std::string(64, 'o'), "eastus", {"westeurope"});
  const auto o = other.sign("GET", "/x", 1000);
  auto wrong = west.verify(o.region, o.time, o.signature, "GET", "/x", 1000);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.code(), Code::kUnauthorized);
  EXPECT_EQ(wrong.error().message.find(kSecret), std::string::npos);
  // Unsigned.
  EXPECT_EQ(west.verify("", "", "", "GET", "/x", 1000).code(), Code::kUnauthorized);
}

TEST(PeerAuth, AClockFarOffIsRefusedSayingSo) {
  PeerAuth east(kSecret, "eastus", {"westeurope"});
  PeerAuth west(kSecret, "westeurope", {"eastus"});
  const auto h = east.sign("GET", "/x", 1000 + kMaxSkewSeconds + 1);
  auto r = west.verify(h.region, h.time, h.signature, "GET", "/x", 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Code::kDenied);
  EXPECT_NE(r.error().message.find("clock"), std::string::npos);
  const auto ok = east.sign("GET", "/x", 1000 + kMaxSkewSeconds);
  EXPECT_TRUE(west.verify(ok.region, ok.time, ok.signature, "GET", "/x", 1000).ok());
}

TEST(SigningKeyPem, EveryReplicaDerivesTheSameUsableKey) {
  auto a = auth::SigningKey::fromPem(signingKeyPem(kSecret));
  auto b = auth::SigningKey::fromPem(signingKeyPem(kSecret));
  auto c = auth::SigningKey::fromPem(signingKeyPem(std::string(64, 'z')));
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(a->kid(), b->kid());
  EXPECT_NE(a->kid(), c->kid());
  EXPECT_EQ(a->sign("x").size(), 64u);
}

TEST(HybridClock, ReadingsIncreaseAndPassWhatWasObserved) {
  HybridClock clock;
  const int64_t first = clock.now();
  EXPECT_GT(clock.now(), first);
  const int64_t ahead = (HybridClock::wallMs() + 60000) << HybridClock::kCounterBits;
  clock.observe(ahead);
  EXPECT_GT(clock.now(), ahead);
  clock.observe(first);  // an older reading changes nothing
  EXPECT_GT(clock.now(), ahead);
}

}  // namespace
}  // namespace berth::replication
