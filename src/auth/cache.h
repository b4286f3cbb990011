#pragma once
// CredentialCache: remembers credentials (passwords, token secrets, bearer tokens) that
// were verified recently, so argon2id and ECDSA stay off the hot path.
//
// - Secrets (passwords, refresh tokens) are keyed by HMAC-SHA-256(per-process random key,
//   kind|principal|secret) (MacKeys): the secret itself is never stored, and a memory dump
//   does not allow an offline guess of a weak password without also finding the random
//   key. The HMAC pads are hashed once: a key costs a few SHA-256 blocks, no allocation.
// - Berth's own access tokens are keyed by the token text (TokenKeys): they are random,
//   short-lived and only as secret as the signing key that sits in the same memory, and a
//   lookup then costs a short hash and a comparison instead of a MAC of the whole token.
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
#include <functional>
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
  // Room for one OpenSSL SHA256_CTX (checked in cache.cpp).
  static constexpr size_t kStateBytes = 128;
  static constexpr size_t kStateAlign = 8;

  CacheKeyer();
  ~CacheKeyer();  // wipes the hashed pads
  CacheKeyer(const CacheKeyer&) = delete;
  CacheKeyer& operator=(const CacheKeyer&) = delete;
  // `kind` separates credential kinds ("basic", "bearer", ...); fields are length
  // prefixed, so ("ab","c") and ("a","bc") differ.
  CacheKey key(std::string_view kind, std::string_view principal, std::string_view secret) const;

 private:
  alignas(kStateAlign) unsigned char inner_[kStateBytes];  // SHA-256 state after key ^ ipad
  alignas(kStateAlign) unsigned char outer_[kStateBytes];  // after key ^ opad
};

// Keys that are MACs (CacheKeyer::key).
struct MacKeys {
  using Key = CacheKey;
  using Ref = CacheKey;
  static Ref ref(const Key& k) { return k; }
  static size_t hash(const CacheKey& k) {
    size_t h;
    std::memcpy(&h, k.data(), sizeof h);  // the key is already a uniform MAC
    return h;
  }
  static uint64_t shardHash(const CacheKey& k) {
    uint64_t h;
    std::memcpy(&h, k.data() + 8, sizeof h);  // other bytes than the hash table uses
    return h;
  }
};

// Keys that are token texts. Only tokens with a verified signature are stored, so the
// hash need not resist chosen collisions: it covers the length and the last 32 bytes (the
// signature's end, different in every token).
struct TokenKeys {
  using Key = std::string;
  using Ref = std::string_view;
  static Ref ref(const Key& k) { return k; }
  static size_t hash(std::string_view k) {
    const std::string_view tail = k.size() > 32 ? k.substr(k.size() - 32) : k;
    return std::hash<std::string_view>{}(tail) ^ k.size();
  }
  static uint64_t shardHash(std::string_view k) { return hash(k) >> 17; }
};

template <class V, class Keys = MacKeys>
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

  // A MAC key for this cache (MacKeys).
  CacheKey key(std::string_view kind, std::string_view principal, std::string_view secret) const {
    return keyer_.key(kind, principal, secret);
  }

  // Snapshot to pass to put(); take it before reading the credential from the store.
  uint64_t ticket() const { return generation_.load(); }

  // The value if present and now < expires_at (an expired entry is removed).
  std::optional<V> get(typename Keys::Ref key, int64_t now) {
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
  bool put(typename Keys::Key key, std::string identity, V value, int64_t expires_at, int64_t now,
           uint64_t ticket) {
    if (expires_at <= now || per_shard_ == 0) return false;
    Shard& s = shard(Keys::ref(key));
    std::lock_guard<std::mutex> lock(s.mu);
    // Under the shard lock: an invalidation either already scanned this shard (then its
    // generation bump is visible here) or will scan it after we release the lock.
    if (generation_.load() != ticket) return false;
    auto it = s.index.find(Keys::ref(key));
    if (it != s.index.end()) {
      s.lru.erase(it->second);
      s.index.erase(it);
    }
    s.lru.push_front(Entry{std::move(key), std::move(identity), std::move(value), expires_at});
    // The index refers to the key inside the list node, which never moves.
    s.index.emplace(Keys::ref(s.lru.front().key), s.lru.begin());
    while (s.lru.size() > per_shard_) {
      s.index.erase(Keys::ref(s.lru.back().key));
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
          s.index.erase(Keys::ref(it->key));
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
    typename Keys::Key key;
    std::string identity;
    V value;
    int64_t expires_at;
  };
  struct KeyHash {
    size_t operator()(typename Keys::Ref k) const { return Keys::hash(k); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<typename Keys::Ref, typename std::list<Entry>::iterator, KeyHash> index;
  };

  Shard& shard(typename Keys::Ref key) { return *shards_[Keys::shardHash(key) % shards_.size()]; }

  CacheKeyer keyer_;
  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace berth::auth
