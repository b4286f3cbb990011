#pragma once
// Encodings the client speaks: base64 (HTTP Basic, the docker auth file), percent-
// encoding (URL path segments and query values), HTML form bodies, RFC 3339 times.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::cli {

// Standard base64 (RFC 4648 section 4) with '=' padding.
std::string base64Encode(std::string_view bytes);
// Accepts padded or unpadded standard base64; nullopt for any other character, a
// length that is 1 mod 4, or padding in the middle.
std::optional<std::string> base64Decode(std::string_view text);

// Percent-encodes everything but the unreserved characters (RFC 3986: A-Z a-z 0-9 - . _ ~),
// so the result is one path segment or one query value ("team-a/*" -> "team-a%2F%2A").
std::string percentEncode(std::string_view text);

// application/x-www-form-urlencoded, as browsers send it: name=value pairs joined by '&',
// space as '+', A-Z a-z 0-9 * - . _ kept, every other byte %XX.
using FormFields = std::vector<std::pair<std::string, std::string>>;
std::string formEncode(const FormFields& fields);

// "Basic " + base64(user ":" password).
std::string basicAuthorization(std::string_view user, std::string_view password);

// RFC 3339 in UTC with second precision: "2026-11-22T10:00:00Z".
std::string formatRfc3339(std::chrono::system_clock::time_point time);

}  // namespace berth::cli
