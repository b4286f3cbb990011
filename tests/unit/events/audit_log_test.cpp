// AuditLog against a real SQLite file: batching, filters, paging, retention, the bounded
// queue, the JSON lines file, and what stop() writes.
#include "events/audit_log.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "../meta/sqlite_test_files.h"
#include "meta/sqlite/sqlite_meta_store.h"

namespace berth::events {
namespace {

namespace json = boost::json;
using meta::AuditQuery;
using meta::AuditRecord;

int64_t nowUs() { return unixMicrosNow(); }

// prefix + i (not "literal" + std::string: GCC 12 warns falsely about that, -Wrestrict).
std::string numbered(std::string prefix, int i) { return prefix.append(std::to_string(i)); }

AuditRecord entry(std::string identity, std::string action, std::string repository, std::string result,
                  int64_t time_us = 0) {
  AuditRecord r;
  r.time_us = time_us;
  r.identity = std::move(identity);
  r.client = "10.0.0.7";
  r.action = std::move(action);
  r.repository = std::move(repository);
  r.tag = "v1";
  r.method = "GET";
  r.status = result == "success" ? 200 : 403;
  r.result = std::move(result);
  return r;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = meta::SqliteMetaStore::open(dir_.db());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = (*opened)->auditStore();
  }

  std::unique_ptr<AuditLog> started(AuditOptions options = {}) {
    auto log = std::make_unique<AuditLog>(store_, options);
    auto s = log->start();
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return log;
  }

  std::vector<AuditRecord> list(AuditQuery q = {}) {
    q.limit = q.limit == 100 ? 10000 : q.limit;
    auto got = store_->list(q);
    EXPECT_TRUE(got) << (got ? "" : got.error().message);
    return got ? *got : std::vector<AuditRecord>{};
  }

  meta::testing::TempDir dir_;
  std::shared_ptr<meta::AuditStore> store_;
};

TEST_F(AuditLogTest, FlushWritesEveryRecordedEntryNewestFirstWithIncreasingIds) {
  auto log = started();
  const int64_t t0 = nowUs();
  for (int i = 0; i < 250; ++i) log->record(entry(numbered("u", i), "pull", "repo", "success", t0 + i));
  log->flush();
  auto rows = list();
  ASSERT_EQ(rows.size(), 250u);
  EXPECT_EQ(log->written(), 250u);
  EXPECT_EQ(log->dropped(), 0u);
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GT(rows[i - 1].id, rows[i].id);
    EXPECT_GE(rows[i - 1].time_us, rows[i].time_us);
  }
  EXPECT_EQ(rows.front().identity, "u249");
  EXPECT_EQ(rows.back().identity, "u0");
  EXPECT_EQ(rows.back().client, "10.0.0.7");
  EXPECT_EQ(rows.back().tag, "v1");
  EXPECT_EQ(rows.back().status, 200);
}

TEST_F(AuditLogTest, ListingsAreByTimeEvenWhenWrittenOutOfOrder) {
  // A long request that arrived first is recorded after a short one that arrived later.
  auto log = started();
  const int64_t t = nowUs();
  log->record(entry("late-arrival", "pull", "r", "success", t + 10));
  log->flush();
  log->record(entry("early-arrival", "push", "r", "success", t));
  log->record(entry("latest", "pull", "r", "success", t + 20));
  log->flush();
  std::vector<std::string> order;
  for (const auto& r : list()) order.push_back(r.identity);
  EXPECT_EQ(order, (std::vector<std::string>{"latest", "late-arrival", "early-arrival"}));
  // The cursor is the entry, not its id: paging by one walks the same order.
  AuditQuery q;
  q.limit = 1;
  std::vector<std::string> paged;
  for (int i = 0; i < 4; ++i) {
    auto page = list(q);
    if (page.empty()) break;
    paged.push_back(page[0].identity);
    q.before_id = page[0].id;
  }
  EXPECT_EQ(paged, order);
}

TEST_F(AuditLogTest, IdenticalEntriesOfOneIntervalAreStoredOnceWithACount) {
  AuditOptions options;
  options.flush_every = std::chrono::hours(1);  // one batch: what flush() takes
  auto log = started(options);
  const int64_t t = nowUs();
  for (int i = 0; i < 500; ++i) log->record(entry("ci", "pull", "app", "success", t + i));
  log->record(entry("ci", "pull", "app", "denied", t + 600));  // another result
  AuditRecord other_client = entry("ci", "pull", "app", "success", t + 700);
  other_client.client = "10.0.0.8";
  log->record(other_client);
  log->flush();
  auto rows = list();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].count, 500);
  EXPECT_EQ(rows[2].time_us, t);  // the first one's time
  EXPECT_EQ(rows[1].count, 1);
  EXPECT_EQ(rows[1].result, "denied");
  EXPECT_EQ(rows[0].client, "10.0.0.8");
  EXPECT_EQ(log->written(), 502u);  // in requests
  EXPECT_EQ(auditJson(rows[2]).at("count"), 500);
  // Not merged: every entry its own row.
  options.merge = false;
  log->stop();
  auto unmerged = started(options);
  for (int i = 0; i < 5; ++i) unmerged->record(entry("ci", "pull", "app", "success", t + 1000 + i));
  unmerged->flush();
  EXPECT_EQ(list().size(), 8u);
}

// Repeats merge as they are recorded (no copy per pull): the entry keeps the earliest
// time even when a later-started request recorded first, a full queue still takes
// repeats of what it holds, and merging stops at any differing field.
TEST_F(AuditLogTest, RepeatsMergeAsRecordedKeepingTheEarliestTime) {
  AuditOptions options;
  options.queue_capacity = 2;
  options.flush_every = std::chrono::hours(1);
  auto log = started(options);
  const int64_t t = nowUs();
  log->record(entry("ci", "pull", "app", "success", t + 50));
  log->record(entry("ci", "pull", "app", "success", t + 10));  // arrived earlier, finished later
  log->record(entry("ci", "pull", "app", "denied", t + 60));
  for (int i = 0; i < 100; ++i) log->record(entry("ci", "pull", "app", "success", t + 100 + i));
  AuditRecord other_digest = entry("ci", "pull", "app", "success", t + 300);
  other_digest.digest = "sha256:0000";
  log->record(other_digest);  // a third distinct entry: over capacity, dropped
  EXPECT_EQ(log->dropped(), 1u);
  log->flush();
  auto rows = list();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].count, 102);
  EXPECT_EQ(rows[1].time_us, t + 10);
  EXPECT_EQ(rows[0].result, "denied");
  EXPECT_EQ(log->written(), 103u);
}

TEST_F(AuditLogTest, EntriesWithoutTimeGetTheCurrentTime) {
  auto log = started();
  const int64_t before = nowUs();
  log->record(entry("a", "push", "r", "success"));
  log->flush();
  auto rows = list();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_GE(rows[0].time_us, before);
  EXPECT_LE(rows[0].time_us, nowUs());
}

TEST_F(AuditLogTest, FiltersCombine) {
  auto log = started();
  const int64_t t = nowUs();
  log->record(entry("alice", "pull", "app", "success", t - 3000000));
  log->record(entry("alice", "pull", "app", "denied", t - 2000000));
  log->record(entry("alice", "push", "lib", "success", t - 1000000));
  log->record(entry("bob", "pull", "app", "denied", t));
  log->flush();
  auto identities = [](const std::vector<AuditRecord>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.identity + "/" + r.action + "/" + r.result);
    return out;
  };
  AuditQuery q;
  q.identity = "alice";
  EXPECT_EQ(identities(list(q)), (std::vector<std::string>{"alice/push/success", "alice/pull/denied",
                                                           "alice/pull/success"}));
  q.action = "pull";
  q.result = "denied";
  EXPECT_EQ(identities(list(q)), (std::vector<std::string>{"alice/pull/denied"}));
  AuditQuery by_repo;
  by_repo.repository = "app";
  by_repo.result = "denied";
  EXPECT_EQ(identities(list(by_repo)), (std::vector<std::string>{"bob/pull/denied", "alice/pull/denied"}));
  AuditQuery window;
  window.since_us = t - 2000000;
  window.until_us = t;  // exclusive
  EXPECT_EQ(identities(list(window)), (std::vector<std::string>{"alice/push/success", "alice/pull/denied"}));
  AuditQuery none;
  none.identity = "carol";
  EXPECT_TRUE(list(none).empty());
}

TEST_F(AuditLogTest, PagesWalkEveryEntryOnceWithTheLastIdAsCursor) {
  auto log = started();
  for (int i = 0; i < 95; ++i) log->record(entry(i % 2 ? "odd" : "even", "pull", numbered("r", i), "success"));
  log->flush();
  AuditQuery q;
  q.identity = "odd";
  q.limit = 10;
  std::set<int64_t> seen;
  int pages = 0;
  for (;;) {
    auto page = list(q);
    ++pages;
    for (const auto& r : page) {
      EXPECT_EQ(r.identity, "odd");
      EXPECT_TRUE(seen.insert(r.id).second) << "id " << r.id << " seen twice";
    }
    if (page.size() < q.limit) break;
    q.before_id = page.back().id;
  }
  EXPECT_EQ(seen.size(), 47u);
  EXPECT_EQ(pages, 5);
}

TEST_F(AuditLogTest, RetentionPrunesOnlyOldEntries) {
  AuditOptions options;
  options.retention_days = 30;
  options.prune_every = std::chrono::seconds(0);  // every tick
  auto log = started(options);
  const int64_t day = 86400LL * 1000000;
  log->record(entry("old", "pull", "r", "success", nowUs() - 31 * day));
  log->record(entry("recent", "pull", "r", "success", nowUs() - 29 * day));
  log->record(entry("new", "pull", "r", "success"));
  log->flush();  // writes, then prunes in the same round
  std::vector<std::string> left;
  for (const auto& r : list()) left.push_back(r.identity);
  EXPECT_EQ(left, (std::vector<std::string>{"new", "recent"}));
}

TEST_F(AuditLogTest, ZeroRetentionKeepsEverything) {
  AuditOptions options;
  options.retention_days = 0;
  options.prune_every = std::chrono::seconds(0);
  auto log = started(options);
  log->record(entry("ancient", "pull", "r", "success", 1000));
  log->flush();
  log->flush();
  EXPECT_EQ(list().size(), 1u);
}

TEST_F(AuditLogTest, FullQueueDropsAndCountsWithoutBlocking) {
  AuditOptions options;
  options.queue_capacity = 3;
  options.flush_every = std::chrono::hours(1);  // the writer waits for flush()
  auto log = started(options);
  for (int i = 0; i < 5; ++i) log->record(entry(numbered("u", i), "pull", "r", "success"));
  std::thread other([&] { log->record(entry("other-thread", "pull", "r", "success")); });
  other.join();
  EXPECT_EQ(log->dropped(), 3u);
  log->flush();
  EXPECT_EQ(log->written(), 3u);
  std::vector<std::string> kept;
  for (const auto& r : list()) kept.push_back(r.identity);
  EXPECT_EQ(kept, (std::vector<std::string>{"u2", "u1", "u0"}));
  // Drained: room again.
  log->record(entry("after", "pull", "r", "success"));
  log->flush();
  EXPECT_EQ(list().size(), 4u);
  EXPECT_EQ(log->dropped(), 3u);
}

TEST_F(AuditLogTest, JsonLinesFileHoldsTheSameEntriesAsTheDatabase) {
  AuditOptions options;
  options.file = dir_.db() + ".audit.jsonl";
  auto log = started(options);
  AuditRecord r = entry("alice", "push", "team/app", "success");
  r.digest = "sha256:" + std::string(64, 'a');
  r.identity_kind = "user";
  r.message = "quote \" and newline \n stay one line";
  log->record(r);
  log->record(entry("bob", "pull", "team/app", "denied"));
  log->flush();
  std::ifstream in(options.file);
  std::vector<json::object> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line).as_object());
  auto rows = list();
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_EQ(rows.size(), 2u);
  // The file is oldest first, the listing newest first.
  EXPECT_EQ(lines[0], auditJson(rows[1]));
  EXPECT_EQ(lines[1], auditJson(rows[0]));
  EXPECT_EQ(lines[0]["identity"], "alice");
  EXPECT_EQ(lines[0]["identityKind"], "user");
  EXPECT_EQ(lines[0]["digest"], json::value(r.digest));
  EXPECT_EQ(lines[0]["repository"], "team/app");
  EXPECT_EQ(lines[0]["message"], json::value(r.message));
  EXPECT_EQ(lines[1]["result"], "denied");
  EXPECT_EQ(lines[1]["status"], 403);
  EXPECT_EQ(lines[1]["clientAddress"], "10.0.0.7");
}

TEST_F(AuditLogTest, FileIsReopenedAfterRotation) {
  AuditOptions options;
  options.file = dir_.db() + ".audit.jsonl";
  auto log = started(options);
  log->record(entry("before", "pull", "r", "success"));
  log->flush();
  std::filesystem::rename(options.file, options.file + ".1");
  log->record(entry("after", "pull", "r", "success"));
  log->flush();
  auto lines = [](const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).at("identity").as_string().c_str());
    return out;
  };
  EXPECT_EQ(lines(options.file + ".1"), std::vector<std::string>{"before"});
  EXPECT_EQ(lines(options.file), std::vector<std::string>{"after"});
}

TEST_F(AuditLogTest, UnopenableFileFailsStartNamingIt) {
  AuditOptions options;
  options.file = "/nonexistent-dir-for-berth-test/audit.jsonl";
  AuditLog log(store_, options);
  auto s = log.start();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(options.file), std::string::npos);
}

TEST_F(AuditLogTest, StopWritesWhatIsQueuedAndLaterEntriesAreDropped) {
  AuditOptions options;
  options.flush_every = std::chrono::hours(1);
  auto log = started(options);
  for (int i = 0; i < 10; ++i) log->record(entry(numbered("u", i), "pull", "r", "success"));
  log->stop();
  EXPECT_EQ(list().size(), 10u);
  log->record(entry("late", "pull", "r", "success"));
  EXPECT_EQ(log->dropped(), 1u);
  log->flush();  // returns at once: nothing runs
  EXPECT_EQ(list().size(), 10u);
}

TEST_F(AuditLogTest, KindResolverFillsMissingKindsOnly) {
  AuditLog log(store_, {});
  log.setKindResolver([](std::string_view name) { return name == "alice" ? "user" : ""; });
  ASSERT_TRUE(log.start());
  log.record(entry("alice", "pull", "r", "success"));
  AuditRecord fed = entry("x@example.com", "pull", "r", "success");
  fed.identity_kind = "federated";
  log.record(fed);
  log.record(entry("", "pull", "r", "denied"));
  log.flush();
  std::map<std::string, std::string> kinds;
  for (const auto& r : list()) kinds[r.identity] = r.identity_kind;
  EXPECT_EQ(kinds["alice"], "user");
  EXPECT_EQ(kinds["x@example.com"], "federated");
  EXPECT_EQ(kinds[""], "");
}

TEST_F(AuditLogTest, ConcurrentRecordersLoseNothingAndIdsStayUnique) {
  auto log = started();
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 2000; ++i) log->record(entry(numbered("t", t), "pull", numbered("r", i), "success"));
    });
  }
  for (auto& t : threads) t.join();
  log->flush();
  AuditQuery all;
  all.limit = 100000;
  auto rows = list(all);
  EXPECT_EQ(rows.size(), 12000u);
  std::set<int64_t> ids;
  for (const auto& r : rows) ids.insert(r.id);
  EXPECT_EQ(ids.size(), 12000u);
  EXPECT_EQ(log->dropped(), 0u);
}

TEST_F(AuditLogTest, IdsContinueAcrossRestartsAndPruning) {
  {
    auto log = started();
    log->record(entry("first", "pull", "r", "success"));
    log->stop();
  }
  const int64_t first_id = list().at(0).id;
  ASSERT_TRUE(store_->prune(nowUs() + 1));
  auto log = started();
  log->record(entry("second", "pull", "r", "success"));
  log->flush();
  auto rows = list();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_GT(rows[0].id, first_id);  // a cursor from before never points at a newer entry
}

TEST(FormatRfc3339Millis, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(formatRfc3339Micros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(formatRfc3339Micros(1795000000123456), "2026-11-18T11:06:40.123456Z");
  EXPECT_EQ(formatRfc3339Micros(-1), "1969-12-31T23:59:59.999999Z");
}

}  // namespace
}  // namespace berth::events
