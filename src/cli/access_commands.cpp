// scope-map, role, network-rule, settings: what identities may do, and from where
// (docs/api.md).
#include <boost/json/object.hpp>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/encoding.h"
#include "cli/scope_map_edit.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kScopeMapsPath = "/api/v1/scope-maps";
constexpr const char* kRoleAssignmentsPath = "/api/v1/role-assignments";
constexpr const char* kNetworkRulesPath = "/api/v1/network-rules";
constexpr const char* kSettingsPath = "/api/v1/settings";
constexpr const char* kActionsHelp =
    "actions: content/read, content/write, content/delete, metadata/read, metadata/write";

json::array toJson(const std::vector<RepositoryActions>& entries) {
  return editRepositories(json::array{}, entries, {});
}

struct ScopeMapOptions {
  std::string name;
  std::string description;
  CLI::Option* description_opt = nullptr;
  std::vector<std::vector<std::string>> repositories;
  std::vector<std::vector<std::string>> add;
  std::vector<std::vector<std::string>> remove;
};

CLI::Option* addRepositoryOption(CLI::App* cmd, const std::string& flag, std::vector<std::vector<std::string>>& into,
                                 const std::string& help) {
  return cmd->add_option(flag, into, help + " (repeatable; " + kActionsHelp + ")")
      ->expected(2, CLI::detail::expected_max_vector_size);
}

void addScopeMapGroup(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("scope-map", "Manage scope maps: the permissions of tokens");
  group->require_subcommand(1);

  auto c = std::make_shared<ScopeMapOptions>();
  auto* create = group->add_subcommand("create", "Create a scope map");
  addNameArgument(create, c->name, "The scope map's name");
  addRepositoryOption(create, "--repository", c->repositories,
                      "REPO ACTION [ACTION...]: a repository (team-a/app, team-a/* or *) and its actions");
  c->description_opt = create->add_option("--description", c->description, "Description");
  defineAdminCommand(create, exit_code, [c](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(c->name, "the scope map's name"); !s) return s.takeError();
    auto repositories = parseRepositoryGroups(c->repositories, "--repository");
    if (!repositories) return repositories.takeError();
    if (repositories->empty()) return makeError(Code::kInvalidArgument, "give at least one --repository REPO ACTION");
    json::object body;
    body["name"] = c->name;
    if (!c->description.empty()) body["description"] = c->description;
    body["repositories"] = toJson(*repositories);
    return client.call("POST", kScopeMapsPath, json::value(std::move(body)));
  });

  auto u = std::make_shared<ScopeMapOptions>();
  auto* update = group->add_subcommand("update", "Add or remove repositories and actions, or change the description");
  addNameArgument(update, u->name, "The scope map's name");
  addRepositoryOption(update, "--add-repository", u->add, "REPO ACTION [ACTION...] to add");
  addRepositoryOption(update, "--remove-repository", u->remove, "REPO ACTION [ACTION...] to remove");
  u->description_opt = update->add_option("--description", u->description, "The new description");
  defineAdminCommand(update, exit_code, [u](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(u->name, "the scope map's name"); !s) return s.takeError();
    auto add = parseRepositoryGroups(u->add, "--add-repository");
    if (!add) return add.takeError();
    auto remove = parseRepositoryGroups(u->remove, "--remove-repository");
    if (!remove) return remove.takeError();
    if (add->empty() && remove->empty() && u->description_opt->count() == 0) {
      return makeError(Code::kInvalidArgument,
                       "nothing to update: give --add-repository, --remove-repository or --description");
    }
    // The API replaces the whole map (PUT): read it, edit it, write it back.
    const std::string path = itemPath(kScopeMapsPath, u->name);
    auto current = client.call("GET", path);
    if (!current) return current.takeError();
    if (!current->is_object()) return makeError(Code::kCorrupt, "the registry's scope map is not a JSON object");
    const auto& map = current->get_object();
    json::array repositories;
    if (const auto* r = map.if_contains("repositories"); r && r->is_array()) repositories = r->get_array();
    json::object body;
    if (u->description_opt->count() > 0) {
      body["description"] = u->description;
    } else if (const auto* d = map.if_contains("description"); d && d->is_string()) {
      body["description"] = *d;
    }
    body["repositories"] = editRepositories(repositories, *add, *remove);
    if (body["repositories"].get_array().empty()) {
      return makeError(Code::kInvalidArgument, "that would leave the scope map with no repository; delete it instead");
    }
    return client.call("PUT", path, json::value(std::move(body)));
  });

  addListShowDelete(group, exit_code, kScopeMapsPath, "scope map", "scope maps");
}

struct RoleOptions {
  std::string id;
  std::string identity;
  std::string role;
  std::string scope;
};

// The id of the assignment (identity, role, scope), looked up in the list.
Result<std::string> findAssignment(const AdminClient& client, const RoleOptions& o) {
  auto list = client.call("GET", std::string(kRoleAssignmentsPath) + "?identity=" + percentEncode(o.identity));
  if (!list) return list.takeError();
  const auto* assignments = list->is_object() ? list->get_object().if_contains("roleAssignments") : nullptr;
  if (assignments && assignments->is_array()) {
    for (const auto& a : assignments->get_array()) {
      if (!a.is_object()) continue;
      const auto& obj = a.get_object();
      auto is = [&obj](std::string_view key, const std::string& want) {
        const auto* v = obj.if_contains(key);
        return v && v->is_string() && v->get_string() == want;
      };
      const auto* id = obj.if_contains("id");
      if (is("identity", o.identity) && is("role", o.role) && is("scope", o.scope) && id && id->is_string()) {
        return std::string(id->get_string());
      }
    }
  }
  return makeError(Code::kNotFound, o.identity + " has no role " + o.role + " on " + o.scope);
}

void addRoleGroup(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("role", "Manage role assignments: pull, push, delete, reader, owner on a scope");
  group->require_subcommand(1);

  auto c = std::make_shared<RoleOptions>();
  auto* create = group->add_subcommand("create", "Give an identity a role on a scope");
  create->add_option("--identity", c->identity, "User, service principal or federated identity");
  create->add_option("--role", c->role, "pull, push, delete, reader or owner")
      ->check(CLI::IsMember({"pull", "push", "delete", "reader", "owner"}));
  create->add_option("--scope", c->scope, "* or a repository pattern (team-a/*, team-a/app)");
  defineAdminCommand(create, exit_code, [c](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(c->identity, "--identity"); !s) return s.takeError();
    if (auto s = requireValue(c->role, "--role"); !s) return s.takeError();
    if (auto s = requireValue(c->scope, "--scope"); !s) return s.takeError();
    json::object body;
    body["identity"] = c->identity;
    body["role"] = c->role;
    body["scope"] = c->scope;
    return client.call("POST", kRoleAssignmentsPath, json::value(std::move(body)));
  });

  auto l = std::make_shared<RoleOptions>();
  auto* list = group->add_subcommand("list", "List role assignments");
  list->add_option("--identity", l->identity, "Only this identity's");
  defineAdminCommand(list, exit_code, [l](const AdminClient& client) {
    std::string path = kRoleAssignmentsPath;
    if (!l->identity.empty()) path += "?identity=" + percentEncode(l->identity);
    return client.call("GET", path);
  });

  auto d = std::make_shared<RoleOptions>();
  auto* remove = group->add_subcommand("delete", "Delete a role assignment: by ID, or by --identity, --role and --scope");
  auto* id = remove->add_option("ID", d->id, "The assignment's id");
  auto* identity = remove->add_option("--identity", d->identity, "The identity")->excludes(id);
  remove->add_option("--role", d->role, "The role")->excludes(id)->needs(identity);
  remove->add_option("--scope", d->scope, "The scope")->excludes(id)->needs(identity);
  defineAdminCommand(remove, exit_code, [d](const AdminClient& client) -> Result<json::value> {
    std::string target = d->id;
    if (target.empty()) {
      if (d->identity.empty() || d->role.empty() || d->scope.empty()) {
        return makeError(Code::kInvalidArgument, "give the assignment's ID, or --identity, --role and --scope");
      }
      auto found = findAssignment(client, *d);
      if (!found) return found.takeError();
      target = *found;
    }
    return client.call("DELETE", itemPath(kRoleAssignmentsPath, target));
  });
}

void addNetworkRuleGroup(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("network-rule", "Manage which client addresses may use the registry");
  group->require_subcommand(1);

  auto* list = group->add_subcommand("list", "Show the default action and the IP rules");
  defineAdminCommand(list, exit_code, [](const AdminClient& client) { return client.call("GET", kNetworkRulesPath); });

  auto add_cidr = std::make_shared<std::string>();
  auto* add = group->add_subcommand("add", "Allow an address range (used when the default action is Deny)");
  add->add_option("--ip-address", *add_cidr, "An IPv4 or IPv6 address or CIDR range (10.0.0.0/8)");
  defineAdminCommand(add, exit_code, [add_cidr](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(*add_cidr, "--ip-address"); !s) return s.takeError();
    json::object body;
    body["value"] = *add_cidr;
    return client.call("POST", std::string(kNetworkRulesPath) + "/ip-rules", json::value(std::move(body)));
  });

  auto remove_cidr = std::make_shared<std::string>();
  auto* remove = group->add_subcommand("remove", "Remove an IP rule");
  remove->add_option("--ip-address", *remove_cidr, "The rule's address or CIDR range, as listed");
  defineAdminCommand(remove, exit_code, [remove_cidr](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(*remove_cidr, "--ip-address"); !s) return s.takeError();
    return client.call("DELETE", std::string(kNetworkRulesPath) + "/ip-rules?value=" + percentEncode(*remove_cidr));
  });

  auto action = std::make_shared<std::string>();
  auto* set_default = group->add_subcommand("set-default", "Set the default action: Allow or Deny");
  set_default->add_option("ACTION", *action, "Allow or Deny")
      ->transform(CLI::IsMember({"Allow", "Deny"}, CLI::ignore_case));
  defineAdminCommand(set_default, exit_code, [action](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(*action, "ACTION (Allow or Deny)"); !s) return s.takeError();
    json::object body;
    body["defaultAction"] = *action;
    return client.call("PATCH", kNetworkRulesPath, json::value(std::move(body)));
  });
}

void addSettingsGroup(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("settings", "Show or change registry-wide settings");
  group->require_subcommand(1);

  auto* show = group->add_subcommand("show", "Show the settings");
  defineAdminCommand(show, exit_code, [](const AdminClient& client) { return client.call("GET", kSettingsPath); });

  auto anonymous = std::make_shared<std::string>();
  auto* update = group->add_subcommand("update", "Change settings");
  update->add_option("--anonymous-pull", *anonymous, "true: anyone may pull without credentials; false: not");
  defineAdminCommand(update, exit_code, [anonymous](const AdminClient& client) -> Result<json::value> {
    if (anonymous->empty()) return makeError(Code::kInvalidArgument, "nothing to update: give --anonymous-pull true|false");
    auto enabled = parseBool(*anonymous, "--anonymous-pull");
    if (!enabled) return enabled.takeError();
    json::object body;
    body["anonymousPullEnabled"] = *enabled;
    return client.call("PATCH", kSettingsPath, json::value(std::move(body)));
  });
}

}  // namespace

void addAccessCommands(CLI::App& app, int& exit_code) {
  addScopeMapGroup(app, exit_code);
  addRoleGroup(app, exit_code);
  addNetworkRuleGroup(app, exit_code);
  addSettingsGroup(app, exit_code);
}

}  // namespace berth::cli
