#pragma once
// CredentialCache: remembers credentials (passwords, token secrets, bearer tokens) that
// were verified recently, so argon2id and ECDSA stay off the hot path.
//
// - Keyed by HMAC-SHA-256(per-process random key, kind|principal|secret): the secret
//   itself is never stored, and a memory dump does not allow an offline guess of a weak
//   password without also finding the random key.
// - An entry is never returned at or after its expiry.
// - Bounded: each of `shards` shards (own mutex, no global lock) holds at most
//   ceil(capacity / shards) entries and evicts its least recently used one.
// - invalidateIdentity(id) drops every entry of an identity at once (disabled token,
//   changed password, changed grants). A verification that read the old credential
//   before the invalidation cannot put it back afterwards: take ticket() BEFORE reading
//   the credential from the store and pass it to put(); put() refuses if any
//   invalidation happened since. The invalidation must be called after the change is
//   committed.
// All methods are thread-safe.
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace berth::auth {

using CacheKey = std::array<unsigned char, 32>;

// Derives cache keys with a random key made at construction (never persisted).
class CacheKeyer {
 public:
  CacheKeyer();
  // `kind` separates credential kinds ("basic", "bearer", ...); fields are length
  // prefixed, so ("ab","c") and ("a","bc") differ.
  CacheKey key(std::string_view kind, std::string_view principal, std::string_view secret) const;

 private:
  std::string hmac_key_;
};

template <class V>
class CredentialCache {
 public:
  explicit CredentialCache(size_t capacity, size_t shards = 16)
      : per_shard_(capacity == 0 ? 0
                                 : (capacity + (shards ? shards : 1) - 1) / (shards ? shards : 1)) {
    if (shards == 0) shards = 1;
    shards_.reserve(shards);
    for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
  }
  CredentialCache(const CredentialCache&) = delete;
  CredentialCache& operator=(const CredentialCache&) = delete;

  CacheKey key(std::string_view kind, std::string_view principal, std::string_view secret) const {
    return keyer_.key(kind, principal, secret);
  }

  // Snapshot to pass to put(); take it before reading the credential from the store.
  uint64_t ticket() const { return generation_.load(); }

  // The value if present and now < expires_at (an expired entry is removed).
  std::optional<V> get(const CacheKey& key, int64_t now) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.index.find(key);
    if (it == s.index.end()) return std::nullopt;
    if (now >= it->second->expires_at) {
      s.lru.erase(it->second);
      s.index.erase(it);
      return std::nullopt;
    }
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return it->second->value;
  }

  // Stores (or replaces) the entry unless it is already expired, the cache has no
  // capacity, or an invalidation happened since `ticket` was taken. Returns whether it
  // was stored.
  bool put(const CacheKey& key, std::string identity, V value, int64_t expires_at, int64_t now,
           uint64_t ticket) {
    if (expires_at <= now || per_shard_ == 0) return false;
    Shard& s = shard(key);
    std::lock_guard<std::mutex> lock(s.mu);
    // Under the shard lock: an invalidation either already scanned this shard (then its
    // generation bump is visible here) or will scan it after we release the lock.
    if (generation_.load() != ticket) return false;
    auto it = s.index.find(key);
    if (it != s.index.end()) {
      s.lru.erase(it->second);
      s.index.erase(it);
    }
    s.lru.push_front(Entry{key, std::move(identity), std::move(value), expires_at});
    s.index.emplace(key, s.lru.begin());
    while (s.lru.size() > per_shard_) {
      s.index.erase(s.lru.back().key);
      s.lru.pop_back();
    }
    return true;
  }

  // Drops every entry of `identity`; returns how many.
  size_t invalidateIdentity(std::string_view identity) {
    generation_.fetch_add(1);
    size_t removed = 0;
    for (auto& sp : shards_) {
      Shard& s = *sp;
      std::lock_guard<std::mutex> lock(s.mu);
      for (auto it = s.lru.begin(); it != s.lru.end();) {
        if (it->identity == identity) {
          s.index.erase(it->key);
          it = s.lru.erase(it);
          ++removed;
        } else {
          ++it;
        }
      }
    }
    return removed;
  }

  // Drops everything (e.g. after a change that affects many identities).
  void clear() {
    generation_.fetch_add(1);
    for (auto& sp : shards_) {
      std::lock_guard<std::mutex> lock(sp->mu);
      sp->index.clear();
      sp->lru.clear();
    }
  }

  size_t size() const {
    size_t n = 0;
    for (auto& sp : shards_) {
      std::lock_guard<std::mutex> lock(sp->mu);
      n += sp->lru.size();
    }
    return n;
  }

 private:
  struct Entry {
    CacheKey key;
    std::string identity;
    V value;
    int64_t expires_at;
  };
  struct KeyHash {
    size_t operator()(const CacheKey& k) const {
      size_t h;
      std::memcpy(&h, k.data(), sizeof h);  // the key is already a uniform MAC
      return h;
    }
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<CacheKey, typename std::list<Entry>::iterator, KeyHash> index;
  };

  Shard& shard(const CacheKey& key) {
    uint64_t h;
    std::memcpy(&h, key.data() + 8, sizeof h);  // other bytes than the hash table uses
    return *shards_[h % shards_.size()];
  }

  CacheKeyer keyer_;
  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace berth::auth
