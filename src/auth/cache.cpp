#include "auth/cache.h"

#include "auth/encoding.h"

namespace berth::auth {
namespace {

void appendField(std::string& out, std::string_view field) {
  uint64_t n = field.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out.append(field);
}

}  // namespace

CacheKeyer::CacheKeyer() : hmac_key_(randomBytes(32)) {}

CacheKey CacheKeyer::key(std::string_view kind, std::string_view principal,
                         std::string_view secret) const {
  std::string input;
  input.reserve(24 + kind.size() + principal.size() + secret.size());
  appendField(input, kind);
  appendField(input, principal);
  appendField(input, secret);
  std::string mac = hmacSha256(hmac_key_, input);
  // The assembled input holds the secret: wipe it before the memory is freed.
  volatile char* p = input.data();
  for (size_t i = 0; i < input.size(); ++i) p[i] = 0;
  CacheKey out;
  std::memcpy(out.data(), mac.data(), out.size());
  return out;
}

}  // namespace berth::auth
