#include "replication/replicator.h"

#include "cli/admin_client.h"
#include "common/log.h"

#include <boost/json.hpp>

#include <map>
#include <set>

#include "common/text.h"
#include "meta/retention_store.h"
#include "oci/manifest.h"
#include "replication/json_fields.h"
#include "storage/http/crypto.h"
#include "storage/http/http_client.h"

namespace berth::replication {

namespace json = boost::json;
namespace http = storage::http;

namespace {

// Errors worth trying again later (the cursor stays): the peer or this replica's storage
// or database is out of reach for now. Anything else is the write's own fault here (a
// lock, a quota, bad bytes): recorded and passed over, so one write cannot stop the rest.
constexpr long kPageTimeoutSeconds = 30;

bool retryable(Code code) {
  return code == Code::kUnavailable || code == Code::kStorageFull || code == Code::kIoError ||
         code == Code::kInternal || code == Code::kTooManyRequests;
}

std::string versionText(const meta::Version& v) {
  return v.origin + "@" + std::to_string(HybridClock::millis(v.hlc)) + "." +
         std::to_string(v.hlc & ((1 << HybridClock::kCounterBits) - 1));
}

// The request a write arriving from `peer` is recorded with (events, audit).
events::RequestInfo replicatedRequest(const std::string& peer, const meta::Version& version, std::string method) {
  events::RequestInfo info;
  info.id = newUuid();
  info.host = peer;
  info.method = std::move(method);
  info.user_agent = "berth-replication";
  info.actor = "replica:" + peer;
  info.replicated = version;
  return info;
}

// An audit entry of replication's own: what a peer's write did here.
struct AuditNote {
  std::string peer;  // "" when no one peer (configuration merges)
  std::string action;
  std::string result;
  std::string message;
  std::string repository = {};
  std::string tag = {};
  std::string digest = {};
  std::string method = {};
};

void audit(events::AuditLog* log, const AuditNote& n) {
  if (log == nullptr) return;
  meta::AuditRecord r;
  r.identity = n.peer.empty() ? "replication" : "replica:" + n.peer;
  r.action = n.action;
  r.repository = n.repository;
  r.tag = n.tag;
  r.digest = n.digest;
  r.method = n.method;
  r.result = n.result;
  r.message = n.message;
  log->record(r);
}

}  // namespace


Replicator::Replicator(registry::Registry& registry, std::shared_ptr<PeerAuth> auth, ReplicatorOptions options,
                       events::AuditLog* audit, std::function<void()> config_changed)
    : registry_(registry),
      meta_(registry.metaStore()),
      store_(meta_.replicationStore()),
      auth_(std::move(auth)),
      options_(std::move(options)),
      audit_(audit),
      identities_(meta_.identityStore()),
      config_changed_(std::move(config_changed)) {
  entities_ = std::make_unique<EntitySync>(meta_, *identities_, *store_, clock_, options_.region,
                                           [this](const std::string& message) { record("", "conflict", message); });
}

Replicator::~Replicator() { stop(); }

void Replicator::start() {
  registry_.setVersionClock([this] { return meta::Version{clock_.now(), options_.region}; }, options_.region);
  // Readings continue above the newest write journaled here (a restart with a clock set back).
  if (auto last = store_->lastJournalId(); last && *last > 0) {
    if (auto rows = store_->journalAfter(*last - 1, 1); rows && !rows->empty()) clock_.observe(rows->front().hlc);
  }
  {
    std::lock_guard lock(mu_);
    started_ = true;
  }
  refreshPeers();
  supervisor_ = std::thread([this] { supervise(); });
}

void Replicator::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  std::vector<std::unique_ptr<Peer>> peers;
  {
    std::lock_guard lock(mu_);
    peers.swap(peers_);
  }
  for (auto& p : peers) {
    if (p->thread.joinable()) p->thread.join();
  }
}

std::vector<PeerStatus> Replicator::status() {
  auto cursors = store_->peers();
  std::lock_guard lock(mu_);
  std::vector<PeerStatus> out;
  for (const auto& p : peers_) {
    out.push_back(p->status);
    if (!cursors) continue;
    for (const auto& c : *cursors) {
      if (c.region == p->config.region) out.back().read = c.read;
    }
  }
  return out;
}

void Replicator::run(Peer& peer) {
  auto next_entities = std::chrono::steady_clock::now();
  std::chrono::milliseconds backoff{0};
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || peer.stopped) return;
    }
    const bool more = !peer.filled && needsFill(peer) ? fillOnce(peer) : pullOnce(peer);
    if (std::chrono::steady_clock::now() >= next_entities) {
      syncEntities(peer);
      next_entities = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    bool failed = false;
    {
      std::lock_guard lock(mu_);
      failed = peer.status.state == "unreachable" || peer.status.state == "error";
    }
    // A failing peer is asked again after 0.25 s, then less often, up to every 2 s.
    backoff = failed ? std::min<std::chrono::milliseconds>(backoff * 2 + std::chrono::milliseconds(250),
                                                           std::chrono::seconds(2))
                     : std::chrono::milliseconds(0);
    bool prune = false;
    {
      std::lock_guard lock(mu_);
      if (std::chrono::steady_clock::now() >= next_prune_) {
        prune = true;
        next_prune_ = std::chrono::steady_clock::now() + std::chrono::minutes(10);
      }
    }
    if (prune) pruneJournal();
    if (more && !failed) continue;
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, failed ? backoff : options_.poll, [&] { return stopping_ || peer.stopped; });
    if (stopping_ || peer.stopped) return;
  }
}

void Replicator::syncEntities(Peer& peer) {
  auto body = get(peer, "/replication/v1/entities");
  if (!body) return;  // the journal's read says why, in the peer's status
  auto merged = entities_->merge(*body);
  if (!merged) {
    log::warn("replication: configuration not merged", {{"peer", peer.config.region}, {"error", merged.error().message}});
    return;
  }
  if (*merged && config_changed_) config_changed_();
}

void Replicator::record(const std::string& peer, const std::string& action, const std::string& message) {
  log::warn("replication: recorded", {{"peer", peer}, {"action", action}, {"message", message}});
  audit(audit_, {peer, action, "success", message});
}

void Replicator::pruneJournal() {
  std::vector<std::string> regions;
  {
    std::lock_guard lock(mu_);
    for (const auto& p : peers_) regions.push_back(p->config.region);
  }
  const int64_t now = unixNow();
  if (auto s = store_->prune(regions, now - options_.journal_keep.count(), now - options_.tombstone_keep.count()); !s) {
    log::warn("replication: pruning the journal failed", {{"error", s.error().message}});
  }
}

Result<std::string> Replicator::get(Peer& peer, const std::string& target,
                                    const std::function<bool(std::string_view)>& sink) {
  http::Request req;
  req.url = peer.config.url + target;
  const SignedHeaders h = auth_->sign("GET", target, unixNow());
  req.headers = {{std::string(kRegionHeader), h.region},
                 {std::string(kTimeHeader), h.time},
                 {std::string(kSignatureHeader), h.signature}};
  req.sink = sink;
  // Pages and entities are answered within about a second (a long poll's wait): a link
  // that went dark mid-answer is given up on soon, not after the low-speed minute.
  if (!sink) req.timeout_seconds = kPageTimeoutSeconds;
  auto r = http::perform(req);
  if (!r) return makeError(Code::kUnavailable, "replica " + peer.config.region + " at " + peer.config.url +
                                                   " is unreachable: " + r.error().message);
  if (r->status >= 200 && r->status < 300) {
    if (sink) return std::string(r->header("content-type"));
    return std::move(r->body);
  }
  const std::string why = "replica " + peer.config.region + " refused " + target + ": " + cli::serverErrorMessage(r->status, r->body);
  if (r->status == 401) return makeError(Code::kUnauthorized, why);
  if (r->status == 403) return makeError(Code::kDenied, why);
  if (r->status == 404) return makeError(Code::kNotFound, why);
  return makeError(Code::kUnavailable, why);
}

bool Replicator::failed(Peer& peer, const std::string& state, const Error& e) {
  std::lock_guard lock(mu_);
  if (peer.status.last_error != e.message) {
    log::warn("replication: peer not read", {{"peer", peer.config.region}, {"state", state}, {"error", e.message}});
  }
  peer.status.state = state;
  peer.status.last_error = e.message;
  return false;
}

bool Replicator::needsFill(Peer& peer) {
  auto cursor = store_->peer(peer.config.region);
  if (!cursor) return false;  // the journal's read says why
  peer.filled = cursor->applied_at != 0;
  return !peer.filled;
}

bool Replicator::fillOnce(Peer& peer) {
  if (auto s = fill(peer); !s) return failed(peer, s.code() == Code::kUnavailable ? "unreachable" : "error", s.error());
  return true;  // the journal from where the copy began, right away
}

bool Replicator::pullOnce(Peer& peer) {
  auto cursor = store_->peer(peer.config.region);
  auto fail = [&](const std::string& state, const Error& e) { return failed(peer, state, e); };
  if (!cursor) return fail("error", cursor.error());
  const int64_t after = cursor->applied;
  auto body = get(peer, "/replication/v1/journal?after=" + std::to_string(after) +
                            "&limit=" + std::to_string(options_.page) + "&wait=1");
  if (!body) return fail(body.code() == Code::kUnavailable ? "unreachable" : "error", body.error());
  auto page = parsePage(*body);
  if (!page) {
    return fail("error", makeError(Code::kInvalidArgument, "replica " + peer.config.region +
                                                               " sent a malformed journal page: " + page.error().message));
  }
  if (page->region != peer.config.region) {
    return fail("error", makeError(Code::kInvalidArgument, "the replica at " + peer.config.url + " is region " +
                                                               page->region + ", not " + peer.config.region));
  }
  for (const auto& e : page->entries) {
    if (e.id <= after) {
      return fail("error", makeError(Code::kInvalidArgument, "replica " + peer.config.region +
                                                                 " sent a malformed journal page: entry ids must follow the cursor"));
    }
  }
  const std::vector<PageEntry>& entries = page->entries;
  const int64_t last = page->last;
  peer.inline_blobs = std::move(page->blobs);
  {
    std::lock_guard lock(mu_);
    peer.status.last_contact = unixNow();
    peer.status.applied = after;
    peer.status.pending_operations = std::max<int64_t>(0, last - after);
    peer.status.lag_seconds =
        entries.empty() ? 0.0
                        : std::max(0.0, (HybridClock::wallMs() - HybridClock::millis(entries.front().hlc)) / 1000.0);
    peer.status.state = entries.empty() ? "synced" : "catching_up";
    peer.status.last_error.clear();
  }
  int64_t applied = after;
  for (const PageEntry& e : entries) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || peer.stopped) break;
    }
    if (auto s = applyEntry(peer, e); !s) {
      (void)store_->setApplied(peer.config.region, applied, unixNow());
      return fail(s.code() == Code::kUnavailable ? "unreachable" : "error", s.error());
    }
    applied = e.id;
    std::lock_guard lock(mu_);
    peer.status.applied = applied;
    peer.status.pending_operations = std::max<int64_t>(0, last - applied);
    peer.status.lag_seconds = std::max(0.0, (HybridClock::wallMs() - HybridClock::millis(e.hlc)) / 1000.0);
  }
  if (applied != after) {
    if (auto s = store_->setApplied(peer.config.region, applied, unixNow()); !s) return fail("error", s.error());
  }
  std::lock_guard lock(mu_);
  peer.status.pending_bytes = 0;
  if (applied >= last) {
    peer.status.state = "synced";
    peer.status.lag_seconds = 0;
  }
  return entries.size() >= options_.page;
}

Status Replicator::applyEntry(Peer& peer, const PageEntry& e) {
  if (HybridClock::millis(e.hlc) > HybridClock::wallMs() + kMaxSkewSeconds * 1000) {
    return makeError(Code::kDenied, "replica " + peer.config.region + " writes " +
                                        std::to_string((HybridClock::millis(e.hlc) - HybridClock::wallMs()) / 1000) +
                                        " s in this replica's future: its clock is off; nothing more is applied from it until the clocks agree");
  }
  clock_.observe(e.hlc);
  auto s = apply(peer, e);
  if (!s && retryable(s.code())) return s;
  if (!s) {
    log::error("replication: write not applied", {{"peer", peer.config.region},
                                                  {"journal_id", e.id},
                                                  {"op", e.op},
                                                  {"repository", e.repository},
                                                  {"reference", e.tag.empty() ? e.digest : e.tag},
                                                  {"error", s.error().message}});
    audit(audit_, {peer.config.region, "replicate", "failed", s.error().message, e.repository, e.tag, e.digest, e.op});
  }
  std::lock_guard lock(mu_);
  ++peer.status.applied_total;
  return okStatus();
}

Status Replicator::apply(Peer& peer, const PageEntry& e) {
  const meta::Version version{e.hlc, e.origin.empty() ? peer.config.region : e.origin};
  if (e.op == "push") return applyPush(peer, e, version);
  const events::RequestInfo info = replicatedRequest(peer.config.region, version, "DELETE");
  if (e.op == "delete_tag" || e.op == "delete_manifest") {
    oci::Reference ref;
    if (e.op == "delete_tag") {
      ref.value = e.tag;
    } else {
      auto d = oci::Digest::parse(e.digest);
      if (!d) return d.takeError();
      ref.value = *d;
    }
    auto s = registry_.deleteManifest(e.repository, ref, info);
    if (!s && s.code() == Code::kConflict) {
      // The write here is newer: the delete loses (no conflict when that write is a later
      // one of the same replica: the journal read again after a fill).
      std::optional<meta::TagState> held;
      if (!e.tag.empty()) {
        if (auto t = store_->tagState(e.repository, e.tag); t && *t) held = **t;
      }
      if (!held || held->version.origin != version.origin) {
        conflict(peer, e.repository, e.tag, "", {}, "delete of " + (e.tag.empty() ? e.digest : e.tag), version);
      }
      return okStatus();
    }
    if (!s && (s.code() == Code::kManifestUnknown || s.code() == Code::kNameUnknown)) return okStatus();
    return s;
  }
  if (e.op == "delete_repository") return applyRepositoryDelete(e.repository, version, info);
  return makeError(Code::kUnsupported, "unknown journal operation " + e.op + " (is this replica older than its peer?)");
}

Status Replicator::applyRepositoryDelete(const std::string& repository, const meta::Version& version,
                                         const events::RequestInfo& info) {
  // A repository delete removes what was written before it: a tag written later (here, or
  // in a replica the delete had not heard of) stays, and so does its repository.
  auto snapshot = meta_.retentionStore()->snapshot(repository);
  if (!snapshot && snapshot.code() == Code::kNameUnknown) return okStatus();
  if (!snapshot) return snapshot.takeError();
  bool newer = false;
  for (const auto& t : snapshot->tags) {
    auto held = store_->tagState(repository, t.name);
    if (!held) return held.takeError();
    newer = newer || (*held && version < (*held)->version);
  }
  if (!newer) {
    auto s = registry_.deleteRepository(repository, info);
    if (!s && s.code() != Code::kNameUnknown) return s.takeError();
    return okStatus();
  }
  for (const auto& t : snapshot->tags) {
    oci::Reference ref;
    ref.value = t.name;
    // Version-checked by the store: the later tags refuse (kConflict) and stay.
    auto s = registry_.deleteManifest(repository, ref, info);
    if (!s && s.code() != Code::kConflict && s.code() != Code::kManifestUnknown && s.code() != Code::kNameUnknown) {
      return s;
    }
  }
  return okStatus();
}

Status Replicator::applyPush(Peer& peer, const PageEntry& e, const meta::Version& version) {
  // Gone at the peer since: its delete follows in the journal.
  if (!e.manifest) return okStatus();
  auto digest = oci::Digest::parse(e.digest);
  if (!digest) return digest.takeError();
  return putReplicated(peer, e.repository, e.tag, *digest, e.media_type, *e.manifest, version, e.previous);
}

Status Replicator::putReplicated(Peer& peer, const std::string& repository, const std::string& tag,
                                 const oci::Digest& digest, const std::string& media_type, std::string bytes,
                                 const meta::Version& version, const meta::Version& previous) {
  auto parsed = oci::parseManifest(bytes, media_type);
  if (!parsed) return parsed.takeError();
  // Never a broken pull: what the manifest needs is here before the manifest is.
  {
    uint64_t pending = 0;
    if (parsed->config) pending += static_cast<uint64_t>(parsed->config->size);
    for (const auto& l : parsed->layers) pending += l.has_urls ? 0 : static_cast<uint64_t>(l.size);
    std::lock_guard lock(mu_);
    peer.status.pending_bytes = pending;
  }
  if (parsed->config) {
    if (auto s = ensureBlob(peer, repository, parsed->config->digest); !s) return s;
  }
  for (const auto& l : parsed->layers) {
    if (l.has_urls) continue;
    if (auto s = ensureBlob(peer, repository, l.digest); !s) return s;
  }
  for (const auto& m : parsed->manifests) {
    if (auto s = ensureManifest(peer, repository, m.digest, version, 0); !s) return s;
  }
  const events::RequestInfo info = replicatedRequest(peer.config.region, version, "PUT");
  std::optional<meta::TagState> before;
  if (!tag.empty()) {
    auto held = store_->tagState(repository, tag);
    if (!held) return held.takeError();
    before = *held;
  }
  oci::Reference ref;
  if (tag.empty()) {
    ref.value = digest;
  } else {
    ref.value = tag;
  }
  auto r = registry_.putManifest(repository, ref, media_type, bytes, info);
  if (!r && r.code() == Code::kConflict && !tag.empty()) {
    // The tag here was written (or deleted) later: it stays; the incoming manifest is kept
    // by digest, untagged, so the losing write is still reachable. A later write of the
    // same replica is no conflict: the journal read again after a fill brings old news.
    auto now_held = store_->tagState(repository, tag);
    const meta::Version held = now_held && *now_held ? (*now_held)->version : meta::Version{};
    if (held.origin != version.origin) {
      conflict(peer, repository, tag, now_held && *now_held ? (*now_held)->digest.str() : "(deleted)", held, digest.str(),
               version);
    }
    ref.value = digest;
    r = registry_.putManifest(repository, ref, media_type, std::move(bytes), info);
  }
  if (!r && r.code() == Code::kConflict) return okStatus();  // deleted here later
  if (!r) return r.takeError();
  if (before && before->digest != digest && before->version != previous && before->version < version) {
    // Concurrent writes to the tag: the peer's wins here; ours is the loser.
    conflict(peer, repository, tag, digest.str(), version, before->digest.str(), before->version);
  }
  return okStatus();
}

Status Replicator::ensureBlob(Peer& peer, const std::string& repository, const oci::Digest& digest) {
  if (registry_.statBlob(repository, digest)) return okStatus();
  if (registry_.mountBlob(repository, digest, std::nullopt)) return okStatus();
  auto upload = registry_.startUpload(repository);
  if (!upload) return upload.takeError();
  auto stream = registry_.beginAppend(repository, upload->id, digest.algorithm(), digest);
  if (!stream) {
    (void)registry_.cancelUpload(repository, upload->id);
    return stream.takeError();
  }
  if (auto in = peer.inline_blobs.find(digest.str()); in != peer.inline_blobs.end()) {
    // Sent with the journal page (the digest check of finishUpload still applies).
    if (auto s = (*stream)->write(in->second); !s) {
      registry_.abortAppend(std::move(*stream));
      (void)registry_.cancelUpload(repository, upload->id);
      return s;
    }
    auto done = registry_.finishUpload(std::move(*stream), digest);
    if (!done) return done.takeError();
    return okStatus();
  }
  std::optional<Error> write_error;
  auto got = get(peer, "/replication/v1/" + repository + "/blobs/" + digest.str(),
                 [&](std::string_view chunk) {
                   if (auto s = (*stream)->write(chunk); !s) {
                     write_error = s.error();
                     return false;
                   }
                   return true;
                 });
  if (!got || write_error) {
    registry_.abortAppend(std::move(*stream));
    (void)registry_.cancelUpload(repository, upload->id);
    if (write_error) return *write_error;
    return got.takeError();
  }
  auto done = registry_.finishUpload(std::move(*stream), digest);
  if (!done) return done.takeError();
  std::lock_guard lock(mu_);
  peer.status.bytes_total += *done;
  return okStatus();
}

Status Replicator::ensureManifest(Peer& peer, const std::string& repository, const oci::Digest& digest,
                                  const meta::Version& version, int depth) {
  oci::Reference ref;
  ref.value = digest;
  if (registry_.getManifest(repository, ref)) return okStatus();
  if (depth > 2) return makeError(Code::kManifestInvalid, "manifest " + digest.str() + " nests indexes too deep");
  std::string bytes;
  auto type = get(peer, "/replication/v1/" + repository + "/manifests/" + digest.str(), [&](std::string_view chunk) {
    if (bytes.size() + chunk.size() > oci::kMaxManifestSize) return false;
    bytes.append(chunk);
    return true;
  });
  if (!type && type.code() == Code::kNotFound) return okStatus();  // gone there too: the index fails alone
  if (!type) return type.takeError();
  return putReplicated(peer, repository, "", digest, *type, std::move(bytes), version, {});
}

void Replicator::conflict(Peer& peer, const std::string& repository, const std::string& tag, const std::string& kept,
                          const meta::Version& kept_version, const std::string& lost,
                          const meta::Version& lost_version) {
  const std::string message = "concurrent writes to " + repository + (tag.empty() ? "" : ":" + tag) + ": kept " +
                              (kept.empty() ? "the newer write" : kept) +
                              (kept_version.hlc != 0 ? " (" + versionText(kept_version) + ")" : "") + ", lost " + lost +
                              " (" + versionText(lost_version) + ")";
  log::warn("replication: conflict", {{"peer", peer.config.region}, {"message", message}});
  {
    std::lock_guard lock(mu_);
    ++peer.status.conflicts_total;
  }
  const bool lost_is_digest = lost.starts_with("sha256:") || lost.starts_with("sha512:");
  audit(audit_, {peer.config.region, "conflict", "success", message, repository, tag, lost_is_digest ? lost : "", "PUT"});
}

Status Replicator::fill(Peer& peer) {
  std::string after;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || peer.stopped) return makeError(Code::kUnavailable, "stopping");
    }
    auto body = get(peer, "/replication/v1/snapshot?after=" + after + "&limit=" + std::to_string(options_.page));
    if (!body) return body.takeError();
    auto page = parsePage(*body);
    if (!page) {
      return makeError(Code::kInvalidArgument, "replica " + peer.config.region + " sent a malformed snapshot page: " +
                                                   page.error().message);
    }
    if (page->region != peer.config.region) {
      return makeError(Code::kInvalidArgument, "the replica at " + peer.config.url + " is region " + page->region +
                                                   ", not " + peer.config.region);
    }
    peer.inline_blobs = std::move(page->blobs);
    {
      std::lock_guard lock(mu_);
      peer.status.state = "filling";
      peer.status.last_contact = unixNow();
      peer.status.last_error.clear();
    }
    for (const PageEntry& e : page->entries) {
      if (auto s = applyEntry(peer, e); !s) return s;
    }
    if (page->next.empty() || page->next <= after) break;
    after = page->next;
  }
  // The journal is then read from its start: the deletes the copy cannot show (and the
  // writes made while it was taken) are applied in their turn; what the copy has already
  // is a no-op.
  log::info("replication: filled from peer", {{"peer", peer.config.region}});
  peer.filled = true;
  return okStatus();
}

Result<std::string> Replicator::snapshotPage(const std::string& after, size_t limit) {
  // The journal's head before anything is read: a write committed later is in the journal
  // after it, and the filling replica reads the journal from there.
  auto last = store_->lastJournalId();
  if (!last) return last.takeError();
  auto retention = meta_.retentionStore();
  auto repositories = retention->repositories();
  if (!repositories) return repositories.takeError();
  PageWriter page(meta_, registry_.blobStore());
  size_t entries = 0;
  std::string next;
  for (const auto& repository : *repositories) {
    if (repository <= after) continue;
    if (entries >= limit) break;
    auto snapshot = retention->snapshot(repository);
    if (!snapshot && snapshot.code() == Code::kNameUnknown) continue;  // deleted since
    if (!snapshot) return snapshot.takeError();
    std::set<std::string> tagged;
    for (const auto& t : snapshot->tags) {
      auto held = store_->tagState(repository, t.name);
      if (!held) return held.takeError();
      if (!*held) continue;
      // Tags written before replication was on have no version: the oldest there is, so
      // that any write made since in any replica wins over the copy.
      const meta::Version v = (*held)->version.hlc != 0 ? (*held)->version : meta::Version{1, options_.region};
      meta::JournalRecord row;
      row.op = "push";
      row.repository = repository;
      row.tag = t.name;
      row.digest = (*held)->digest.str();
      row.hlc = v.hlc;
      if (auto s = page.add(row, v.origin); !s) return s.takeError();
      tagged.insert(row.digest);
      ++entries;
    }
    for (const auto& m : snapshot->manifests) {
      if (tagged.contains(m.digest.str())) continue;
      meta::JournalRecord row;
      row.op = "push";
      row.repository = repository;
      row.digest = m.digest.str();
      row.hlc = 1;
      if (auto s = page.add(row, options_.region); !s) return s.takeError();
      ++entries;
    }
    next = repository;
  }
  if (!repositories->empty() && next == repositories->back()) next.clear();
  return page.finish(options_.region, *last, next);
}

Result<std::string> Replicator::journalPage(const std::string& peer, int64_t after, size_t limit) {
  if (auto s = store_->setRead(peer, after, unixNow()); !s) return s.takeError();
  auto rows = store_->journalAfter(after, limit);
  if (!rows) return rows.takeError();
  auto last = store_->lastJournalId();
  if (!last) return last.takeError();
  PageWriter page(meta_, registry_.blobStore());
  for (const auto& row : *rows) {
    if (auto s = page.add(row); !s) return s.takeError();
  }
  return page.finish(options_.region, *last);
}

}  // namespace berth::replication
