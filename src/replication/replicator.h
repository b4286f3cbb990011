#pragma once
// Replicator: this replica's side of geo-replication (docs/replication.md).
//  - Writes made here get a version (setVersionClock on the Registry) and are journaled by
//    the MetaStore in their transaction.
//  - One thread per peer reads the peer's journal from the cursor stored here (pull, in
//    pages), fetches what a manifest needs (blobs, index children) before the manifest
//    is made visible, and applies each write through the Registry, newest-wins by
//    version; the cursor moves only past applied writes, so a restart (even kill -9)
//    resumes where it stopped and re-applies at most a page, which is idempotent.
//  - A write that loses to a newer one is recorded (audit "conflict", and the log); its
//    manifest stays reachable by digest.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "events/audit_log.h"
#include "meta/meta_store.h"
#include "meta/replication_store.h"
#include "registry/registry.h"
#include "replication/clock.h"
#include "replication/entity_sync.h"
#include "replication/journal_page.h"
#include "replication/peer_auth.h"

namespace berth::replication {

struct PeerConfig {
  std::string region;
  std::string url;  // http(s)://host:port of the peer's Berth
};

struct ReplicatorOptions {
  std::string region;
  std::vector<PeerConfig> peers;
  std::chrono::milliseconds poll{200};  // between reads of an idle peer's journal
  size_t page = 200;                    // journal entries per read
  std::chrono::seconds journal_keep{24 * 3600};       // journal rows every peer read stay this long
  std::chrono::seconds tombstone_keep{30 * 24 * 3600};  // how long a delete outvotes late pushes
};

// What GET /api/v1/replication says of one peer.
struct PeerStatus {
  std::string region;
  std::string url;
  std::string state = "starting";  // "starting", "synced", "catching_up", "unreachable", "error"
  std::string last_error;
  int64_t applied = 0;            // the peer's last journal id applied here
  int64_t pending_operations = 0;  // its journal entries not applied here yet
  uint64_t pending_bytes = 0;      // blob bytes of the page being applied still to fetch
  double lag_seconds = 0;          // age of the oldest write not applied here (0 when synced)
  int64_t read = 0;                // our last journal id the peer has applied
  int64_t last_contact = 0;        // unix seconds of the last successful read
  uint64_t applied_total = 0;      // writes applied since start
  uint64_t bytes_total = 0;        // blob bytes fetched since start
  uint64_t conflicts_total = 0;
};

class Replicator {
 public:
  // `config_changed`: called after configuration entities arrived from a peer
  // (identities, settings, webhooks, ...: the identity view and the webhooks reload).
  Replicator(registry::Registry& registry, std::shared_ptr<PeerAuth> auth, ReplicatorOptions options,
             events::AuditLog* audit, std::function<void()> config_changed);
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // Starts one thread per peer (and gives the Registry its clock).
  void start();
  // Replicas created at run time (docs/replication.md): every replica learns them (they
  // are settings, which replicate) and reads from them as from the peers of its config.
  // kInvalidArgument: a bad region name or URL; kConflict: this replica's own region or
  // one it has already.
  Status createReplica(const std::string& region, const std::string& url);
  // kNotFound: no such replica; kConflict: a peer of this replica's config file.
  Status deleteReplica(const std::string& region);
  void stop();

  const std::string& region() const { return options_.region; }
  const PeerAuth& auth() const { return *auth_; }
  HybridClock& clock() { return clock_; }
  // Each peer's state, with the cursors as stored (reads the database).
  std::vector<PeerStatus> status();
  const ReplicatorOptions& options() const { return options_; }
  // The regions of the peers read now (configured, and created at run time).
  std::vector<std::string> peerRegions() const;

  // Serving a peer: the page of our journal after `after` (which the peer has applied)
  // as JSON, with the manifests' bytes inline.
  Result<std::string> journalPage(const std::string& peer, int64_t after, size_t limit);
  // Serving a peer that fills itself: this replica's tags and untagged manifests as
  // pushes with their versions, whole repositories after `after` (a name) until about
  // `limit` entries; the page's `last` is the journal's head before the read, its `next`
  // the repository to continue after ("" when done).
  Result<std::string> snapshotPage(const std::string& after, size_t limit);
  // Serving a peer: the configuration entities with their versions (EntitySync).
  Result<std::string> entities() { return entities_->exportState(); }

 private:
  struct Peer {
    PeerConfig config;
    PeerStatus status;      // guarded by mu_
    bool stopped = false;   // removed (guarded by mu_)
    std::thread thread;
    std::map<std::string, std::string> inline_blobs;  // of the page being applied, by digest
    bool filled = false;    // this process has copied the peer's content (fill)
  };
  // The peers wanted now: the config's and those created at run time (settings). Starts
  // the new ones' threads, stops the removed ones' (forgetting their cursors), and tells
  // PeerAuth whom to accept.
  void refreshPeers();
  void supervise();  // refreshes the peers when the settings change
  void run(Peer& peer);
  // Reads and applies one page; true when there may be more right away.
  bool pullOnce(Peer& peer);
  // A replica that never applied anything of the peer (new to it, or one that turned
  // replication on with content of its own) first copies the peer's content (fill), then
  // reads the peer's journal from its start (the deletes a copy cannot show; re-applying
  // what the copy brought is a no-op).
  bool needsFill(Peer& peer);
  // Records why the peer was not read (its state and last error); false.
  bool failed(Peer& peer, const std::string& state, const Error& e);
  bool fillOnce(Peer& peer);
  Status fill(Peer& peer);
  // Applies one entry of a page. An error means stop and try again later (the peer or
  // this replica's storage is out of reach, or the peer's clock is off); a write that
  // fails for reasons of its own (a lock, bad bytes) is recorded and passed over.
  Status applyEntry(Peer& peer, const PageEntry& e);
  Status apply(Peer& peer, const PageEntry& e);
  Status applyPush(Peer& peer, const PageEntry& e, const meta::Version& version);
  Status applyRepositoryDelete(const std::string& repository, const meta::Version& version,
                               const events::RequestInfo& info);
  Status ensureBlob(Peer& peer, const std::string& repository, const oci::Digest& digest);
  Status ensureManifest(Peer& peer, const std::string& repository, const oci::Digest& digest,
                        const meta::Version& version, int depth);
  Status putReplicated(Peer& peer, const std::string& repository, const std::string& tag, const oci::Digest& digest,
                       const std::string& media_type, std::string bytes, const meta::Version& version,
                       const meta::Version& previous);
  // GET from the peer, signed. `sink` takes a 2xx body as it arrives.
  Result<std::string> get(Peer& peer, const std::string& target,
                          const std::function<bool(std::string_view)>& sink = nullptr);
  void conflict(Peer& peer, const std::string& repository, const std::string& tag, const std::string& kept,
                const meta::Version& kept_version, const std::string& lost, const meta::Version& lost_version);
  void pruneJournal();
  // Reads the peer's configuration entities and merges the newer ones.
  void syncEntities(Peer& peer);
  void record(const std::string& peer, const std::string& action, const std::string& message);

  registry::Registry& registry_;
  meta::MetaStore& meta_;
  std::unique_ptr<meta::ReplicationStore> store_;
  std::shared_ptr<PeerAuth> auth_;
  ReplicatorOptions options_;
  events::AuditLog* audit_;
  HybridClock clock_;
  std::unique_ptr<meta::IdentityStore> identities_;
  std::unique_ptr<EntitySync> entities_;
  std::function<void()> config_changed_;
  std::vector<std::unique_ptr<Peer>> peers_;  // guarded by mu_
  std::thread supervisor_;
  std::mutex refresh_mu_;  // one refreshPeers at a time
  int64_t settings_generation_ = -1;  // of the identity store, when the peers were last refreshed
  std::chrono::steady_clock::time_point next_prune_{};
  bool started_ = false;
  mutable std::mutex mu_;  // guards the peers, their status, next_prune_, started_ and stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace berth::replication
