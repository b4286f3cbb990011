#pragma once
// PgWebhookStore: the WebhookStore on the same PostgreSQL database as the PgMetaStore
// (tables events, webhooks, webhook_deliveries). Get one with PgMetaStore::webhookStore().
#include <memory>

#include "meta/webhook_store.h"

namespace berth::meta {

namespace pg_detail {
class Database;
}  // namespace pg_detail

class PgWebhookStore : public WebhookStore {
 public:
  explicit PgWebhookStore(std::shared_ptr<pg_detail::Database> db);
  ~PgWebhookStore() override;

  Status createWebhook(const WebhookRecord& webhook) override;
  Status updateWebhook(const WebhookRecord& webhook) override;
  Status deleteWebhook(std::string_view name) override;
  Result<WebhookRecord> getWebhook(std::string_view name) override;
  Result<std::vector<WebhookRecord>> listWebhooks() override;
  Result<std::vector<EventRecord>> eventsAfter(int64_t after, size_t n) override;
  Result<int64_t> lastEventId() override;
  Status pruneEvents(int64_t before) override;
  Status advanceCursor(std::string_view webhook, int64_t event_id) override;
  Status recordDelivery(const DeliveryRecord& delivery, size_t keep) override;
  Result<std::vector<DeliveryRecord>> listDeliveries(std::string_view webhook, size_t n) override;

 private:
  std::shared_ptr<pg_detail::Database> db_;
};

}  // namespace berth::meta
