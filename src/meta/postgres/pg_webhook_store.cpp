#include "meta/postgres/pg_webhook_store.h"

#include "meta/postgres/pg_db.h"

namespace berth::meta {

using pg_detail::Connection;
using pg_detail::Stmt;

namespace {

std::string joinActions(const std::vector<std::string>& actions) {
  std::string out;
  for (const auto& a : actions) {
    if (!out.empty()) out += ',';
    out += a;
  }
  return out;
}

std::vector<std::string> splitActions(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

WebhookRecord webhookRow(const Stmt& s) {
  WebhookRecord w;
  w.name = s.text(0);
  w.uri = s.text(1);
  w.headers_json = s.text(2);
  w.actions = splitActions(s.text(3));
  w.scope = s.text(4);
  w.enabled = s.int64(5) != 0;
  w.format = s.text(6);
  w.secret = s.text(7);
  w.cursor = s.int64(8);
  w.created_at = s.int64(9);
  w.updated_at = s.int64(10);
  w.region = s.text(11);
  return w;
}

Status validate(const WebhookRecord& w) {
  if (w.name.empty() || w.uri.empty()) {
    return makeError(Code::kInvalidArgument, "a webhook needs a name and a service URI");
  }
  if (w.format != "acr" && w.format != "cloudevents") {
    return makeError(Code::kInvalidArgument, "webhook format must be acr or cloudevents");
  }
  for (const auto& a : w.actions) {
    if (a.empty() || a.find(',') != std::string::npos) {
      return makeError(Code::kInvalidArgument, "webhook actions must be non-empty without ','");
    }
  }
  return okStatus();
}

}  // namespace

PgWebhookStore::PgWebhookStore(std::shared_ptr<pg_detail::Database> db)
    : db_(std::move(db)) {}
PgWebhookStore::~PgWebhookStore() = default;

Status PgWebhookStore::createWebhook(const WebhookRecord& w) {
  if (auto s = validate(w); !s) return s;
  return db_->write([&](Connection& c) -> Status {
    auto stmt = c.prepare(
        "INSERT INTO webhooks(name, uri, headers, actions, scope, enabled, format, secret,"
        " region, cursor, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " (SELECT COALESCE(MAX(id), 0) FROM events), ?, ?) ON CONFLICT(name) DO NOTHING");
    if (!stmt) return stmt.takeError();
    const int64_t t = w.created_at != 0 ? w.created_at : pg_detail::now();
    auto s = stmt->bind(w.name)
                 .bind(w.uri)
                 .bind(w.headers_json)
                 .bind(joinActions(w.actions))
                 .bind(w.scope)
                 .bind(int64_t{w.enabled ? 1 : 0})
                 .bind(w.format)
                 .bind(w.secret)
                 .bind(w.region)
                 .bind(t)
                 .bind(w.updated_at != 0 ? w.updated_at : t)
                 .run();
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kConflict, "a webhook with this name exists");
    return okStatus();
  });
}

Status PgWebhookStore::updateWebhook(const WebhookRecord& w) {
  if (auto s = validate(w); !s) return s;
  return db_->write([&](Connection& c) -> Status {
    auto stmt = c.prepare(
        "UPDATE webhooks SET uri = ?, headers = ?, actions = ?, scope = ?, enabled = ?,"
        " format = ?, secret = ?, region = ?, updated_at = ? WHERE name = ?");
    if (!stmt) return stmt.takeError();
    auto s = stmt->bind(w.uri)
                 .bind(w.headers_json)
                 .bind(joinActions(w.actions))
                 .bind(w.scope)
                 .bind(int64_t{w.enabled ? 1 : 0})
                 .bind(w.format)
                 .bind(w.secret)
                 .bind(w.region)
                 .bind(w.updated_at != 0 ? w.updated_at : pg_detail::now())
                 .bind(w.name)
                 .run();
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kNotFound, "webhook not found");
    return okStatus();
  });
}

Status PgWebhookStore::deleteWebhook(std::string_view name) {
  return db_->write([&](Connection& c) -> Status {
    auto s = pg_detail::execute(c, "DELETE FROM webhooks WHERE name = ?", name);
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kNotFound, "webhook not found");
    return okStatus();
  });
}

Result<WebhookRecord> PgWebhookStore::getWebhook(std::string_view name) {
  return db_->read([&](Connection& c) -> Result<WebhookRecord> {
    auto stmt = c.prepare(
        "SELECT name, uri, headers, actions, scope, enabled, format, secret, cursor,"
        " created_at, updated_at, region FROM webhooks WHERE name = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(name).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kNotFound, "webhook not found");
    return webhookRow(*stmt);
  });
}

Result<std::vector<WebhookRecord>> PgWebhookStore::listWebhooks() {
  return db_->read([&](Connection& c) -> Result<std::vector<WebhookRecord>> {
    auto stmt = c.prepare(
        "SELECT name, uri, headers, actions, scope, enabled, format, secret, cursor,"
        " created_at, updated_at, region FROM webhooks ORDER BY name");
    if (!stmt) return stmt.takeError();
    return stmt->collect(webhookRow);
  });
}

Result<int64_t> PgWebhookStore::lastEventId() {
  return db_->read([&](Connection& c) -> Result<int64_t> {
    // The sequence keeps the highest id ever used, also after the rows are pruned. It is
    // not transactional: waiting for the appenders' lock (appendEvent) first means every id
    // up to its value has committed (or will never exist).
    if (auto s = pg_detail::lockEvents(c); !s) return s.takeError();
    auto stmt = c.prepare(
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_id_seq");
    if (!stmt) return stmt.takeError();
    auto row = stmt->step();
    if (!row) return row.takeError();
    return *row ? stmt->int64(0) : int64_t{0};
  });
}

Result<std::vector<EventRecord>> PgWebhookStore::eventsAfter(int64_t after, size_t n) {
  return db_->read([&](Connection& c) -> Result<std::vector<EventRecord>> {
    auto stmt = c.prepare(
        "SELECT id, created_at, action, repository, tag, digest, media_type, size, payload, origin"
        " FROM events WHERE id > ? ORDER BY id LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(after).bindLimit(n);
    return stmt->collect([](Stmt& row) {
      EventRecord e;
      e.id = row.int64(0);
      e.created_at = row.int64(1);
      e.action = row.text(2);
      e.repository = row.text(3);
      e.tag = row.text(4);
      e.digest = row.text(5);
      e.media_type = row.text(6);
      e.size = row.uint64(7);
      e.payload = row.text(8);
      e.version.origin = row.text(9);
      return e;
    });
  });
}

Status PgWebhookStore::pruneEvents(int64_t before) {
  return db_->write([&](Connection& c) -> Status {
    return pg_detail::execute(
        c,
        "DELETE FROM events WHERE created_at < ?1 AND id <= COALESCE("
        "(SELECT MIN(cursor) FROM webhooks), (SELECT MAX(id) FROM events))",
        before);
  });
}

namespace {
Status moveCursor(Connection& c, std::string_view webhook, int64_t event_id) {
  auto s = pg_detail::execute(
      c, "UPDATE webhooks SET cursor = GREATEST(cursor, ?) WHERE name = ?", event_id, webhook);
  if (!s) return s;
  if (c.changes() == 0) return makeError(Code::kNotFound, "webhook not found");
  return okStatus();
}
}  // namespace

Status PgWebhookStore::advanceCursor(std::string_view webhook, int64_t event_id) {
  return db_->write([&](Connection& c) -> Status { return moveCursor(c, webhook, event_id); });
}

Status PgWebhookStore::recordDelivery(const DeliveryRecord& d, size_t keep) {
  return db_->write([&](Connection& c) -> Status {
    {
      auto found = c.prepare("SELECT 1 FROM webhooks WHERE name = ?");
      if (!found) return found.takeError();
      auto row = found->bind(d.webhook).step();
      if (!row) return row.takeError();
      if (!*row) return makeError(Code::kNotFound, "webhook not found");
    }
    if (d.delivered && d.event_id) {
      if (auto s = moveCursor(c, d.webhook, *d.event_id); !s) return s;
    }
    auto stmt = c.prepare(
        "INSERT INTO webhook_deliveries(webhook, event_id, action, attempts, delivered, error,"
        " request_headers, request_body, response_status, response_body, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(webhook, event_id) DO UPDATE SET attempts = excluded.attempts,"
        " delivered = excluded.delivered, error = excluded.error,"
        " request_headers = excluded.request_headers, request_body = excluded.request_body,"
        " response_status = excluded.response_status, response_body = excluded.response_body,"
        " updated_at = excluded.updated_at");
    if (!stmt) return stmt.takeError();
    const int64_t t = d.updated_at != 0 ? d.updated_at : pg_detail::now();
    stmt->bind(d.webhook);
    if (d.event_id) {
      stmt->bind(*d.event_id);
    } else {
      stmt->bindNull();
    }
    auto s = stmt->bind(d.action)
                 .bind(d.attempts)
                 .bind(int64_t{d.delivered ? 1 : 0})
                 .bind(d.error)
                 .bind(d.request_headers)
                 .bind(d.request_body)
                 .bind(d.response_status)
                 .bind(d.response_body)
                 .bind(d.created_at != 0 ? d.created_at : t)
                 .bind(t)
                 .run();
    if (!s) return s;
    return pg_detail::execute(
        c,
        "DELETE FROM webhook_deliveries WHERE webhook = ?1 AND id <= (SELECT id FROM"
        " webhook_deliveries WHERE webhook = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        d.webhook, static_cast<int64_t>(keep));
  });
}

Result<std::vector<DeliveryRecord>> PgWebhookStore::listDeliveries(std::string_view webhook,
                                                                       size_t n) {
  return db_->read([&](Connection& c) -> Result<std::vector<DeliveryRecord>> {
    auto stmt = c.prepare(
        "SELECT id, webhook, event_id, action, attempts, delivered, error, request_headers,"
        " request_body, response_status, response_body, created_at, updated_at"
        " FROM webhook_deliveries WHERE webhook = ? ORDER BY updated_at DESC, id DESC LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(webhook).bindLimit(n);
    return stmt->collect([](Stmt& row) {
      DeliveryRecord d;
      d.id = row.int64(0);
      d.webhook = row.text(1);
      if (!row.isNull(2)) d.event_id = row.int64(2);
      d.action = row.text(3);
      d.attempts = row.int64(4);
      d.delivered = row.int64(5) != 0;
      d.error = row.text(6);
      d.request_headers = row.text(7);
      d.request_body = row.text(8);
      d.response_status = row.int64(9);
      d.response_body = row.text(10);
      d.created_at = row.int64(11);
      d.updated_at = row.int64(12);
      return d;
    });
  });
}

}  // namespace berth::meta
