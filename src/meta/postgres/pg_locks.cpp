#include "meta/postgres/pg_locks.h"

namespace berth::meta::pg_detail {

// --- locks (changeableAttributes, docs/metadata-api.md) ---

Error locked(std::string what, const char* attribute) {
  return makeError(Code::kDenied, what + " is locked: " + attribute + " is false");
}

Status repositoryAllows(Connection& c, int64_t repo, std::string_view repository, const char* column) {
  const std::string_view sql = std::string_view(column) == "write_enabled"
                                   ? "SELECT 1 FROM repositories WHERE id = ? AND write_enabled = 0"
                                   : "SELECT 1 FROM repositories WHERE id = ? AND delete_enabled = 0";
  auto found = firstLocked(c, sql, repo);
  if (!found) return found.takeError();
  if (*found) {
    return locked("repository " + std::string(repository),
                  std::string_view(column) == "write_enabled" ? "writeEnabled" : "deleteEnabled");
  }
  return okStatus();
}

// A manifest delete (by digest) needs the repository (repositoryAllows), the manifest and
// each of its tags to allow deletes. This checks the last two: the item locks that
// DeleteGuard::ignore_item_locks skips.
Status manifestItemsDeletable(Connection& c, int64_t repo, std::string_view repository, const oci::Digest& digest) {
  auto m = firstLocked(c, "SELECT digest FROM manifests WHERE repo_id = ? AND digest = ? AND delete_enabled = 0",
                       repo, digest);
  if (!m) return m.takeError();
  if (*m) return locked("manifest " + std::string(repository) + "@" + **m, "deleteEnabled");
  auto t = firstLocked(c, "SELECT name FROM tags WHERE repo_id = ? AND digest = ? AND delete_enabled = 0 LIMIT 1",
                       repo, digest);
  if (!t) return t.takeError();
  if (*t) return locked("tag " + std::string(repository) + ":" + **t, "deleteEnabled");
  return okStatus();
}

// A tag delete's item lock: the tag's own (the repository's is repositoryAllows).
Status tagItemDeletable(Connection& c, int64_t repo, std::string_view repository, std::string_view tag) {
  auto t = firstLocked(c, "SELECT name FROM tags WHERE repo_id = ? AND name = ? AND delete_enabled = 0", repo, tag);
  if (!t) return t.takeError();
  if (*t) return locked("tag " + std::string(repository) + ":" + **t, "deleteEnabled");
  return okStatus();
}

// --- delete guards (DeleteGuard: deletes planned by purge and retention) ---

Error changedSincePlanned(std::string what) {
  return makeError(Code::kConflict, what + " changed since the purge planned it");
}

// deleteManifest's preconditions (guard.updated_at, guard.unreferenced; guard.digest is
// deleteTag's), read in the delete's transaction before anything changes. kManifestUnknown
// if the manifest is absent, as the unguarded delete answers.
Status manifestGuardHolds(Connection& c, int64_t repo, std::string_view repository, const oci::Digest& digest,
                          const DeleteGuard& guard) {
  if (!guard.updated_at && !guard.unreferenced) return okStatus();
  // Each reference check is an index lookup: tags_by_manifest, manifest_child_refs_by_digest
  // (then the parent's row by id), manifests(repo_id, digest).
  auto stmt = c.prepare(
      "SELECT m.updated_at,"
      " EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest)"
      " OR EXISTS (SELECT 1 FROM manifest_child_refs r JOIN manifests p ON p.id = r.manifest_id"
      "  WHERE r.digest = m.digest AND p.repo_id = m.repo_id)"
      " OR (m.subject IS NOT NULL AND EXISTS (SELECT 1 FROM manifests s"
      "  WHERE s.repo_id = m.repo_id AND s.digest = m.subject))"
      " FROM manifests m WHERE m.repo_id = ? AND m.digest = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(repo).bind(digest).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
  const bool stale = guard.updated_at && stmt->int64(0) != *guard.updated_at;
  const bool referenced = guard.unreferenced && stmt->int64(1) != 0;
  if (stale || referenced) return changedSincePlanned("manifest " + std::string(repository) + "@" + digest.str());
  return okStatus();
}

// deleteTag's preconditions (guard.digest, guard.updated_at), like manifestGuardHolds.
Status tagGuardHolds(Connection& c, int64_t repo, std::string_view repository, std::string_view tag,
                     const DeleteGuard& guard) {
  if (!guard.digest && !guard.updated_at) return okStatus();
  auto stmt = c.prepare("SELECT digest, updated_at FROM tags WHERE repo_id = ? AND name = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(repo).bind(tag).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kManifestUnknown, "tag unknown to repository");
  const bool moved = guard.digest && stmt->text(0) != guard.digest->str();
  const bool stale = guard.updated_at && stmt->int64(1) != *guard.updated_at;
  if (moved || stale) return changedSincePlanned("tag " + std::string(repository) + ":" + std::string(tag));
  return okStatus();
}

// Moving `tag` to `digest` needs the tag and the manifest it points to now to allow writes.
Status tagMovable(Connection& c, int64_t repo, std::string_view repository, std::string_view tag,
                  const oci::Digest& digest) {
  auto t = firstLocked(c, "SELECT name FROM tags WHERE repo_id = ? AND name = ? AND digest != ? AND write_enabled = 0",
                       repo, tag, digest);
  if (!t) return t.takeError();
  if (*t) return locked("tag " + std::string(repository) + ":" + std::string(tag), "writeEnabled");
  auto m = firstLocked(c,
                       "SELECT m.digest FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest"
                       " WHERE t.repo_id = ? AND t.name = ? AND t.digest != ? AND m.write_enabled = 0",
                       repo, tag, digest);
  if (!m) return m.takeError();
  if (*m) return locked("manifest " + std::string(repository) + "@" + **m, "writeEnabled");
  return okStatus();
}

}  // namespace berth::meta::pg_detail
