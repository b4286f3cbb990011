#include "meta/sqlite/sqlite_properties_store.h"

#include "meta/sqlite/sqlite_db.h"
#include "meta/sqlite/sqlite_locks.h"

namespace berth::meta {

using sqlite_detail::attributesAt;
using sqlite_detail::Connection;
using sqlite_detail::storedDigest;
using sqlite_detail::Stmt;

namespace {

// Statements are cached by the address of their text, so every SQL string here is built
// once and kept.
struct OrderedSql {
  std::string by_name, time_desc, time_asc;
  const std::string& operator[](PropertiesOrder o) const {
    return o == PropertiesOrder::kName ? by_name : o == PropertiesOrder::kTimeDesc ? time_desc : time_asc;
  }
};

// `select` ends with a WHERE clause selecting the repository (?1) and any filter; ?2 is
// `last`, ?3 the page size; `key` is the unique column names and digests order by.
OrderedSql pagedSql(const std::string& select, const std::string& table, const std::string& key) {
  const std::string after = "(SELECT updated_at, " + key + " FROM " + table + " WHERE repo_id = ?1 AND " + key + " = ?2)";
  return OrderedSql{
      select + " AND " + key + " > ?2 ORDER BY " + key + " LIMIT ?3",
      select + " AND (?2 = '' OR (updated_at, " + key + ") < " + after + ") ORDER BY updated_at DESC, " + key +
          " DESC LIMIT ?3",
      select + " AND (?2 = '' OR (updated_at, " + key + ") > " + after + ") ORDER BY updated_at, " + key +
          " LIMIT ?3"};
}

constexpr const char* kAttributeColumns = "delete_enabled, write_enabled, list_enabled, read_enabled";

// Binds the four attributes of a patch; NULL keeps the column (COALESCE in the SQL).
Stmt& bindPatch(Stmt& s, const AttributesPatch& p) {
  for (const auto* v : {&p.delete_enabled, &p.write_enabled, &p.list_enabled, &p.read_enabled}) {
    if (*v) {
      s.bind(int64_t{**v ? 1 : 0});
    } else {
      s.bindNull();
    }
  }
  return s;
}

constexpr const char* kSetAttributes =
    " delete_enabled = COALESCE(?1, delete_enabled), write_enabled = COALESCE(?2, write_enabled),"
    " list_enabled = COALESCE(?3, list_enabled), read_enabled = COALESCE(?4, read_enabled),"
    " updated_at = MAX(updated_at, ?5)";

Result<int64_t> repositoryId(Connection& c, std::string_view repository) {
  auto stmt = c.prepare("SELECT id FROM repositories WHERE name = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(repository).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kNameUnknown, "repository name not known to registry");
  return stmt->int64(0);
}

// --- tags ---

const std::string& tagSelect() {
  static const std::string sql = std::string("SELECT name, digest, created_at, updated_at, ") + kAttributeColumns +
                                 " FROM tags WHERE repo_id = ?1";
  return sql;
}

Result<TagProperties> tagRow(const Stmt& s) {
  TagProperties t;
  t.name = s.text(0);
  auto d = storedDigest(s.text(1));
  if (!d) return d.takeError();
  t.digest = std::move(*d);
  t.created_at = s.int64(2);
  t.updated_at = s.int64(3);
  t.attributes = attributesAt(s, 4);
  return t;
}

Result<TagProperties> readTag(Connection& c, std::string_view repository, std::string_view tag) {
  auto repo = repositoryId(c, repository);
  if (!repo) return repo.takeError();
  static const std::string sql = tagSelect() + " AND name = ?2";
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(*repo).bind(tag).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kManifestUnknown, "tag unknown to repository");
  return tagRow(*stmt);
}

// --- manifests ---

// An index's children count with their own bytes; an image's blobs with the sizes the
// repository recorded for them.
const std::string& manifestSelect() {
  static const std::string sql =
      std::string("SELECT digest, media_type, artifact_type, bytes, created_at, updated_at, architecture, os, ") +
      kAttributeColumns +
      ", size"
      " + COALESCE((SELECT SUM(b.size) FROM manifest_blob_refs r JOIN blob_links b"
      "   ON b.repo_id = m.repo_id AND b.digest = r.digest WHERE r.manifest_id = m.id), 0)"
      " + COALESCE((SELECT SUM(k.size) FROM manifest_child_refs r JOIN manifests k"
      "   ON k.repo_id = m.repo_id AND k.digest = r.digest WHERE r.manifest_id = m.id), 0),"
      " (SELECT group_concat(name, ',') FROM (SELECT name FROM tags t"
      "   WHERE t.repo_id = m.repo_id AND t.digest = m.digest ORDER BY name))"
      " FROM manifests m WHERE repo_id = ?1";
  return sql;
}

Result<ManifestProperties> manifestRow(const Stmt& s) {
  ManifestProperties m;
  auto d = storedDigest(s.text(0));
  if (!d) return d.takeError();
  m.digest = std::move(*d);
  m.media_type = s.text(1);
  m.artifact_type = s.text(2);
  m.bytes = s.blob(3);
  m.created_at = s.int64(4);
  m.updated_at = s.int64(5);
  m.architecture = s.text(6);
  m.os = s.text(7);
  m.attributes = attributesAt(s, 8);
  m.image_size = s.uint64(12);
  const std::string tags = s.text(13);  // tag names never hold ','
  for (size_t start = 0; start < tags.size();) {
    size_t comma = tags.find(',', start);
    if (comma == std::string::npos) comma = tags.size();
    m.tags.push_back(tags.substr(start, comma - start));
    start = comma + 1;
  }
  return m;
}

Result<ManifestProperties> readManifest(Connection& c, std::string_view repository, const oci::Digest& digest) {
  auto repo = repositoryId(c, repository);
  if (!repo) {
    if (repo.code() == Code::kNameUnknown) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    return repo.takeError();
  }
  static const std::string sql = manifestSelect() + " AND digest = ?2";
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(*repo).bind(digest).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
  return manifestRow(*stmt);
}

// Collects rows that may fail to decode.
template <class T, class RowFn>
Result<std::vector<T>> rows(Stmt& stmt, RowFn row_fn) {
  std::vector<T> out;
  for (;;) {
    auto row = stmt.step();
    if (!row) return row.takeError();
    if (!*row) return out;
    auto item = row_fn(stmt);
    if (!item) return item.takeError();
    out.push_back(std::move(*item));
  }
}

Result<RepositoryProperties> readRepository(Connection& c, std::string_view repository) {
  auto stmt = c.prepare(
      "SELECT r.created_at, r.updated_at, r.delete_enabled, r.write_enabled, r.list_enabled,"
      " r.read_enabled, (SELECT COUNT(*) FROM manifests WHERE repo_id = r.id),"
      " (SELECT COUNT(*) FROM tags WHERE repo_id = r.id) FROM repositories r WHERE r.name = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(repository).step();
  if (!row) return row.takeError();
  if (!*row) return makeError(Code::kNameUnknown, "repository name not known to registry");
  RepositoryProperties p;
  p.name = std::string(repository);
  p.created_at = stmt->int64(0);
  p.updated_at = stmt->int64(1);
  p.attributes = attributesAt(*stmt, 2);
  p.manifest_count = stmt->uint64(6);
  p.tag_count = stmt->uint64(7);
  return p;
}

}  // namespace

SqlitePropertiesStore::SqlitePropertiesStore(std::shared_ptr<sqlite_detail::Database> db)
    : db_(std::move(db)) {}
SqlitePropertiesStore::~SqlitePropertiesStore() = default;

Result<RepositoryProperties> SqlitePropertiesStore::repository(std::string_view repository) {
  return db_->read([&](Connection& c) { return readRepository(c, repository); });
}

Result<RepositoryProperties> SqlitePropertiesStore::updateRepository(std::string_view repository,
                                                                     const AttributesPatch& patch) {
  return db_->write([&](Connection& c) -> Result<RepositoryProperties> {
    static const std::string sql = std::string("UPDATE repositories SET") + kSetAttributes + " WHERE name = ?6";
    auto stmt = c.prepare(sql);
    if (!stmt) return stmt.takeError();
    if (auto s = bindPatch(*stmt, patch).bind(sqlite_detail::now()).bind(repository).run(); !s) return s.takeError();
    if (c.changes() == 0) return makeError(Code::kNameUnknown, "repository name not known to registry");
    return readRepository(c, repository);
  });
}

Result<std::vector<TagProperties>> SqlitePropertiesStore::listTags(std::string_view repository,
                                                                   const PageRequest& page,
                                                                   const std::optional<oci::Digest>& digest) {
  return db_->read([&](Connection& c) -> Result<std::vector<TagProperties>> {
    auto repo = repositoryId(c, repository);
    if (!repo) return repo.takeError();
    static const OrderedSql sql =
        pagedSql(tagSelect() + " AND list_enabled = 1 AND (?4 IS NULL OR digest = ?4)", "tags", "name");
    auto stmt = c.prepare(sql[page.order]);
    if (!stmt) return stmt.takeError();
    stmt->bind(*repo).bind(page.last).bindLimit(page.n);
    if (digest) {
      stmt->bind(*digest);
    } else {
      stmt->bindNull();
    }
    return rows<TagProperties>(*stmt, tagRow);
  });
}

Result<TagProperties> SqlitePropertiesStore::tag(std::string_view repository, std::string_view tag) {
  return db_->read([&](Connection& c) { return readTag(c, repository, tag); });
}

Result<TagProperties> SqlitePropertiesStore::updateTag(std::string_view repository, std::string_view tag,
                                                       const AttributesPatch& patch) {
  return db_->write([&](Connection& c) -> Result<TagProperties> {
    auto repo = repositoryId(c, repository);
    if (!repo) return repo.takeError();
    static const std::string sql = std::string("UPDATE tags SET") + kSetAttributes + " WHERE repo_id = ?6 AND name = ?7";
    auto stmt = c.prepare(sql);
    if (!stmt) return stmt.takeError();
    if (auto s = bindPatch(*stmt, patch).bind(sqlite_detail::now()).bind(*repo).bind(tag).run(); !s) {
      return s.takeError();
    }
    if (c.changes() == 0) return makeError(Code::kManifestUnknown, "tag unknown to repository");
    return readTag(c, repository, tag);
  });
}

Result<std::vector<ManifestProperties>> SqlitePropertiesStore::listManifests(std::string_view repository,
                                                                             const PageRequest& page) {
  return db_->read([&](Connection& c) -> Result<std::vector<ManifestProperties>> {
    auto repo = repositoryId(c, repository);
    if (!repo) return repo.takeError();
    static const OrderedSql sql = pagedSql(manifestSelect() + " AND list_enabled = 1", "manifests", "digest");
    auto stmt = c.prepare(sql[page.order]);
    if (!stmt) return stmt.takeError();
    stmt->bind(*repo).bind(page.last).bindLimit(page.n);
    return rows<ManifestProperties>(*stmt, manifestRow);
  });
}

Result<ManifestProperties> SqlitePropertiesStore::manifest(std::string_view repository,
                                                           const oci::Digest& digest) {
  return db_->read([&](Connection& c) { return readManifest(c, repository, digest); });
}

Result<ManifestProperties> SqlitePropertiesStore::updateManifest(std::string_view repository,
                                                                 const oci::Digest& digest,
                                                                 const AttributesPatch& patch) {
  return db_->write([&](Connection& c) -> Result<ManifestProperties> {
    auto repo = repositoryId(c, repository);
    if (!repo) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    static const std::string sql =
        std::string("UPDATE manifests SET") + kSetAttributes + " WHERE repo_id = ?6 AND digest = ?7";
    auto stmt = c.prepare(sql);
    if (!stmt) return stmt.takeError();
    if (auto s = bindPatch(*stmt, patch).bind(sqlite_detail::now()).bind(*repo).bind(digest).run(); !s) {
      return s.takeError();
    }
    if (c.changes() == 0) return makeError(Code::kManifestUnknown, "manifest unknown to repository");
    return readManifest(c, repository, digest);
  });
}

Result<std::vector<LockedItem>> SqlitePropertiesStore::lockedItems() {
  return db_->read([&](Connection& c) -> Result<std::vector<LockedItem>> {
    static const std::string locked = " WHERE x.delete_enabled = 0 OR x.write_enabled = 0 OR x.list_enabled = 0 OR x.read_enabled = 0";
    static const std::string columns = ", x.delete_enabled, x.write_enabled, x.list_enabled, x.read_enabled";
    static const std::string sql =
        "SELECT x.name, '', ''" + columns + " FROM repositories x" + locked +
        " UNION ALL SELECT r.name, x.name, ''" + columns + " FROM tags x JOIN repositories r ON r.id = x.repo_id" + locked +
        " UNION ALL SELECT r.name, '', x.digest" + columns + " FROM manifests x JOIN repositories r ON r.id = x.repo_id" +
        locked + " ORDER BY 1, 2, 3";
    auto stmt = c.prepare(sql);
    if (!stmt) return stmt.takeError();
    return rows<LockedItem>(*stmt, [](const Stmt& s) -> Result<LockedItem> {
      LockedItem item{s.text(0), s.text(1), std::nullopt, attributesAt(s, 3)};
      if (const std::string digest = s.text(2); !digest.empty()) {
        auto d = storedDigest(digest);
        if (!d) return d.takeError();
        item.digest = std::move(*d);
      }
      return item;
    });
  });
}

}  // namespace berth::meta
