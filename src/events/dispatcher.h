#pragma once
// Dispatcher: delivers outbox events to webhooks, at least once and in event-id order per
// webhook. One worker thread per enabled webhook (at most max_workers), each walking the
// events after its webhook's durable cursor: an event the webhook does not want (wants())
// just advances the cursor; a wanted one is POSTed until a 2xx answer (then the cursor
// advances in the same transaction as the delivery record), retrying with exponential
// backoff plus jitter. A slow or dead receiver holds back only its own worker. After a
// restart every worker resumes from its cursor.
#include <atomic>
#include <chrono>
#include <functional>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "events/event_payload.h"
#include "meta/webhook_store.h"

namespace berth::events {

struct DispatcherOptions {
  size_t max_workers = 64;
  std::chrono::milliseconds poll{2000};            // backstop when no notify() comes
  std::chrono::milliseconds first_backoff{1000};   // doubles per failed attempt
  std::chrono::milliseconds max_backoff{300000};
  long timeout_seconds = 10;                        // connect and whole request
  size_t keep_deliveries = 1000;                    // delivery log rows per webhook
  size_t batch = 100;                               // events read per query
  std::chrono::seconds keep_events{3600};           // delivered events kept this long
  std::chrono::seconds prune_every{600};
  // Whether this node delivers now (a fleet delivers from one node, the holder of the
  // "webhooks" lease); unset: always.
  std::function<bool()> active;
  // This replica's region (replication.region); "" when replication is off.
  std::string region;
};

// Whether the dispatcher of the replica in `region` delivers `event` to `webhook`: the
// webhook's actions and scope match, and
//  - the webhook names no region: the write was made here (the event's origin is `region`,
//    or none), so each change fires it once in all, where it was made; without replication
//    (`region` "") every event is made here;
//  - the webhook names region X: this replica is X. Then every event here fires it,
//    replicated arrivals included, and every other replica passes it by.
bool wants(const meta::WebhookRecord& webhook, const meta::EventRecord& event,
           std::string_view region);

class Dispatcher {
 public:
  Dispatcher(std::shared_ptr<meta::WebhookStore> store, DispatcherOptions options = {});
  ~Dispatcher();  // stop()
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts a worker per enabled webhook. Call again (reload) after webhooks changed: the
  // workers are stopped (a request in flight is abandoned, to be sent again) and
  // started from the stored configuration and cursors.
  Status reload();
  // Events were committed: wake the idle workers. Cheap; callable from any thread.
  void notify();
  // Stops and joins every worker and the janitor.
  void stop();

  // Sends a ping to the webhook now, whether enabled or not (blocks up to the timeout)
  // and logs it. kNotFound if there is no such webhook.
  Result<meta::DeliveryRecord> ping(std::string_view name, const RequestInfo& request);

  meta::WebhookStore& store() { return *store_; }

  // For /metrics. Deliveries answered 2xx, and attempts that failed (each retry counts).
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t failedAttempts() const { return failed_attempts_.load(std::memory_order_relaxed); }
  // Events the enabled webhooks have not got past yet (delivered or skipped as not
  // matching), summed over the webhooks. Reads the store: call it off the I/O threads.
  Result<uint64_t> queueDepth();

 private:
  struct Worker {
    meta::WebhookRecord webhook;
    std::atomic<int64_t> cursor{0};  // the last event this worker is done with
    std::atomic<bool> stop{false};
    std::thread thread;
  };
  void run(Worker& w);
  // Delivers one matching event until it succeeds or the worker stops; false if stopped.
  bool deliver(Worker& w, const meta::EventRecord& event);
  // One POST; fills the request/response fields of `d`. Abandoned when *cancel turns true.
  void attempt(const meta::WebhookRecord& webhook, const std::string& acr_payload,
               meta::DeliveryRecord& d, const std::atomic<bool>* cancel);
  // Waits up to `d`; true if the worker must stop. Wakes early on notify() if `on_event`.
  bool sleep(Worker& w, std::chrono::milliseconds d, bool on_event);
  void stopWorkers();
  void prune();  // the janitor thread: old events every webhook is done with

  std::shared_ptr<meta::WebhookStore> store_;
  DispatcherOptions options_;
  std::mutex reload_mu_;  // serializes reload/stop
  std::vector<std::unique_ptr<Worker>> workers_;  // guarded by reload_mu_
  std::mutex mu_;  // guards generation_ with cv_
  std::condition_variable cv_;
  uint64_t generation_ = 0;  // bumped by notify() and stopWorkers()
  bool stopping_ = false;    // guarded by mu_: ends the janitor
  std::thread janitor_;      // started by the first reload()
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_attempts_{0};
};

}  // namespace berth::events
