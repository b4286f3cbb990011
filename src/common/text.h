#pragma once
// Small text helpers shared by the parsers.
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

}  // namespace berth
