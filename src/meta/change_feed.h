#pragma once
// ChangeFeed: how the nodes of a fleet (several processes over one metadata database)
// keep their in-memory caches true. The database records every committed change to what
// a cache mirrors (a repository's manifests, tags, links and attributes; the identities;
// the webhooks); each node's feed delivers them to its handlers, records how far it got,
// and writers wait for every live node to get past their change before they answer
// (awaitPropagation), so no node serves a stale read after a write was acknowledged.
//
// A node that cannot vouch for its caches (its feed lost the database, or its heartbeat
// is late) says so through `trusted_until`, which stops advancing: the node then serves
// from the database until the feed is back, and on every (re)connection `everything` runs
// first, as changes may have been missed.
//
// One process alone (SQLite) has no feed: MetaStore::changeFeed returns nullptr.
#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"

namespace berth::meta {

struct ChangeHandlers {
  // Called on the feed's thread, one at a time, after the change committed. They must not
  // wait for the fleet (awaitPropagation): the other nodes may be waiting for this one.
  std::function<void(const std::string& repository)> repository;
  std::function<void()> identities;
  std::function<void()> webhooks;
  // Anything may have changed: drop every cache, reload everything.
  std::function<void()> everything;
  // The caches may answer until this time; each successful round with the database
  // (changes read and handled, heartbeat recorded) moves it forward.
  std::function<void(std::chrono::steady_clock::time_point)> trusted_until;
};

struct ChangeFeedOptions {
  std::chrono::milliseconds beat_every{1000};
  // Caches are trusted this long after the start of the last successful round. Must be
  // shorter than `live_for`: a writer stops waiting for a node only once the node no longer
  // trusts its caches.
  std::chrono::milliseconds trust_for{4000};
  // A node whose last heartbeat is older than this is not waited for.
  std::chrono::milliseconds live_for{6000};
  // Upper bound of one awaitPropagation (a node that heartbeats but does not get past the
  // change, e.g. a stuck handler); a warning names it.
  std::chrono::milliseconds max_wait{10000};
  std::chrono::minutes keep_changes{10};
};

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;

  // Starts the listener thread. Call once.
  virtual Status start(ChangeHandlers handlers) = 0;
  // Stops the thread and removes this node from the fleet's list (writers stop waiting
  // for it). Idempotent.
  virtual void stop() = 0;
  // Blocks until every other live node has handled every change committed before the
  // call (call it after a write committed, before answering the client). Bounded by
  // max_wait; errors are logged, never returned: the write has committed either way.
  virtual void awaitPropagation() = 0;
  // This node's name in the fleet.
  virtual const std::string& node() const = 0;
};

}  // namespace berth::meta
