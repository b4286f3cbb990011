#pragma once
// Secrets at rest: argon2id hashes (libsodium) of passwords and token secrets, and the
// generation of new random secrets.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::auth {

// argon2id cost. The default is libsodium's INTERACTIVE level (2 passes, 64 MiB), about
// 50-100 ms per hash on a server core: a login costs that once, after which the
// credential cache (cache.h) answers. 64 MiB per concurrent verification bounds how
// many may run at once; callers run verification on the blocking pool, whose size
// therefore caps the memory.
struct HashCost {
  uint64_t ops;
  size_t mem_bytes;
};
HashCost interactiveCost();
// libsodium's minimum (1 pass, 8 KiB): for tests only, never for stored secrets.
HashCost minimumCost();

// Secrets longer than this are refused (hashSecret: kInvalidArgument; verifySecret:
// false) so a request cannot make the server hash megabytes.
inline constexpr size_t kMaxSecretBytes = 4096;

// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" with a fresh random salt.
// kInvalidArgument for an over-long secret, kUnavailable if the memory is not available.
Result<std::string> hashSecret(std::string_view secret);
Result<std::string> hashSecret(std::string_view secret, HashCost cost);

// True iff `hash` is a well-formed argon2 hash string of `secret`. Runs in time
// independent of where a mismatch is; malformed hashes are simply false.
bool verifySecret(std::string_view hash, std::string_view secret);

// True if `hash` was made with other parameters than `cost` (upgrade it at next login).
bool needsRehash(std::string_view hash, HashCost cost);

// `bytes` random bytes from the CSPRNG, base64url (unpadded): 32 bytes -> 43 characters.
std::string generateSecret(size_t bytes = 32);

}  // namespace berth::auth
