// SqliteMetaStore: the conformance suite on a fresh temp file per test, plus what only
// the SQLite store has (schema versioning, full disk, kill -9).
#include "meta/sqlite/sqlite_meta_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "meta_store_contract.h"
#include "oci/digest.h"
#include "sqlite_fault_vfs.h"
#include "sqlite_test_files.h"

namespace berth::meta::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Sqlite, MetaStoreContract, ::testing::Values(sqliteFactory()), storeFactoryName);
INSTANTIATE_TEST_SUITE_P(Sqlite, RulesContract, ::testing::Values(sqliteFactory()), storeFactoryName);
INSTANTIATE_TEST_SUITE_P(Sqlite, FleetContract, ::testing::Values(sqliteFactory()), storeFactoryName);

PutManifestRequest manifest(std::string_view repository, std::string bytes,
                            std::optional<std::string> tag = std::nullopt) {
  PutManifestRequest req;
  req.repository = std::string(repository);
  req.manifest.digest = oci::digestOf(bytes);
  req.manifest.bytes = std::move(bytes);
  req.manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
  req.tag = std::move(tag);
  return req;
}

TEST(SqliteMetaStore, CreatesVersionedSchemaInWalMode) {
  TempDir dir;
  {
    auto store = SqliteMetaStore::open(dir.db());
    ASSERT_TRUE(store.ok()) << store.error().message;
  }
  EXPECT_EQ(rawQuery(dir.db(), "PRAGMA user_version"),
            std::to_string(SqliteMetaStore::schemaVersion()));
  EXPECT_EQ(rawQuery(dir.db(), "PRAGMA journal_mode"), "wal");
  auto again = SqliteMetaStore::open(dir.db());  // migrating an up-to-date file is a no-op
  ASSERT_TRUE(again.ok()) << again.error().message;
}

TEST(SqliteMetaStore, RefusesANewerSchema) {
  TempDir dir;
  { ASSERT_TRUE(SqliteMetaStore::open(dir.db()).ok()); }
  rawQuery(dir.db(),
           "PRAGMA user_version = " + std::to_string(SqliteMetaStore::schemaVersion() + 1));
  auto store = SqliteMetaStore::open(dir.db());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Code::kUnsupported);
}

TEST(SqliteMetaStore, OpenFailsOnUnusablePath) {
  auto store = SqliteMetaStore::open("/nonexistent-dir/berth/meta.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Code::kIoError);
}

// Writes failing like a full disk: kStorageFull, nothing half-written, and the store
// works again once there is space.
TEST(SqliteMetaStore, FullStorageIsReportedAndRolledBack) {
  for (WriteFault fault : {WriteFault::kFull, WriteFault::kEnospc}) {
    SCOPED_TRACE(fault == WriteFault::kFull ? "SQLITE_FULL" : "IOERR with ENOSPC");
    FaultVfs vfs;
    TempDir dir;
    auto opened = SqliteMetaStore::open(dir.db());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto& store = **opened;
    ASSERT_TRUE(store.putManifest(manifest("a", "small", "v1")).ok());

    auto big = manifest("a", std::string(1 << 20, 'x'), "v1");
    FaultVfs::setWriteFault(fault);
    auto s = store.putManifest(big);
    auto link = store.linkBlob("b", oci::digestOf("layer"), 5);
    FaultVfs::setWriteFault(WriteFault::kNone);

    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Code::kStorageFull);
    EXPECT_EQ(s.error().message, "metadata storage is full");
    ASSERT_FALSE(link.ok());
    EXPECT_EQ(link.error().code, Code::kStorageFull);
    EXPECT_EQ(store.getManifest("a", big.manifest.digest).code(), Code::kManifestUnknown);
    EXPECT_EQ(store.repositoryBlob("b", oci::digestOf("layer")).code(), Code::kBlobUnknown);
    auto tag = store.resolveTag("a", "v1");
    ASSERT_TRUE(tag.ok()) << tag.error().message;
    EXPECT_EQ(*tag, manifest("a", "small").manifest.digest);

    auto again = store.putManifest(big);
    ASSERT_TRUE(again.ok()) << again.error().message;
    tag = store.resolveTag("a", "v1");
    ASSERT_TRUE(tag.ok()) << tag.error().message;
    EXPECT_EQ(*tag, big.manifest.digest);
    opened->reset();  // close before the VFS goes away
  }
}

// A child process pushes manifests in a loop and is killed with SIGKILL at some moment;
// the file must then hold a prefix of its pushes, each complete.
TEST(SqliteMetaStore, KillNineLeavesOldOrNewState) {
  for (int round = 0; round < 4; ++round) {
    TempDir dir;
    { ASSERT_TRUE(SqliteMetaStore::open(dir.db()).ok()); }
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(ready[0]);
      auto store = SqliteMetaStore::open(dir.db());
      if (!store) _exit(2);
      for (int i = 0;; ++i) {
        const std::string layer = "layer" + std::to_string(i);
        if (!(*store)->linkBlob("repo", oci::digestOf(layer), layer.size())) _exit(3);
        auto req = manifest("repo", "manifest" + std::to_string(i), "latest");
        req.blobs = {oci::digestOf(layer)};
        if (!(*store)->putManifest(req)) _exit(4);
        if (i == 0 && write(ready[1], "x", 1) != 1) _exit(5);
      }
    }
    close(ready[1]);
    char byte = 0;
    const bool child_ready = read(ready[0], &byte, 1) == 1;  // one push done
    close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(7 * round + 3));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(child_ready && WIFSIGNALED(status))
        << "child exited early with " << WEXITSTATUS(status);

    auto store = SqliteMetaStore::open(dir.db());
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ(rawQuery(dir.db(), "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(rawQuery(dir.db(), "PRAGMA foreign_key_check"), "");
    auto latest = (*store)->resolveTag("repo", "latest");
    ASSERT_TRUE(latest.ok()) << latest.error().message;
    int last = -1;
    for (int i = 0;; ++i) {
      auto m = manifest("repo", "manifest" + std::to_string(i));
      auto got = (*store)->getManifest("repo", m.manifest.digest);
      if (!got) break;
      EXPECT_EQ(got->bytes, m.manifest.bytes);
      const std::string layer = "layer" + std::to_string(i);
      EXPECT_TRUE((*store)->repositoryBlob("repo", oci::digestOf(layer)).ok());
      last = i;
    }
    ASSERT_GE(last, 0);
    EXPECT_EQ(*latest, manifest("repo", "manifest" + std::to_string(last)).manifest.digest);
  }
}

}  // namespace
}  // namespace berth::meta::testing
