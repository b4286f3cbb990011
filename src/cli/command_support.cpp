#include "cli/command_support.h"

#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/auth_file.h"
#include "cli/encoding.h"
#include "cli/output.h"
#include "cli/terminal.h"

namespace berth::cli {
namespace {

const char* env(std::string_view name) { return std::getenv(std::string(name).c_str()); }

Result<std::string> passwordFor(const ConnectionOptions& options) {
  if (options.password_stdin) return readSecretFromStdin();
  if (!options.password.empty()) return options.password;
  if (stdinIsTerminal()) return promptLine("Password: ", /*secret=*/true);
  return makeError(Code::kInvalidArgument, "no password: give -p or --password-stdin");
}

}  // namespace

Result<RegistryUrl> registryFrom(const std::string& flag) {
  std::string text = flag;
  if (text.empty()) {
    if (const char* e = env(kRegistryEnv)) text = e;
  }
  if (text.empty()) {
    return makeError(Code::kInvalidArgument, "no registry: give -r/--registry or set " + std::string(kRegistryEnv));
  }
  return parseRegistryUrl(text);
}

HttpOptions httpOptionsFrom(const std::string& cacert) {
  HttpOptions options;
  options.ca_file = cacert;
  if (options.ca_file.empty()) {
    if (const char* e = env(kCaFileEnv)) options.ca_file = e;
  }
  return options;
}

Result<std::string> authorizationFor(const RegistryUrl& registry, const ConnectionOptions& options) {
  if (!options.username.empty()) {
    auto password = passwordFor(options);
    if (!password) return password.takeError();
    return basicAuthorization(options.username, *password);
  }
  if (!options.password.empty() || options.password_stdin) {
    return makeError(Code::kInvalidArgument, "a password needs a user name: give -u too");
  }
  auto path = authFilePath(options.authfile, env("REGISTRY_AUTH_FILE"), env("HOME"));
  if (!path) return path.takeError();
  auto file = AuthFile::load(*path);
  if (!file) return file.takeError();
  auto stored = file->find(registry.authority());
  if (!stored) {
    return makeError(Code::kUnauthorized, "no credentials for " + registry.authority() + " in " + *path +
                                              ": run `berth login " + registry.authority() + "` or give -u and -p");
  }
  return basicAuthorization(stored->username, stored->secret);
}

void defineAdminCommand(CLI::App* cmd, int& exit_code, CommandBody body, std::shared_ptr<ConnectionOptions> options,
                        TableRenderer table) {
  cmd->add_option("-r,--registry", options->registry,
                  "Registry: [http[s]://]host[:port] (default $" + std::string(kRegistryEnv) + ")");
  cmd->add_option("-u,--username", options->username, "User name (default: the credentials of `berth login`)");
  cmd->add_option("-p,--password", options->password, "Password (prompted for on a terminal if -u is given alone)");
  cmd->add_flag("--password-stdin", options->password_stdin, "Read the password from standard input");
  cmd->add_option("--authfile", options->authfile,
                  "Auth file (default $REGISTRY_AUTH_FILE, else ~/.docker/config.json)");
  cmd->add_option("--cacert", options->cacert, "CA bundle (PEM) to trust (default $" + std::string(kCaFileEnv) + ")");
  cmd->add_option("-o,--output", options->output, "Output format: json or table")
      ->check(CLI::IsMember({"json", "table"}));
  cmd->callback([&exit_code, body = std::move(body), options, table = std::move(table)] {
    auto run = [&]() -> Result<boost::json::value> {
      auto registry = registryFrom(options->registry);
      if (!registry) return registry.takeError();
      auto authorization = authorizationFor(*registry, *options);
      if (!authorization) return authorization.takeError();
      AdminClient client(*registry, *authorization, httpOptionsFrom(options->cacert));
      return body(client);
    };
    try {
      auto answer = run();
      if (!answer) {
        std::cerr << "error: " << answer.error().message << "\n";
        exit_code = 1;
        return;
      }
      if (!answer->is_null()) {
        if (options->output != "table") std::cout << prettyJson(*answer);
        else std::cout << (table ? table(*answer) : tableText(*answer));
      }
      std::cout.flush();
      exit_code = 0;
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      exit_code = 1;
    }
  });
}

void addNameArgument(CLI::App* cmd, std::string& name, const std::string& what) {
  auto* positional = cmd->add_option("NAME", name, what);
  cmd->add_option("-n,--name", name, what + " (instead of NAME)")->excludes(positional);
}

void addListShowDelete(CLI::App* group, int& exit_code, const std::string& path, const std::string& noun,
                       const std::string& plural) {
  auto* list = group->add_subcommand("list", "List the " + plural);
  defineAdminCommand(list, exit_code, [path](const AdminClient& client) { return client.call("GET", path); });

  auto show_name = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show one " + noun);
  addNameArgument(show, *show_name, "The " + noun + "'s name");
  defineAdminCommand(show, exit_code, [path, show_name, noun](const AdminClient& client) -> Result<boost::json::value> {
    if (auto s = requireValue(*show_name, "the " + noun + "'s name"); !s) return s.takeError();
    return client.call("GET", itemPath(path, *show_name));
  });

  auto delete_name = std::make_shared<std::string>();
  auto* remove = group->add_subcommand("delete", "Delete one " + noun);
  addNameArgument(remove, *delete_name, "The " + noun + "'s name");
  defineAdminCommand(remove, exit_code, [path, delete_name, noun](const AdminClient& client) -> Result<boost::json::value> {
    if (auto s = requireValue(*delete_name, "the " + noun + "'s name"); !s) return s.takeError();
    return client.call("DELETE", itemPath(path, *delete_name));
  });
}

std::string itemPath(const std::string& path, const std::string& name) { return path + "/" + percentEncode(name); }

Status requireValue(const std::string& value, const std::string& what) {
  if (value.empty()) return makeError(Code::kInvalidArgument, what + " is required");
  return {};
}

Result<bool> parseBool(const std::string& text, const std::string& flag) {
  if (text == "true" || text == "yes" || text == "1") return true;
  if (text == "false" || text == "no" || text == "0") return false;
  return makeError(Code::kInvalidArgument, flag + " must be true or false, not \"" + text + "\"");
}

Result<bool> parseStatus(const std::string& text) {
  if (text == "enabled") return true;
  if (text == "disabled") return false;
  return makeError(Code::kInvalidArgument, "--status must be enabled or disabled, not \"" + text + "\"");
}

}  // namespace berth::cli
