#pragma once
// WebhookStore: webhooks, their delivery cursors and delivery log, and reads of the event
// outbox (the `events` rows MetaStore appends in the transaction of each change).
// Every method is one atomic transaction; safe to call from any thread; may block.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "meta/meta_store.h"

namespace berth::meta {

struct WebhookRecord {
  std::string name;
  std::string uri;                   // http:// or https://
  std::string headers_json = "{}";   // custom headers: a JSON object of strings
  std::vector<std::string> actions;  // "push", "delete", "quarantine"
  std::string scope;                 // "repo:tag" with '*' wildcards; "" = everything
  bool enabled = true;
  std::string format = "acr";        // "acr" or "cloudevents"
  std::string secret;                // "" = unsigned
  // With replication: "" = delivered by the replica where the change was made; a region =
  // delivered only by that replica, for every change there, replicated arrivals included
  // (events::wants has the rule).
  std::string region;
  int64_t cursor = 0;                // last event id this webhook is done with
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// One (webhook, event) delivery with its latest attempt. Pings have no event id.
struct DeliveryRecord {
  int64_t id = 0;
  std::string webhook;
  std::optional<int64_t> event_id;
  std::string action;  // "push", "delete", "ping"
  int64_t attempts = 0;
  bool delivered = false;
  std::string error;            // why the last attempt failed ("" if it got a response)
  std::string request_headers;  // JSON object, without the secret
  std::string request_body;
  int64_t response_status = 0;  // 0: no response
  std::string response_body;    // at most the first 4 KiB
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

class WebhookStore {
 public:
  virtual ~WebhookStore() = default;

  // kConflict if the name is taken. The cursor starts at the newest event, so a new
  // webhook is sent the changes made after it was created, not the history.
  virtual Status createWebhook(const WebhookRecord& webhook) = 0;
  // Replaces everything but name, cursor and created_at; kNotFound if absent.
  virtual Status updateWebhook(const WebhookRecord& webhook) = 0;
  // kNotFound if absent; its delivery log goes with it.
  virtual Status deleteWebhook(std::string_view name) = 0;
  virtual Result<WebhookRecord> getWebhook(std::string_view name) = 0;  // kNotFound
  virtual Result<std::vector<WebhookRecord>> listWebhooks() = 0;        // by name

  // Events with id > after, oldest first, at most n; version.origin as recorded (the
  // outbox keeps no clock reading, so version.hlc is 0 and `replicated` false).
  virtual Result<std::vector<EventRecord>> eventsAfter(int64_t after, size_t n) = 0;
  // The id of the newest event ever appended (0 if none), pruned or not.
  virtual Result<int64_t> lastEventId() = 0;

  // Deletes events created before `before` (unix seconds) that every webhook is done
  // with (id <= the smallest cursor; disabled webhooks hold theirs). All such events when
  // there are no webhooks.
  virtual Status pruneEvents(int64_t before) = 0;

  // Moves the webhook's cursor forward to event_id (never backward). kNotFound if the
  // webhook is gone.
  virtual Status advanceCursor(std::string_view webhook, int64_t event_id) = 0;
  // Records an attempt (inserting or updating the (webhook, event) row, keeping the first
  // created_at), and when it was delivered moves the cursor to its event in the same
  // transaction. Keeps the newest `keep` rows of the webhook. kNotFound if it is gone.
  virtual Status recordDelivery(const DeliveryRecord& delivery, size_t keep) = 0;
  // The webhook's delivery log, newest first, at most n.
  virtual Result<std::vector<DeliveryRecord>> listDeliveries(std::string_view webhook,
                                                             size_t n) = 0;
};

}  // namespace berth::meta
