#pragma once
// ChangeFeed on PostgreSQL (PgMetaStore::changeFeed). Triggers fill table `changes` and
// NOTIFY berth_changes (pg_schema.cpp, v3); this node's listener thread, on a connection
// of its own, LISTENs, reads the changes past the last one it handled, runs the handlers,
// and records its progress and heartbeat in table `nodes` (NOTIFY berth_acks). Writers
// wait for the acks of every live node (awaitPropagation).
//
// Why a node is never waited for while its caches are trusted: a round (read changes,
// handle them, record progress and heartbeat) that began at t extends the trust to
// t + trust_for, and writers wait for any node whose heartbeat is younger than live_for
// (> trust_for), on the server's clock. A node that stops beating stops trusting its
// caches before writers stop waiting for it.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "meta/change_feed.h"

namespace berth::meta {

namespace pg_detail {
class Connection;
class Database;
}  // namespace pg_detail

class PgChangeFeed : public ChangeFeed {
 public:
  PgChangeFeed(std::shared_ptr<pg_detail::Database> db, std::string node, ChangeFeedOptions options);
  ~PgChangeFeed() override;
  PgChangeFeed(const PgChangeFeed&) = delete;
  PgChangeFeed& operator=(const PgChangeFeed&) = delete;

  Status start(ChangeHandlers handlers) override;
  void stop() override;
  void awaitPropagation() override;
  const std::string& node() const override { return node_; }

  // The application_name of the listener's connection (tests find its backend by it).
  static constexpr const char* kApplicationName = "berth-change-feed";

 private:
  void run();
  // One connection's life: join the fleet, then rounds until the connection is lost or
  // the feed stops.
  Status session(pg_detail::Connection& c);
  // Reads and handles the changes past seen_, then records progress and heartbeat.
  Status round(pg_detail::Connection& c);
  // Waits up to `d` for notifications; `changed` is set if a change was notified.
  Status await(pg_detail::Connection& c, std::chrono::milliseconds d, bool& changed);
  Status prune(pg_detail::Connection& c);
  void pause(std::chrono::milliseconds d);

  std::shared_ptr<pg_detail::Database> db_;
  const std::string node_;
  const ChangeFeedOptions options_;
  ChangeHandlers handlers_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;  // stop() ran
  // The listener thread's own.
  int64_t seen_ = 0;  // the last change handled
  std::chrono::steady_clock::time_point pruned_at_{};
  // Acks seen by the listener (berth_acks notifications): awaitPropagation waits on them.
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t acks_ = 0;  // guarded by mu_
};

}  // namespace berth::meta
