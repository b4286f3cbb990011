// user, sp, token, federated: the identities of the admin API (docs/api.md).
#include <boost/json/object.hpp>
#include <chrono>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/encoding.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kUsersPath = "/api/v1/users";
constexpr const char* kServicePrincipalsPath = "/api/v1/service-principals";
constexpr const char* kTokensPath = "/api/v1/tokens";
constexpr const char* kFederatedPath = "/api/v1/federated-identities";

// Options of user/sp create and update.
struct PrincipalOptions {
  std::string name;
  std::string new_password;
  std::string description;
  std::string status;
  CLI::Option* description_opt = nullptr;
};

// The body of a principal's POST or PATCH from the options given.
Result<json::object> principalBody(const PrincipalOptions& o) {
  json::object body;
  if (!o.new_password.empty()) body["password"] = o.new_password;
  if (o.description_opt->count() > 0) body["description"] = o.description;
  if (!o.status.empty()) {
    auto enabled = parseStatus(o.status);
    if (!enabled) return enabled.takeError();
    body["enabled"] = *enabled;
  }
  return body;
}

void addPrincipalOptions(CLI::App* cmd, PrincipalOptions& o, const std::string& noun) {
  cmd->add_option("--new-password", o.new_password,
                  "The " + noun + "'s password (create: generated when not given)");
  o.description_opt = cmd->add_option("--description", o.description, "Description");
  cmd->add_option("--status", o.status, "enabled or disabled")->check(CLI::IsMember({"enabled", "disabled"}));
}

// user and sp: the same commands on two collections.
void addPrincipalGroup(CLI::App& app, int& exit_code, const std::string& command, const std::string& noun,
                       const std::string& path, bool name_required) {
  auto* group = app.add_subcommand(command, "Manage " + noun + "s");
  group->require_subcommand(1);

  auto create_opts = std::make_shared<PrincipalOptions>();
  auto* create = group->add_subcommand(
      "create", "Create a " + noun + "; prints it with its password (shown only this once)");
  addNameArgument(create, create_opts->name,
                  name_required ? "The " + noun + "'s name" : "The " + noun + "'s name (default: generated sp-<hex>)");
  addPrincipalOptions(create, *create_opts, noun);
  defineAdminCommand(create, exit_code, [create_opts, path, name_required, noun](const AdminClient& client) -> Result<json::value> {
    if (name_required) {
      if (auto s = requireValue(create_opts->name, "the " + noun + "'s name"); !s) return s.takeError();
    }
    auto body = principalBody(*create_opts);
    if (!body) return body.takeError();
    if (!create_opts->name.empty()) body->emplace("name", create_opts->name);
    return client.call("POST", path, json::value(std::move(*body)));
  });

  auto update_opts = std::make_shared<PrincipalOptions>();
  auto* update = group->add_subcommand("update", "Change a " + noun + "'s password, description or status");
  addNameArgument(update, update_opts->name, "The " + noun + "'s name");
  addPrincipalOptions(update, *update_opts, noun);
  defineAdminCommand(update, exit_code, [update_opts, path, noun](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(update_opts->name, "the " + noun + "'s name"); !s) return s.takeError();
    auto body = principalBody(*update_opts);
    if (!body) return body.takeError();
    if (body->empty()) return makeError(Code::kInvalidArgument, "nothing to update: give --new-password, --description or --status");
    return client.call("PATCH", itemPath(path, update_opts->name), json::value(std::move(*body)));
  });

  addListShowDelete(group, exit_code, path, noun, noun + "s");
}

// --expiration TIME, --expiration-in-days N and (update) --no-expiration.
struct ExpirationOptions {
  std::string at;
  int days = 0;
  bool none = false;
};

void addExpirationOptions(CLI::App* cmd, ExpirationOptions& o, bool can_clear) {
  auto* at = cmd->add_option("--expiration", o.at, "Expiry as an RFC 3339 time (2027-01-01T00:00:00Z)");
  auto* days = cmd->add_option("--expiration-in-days", o.days, "Expiry in this many days from now")
                   ->check(CLI::Range(1, 36500));
  at->excludes(days);
  if (can_clear) cmd->add_flag("--no-expiration", o.none, "Never expire")->excludes(at)->excludes(days);
}

// Sets "expiresOn" in `body` if an expiration option was given.
void applyExpiration(const ExpirationOptions& o, json::object& body) {
  if (o.none) {
    body["expiresOn"] = nullptr;
  } else if (!o.at.empty()) {
    body["expiresOn"] = o.at;
  } else if (o.days > 0) {
    body["expiresOn"] = formatRfc3339(std::chrono::system_clock::now() + std::chrono::hours(24) * o.days);
  }
}

struct TokenOptions {
  std::string name;
  std::string scope_map;
  std::string status;
  ExpirationOptions expiration;
};

Status applyTokenOptions(const TokenOptions& o, json::object& body) {
  if (!o.scope_map.empty()) body["scopeMap"] = o.scope_map;
  if (!o.status.empty()) {
    auto enabled = parseStatus(o.status);
    if (!enabled) return enabled.takeError();
    body["enabled"] = *enabled;
  }
  applyExpiration(o.expiration, body);
  return {};
}

struct CredentialOptions {
  std::string token;
  bool password1 = false;
  bool password2 = false;
  ExpirationOptions expiration;
};

void addPasswordSlotFlags(CLI::App* cmd, CredentialOptions& o) {
  auto* p1 = cmd->add_flag("--password1", o.password1, "The first password slot");
  auto* p2 = cmd->add_flag("--password2", o.password2, "The second password slot");
  p1->excludes(p2);
}

Result<std::string> slotName(const CredentialOptions& o) {
  if (o.password1) return std::string("password1");
  if (o.password2) return std::string("password2");
  return makeError(Code::kInvalidArgument, "give --password1 or --password2");
}

void addTokenGroup(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("token", "Manage repository-scoped tokens (their permissions are a scope map)");
  group->require_subcommand(1);

  auto create_opts = std::make_shared<TokenOptions>();
  auto* create = group->add_subcommand(
      "create", "Create a token (no password yet: `berth token credential generate` makes one)");
  addNameArgument(create, create_opts->name, "The token's name");
  create->add_option("--scope-map", create_opts->scope_map, "The scope map that grants its permissions");
  create->add_option("--status", create_opts->status, "enabled or disabled")
      ->check(CLI::IsMember({"enabled", "disabled"}));
  addExpirationOptions(create, create_opts->expiration, /*can_clear=*/false);
  defineAdminCommand(create, exit_code, [create_opts](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(create_opts->name, "the token's name"); !s) return s.takeError();
    if (auto s = requireValue(create_opts->scope_map, "--scope-map"); !s) return s.takeError();
    json::object body;
    body["name"] = create_opts->name;
    if (auto s = applyTokenOptions(*create_opts, body); !s) return s.takeError();
    return client.call("POST", kTokensPath, json::value(std::move(body)));
  });

  auto update_opts = std::make_shared<TokenOptions>();
  auto* update = group->add_subcommand("update", "Change a token's scope map, status or expiry");
  addNameArgument(update, update_opts->name, "The token's name");
  update->add_option("--scope-map", update_opts->scope_map, "The new scope map");
  update->add_option("--status", update_opts->status, "enabled or disabled")
      ->check(CLI::IsMember({"enabled", "disabled"}));
  addExpirationOptions(update, update_opts->expiration, /*can_clear=*/true);
  defineAdminCommand(update, exit_code, [update_opts](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(update_opts->name, "the token's name"); !s) return s.takeError();
    json::object body;
    if (auto s = applyTokenOptions(*update_opts, body); !s) return s.takeError();
    if (body.empty()) {
      return makeError(Code::kInvalidArgument,
                       "nothing to update: give --scope-map, --status, --expiration, --expiration-in-days or --no-expiration");
    }
    return client.call("PATCH", itemPath(kTokensPath, update_opts->name), json::value(std::move(body)));
  });

  addListShowDelete(group, exit_code, kTokensPath, "token", "tokens");

  auto* credential = group->add_subcommand("credential", "Manage a token's two passwords");
  credential->require_subcommand(1);

  auto generate_opts = std::make_shared<CredentialOptions>();
  auto* generate = credential->add_subcommand(
      "generate", "Generate a new password in a slot, replacing the old one (shown only this once)");
  addNameArgument(generate, generate_opts->token, "The token's name");
  addPasswordSlotFlags(generate, *generate_opts);
  addExpirationOptions(generate, generate_opts->expiration, /*can_clear=*/false);
  defineAdminCommand(generate, exit_code, [generate_opts](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(generate_opts->token, "the token's name"); !s) return s.takeError();
    auto slot = slotName(*generate_opts);
    if (!slot) return slot.takeError();
    json::object body;
    body["name"] = *slot;
    applyExpiration(generate_opts->expiration, body);
    return client.call("POST", itemPath(kTokensPath, generate_opts->token) + "/credentials", json::value(std::move(body)));
  });

  auto delete_opts = std::make_shared<CredentialOptions>();
  auto* remove = credential->add_subcommand("delete", "Remove the password in a slot");
  addNameArgument(remove, delete_opts->token, "The token's name");
  addPasswordSlotFlags(remove, *delete_opts);
  defineAdminCommand(remove, exit_code, [delete_opts](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(delete_opts->token, "the token's name"); !s) return s.takeError();
    auto slot = slotName(*delete_opts);
    if (!slot) return slot.takeError();
    return client.call("DELETE", itemPath(kTokensPath, delete_opts->token) + "/credentials/" + *slot);
  });
}

struct FederatedOptions {
  std::string name;
  std::string issuer;
  std::string claim;
  std::string value;
  std::string description;
};

void addFederatedGroup(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("federated", "Manage federated (OIDC) identities");
  group->require_subcommand(1);

  auto o = std::make_shared<FederatedOptions>();
  auto* create = group->add_subcommand("create", "Trust an OIDC issuer's tokens whose claim has a value");
  addNameArgument(create, o->name, "The identity's name");
  create->add_option("--issuer", o->issuer, "The issuer URL (https://...), as in the tokens' iss claim");
  create->add_option("--claim", o->claim, "The claim to match: sub, email or groups")
      ->check(CLI::IsMember({"sub", "email", "groups"}));
  create->add_option("--value", o->value, "The value the claim must have (groups: contain)");
  create->add_option("--description", o->description, "Description");
  defineAdminCommand(create, exit_code, [o](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(o->name, "the identity's name"); !s) return s.takeError();
    if (auto s = requireValue(o->issuer, "--issuer"); !s) return s.takeError();
    if (auto s = requireValue(o->claim, "--claim"); !s) return s.takeError();
    if (auto s = requireValue(o->value, "--value"); !s) return s.takeError();
    json::object body;
    body["name"] = o->name;
    body["issuer"] = o->issuer;
    body["claim"] = o->claim;
    body["value"] = o->value;
    if (!o->description.empty()) body["description"] = o->description;
    return client.call("POST", kFederatedPath, json::value(std::move(body)));
  });

  addListShowDelete(group, exit_code, kFederatedPath, "federated identity", "federated identities");
}

}  // namespace

void addIdentityCommands(CLI::App& app, int& exit_code) {
  addPrincipalGroup(app, exit_code, "user", "user", kUsersPath, /*name_required=*/true);
  addPrincipalGroup(app, exit_code, "sp", "service principal", kServicePrincipalsPath, /*name_required=*/false);
  addTokenGroup(app, exit_code);
  addFederatedGroup(app, exit_code);
}

}  // namespace berth::cli
