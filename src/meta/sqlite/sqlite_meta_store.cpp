#include "meta/sqlite/sqlite_meta_store.h"
#include "meta/versioned_writes.h"

#include <optional>

#include "meta/sqlite/sqlite_audit_store.h"
#include "meta/sqlite/sqlite_db.h"
#include "meta/sqlite/sqlite_fleet_store.h"
#include "meta/sqlite/sqlite_gc_store.h"
#include "meta/sqlite/sqlite_identity_store.h"
#include "meta/sqlite/sqlite_locks.h"
#include "meta/sqlite/sqlite_properties_store.h"
#include "meta/sqlite/sqlite_quota_store.h"
#include "meta/sqlite/sqlite_recycle_store.h"
#include "meta/sqlite/sqlite_retention_store.h"
#include "meta/sqlite/sqlite_usage_store.h"
#include "meta/sqlite/sqlite_webhook_store.h"

namespace berth::meta {
namespace sqlite_detail {
namespace {

Result<int64_t> ensureRepository(Connection& c, std::string_view name) {
  auto found = findRepository(c, name);
  if (!found) return found.takeError();
  if (*found) return **found;
  auto stmt = c.prepare(
      "INSERT INTO repositories(name, created_at, updated_at) VALUES (?1, ?2, ?2) RETURNING id");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(name).bind(now()).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kInternal, "repository insert returned no id");
  return stmt->int64(0);
}

// Deletes the repository row once it has neither manifests nor blob links.
Status pruneRepository(Connection& c, int64_t repo) {
  return execute(c,
                 "DELETE FROM repositories WHERE id = ?1"
                 " AND NOT EXISTS (SELECT 1 FROM blob_links WHERE repo_id = ?1)"
                 " AND NOT EXISTS (SELECT 1 FROM manifests WHERE repo_id = ?1)",
                 repo);
}

// A change to the repository's manifests or tags (ACR's lastUpdateTime).
Status touchRepository(Connection& c, int64_t repo) {
  return execute(c, "UPDATE repositories SET updated_at = MAX(updated_at, ?) WHERE id = ?", now(), repo);
}

Status insertBlobLink(Connection& c, int64_t repo, const oci::Digest& digest, uint64_t size) {
  auto stmt = c.prepare(
      "INSERT INTO blob_links(repo_id, digest, size, created_at) VALUES (?, ?, ?, ?)"
      " ON CONFLICT(repo_id, digest) DO NOTHING");
  if (!stmt) return stmt.takeError();
  return stmt->bind(repo).bind(digest).bindU64(size).bind(now()).run();
}

Result<bool> exists(Connection& c, std::string_view sql, int64_t repo, const oci::Digest& digest) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  return stmt->bind(repo).bind(digest).step();
}

Error manifestBlobUnknown(const oci::Digest& digest, bool is_manifest) {
  return makeError(Code::kManifestBlobUnknown,
                   is_manifest ? "manifest references a manifest unknown to the repository"
                               : "manifest references a blob unknown to the repository",
                   "{\"digest\":\"" + digest.str() + "\"}");
}

Result<std::vector<std::string>> names(Stmt& stmt) {
  std::vector<std::string> out;
  for (;;) {
    auto row = stmt.step();
    if (!row) return row.takeError();
    if (!*row) return out;
    out.push_back(stmt.text(0));
  }
}

}  // namespace
}  // namespace sqlite_detail

using sqlite_detail::Connection;
using sqlite_detail::Stmt;

SqliteMetaStore::SqliteMetaStore(std::shared_ptr<sqlite_detail::Database> db)
    : db_(std::move(db)) {}
SqliteMetaStore::~SqliteMetaStore() = default;

int SqliteMetaStore::schemaVersion() { return sqlite_detail::schemaVersion(); }

Result<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::open(const std::string& db_path) {
  auto db = sqlite_detail::Database::open(db_path);
  if (!db) return db.takeError();
  return std::unique_ptr<SqliteMetaStore>(new SqliteMetaStore(std::move(*db)));
}

std::unique_ptr<IdentityStore> SqliteMetaStore::identityStore() const {
  return std::make_unique<SqliteIdentityStore>(db_);
}

std::unique_ptr<WebhookStore> SqliteMetaStore::webhookStore() const {
  return std::make_unique<SqliteWebhookStore>(db_);
}

std::unique_ptr<PropertiesStore> SqliteMetaStore::propertiesStore() const {
  return std::make_unique<SqlitePropertiesStore>(db_);
}

std::unique_ptr<UsageStore> SqliteMetaStore::usageStore() const {
  return std::make_unique<SqliteUsageStore>(db_);
}

std::unique_ptr<AuditStore> SqliteMetaStore::auditStore() const {
  return std::make_unique<SqliteAuditStore>(db_);
}

std::unique_ptr<QuotaStore> SqliteMetaStore::quotaStore() const {
  return std::make_unique<SqliteQuotaStore>(db_);
}

std::unique_ptr<GcStore> SqliteMetaStore::gcStore() const { return std::make_unique<SqliteGcStore>(db_); }

std::unique_ptr<RecycleStore> SqliteMetaStore::recycleStore() const {
  return std::make_unique<SqliteRecycleStore>(db_);
}

std::unique_ptr<RetentionStore> SqliteMetaStore::retentionStore() const {
  return std::make_unique<SqliteRetentionStore>(db_);
}

std::unique_ptr<FleetStore> SqliteMetaStore::fleetStore() const { return std::make_unique<SqliteFleetStore>(db_); }
std::unique_ptr<ReplicationStore> SqliteMetaStore::replicationStore() const {
  return std::make_unique<versioned::SqlReplicationStore<sqlite_detail::Database>>(db_);
}

void SqliteMetaStore::setRecycleBin(const RecycleBinOptions& options) {
  bin_retention_.store(options.retention_seconds, std::memory_order_relaxed);
  bin_enabled_.store(options.enabled, std::memory_order_release);
}

RecycleBinOptions SqliteMetaStore::recycleBin() const {
  RecycleBinOptions o;
  o.enabled = bin_enabled_.load(std::memory_order_acquire);
  o.retention_seconds = bin_retention_.load(std::memory_order_relaxed);
  return o;
}

// --- blobs linked to repositories ---

Status SqliteMetaStore::linkBlob(std::string_view repository, const oci::Digest& digest,
                                 uint64_t size) {
  return db_->write([&](Connection& c) -> Status {
    auto quota = sqlite_detail::checkQuota(c, repository, digest, size, sqlite_detail::QuotaObject::kBlob);
    if (!quota) return quota;
    auto repo = sqlite_detail::ensureRepository(c, repository);
    if (!repo) return repo.takeError();
    return sqlite_detail::insertBlobLink(c, *repo, digest, size);
  });
}

Result<uint64_t> SqliteMetaStore::repositoryBlob(std::string_view repository,
                                                 const oci::Digest& digest) {
  return db_->read([&](Connection& c) -> Result<uint64_t> {
    auto stmt = c.prepare(
        "SELECT b.size, r.read_enabled FROM blob_links b JOIN repositories r ON r.id = b.repo_id"
        " WHERE r.name = ? AND b.digest = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUnknown, "blob unknown to repository");
    if (stmt->int64(1) == 0) return sqlite_detail::locked("repository " + std::string(repository), "readEnabled");
    return stmt->uint64(0);
  });
}

Result<uint64_t> SqliteMetaStore::anyBlob(const oci::Digest& digest) {
  return db_->read([&](Connection& c) -> Result<uint64_t> {
    auto stmt = c.prepare(
        "SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id"
        " WHERE b.digest = ? AND r.read_enabled = 1 LIMIT 1");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUnknown, "blob unknown to registry");
    return stmt->uint64(0);
  });
}

Status SqliteMetaStore::unlinkBlob(std::string_view repository, const oci::Digest& digest) {
  return db_->write([&](Connection& c) -> Status {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    if (!*repo) return makeError(Code::kBlobUnknown, "blob unknown to repository");
    auto s = sqlite_detail::execute(c, "DELETE FROM blob_links WHERE repo_id = ? AND digest = ?",
                                    **repo, digest);
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kBlobUnknown, "blob unknown to repository");
    return sqlite_detail::pruneRepository(c, **repo);
  });
}

// --- upload sessions ---

Status SqliteMetaStore::createUpload(const UploadRecord& upload) {
  return db_->write([&](Connection& c) -> Status {
    auto stmt = c.prepare(
        "INSERT INTO uploads(id, repository, upload_offset, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING");
    if (!stmt) return stmt.takeError();
    auto s = stmt->bind(upload.id)
                 .bind(upload.repository)
                 .bindU64(upload.offset)
                 .bind(upload.created_at)
                 .bind(upload.updated_at)
                 .run();
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kConflict, "upload id already exists");
    return okStatus();
  });
}

Result<UploadRecord> SqliteMetaStore::getUpload(std::string_view id) {
  return db_->read([&](Connection& c) -> Result<UploadRecord> {
    auto stmt = c.prepare(
        "SELECT repository, upload_offset, created_at, updated_at FROM uploads WHERE id = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(id).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUploadUnknown, "blob upload unknown to registry");
    UploadRecord rec;
    rec.id = std::string(id);
    rec.repository = stmt->text(0);
    rec.offset = stmt->uint64(1);
    rec.created_at = stmt->int64(2);
    rec.updated_at = stmt->int64(3);
    return rec;
  });
}

Status SqliteMetaStore::updateUpload(std::string_view id, uint64_t offset, int64_t now) {
  return db_->write([&](Connection& c) -> Status {
    auto stmt = c.prepare("UPDATE uploads SET upload_offset = ?, updated_at = ? WHERE id = ?");
    if (!stmt) return stmt.takeError();
    if (auto s = stmt->bindU64(offset).bind(now).bind(id).run(); !s) return s;
    if (c.changes() == 0) {
      return makeError(Code::kBlobUploadUnknown, "blob upload unknown to registry");
    }
    return okStatus();
  });
}

Status SqliteMetaStore::deleteUpload(std::string_view id) {
  return db_->write([&](Connection& c) -> Status {
    return sqlite_detail::execute(c, "DELETE FROM uploads WHERE id = ?", id);
  });
}

Result<uint64_t> SqliteMetaStore::countUploads(std::string_view repository) {
  return db_->read([&](Connection& c) -> Result<uint64_t> {
    auto stmt = c.prepare("SELECT COUNT(*) FROM uploads WHERE repository = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).step();
    if (!row) return row.takeError();
    return *row ? stmt->uint64(0) : 0;
  });
}

Status SqliteMetaStore::completeUpload(std::string_view id, const oci::Digest& digest,
                                       uint64_t size) {
  return db_->write([&](Connection& c) -> Status {
    auto stmt = c.prepare("SELECT repository FROM uploads WHERE id = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(id).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kBlobUploadUnknown, "blob upload unknown to registry");
    const std::string repository = stmt->text(0);
    auto quota = sqlite_detail::checkQuota(c, repository, digest, size, sqlite_detail::QuotaObject::kBlob);
    if (!quota) return quota;
    auto repo = sqlite_detail::ensureRepository(c, repository);
    if (!repo) return repo.takeError();
    if (auto s = sqlite_detail::insertBlobLink(c, *repo, digest, size); !s) return s;
    return sqlite_detail::execute(c, "DELETE FROM uploads WHERE id = ?", id);
  });
}

Result<std::optional<QuotaRoom>> SqliteMetaStore::quotaRoom(std::string_view repository,
                                                            const std::optional<oci::Digest>& digest) {
  return db_->read([&](Connection& c) { return sqlite_detail::leastQuotaRoom(c, repository, digest); });
}

// --- manifests and tags ---

Status SqliteMetaStore::putManifest(const PutManifestRequest& req) {
  if (req.repository.empty() || req.manifest.digest.empty()) {
    return makeError(Code::kInvalidArgument, "putManifest needs a repository and a digest");
  }
  return db_->write([&](Connection& c) -> Status {
    auto found = sqlite_detail::findRepository(c, req.repository);
    if (!found) return found.takeError();
    // Every reference must already be in the repository; nothing is written otherwise.
    for (const oci::Digest& blob : req.blobs) {
      bool linked = false;
      if (*found) {
        auto r = sqlite_detail::exists(
            c, "SELECT 1 FROM blob_links WHERE repo_id = ? AND digest = ?", **found, blob);
        if (!r) return r.takeError();
        linked = *r;
      }
      if (!linked) return sqlite_detail::manifestBlobUnknown(blob, false);
    }
    for (const oci::Digest& child : req.manifests) {
      bool present = false;
      if (*found) {
        auto r = sqlite_detail::exists(
            c, "SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?", **found, child);
        if (!r) return r.takeError();
        present = *r;
      }
      if (!present) return sqlite_detail::manifestBlobUnknown(child, true);
    }

    if (*found && !versioned::lockChecked(req.event)) {
      if (auto s = sqlite_detail::repositoryAllows(c, **found, req.repository, "write_enabled"); !s) return s;
      if (req.tag) {
        if (auto s = sqlite_detail::tagMovable(c, **found, req.repository, *req.tag, req.manifest.digest); !s) {
          return s;
        }
      }
    }
    auto start = versioned::startPush(c, *found, req);
    if (!start) return start.takeError();
    const Version& version = start->version;
    const ManifestRecord& m = req.manifest;
    auto quota = sqlite_detail::checkQuota(c, req.repository, m.digest, m.bytes.size(),
                                           sqlite_detail::QuotaObject::kManifest);
    if (!quota) return quota;
    auto repo = sqlite_detail::ensureRepository(c, req.repository);
    if (!repo) return repo.takeError();
    {
      // Idempotent on digest: the first row (its bytes, created_at and attributes) stays;
      // a push of the same digest again counts as an update, and fills in a missing
      // subject or platform.
      auto stmt = c.prepare(
          "INSERT INTO manifests(repo_id, digest, media_type, artifact_type, bytes, size,"
          " annotations, subject, architecture, os, created_at, updated_at, hlc, origin)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13)"
          " ON CONFLICT(repo_id, digest) DO UPDATE SET"
          " subject = COALESCE(manifests.subject, excluded.subject),"
          " architecture = CASE manifests.architecture WHEN '' THEN excluded.architecture"
          " ELSE manifests.architecture END,"
          " os = CASE manifests.os WHEN '' THEN excluded.os ELSE manifests.os END,"
          " hlc = CASE WHEN excluded.hlc > manifests.hlc THEN excluded.hlc ELSE manifests.hlc END,"
          " origin = CASE WHEN excluded.hlc > manifests.hlc THEN excluded.origin ELSE manifests.origin END,"
          " updated_at = MAX(manifests.updated_at, excluded.updated_at)");
      if (!stmt) return stmt.takeError();
      stmt->bind(*repo)
          .bind(m.digest)
          .bind(m.media_type)
          .bind(m.artifact_type)
          .bindBlob(m.bytes)
          .bindU64(m.bytes.size())
          .bind(req.annotations_json);
      if (req.subject) {
        stmt->bind(*req.subject);
      } else {
        stmt->bindNull();
      }
      stmt->bind(req.architecture).bind(req.os);
      stmt->bind(m.created_at != 0 ? m.created_at : sqlite_detail::now());
      if (auto s = stmt->bind(version.hlc).bind(version.origin).run(); !s) {
        return s;
      }
    }
    auto id_stmt = c.prepare("SELECT id FROM manifests WHERE repo_id = ? AND digest = ?");
    if (!id_stmt) return id_stmt.takeError();
    auto row = id_stmt->bind(*repo).bind(m.digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kInternal, "manifest row missing after insert");
    const int64_t manifest_id = id_stmt->int64(0);

    for (const oci::Digest& blob : req.blobs) {
      auto s = sqlite_detail::execute(c,
                                      "INSERT INTO manifest_blob_refs(manifest_id, digest)"
                                      " VALUES (?, ?) ON CONFLICT DO NOTHING",
                                      manifest_id, blob);
      if (!s) return s;
    }
    for (const oci::Digest& child : req.manifests) {
      auto s = sqlite_detail::execute(c,
                                      "INSERT INTO manifest_child_refs(manifest_id, digest)"
                                      " VALUES (?, ?) ON CONFLICT DO NOTHING",
                                      manifest_id, child);
      if (!s) return s;
    }
    if (req.tag) {
      auto s = sqlite_detail::execute(
          c,
          "INSERT INTO tags(repo_id, name, digest, created_at, updated_at, hlc, origin)"
          " VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)"
          " ON CONFLICT(repo_id, name) DO UPDATE SET digest = excluded.digest,"
          " updated_at = CASE WHEN tags.digest != excluded.digest THEN excluded.updated_at ELSE tags.updated_at END,"
          " hlc = excluded.hlc, origin = excluded.origin"
          " WHERE tags.digest != excluded.digest OR tags.hlc != excluded.hlc OR tags.origin != excluded.origin",
          *repo, std::string_view(*req.tag), m.digest, sqlite_detail::now(), version.hlc, std::string_view(version.origin));
      if (!s) return s;
    }
    if (auto s = sqlite_detail::touchRepository(c, *repo); !s) return s;
    return sqlite_detail::appendEvent(c, start->event, start->previous);
  });
}

Result<ManifestRecord> SqliteMetaStore::getManifest(std::string_view repository,
                                                    const oci::Digest& digest) {
  return db_->read([&](Connection& c) -> Result<ManifestRecord> {
    auto stmt = c.prepare(
        "SELECT m.media_type, m.artifact_type, m.bytes, m.created_at"
        " FROM manifests m JOIN repositories r ON r.id = m.repo_id"
        " WHERE r.name = ? AND m.digest = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(digest).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    ManifestRecord rec;
    rec.digest = digest;
    rec.media_type = stmt->text(0);
    rec.artifact_type = stmt->text(1);
    rec.bytes = stmt->blob(2);
    rec.created_at = stmt->int64(3);
    return rec;
  });
}

Result<oci::Digest> SqliteMetaStore::resolveTag(std::string_view repository, std::string_view tag) {
  return db_->read([&](Connection& c) -> Result<oci::Digest> {
    auto stmt = c.prepare(
        "SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id"
        " WHERE r.name = ? AND t.name = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(tag).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kManifestUnknown, "tag unknown to repository");
    return sqlite_detail::storedDigest(stmt->text(0));
  });
}

Status SqliteMetaStore::deleteManifest(std::string_view repository, const oci::Digest& digest,
                                       const std::optional<EventRecord>& event, const DeleteGuard& guard) {
  return db_->write([&](Connection& c) -> Status {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    // A delete made in another replica: applied unless the manifest was pushed here later;
    // a tombstone keeps older pushes still on their way out.
    auto start = versioned::startManifestDelete(c, *repo, repository, digest, event);
    if (!start) return start.takeError();
    if (start->settled) return okStatus();
    if (!*repo) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    if (!versioned::lockChecked(start->event)) {
      if (auto l = sqlite_detail::repositoryAllows(c, **repo, repository, "delete_enabled"); !l) return l;
    }
    if (!guard.ignore_item_locks && !versioned::lockChecked(start->event)) {
      if (auto l = sqlite_detail::manifestItemsDeletable(c, **repo, repository, digest); !l) return l;
    }
    if (auto g = sqlite_detail::manifestGuardHolds(c, **repo, repository, digest, guard); !g) return g;
    if (const auto bin = recycleBin(); bin.enabled) {
      if (auto b = sqlite_detail::binManifest(c, **repo, repository, digest, bin); !b) return b;
    }
    // Tags, references and the subject relation go with the row (ON DELETE CASCADE).
    auto s = sqlite_detail::execute(c, "DELETE FROM manifests WHERE repo_id = ? AND digest = ?",
                                    **repo, digest);
    if (!s) return s;
    if (c.changes() == 0) {
      return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    }
    if (auto b = versioned::bury(c, repository, "manifest", digest.str(), start->version); !b) return b;
    if (auto e = sqlite_detail::appendEvent(c, start->event); !e) return e;
    if (auto t = sqlite_detail::touchRepository(c, **repo); !t) return t;
    return sqlite_detail::pruneRepository(c, **repo);
  });
}

Status SqliteMetaStore::deleteTag(std::string_view repository, std::string_view tag,
                                  const std::optional<EventRecord>& event, const DeleteGuard& guard) {
  return db_->write([&](Connection& c) -> Status {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    auto start = versioned::startTagDelete(c, *repo, repository, tag, event);
    if (!start) return start.takeError();
    if (start->settled) return okStatus();
    if (!*repo) return makeError(Code::kManifestUnknown, "tag unknown to repository");
    if (!versioned::lockChecked(start->event)) {
      if (auto l = sqlite_detail::repositoryAllows(c, **repo, repository, "delete_enabled"); !l) return l;
    }
    if (!guard.ignore_item_locks && !versioned::lockChecked(start->event)) {
      if (auto l = sqlite_detail::tagItemDeletable(c, **repo, repository, tag); !l) return l;
    }
    if (auto g = sqlite_detail::tagGuardHolds(c, **repo, repository, tag, guard); !g) return g;
    if (const auto bin = recycleBin(); bin.enabled) {
      if (auto b = sqlite_detail::binTag(c, **repo, repository, tag, bin); !b) return b;
    }
    auto s = sqlite_detail::execute(c, "DELETE FROM tags WHERE repo_id = ? AND name = ?", **repo, tag);
    if (!s) return s;
    if (c.changes() == 0) return makeError(Code::kManifestUnknown, "tag unknown to repository");
    if (auto t = sqlite_detail::touchRepository(c, **repo); !t) return t;
    if (auto b = versioned::bury(c, repository, "tag", tag, start->version); !b) return b;
    return sqlite_detail::appendEvent(c, start->event, start->previous);
  });
}

Result<std::string> SqliteMetaStore::readDenied(std::string_view repository, std::string_view tag,
                                                const oci::Digest& digest) {
  return db_->read([&](Connection& c) -> Result<std::string> {
    auto stmt = c.prepare(
        "SELECT r.read_enabled, COALESCE(m.read_enabled, 1),"
        " COALESCE((SELECT read_enabled FROM tags WHERE repo_id = r.id AND name = ?2), 1)"
        " FROM repositories r LEFT JOIN manifests m ON m.repo_id = r.id AND m.digest = ?3 WHERE r.name = ?1");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(tag).bind(digest).step();
    if (!row) return row.takeError();
    if (!*row) return std::string();
    if (stmt->int64(0) == 0) return sqlite_detail::locked("repository " + std::string(repository), "readEnabled").message;
    if (stmt->int64(2) == 0) {
      return sqlite_detail::locked("tag " + std::string(repository) + ":" + std::string(tag), "readEnabled").message;
    }
    if (stmt->int64(1) == 0) {
      return sqlite_detail::locked("manifest " + std::string(repository) + "@" + digest.str(), "readEnabled").message;
    }
    return std::string();
  });
}

Result<DeletedRepository> SqliteMetaStore::deleteRepository(std::string_view repository,
                                                            const DeleteEventFn& event) {
  return db_->write([&](Connection& c) -> Result<DeletedRepository> {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    if (!*repo) return makeError(Code::kNameUnknown, "repository name not known to registry");
    if (auto l = sqlite_detail::repositoryAllows(c, **repo, repository, "delete_enabled"); !l) return l.takeError();
    // Nothing locked inside either: a locked image is never deleted with its repository.
    auto m = sqlite_detail::firstLocked(c, "SELECT digest FROM manifests WHERE repo_id = ? AND delete_enabled = 0 LIMIT 1",
                                        **repo);
    if (!m) return m.takeError();
    if (*m) return sqlite_detail::locked("manifest " + std::string(repository) + "@" + **m, "deleteEnabled");
    auto t = sqlite_detail::firstLocked(c, "SELECT name FROM tags WHERE repo_id = ? AND delete_enabled = 0 LIMIT 1",
                                        **repo);
    if (!t) return t.takeError();
    if (*t) return sqlite_detail::locked("tag " + std::string(repository) + ":" + **t, "deleteEnabled");
    DeletedRepository out;
    std::optional<EventRecord> repository_event;  // the journal's one row for the delete
    auto tags = c.prepare("SELECT name FROM tags WHERE repo_id = ? ORDER BY name");
    if (!tags) return tags.takeError();
    tags->bind(**repo);
    auto tag_names = sqlite_detail::names(*tags);
    if (!tag_names) return tag_names.takeError();
    out.tags = std::move(*tag_names);
    auto manifests = c.prepare(
        "SELECT digest, media_type, size FROM manifests WHERE repo_id = ? ORDER BY digest");
    if (!manifests) return manifests.takeError();
    for (manifests->bind(**repo);;) {
      auto row = manifests->step();
      if (!row) return row.takeError();
      if (!*row) break;
      auto digest = sqlite_detail::storedDigest(manifests->text(0));
      if (!digest) return digest.takeError();
      if (event) {
        auto e = event(*digest, manifests->text(1), manifests->uint64(2));
        if (e && versioned::journaled(e) && !repository_event) repository_event = e;
        if (auto s = sqlite_detail::appendEvent(c, e, {}, false); !s) return s.takeError();
      }
      out.manifests.push_back(std::move(*digest));
    }
    if (repository_event) {
      repository_event->digest.clear();
      if (auto s = versioned::journal(c, "delete_repository", *repository_event, {}); !s) return s.takeError();
    }
    if (const auto bin = recycleBin(); bin.enabled) {
      auto b = sqlite_detail::binRepository(c, **repo, repository, bin);
      if (!b) return b.takeError();
    }
    // Tags, references and subjects go with the manifests, everything with the repository
    // row (ON DELETE CASCADE).
    if (auto s = sqlite_detail::execute(c, "DELETE FROM repositories WHERE id = ?", **repo); !s) {
      return s.takeError();
    }
    return out;
  });
}

Result<std::vector<std::string>> SqliteMetaStore::listTags(std::string_view repository,
                                                           std::string_view last, size_t n) {
  return db_->read([&](Connection& c) -> Result<std::vector<std::string>> {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    if (!*repo) return makeError(Code::kNameUnknown, "repository name not known to registry");
    auto stmt =
        c.prepare("SELECT name FROM tags WHERE repo_id = ? AND name > ? AND list_enabled = 1 ORDER BY name LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(**repo).bind(last).bindLimit(n);
    return sqlite_detail::names(*stmt);
  });
}

Result<std::vector<std::string>> SqliteMetaStore::listRepositories(std::string_view last,
                                                                   size_t n) {
  return db_->read([&](Connection& c) -> Result<std::vector<std::string>> {
    auto stmt =
        c.prepare("SELECT name FROM repositories WHERE name > ? AND list_enabled = 1 ORDER BY name LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(last).bindLimit(n);
    return sqlite_detail::names(*stmt);
  });
}

Result<bool> SqliteMetaStore::repositoryExists(std::string_view repository) {
  return db_->read([&](Connection& c) -> Result<bool> {
    auto repo = sqlite_detail::findRepository(c, repository);
    if (!repo) return repo.takeError();
    return repo->has_value();
  });
}

Result<std::vector<ReferrerRecord>> SqliteMetaStore::referrers(std::string_view repository,
                                                               const oci::Digest& subject,
                                                               std::string_view artifact_type) {
  return db_->read([&](Connection& c) -> Result<std::vector<ReferrerRecord>> {
    auto stmt = c.prepare(
        "SELECT digest, media_type, artifact_type, size, annotations FROM manifests"
        " WHERE repo_id = (SELECT id FROM repositories WHERE name = ?1) AND subject = ?2"
        " AND (?3 = '' OR artifact_type = ?3) ORDER BY digest");
    if (!stmt) return stmt.takeError();
    stmt->bind(repository).bind(subject).bind(artifact_type);
    std::vector<ReferrerRecord> out;
    for (;;) {
      auto row = stmt->step();
      if (!row) return row.takeError();
      if (!*row) return out;
      auto digest = sqlite_detail::storedDigest(stmt->text(0));
      if (!digest) return digest.takeError();
      ReferrerRecord rec;
      rec.digest = std::move(*digest);
      rec.media_type = stmt->text(1);
      rec.artifact_type = stmt->text(2);
      rec.size = stmt->uint64(3);
      rec.annotations_json = stmt->text(4);
      out.push_back(std::move(rec));
    }
  });
}

}  // namespace berth::meta
