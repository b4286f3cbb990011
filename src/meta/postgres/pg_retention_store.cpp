#include "meta/postgres/pg_retention_store.h"

#include <map>
#include <optional>
#include <string>
#include <unordered_set>

#include "meta/postgres/pg_db.h"
#include "meta/postgres/pg_locks.h"

namespace berth::meta {

using pg_detail::attributesAt;
using pg_detail::Connection;
using pg_detail::Stmt;
using pg_detail::storedDigest;

namespace {

// The repository's id and own attributes, read in the caller's transaction.
struct RepositoryRow {
  int64_t id = 0;
  Attributes attributes;
};

Result<std::optional<RepositoryRow>> repositoryRow(Connection& c, std::string_view name) {
  auto stmt = c.prepare(
      "SELECT id, delete_enabled, write_enabled, list_enabled, read_enabled FROM repositories "
      "WHERE name = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(name).step();
  if (!row) return row.takeError();
  if (!*row) return std::optional<RepositoryRow>();
  return std::optional<RepositoryRow>(RepositoryRow{stmt->int64(0), attributesAt(*stmt, 1)});
}

// Every manifest of the repository, sorted by digest, without children (one query).
Result<std::vector<SnapshotManifest>> manifestsOf(Connection& c, int64_t repo) {
  auto stmt = c.prepare(
      "SELECT digest, media_type, artifact_type, size, created_at, updated_at,"
      " delete_enabled, write_enabled, list_enabled, read_enabled, subject"
      " FROM manifests WHERE repo_id = ? ORDER BY digest");
  if (!stmt) return stmt.takeError();
  std::vector<SnapshotManifest> out;
  auto s = stmt->bind(repo).each([&](Stmt& row) -> Status {
    auto digest = storedDigest(row.text(0));
    if (!digest) return digest.takeError();
    SnapshotManifest m;
    m.digest = std::move(*digest);
    m.media_type = row.text(1);
    m.artifact_type = row.text(2);
    m.size = row.uint64(3);
    m.created_at = row.int64(4);
    m.updated_at = row.int64(5);
    m.attributes = attributesAt(row, 6);
    if (!row.isNull(10)) {
      auto subject = storedDigest(row.text(10));
      if (!subject) return subject.takeError();
      m.subject = std::move(*subject);
    }
    out.push_back(std::move(m));
    return okStatus();
  });
  if (!s) return s.takeError();
  return out;
}

// Fills in each index's children with one query over the repository's child references,
// ordered like `manifests` (by digest, then child digest), and merged in one pass.
Status addChildren(Connection& c, int64_t repo, std::vector<SnapshotManifest>& manifests) {
  auto stmt = c.prepare(
      "SELECT m.digest, r.digest FROM manifests m"
      " JOIN manifest_child_refs r ON r.manifest_id = m.id"
      " WHERE m.repo_id = ? ORDER BY m.digest, r.digest");
  if (!stmt) return stmt.takeError();
  size_t i = 0;
  return stmt->bind(repo).each([&](Stmt& row) -> Status {
    const std::string parent = row.text(0);
    while (i < manifests.size() && manifests[i].digest.str() < parent) ++i;
    // Same transaction as manifestsOf, so the parent is always there.
    if (i == manifests.size() || manifests[i].digest.str() != parent) {
      return makeError(Code::kInternal, "child reference of a manifest missing from the snapshot: " + parent);
    }
    auto child = storedDigest(row.text(1));
    if (!child) return child.takeError();
    manifests[i].children.push_back(std::move(*child));
    return okStatus();
  });
}

Result<std::vector<SnapshotTag>> tagsOf(Connection& c, int64_t repo) {
  auto stmt = c.prepare(
      "SELECT name, digest, created_at, updated_at,"
      " delete_enabled, write_enabled, list_enabled, read_enabled"
      " FROM tags WHERE repo_id = ? ORDER BY name");
  if (!stmt) return stmt.takeError();
  std::vector<SnapshotTag> out;
  auto s = stmt->bind(repo).each([&](Stmt& row) -> Status {
    auto digest = storedDigest(row.text(1));
    if (!digest) return digest.takeError();
    out.push_back(
        SnapshotTag{row.text(0), std::move(*digest), row.int64(2), row.int64(3), attributesAt(row, 4)});
    return okStatus();
  });
  if (!s) return s.takeError();
  return out;
}

// Names a manifest of a repository in a hash set: neither names nor digests hold a newline.
std::string manifestKey(std::string_view repository, std::string_view digest) {
  std::string key;
  key.reserve(repository.size() + 1 + digest.size());
  key.append(repository).push_back('\n');
  key.append(digest);
  return key;
}

RetentionPolicy policyAt(const Stmt& s) {
  RetentionPolicy p;
  p.name = s.text(0);
  p.repositories = s.text(1);
  if (!s.isNull(2)) p.keep_last = s.uint64(2);
  if (!s.isNull(3)) p.not_pulled_for = s.int64(3);
  if (!s.isNull(4)) p.untagged_after = s.int64(4);
  p.keep_tags = s.text(5);
  p.enabled = s.int64(6) != 0;
  p.created_at = s.int64(7);
  p.updated_at = s.int64(8);
  return p;
}

Result<std::optional<RetentionPolicy>> findPolicy(Connection& c, std::string_view name) {
  auto stmt = c.prepare(
      "SELECT name, repositories, keep_last, not_pulled_for, untagged_after, keep_tags, enabled,"
      " created_at, updated_at FROM retention_policies WHERE name = ?");
  if (!stmt) return stmt.takeError();
  auto row = stmt->bind(name).step();
  if (!row) return row.takeError();
  if (!*row) return std::optional<RetentionPolicy>();
  return std::optional<RetentionPolicy>(policyAt(*stmt));
}

Error policyNotFound() { return makeError(Code::kNotFound, "retention policy not found"); }

}  // namespace

PgRetentionStore::PgRetentionStore(std::shared_ptr<pg_detail::Database> db)
    : db_(std::move(db)) {}
PgRetentionStore::~PgRetentionStore() = default;

Result<std::vector<std::string>> PgRetentionStore::repositories() {
  return db_->read([&](Connection& c) -> Result<std::vector<std::string>> {
    auto stmt = c.prepare("SELECT name FROM repositories ORDER BY name");
    if (!stmt) return stmt.takeError();
    return stmt->collect([](Stmt& s) { return s.text(0); });
  });
}

Result<RepositorySnapshot> PgRetentionStore::snapshot(std::string_view repository) {
  return db_->read([&](Connection& c) -> Result<RepositorySnapshot> {
    auto repo = repositoryRow(c, repository);
    if (!repo) return repo.takeError();
    if (!*repo) return makeError(Code::kNameUnknown, "repository name not known to registry");
    RepositorySnapshot out;
    out.name = std::string(repository);
    out.attributes = (*repo)->attributes;
    auto manifests = manifestsOf(c, (*repo)->id);
    if (!manifests) return manifests.takeError();
    out.manifests = std::move(*manifests);
    if (auto s = addChildren(c, (*repo)->id, out.manifests); !s) return s.takeError();
    auto tags = tagsOf(c, (*repo)->id);
    if (!tags) return tags.takeError();
    out.tags = std::move(*tags);
    return out;
  });
}

Result<std::vector<BlobRef>> PgRetentionStore::blobsOf(
    const std::vector<ManifestKey>& manifests) {
  return db_->read([&](Connection& c) -> Result<std::vector<BlobRef>> {
    // The size as linked in the manifest's repository, else in any; 0 if no repository
    // links the blob any more.
    std::map<oci::Digest, uint64_t> blobs;
    for (const ManifestKey& key : manifests) {
      auto stmt = c.prepare(
          "SELECT r.digest, COALESCE("
          " (SELECT b.size FROM blob_links b WHERE b.repo_id = m.repo_id AND b.digest = r.digest),"
          " (SELECT b.size FROM blob_links b WHERE b.digest = r.digest LIMIT 1), 0)"
          " FROM repositories p JOIN manifests m ON m.repo_id = p.id"
          " JOIN manifest_blob_refs r ON r.manifest_id = m.id WHERE p.name = ? AND m.digest = ?");
      if (!stmt) return stmt.takeError();
      auto s = stmt->bind(key.repository).bind(key.digest).each([&](Stmt& row) -> Status {
        auto digest = storedDigest(row.text(0));
        if (!digest) return digest.takeError();
        uint64_t& size = blobs[std::move(*digest)];
        if (size == 0) size = row.uint64(1);
        return okStatus();
      });
      if (!s) return s.takeError();
    }
    std::vector<BlobRef> out;
    out.reserve(blobs.size());
    for (auto& [digest, size] : blobs) out.push_back(BlobRef{digest, size});
    return out;
  });
}

Result<std::vector<oci::Digest>> PgRetentionStore::referencedBy(
    const std::vector<oci::Digest>& blobs, const std::vector<ManifestKey>& excluding) {
  std::unordered_set<std::string> excluded;
  excluded.reserve(excluding.size());
  for (const ManifestKey& key : excluding)
    excluded.insert(manifestKey(key.repository, key.digest.str()));
  return db_->read([&](Connection& c) -> Result<std::vector<oci::Digest>> {
    std::vector<oci::Digest> out;
    std::unordered_set<oci::Digest> seen;
    for (const oci::Digest& blob : blobs) {
      if (!seen.insert(blob).second) continue;
      // Every live manifest referencing the blob (manifest_blob_refs_by_digest), until one
      // is not excluded.
      auto stmt = c.prepare(
          "SELECT p.name, m.digest FROM manifest_blob_refs r"
          " JOIN manifests m ON m.id = r.manifest_id"
          " JOIN repositories p ON p.id = m.repo_id WHERE r.digest = ?");
      if (!stmt) return stmt.takeError();
      auto s = stmt->bind(blob).each([&](Stmt& row) -> Result<bool> {
        if (excluded.contains(manifestKey(row.text(0), row.text(1)))) return true;
        out.push_back(blob);
        return false;
      });
      if (!s) return s.takeError();
    }
    return out;
  });
}

Result<std::vector<RetentionPolicy>> PgRetentionStore::listPolicies() {
  return db_->read([&](Connection& c) -> Result<std::vector<RetentionPolicy>> {
    auto stmt = c.prepare(
        "SELECT name, repositories, keep_last, not_pulled_for, untagged_after, keep_tags, enabled,"
        " created_at, updated_at FROM retention_policies ORDER BY name");
    if (!stmt) return stmt.takeError();
    return stmt->collect([](Stmt& s) { return policyAt(s); });
  });
}

Result<RetentionPolicy> PgRetentionStore::getPolicy(std::string_view name) {
  return db_->read([&](Connection& c) -> Result<RetentionPolicy> {
    auto found = findPolicy(c, name);
    if (!found) return found.takeError();
    if (!*found) return policyNotFound();
    return std::move(**found);
  });
}

Result<RetentionPolicy> PgRetentionStore::putPolicy(const RetentionPolicy& policy,
                                                        bool* created) {
  bool is_new = false;
  auto out = db_->write([&](Connection& c) -> Result<RetentionPolicy> {
    auto found = findPolicy(c, policy.name);
    if (!found) return found.takeError();
    is_new = !found->has_value();
    // A replace keeps created_at (the row's); the rules are all taken from `policy`.
    auto stmt = c.prepare(
        "INSERT INTO retention_policies(name, repositories, keep_last, not_pulled_for,"
        " untagged_after, keep_tags, enabled, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
        " ON CONFLICT(name) DO UPDATE SET repositories = excluded.repositories,"
        " keep_last = excluded.keep_last, not_pulled_for = excluded.not_pulled_for,"
        " untagged_after = excluded.untagged_after, keep_tags = excluded.keep_tags,"
        " enabled = excluded.enabled, updated_at = excluded.updated_at");
    if (!stmt) return stmt.takeError();
    stmt->bind(policy.name).bind(policy.repositories);
    if (policy.keep_last) {
      stmt->bindU64(*policy.keep_last);
    } else {
      stmt->bindNull();
    }
    for (const auto& rule : {policy.not_pulled_for, policy.untagged_after}) {
      if (rule) {
        stmt->bind(*rule);
      } else {
        stmt->bindNull();
      }
    }
    stmt->bind(policy.keep_tags).bind(int64_t{policy.enabled ? 1 : 0}).bind(pg_detail::now());
    if (auto s = stmt->run(); !s) return s.takeError();
    auto row = findPolicy(c, policy.name);
    if (!row) return row.takeError();
    if (!*row) return makeError(Code::kInternal, "retention policy row missing after write");
    return std::move(**row);
  });
  if (out && created != nullptr) *created = is_new;
  return out;
}

Status PgRetentionStore::deletePolicy(std::string_view name) {
  return db_->write([&](Connection& c) -> Status {
    auto s = pg_detail::execute(c, "DELETE FROM retention_policies WHERE name = ?", name);
    if (!s) return s;
    if (c.changes() == 0) return policyNotFound();
    return okStatus();
  });
}

}  // namespace berth::meta
