#pragma once
// Locks (changeable attributes, docs/metadata-api.md) and delete guards (meta::DeleteGuard,
// purge and retention) as PgMetaStore checks them inside its write transactions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "meta/meta_store.h"
#include "meta/properties_store.h"
#include "meta/postgres/pg_db.h"
#include "oci/digest.h"

namespace berth::meta::pg_detail {

// The four changeable attributes from the columns delete_enabled, write_enabled,
// list_enabled, read_enabled, in that order from `first`.
inline Attributes attributesAt(const Stmt& s, int first) {
  return Attributes{s.int64(first) != 0, s.int64(first + 1) != 0, s.int64(first + 2) != 0, s.int64(first + 3) != 0};
}

// kDenied "<what> is locked: <attribute> is false".
Error locked(std::string what, const char* attribute);

// The first of `sql`'s rows (one text column naming the locked thing), if any.
template <class... Args>
Result<std::optional<std::string>> firstLocked(Connection& c, std::string_view sql, const Args&... args) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  (stmt->bind(args), ...);
  auto row = stmt->step();
  if (!row) return row.takeError();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(stmt->text(0));
}

// kDenied unless the repository allows `column` ("write_enabled" or "delete_enabled").
Status repositoryAllows(Connection& c, int64_t repo, std::string_view repository, const char* column);

// A manifest delete (by digest) needs the repository (repositoryAllows), the manifest and
// each of its tags to allow deletes. This checks the last two: the item locks that
// DeleteGuard::ignore_item_locks skips.
Status manifestItemsDeletable(Connection& c, int64_t repo, std::string_view repository, const oci::Digest& digest);

// A tag delete's item lock: the tag's own (the repository's is repositoryAllows).
Status tagItemDeletable(Connection& c, int64_t repo, std::string_view repository, std::string_view tag);

// kConflict "<what> changed since the purge planned it".
Error changedSincePlanned(std::string what);

// deleteManifest's preconditions (guard.updated_at, guard.unreferenced; guard.digest is
// deleteTag's), read in the delete's transaction before anything changes. kManifestUnknown
// if the manifest is absent, as the unguarded delete answers.
Status manifestGuardHolds(Connection& c, int64_t repo, std::string_view repository, const oci::Digest& digest,
                          const DeleteGuard& guard);

// deleteTag's preconditions (guard.digest, guard.updated_at), like manifestGuardHolds.
Status tagGuardHolds(Connection& c, int64_t repo, std::string_view repository, std::string_view tag,
                     const DeleteGuard& guard);

// Moving `tag` to `digest` needs the tag and the manifest it points to now to allow writes.
Status tagMovable(Connection& c, int64_t repo, std::string_view repository, std::string_view tag,
                  const oci::Digest& digest);

}  // namespace berth::meta::pg_detail
