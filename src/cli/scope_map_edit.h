#pragma once
// The repositories of a scope map as the commands edit them: --repository REPO ACTION...
// groups (az acr scope-map create), and --add-repository / --remove-repository applied to
// the current list (az acr scope-map update; the API only replaces whole lists).
#include <boost/json/array.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::cli {

struct RepositoryActions {
  std::string repository;
  std::vector<std::string> actions;
};

// Each group is REPO followed by one or more actions. kInvalidArgument naming `flag`
// for a group without an action.
Result<std::vector<RepositoryActions>> parseRepositoryGroups(const std::vector<std::vector<std::string>>& groups,
                                                             const std::string& flag);

// `current` (the API's [{"repository","actions":[...]}]) with `add` merged in (actions
// appended to the repository's entry, or a new entry at the end) and then `remove` taken
// out (an entry left with no action goes). Order is kept; duplicates are not added.
// Entries of `current` that are not objects of that shape are kept as they are.
boost::json::array editRepositories(const boost::json::array& current, const std::vector<RepositoryActions>& add,
                                    const std::vector<RepositoryActions>& remove);

}  // namespace berth::cli
