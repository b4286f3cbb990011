// The replication rules every metadata driver keeps (docs/replication.md): writes made here
// are journaled with their version, replicated writes apply only where they are newer
// (tags, tag and manifest tombstones), and the peers' cursors only move forward.
#include <gtest/gtest.h>

#include "meta/properties_store.h"
#include "meta/replication_store.h"
#include "meta_store_contract.h"

namespace berth::meta::testing {
namespace {

class ReplicationStoreTest : public StoreTest {
 protected:
  static std::string bytesOf(std::string_view name) {
    return R"({"schemaVersion":2,"name":")" + std::string(name) + "\"}";
  }
  static oci::Digest digestOf(std::string_view name) { return oci::digestOf(bytesOf(name)); }

  static EventRecord event(std::string_view action, std::string_view repo, std::string_view tag, const oci::Digest& d,
                           Version v, bool replicated) {
    EventRecord e;
    e.action = std::string(action);
    e.repository = std::string(repo);
    e.tag = std::string(tag);
    e.digest = d.str();
    e.payload = "{}";
    e.version = std::move(v);
    e.replicated = replicated;
    return e;
  }

  // Pushes manifest `name` (tagged `tag` unless empty) with version v.
  Status push(std::string_view name, std::string_view tag, Version v, bool replicated) {
    PutManifestRequest req;
    req.repository = "r";
    req.manifest.bytes = bytesOf(name);
    req.manifest.digest = digestOf(name);
    req.manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
    if (!tag.empty()) req.tag = std::string(tag);
    req.event = event("push", "r", tag, req.manifest.digest, std::move(v), replicated);
    return store().putManifest(req);
  }
  Status deleteTag(std::string_view tag, Version v, bool replicated) {
    return store().deleteTag("r", tag, event("delete", "r", tag, digestOf("x"), std::move(v), replicated));
  }
  Status deleteManifest(std::string_view name, Version v, bool replicated) {
    return store().deleteManifest("r", digestOf(name), event("delete", "r", "", digestOf(name), std::move(v), replicated));
  }
  std::string tagged(std::string_view tag) {
    auto d = store().resolveTag("r", tag);
    return d ? d->str() : std::string("none");
  }
  std::vector<JournalRecord> journal() {
    auto rows = store().replicationStore()->journalAfter(0, 100);
    EXPECT_TRUE(rows.ok());
    return rows ? *rows : std::vector<JournalRecord>{};
  }
};

TEST_P(ReplicationStoreTest, WritesMadeHereAreJournaledWithTheirVersion) {
  ASSERT_TRUE(push("one", "t", {10, "a"}, false).ok());
  ASSERT_TRUE(push("two", "t", {20, "a"}, false).ok());
  ASSERT_TRUE(push("three", "", {}, false).ok());           // replication off: no version
  ASSERT_TRUE(push("four", "u", {30, "b"}, true).ok());     // arrived from b: b journals it
  ASSERT_TRUE(deleteTag("t", {40, "a"}, false).ok());
  auto rows = journal();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].op, "push");
  EXPECT_EQ(rows[0].tag, "t");
  EXPECT_EQ(rows[0].digest, digestOf("one").str());
  EXPECT_EQ(rows[0].hlc, 10);
  EXPECT_EQ(rows[0].previous.hlc, 0);
  EXPECT_EQ(rows[1].previous, (Version{10, "a"}));  // what the tag held before
  EXPECT_EQ(rows[2].op, "delete_tag");
  EXPECT_EQ(rows[2].previous, (Version{20, "a"}));
  EXPECT_LT(rows[0].id, rows[1].id);
  auto last = store().replicationStore()->lastJournalId();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, rows[2].id);
  auto after = store().replicationStore()->journalAfter(rows[0].id, 1);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].id, rows[1].id);
  auto tag = store().replicationStore()->tagState("r", "u");
  ASSERT_TRUE(tag.ok());
  ASSERT_TRUE(tag->has_value());
  EXPECT_EQ((*tag)->version, (Version{30, "b"}));
}

TEST_P(ReplicationStoreTest, AReplicatedTagWriteAppliesOnlyWhenNewer) {
  ASSERT_TRUE(push("mine", "t", {20, "b"}, false).ok());
  auto older = push("theirs", "t", {10, "a"}, true);
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.code(), Code::kConflict);
  EXPECT_EQ(tagged("t"), digestOf("mine").str());
  // Same clock reading: the region name decides ("a" < "b").
  EXPECT_EQ(push("theirs", "t", {20, "a"}, true).code(), Code::kConflict);
  // The losing manifest can still be stored by digest.
  ASSERT_TRUE(push("theirs", "", {10, "a"}, true).ok());
  EXPECT_TRUE(store().getManifest("r", digestOf("theirs")).ok());
  ASSERT_TRUE(push("theirs", "t", {21, "a"}, true).ok());
  EXPECT_EQ(tagged("t"), digestOf("theirs").str());
}

TEST_P(ReplicationStoreTest, LocksBindWritesMadeHereNotReplicatedOnes) {
  ASSERT_TRUE(push("one", "t", {10, "b"}, false).ok());
  ASSERT_TRUE(push("two", "u", {11, "b"}, false).ok());
  auto props = store().propertiesStore();
  AttributesPatch locked;
  locked.write_enabled = false;
  locked.delete_enabled = false;
  ASSERT_TRUE(props->updateTag("r", "t", locked).ok());
  ASSERT_TRUE(props->updateTag("r", "u", locked).ok());
  // Here: refused, naming the lock.
  auto mine = push("three", "t", {12, "b"}, false);
  ASSERT_FALSE(mine.ok());
  EXPECT_EQ(mine.code(), Code::kDenied);
  EXPECT_EQ(deleteTag("u", {13, "b"}, false).code(), Code::kDenied);
  // Made in another replica (checked there, when made): applied.
  ASSERT_TRUE(push("three", "t", {14, "a"}, true).ok());
  EXPECT_EQ(tagged("t"), digestOf("three").str());
  ASSERT_TRUE(deleteTag("u", {15, "a"}, true).ok());
  EXPECT_EQ(tagged("u"), "none");
  // The repository's own lock too.
  ASSERT_TRUE(props->updateRepository("r", locked).ok());
  EXPECT_EQ(push("four", "v", {16, "b"}, false).code(), Code::kDenied);
  EXPECT_TRUE(push("four", "v", {17, "a"}, true).ok());
  EXPECT_TRUE(deleteManifest("four", {18, "a"}, true).ok());
}

TEST_P(ReplicationStoreTest, ADeletedTagOutvotesOlderPushesArrivingLater) {
  ASSERT_TRUE(push("m", "t", {10, "a"}, false).ok());
  ASSERT_TRUE(deleteTag("t", {50, "a"}, false).ok());
  EXPECT_EQ(push("late", "t", {40, "b"}, true).code(), Code::kConflict);
  EXPECT_EQ(tagged("t"), "none");
  ASSERT_TRUE(push("later", "t", {60, "b"}, true).ok());
  EXPECT_EQ(tagged("t"), digestOf("later").str());
  // A replicated delete of a tag this replica never had still buries it.
  ASSERT_TRUE(deleteTag("never", {70, "b"}, true).ok());
  EXPECT_EQ(push("m", "never", {65, "a"}, true).code(), Code::kConflict);
  ASSERT_TRUE(push("m", "never", {71, "a"}, false).ok());  // a write made here always applies
}

TEST_P(ReplicationStoreTest, AReplicatedDeleteLosesToANewerWriteHere) {
  ASSERT_TRUE(push("m", "t", {80, "a"}, false).ok());
  EXPECT_EQ(deleteTag("t", {75, "b"}, true).code(), Code::kConflict);
  EXPECT_EQ(tagged("t"), digestOf("m").str());
  EXPECT_EQ(deleteManifest("m", {75, "b"}, true).code(), Code::kConflict);
  EXPECT_TRUE(store().getManifest("r", digestOf("m")).ok());
  ASSERT_TRUE(deleteManifest("m", {90, "b"}, true).ok());
  EXPECT_EQ(store().getManifest("r", digestOf("m")).code(), Code::kManifestUnknown);
  // Its tombstone turns away the older push of the same manifest still on its way.
  EXPECT_EQ(push("m", "", {85, "a"}, true).code(), Code::kConflict);
  EXPECT_EQ(store().getManifest("r", digestOf("m")).code(), Code::kManifestUnknown);
  EXPECT_TRUE(journal().size() == 1u);  // only the push made here
}

// Two pushes made here race: the one with the older clock reading commits last. It is
// still the newer write everywhere: its version is placed above the one it replaced.
TEST_P(ReplicationStoreTest, AWriteMadeHereIsPlacedAboveWhatItReplaces) {
  ASSERT_TRUE(push("first", "t", {20, "a"}, false).ok());
  ASSERT_TRUE(push("second", "t", {10, "a"}, false).ok());
  EXPECT_EQ(tagged("t"), digestOf("second").str());
  auto rows = journal();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].hlc, 21);
  auto state = store().replicationStore()->tagState("r", "t");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->version, (Version{21, "a"}));
  // A peer's write between the two clock readings loses to it, as it does at the peer.
  EXPECT_EQ(push("theirs", "t", {15, "b"}, true).code(), Code::kConflict);
  // A delete with an old reading too.
  ASSERT_TRUE(deleteTag("t", {5, "a"}, false).ok());
  rows = journal();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].op, "delete_tag");
  EXPECT_EQ(rows[2].hlc, 22);
  EXPECT_EQ(push("theirs", "t", {21, "b"}, true).code(), Code::kConflict);  // the tombstone is at 22
}

TEST_P(ReplicationStoreTest, PeerCursorsOnlyMoveForwardAndBoundPruning) {
  auto repl = store().replicationStore();
  ASSERT_TRUE(repl->setApplied("east", 5, 100).ok());
  ASSERT_TRUE(repl->setApplied("east", 3, 101).ok());
  ASSERT_TRUE(repl->setRead("east", 2, 102).ok());
  auto p = repl->peer("east");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->applied, 5);
  EXPECT_EQ(p->applied_at, 100);
  EXPECT_EQ(p->read, 2);
  auto none = repl->peer("west");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->applied, 0);
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(push("m" + std::to_string(i), "t", {i * 10, "a"}, false).ok());
  auto rows = journal();
  ASSERT_EQ(rows.size(), 4u);
  ASSERT_TRUE(repl->setRead("east", rows[1].id, 103).ok());
  // Only what every listed peer has read goes; "west" has read nothing.
  ASSERT_TRUE(repl->prune({"east", "west"}, INT64_MAX, 0).ok());
  EXPECT_EQ(journal().size(), 4u);
  ASSERT_TRUE(repl->prune({"east"}, INT64_MAX, 0).ok());
  rows = journal();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].digest, digestOf("m3").str());
  ASSERT_TRUE(repl->forgetPeer("east").ok());
  auto peers = repl->peers();
  ASSERT_TRUE(peers.ok());
  EXPECT_TRUE(peers->empty());
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Drivers, ReplicationStoreTest, allStores(), storeFactoryName);

}  // namespace berth::meta::testing
