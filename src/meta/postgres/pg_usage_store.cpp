#include "meta/postgres/pg_usage_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "meta/postgres/pg_db.h"

namespace berth::meta {

using pg_detail::Connection;
using pg_detail::storedDigest;
using pg_detail::Stmt;

namespace {

const char* kindText(TrafficKind kind) {
  switch (kind) {
    case TrafficKind::kRepository: return "repository";
    case TrafficKind::kManifest: return "manifest";
    case TrafficKind::kTag: return "tag";
  }
  return "repository";
}

TrafficKind kindOf(const std::string& text) {
  if (text == "manifest") return TrafficKind::kManifest;
  if (text == "tag") return TrafficKind::kTag;
  return TrafficKind::kRepository;
}

// Columns pulls, pushes, bytes_served, bytes_received, last_pulled_at, last_pushed_at from `first`.
Traffic trafficAt(const Stmt& s, int first) {
  Traffic t;
  t.pulls = s.uint64(first);
  t.pushes = s.uint64(first + 1);
  t.bytes_served = s.uint64(first + 2);
  t.bytes_received = s.uint64(first + 3);
  t.last_pulled = s.int64(first + 4);
  t.last_pushed = s.int64(first + 5);
  return t;
}

// Runs a one-row query with `args` bound and hands the row to `row`.
template <class Fn, class... Args>
Status oneRow(Connection& c, std::string_view sql, Fn row, const Args&... args) {
  auto stmt = c.prepare(sql);
  if (!stmt) return stmt.takeError();
  (stmt->bind(args), ...);
  auto has = stmt->step();
  if (!has) return has.takeError();
  if (!*has) return makeError(Code::kInternal, "usage query returned no row");
  row(*stmt);
  return okStatus();
}

// What the repository holds; a digest is unique when no other repository links the blob
// (or holds the manifest).
Result<RepositoryStorage> storageOf(Connection& c, int64_t repo_id, std::string name) {
  RepositoryStorage r;
  r.repository = std::move(name);
  uint64_t unique = 0;
  auto blobs = oneRow(
      c,
      "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM blob_links o"
      " WHERE o.digest = b.digest AND o.repo_id <> b.repo_id) THEN 0 ELSE size END), 0)"
      " FROM blob_links b WHERE b.repo_id = ?",
      [&](const Stmt& s) {
        r.blobs = s.uint64(0);
        r.bytes += s.uint64(1);
        unique += s.uint64(2);
      },
      repo_id);
  if (!blobs) return blobs.takeError();
  auto manifests = oneRow(
      c,
      "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM manifests o"
      " WHERE o.digest = m.digest AND o.repo_id <> m.repo_id) THEN 0 ELSE size END), 0)"
      " FROM manifests m WHERE m.repo_id = ?",
      [&](const Stmt& s) {
        r.manifests = s.uint64(0);
        r.bytes += s.uint64(1);
        unique += s.uint64(2);
      },
      repo_id);
  if (!manifests) return manifests.takeError();
  auto tags = oneRow(
      c, "SELECT COUNT(*) FROM tags WHERE repo_id = ?", [&](const Stmt& s) { r.tags = s.uint64(0); }, repo_id);
  if (!tags) return tags.takeError();
  r.unique_bytes = unique;
  r.shared_bytes = r.bytes - unique;
  return r;
}

struct ManifestNode {
  ManifestStorage storage;
  std::vector<std::pair<std::string, uint64_t>> blobs;  // digest, size
  std::vector<std::string> children;                    // digests
};

// The image size of `root`: its manifest, the manifests reachable through index children
// (within the repository) and their blobs, each distinct digest counted once.
uint64_t imageSize(const std::unordered_map<std::string, ManifestNode>& nodes, const std::string& root) {
  std::set<std::string> seen_manifests, seen_blobs;
  std::vector<std::string> todo{root};
  uint64_t size = 0;
  while (!todo.empty()) {
    std::string digest = std::move(todo.back());
    todo.pop_back();
    auto it = nodes.find(digest);
    if (it == nodes.end() || !seen_manifests.insert(digest).second) continue;
    size += it->second.storage.manifest_size;
    for (const auto& [blob, blob_size] : it->second.blobs) {
      if (seen_blobs.insert(blob).second) size += blob_size;
    }
    for (const auto& child : it->second.children) todo.push_back(child);
  }
  return size;
}

}  // namespace

PgUsageStore::PgUsageStore(std::shared_ptr<pg_detail::Database> db) : db_(std::move(db)) {}
PgUsageStore::~PgUsageStore() = default;

Result<StorageTotals> PgUsageStore::storageTotals() {
  return db_->read([&](Connection& c) -> Result<StorageTotals> {
    StorageTotals t;
    auto blobs = oneRow(c,
                        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM"
                        " (SELECT MAX(size) AS size FROM blob_links GROUP BY digest) AS x",
                        [&](const Stmt& s) {
                          t.blobs = s.uint64(0);
                          t.blob_bytes = s.uint64(1);
                        });
    if (!blobs) return blobs.takeError();
    auto manifests = oneRow(c,
                            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM"
                            " (SELECT MAX(size) AS size FROM manifests GROUP BY digest) AS x",
                            [&](const Stmt& s) {
                              t.unique_manifests = s.uint64(0);
                              t.manifest_bytes = s.uint64(1);
                            });
    if (!manifests) return manifests.takeError();
    auto counts = oneRow(c,
                         "SELECT (SELECT COUNT(*) FROM repositories), (SELECT COUNT(*) FROM manifests),"
                         " (SELECT COUNT(*) FROM tags)",
                         [&](const Stmt& s) {
                           t.repositories = s.uint64(0);
                           t.manifests = s.uint64(1);
                           t.tags = s.uint64(2);
                         });
    if (!counts) return counts.takeError();
    t.bytes = t.blob_bytes + t.manifest_bytes;
    return t;
  });
}

Result<std::vector<RepositoryStorage>> PgUsageStore::repositoryStorage(std::string_view last, size_t n) {
  return db_->read([&](Connection& c) -> Result<std::vector<RepositoryStorage>> {
    std::vector<std::pair<int64_t, std::string>> page;
    {
      auto stmt = c.prepare("SELECT id, name FROM repositories WHERE name > ? ORDER BY name LIMIT ?");
      if (!stmt) return stmt.takeError();
      auto rows = stmt->bind(last).bindLimit(n).collect(
          [](Stmt& s) { return std::pair<int64_t, std::string>(s.int64(0), s.text(1)); });
      if (!rows) return rows.takeError();
      page = std::move(*rows);
    }
    std::vector<RepositoryStorage> out;
    for (auto& [id, name] : page) {
      auto r = storageOf(c, id, std::move(name));
      if (!r) return r.takeError();
      out.push_back(std::move(*r));
    }
    return out;
  });
}

Result<RepositoryUsage> PgUsageStore::repositoryUsage(std::string_view repository) {
  return db_->read([&](Connection& c) -> Result<RepositoryUsage> {
    int64_t repo_id = 0;
    {
      auto stmt = c.prepare("SELECT id FROM repositories WHERE name = ?");
      if (!stmt) return stmt.takeError();
      auto row = stmt->bind(repository).step();
      if (!row) return row.takeError();
      if (!*row) return makeError(Code::kNameUnknown, "repository name not known to registry");
      repo_id = stmt->int64(0);
    }
    RepositoryUsage out;
    auto storage = storageOf(c, repo_id, std::string(repository));
    if (!storage) return storage.takeError();
    out.storage = std::move(*storage);

    std::unordered_map<std::string, ManifestNode> nodes;
    std::unordered_map<int64_t, std::string> digest_of;  // manifest id -> digest
    {
      auto stmt = c.prepare("SELECT id, digest, media_type, size, created_at FROM manifests WHERE repo_id = ?");
      if (!stmt) return stmt.takeError();
      stmt->bind(repo_id);
      for (;;) {
        auto row = stmt->step();
        if (!row) return row.takeError();
        if (!*row) break;
        auto digest = storedDigest(stmt->text(1));
        if (!digest) return digest.takeError();
        ManifestNode node;
        node.storage.digest = *digest;
        node.storage.media_type = stmt->text(2);
        node.storage.manifest_size = stmt->uint64(3);
        node.storage.created_at = stmt->int64(4);
        digest_of[stmt->int64(0)] = digest->str();
        nodes.emplace(digest->str(), std::move(node));
      }
    }
    {
      // A referenced blob's size is its link's in this repository (push requires the link;
      // 0 if it was unlinked since).
      auto stmt = c.prepare(
          "SELECT r.manifest_id, r.digest, COALESCE(b.size, 0) FROM manifest_blob_refs r"
          " JOIN manifests m ON m.id = r.manifest_id"
          " LEFT JOIN blob_links b ON b.repo_id = m.repo_id AND b.digest = r.digest WHERE m.repo_id = ?");
      if (!stmt) return stmt.takeError();
      stmt->bind(repo_id);
      for (;;) {
        auto row = stmt->step();
        if (!row) return row.takeError();
        if (!*row) break;
        nodes[digest_of[stmt->int64(0)]].blobs.emplace_back(stmt->text(1), stmt->uint64(2));
      }
    }
    {
      auto stmt = c.prepare(
          "SELECT c.manifest_id, c.digest FROM manifest_child_refs c JOIN manifests m ON m.id = c.manifest_id"
          " WHERE m.repo_id = ?");
      if (!stmt) return stmt.takeError();
      stmt->bind(repo_id);
      for (;;) {
        auto row = stmt->step();
        if (!row) return row.takeError();
        if (!*row) break;
        nodes[digest_of[stmt->int64(0)]].children.push_back(stmt->text(1));
      }
    }
    std::map<std::string, std::vector<std::string>> tags_of;  // digest -> tags
    {
      auto stmt = c.prepare("SELECT name, digest, updated_at FROM tags WHERE repo_id = ? ORDER BY name");
      if (!stmt) return stmt.takeError();
      stmt->bind(repo_id);
      for (;;) {
        auto row = stmt->step();
        if (!row) return row.takeError();
        if (!*row) break;
        auto digest = storedDigest(stmt->text(1));
        if (!digest) return digest.takeError();
        TagStorage t;
        t.tag = stmt->text(0);
        t.digest = *digest;
        t.updated_at = stmt->int64(2);
        tags_of[digest->str()].push_back(t.tag);
        out.tags.push_back(std::move(t));
      }
    }
    std::map<std::string, uint64_t> sizes;
    for (const auto& [digest, node] : nodes) {
      if (node.storage.digest.str().empty()) continue;  // a reference to a row outside this repository
      ManifestStorage m = node.storage;
      m.size = imageSize(nodes, digest);
      if (auto t = tags_of.find(digest); t != tags_of.end()) m.tags = t->second;
      sizes[digest] = m.size;
      out.manifests.push_back(std::move(m));
    }
    std::sort(out.manifests.begin(), out.manifests.end(),
              [](const ManifestStorage& a, const ManifestStorage& b) { return a.digest.str() < b.digest.str(); });
    for (auto& t : out.tags) t.size = sizes[t.digest.str()];
    return out;
  });
}

Status PgUsageStore::addTraffic(const std::vector<TrafficRow>& rows) {
  if (rows.empty()) return okStatus();
  return db_->write([&](Connection& c) -> Status {
    for (const auto& r : rows) {
      auto stmt = c.prepare(
          "INSERT INTO usage_traffic(repository, kind, name, pulls, pushes, bytes_served, bytes_received,"
          " last_pulled_at, last_pushed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
          " ON CONFLICT(repository, kind, name) DO UPDATE SET pulls = usage_traffic.pulls + excluded.pulls,"
          " pushes = usage_traffic.pushes + excluded.pushes,"
          " bytes_served = usage_traffic.bytes_served + excluded.bytes_served,"
          " bytes_received = usage_traffic.bytes_received + excluded.bytes_received,"
          " last_pulled_at = GREATEST(usage_traffic.last_pulled_at, excluded.last_pulled_at),"
          " last_pushed_at = GREATEST(usage_traffic.last_pushed_at, excluded.last_pushed_at)");
      if (!stmt) return stmt.takeError();
      const Traffic& t = r.traffic;
      auto s = stmt->bind(r.repository)
                   .bind(std::string_view(kindText(r.kind)))
                   .bind(r.name)
                   .bindU64(t.pulls)
                   .bindU64(t.pushes)
                   .bindU64(t.bytes_served)
                   .bindU64(t.bytes_received)
                   .bind(t.last_pulled)
                   .bind(t.last_pushed)
                   .run();
      if (!s) return s;
    }
    return okStatus();
  });
}

Result<Traffic> PgUsageStore::trafficTotal() {
  return db_->read([&](Connection& c) -> Result<Traffic> {
    Traffic t;
    auto s = oneRow(c,
                    "SELECT COALESCE(SUM(pulls), 0), COALESCE(SUM(pushes), 0), COALESCE(SUM(bytes_served), 0),"
                    " COALESCE(SUM(bytes_received), 0), COALESCE(MAX(last_pulled_at), 0),"
                    " COALESCE(MAX(last_pushed_at), 0) FROM usage_traffic WHERE kind = 'repository'",
                    [&](const Stmt& row) { t = trafficAt(row, 0); });
    if (!s) return s.takeError();
    return t;
  });
}

Result<std::vector<TrafficRow>> PgUsageStore::repositoryTraffic(std::string_view repository) {
  return db_->read([&](Connection& c) -> Result<std::vector<TrafficRow>> {
    auto stmt = c.prepare(
        "SELECT kind, name, pulls, pushes, bytes_served, bytes_received, last_pulled_at, last_pushed_at"
        " FROM usage_traffic WHERE repository = ?");
    if (!stmt) return stmt.takeError();
    const std::string repo(repository);
    return stmt->bind(repository).collect([&](Stmt& s) {
      return TrafficRow{kindOf(s.text(0)), repo, s.text(1), trafficAt(s, 2)};
    });
  });
}

Result<Traffic> PgUsageStore::traffic(TrafficKind kind, std::string_view repository, std::string_view name) {
  return db_->read([&](Connection& c) -> Result<Traffic> {
    auto stmt = c.prepare(
        "SELECT pulls, pushes, bytes_served, bytes_received, last_pulled_at, last_pushed_at"
        " FROM usage_traffic WHERE repository = ? AND kind = ? AND name = ?");
    if (!stmt) return stmt.takeError();
    auto row = stmt->bind(repository).bind(std::string_view(kindText(kind))).bind(name).step();
    if (!row) return row.takeError();
    if (!*row) return Traffic{};
    return trafficAt(*stmt, 0);
  });
}

}  // namespace berth::meta
