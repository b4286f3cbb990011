#pragma once
// What every admin command shares: the connection options (-r, -u/-p, --authfile,
// --cacert, -o), turning them into an AdminClient, and running a command body with
// its output and exit code.
#include <CLI/CLI.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <string>

#include "cli/admin_client.h"
#include "common/result.h"

namespace berth::cli {

inline constexpr std::string_view kRegistryEnv = "BERTH_REGISTRY";
inline constexpr std::string_view kCaFileEnv = "BERTH_CA_FILE";

struct ConnectionOptions {
  std::string registry;
  std::string username;
  std::string password;
  bool password_stdin = false;
  std::string authfile;
  std::string cacert;
  std::string output = "json";
};

// The registry URL from -r or $BERTH_REGISTRY.
Result<RegistryUrl> registryFrom(const std::string& flag);
// --cacert or $BERTH_CA_FILE into HttpOptions.
HttpOptions httpOptionsFrom(const std::string& cacert);

// The Authorization header for `registry`: -u with -p / --password-stdin / a terminal
// prompt when given, else what `berth login` stored in the auth file (an identity token
// as Basic 00000000-0000-0000-0000-000000000000:<token>, or a user and password).
Result<std::string> authorizationFor(const RegistryUrl& registry, const ConnectionOptions& options);

// A leaf command of the admin API: adds the connection options to `cmd` and makes its
// callback connect, run `body`, print the answer (JSON, or -o table; nothing for an empty
// answer) and set exit_code (0, or 1 with "error: <message>" on stderr).
// `table` renders -o table when given (default: tableText).
using CommandBody = std::function<Result<boost::json::value>(const AdminClient&)>;
using TableRenderer = std::function<std::string(const boost::json::value&)>;
void defineAdminCommand(CLI::App* cmd, int& exit_code, CommandBody body,
                        std::shared_ptr<ConnectionOptions> options = std::make_shared<ConnectionOptions>(),
                        TableRenderer table = {});

// NAME as a positional argument or -n/--name (az's spelling); `what` names it in help.
void addNameArgument(CLI::App* cmd, std::string& name, const std::string& what);
// kInvalidArgument "<what> is required" when `value` is empty.
Status requireValue(const std::string& value, const std::string& what);

// `list`, `show NAME` and `delete NAME` for the collection at `path` ("/api/v1/users"),
// whose items are addressed as path + "/" + NAME; `noun` and `plural` name items in help.
void addListShowDelete(CLI::App* group, int& exit_code, const std::string& path, const std::string& noun,
                       const std::string& plural);

// The API path of one item: path + "/" + percent-encoded name.
std::string itemPath(const std::string& path, const std::string& name);

// Parses "true"/"false" (also yes/no, 1/0) for flags such as --anonymous-pull.
Result<bool> parseBool(const std::string& text, const std::string& flag);

// "enabled"/"disabled" (--status, as az acr token has it) into a bool.
Result<bool> parseStatus(const std::string& text);

}  // namespace berth::cli
