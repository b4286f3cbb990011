#pragma once
// Small text helpers shared by the parsers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth {

// Quotes untrusted input for an error message: printable ASCII only (others become '?'),
// at most `max` characters, then "...".
std::string quoteUntrusted(std::string_view text, size_t max = 100);

// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view trimOws(std::string_view v);

// ASCII case-insensitive equality (header values, tokens).
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// A random (version 4) UUID, lowercase: upload ids, identity ids.
std::string newUuid();

// Unix seconds now (system clock).
int64_t unixNow();

// "2026-11-22T10:00:00Z" (UTC, whole seconds).
std::string formatRfc3339(int64_t unix_seconds);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm)"; nullopt if malformed.
std::optional<int64_t> parseRfc3339(std::string_view text);

// A duration as `acr purge --ago` and the configuration take it: whole seconds ("3600") or
// one or more <number><unit> with units d, h, m, s, largest first ("30d", "1h15m",
// "2d3h6m", "90s"). nullopt if malformed, negative or over ten years.
std::optional<int64_t> parseDuration(std::string_view text);
// The shortest such text for `seconds` ("7d", "1h30m", "45s", "0s").
std::string formatDuration(int64_t seconds);

}  // namespace berth
