#include "auth/password.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "auth/encoding.h"

namespace berth::auth {
namespace {

void initSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      std::fputs("berth: sodium_init failed\n", stderr);
      std::abort();
    }
  });
}

// crypto_pwhash_str_verify and friends read a NUL-terminated string: copy into a
// bounded buffer, refusing embedded NULs and anything longer than a hash can be.
bool toHashBuffer(std::string_view hash, char (&buf)[crypto_pwhash_STRBYTES]) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (hash.find('\0') != std::string_view::npos) return false;
  hash.copy(buf, hash.size());
  buf[hash.size()] = '\0';
  return true;
}

}  // namespace

HashCost interactiveCost() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

HashCost minimumCost() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

Result<std::string> hashSecret(std::string_view secret) {
  return hashSecret(secret, interactiveCost());
}

Result<std::string> hashSecret(std::string_view secret, HashCost cost) {
  initSodium();
  if (secret.size() > kMaxSecretBytes) {
    return makeError(Code::kInvalidArgument, "secret too long");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, secret.data(), secret.size(), cost.ops, cost.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return makeError(Code::kUnavailable, "argon2id: out of memory");
  }
  std::string hash(out);
  sodium_memzero(out, sizeof out);
  return hash;
}

bool verifySecret(std::string_view hash, std::string_view secret) {
  initSodium();
  if (secret.size() > kMaxSecretBytes) return false;
  char buf[crypto_pwhash_STRBYTES];
  if (!toHashBuffer(hash, buf)) return false;
  // Only argon2id hashes are ours; refusing others keeps a planted weaker hash out.
  if (std::string_view(buf).substr(0, 10) != "$argon2id$") return false;
  return crypto_pwhash_str_verify(buf, secret.data(), secret.size()) == 0;
}

bool needsRehash(std::string_view hash, HashCost cost) {
  initSodium();
  char buf[crypto_pwhash_STRBYTES];
  if (!toHashBuffer(hash, buf)) return true;
  return crypto_pwhash_str_needs_rehash(buf, cost.ops, cost.mem_bytes) != 0;
}

std::string generateSecret(size_t bytes) { return base64UrlEncode(randomBytes(bytes)); }

}  // namespace berth::auth
