// The event outbox (written in the manifest transactions) and the WebhookStore, on every
// driver (SQLite, PostgreSQL).
#include "meta/webhook_store.h"

#include <gtest/gtest.h>

#include "meta_store_contract.h"

#include "oci/digest.h"

namespace berth::meta::testing {
namespace {

EventRecord event(std::string action, std::string repository, std::string tag = "") {
  EventRecord e;
  e.action = std::move(action);
  e.repository = std::move(repository);
  e.tag = std::move(tag);
  e.payload = "{\"action\":\"" + e.action + "\"}";
  return e;
}

PutManifestRequest manifest(std::string_view repository, std::string bytes,
                            std::optional<std::string> tag = std::nullopt) {
  PutManifestRequest req;
  req.repository = std::string(repository);
  req.manifest.digest = oci::digestOf(bytes);
  req.manifest.bytes = std::move(bytes);
  req.manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
  req.tag = std::move(tag);
  return req;
}

class WebhookStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    meta_ = std::move(store_);
    hooks_ = meta_->webhookStore();
  }
  std::vector<EventRecord> all() {
    auto e = hooks_->eventsAfter(0, 100);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : std::vector<EventRecord>{};
  }
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<WebhookStore> hooks_;
};

TEST_P(WebhookStoreTest, EventsCommitWithTheirChangesAndNotWithoutThem) {
  auto push = manifest("team/app", R"({"schemaVersion":2,"n":1})", "v1");
  push.event = event("push", "team/app", "v1");
  ASSERT_TRUE(meta_->putManifest(push).ok());
  // A failed push (unknown blob) rolls its event back with it.
  auto bad = manifest("team/app", R"({"schemaVersion":2,"n":2})");
  bad.blobs.push_back(oci::digestOf("missing"));
  bad.event = event("push", "team/app");
  EXPECT_FALSE(meta_->putManifest(bad).ok());
  EXPECT_FALSE(meta_->deleteTag("team/app", "nope", event("delete", "team/app", "nope")).ok());
  EXPECT_FALSE(meta_->deleteManifest("team/app", oci::digestOf("x"), event("delete", "team/app")).ok());
  ASSERT_TRUE(meta_->deleteTag("team/app", "v1", event("delete", "team/app", "v1")).ok());
  ASSERT_TRUE(meta_->deleteManifest("team/app", push.manifest.digest, event("delete", "team/app")).ok());
  // Without an event nothing is appended.
  ASSERT_TRUE(meta_->putManifest(manifest("team/app", R"({"schemaVersion":2,"n":3})")).ok());

  auto events = all();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].action, "push");
  EXPECT_EQ(events[0].tag, "v1");
  EXPECT_EQ(events[1].action, "delete");
  EXPECT_EQ(events[1].tag, "v1");
  EXPECT_EQ(events[2].action, "delete");
  EXPECT_LT(events[0].id, events[1].id);
  EXPECT_LT(events[1].id, events[2].id);
  EXPECT_EQ(events[0].payload, R"({"action":"push"})");
  EXPECT_GT(events[0].created_at, 0);
}

TEST_P(WebhookStoreTest, NewWebhookStartsAfterExistingEventsAndCursorOnlyMovesForward) {
  auto push = manifest("a", R"({"schemaVersion":2})");
  push.event = event("push", "a");
  ASSERT_TRUE(meta_->putManifest(push).ok());
  WebhookRecord w;
  w.name = "hook1";
  w.uri = "http://example.test/";
  w.actions = {"push", "delete"};
  ASSERT_TRUE(hooks_->createWebhook(w).ok());
  EXPECT_EQ(hooks_->createWebhook(w).code(), Code::kConflict);
  auto got = hooks_->getWebhook("hook1");
  ASSERT_TRUE(got.ok());
  const auto events = all();
  ASSERT_EQ(events.size(), 1u);  // the push's event
  EXPECT_EQ(got->cursor, events.back().id);
  EXPECT_EQ(got->actions, (std::vector<std::string>{"push", "delete"}));
  EXPECT_EQ(got->format, "acr");

  ASSERT_TRUE(hooks_->advanceCursor("hook1", got->cursor + 5).ok());
  ASSERT_TRUE(hooks_->advanceCursor("hook1", 1).ok());
  EXPECT_EQ(hooks_->getWebhook("hook1")->cursor, got->cursor + 5);
  EXPECT_EQ(hooks_->advanceCursor("nohook", 1).code(), Code::kNotFound);

  w.format = "xml";
  EXPECT_EQ(hooks_->updateWebhook(w).code(), Code::kInvalidArgument);
  w.format = "cloudevents";
  w.secret = "s";
  ASSERT_TRUE(hooks_->updateWebhook(w).ok());
  EXPECT_EQ(hooks_->getWebhook("hook1")->cursor, got->cursor + 5);  // untouched by update
  EXPECT_EQ(hooks_->getWebhook("hook1")->format, "cloudevents");
}

TEST_P(WebhookStoreTest, RegionIsStoredAndUpdatedAndEventsKeepTheirOrigin) {
  WebhookRecord w;
  w.name = "hook1";
  w.uri = "http://example.test/";
  w.actions = {"push"};
  ASSERT_TRUE(hooks_->createWebhook(w).ok());
  EXPECT_EQ(hooks_->getWebhook("hook1")->region, "");  // the default: where the change is made
  w.name = "hook2";
  w.region = "eastus";
  ASSERT_TRUE(hooks_->createWebhook(w).ok());
  EXPECT_EQ(hooks_->getWebhook("hook2")->region, "eastus");
  auto listed = hooks_->listWebhooks();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].region, "");
  EXPECT_EQ((*listed)[1].region, "eastus");
  w.region = "westeurope";
  ASSERT_TRUE(hooks_->updateWebhook(w).ok());
  EXPECT_EQ(hooks_->getWebhook("hook2")->region, "westeurope");
  w.region = "";
  ASSERT_TRUE(hooks_->updateWebhook(w).ok());
  EXPECT_EQ(hooks_->getWebhook("hook2")->region, "");

  // The dispatcher tells a write made here from an arrival by the event's origin.
  auto local = manifest("a", R"({"schemaVersion":2,"n":1})", "v1");
  local.event = event("push", "a", "v1");
  ASSERT_TRUE(meta_->putManifest(local).ok());
  auto arrived = manifest("a", R"({"schemaVersion":2,"n":2})", "v2");
  arrived.event = event("push", "a", "v2");
  arrived.event->version = Version{1000, "westeurope"};
  arrived.event->replicated = true;
  ASSERT_TRUE(meta_->putManifest(arrived).ok());
  const auto events = all();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].version.origin, "");
  EXPECT_EQ(events[1].version.origin, "westeurope");
}

TEST_P(WebhookStoreTest, DeliveryRecordsMoveTheCursorOnlyWhenDeliveredAndArePruned) {
  WebhookRecord w;
  w.name = "hook1";
  w.uri = "http://example.test/";
  w.actions = {"push"};
  ASSERT_TRUE(hooks_->createWebhook(w).ok());
  DeliveryRecord d;
  d.webhook = "hook1";
  d.event_id = 7;
  d.action = "push";
  d.attempts = 1;
  d.response_status = 500;
  ASSERT_TRUE(hooks_->recordDelivery(d, 3).ok());
  EXPECT_EQ(hooks_->getWebhook("hook1")->cursor, 0);
  d.attempts = 2;
  d.delivered = true;
  d.response_status = 200;
  ASSERT_TRUE(hooks_->recordDelivery(d, 3).ok());
  EXPECT_EQ(hooks_->getWebhook("hook1")->cursor, 7);
  auto log = hooks_->listDeliveries("hook1", 10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);  // one row per (webhook, event)
  EXPECT_EQ((*log)[0].attempts, 2);
  EXPECT_TRUE((*log)[0].delivered);

  for (int64_t e = 8; e < 14; ++e) {
    d.event_id = e;
    ASSERT_TRUE(hooks_->recordDelivery(d, 3).ok());
  }
  log = hooks_->listDeliveries("hook1", 10);
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ(*(*log)[0].event_id, 13);
  EXPECT_EQ(hooks_->getWebhook("hook1")->cursor, 13);

  ASSERT_TRUE(hooks_->deleteWebhook("hook1").ok());
  EXPECT_EQ(hooks_->recordDelivery(d, 3).code(), Code::kNotFound);
  EXPECT_EQ(hooks_->listDeliveries("hook1", 10)->size(), 0u);
}

TEST_P(WebhookStoreTest, PruneKeepsEventsAWebhookStillNeeds) {
  for (int i = 0; i < 3; ++i) {
    auto push = manifest("a", R"({"schemaVersion":2,"i":)" + std::to_string(i) + "}");
    push.event = event("push", "a");
    push.event->created_at = 100;
    ASSERT_TRUE(meta_->putManifest(push).ok());
  }
  auto ids = all();
  ASSERT_EQ(ids.size(), 3u);
  WebhookRecord w;
  w.name = "hook1";
  w.uri = "http://example.test/";
  w.actions = {"push"};
  ASSERT_TRUE(hooks_->createWebhook(w).ok());
  // hook1's cursor starts at the newest event.
  ASSERT_TRUE(hooks_->pruneEvents(50).ok());  // all newer than 50: nothing goes
  EXPECT_EQ(all().size(), 3u);
  ASSERT_TRUE(hooks_->pruneEvents(200).ok());
  EXPECT_EQ(all().size(), 0u);  // the only webhook is past all of them
  auto push = manifest("a", R"({"schemaVersion":2,"i":9})");
  push.event = event("push", "a");
  push.event->created_at = 100;
  ASSERT_TRUE(meta_->putManifest(push).ok());
  ASSERT_TRUE(hooks_->pruneEvents(200).ok());
  EXPECT_EQ(all().size(), 1u);  // hook1 has not delivered it yet
}

INSTANTIATE_TEST_SUITE_P(Drivers, WebhookStoreTest, allStores(), storeFactoryName);

}  // namespace
}  // namespace berth::meta::testing
