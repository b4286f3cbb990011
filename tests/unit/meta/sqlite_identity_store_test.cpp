// The IdentityStore sharing its database with the MetaStore, persistence and concurrent
// writers and readers (IdentityStoreTest: every driver, instantiated in
// identity_store_test.cpp); and what only SQLite has: the v1 -> v2 migration, full storage.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "identity_store_test_util.h"
#include "meta/sqlite/sqlite_db.h"
#include "meta/sqlite/sqlite_meta_store.h"
#include "sqlite_test_files.h"
#include "oci/digest.h"
#include "sqlite_fault_vfs.h"

namespace berth::meta::testing {
namespace {

TEST_P(IdentityStoreTest, SnapshotSurvivesReopen) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("ci"))));
  ASSERT_TRUE(ok(store_->createIdentity(identity("alice", IdentityKind::kUser))));
  ASSERT_TRUE(ok(store_->createIdentity(token("deploy", "ci"))));
  ASSERT_TRUE(ok(store_->addRoleAssignment(role("r1", "alice", "owner", "*"))));
  ASSERT_TRUE(ok(store_->setSetting("anonymous_pull", "true")));
  const IdentitySnapshot before = snap();
  ASSERT_EQ(before.identities.size(), 2u);

  reopen();
  const IdentitySnapshot after = snap();
  EXPECT_TRUE(sameSnapshot(before, after));
  EXPECT_EQ(after.generation, 5);
}

TEST_P(IdentityStoreTest, SharesTheFileWithTheMetaStoreAndMayOutliveIt) {
  ASSERT_TRUE(ok(meta_->linkBlob("team/app", oci::digestOf("layer"), 5)));
  ASSERT_TRUE(ok(store_->createIdentity(identity("alice", IdentityKind::kUser))));
  auto second = meta_->identityStore();  // another handle on the same database
  EXPECT_EQ(second->snapshot()->identities.size(), 1u);

  meta_.reset();
  ASSERT_TRUE(ok(store_->setSetting("anonymous_pull", "true")));
  EXPECT_EQ(snap().settings.at("anonymous_pull"), "true");
  second.reset();
  store_.reset();

  auto reopened = env_->open();
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(*(*reopened)->repositoryBlob("team/app", oci::digestOf("layer")), 5u);
  auto ids = (*reopened)->identityStore()->snapshot();
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  EXPECT_EQ(ids->identities.size(), 1u);
  EXPECT_EQ(ids->settings.size(), 1u);
}

// A file written by a build that knew only schema v1 (its exact SQL) opens, migrates to
// v2 in place, and keeps every v1 row.
TEST(SqliteIdentityStoreMigration, UpgradesAVersion1FileKeepingItsData) {
  TempDir dir;
  const auto migrations = sqlite_detail::schemaMigrations();
  ASSERT_EQ(migrations[0].version, 1);
  ASSERT_EQ(migrations[1].version, 2);
  ASSERT_GE(SqliteMetaStore::schemaVersion(), 2);

  const std::string manifest_bytes = R"({"schemaVersion":2,"layers":[]})";
  const std::string m = oci::digestOf(manifest_bytes).str();
  const std::string layer = oci::digestOf("layer").str();
  rawQuery(dir.db(), std::string(migrations[0].sql) + "PRAGMA user_version = 1;");
  rawQuery(dir.db(),
           "INSERT INTO repositories(id, name) VALUES (1, 'team/app');"
           "INSERT INTO blob_links VALUES (1, '" +
               layer +
               "', 5, 100);"
               "INSERT INTO manifests(id, repo_id, digest, media_type, artifact_type, bytes, size,"
               " annotations, subject, created_at) VALUES (1, 1, '" +
               m + "', 'application/vnd.oci.image.manifest.v1+json', '', '" + manifest_bytes +
               "', " + std::to_string(manifest_bytes.size()) +
               ", '', NULL, 100);"
               "INSERT INTO manifest_blob_refs VALUES (1, '" +
               layer +
               "');"
               "INSERT INTO tags VALUES (1, 'v1', '" +
               m +
               "', 100);"
               "INSERT INTO uploads VALUES ('u1', 'team/app', 7, 100, 200);");
  ASSERT_EQ(rawQuery(dir.db(), "PRAGMA user_version"), "1");
  ASSERT_EQ(rawQuery(dir.db(), "SELECT count(*) FROM tags"), "1");
  ASSERT_EQ(rawQuery(dir.db(), "SELECT count(*) FROM sqlite_master WHERE name = 'identities'"),
            "0");

  auto opened = SqliteMetaStore::open(dir.db());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& meta = **opened;
  EXPECT_EQ(rawQuery(dir.db(), "PRAGMA user_version"),
            std::to_string(SqliteMetaStore::schemaVersion()));
  EXPECT_EQ(rawQuery(dir.db(), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(rawQuery(dir.db(), "PRAGMA foreign_key_check"), "");

  auto tag = meta.resolveTag("team/app", "v1");
  ASSERT_TRUE(tag.ok()) << tag.error().message;
  EXPECT_EQ(tag->str(), m);
  auto manifest = meta.getManifest("team/app", *tag);
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(manifest->bytes, manifest_bytes);
  EXPECT_EQ(manifest->created_at, 100);
  EXPECT_EQ(*meta.repositoryBlob("team/app", oci::digestOf("layer")), 5u);
  auto upload = meta.getUpload("u1");
  ASSERT_TRUE(upload.ok()) << upload.error().message;
  EXPECT_EQ(upload->offset, 7u);
  EXPECT_EQ(*meta.listRepositories("", 10), std::vector<std::string>{"team/app"});
  // v1's cascades still hold: the manifest takes its tag and blob reference with it.
  EXPECT_TRUE(ok(meta.deleteManifest("team/app", *tag)));
  EXPECT_EQ(rawQuery(dir.db(), "SELECT count(*) FROM tags"), "0");
  EXPECT_EQ(rawQuery(dir.db(), "SELECT count(*) FROM manifest_blob_refs"), "0");

  auto ids = meta.identityStore();
  auto empty = ids->snapshot();
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->generation, 0);
  EXPECT_TRUE(empty->identities.empty());
  ASSERT_TRUE(ok(ids->createIdentity(identity("alice", IdentityKind::kUser))));
  EXPECT_EQ(*ids->generation(), 1);
}

// Writes failing like a full disk: kStorageFull, nothing half-written (the generation
// included), and the store works again once there is space.
TEST(SqliteIdentityStoreFaults, FullStorageIsReportedAndRolledBack) {
  FaultVfs vfs;
  TempDir dir;
  auto meta = SqliteMetaStore::open(dir.db());
  ASSERT_TRUE(meta.ok()) << meta.error().message;
  auto store = (*meta)->identityStore();
  ASSERT_TRUE(ok(store->putScopeMap(scopeMap("ci"))));
  IdentityRecord big = token("deploy", "ci");
  big.description = std::string(1 << 20, 'x');  // more than the page cache holds

  FaultVfs::setWriteFault(WriteFault::kFull);
  const Status created = store->createIdentity(big);
  FaultVfs::setWriteFault(WriteFault::kEnospc);
  const Status set = store->setSetting("anonymous_pull", std::string(1 << 20, 'y'));
  FaultVfs::setWriteFault(WriteFault::kNone);

  EXPECT_TRUE(fails(created, Code::kStorageFull));
  EXPECT_TRUE(fails(set, Code::kStorageFull));
  auto snap = store->snapshot();
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_EQ(snap->generation, 1);
  EXPECT_TRUE(snap->identities.empty());
  EXPECT_TRUE(snap->settings.empty());

  ASSERT_TRUE(ok(store->createIdentity(big)));
  EXPECT_EQ(store->snapshot()->identities.size(), 1u);
  store.reset();
  meta->reset();  // close before the VFS goes away
}

// Writers create, update and delete tokens (each a row plus two credential rows and a
// role) while readers snapshot. Every snapshot must be one committed state: each token's
// row and credentials from the same write, generation never going back, and two
// snapshots of one generation identical. Meta store writes share the writer queue.
TEST_P(IdentityStoreTest, ConcurrentWritersAndReadersSeeWholeCommits) {
  ASSERT_TRUE(ok(store_->putScopeMap(scopeMap("ci"))));
  const int64_t start = *store_->generation();
  constexpr int kWriters = 3;
  constexpr int kRounds = 30;
  std::atomic<int64_t> committed{0};
  std::atomic<bool> writing{true};

  auto writer = [&](int w) {
    for (int r = 0; r < kRounds; ++r) {
      const std::string name = "w" + std::to_string(w) + "-" + std::to_string(r);
      IdentityRecord t = token(name, "ci");
      t.description = "v1";
      t.credentials = {{"password1", name + "/v1", 1, 0}, {"password2", name + "/v1", 1, 0}};
      bool all = ok(store_->createIdentity(t)) &&
                 ok(store_->addRoleAssignment(role(name, name, "pull", "*")));
      t.description = "v2";
      t.credentials = {{"password1", name + "/v2", 1, 0}, {"password2", name + "/v2", 1, 0}};
      all = all && ok(store_->updateIdentity(t)) &&
            ok(store_->setSetting("last-" + std::to_string(w), name));
      if (r % 2 == 0) all = all && ok(store_->deleteIdentity(name));
      EXPECT_TRUE(all) << name;
      committed += r % 2 == 0 ? 5 : 4;
    }
  };
  auto blobs = [&] {
    for (int i = 0; writing; ++i) {
      EXPECT_TRUE(ok(meta_->linkBlob("repo", oci::digestOf(std::to_string(i)), 1)));
    }
  };
  std::atomic<int> snapshots{0};
  auto reader = [&] {
    IdentitySnapshot last;
    last.generation = -1;
    while (writing) {
      auto got = store_->snapshot();
      ASSERT_TRUE(got.ok()) << got.error().message;
      const IdentitySnapshot& s = *got;
      ++snapshots;
      ASSERT_GE(s.generation, last.generation);
      if (s.generation == last.generation) {
        ASSERT_TRUE(sameSnapshot(s, last));
      }
      for (const IdentityRecord& t : s.identities) {
        ASSERT_EQ(t.credentials.size(), 2u) << t.name;
        for (const Credential& c : t.credentials) {
          ASSERT_EQ(c.hash, t.name + "/" + t.description) << "a torn write of " << t.name;
        }
      }
      ASSERT_TRUE(std::is_sorted(
          s.identities.begin(), s.identities.end(),
          [](const IdentityRecord& a, const IdentityRecord& b) { return a.name < b.name; }));
      for (const RoleAssignment& r : s.roles) {
        ASSERT_TRUE(std::any_of(s.identities.begin(), s.identities.end(),
                                [&](const IdentityRecord& i) { return i.name == r.identity; }));
      }
      last = s;
    }
  };

  std::vector<std::thread> writers;
  std::vector<std::thread> others;
  for (int w = 0; w < kWriters; ++w) writers.emplace_back(writer, w);
  others.emplace_back(blobs);
  others.emplace_back(reader);
  others.emplace_back(reader);
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : others) t.join();

  const IdentitySnapshot end = snap();
  EXPECT_EQ(end.generation, start + committed.load());
  EXPECT_EQ(end.identities.size(), static_cast<size_t>(kWriters * (kRounds / 2)));
  EXPECT_EQ(end.roles.size(), end.identities.size());
  EXPECT_EQ(end.settings.size(), static_cast<size_t>(kWriters));
  EXPECT_GT(snapshots.load(), 0);
}

}  // namespace
}  // namespace berth::meta::testing
