#pragma once
// Lenient field reads of the JSON replicas exchange: a missing or mistyped field reads as
// empty, zero or false (the caller checks what it needs).
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::replication {

inline std::string textField(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

inline int64_t intField(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().get_uint64());
  return 0;
}

inline bool boolField(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

}  // namespace berth::replication
