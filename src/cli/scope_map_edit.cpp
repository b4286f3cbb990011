#include "cli/scope_map_edit.h"

#include <algorithm>
#include <boost/json/object.hpp>

namespace berth::cli {
namespace {

namespace json = boost::json;

json::object* entryFor(json::array& repositories, const std::string& repository) {
  for (auto& e : repositories) {
    if (!e.is_object()) continue;
    const auto* name = e.get_object().if_contains("repository");
    if (name && name->is_string() && name->get_string() == repository) return &e.get_object();
  }
  return nullptr;
}

json::array& actionsOf(json::object& entry) {
  auto& actions = entry["actions"];
  if (!actions.is_array()) actions = json::array{};
  return actions.get_array();
}

bool contains(const json::array& actions, const std::string& action) {
  return std::any_of(actions.begin(), actions.end(),
                     [&](const json::value& v) { return v.is_string() && v.get_string() == action; });
}

}  // namespace

Result<std::vector<RepositoryActions>> parseRepositoryGroups(const std::vector<std::vector<std::string>>& groups,
                                                             const std::string& flag) {
  std::vector<RepositoryActions> out;
  for (const auto& group : groups) {
    if (group.size() < 2) {
      std::string repository = group.empty() ? std::string() : group[0];
      return makeError(Code::kInvalidArgument,
                       flag + " " + repository + ": give the repository and at least one action (e.g. content/read)");
    }
    out.push_back({group[0], std::vector<std::string>(group.begin() + 1, group.end())});
  }
  return out;
}

json::array editRepositories(const json::array& current, const std::vector<RepositoryActions>& add,
                             const std::vector<RepositoryActions>& remove) {
  json::array repositories = current;
  for (const auto& a : add) {
    json::object* entry = entryFor(repositories, a.repository);
    if (!entry) {
      json::object fresh;
      fresh["repository"] = a.repository;
      fresh["actions"] = json::array{};
      repositories.emplace_back(std::move(fresh));
      entry = &repositories.back().get_object();
    }
    json::array& actions = actionsOf(*entry);
    for (const auto& action : a.actions) {
      if (!contains(actions, action)) actions.emplace_back(action);
    }
  }
  for (const auto& r : remove) {
    json::object* entry = entryFor(repositories, r.repository);
    if (!entry) continue;
    json::array& actions = actionsOf(*entry);
    for (const auto& action : r.actions) {
      auto it = std::find_if(actions.begin(), actions.end(),
                             [&](const json::value& v) { return v.is_string() && v.get_string() == action; });
      if (it != actions.end()) actions.erase(it);
    }
    if (actions.empty()) {
      auto it = std::find_if(repositories.begin(), repositories.end(),
                             [&](const json::value& v) { return v.is_object() && &v.get_object() == entry; });
      repositories.erase(it);
    }
  }
  return repositories;
}

}  // namespace berth::cli
