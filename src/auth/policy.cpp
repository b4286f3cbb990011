#include "auth/policy.h"

#include <algorithm>

namespace berth::auth {
namespace {

struct Named {
  std::string_view name;
  Permissions permissions;
};

constexpr Named kRoles[] = {
    {"pull", kPermPull},           {"push", kPermPull | kPermPush},         {"delete", kPermDelete},
    {"reader", kPermMetadataRead}, {"owner", kPermAllActions | kPermAdmin},
};

constexpr Named kScopeMapActions[] = {
    {"content/read", kPermPull},
    {"content/write", kPermPush},
    {"content/delete", kPermDelete},
    {"metadata/read", kPermMetadataRead},
    {"metadata/write", kPermMetadataWrite},
};

// Token actions in canonical order (also the expansion order of "*").
constexpr Named kTokenActions[] = {
    {"pull", kPermPull},
    {"push", kPermPush},
    {"delete", kPermDelete},
    {"metadata_read", kPermMetadataRead},
    {"metadata_write", kPermMetadataWrite},
};

// Asked for by name only ("*" does not expand to them).
constexpr Named kDeletedActions[] = {
    {"deleted_read", kPermDeletedRead},
    {"deleted_restore", kPermDeletedRestore},
};

template <size_t N>
const Named* lookup(const Named (&table)[N], std::string_view name) {
  for (const Named& n : table) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

void addOnce(std::vector<std::string>& out, std::string_view action) {
  if (std::find(out.begin(), out.end(), action) == out.end()) out.emplace_back(action);
}

}  // namespace

Result<Permissions> rolePermissions(std::string_view role) {
  const Named* n = lookup(kRoles, role);
  if (n == nullptr) return makeError(Code::kInvalidArgument, "unknown role");
  return n->permissions;
}

Result<Permissions> scopeMapPermissions(const std::vector<std::string>& actions) {
  Permissions p = 0;
  for (const std::string& a : actions) {
    const Named* n = lookup(kScopeMapActions, a);
    if (n == nullptr) return makeError(Code::kInvalidArgument, "unknown scope map action");
    p |= n->permissions;
  }
  return p;
}

Status validatePattern(std::string_view pattern) {
  if (pattern == "*") return okStatus();
  std::string_view name = pattern;
  if (name.size() >= 2 && name.substr(name.size() - 2) == "/*") name.remove_suffix(2);
  if (!isValidRepositoryName(name)) {
    return makeError(Code::kInvalidArgument,
                     "repository pattern must be a name, <namespace>/* or *");
  }
  return okStatus();
}

Result<Grant> makeGrant(std::string_view pattern, Permissions permissions) {
  Status s = validatePattern(pattern);
  if (!s.ok()) return s.takeError();
  return Grant{std::string(pattern), permissions};
}

bool patternMatches(std::string_view pattern, std::string_view repository) {
  if (!isValidRepositoryName(repository)) return false;
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the '/'
    // Longer than the prefix: "team-a/" itself is no repository (and is invalid anyway).
    return repository.size() > prefix.size() && repository.substr(0, prefix.size()) == prefix;
  }
  return pattern == repository;
}

Permissions effectivePermissions(const Grants& grants, std::string_view repository) {
  Permissions p = 0;
  for (const Grant& g : grants) {
    if (patternMatches(g.pattern, repository)) p |= g.permissions;
  }
  return p;
}

Permissions withDeletedPermissions(Permissions p) {
  const bool restore = (p & kPermPush) != 0 && (p & kPermDelete) != 0;
  if (restore) p |= kPermDeletedRestore | kPermDeletedRead;
  if (p & kPermMetadataRead) p |= kPermDeletedRead;
  return p;
}

std::vector<std::string> allowedActions(const Grants& grants, std::string_view repository,
                                        const std::vector<std::string>& requested) {
  std::vector<std::string> out;
  if (requested.empty()) return out;
  const Permissions p = withDeletedPermissions(effectivePermissions(grants, repository));
  if (p == 0) return out;
  for (const std::string& action : requested) {
    if (action == "*") {
      if ((p & kPermAllActions) == kPermAllActions) {
        addOnce(out, "*");
      } else {
        for (const Named& n : kTokenActions) {
          if (p & n.permissions) addOnce(out, n.name);
        }
      }
      continue;
    }
    const Named* n = lookup(kTokenActions, action);
    if (n == nullptr) n = lookup(kDeletedActions, action);
    if (n != nullptr && (p & n->permissions)) addOnce(out, action);
  }
  // "*" already covers everything: drop the individual actions next to it.
  if (std::find(out.begin(), out.end(), "*") != out.end()) out = {"*"};
  return out;
}

std::vector<ResourceScope> authorize(const Grants& grants,
                                     const std::vector<ResourceScope>& requested) {
  std::vector<ResourceScope> out;
  for (const ResourceScope& scope : requested) {
    ResourceScope granted{scope.type, scope.name, {}};
    if (scope.type == "repository") {
      granted.actions = allowedActions(grants, scope.name, scope.actions);
    } else if (scope.type == "registry" && scope.name == "catalog") {
      // The listing is filtered by the identity's grants, so a grant to read anything
      // is enough to ask for it.
      bool can_list = std::any_of(grants.begin(), grants.end(), [](const Grant& g) {
        return (g.permissions & (kPermPull | kPermMetadataRead)) != 0;
      });
      bool asked =
          std::find(scope.actions.begin(), scope.actions.end(), "*") != scope.actions.end();
      if (can_list && asked) granted.actions = {"*"};
    } else if (scope.type == "registry" && scope.name == "deleted_catalog") {
      // Filtered per repository too: deleted_read from the union of the grants is enough
      // to ask for it.
      Permissions all = 0;
      for (const Grant& g : grants) all |= g.permissions;
      bool asked =
          std::find(scope.actions.begin(), scope.actions.end(), "*") != scope.actions.end();
      if ((withDeletedPermissions(all) & kPermDeletedRead) && asked) granted.actions = {"*"};
    }
    if (!granted.actions.empty()) out.push_back(std::move(granted));
  }
  return out;
}

bool isRegistryAdmin(const Grants& grants) {
  return std::any_of(grants.begin(), grants.end(), [](const Grant& g) {
    return g.pattern == "*" && (g.permissions & kPermAdmin);
  });
}

}  // namespace berth::auth
