#pragma once
// ReplicationStore: the journal of the writes made in this replica (what its peers read,
// from a cursor) and, per peer, how far each direction has got (docs/replication.md).
// Journal rows are appended by the MetaStore in the transaction of the write they record
// (EventRecord::version), so a write is journaled exactly when it committed.
// Every method is one atomic transaction; safe to call from any thread; may block.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "meta/meta_store.h"

namespace berth::meta {

// One write made in this replica.
struct JournalRecord {
  int64_t id = 0;
  int64_t hlc = 0;
  // "push" (tag may be ""), "delete_tag", "delete_manifest", "delete_repository".
  std::string op;
  std::string repository;
  std::string tag;
  std::string digest;
  // push and delete_tag: the version the tag had here before this write (hlc 0: none). A
  // peer whose tag still has that version saw everything this write replaced; any other
  // version there is a concurrent write, and one of the two loses (a conflict).
  Version previous;
  int64_t created_at = 0;
};

struct PeerCursor {
  std::string region;
  int64_t applied = 0;     // the peer's last journal id applied here
  int64_t read = 0;        // our last journal id the peer has applied (it said so)
  int64_t applied_at = 0;  // unix seconds of the last change of `applied`
  int64_t read_at = 0;
};

// What a replica holds for one tag.
struct TagState {
  oci::Digest digest;
  Version version;
};

// The version of one configuration entity (replication/entity_sync.h).
struct EntityVersion {
  std::string kind;  // "identity", "role", "scope_map", "setting"
  std::string key;   // its id (identities, roles) or name (scope maps, settings)
  std::string hash;  // of its replicated content ("" when deleted)
  Version version;
  bool deleted = false;
};

class ReplicationStore {
 public:
  virtual ~ReplicationStore() = default;

  // Journal rows with id > after, oldest first, at most n.
  virtual Result<std::vector<JournalRecord>> journalAfter(int64_t after, size_t n) = 0;
  // The newest journal id (0 if none).
  virtual Result<int64_t> lastJournalId() = 0;
  // Journal rows with id > after (the backlog of a peer at cursor `after`).
  virtual Result<int64_t> journalCountAfter(int64_t after) = 0;

  // Peers with a cursor, by region.
  virtual Result<std::vector<PeerCursor>> peers() = 0;
  // The peer's cursor (zeros when it has none yet).
  virtual Result<PeerCursor> peer(std::string_view region) = 0;
  // Moves `applied` of the peer to `id` (never backward).
  virtual Status setApplied(std::string_view region, int64_t id, int64_t now) = 0;
  // Moves `read` of the peer to `id` (never backward).
  virtual Status setRead(std::string_view region, int64_t id, int64_t now) = 0;
  // Forgets the peer's cursors (the peer was removed).
  virtual Status forgetPeer(std::string_view region) = 0;
  // Deletes journal rows every listed peer has read (id <= the smallest `read` of
  // `regions`) and that were created before `before`; tombstones older than
  // `tombstones_before` (unix seconds).
  virtual Status prune(const std::vector<std::string>& regions, int64_t before, int64_t tombstones_before) = 0;

  // Every entity version, by kind and key.
  virtual Result<std::vector<EntityVersion>> entityVersions() = 0;
  // Inserts or replaces these versions, in one transaction.
  virtual Status putEntityVersions(const std::vector<EntityVersion>& versions) = 0;

  // The tag's digest and version here; nullopt when the repository has no such tag.
  virtual Result<std::optional<TagState>> tagState(std::string_view repository, std::string_view tag) = 0;
};

}  // namespace berth::meta
