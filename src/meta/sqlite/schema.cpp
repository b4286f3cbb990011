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

constexpr Migration kMigrations[] = {{1, kSchemaV1}};

}  // namespace

std::span<const Migration> schemaMigrations() { return kMigrations; }

}  // namespace berth::meta::sqlite_detail
