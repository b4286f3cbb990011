#pragma once
// The replication rules of the metadata stores (docs/replication.md), written once over
// either driver's Connection (SQLite and PostgreSQL share the statements' text and the
// Stmt interface; `execute` is found by argument-dependent lookup in the driver's
// namespace). Called inside the store's own transactions.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "meta/meta_store.h"
#include "meta/replication_store.h"

namespace berth::meta::versioned {

inline int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The journal operation an outbox event stands for.
inline std::string_view journalOp(const EventRecord& e) {
  if (e.action == "push") return "push";
  return e.tag.empty() ? "delete_manifest" : "delete_tag";
}

// Whether the event is a write made here that the peers must read.
inline bool journaled(const std::optional<EventRecord>& e) { return e && e->version.hlc != 0 && !e->replicated; }

template <class C>
Status journal(C& c, std::string_view op, const EventRecord& e, const Version& previous) {
  auto stmt = c.prepare(
      "INSERT INTO journal(hlc, op, repository, tag, digest, prev_hlc, prev_origin, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.takeError();
  return stmt->bind(e.version.hlc)
      .bind(op)
      .bind(e.repository)
      .bind(e.tag)
      .bind(e.digest)
      .bind(previous.hlc)
      .bind(previous.origin)
      .bind(nowSeconds())
      .run();
}

template <class C, class... Args>
Result<std::optional<Version>> versionOf(C& c, std::string_view sql, const Args&... args) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  (stmt->bind(args), ...);
  auto row = stmt->step();
  if (!row) return row.takeError();
  if (!*row) return std::optional<Version>();
  return std::optional<Version>(Version{stmt->int64(0), stmt->text(1)});
}

template <class C>
Result<std::optional<Version>> tagVersion(C& c, int64_t repo, std::string_view tag) {
  return versionOf(c, "SELECT hlc, origin FROM tags WHERE repo_id = ? AND name = ?", repo, tag);
}

template <class C>
Result<std::optional<Version>> manifestVersion(C& c, int64_t repo, const oci::Digest& digest) {
  return versionOf(c, "SELECT hlc, origin FROM manifests WHERE repo_id = ? AND digest = ?", repo, digest);
}

template <class C>
Result<std::optional<Version>> tombstone(C& c, std::string_view repository, std::string_view kind,
                                         std::string_view name) {
  return versionOf(c, "SELECT hlc, origin FROM tombstones WHERE repository = ? AND kind = ? AND name = ?",
                   repository, kind, name);
}

// Records that the tag or manifest was deleted by the write of version `v` (keeps the
// newer tombstone when one is there).
template <class C>
Status bury(C& c, std::string_view repository, std::string_view kind, std::string_view name, const Version& v) {
  if (v.hlc == 0) return okStatus();
  auto stmt = c.prepare(
      "INSERT INTO tombstones(repository, kind, name, hlc, origin, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
      " ON CONFLICT (repository, kind, name) DO UPDATE SET hlc = excluded.hlc, origin = excluded.origin,"
      " created_at = excluded.created_at"
      " WHERE tombstones.hlc < excluded.hlc OR (tombstones.hlc = excluded.hlc AND tombstones.origin < excluded.origin)");
  if (!stmt) return stmt.takeError();
  return stmt->bind(repository).bind(kind).bind(name).bind(v.hlc).bind(v.origin).bind(nowSeconds()).run();
}

inline Error older(std::string_view what, const Version& mine) {
  return makeError(Code::kConflict, std::string(what) + " holds a newer write (" + mine.origin + " at " +
                                        std::to_string(mine.hlc) + ")");
}

// A replicated push of `digest` to `repo` (nullopt: the repository is new here): refused
// when this replica deleted the manifest later. With a tag: refused also when the tag was
// written or deleted later here (the caller stores the manifest untagged, then).
template <class C>
Status pushIsNewer(C& c, std::optional<int64_t> repo, std::string_view repository, const oci::Digest& digest,
                   const std::optional<std::string>& tag, const Version& v) {
  auto dead = tombstone(c, repository, "manifest", digest.str());
  if (!dead) return dead.takeError();
  if (*dead && **dead > v) return older("manifest " + std::string(repository) + "@" + digest.str(), **dead);
  if (!tag) return okStatus();
  if (repo) {
    auto held = tagVersion(c, *repo, *tag);
    if (!held) return held.takeError();
    if (*held && **held > v) return older("tag " + std::string(repository) + ":" + *tag, **held);
  }
  auto gone = tombstone(c, repository, "tag", *tag);
  if (!gone) return gone.takeError();
  if (*gone && **gone > v) return older("tag " + std::string(repository) + ":" + *tag, **gone);
  return okStatus();
}

// How a write begins (startPush, startTagDelete, startManifestDelete).
struct WriteStart {
  Version previous;  // the tag's version before the write (the journal's prev_*)
  // The write's version. A write made here is placed above every version it replaces
  // (its clock reading may be older when another write of this replica committed first),
  // so the order of commits here is the order every replica applies.
  Version version;
  std::optional<EventRecord> event;  // the event, with `version`
  bool settled = false;  // a replicated delete of what is not here: its tombstone is all
};

namespace detail {
inline WriteStart begin(const std::optional<EventRecord>& event) {
  WriteStart w;
  w.event = event;
  if (event) w.version = event->version;
  return w;
}
// Raises a local write's version above `held`.
inline void above(WriteStart& w, const std::optional<Version>& held) {
  if (!held || !w.event || w.event->replicated || w.version.hlc == 0) return;
  if (!(*held < w.version)) w.version.hlc = held->hlc + 1;
}
inline void seal(WriteStart& w) {
  if (w.event) w.event->version = w.version;
}
}  // namespace detail

// Locks (the changeable attributes) bind the writes made here. A replicated write was
// checked against the locks of the replica it was made in, when it was made; refusing it
// here, where a lock may have arrived first, would leave the replicas apart for good.
inline bool lockChecked(const std::optional<EventRecord>& event) { return event && event->replicated; }

// A push: a replicated one is refused (kConflict) where this replica wrote later
// (pushIsNewer).
template <class C>
Result<WriteStart> startPush(C& c, std::optional<int64_t> repo, const PutManifestRequest& req) {
  WriteStart w = detail::begin(req.event);
  const bool replicated = req.event && req.event->replicated;
  if (replicated) {
    auto s = pushIsNewer(c, repo, req.repository, req.manifest.digest, req.tag, w.version);
    if (!s) return s.takeError();
  }
  if (req.tag && repo) {
    auto held = tagVersion(c, *repo, *req.tag);
    if (!held) return held.takeError();
    if (*held) w.previous = **held;
    detail::above(w, *held);
  }
  if (!replicated && w.version.hlc != 0) {
    for (auto [kind, name] : {std::pair<std::string_view, std::string>{"manifest", req.manifest.digest.str()},
                              std::pair<std::string_view, std::string>{"tag", req.tag.value_or("")}}) {
      if (name.empty()) continue;
      auto dead = tombstone(c, req.repository, kind, name);
      if (!dead) return dead.takeError();
      detail::above(w, *dead);
    }
  }
  detail::seal(w);
  return w;
}

// A tag delete in repository `repo` (nullopt: not here): a replicated one is refused
// (kConflict) when the tag here is newer.
template <class C>
Result<WriteStart> startTagDelete(C& c, std::optional<int64_t> repo, std::string_view repository,
                                  std::string_view tag, const std::optional<EventRecord>& event) {
  WriteStart w = detail::begin(event);
  std::optional<Version> held;
  if (repo) {
    auto v = tagVersion(c, *repo, tag);
    if (!v) return v.takeError();
    held = *v;
  }
  if (held) w.previous = *held;
  detail::above(w, held);
  detail::seal(w);
  if (!event || !event->replicated) return w;
  if (held && *held > event->version) return older("tag " + std::string(repository) + ":" + std::string(tag), *held);
  if (!held) {
    if (auto s = bury(c, repository, "tag", tag, event->version); !s) return s.takeError();
    w.settled = true;
  }
  return w;
}

// A manifest delete, as startTagDelete: a replicated one loses to a newer push here.
template <class C>
Result<WriteStart> startManifestDelete(C& c, std::optional<int64_t> repo, std::string_view repository,
                                       const oci::Digest& digest, const std::optional<EventRecord>& event) {
  WriteStart w = detail::begin(event);
  std::optional<Version> held;
  if (repo && event) {
    auto v = manifestVersion(c, *repo, digest);
    if (!v) return v.takeError();
    held = *v;
  }
  detail::above(w, held);
  detail::seal(w);
  if (!event || !event->replicated) return w;
  if (held && *held > event->version) return older("manifest " + std::string(repository) + "@" + digest.str(), *held);
  if (!held) {
    if (auto s = bury(c, repository, "manifest", digest.str(), event->version); !s) return s.takeError();
    w.settled = true;
  }
  return w;
}

// The store behind MetaStore::replicationStore(), over either driver's Database.
template <class Db>
class SqlReplicationStore : public ReplicationStore {
 public:
  explicit SqlReplicationStore(std::shared_ptr<Db> db) : db_(std::move(db)) {}

  Result<std::vector<JournalRecord>> journalAfter(int64_t after, size_t n) override {
    return db_->read([&](auto& c) -> Result<std::vector<JournalRecord>> {
      auto stmt = c.prepare(
          "SELECT id, hlc, op, repository, tag, digest, prev_hlc, prev_origin, created_at FROM journal"
          " WHERE id > ? ORDER BY id LIMIT ?");
      if (!stmt) return stmt.takeError();
      stmt->bind(after).bindLimit(n);
      std::vector<JournalRecord> out;
      for (;;) {
        auto row = stmt->step();
        if (!row) return row.takeError();
        if (!*row) break;
        out.push_back(JournalRecord{stmt->int64(0), stmt->int64(1), stmt->text(2), stmt->text(3), stmt->text(4),
                                    stmt->text(5), Version{stmt->int64(6), stmt->text(7)}, stmt->int64(8)});
      }
      return out;
    });
  }

  Result<int64_t> lastJournalId() override { return single("SELECT COALESCE(MAX(id), 0) FROM journal"); }

  Result<int64_t> journalCountAfter(int64_t after) override {
    return single("SELECT COUNT(*) FROM journal WHERE id > ?", after);
  }

  Result<std::vector<PeerCursor>> peers() override {
    return db_->read([&](auto& c) -> Result<std::vector<PeerCursor>> {
      auto stmt = c.prepare("SELECT region, applied, read, applied_at, read_at FROM replication_peers ORDER BY region");
      if (!stmt) return stmt.takeError();
      std::vector<PeerCursor> out;
      for (;;) {
        auto row = stmt->step();
        if (!row) return row.takeError();
        if (!*row) break;
        out.push_back(PeerCursor{stmt->text(0), stmt->int64(1), stmt->int64(2), stmt->int64(3), stmt->int64(4)});
      }
      return out;
    });
  }

  Result<PeerCursor> peer(std::string_view region) override {
    return db_->read([&](auto& c) -> Result<PeerCursor> {
      auto stmt = c.prepare("SELECT applied, read, applied_at, read_at FROM replication_peers WHERE region = ?");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(region).step();
      if (!row) return row.takeError();
      PeerCursor p;
      p.region = std::string(region);
      if (*row) {
        p.applied = stmt->int64(0);
        p.read = stmt->int64(1);
        p.applied_at = stmt->int64(2);
        p.read_at = stmt->int64(3);
      }
      return p;
    });
  }

  Status setApplied(std::string_view region, int64_t id, int64_t now) override {
    return move(region, "applied", id, now);
  }
  Status setRead(std::string_view region, int64_t id, int64_t now) override { return move(region, "read", id, now); }

  Status forgetPeer(std::string_view region) override {
    return db_->write([&](auto& c) -> Status {
      return execute(c, "DELETE FROM replication_peers WHERE region = ?", region);
    });
  }

  Status prune(const std::vector<std::string>& regions, int64_t before, int64_t tombstones_before) override {
    return db_->write([&](auto& c) -> Status {
      int64_t upto = INT64_MAX;
      for (const auto& r : regions) {
        auto stmt = c.prepare("SELECT read FROM replication_peers WHERE region = ?");
        if (!stmt) return stmt.takeError();
        auto row = stmt->bind(std::string_view(r)).step();
        if (!row) return row.takeError();
        upto = std::min(upto, *row ? stmt->int64(0) : int64_t{0});
      }
      if (auto s = execute(c, "DELETE FROM journal WHERE id <= ? AND created_at < ?", upto, before); !s) return s;
      return execute(c, "DELETE FROM tombstones WHERE created_at < ?", tombstones_before);
    });
  }

  Result<std::vector<EntityVersion>> entityVersions() override {
    return db_->read([&](auto& c) -> Result<std::vector<EntityVersion>> {
      auto stmt = c.prepare("SELECT kind, key, hash, hlc, origin, deleted FROM replicated_entities ORDER BY kind, key");
      if (!stmt) return stmt.takeError();
      std::vector<EntityVersion> out;
      for (;;) {
        auto row = stmt->step();
        if (!row) return row.takeError();
        if (!*row) break;
        out.push_back(EntityVersion{stmt->text(0), stmt->text(1), stmt->text(2), Version{stmt->int64(3), stmt->text(4)},
                                    stmt->int64(5) != 0});
      }
      return out;
    });
  }

  Status putEntityVersions(const std::vector<EntityVersion>& versions) override {
    if (versions.empty()) return okStatus();
    return db_->write([&](auto& c) -> Status {
      for (const auto& v : versions) {
        auto s = execute(c,
                         "INSERT INTO replicated_entities(kind, key, hash, hlc, origin, deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                         " ON CONFLICT (kind, key) DO UPDATE SET hash = excluded.hash, hlc = excluded.hlc,"
                         " origin = excluded.origin, deleted = excluded.deleted",
                         std::string_view(v.kind), std::string_view(v.key), std::string_view(v.hash), v.version.hlc,
                         std::string_view(v.version.origin), int64_t{v.deleted ? 1 : 0});
        if (!s) return s;
      }
      return okStatus();
    });
  }

  Result<std::optional<TagState>> tagState(std::string_view repository, std::string_view tag) override {
    return db_->read([&](auto& c) -> Result<std::optional<TagState>> {
      auto stmt = c.prepare(
          "SELECT t.digest, t.hlc, t.origin FROM tags t JOIN repositories r ON r.id = t.repo_id"
          " WHERE r.name = ? AND t.name = ?");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(repository).bind(tag).step();
      if (!row) return row.takeError();
      if (!*row) return std::optional<TagState>();
      auto digest = oci::Digest::parse(stmt->text(0));
      if (!digest) return digest.takeError();
      return std::optional<TagState>(TagState{std::move(*digest), Version{stmt->int64(1), stmt->text(2)}});
    });
  }

 private:
  template <class... Args>
  Result<int64_t> single(std::string_view sql, const Args&... args) {
    return db_->read([&](auto& c) -> Result<int64_t> {
      auto stmt = c.prepare(sql);
      if (!stmt) return stmt.takeError();
      (stmt->bind(args), ...);
      auto row = stmt->step();
      if (!row) return row.takeError();
      return *row ? stmt->int64(0) : int64_t{0};
    });
  }

  // Statements are cached by their text, which must outlive the store: literals only.
  Status move(std::string_view region, std::string_view column, int64_t id, int64_t now) {
    const std::string_view sql =
        column == "applied"
            ? "INSERT INTO replication_peers(region, applied, applied_at) VALUES (?1, ?2, ?3)"
              " ON CONFLICT (region) DO UPDATE SET applied = excluded.applied, applied_at = excluded.applied_at"
              " WHERE replication_peers.applied < excluded.applied"
            : "INSERT INTO replication_peers(region, read, read_at) VALUES (?1, ?2, ?3)"
              " ON CONFLICT (region) DO UPDATE SET read = excluded.read, read_at = excluded.read_at"
              " WHERE replication_peers.read < excluded.read";
    return db_->write([&](auto& c) -> Status { return execute(c, sql, region, id, now); });
  }

  std::shared_ptr<Db> db_;
};

}  // namespace berth::meta::versioned
