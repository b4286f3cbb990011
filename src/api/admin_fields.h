#pragma once
// Typed access to the fields of an admin API request body (/api/v1), with the errors the
// API answers: 400 INVALID_ARGUMENT naming the field. Absent and null fields are nullopt.
#include <boost/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/text.h"

namespace berth::api {

class Fields {
 public:
  explicit Fields(const boost::json::object& o) : o_(o) {}

  bool has(std::string_view key) const { return o_.contains(key); }
  // kInvalidArgument naming the first field not in `keys`.
  Status only(std::initializer_list<std::string_view> keys) const {
    for (const auto& kv : o_) {
      bool known = false;
      for (auto k : keys) known = known || kv.key() == k;
      if (!known) return invalidArgument("unknown field " + quoteUntrusted(kv.key(), 40));
    }
    return okStatus();
  }
  Result<std::optional<std::string>> str(std::string_view key) const {
    const auto* v = value(key);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return invalidArgument(std::string(key) + " must be a string");
    return std::optional<std::string>(std::string(v->get_string()));
  }
  Result<std::optional<bool>> boolean(std::string_view key) const {
    const auto* v = value(key);
    if (v == nullptr) return std::optional<bool>();
    if (!v->is_bool()) return invalidArgument(std::string(key) + " must be true or false");
    return std::optional<bool>(v->get_bool());
  }
  // A non-negative integer.
  Result<std::optional<uint64_t>> count(std::string_view key) const {
    const auto* v = value(key);
    if (v == nullptr) return std::optional<uint64_t>();
    if (v->is_uint64()) return std::optional<uint64_t>(v->get_uint64());
    if (v->is_int64() && v->get_int64() >= 0) return std::optional<uint64_t>(static_cast<uint64_t>(v->get_int64()));
    return invalidArgument(std::string(key) + " must be a non-negative integer");
  }
  // A duration in seconds: "30d", "1h15m", "90s" (common/text.h parseDuration) or a number.
  Result<std::optional<int64_t>> duration(std::string_view key) const {
    const auto* v = value(key);
    if (v == nullptr) return std::optional<int64_t>();
    std::optional<int64_t> seconds;
    if (v->is_string()) seconds = parseDuration(std::string_view(v->get_string()));
    else if (v->is_uint64()) seconds = parseDuration(std::to_string(v->get_uint64()));
    else if (v->is_int64() && v->get_int64() >= 0) seconds = parseDuration(std::to_string(v->get_int64()));
    if (!seconds) return invalidArgument(std::string(key) + " must be a duration such as 30d, 1h15m or 90s");
    return std::optional<int64_t>(*seconds);
  }
  // An RFC 3339 time; nullopt if absent, 0 if null (clears).
  Result<std::optional<int64_t>> time(std::string_view key) const {
    auto it = o_.find(key);
    if (it == o_.end()) return std::optional<int64_t>();
    if (it->value().is_null()) return std::optional<int64_t>(0);
    if (!it->value().is_string()) return invalidArgument(std::string(key) + " must be an RFC 3339 time");
    auto t = parseRfc3339(it->value().get_string());
    if (!t) return invalidArgument(std::string(key) + " must be an RFC 3339 time like 2026-12-31T00:00:00Z");
    return std::optional<int64_t>(*t);
  }

 private:
  const boost::json::value* value(std::string_view key) const {
    const auto* v = o_.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  const boost::json::object& o_;
};

}  // namespace berth::api
