// The dispatcher's filter (events::wants): which events a replica delivers to a webhook.
#include "events/dispatcher.h"

#include <gtest/gtest.h>

namespace berth::events {
namespace {

meta::WebhookRecord webhook(std::string region = "", std::string scope = "") {
  meta::WebhookRecord w;
  w.name = "hook1";
  w.uri = "http://example.test/";
  w.actions = {"push"};
  w.scope = std::move(scope);
  w.region = std::move(region);
  return w;
}

// An outbox row as WebhookStore::eventsAfter reads it: the origin is all of the version.
meta::EventRecord event(std::string origin, std::string action = "push") {
  meta::EventRecord e;
  e.action = std::move(action);
  e.repository = "team/app";
  e.tag = "v1";
  e.version.origin = std::move(origin);
  return e;
}

TEST(Wants, WithoutReplicationEveryMatchingEventIsDelivered) {
  EXPECT_TRUE(wants(webhook(), event(""), ""));
  // An event recorded while replication was on, delivered after it was turned off.
  EXPECT_TRUE(wants(webhook(), event("westeurope"), ""));
}

TEST(Wants, ActionsAndScopeStillFilter) {
  EXPECT_FALSE(wants(webhook(), event("", "delete"), ""));
  EXPECT_FALSE(wants(webhook("", "other/*"), event(""), ""));
  EXPECT_FALSE(wants(webhook("eastus", "other/*"), event("eastus"), "eastus"));
  EXPECT_FALSE(wants(webhook("eastus"), event("westeurope", "delete"), "eastus"));
}

TEST(Wants, NoRegionFiresOnlyWhereTheWriteWasMade) {
  EXPECT_TRUE(wants(webhook(), event("westeurope"), "westeurope"));
  // The same push arriving in eastus by replication: not a second delivery.
  EXPECT_FALSE(wants(webhook(), event("westeurope"), "eastus"));
  // Events that carry no origin (made here without a version, e.g. a recycle-bin restore).
  EXPECT_TRUE(wants(webhook(), event(""), "eastus"));
}

TEST(Wants, ARegionIsDeliveredOnlyThereForWritesMadeThereAndArrivals) {
  EXPECT_TRUE(wants(webhook("eastus"), event("eastus"), "eastus"));
  EXPECT_TRUE(wants(webhook("eastus"), event("westeurope"), "eastus"));
  EXPECT_TRUE(wants(webhook("eastus"), event(""), "eastus"));
  // Every other replica passes it by, its own writes included.
  EXPECT_FALSE(wants(webhook("eastus"), event("westeurope"), "westeurope"));
  EXPECT_FALSE(wants(webhook("eastus"), event("eastus"), "westeurope"));
  EXPECT_FALSE(wants(webhook("eastus"), event("japaneast"), "westeurope"));
  // A region on a registry whose replication was turned off: no replica is eastus.
  EXPECT_FALSE(wants(webhook("eastus"), event(""), ""));
}

}  // namespace
}  // namespace berth::events
