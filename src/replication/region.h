#pragma once
// Region names and the replicas created at run time (docs/replication.md).
#include <cctype>
#include <string>
#include <string_view>

namespace berth::replication {

// What is wrong with `name` as a region name (what replicas call each other: 1 to 64
// letters, digits, '-', '_' and '.'), or "" when it is one.
inline std::string regionNameProblem(std::string_view name) {
  if (name.empty() || name.size() > 64) return "must be a region name of 1 to 64 characters";
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
      return "must be a region name: letters, digits, '-', '_' and '.' (e.g. westeurope)";
    }
  }
  return "";
}

// A replica created at run time is the setting kReplicaSettingPrefix + region = its URL:
// settings replicate, so every replica learns of it.
inline constexpr std::string_view kReplicaSettingPrefix = "replication.replica.";

}  // namespace berth::replication
