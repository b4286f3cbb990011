#include "meta/postgres/pg_gc_store.h"

#include "meta/postgres/pg_db.h"

namespace berth::meta {

using pg_detail::Connection;
using pg_detail::storedDigest;

namespace {

}  // namespace

PgGcStore::PgGcStore(std::shared_ptr<pg_detail::Database> db) : db_(std::move(db)) {}
PgGcStore::~PgGcStore() = default;

Result<std::vector<GcBlob>> PgGcStore::unreferencedBlobs(int64_t linked_before, std::string_view after,
                                                             size_t n) {
  return db_->read([&](Connection& c) -> Result<std::vector<GcBlob>> {
    // Walks blob_links_by_digest in digest order; the reference checks are index lookups.
    auto stmt = c.prepare(
        "SELECT b.digest, MAX(b.size), MAX(b.created_at) FROM blob_links b"
        " WHERE b.digest > ?1"
        " AND NOT EXISTS (SELECT 1 FROM manifest_blob_refs r WHERE r.digest = b.digest)"
        " AND NOT EXISTS (SELECT 1 FROM recycle_blob_refs x WHERE x.digest = b.digest)"
        " GROUP BY b.digest HAVING MAX(b.created_at) <= ?2"
        " ORDER BY b.digest LIMIT ?3");
    if (!stmt) return stmt.takeError();
    stmt->bind(after).bind(linked_before).bindLimit(n);
    std::vector<GcBlob> out;
    for (;;) {
      auto row = stmt->step();
      if (!row) return row.takeError();
      if (!*row) return out;
      auto digest = storedDigest(stmt->text(0));
      if (!digest) return digest.takeError();
      out.push_back(GcBlob{std::move(*digest), stmt->uint64(1), stmt->int64(2)});
    }
  });
}

Result<std::vector<oci::Digest>> PgGcStore::unlinked(const std::vector<oci::Digest>& digests) {
  return db_->read([&](Connection& c) -> Result<std::vector<oci::Digest>> {
    std::vector<oci::Digest> out;
    for (const auto& d : digests) {
      auto stmt = c.prepare("SELECT 1 FROM blob_links WHERE digest = ? LIMIT 1");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(d).step();
      if (!row) return row.takeError();
      if (!*row) out.push_back(d);
    }
    return out;
  });
}

Result<std::optional<std::vector<std::string>>> PgGcStore::unlinkIfUnreferenced(const oci::Digest& digest,
                                                                                    int64_t linked_before) {
  using Out = std::optional<std::vector<std::string>>;
  return db_->write([&](Connection& c) -> Result<Out> {
    {
      auto stmt = c.prepare(
          "SELECT EXISTS (SELECT 1 FROM manifest_blob_refs WHERE digest = ?1)"
          " OR EXISTS (SELECT 1 FROM recycle_blob_refs WHERE digest = ?1)"
          " OR EXISTS (SELECT 1 FROM blob_links WHERE digest = ?1 AND created_at > ?2)");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(digest).bind(linked_before).step();
      if (!row) return row.takeError();
      if (*row && stmt->int64(0) != 0) return Out();
    }
    std::vector<std::pair<int64_t, std::string>> repos;
    {
      auto stmt = c.prepare(
          "SELECT r.id, r.name FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE b.digest = ?");
      if (!stmt) return stmt.takeError();
      stmt->bind(digest);
      auto rows = stmt->collect([](pg_detail::Stmt& s) { return std::pair(s.int64(0), s.text(1)); });
      if (!rows) return rows.takeError();
      repos = std::move(*rows);
    }
    if (auto s = pg_detail::execute(c, "DELETE FROM blob_links WHERE digest = ?", digest); !s) {
      return s.takeError();
    }
    std::vector<std::string> names;
    for (auto& [id, name] : repos) {
      // A repository exists while it has a manifest or a blob link (meta_store.h).
      auto s = pg_detail::execute(c,
                                      "DELETE FROM repositories WHERE id = ?1"
                                      " AND NOT EXISTS (SELECT 1 FROM blob_links WHERE repo_id = ?1)"
                                      " AND NOT EXISTS (SELECT 1 FROM manifests WHERE repo_id = ?1)",
                                      id);
      if (!s) return s.takeError();
      names.push_back(std::move(name));
    }
    return Out(std::move(names));
  });
}

Result<std::vector<UploadRecord>> PgGcStore::staleUploads(int64_t updated_before, size_t n) {
  return db_->read([&](Connection& c) -> Result<std::vector<UploadRecord>> {
    auto stmt = c.prepare(
        "SELECT id, repository, upload_offset, created_at, updated_at FROM uploads"
        " WHERE updated_at <= ? ORDER BY updated_at, id LIMIT ?");
    if (!stmt) return stmt.takeError();
    stmt->bind(updated_before).bindLimit(n);
    return stmt->collect([](pg_detail::Stmt& s) {
      return UploadRecord{s.text(0), s.text(1), s.uint64(2), s.int64(3), s.int64(4)};
    });
  });
}

Result<std::vector<std::string>> PgGcStore::existingUploads(const std::vector<std::string>& ids) {
  return db_->read([&](Connection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const auto& id : ids) {
      auto stmt = c.prepare("SELECT 1 FROM uploads WHERE id = ?");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(id).step();
      if (!row) return row.takeError();
      if (*row) out.push_back(id);
    }
    return out;
  });
}

}  // namespace berth::meta
