#pragma once
// What replicas call each other: the rule for replication.region, the peers' regions
// (config.cpp) and anything else that names a region (a webhook's).
#include <cctype>
#include <string_view>

namespace berth::replication {

// 1 to 64 letters, digits, '-', '_' and '.' (e.g. westeurope).
inline bool isRegionName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace berth::replication
