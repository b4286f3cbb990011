#pragma once
// What the commands print: the server's JSON, indented (az's default output), or a
// plain-text table (-o table).
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::cli {

// Indented JSON, one member or element a line, members in the server's order, ending in
// a newline. `indent` is repeated per level ("  "; the docker auth file uses a tab).
std::string prettyJson(const boost::json::value& value, std::string_view indent = "  ");

// A list (an array, or an object whose only array member is the list, as in
// {"users":[...]}) becomes one row per element with a column per member; a single object
// becomes NAME VALUE rows. Nested values print as compact JSON, string arrays as "a,b".
std::string tableText(const boost::json::value& value);

// Fields of an answer for table renderers: a non-negative integer member (0 if absent or
// not one) and a string member ("-" if absent or not a string).
uint64_t jsonNumber(const boost::json::value& v, std::string_view key);
std::string jsonText(const boost::json::value& v, std::string_view key);

}  // namespace berth::cli
