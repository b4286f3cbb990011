// SHA256_CTX is deprecated in OpenSSL 3, but it is what a keyed hash per request needs: a
// plain struct, so the HMAC pads are hashed once and copied per key. EVP_MD_CTX copies
// allocate, and the HMAC() one-shot fetches the algorithm and builds a context per call.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "auth/cache.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <new>

#include "auth/encoding.h"

namespace berth::auth {
namespace {

static_assert(sizeof(SHA256_CTX) <= CacheKeyer::kStateBytes);
static_assert(alignof(SHA256_CTX) <= CacheKeyer::kStateAlign);

SHA256_CTX* state(unsigned char* bytes) { return reinterpret_cast<SHA256_CTX*>(bytes); }
const SHA256_CTX* state(const unsigned char* bytes) { return reinterpret_cast<const SHA256_CTX*>(bytes); }

void hashPad(unsigned char* out, const std::string& key, unsigned char fill) {
  unsigned char pad[SHA256_CBLOCK];
  for (size_t i = 0; i < sizeof pad; ++i) pad[i] = fill ^ (i < key.size() ? key[i] : 0);
  new (out) SHA256_CTX;  // starts the state's lifetime in the keyer's storage
  SHA256_Init(state(out));
  SHA256_Update(state(out), pad, sizeof pad);
  OPENSSL_cleanse(pad, sizeof pad);
}

void addField(SHA256_CTX* ctx, std::string_view field) {
  unsigned char n[8];
  const uint64_t size = field.size();
  for (int i = 0; i < 8; ++i) n[i] = static_cast<unsigned char>((size >> (8 * i)) & 0xff);
  SHA256_Update(ctx, n, sizeof n);
  SHA256_Update(ctx, field.data(), field.size());
}

}  // namespace

CacheKeyer::CacheKeyer() {
  std::string key = randomBytes(32);  // shorter than a block: used as is (RFC 2104)
  hashPad(inner_, key, 0x36);
  hashPad(outer_, key, 0x5c);
  OPENSSL_cleanse(key.data(), key.size());
}

CacheKeyer::~CacheKeyer() {
  OPENSSL_cleanse(inner_, sizeof inner_);
  OPENSSL_cleanse(outer_, sizeof outer_);
}

CacheKey CacheKeyer::key(std::string_view kind, std::string_view principal,
                         std::string_view secret) const {
  // HMAC-SHA-256(key, len|kind|len|principal|len|secret), from the hashed pads.
  SHA256_CTX ctx = *state(inner_);
  addField(&ctx, kind);
  addField(&ctx, principal);
  addField(&ctx, secret);
  unsigned char inner_hash[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner_hash, &ctx);
  ctx = *state(outer_);
  SHA256_Update(&ctx, inner_hash, sizeof inner_hash);
  CacheKey out;
  SHA256_Final(out.data(), &ctx);
  // The contexts held the secret's last partial block: wipe them.
  OPENSSL_cleanse(&ctx, sizeof ctx);
  OPENSSL_cleanse(inner_hash, sizeof inner_hash);
  return out;
}

}  // namespace berth::auth
