#include "meta/postgres/pg_recycle_store.h"

#include <algorithm>
#include <set>

#include "meta/postgres/pg_db.h"
#include "meta/postgres/pg_locks.h"
#include "meta/postgres/pg_quota_store.h"

namespace berth::meta {

namespace pg_detail {
namespace {

// The item row, with the repository row's times and attributes (restored with a
// repository item only).
Result<int64_t> newItem(Connection& c, RecycleKind kind, int64_t repo, std::string_view digest,
                        std::string_view tag, const RecycleBinOptions& options) {
  auto stmt = c.prepare(
      "INSERT INTO recycle_items(kind, repository, digest, tag, deleted_at, expires_at, repo_created_at,"
      " repo_updated_at, repo_delete_enabled, repo_write_enabled, repo_list_enabled, repo_read_enabled)"
      " SELECT ?1, name, ?2, ?3, ?4, ?5, created_at, updated_at, delete_enabled, write_enabled,"
      " list_enabled, read_enabled FROM repositories WHERE id = ?6 RETURNING id");
  if (!stmt) return stmt.takeError();
  const int64_t t = now();
  auto row = stmt->bind(recycleKindName(kind)).bind(digest).bind(tag).bind(t).bind(t + options.retention_seconds)
                 .bind(repo)
                 .step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kInternal, "recycle item insert returned no id");
  return stmt->int64(0);
}

Status copyManifest(Connection& c, int64_t item, int64_t manifest_id) {
  if (auto s = execute(c,
                       "INSERT INTO recycle_manifests(item_id, digest, media_type, artifact_type, bytes, size,"
                       " annotations, subject, created_at, updated_at, architecture, os, delete_enabled,"
                       " write_enabled, list_enabled, read_enabled)"
                       " SELECT ?1, digest, media_type, artifact_type, bytes, size, annotations, subject,"
                       " created_at, updated_at, architecture, os, delete_enabled, write_enabled, list_enabled,"
                       " read_enabled FROM manifests WHERE id = ?2 ON CONFLICT DO NOTHING",
                       item, manifest_id);
      !s) {
    return s;
  }
  if (auto s = execute(c,
                       "INSERT INTO recycle_manifest_refs(item_id, manifest, kind, digest)"
                       " SELECT ?1, m.digest, 'blob', r.digest FROM manifest_blob_refs r"
                       " JOIN manifests m ON m.id = r.manifest_id WHERE r.manifest_id = ?2 ON CONFLICT DO NOTHING",
                       item, manifest_id);
      !s) {
    return s;
  }
  return execute(c,
                 "INSERT INTO recycle_manifest_refs(item_id, manifest, kind, digest)"
                 " SELECT ?1, m.digest, 'child', r.digest FROM manifest_child_refs r"
                 " JOIN manifests m ON m.id = r.manifest_id WHERE r.manifest_id = ?2 ON CONFLICT DO NOTHING",
                 item, manifest_id);
}

// The manifest and, recursively, the children of the repository it references.
Status copyManifestTree(Connection& c, int64_t item, int64_t repo, std::string_view digest) {
  auto stmt = c.prepare(
      "WITH RECURSIVE tree(id) AS ("
      " SELECT id FROM manifests WHERE repo_id = ?1 AND digest = ?2"
      " UNION SELECT m.id FROM tree JOIN manifest_child_refs r ON r.manifest_id = tree.id"
      " JOIN manifests m ON m.repo_id = ?1 AND m.digest = r.digest)"
      " SELECT id FROM tree");
  if (!stmt) return stmt.takeError();
  auto ids = stmt->bind(repo).bind(digest).collect([](Stmt& s) { return s.int64(0); });
  if (!ids) return ids.takeError();
  for (int64_t id : *ids) {
    if (auto s = copyManifest(c, item, id); !s) return s;
  }
  return okStatus();
}

// The blob links of the manifests copied (all of the repository's for a repository),
// then the item's blob references: every blob a copied manifest references or a copied
// link names.
Status copyLinksAndRefs(Connection& c, int64_t item, int64_t repo, bool all_links) {
  Status s = all_links
                 ? execute(c,
                           "INSERT INTO recycle_blob_links(item_id, digest, size, created_at)"
                           " SELECT ?1, digest, size, created_at FROM blob_links WHERE repo_id = ?2",
                           item, repo)
                 : execute(c,
                           "INSERT INTO recycle_blob_links(item_id, digest, size, created_at)"
                           " SELECT ?1, digest, size, created_at FROM blob_links WHERE repo_id = ?2 AND digest IN"
                           " (SELECT digest FROM recycle_manifest_refs WHERE item_id = ?1 AND kind = 'blob')",
                           item, repo);
  if (!s) return s;
  return execute(c,
                 "INSERT INTO recycle_blob_refs(item_id, digest)"
                 " SELECT ?1, digest FROM recycle_manifest_refs WHERE item_id = ?1 AND kind = 'blob'"
                 " UNION SELECT ?1, digest FROM recycle_blob_links WHERE item_id = ?1",
                 item);
}

constexpr const char* kTagColumns =
    "name, digest, created_at, updated_at, delete_enabled, write_enabled, list_enabled, read_enabled";

}  // namespace

Status binManifest(Connection& c, int64_t repo, std::string_view repository, const oci::Digest& digest,
                   const RecycleBinOptions& options) {
  (void)repository;
  auto item = newItem(c, RecycleKind::kManifest, repo, digest.str(), "", options);
  if (!item) return item.takeError();
  if (auto s = copyManifestTree(c, *item, repo, digest.str()); !s) return s;
  if (auto s = execute(c,
                       "INSERT INTO recycle_tags(item_id, name, digest, created_at, updated_at, delete_enabled,"
                       " write_enabled, list_enabled, read_enabled) SELECT ?1, name, digest, created_at, updated_at,"
                       " delete_enabled, write_enabled, list_enabled, read_enabled FROM tags"
                       " WHERE repo_id = ?2 AND digest = ?3",
                       *item, repo, digest);
      !s) {
    return s;
  }
  return copyLinksAndRefs(c, *item, repo, false);
}

Status binTag(Connection& c, int64_t repo, std::string_view repository, std::string_view tag,
              const RecycleBinOptions& options) {
  (void)repository;
  auto stmt = c.prepare("SELECT digest FROM tags WHERE repo_id = ? AND name = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(repo).bind(tag).step();
  if (!row) return row.takeError();
  if (!*row) return okStatus();  // the delete reports the unknown tag
  const std::string digest = stmt->text(0);
  auto item = newItem(c, RecycleKind::kTag, repo, digest, tag, options);
  if (!item) return item.takeError();
  if (auto s = copyManifestTree(c, *item, repo, digest); !s) return s;
  if (auto s = execute(c,
                       "INSERT INTO recycle_tags(item_id, name, digest, created_at, updated_at, delete_enabled,"
                       " write_enabled, list_enabled, read_enabled) SELECT ?1, name, digest, created_at, updated_at,"
                       " delete_enabled, write_enabled, list_enabled, read_enabled FROM tags"
                       " WHERE repo_id = ?2 AND name = ?3",
                       *item, repo, tag);
      !s) {
    return s;
  }
  return copyLinksAndRefs(c, *item, repo, false);
}

Status binRepository(Connection& c, int64_t repo, std::string_view repository, const RecycleBinOptions& options) {
  (void)repository;
  auto item = newItem(c, RecycleKind::kRepository, repo, "", "", options);
  if (!item) return item.takeError();
  auto stmt = c.prepare("SELECT id FROM manifests WHERE repo_id = ?");
  if (!stmt) return stmt.takeError();
  auto ids = stmt->bind(repo).collect([](Stmt& s) { return s.int64(0); });
  if (!ids) return ids.takeError();
  for (int64_t id : *ids) {
    if (auto s = copyManifest(c, *item, id); !s) return s;
  }
  if (auto s = execute(c,
                       "INSERT INTO recycle_tags(item_id, name, digest, created_at, updated_at, delete_enabled,"
                       " write_enabled, list_enabled, read_enabled) SELECT ?1, name, digest, created_at, updated_at,"
                       " delete_enabled, write_enabled, list_enabled, read_enabled FROM tags WHERE repo_id = ?2",
                       *item, repo);
      !s) {
    return s;
  }
  return copyLinksAndRefs(c, *item, repo, true);
}

namespace {

Result<RecycleItem> readItem(Connection& c, int64_t id) {
  auto stmt = c.prepare(
      "SELECT kind, repository, digest, deleted_at, expires_at,"
      " (SELECT COUNT(*) FROM recycle_manifests WHERE item_id = ?1)"
      " FROM recycle_items WHERE id = ?1");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(id).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kNotFound, "no such item in the recycle bin");
  RecycleItem item;
  item.id = id;
  item.kind = parseRecycleKind(stmt->text(0)).value_or(RecycleKind::kManifest);
  item.repository = stmt->text(1);
  item.digest = stmt->text(2);
  item.deleted_at = stmt->int64(3);
  item.expires_at = stmt->int64(4);
  item.manifests = stmt->uint64(5);
  auto tags = c.prepare("SELECT name FROM recycle_tags WHERE item_id = ? ORDER BY name");
  if (!tags) return tags.takeError();
  auto names = tags->bind(id).collect([](Stmt& s) { return s.text(0); });
  if (!names) return names.takeError();
  item.tags = std::move(*names);
  return item;
}

struct BinnedManifest {
  std::string digest;
  std::string media_type;
  uint64_t size = 0;
};

Result<RestoredItem> restoreItem(Connection& c, int64_t id, const RestoreEventFn& event) {
  auto item = readItem(c, id);
  if (!item) return item.takeError();
  const bool whole = item->kind == RecycleKind::kRepository;

  auto found = findRepository(c, item->repository);
  if (!found) return found.takeError();
  int64_t repo = 0;
  auto quota_before = coveringQuotaUsage(c, item->repository);
  if (!quota_before) return quota_before.takeError();
  if (*found) {
    repo = **found;
    // A restore writes into the repository: its write lock holds.
    if (auto l = repositoryAllows(c, repo, item->repository, "write_enabled"); !l) return l.takeError();
    // Tags now naming another manifest: refuse rather than move them silently.
    auto clash = c.prepare(
        "SELECT rt.name, t.digest FROM recycle_tags rt JOIN tags t ON t.repo_id = ?1 AND t.name = rt.name"
        " WHERE rt.item_id = ?2 AND t.digest != rt.digest ORDER BY rt.name LIMIT 1");
    if (!clash) return clash.takeError();
    auto row = clash->bind(repo).bind(id).step();
    if (!row) return row.takeError();
    if (*row) {
      return makeError(Code::kConflict, "tag '" + clash->text(0) + "' of " + item->repository + " now points to " +
                                            clash->text(1) + "; delete or move it before restoring");
    }
    if (whole) {
      // The older creation time wins; attributes stay as the live repository has them.
      auto s = execute(c,
                       "UPDATE repositories SET created_at = (SELECT LEAST(repositories.created_at, repo_created_at)"
                       " FROM recycle_items WHERE id = ?2) WHERE id = ?1",
                       repo, id);
      if (!s) return s.takeError();
    }
  } else {
    // A repository comes back with its own times and attributes; anything else into a
    // repository created now.
    auto stmt = c.prepare(
        "INSERT INTO repositories(name, created_at, updated_at, delete_enabled, write_enabled, list_enabled,"
        " read_enabled) SELECT repository,"
        " CASE WHEN ?2 = 1 THEN repo_created_at ELSE ?3 END, CASE WHEN ?2 = 1 THEN repo_updated_at ELSE ?3 END,"
        " CASE WHEN ?2 = 1 THEN repo_delete_enabled ELSE 1 END, CASE WHEN ?2 = 1 THEN repo_write_enabled ELSE 1 END,"
        " CASE WHEN ?2 = 1 THEN repo_list_enabled ELSE 1 END, CASE WHEN ?2 = 1 THEN repo_read_enabled ELSE 1 END"
        " FROM recycle_items WHERE id = ?1 RETURNING id");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(id).bind(int64_t{whole ? 1 : 0}).bind(now()).step();
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kInternal, "repository insert returned no id");
    repo = stmt->int64(0);
  }

  // What is not live yet, before putting it back.
  auto missing = c.prepare(
      "SELECT digest, media_type, size FROM recycle_manifests rm WHERE item_id = ?1 AND NOT EXISTS"
      " (SELECT 1 FROM manifests m WHERE m.repo_id = ?2 AND m.digest = rm.digest) ORDER BY digest");
  if (!missing) return missing.takeError();
  auto manifests = missing->bind(id).bind(repo).collect(
      [](Stmt& s) { return BinnedManifest{s.text(0), s.text(1), s.uint64(2)}; });
  if (!manifests) return manifests.takeError();
  auto missing_tags = c.prepare(
      "SELECT rt.name, rt.digest, rm.media_type, rm.size FROM recycle_tags rt"
      " LEFT JOIN recycle_manifests rm ON rm.item_id = rt.item_id AND rm.digest = rt.digest"
      " WHERE rt.item_id = ?1 AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repo_id = ?2 AND t.name = rt.name)"
      " ORDER BY rt.name");
  if (!missing_tags) return missing_tags.takeError();
  struct BinnedTag {
    std::string name;
    BinnedManifest manifest;
  };
  auto tags = missing_tags->bind(id).bind(repo).collect(
      [](Stmt& s) { return BinnedTag{s.text(0), BinnedManifest{s.text(1), s.text(2), s.uint64(3)}}; });
  if (!tags) return tags.takeError();

  const char* const kStatements[] = {
      "INSERT INTO blob_links(repo_id, digest, size, created_at)"
      " SELECT ?1, digest, size, created_at FROM recycle_blob_links WHERE item_id = ?2"
      " ON CONFLICT(repo_id, digest) DO NOTHING",
      "INSERT INTO manifests(repo_id, digest, media_type, artifact_type, bytes, size, annotations, subject,"
      " created_at, updated_at, architecture, os, delete_enabled, write_enabled, list_enabled, read_enabled)"
      " SELECT ?1, digest, media_type, artifact_type, bytes, size, annotations, subject, created_at, updated_at,"
      " architecture, os, delete_enabled, write_enabled, list_enabled, read_enabled FROM recycle_manifests"
      " WHERE item_id = ?2 ON CONFLICT(repo_id, digest) DO NOTHING",
      "INSERT INTO manifest_blob_refs(manifest_id, digest)"
      " SELECT m.id, r.digest FROM recycle_manifest_refs r JOIN manifests m ON m.repo_id = ?1"
      " AND m.digest = r.manifest WHERE r.item_id = ?2 AND r.kind = 'blob' ON CONFLICT DO NOTHING",
      "INSERT INTO manifest_child_refs(manifest_id, digest)"
      " SELECT m.id, r.digest FROM recycle_manifest_refs r JOIN manifests m ON m.repo_id = ?1"
      " AND m.digest = r.manifest WHERE r.item_id = ?2 AND r.kind = 'child' ON CONFLICT DO NOTHING",
      "INSERT INTO tags(repo_id, name, digest, created_at, updated_at, delete_enabled, write_enabled,"
      " list_enabled, read_enabled) SELECT ?1, name, digest, created_at, updated_at, delete_enabled,"
      " write_enabled, list_enabled, read_enabled FROM recycle_tags WHERE item_id = ?2"
      " ON CONFLICT(repo_id, name) DO NOTHING",
  };
  for (const char* sql : kStatements) {
    if (auto s = execute(c, sql, repo, id); !s) return s.takeError();
  }
  if (*found || !whole) {
    auto s = execute(c, "UPDATE repositories SET updated_at = GREATEST(updated_at, ?) WHERE id = ?", now(), repo);
    if (!s) return s.takeError();
  }
  // The quota triggers counted what came back: refuse (the transaction rolls back) if a quota
  // went over its limit.
  if (auto q = checkQuotaGrowth(c, item->repository, *quota_before); !q) return q.takeError();

  RestoredItem out;
  std::set<std::string> tagged;
  for (const auto& t : *tags) {
    out.tags.push_back(t.name);
    tagged.insert(t.manifest.digest);
  }
  for (const auto& m : *manifests) {
    auto digest = oci::Digest::parse(m.digest);
    if (!digest) return makeError(Code::kCorrupt, "recycle bin holds an invalid digest: " + m.digest);
    out.manifests.push_back(*digest);
  }
  if (event) {
    for (const auto& t : *tags) {
      auto digest = oci::Digest::parse(t.manifest.digest);
      if (!digest) continue;
      if (auto s = appendEvent(c, event(*digest, t.manifest.media_type, t.manifest.size, t.name)); !s) {
        return s.takeError();
      }
    }
    // Root manifests put back without a tag (an index's children are not announced
    // separately, as a push of the index does not announce them either).
    for (const auto& m : *manifests) {
      const bool root = whole || m.digest == item->digest;
      if (!root || tagged.count(m.digest) != 0) continue;
      auto digest = oci::Digest::parse(m.digest);
      if (!digest) continue;
      if (auto s = appendEvent(c, event(*digest, m.media_type, m.size, "")); !s) return s.takeError();
    }
  }
  if (auto s = execute(c, "DELETE FROM recycle_items WHERE id = ?", id); !s) return s.takeError();
  out.item = std::move(*item);
  return out;
}

}  // namespace
}  // namespace pg_detail

using pg_detail::Connection;
using pg_detail::Stmt;

PgRecycleStore::PgRecycleStore(std::shared_ptr<pg_detail::Database> db) : db_(std::move(db)) {}
PgRecycleStore::~PgRecycleStore() = default;

Result<std::vector<RecycleItem>> PgRecycleStore::list(const RecycleQuery& q) {
  return db_->read([&](Connection& c) -> Result<std::vector<RecycleItem>> {
    auto stmt = c.prepare(
        "SELECT id FROM recycle_items i WHERE (?1 = '' OR repository = ?1) AND (?2 = '' OR kind = ?2)"
        " AND (?3 = '' OR EXISTS (SELECT 1 FROM recycle_tags t WHERE t.item_id = i.id AND t.name = ?3))"
        " AND (?4 = '' OR digest = ?4) AND (?5 = 0 OR id < ?5) ORDER BY id DESC LIMIT ?6");
    if (!stmt) return stmt.takeError();
    stmt->bind(q.repository)
        .bind(q.kind ? recycleKindName(*q.kind) : "")
        .bind(q.tag)
        .bind(q.digest)
        .bind(q.before_id)
        .bindLimit(q.limit);
    auto ids = stmt->collect([](Stmt& s) { return s.int64(0); });
    if (!ids) return ids.takeError();
    std::vector<RecycleItem> out;
    for (int64_t id : *ids) {
      auto item = pg_detail::readItem(c, id);
      if (!item) return item.takeError();
      out.push_back(std::move(*item));
    }
    return out;
  });
}

Result<RecycleItem> PgRecycleStore::get(int64_t id) {
  return db_->read([&](Connection& c) { return pg_detail::readItem(c, id); });
}

Result<RestoredItem> PgRecycleStore::restore(int64_t id, const RestoreEventFn& event) {
  return db_->write([&](Connection& c) { return pg_detail::restoreItem(c, id, event); });
}

Status PgRecycleStore::purge(int64_t id) {
  return db_->write([&](Connection& c) -> Status {
    if (auto s = pg_detail::execute(c, "DELETE FROM recycle_items WHERE id = ?", id); !s) return s;
    if (c.changes() == 0) return makeError(Code::kNotFound, "no such item in the recycle bin");
    return okStatus();
  });
}

Result<uint64_t> PgRecycleStore::purgeExpired(int64_t now, size_t limit) {
  return db_->write([&](Connection& c) -> Result<uint64_t> {
    auto stmt = c.prepare(
        "DELETE FROM recycle_items WHERE id IN"
        " (SELECT id FROM recycle_items WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)");
    if (!stmt) return stmt.takeError();
    if (auto s = stmt->bind(now).bindLimit(limit).run(); !s) return s.takeError();
    return static_cast<uint64_t>(c.changes());
  });
}

Result<std::vector<RecycledRepository>> PgRecycleStore::listRecycledRepositories(const std::string& after,
                                                                                     size_t limit) {
  return db_->read([&](Connection& c) -> Result<std::vector<RecycledRepository>> {
    auto stmt = c.prepare(
        "SELECT repository, MIN(repo_created_at), MAX(deleted_at) FROM recycle_items WHERE repository > ?1"
        " GROUP BY repository ORDER BY repository LIMIT ?2");
    if (!stmt) return stmt.takeError();
    stmt->bind(after).bindLimit(limit);
    return stmt->collect([](Stmt& s) { return RecycledRepository{s.text(0), s.int64(1), s.int64(2)}; });
  });
}

Result<std::vector<RecycledManifest>> PgRecycleStore::listRecycledManifests(const std::string& repository,
                                                                                const RecycledCursor& after,
                                                                                size_t limit) {
  return db_->read([&](Connection& c) -> Result<std::vector<RecycledManifest>> {
    // A manifest item's root (its children may still be live), every manifest of a
    // repository item; a tag item's manifest was not deleted. After the cursor: a greater
    // digest, or the same one in a later item (item_id 0: none of that digest).
    auto stmt = c.prepare(
        "SELECT i.id, m.digest, m.media_type, m.size, m.created_at, i.deleted_at"
        " FROM recycle_items i JOIN recycle_manifests m ON m.item_id = i.id"
        " WHERE i.repository = ?1 AND (i.kind = 'repository' OR (i.kind = 'manifest' AND m.digest = i.digest))"
        " AND (m.digest > ?2 OR (m.digest = ?2 AND ?3 <> 0 AND i.id > ?3)) ORDER BY m.digest, i.id LIMIT ?4");
    if (!stmt) return stmt.takeError();
    stmt->bind(repository).bind(after.key).bind(after.item_id).bindLimit(limit);
    auto rows = stmt->collect([](Stmt& s) {
      RecycledManifest m;
      m.item_id = s.int64(0);
      m.digest = s.text(1);
      m.media_type = s.text(2);
      m.size = s.uint64(3);
      m.created_at = s.int64(4);
      m.deleted_at = s.int64(5);
      return m;
    });
    if (!rows) return rows.takeError();
    for (auto& m : *rows) {
      auto tags = c.prepare("SELECT name FROM recycle_tags WHERE item_id = ? AND digest = ? ORDER BY name");
      if (!tags) return tags.takeError();
      auto names = tags->bind(m.item_id).bind(m.digest).collect([](Stmt& s) { return s.text(0); });
      if (!names) return names.takeError();
      m.tags = std::move(*names);
    }
    return rows;
  });
}

Result<std::vector<RecycledTag>> PgRecycleStore::listRecycledTags(const std::string& repository,
                                                                      const RecycledCursor& after, size_t limit) {
  return db_->read([&](Connection& c) -> Result<std::vector<RecycledTag>> {
    auto stmt = c.prepare(
        "SELECT i.id, t.name, t.digest, t.created_at, i.deleted_at"
        " FROM recycle_items i JOIN recycle_tags t ON t.item_id = i.id WHERE i.repository = ?1"
        " AND (t.name > ?2 OR (t.name = ?2 AND ?3 <> 0 AND i.id > ?3)) ORDER BY t.name, i.id LIMIT ?4");
    if (!stmt) return stmt.takeError();
    stmt->bind(repository).bind(after.key).bind(after.item_id).bindLimit(limit);
    return stmt->collect(
        [](Stmt& s) { return RecycledTag{s.int64(0), s.text(1), s.text(2), s.int64(3), s.int64(4)}; });
  });
}

Result<int64_t> PgRecycleStore::findRecycledManifest(const std::string& repository, const std::string& digest,
                                                         const std::string& tag) {
  return db_->read([&](Connection& c) -> Result<int64_t> {
    auto stmt = c.prepare(
        tag.empty()
            ? "SELECT i.id FROM recycle_items i WHERE i.repository = ?1 AND ?3 = '' AND"
              " ((i.kind = 'manifest' AND i.digest = ?2) OR (i.kind = 'repository' AND EXISTS"
              " (SELECT 1 FROM recycle_manifests m WHERE m.item_id = i.id AND m.digest = ?2)))"
              " ORDER BY i.id DESC LIMIT 1"
            : "SELECT i.id FROM recycle_items i JOIN recycle_tags t ON t.item_id = i.id"
              " WHERE i.repository = ?1 AND t.digest = ?2 AND t.name = ?3 ORDER BY i.id DESC LIMIT 1");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(digest).bind(tag).step();
    if (!row) return row.takeError();
    if (!*row) {
      return makeError(Code::kNotFound, tag.empty() ? "no deleted manifest " + digest + " of " + repository +
                                                          " in the recycle bin"
                                                    : "no deleted tag " + repository + ":" + tag + " on " + digest +
                                                          " in the recycle bin");
    }
    return stmt->int64(0);
  });
}

}  // namespace berth::meta
