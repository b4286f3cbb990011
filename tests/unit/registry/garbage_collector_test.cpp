// GarbageCollector on a real SQLite store and a real FsBlobStore: what it deletes, what it
// keeps (shared, recycle-bin, young, busy, binned between listing and unlinking), dry runs,
// a run interrupted after the unlink, abandoned uploads, and pushes and pulls racing a
// collector with no grace period.
#include "registry/garbage_collector.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <iostream>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/text.h"
#include "meta/sqlite/sqlite_meta_store.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::registry {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr int64_t kHour = 3600;

// Forwards to a store; remove() fails while `fail_remove` is set (a crash between the
// unlink and the file removal, as far as the metadata can tell).
class FailingRemoveStore : public storage::BlobStore {
 public:
  explicit FailingRemoveStore(std::shared_ptr<storage::BlobStore> inner) : inner_(std::move(inner)) {}
  std::atomic<bool> fail_remove{false};

  Result<std::unique_ptr<storage::UploadWriter>> openUpload(std::string_view id, uint64_t offset) override {
    return inner_->openUpload(id, offset);
  }
  Result<oci::Digest> hashUpload(std::string_view id, uint64_t length, oci::DigestAlgorithm alg) override {
    return inner_->hashUpload(id, length, alg);
  }
  Status commitUpload(std::string_view id, const oci::Digest& digest) override {
    return inner_->commitUpload(id, digest);
  }
  Status removeUpload(std::string_view id) override { return inner_->removeUpload(id); }
  Status put(const oci::Digest& digest, std::string_view bytes) override { return inner_->put(digest, bytes); }
  Result<storage::BlobInfo> stat(const oci::Digest& digest) override { return inner_->stat(digest); }
  Result<std::unique_ptr<storage::BlobReader>> open(const oci::Digest& digest) override {
    return inner_->open(digest);
  }
  Status remove(const oci::Digest& digest) override {
    if (fail_remove) return makeError(Code::kIoError, "injected: remove failed");
    return inner_->remove(digest);
  }
  Status list(const std::function<void(const oci::Digest&, uint64_t)>& fn) override { return inner_->list(fn); }
  Status listStaging(const std::function<void(const storage::StagingFile&)>& uploads,
                     const std::function<void(const storage::StagingFile&)>& temps) override {
    return inner_->listStaging(uploads, temps);
  }
  Status removeTemp(std::string_view name) override { return inner_->removeTemp(name); }

 private:
  std::shared_ptr<storage::BlobStore> inner_;
};

// Forwards to a GcStore; `after_listing` runs once, when a page of unreferenced blobs has
// been read and before any of them is unlinked: a change racing the collector, made
// deterministic.
class HookedGcStore : public meta::GcStore {
 public:
  using Hook = std::function<void(const std::vector<meta::GcBlob>&)>;
  HookedGcStore(std::shared_ptr<meta::GcStore> inner, Hook after_listing)
      : inner_(std::move(inner)), after_listing_(std::move(after_listing)) {}

  Result<std::vector<meta::GcBlob>> unreferencedBlobs(int64_t linked_before, std::string_view after,
                                                      size_t n) override {
    auto page = inner_->unreferencedBlobs(linked_before, after, n);
    if (page && !page->empty() && after_listing_) std::exchange(after_listing_, nullptr)(*page);
    return page;
  }
  Result<std::vector<oci::Digest>> unlinked(const std::vector<oci::Digest>& digests) override {
    return inner_->unlinked(digests);
  }
  Result<std::optional<std::vector<std::string>>> unlinkIfUnreferenced(const oci::Digest& digest,
                                                                       int64_t linked_before) override {
    return inner_->unlinkIfUnreferenced(digest, linked_before);
  }
  Result<std::vector<meta::UploadRecord>> staleUploads(int64_t updated_before, size_t n) override {
    return inner_->staleUploads(updated_before, n);
  }
  Result<std::vector<std::string>> existingUploads(const std::vector<std::string>& ids) override {
    return inner_->existingUploads(ids);
  }

 private:
  std::shared_ptr<meta::GcStore> inner_;
  Hook after_listing_;
};

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("berth-gc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto blobs = storage::FsBlobStore::open(dir_.string());
    ASSERT_TRUE(blobs);
    blobs_ = std::make_shared<FailingRemoveStore>(std::shared_ptr<storage::BlobStore>(std::move(*blobs)));
    auto meta = meta::SqliteMetaStore::open((dir_ / "meta.db").string());
    ASSERT_TRUE(meta);
    gc_store_ = (*meta)->gcStore();
    meta_ = meta->get();
    registry_ = std::make_unique<Registry>(blobs_, std::shared_ptr<meta::MetaStore>(std::move(*meta)),
                                           RegistryOptions{});
    ASSERT_EQ(sqlite3_open((dir_ / "meta.db").c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
    sql("PRAGMA foreign_keys = ON");  // as the stores have it: recycle_blob_refs cascade
  }
  void TearDown() override {
    sqlite3_close(db_);
    registry_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<GarbageCollector> collector(int64_t grace_seconds, std::shared_ptr<meta::GcStore> store = nullptr) {
    GcOptions o;
    o.grace_period = std::chrono::seconds(grace_seconds);
    o.upload_max_age = std::chrono::seconds(24 * kHour);
    o.report_digests = 1000;
    return std::make_unique<GarbageCollector>(*registry_, store ? std::move(store) : gc_store_, o);
  }

  void sql(const std::string& statement) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  }

  fs::path blobPath(const oci::Digest& d) const {
    const std::string hex = d.str().substr(d.str().find(':') + 1);
    return dir_ / "blobs" / "sha256" / hex.substr(0, 2) / hex;
  }
  static void setMtime(const fs::path& p, int64_t unix_seconds) {
    struct timeval tv[2] = {{unix_seconds, 0}, {unix_seconds, 0}};
    ASSERT_EQ(::utimes(p.c_str(), tv), 0) << p;
  }
  // Makes every link and stored file look `seconds` older.
  void ageEverything(int64_t seconds) {
    sql("UPDATE blob_links SET created_at = created_at - " + std::to_string(seconds));
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "blobs")) {
      if (e.is_regular_file()) setMtime(e.path(), unixNow() - seconds);
    }
  }

  oci::Digest upload(const std::string& repository, const std::string& bytes) {
    auto rec = registry_->startUpload(repository);
    EXPECT_TRUE(rec);
    auto stream = registry_->beginAppend(repository, rec->id, oci::DigestAlgorithm::kSha256);
    EXPECT_TRUE(stream);
    EXPECT_TRUE((*stream)->write(bytes));
    const oci::Digest d = oci::digestOf(bytes);
    auto done = registry_->finishUpload(std::move(*stream), d);
    EXPECT_TRUE(done) << done.error().message;
    return d;
  }

  static std::string manifestJson(const std::string& config, const std::vector<std::string>& layers) {
    auto desc = [](const char* type, const std::string& bytes) {
      return std::string(R"({"mediaType":")") + type + R"(","digest":")" + oci::digestOf(bytes).str() +
             R"(","size":)" + std::to_string(bytes.size()) + "}";
    };
    std::string out = R"({"schemaVersion":2,"mediaType":")" + std::string(kManifestType) + R"(","config":)" +
                      desc("application/vnd.oci.image.config.v1+json", config) + R"(,"layers":[)";
    for (size_t i = 0; i < layers.size(); ++i) {
      if (i > 0) out += ",";
      out += desc("application/vnd.oci.image.layer.v1.tar", layers[i]);
    }
    return out + "]}";
  }

  // Uploads config and layers and puts the manifest; its digest.
  oci::Digest pushImage(const std::string& repository, const std::string& tag, const std::string& config,
                        const std::vector<std::string>& layers) {
    upload(repository, config);
    for (const auto& l : layers) upload(repository, l);
    auto put = registry_->putManifest(repository, *oci::parseReference(tag), kManifestType,
                                      manifestJson(config, layers));
    EXPECT_TRUE(put) << put.error().message;
    return put->digest;
  }

  bool stored(const oci::Digest& d) { return registry_->blobStore().stat(d).ok(); }

  fs::path dir_;
  std::shared_ptr<FailingRemoveStore> blobs_;
  std::shared_ptr<meta::GcStore> gc_store_;
  meta::SqliteMetaStore* meta_ = nullptr;  // owned by registry_
  std::unique_ptr<Registry> registry_;
  sqlite3* db_ = nullptr;
};

TEST_F(GcTest, DeletesExactlyTheUnreferencedBlobsOlderThanTheGracePeriod) {
  const std::string shared = "shared layer", unique_a = "layer only in a", unique_b = "layer only in b";
  const std::string config_a = R"({"architecture":"amd64","os":"linux","a":1})";
  const std::string config_b = R"({"architecture":"arm64","os":"linux","b":1})";
  const oci::Digest image_a = pushImage("team/a", "v1", config_a, {shared, unique_a});
  pushImage("team/b", "v1", config_b, {shared, unique_b});
  const std::string loose_bytes = "uploaded, never referenced";
  const oci::Digest loose = upload("team/a", loose_bytes);
  const oci::Digest recycled = upload("team/a", "needed by a recycle-bin item");
  sql("INSERT INTO recycle_items(id, kind, repository, digest, tag, deleted_at, expires_at, repo_created_at,"
      " repo_updated_at, repo_delete_enabled, repo_write_enabled, repo_list_enabled, repo_read_enabled)"
      " VALUES (1, 'manifest', 'team/a', 'sha256:00', '', 0, 0, 0, 0, 1, 1, 1, 1)");
  sql("INSERT INTO recycle_blob_refs(item_id, digest) VALUES (1, '" + recycled.str() + "')");
  const std::string stray_bytes = "stored by a crash before its link";
  const oci::Digest stray = oci::digestOf(stray_bytes);
  ASSERT_TRUE(registry_->blobStore().put(stray, stray_bytes));
  ASSERT_TRUE(registry_->deleteManifest("team/a", *oci::parseReference(image_a.str())));
  ageEverything(2 * kHour);
  // Within the grace period: a new link and a new file without a link.
  const oci::Digest young = upload("team/a", "uploaded just now");
  const std::string young_stray_bytes = "stored just now, no link";
  ASSERT_TRUE(registry_->blobStore().put(oci::digestOf(young_stray_bytes), young_stray_bytes));

  const std::set<std::string> garbage = {oci::digestOf(unique_a).str(), oci::digestOf(config_a).str(), loose.str(),
                                         stray.str()};
  const uint64_t garbage_bytes = unique_a.size() + config_a.size() + loose_bytes.size() + stray_bytes.size();
  auto gc = collector(kHour);

  auto dry = gc->run(true);
  ASSERT_TRUE(dry);
  EXPECT_TRUE(dry->dry_run);
  EXPECT_EQ(std::set<std::string>(dry->digests.begin(), dry->digests.end()), garbage);
  EXPECT_EQ(dry->blobs_deleted, 4u);
  EXPECT_EQ(dry->bytes_freed, garbage_bytes);
  for (const auto& d : garbage) EXPECT_TRUE(stored(*oci::Digest::parse(d))) << "dry run deleted " << d;
  EXPECT_TRUE(registry_->statBlob("team/a", loose));

  auto real = gc->run(false);
  ASSERT_TRUE(real);
  EXPECT_FALSE(real->dry_run);
  EXPECT_EQ(std::set<std::string>(real->digests.begin(), real->digests.end()), garbage);
  EXPECT_EQ(real->bytes_freed, garbage_bytes);
  EXPECT_EQ(real->errors, 0u) << real->first_error;
  for (const auto& d : garbage) EXPECT_FALSE(stored(*oci::Digest::parse(d))) << "kept " << d;
  EXPECT_EQ(registry_->statBlob("team/a", loose).code(), Code::kBlobUnknown);
  EXPECT_EQ(registry_->statBlob("team/a", oci::digestOf(unique_a)).code(), Code::kBlobUnknown);
  // Kept: shared (b still uses it), b's own, the recycle bin's, and the young ones.
  for (const auto& d : {oci::digestOf(shared), oci::digestOf(unique_b), oci::digestOf(config_b), recycled, young,
                        oci::digestOf(young_stray_bytes)}) {
    EXPECT_TRUE(stored(d)) << "deleted " << d.str();
  }
  EXPECT_TRUE(registry_->statBlob("team/a", oci::digestOf(shared)));  // a's link stays while b references it
  EXPECT_TRUE(registry_->statBlob("team/a", recycled));
  auto pulled = registry_->getManifest("team/b", *oci::parseReference("v1"));
  ASSERT_TRUE(pulled);

  auto again = gc->run(false);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->blobs_deleted, 0u);

  // Once the recycle bin lets go, the blob goes too.
  sql("DELETE FROM recycle_items WHERE id = 1");
  auto after_bin = gc->run(false);
  ASSERT_TRUE(after_bin);
  EXPECT_EQ(std::set<std::string>(after_bin->digests.begin(), after_bin->digests.end()),
            std::set<std::string>{recycled.str()});
  EXPECT_FALSE(stored(recycled));
  EXPECT_EQ(gc->blobsDeleted(), 5u);
  ASSERT_TRUE(gc->lastReport());
  EXPECT_EQ(gc->lastReport()->blobs_deleted, 1u);
}

// The final re-check (unlinkIfUnreferenced) counts recycle-bin items as references: blobs
// listed as garbage, then pushed in an image that is deleted into the recycle bin before
// the collector unlinks them, stay, and the binned image restores whole.
TEST_F(GcTest, BlobsBinnedBetweenListingAndUnlinkingAreKept) {
  meta_->setRecycleBin({true, 7 * 24 * kHour});
  const std::string config = R"({"os":"linux","binned":1})", layer = "layer of an image binned during the run";
  const oci::Digest config_digest = upload("team/a", config);
  const oci::Digest layer_digest = upload("team/a", layer);
  ageEverything(2 * kHour);
  std::optional<oci::Digest> image;
  auto store = std::make_shared<HookedGcStore>(gc_store_, [&](const std::vector<meta::GcBlob>& listed) {
    std::set<std::string> digests;
    for (const auto& b : listed) digests.insert(b.digest.str());
    EXPECT_EQ(digests, (std::set<std::string>{config_digest.str(), layer_digest.str()}));
    // A client pushes an image of the two blobs and deletes it: it goes to the bin.
    auto put = registry_->putManifest("team/a", *oci::parseReference("v1"), kManifestType,
                                      manifestJson(config, {layer}));
    ASSERT_TRUE(put) << put.error().message;
    ASSERT_TRUE(registry_->deleteManifest("team/a", *oci::parseReference(put->digest.str())));
    image = put->digest;
  });
  auto gc = collector(kHour, store);

  auto report = gc->run(false);
  ASSERT_TRUE(report);
  ASSERT_TRUE(image) << "the collector listed no garbage";
  EXPECT_EQ(report->errors, 0u) << report->first_error;
  EXPECT_EQ(report->blobs_deleted, 0u);
  EXPECT_TRUE(report->digests.empty());
  EXPECT_TRUE(stored(config_digest));
  EXPECT_TRUE(stored(layer_digest));
  EXPECT_TRUE(registry_->statBlob("team/a", layer_digest));

  auto bin = meta_->recycleStore();
  auto items = bin->list(meta::RecycleQuery{});
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 1u);
  auto no_event = [](const oci::Digest&, const std::string&, uint64_t, const std::string&) {
    return std::optional<meta::EventRecord>();
  };
  ASSERT_TRUE(bin->restore(items->front().id, no_event));
  registry_->changed("team/a");
  auto pulled = registry_->getManifest("team/a", *oci::parseReference("v1"));
  ASSERT_TRUE(pulled);
  EXPECT_EQ(pulled->get()->digest, *image);
  for (const auto& [digest, bytes] : {std::pair{config_digest, config}, std::pair{layer_digest, layer}}) {
    auto reader = registry_->openBlob("team/a", digest);
    ASSERT_TRUE(reader) << digest.str();
    std::string got((*reader)->size(), '\0');
    auto n = (*reader)->readAt(0, got.data(), got.size());
    ASSERT_TRUE(n);
    EXPECT_EQ(got.substr(0, *n), bytes);
  }
}

TEST_F(GcTest, ARunStoppedAfterTheUnlinkIsFinishedByTheNextRun) {
  const oci::Digest loose = upload("team/a", "garbage whose removal is interrupted");
  const oci::Digest kept = pushImage("team/a", "v1", R"({"os":"linux"})", {"a referenced layer"});
  ageEverything(2 * kHour);
  auto gc = collector(kHour);

  blobs_->fail_remove = true;
  auto first = gc->run(false);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->blobs_deleted, 0u);
  EXPECT_GE(first->errors, 1u);
  // The state a crash right after the unlink leaves: no link, the file still there.
  EXPECT_EQ(registry_->statBlob("team/a", loose).code(), Code::kBlobUnknown);
  EXPECT_TRUE(stored(loose));

  blobs_->fail_remove = false;
  auto second = gc->run(false);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->errors, 0u) << second->first_error;
  EXPECT_EQ(second->digests, std::vector<std::string>{loose.str()});
  EXPECT_FALSE(stored(loose));
  EXPECT_TRUE(registry_->getManifest("team/a", *oci::parseReference(kept.str())));
  EXPECT_TRUE(stored(oci::digestOf("a referenced layer")));
}

TEST_F(GcTest, AbandonedUploadsAndTempFilesGoRecentAndBusyOnesStay) {
  auto start = [&](const std::string& bytes) {
    auto rec = registry_->startUpload("team/a");
    EXPECT_TRUE(rec);
    auto stream = registry_->beginAppend("team/a", rec->id, oci::DigestAlgorithm::kSha256);
    EXPECT_TRUE(stream);
    EXPECT_TRUE((*stream)->write(bytes));
    EXPECT_TRUE(registry_->endAppend(std::move(*stream)));
    return rec->id;
  };
  const std::string abandoned = start("abandoned half upload");
  const std::string recent = start("recent upload");
  const std::string busy = start("old session, request in progress");
  const std::string never_written = registry_->startUpload("team/a")->id;  // no staging data at all
  const int64_t old = unixNow() - 2 * 24 * kHour;
  sql("UPDATE uploads SET updated_at = " + std::to_string(old) + " WHERE id IN ('" + abandoned + "', '" + busy +
      "', '" + never_written + "')");
  for (const auto& id : {abandoned, busy}) setMtime(dir_ / "uploads" / id, old);
  auto in_flight = registry_->beginAppend("team/a", busy, oci::DigestAlgorithm::kSha256);
  ASSERT_TRUE(in_flight);
  // Staging data no session owns, and temp files of put(): old ones go.
  { std::ofstream(dir_ / "uploads" / "0a1b2c3d-orphan") << "left by a crash"; }
  setMtime(dir_ / "uploads" / "0a1b2c3d-orphan", old);
  { std::ofstream(dir_ / "tmp" / "put-old123") << "x"; }
  setMtime(dir_ / "tmp" / "put-old123", old);
  { std::ofstream(dir_ / "tmp" / "put-new456") << "y"; }

  auto gc = collector(kHour);
  auto dry = gc->run(true);
  ASSERT_TRUE(dry);
  // abandoned, busy (the dry run cannot know), never_written, the orphan file.
  EXPECT_EQ(dry->uploads_removed, 4u);
  EXPECT_EQ(dry->temp_files_removed, 1u);
  EXPECT_TRUE(registry_->getUpload("team/a", abandoned));

  auto real = gc->run(false);
  ASSERT_TRUE(real);
  EXPECT_EQ(real->uploads_removed, 3u);  // abandoned, never_written, the orphan file
  EXPECT_EQ(real->temp_files_removed, 1u);
  EXPECT_EQ(registry_->getUpload("team/a", abandoned).code(), Code::kBlobUploadUnknown);
  EXPECT_EQ(registry_->getUpload("team/a", never_written).code(), Code::kBlobUploadUnknown);
  EXPECT_FALSE(fs::exists(dir_ / "uploads" / abandoned));
  EXPECT_FALSE(fs::exists(dir_ / "uploads" / "0a1b2c3d-orphan"));
  EXPECT_FALSE(fs::exists(dir_ / "tmp" / "put-old123"));
  EXPECT_TRUE(fs::exists(dir_ / "tmp" / "put-new456"));
  EXPECT_TRUE(registry_->getUpload("team/a", recent));
  EXPECT_TRUE(registry_->getUpload("team/a", busy));
  // The busy session still completes.
  ASSERT_TRUE((*in_flight)->write(" and the rest"));
  const oci::Digest d = oci::digestOf("old session, request in progress and the rest");
  ASSERT_TRUE(registry_->finishUpload(std::move(*in_flight), d));
  EXPECT_TRUE(registry_->statBlob("team/a", d));
}

// Pushers (some layers shared, some mounted) and pullers race a collector running in a loop
// with no grace period. Every acknowledged push pulls back intact during and after, and a
// final run frees exactly the blobs the deleted manifests alone used.
TEST_F(GcTest, PushesAndPullsRacingACollectorWithNoGracePeriodLoseNothing) {
  constexpr int kPushers = 4, kImages = 12, kPullers = 2;
  struct Image {
    std::string repository;
    int index = 0;
    oci::Digest digest;
    std::map<std::string, std::string> blobs;  // digest -> bytes
  };
  std::mutex mu;
  std::vector<Image> pushed;
  std::atomic<int> pushers_done{0};
  std::atomic<int> failed_pulls{0}, pulls{0}, retries{0};
  auto gc = collector(0);

  auto read_all = [&](const std::string& repository, const oci::Digest& d) -> std::optional<std::string> {
    auto reader = registry_->openBlob(repository, d);
    if (!reader) return std::nullopt;
    std::string out((*reader)->size(), '\0');
    for (size_t done = 0; done < out.size();) {
      auto n = (*reader)->readAt(done, out.data() + done, out.size() - done);
      if (!n || *n == 0) return std::nullopt;
      done += *n;
    }
    return out;
  };
  auto pusher = [&](int p) {
    const std::string repository = "team/p" + std::to_string(p);
    const std::string base = "base layer shared by pushers " + std::to_string(p % 2);
    for (int i = 0; i < kImages; ++i) {
      const std::string config = R"({"os":"linux","pusher":)" + std::to_string(p) + R"(,"image":)" +
                                 std::to_string(i) + "}";
      const std::string layer = "layer " + std::to_string(p) + "/" + std::to_string(i);
      const std::string body = manifestJson(config, {base, layer});
      for (int attempt = 0; attempt < 200; ++attempt) {
        // The base layer: mounted from any repository when some holds it, else uploaded.
        if (!registry_->mountBlob(repository, oci::digestOf(base), std::nullopt)) upload(repository, base);
        upload(repository, config);
        upload(repository, layer);
        auto put = registry_->putManifest(repository, *oci::parseReference("v" + std::to_string(i)), kManifestType,
                                          body);
        if (put) {
          std::lock_guard lock(mu);
          pushed.push_back({repository, i, put->digest,
                            {{oci::digestOf(base).str(), base},
                             {oci::digestOf(config).str(), config},
                             {oci::digestOf(layer).str(), layer}}});
          break;
        }
        // The collector took a blob between its upload and the manifest: push again.
        ASSERT_EQ(put.code(), Code::kManifestBlobUnknown) << put.error().message;
        ++retries;
      }
    }
    ++pushers_done;
  };
  auto puller = [&](int seed) {
    std::mt19937 rng(seed);
    while (pushers_done < kPushers) {
      Image image;
      {
        std::lock_guard lock(mu);
        if (pushed.empty()) continue;
        image = pushed[rng() % pushed.size()];
      }
      ++pulls;
      bool ok = registry_->getManifest(image.repository, *oci::parseReference(image.digest.str())).ok();
      for (const auto& [d, bytes] : image.blobs) ok = ok && read_all(image.repository, *oci::Digest::parse(d)) == bytes;
      if (!ok) ++failed_pulls;
    }
  };
  std::vector<std::thread> threads;
  for (int p = 0; p < kPushers; ++p) threads.emplace_back(pusher, p);
  for (int p = 0; p < kPullers; ++p) threads.emplace_back(puller, 100 + p);
  int runs = 0;
  uint64_t deleted_while_pushing = 0;
  while (pushers_done < kPushers) {
    auto r = gc->run(false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->errors, 0u) << r->first_error;
    deleted_while_pushing += r->blobs_deleted;
    ++runs;
  }
  for (auto& t : threads) t.join();

  ASSERT_EQ(pushed.size(), static_cast<size_t>(kPushers * kImages));
  EXPECT_EQ(failed_pulls, 0) << "of " << pulls << " pulls";
  EXPECT_GT(runs, 1);
  for (const auto& image : pushed) {
    ASSERT_TRUE(registry_->getManifest(image.repository, *oci::parseReference(image.digest.str())));
    for (const auto& [d, bytes] : image.blobs) {
      EXPECT_EQ(read_all(image.repository, *oci::Digest::parse(d)), bytes) << image.repository << " " << d;
    }
  }

  // Clean up whatever failed attempts left, then delete the first half of every pusher's
  // images: what only they used must go, nothing else.
  ASSERT_TRUE(gc->run(false));
  std::set<std::string> before;
  ASSERT_TRUE(registry_->blobStore().list([&](const oci::Digest& d, uint64_t) { before.insert(d.str()); }));
  std::set<std::string> still_used, deleted_used;
  for (const auto& image : pushed) {
    if (image.index % 2 == 0) {
      ASSERT_TRUE(registry_->deleteManifest(image.repository, *oci::parseReference(image.digest.str())));
      for (const auto& [d, bytes] : image.blobs) deleted_used.insert(d);
    } else {
      for (const auto& [d, bytes] : image.blobs) still_used.insert(d);
    }
  }
  std::set<std::string> expected;
  for (const auto& d : deleted_used) {
    if (still_used.count(d) == 0) expected.insert(d);
  }
  auto final_run = gc->run(false);
  ASSERT_TRUE(final_run);
  EXPECT_EQ(std::set<std::string>(final_run->digests.begin(), final_run->digests.end()), expected);
  std::set<std::string> after;
  ASSERT_TRUE(registry_->blobStore().list([&](const oci::Digest& d, uint64_t) { after.insert(d.str()); }));
  std::set<std::string> freed;
  for (const auto& d : before) {
    if (after.count(d) == 0) freed.insert(d);
  }
  EXPECT_EQ(freed, expected);
  for (const auto& d : still_used) EXPECT_EQ(after.count(d), 1u) << d;
  std::cout << "[ info ] " << runs << " collections during the pushes deleted " << deleted_while_pushing
            << " blobs; " << retries << " pushes retried; " << pulls << " pulls; final run freed "
            << expected.size() << " blobs\n";
}

}  // namespace
}  // namespace berth::registry
