#pragma once
// FleetStore: what the nodes of one registry share besides the registry's content. One
// node with SQLite is a fleet of one; N nodes over PostgreSQL agree through it on:
// - shared values created once (the token signing key): the first node to store one wins
//   and every node reads the winner;
// - leases, so that background work (GC, retention, recycle-bin expiry, webhook delivery,
//   audit pruning) runs on one node at a time: a lease names its holder and an expiry, is
//   renewed by its holder, and passes to another node once it expires (a killed holder
//   stops renewing).
// Every method is one transaction; safe from any thread. Times are unix seconds of the
// caller's clock (nodes keep their clocks in sync, as TLS and tokens need anyway).
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::meta {

class FleetStore {
 public:
  virtual ~FleetStore() = default;

  // The value stored under `name`; when there is none, stores `make()` unless another
  // node stored one first, and returns what is stored. `make` may be called and its value
  // dropped (another node won).
  virtual Result<std::string> sharedValue(std::string_view name, const std::function<std::string()>& make) = 0;

  // Takes or renews lease `name` for `holder` until now + ttl. True when `holder` holds it
  // after the call: it was free, expired (expires_at <= now) or already `holder`'s. False
  // when another holder's lease is still running.
  virtual Result<bool> acquireLease(std::string_view name, std::string_view holder, std::chrono::seconds ttl,
                                    int64_t now) = 0;
  // Gives the lease up if `holder` holds it (ok otherwise).
  virtual Status releaseLease(std::string_view name, std::string_view holder) = 0;
};

}  // namespace berth::meta
