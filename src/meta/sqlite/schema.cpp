#include "meta/sqlite/sqlite_db.h"

// Schema history. Append a migration to change the schema; never edit a released one.
namespace berth::meta::sqlite_detail {
namespace {

// Manifests are stored per repository: each row holds the bytes exactly as pushed plus
// the fields derived from them. Duplicating a few KiB when one image is in several
// repositories buys one-row deletes (tags, references and the subject go with it by
// cascade) and no global manifest rows to garbage-collect. References are per repository
// anyway: that is what push validation and garbage collection ask about.
// Repository rows exist exactly while the repository has a manifest or a blob link
// (pruned when the last one goes), so listing repositories is a plain index range scan.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE repositories (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE blob_links (
  repo_id    INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX blob_links_by_digest ON blob_links(digest);
CREATE TABLE manifests (
  id            INTEGER PRIMARY KEY,
  repo_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest        TEXT NOT NULL,
  media_type    TEXT NOT NULL,
  artifact_type TEXT NOT NULL,
  bytes         BLOB NOT NULL,
  size          INTEGER NOT NULL,
  annotations   TEXT NOT NULL,
  subject       TEXT,
  created_at    INTEGER NOT NULL,
  UNIQUE (repo_id, digest)
);
CREATE INDEX manifests_by_subject ON manifests(repo_id, subject, digest)
  WHERE subject IS NOT NULL;
CREATE TABLE tags (
  repo_id    INTEGER NOT NULL,
  name       TEXT NOT NULL,
  digest     TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, name),
  FOREIGN KEY (repo_id, digest) REFERENCES manifests(repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX tags_by_manifest ON tags(repo_id, digest);
CREATE TABLE manifest_blob_refs (
  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  digest      TEXT NOT NULL,
  PRIMARY KEY (manifest_id, digest)
) WITHOUT ROWID;
CREATE INDEX manifest_blob_refs_by_digest ON manifest_blob_refs(digest);
CREATE TABLE manifest_child_refs (
  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  digest      TEXT NOT NULL,
  PRIMARY KEY (manifest_id, digest)
) WITHOUT ROWID;
CREATE INDEX manifest_child_refs_by_digest ON manifest_child_refs(digest);
CREATE TABLE uploads (
  id            TEXT PRIMARY KEY,
  repository    TEXT NOT NULL,
  upload_offset INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX uploads_by_updated ON uploads(updated_at);
CREATE INDEX uploads_by_repository ON uploads(repository);
)sql";

// v2: the IdentityStore (identity_store.h). Identities are keyed by their stable id and
// referenced by it, so a rename touches one row. A token's scope map is a foreign key
// without cascade: a scope map in use cannot be deleted. `identity_generation` is one row
// bumped in every identity transaction, so readers poll one integer to stay current.
// Scope map actions are a comma-separated list (actions are "word/word"); `position`
// keeps the entries in the order they were given.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE scope_maps (
  name        TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE scope_map_entries (
  scope_map  TEXT NOT NULL REFERENCES scope_maps(name) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  repository TEXT NOT NULL,
  actions    TEXT NOT NULL,
  PRIMARY KEY (scope_map, position)
) WITHOUT ROWID;
CREATE TABLE identities (
  id                  TEXT PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE,
  kind                TEXT NOT NULL CHECK (kind IN ('user', 'sp', 'token', 'federated')),
  description         TEXT NOT NULL,
  enabled             INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  scope_map           TEXT REFERENCES scope_maps(name),
  credentials_version INTEGER NOT NULL,
  issuer              TEXT NOT NULL,
  claim               TEXT NOT NULL,
  claim_value         TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX identities_by_scope_map ON identities(scope_map) WHERE scope_map IS NOT NULL;
CREATE TABLE credentials (
  identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (identity_id, name)
) WITHOUT ROWID;
CREATE TABLE role_assignments (
  id          TEXT PRIMARY KEY,
  identity_id TEXT NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
  role        TEXT NOT NULL,
  scope       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (identity_id, role, scope)
) WITHOUT ROWID;
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE identity_generation (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT INTO identity_generation(id, value) VALUES (1, 0);
)sql";

// v3: the event outbox and webhooks (webhook_store.h). `events` rows are appended in
// the transaction of the change they describe; AUTOINCREMENT keeps ids increasing even
// after old rows are pruned, so a webhook's `cursor` (the last event id it is done with)
// is a total order. A delivery row is one (webhook, event) with its latest attempt;
// pings have a NULL event_id.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  action     TEXT NOT NULL CHECK (action IN ('push', 'delete')),
  repository TEXT NOT NULL,
  tag        TEXT NOT NULL,
  digest     TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  payload    TEXT NOT NULL
);
CREATE TABLE webhooks (
  name       TEXT PRIMARY KEY,
  uri        TEXT NOT NULL,
  headers    TEXT NOT NULL,
  actions    TEXT NOT NULL,
  scope      TEXT NOT NULL,
  enabled    INTEGER NOT NULL,
  format     TEXT NOT NULL CHECK (format IN ('acr', 'cloudevents')),
  secret     TEXT NOT NULL,
  cursor     INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE webhook_deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook          TEXT NOT NULL REFERENCES webhooks(name) ON DELETE CASCADE,
  event_id         INTEGER,
  action           TEXT NOT NULL,
  attempts         INTEGER NOT NULL,
  delivered        INTEGER NOT NULL,
  error            TEXT NOT NULL,
  request_headers  TEXT NOT NULL,
  request_body     TEXT NOT NULL,
  response_status  INTEGER NOT NULL,
  response_body    TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  UNIQUE (webhook, event_id)
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook, id);
)sql";

// v4: what ACR's metadata API shows (properties_store.h). Repositories get their creation
// and last-update times; tags their creation time; manifests their last-update time and
// the platform read from the image config at push. Each of the three carries the
// changeable attributes (1 = enabled). Existing rows are backfilled from the times they
// already have; manifests pushed before v4 have no platform recorded.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE repositories ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN delete_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE repositories ADD COLUMN write_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE repositories ADD COLUMN list_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE repositories ADD COLUMN read_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tags ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN delete_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tags ADD COLUMN write_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tags ADD COLUMN list_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tags ADD COLUMN read_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE manifests ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN architecture TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN os TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN delete_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE manifests ADD COLUMN write_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE manifests ADD COLUMN list_enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE manifests ADD COLUMN read_enabled INTEGER NOT NULL DEFAULT 1;
UPDATE tags SET created_at = updated_at;
UPDATE manifests SET updated_at = created_at;
UPDATE manifests SET updated_at = MAX(updated_at, (SELECT MAX(t.updated_at) FROM tags t
  WHERE t.repo_id = manifests.repo_id AND t.digest = manifests.digest))
  WHERE EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = manifests.repo_id AND t.digest = manifests.digest);
UPDATE repositories SET
  created_at = COALESCE(MIN(
    (SELECT MIN(created_at) FROM manifests WHERE repo_id = repositories.id),
    (SELECT MIN(created_at) FROM blob_links WHERE repo_id = repositories.id)),
    (SELECT MIN(created_at) FROM manifests WHERE repo_id = repositories.id),
    (SELECT MIN(created_at) FROM blob_links WHERE repo_id = repositories.id), 0),
  updated_at = COALESCE(MAX(
    (SELECT MAX(updated_at) FROM manifests WHERE repo_id = repositories.id),
    (SELECT MAX(created_at) FROM blob_links WHERE repo_id = repositories.id)),
    (SELECT MAX(updated_at) FROM manifests WHERE repo_id = repositories.id),
    (SELECT MAX(created_at) FROM blob_links WHERE repo_id = repositories.id), 0);
CREATE INDEX tags_by_time ON tags(repo_id, updated_at, name);
CREATE INDEX manifests_by_time ON manifests(repo_id, updated_at, digest);
)sql";

// v5: usage telemetry (usage_store.h). One row per (repository, kind, name): kind
// 'repository' (name ''), 'manifest' (name = digest) or 'tag' (name = tag). Keyed by the
// repository's name, not its id, so the history outlives a repository that is emptied and
// pruned. Counters only grow; the last times are unix seconds, 0 = never. The UsageRecorder
// adds to these rows in one transaction per flush. manifests_by_digest serves the storage
// queries' "does another repository hold this manifest" and the per-digest grouping.
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE usage_traffic (
  repository     TEXT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('repository', 'manifest', 'tag')),
  name           TEXT NOT NULL,
  pulls          INTEGER NOT NULL,
  pushes         INTEGER NOT NULL,
  bytes_served   INTEGER NOT NULL,
  bytes_received INTEGER NOT NULL,
  last_pulled_at INTEGER NOT NULL,
  last_pushed_at INTEGER NOT NULL,
  PRIMARY KEY (repository, kind, name)
) WITHOUT ROWID;
CREATE INDEX manifests_by_digest ON manifests(digest);
)sql";


// v6: the audit log (audit_store.h). AUTOINCREMENT: ids are never reused, also after
// pruning, so a `last` cursor of /api/v1/audit never names another entry. Listings are
// newest first by (time_us, id); each filter column has an index on (column, time_us)
// (the rowid id is implicitly last) so a filtered page is an index range scan. The time
// index also serves since/until alone and pruning by retention.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE audit (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  time_us       INTEGER NOT NULL,
  identity      TEXT NOT NULL,
  identity_kind TEXT NOT NULL,
  client        TEXT NOT NULL,
  action        TEXT NOT NULL,
  repository    TEXT NOT NULL,
  tag           TEXT NOT NULL,
  digest        TEXT NOT NULL,
  method        TEXT NOT NULL,
  status        INTEGER NOT NULL,
  result        TEXT NOT NULL,
  message       TEXT NOT NULL,
  count         INTEGER NOT NULL
);
CREATE INDEX audit_by_time ON audit(time_us);
CREATE INDEX audit_by_identity ON audit(identity, time_us);
CREATE INDEX audit_by_repository ON audit(repository, time_us);
CREATE INDEX audit_by_action ON audit(action, time_us);
)sql";

// v7: the recycle bin (soft delete, recycle_store.h). A deleted manifest, tag or
// repository becomes one `recycle_items` row plus copies of the live rows it removed (or
// needs to come back whole): the manifests with their references (an index with its
// children), the tags, the blob links, and for a repository its own times and attributes.
// The copies are plain rows, so restoring is INSERT ... SELECT and nothing binned shows in
// any live query. `recycle_blob_refs` holds every blob digest an item needs to be
// restorable; garbage collection reads it next to manifest_blob_refs. Everything of an
// item goes with its row (ON DELETE CASCADE) when it is restored, purged or expires.
constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE recycle_items (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  kind                TEXT NOT NULL CHECK (kind IN ('manifest', 'tag', 'repository')),
  repository          TEXT NOT NULL,
  digest              TEXT NOT NULL,
  tag                 TEXT NOT NULL,
  deleted_at          INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  repo_created_at     INTEGER NOT NULL,
  repo_updated_at     INTEGER NOT NULL,
  repo_delete_enabled INTEGER NOT NULL,
  repo_write_enabled  INTEGER NOT NULL,
  repo_list_enabled   INTEGER NOT NULL,
  repo_read_enabled   INTEGER NOT NULL
);
CREATE INDEX recycle_items_by_repository ON recycle_items(repository, id);
CREATE INDEX recycle_items_by_expiry ON recycle_items(expires_at);
CREATE TABLE recycle_manifests (
  item_id        INTEGER NOT NULL REFERENCES recycle_items(id) ON DELETE CASCADE,
  digest         TEXT NOT NULL,
  media_type     TEXT NOT NULL,
  artifact_type  TEXT NOT NULL,
  bytes          BLOB NOT NULL,
  size           INTEGER NOT NULL,
  annotations    TEXT NOT NULL,
  subject        TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  architecture   TEXT NOT NULL,
  os             TEXT NOT NULL,
  delete_enabled INTEGER NOT NULL,
  write_enabled  INTEGER NOT NULL,
  list_enabled   INTEGER NOT NULL,
  read_enabled   INTEGER NOT NULL,
  PRIMARY KEY (item_id, digest)
);
CREATE TABLE recycle_manifest_refs (
  item_id  INTEGER NOT NULL REFERENCES recycle_items(id) ON DELETE CASCADE,
  manifest TEXT NOT NULL,
  kind     TEXT NOT NULL CHECK (kind IN ('blob', 'child')),
  digest   TEXT NOT NULL,
  PRIMARY KEY (item_id, manifest, kind, digest)
) WITHOUT ROWID;
CREATE TABLE recycle_tags (
  item_id        INTEGER NOT NULL REFERENCES recycle_items(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  digest         TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  delete_enabled INTEGER NOT NULL,
  write_enabled  INTEGER NOT NULL,
  list_enabled   INTEGER NOT NULL,
  read_enabled   INTEGER NOT NULL,
  PRIMARY KEY (item_id, name)
) WITHOUT ROWID;
CREATE TABLE recycle_blob_links (
  item_id    INTEGER NOT NULL REFERENCES recycle_items(id) ON DELETE CASCADE,
  digest     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (item_id, digest)
) WITHOUT ROWID;
CREATE TABLE recycle_blob_refs (
  item_id INTEGER NOT NULL REFERENCES recycle_items(id) ON DELETE CASCADE,
  digest  TEXT NOT NULL,
  PRIMARY KEY (item_id, digest)
) WITHOUT ROWID;
CREATE INDEX recycle_blob_refs_by_digest ON recycle_blob_refs(digest);
)sql";

// v8: storage quotas (quota_store.h). A quota covers the repositories its pattern matches:
// "*" (prefix '', exact 0), "team-a/*" (prefix 'team-a/', exact 0) or one name (exact 1).
// used_bytes is the deduplicated size of what those repositories hold (each blob digest
// and each manifest digest once, as the usage store counts them), kept current by the
// triggers below in the same transaction as every insert or delete of a blob link or a
// manifest, whatever code path makes it; a quota's row is counted from scratch when it is
// created. A row changes the counter only when its digest is new to (or gone from) the
// quota's repositories: the check is an index lookup by digest (blob_links_by_digest,
// manifests_by_digest). Deleting a repository first deletes its links and manifests
// (quota_repository_deleted) so their triggers still see the repository's name; the
// cascade then finds nothing left. With no quota set, every trigger is skipped by its
// WHEN clause. Commits are checked against the limits in C++ (sqlite_quota_store.cpp),
// inside the same write transaction, before the insert.
constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE quotas (
  pattern     TEXT PRIMARY KEY,
  prefix      TEXT NOT NULL,
  exact       INTEGER NOT NULL CHECK (exact IN (0, 1)),
  limit_bytes INTEGER NOT NULL CHECK (limit_bytes >= 0),
  used_bytes  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER quota_blob_linked AFTER INSERT ON blob_links WHEN EXISTS (SELECT 1 FROM quotas)
BEGIN
  UPDATE quotas SET used_bytes = used_bytes + NEW.size
  WHERE EXISTS (SELECT 1 FROM repositories r WHERE r.id = NEW.repo_id AND
                CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END)
    AND NOT EXISTS (SELECT 1 FROM blob_links b JOIN repositories r ON r.id = b.repo_id
                    WHERE b.digest = NEW.digest AND b.repo_id <> NEW.repo_id AND
                    CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                    ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END);
END;
CREATE TRIGGER quota_blob_unlinked AFTER DELETE ON blob_links WHEN EXISTS (SELECT 1 FROM quotas)
BEGIN
  UPDATE quotas SET used_bytes = used_bytes - OLD.size
  WHERE EXISTS (SELECT 1 FROM repositories r WHERE r.id = OLD.repo_id AND
                CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END)
    AND NOT EXISTS (SELECT 1 FROM blob_links b JOIN repositories r ON r.id = b.repo_id
                    WHERE b.digest = OLD.digest AND b.repo_id <> OLD.repo_id AND
                    CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                    ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END);
END;
CREATE TRIGGER quota_manifest_added AFTER INSERT ON manifests WHEN EXISTS (SELECT 1 FROM quotas)
BEGIN
  UPDATE quotas SET used_bytes = used_bytes + NEW.size
  WHERE EXISTS (SELECT 1 FROM repositories r WHERE r.id = NEW.repo_id AND
                CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END)
    AND NOT EXISTS (SELECT 1 FROM manifests m JOIN repositories r ON r.id = m.repo_id
                    WHERE m.digest = NEW.digest AND m.repo_id <> NEW.repo_id AND
                    CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                    ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END);
END;
CREATE TRIGGER quota_manifest_removed AFTER DELETE ON manifests WHEN EXISTS (SELECT 1 FROM quotas)
BEGIN
  UPDATE quotas SET used_bytes = used_bytes - OLD.size
  WHERE EXISTS (SELECT 1 FROM repositories r WHERE r.id = OLD.repo_id AND
                CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END)
    AND NOT EXISTS (SELECT 1 FROM manifests m JOIN repositories r ON r.id = m.repo_id
                    WHERE m.digest = OLD.digest AND m.repo_id <> OLD.repo_id AND
                    CASE quotas.exact WHEN 1 THEN r.name = quotas.prefix
                    ELSE substr(r.name, 1, length(quotas.prefix)) = quotas.prefix END);
END;
CREATE TRIGGER quota_repository_deleted BEFORE DELETE ON repositories WHEN EXISTS (SELECT 1 FROM quotas)
BEGIN
  DELETE FROM manifests WHERE repo_id = OLD.id;
  DELETE FROM blob_links WHERE repo_id = OLD.id;
END;
)sql";

// v9: stored retention policies (retention_store.h, docs/retention.md). A NULL rule
// column means the rule is not set; durations are seconds. `repositories` and `keep_tags`
// are regular expressions, validated by the caller before they are stored ('' keeps no
// tag). The policies are few and read whole, so the primary key is the only index.
constexpr const char* kSchemaV9 = R"sql(
CREATE TABLE retention_policies (
  name           TEXT PRIMARY KEY,
  repositories   TEXT NOT NULL,
  keep_last      INTEGER,
  not_pulled_for INTEGER,
  untagged_after INTEGER,
  keep_tags      TEXT NOT NULL DEFAULT '',
  enabled        INTEGER NOT NULL DEFAULT 1,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// v10: what the nodes of a fleet share (fleet_store.h): values created once (the token
// signing key) and leases for background work.
constexpr const char* kSchemaV10 = R"sql(
CREATE TABLE shared_values (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// v11: geo-replication (docs/replication.md). A write made here while replication is on
// is journaled in its transaction (the peers read the journal from a cursor); tags and
// manifests carry the version of their last write (a hybrid logical clock reading and
// the region that made it), and deletes leave tombstones with theirs, so a write that
// arrives from a peer is applied only when it is newer: every replica keeps the same
// winner whatever order writes arrive in. `replication_peers` holds, per peer, the last
// journal id of the peer applied here and the last id of ours the peer has read.
// `replicated_entities`: the version of each configuration entity (identity, role,
// scope map, setting) as replication last saw it, with a hash of its content, so a change
// made here is told from one that arrived (replication/entity_sync.h).
constexpr const char* kSchemaV11 = R"sql(
ALTER TABLE tags ADD COLUMN hlc INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN hlc INTEGER NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT '';
CREATE TABLE journal (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  hlc         INTEGER NOT NULL,
  op          TEXT NOT NULL,
  repository  TEXT NOT NULL,
  tag         TEXT NOT NULL,
  digest      TEXT NOT NULL,
  prev_hlc    INTEGER NOT NULL,
  prev_origin TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE tombstones (
  repository TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('tag', 'manifest')),
  name       TEXT NOT NULL,
  hlc        INTEGER NOT NULL,
  origin     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repository, kind, name)
) WITHOUT ROWID;
CREATE TABLE replicated_entities (
  kind    TEXT NOT NULL,
  key     TEXT NOT NULL,
  hash    TEXT NOT NULL,
  hlc     INTEGER NOT NULL,
  origin  TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE replication_peers (
  region     TEXT PRIMARY KEY,
  applied    INTEGER NOT NULL DEFAULT 0,
  read       INTEGER NOT NULL DEFAULT 0,
  applied_at INTEGER NOT NULL DEFAULT 0,
  read_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";

// v12: a webhook may name the one replica that delivers it (docs/webhooks.md); '' (every
// webhook so far) is delivered by the replica where the change was made.
constexpr const char* kSchemaV12 = R"sql(
ALTER TABLE webhooks ADD COLUMN region TEXT NOT NULL DEFAULT '';
)sql";

constexpr Migration kMigrations[] = {{1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}, {4, kSchemaV4}, {5, kSchemaV5},
                                     {6, kSchemaV6}, {7, kSchemaV7}, {8, kSchemaV8}, {9, kSchemaV9},
                                     {10, kSchemaV10}, {11, kSchemaV11}, {12, kSchemaV12}};

}  // namespace

std::span<const Migration> schemaMigrations() { return kMigrations; }

}  // namespace berth::meta::sqlite_detail
