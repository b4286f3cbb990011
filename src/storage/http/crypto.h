#pragma once
// The hashing and encoding that request signing needs (SigV4, Azure SharedKey and SAS).
#include <optional>
#include <string>
#include <string_view>

namespace berth::storage::http {

std::string hexLower(std::string_view bytes);
std::string sha256(std::string_view data);  // raw 32 bytes
std::string sha256Hex(std::string_view data);
std::string hmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string md5(std::string_view data);  // raw 16 bytes
// Standard base64 with padding.
std::string base64Encode(std::string_view bytes);
// Standard base64; nullopt if malformed.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace berth::storage::http
