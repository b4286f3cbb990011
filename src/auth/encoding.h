#pragma once
#include <boost/json/object.hpp>
// Byte helpers shared by the auth library: base64url (RFC 4648 section 5, no padding),
// SHA-256, HMAC-SHA-256, constant-time comparison and the CSPRNG.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace berth::auth {

// Unpadded base64url, as JOSE uses it.
std::string base64UrlEncode(std::string_view bytes);

// Strict decoding: only the base64url alphabet, no padding, no whitespace, a length that
// is not 1 mod 4, and zero unused trailing bits (so every byte string has exactly one
// accepted encoding). nullopt on any violation.
std::optional<std::string> base64UrlDecode(std::string_view text);

// Standard base64 (RFC 4648 section 4, '+' '/', '=' padding optional), as HTTP Basic
// credentials use it. Strict otherwise, like base64UrlDecode.
std::optional<std::string> base64Decode(std::string_view text);
// The same decoding into `out`, without allocating: the decoded size, or nullopt if `text`
// is invalid or decodes to more than out.size() bytes.
std::optional<size_t> base64DecodeTo(std::string_view text, std::span<char> out);

// Raw 32-byte digests.
std::string sha256(std::string_view bytes);
std::string hmacSha256(std::string_view key, std::string_view bytes);

// Compares without an early exit on the first differing byte (the lengths may leak).
bool constantTimeEquals(std::string_view a, std::string_view b);

// `n` bytes from OpenSSL's CSPRNG. Aborts the process if the CSPRNG fails: no caller can
// do anything safe with weak randomness.
std::string randomBytes(size_t n);

// Parses a JSON object; nullopt for invalid JSON or another JSON type.
std::optional<boost::json::object> parseJsonObject(std::string_view text);

}  // namespace berth::auth
