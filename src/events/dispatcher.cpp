#include "events/dispatcher.h"

#include <boost/json.hpp>
#include <random>

#include "cli/http_client.h"
#include "common/log.h"
#include "common/text.h"

namespace berth::events {

namespace json = boost::json;

namespace {

constexpr size_t kMaxResponseBody = 4096;

std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // +0..25 % so that webhooks failing together do not retry in lockstep.
  std::uniform_int_distribution<int64_t> dist(0, d.count() / 4);
  return d + std::chrono::milliseconds(dist(rng));
}

}  // namespace

bool wants(const meta::WebhookRecord& webhook, const meta::EventRecord& event,
           std::string_view region) {
  if (!actionMatches(webhook.actions, event.action) ||
      !scopeMatches(webhook.scope, event.repository, event.tag)) {
    return false;
  }
  if (!webhook.region.empty()) return webhook.region == region;
  return region.empty() || event.version.origin.empty() || event.version.origin == region;
}

Dispatcher::Dispatcher(std::shared_ptr<meta::WebhookStore> store, DispatcherOptions options)
    : store_(std::move(store)), options_(std::move(options)) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void Dispatcher::stopWorkers() {
  for (auto& w : workers_) w->stop.store(true);
  notify();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  workers_.clear();
}

void Dispatcher::stop() {
  std::lock_guard lock(reload_mu_);
  stopWorkers();
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (janitor_.joinable()) janitor_.join();
}

void Dispatcher::prune() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.prune_every, [this] { return stopping_; })) {
    lock.unlock();
    const int64_t before = unixNow() - options_.keep_events.count();
    if (auto s = store_->pruneEvents(before); !s) {
      log::warn("cannot prune delivered events", {{"error", s.error().message}});
    }
    lock.lock();
  }
}

Status Dispatcher::reload() {
  std::lock_guard lock(reload_mu_);
  stopWorkers();
  {
    std::lock_guard l(mu_);
    if (stopping_) return makeError(Code::kUnavailable, "webhook delivery is stopped");
  }
  if (!janitor_.joinable()) janitor_ = std::thread([this] { prune(); });
  auto hooks = store_->listWebhooks();
  if (!hooks) return hooks.takeError();
  for (auto& h : *hooks) {
    if (!h.enabled) continue;
    if (workers_.size() >= options_.max_workers) {
      log::warn("too many enabled webhooks; not delivering to this one",
                {{"webhook", h.name}, {"max", std::to_string(options_.max_workers)}});
      continue;
    }
    auto w = std::make_unique<Worker>();
    w->webhook = std::move(h);
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { run(*raw); });
    workers_.push_back(std::move(w));
  }
  return okStatus();
}

bool Dispatcher::sleep(Worker& w, std::chrono::milliseconds d, bool on_event) {
  std::unique_lock lock(mu_);
  const uint64_t seen = generation_;
  cv_.wait_for(lock, d, [&] { return w.stop.load() || (on_event && generation_ != seen); });
  return w.stop.load();
}

Result<uint64_t> Dispatcher::queueDepth() {
  auto last = store_->lastEventId();
  if (!last) return last.takeError();
  std::lock_guard lock(reload_mu_);
  uint64_t depth = 0;
  for (const auto& w : workers_) {
    const int64_t cursor = w->cursor.load(std::memory_order_relaxed);
    if (*last > cursor) depth += static_cast<uint64_t>(*last - cursor);
  }
  return depth;
}

void Dispatcher::run(Worker& w) {
  int64_t cursor = w.webhook.cursor;
  w.cursor.store(cursor, std::memory_order_relaxed);
  while (!w.stop.load()) {
    // Read the generation before the query so a commit in between is not slept through.
    uint64_t seen;
    {
      std::lock_guard lock(mu_);
      seen = generation_;
    }
    if (options_.active && !options_.active()) {  // another node of the fleet delivers
      if (sleep(w, options_.poll, false)) return;
      // When this node takes over, it resumes from where the last holder got to.
      if (auto stored = store_->getWebhook(w.webhook.name); stored) cursor = stored->cursor;
      w.cursor.store(cursor, std::memory_order_relaxed);
      continue;
    }
    auto events = store_->eventsAfter(cursor, options_.batch);
    if (!events) {
      log::warn("webhook cannot read events", {{"webhook", w.webhook.name}, {"error", events.error().message}});
      if (sleep(w, options_.poll, false)) return;
      continue;
    }
    if (events->empty()) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.poll, [&] { return w.stop.load() || generation_ != seen; });
      continue;
    }
    int64_t skipped = 0;  // the last of a run of events this webhook does not want
    for (const auto& e : *events) {
      if (w.stop.load()) return;
      if (!wants(w.webhook, e, options_.region)) {
        skipped = e.id;
        continue;
      }
      if (skipped != 0) {
        if (!store_->advanceCursor(w.webhook.name, skipped)) break;
        skipped = 0;
      }
      if (!deliver(w, e)) return;
      cursor = e.id;
      w.cursor.store(cursor, std::memory_order_relaxed);
    }
    if (skipped != 0) {
      if (auto s = store_->advanceCursor(w.webhook.name, skipped); !s) {
        if (sleep(w, options_.poll, false)) return;
        continue;
      }
      cursor = skipped;
      w.cursor.store(cursor, std::memory_order_relaxed);
    }
  }
}

bool Dispatcher::deliver(Worker& w, const meta::EventRecord& e) {
  meta::DeliveryRecord d;
  d.webhook = w.webhook.name;
  d.event_id = e.id;
  d.action = e.action;
  d.created_at = unixNow();
  auto backoff = options_.first_backoff;
  for (;;) {
    ++d.attempts;
    attempt(w.webhook, e.payload, d, &w.stop);
    if (w.stop.load() && !d.delivered) return false;  // abandoned: not an attempt to log
    d.updated_at = unixNow();
    // Until the record (with the cursor move) commits, the event is not done: a failure
    // to record a success means it is sent again (at least once).
    (d.delivered ? delivered_ : failed_attempts_).fetch_add(1, std::memory_order_relaxed);
    auto s = store_->recordDelivery(d, options_.keep_deliveries);
    if (s && d.delivered) return true;
    if (!s && s.code() == Code::kNotFound) {
      w.stop.store(true);  // the webhook was deleted; reload() will reap this worker
      return false;
    }
    if (d.delivered) {
      log::warn("webhook delivery not recorded; sending again",
                {{"webhook", w.webhook.name}, {"error", s.error().message}});
      d.delivered = false;
    }
    if (sleep(w, jittered(backoff), false)) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void Dispatcher::attempt(const meta::WebhookRecord& webhook, const std::string& acr_payload,
                         meta::DeliveryRecord& d, const std::atomic<bool>* cancel) {
  cli::HttpRequest req;
  req.method = "POST";
  req.url = webhook.uri;
  const bool ce = webhook.format == "cloudevents";
  req.body = ce ? cloudEvent(acr_payload) : acr_payload;
  json::object shown;  // the headers as logged: everything we send, never the secret
  auto add = [&](const std::string& name, const std::string& value) {
    req.headers.push_back(name + ": " + value);
    shown[name] = value;
  };
  add("Content-Type", ce ? "application/cloudevents+json; charset=utf-8"
                         : "application/json; charset=utf-8");
  add("User-Agent", "Berth-Webhook/1.0");
  try {
    auto custom = json::parse(webhook.headers_json);
    if (custom.is_object()) {
      for (const auto& kv : custom.get_object()) {
        if (kv.value().is_string()) add(std::string(kv.key()), std::string(kv.value().get_string()));
      }
    }
  } catch (const std::exception&) {
  }
  if (!webhook.secret.empty()) add("X-Berth-Signature", signature(webhook.secret, req.body));
  d.request_body = req.body;
  d.request_headers = json::serialize(shown);

  cli::HttpOptions options;
  options.connect_timeout_seconds = options_.timeout_seconds;
  options.timeout_seconds = options_.timeout_seconds;
  options.cancel = cancel;  // reload and shutdown do not wait for a slow receiver
  options.max_body = kMaxResponseBody;
  auto res = cli::HttpClient(options).send(req);
  if (!res) {
    d.delivered = false;
    d.response_status = 0;
    d.response_body.clear();
    d.error = res.error().message;
    return;
  }
  d.response_status = res->status;
  d.response_body = std::move(res->body);
  d.delivered = res->status >= 200 && res->status < 300;
  d.error = d.delivered ? "" : "HTTP " + std::to_string(res->status);
}

Result<meta::DeliveryRecord> Dispatcher::ping(std::string_view name, const RequestInfo& request) {
  auto webhook = store_->getWebhook(name);
  if (!webhook) return webhook.takeError();
  meta::DeliveryRecord d;
  d.webhook = webhook->name;
  d.action = "ping";
  d.attempts = 1;
  d.created_at = unixNow();
  attempt(*webhook, pingPayload(request, newUuid(), d.created_at), d, nullptr);
  d.updated_at = unixNow();
  if (auto s = store_->recordDelivery(d, options_.keep_deliveries); !s) return s.takeError();
  return d;
}

}  // namespace berth::events
