// login and logout: a refresh token from the registry, kept in the docker-style auth
// file that docker, podman, skopeo and buildah read too.
#include <cstdlib>
#include <exception>
#include <iostream>

#include "cli/auth_file.h"
#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/terminal.h"
#include "cli/token_client.h"

namespace berth::cli {
namespace {

struct LoginOptions {
  std::string registry;
  std::string username;
  std::string password;
  bool password_stdin = false;
  std::string authfile;
  std::string cacert;
};

Result<AuthFile> openAuthFile(const std::string& flag) {
  auto path = authFilePath(flag, std::getenv("REGISTRY_AUTH_FILE"), std::getenv("HOME"));
  if (!path) return path.takeError();
  return AuthFile::load(*path);
}

Status login(const LoginOptions& o) {
  auto registry = registryFrom(o.registry);
  if (!registry) return registry.takeError();
  std::string username = o.username;
  if (username.empty()) {
    if (o.password_stdin) return makeError(Code::kInvalidArgument, "--password-stdin needs -u/--username");
    auto typed = promptLine("Username: ", /*secret=*/false);
    if (!typed) return makeError(Code::kInvalidArgument, "no user name: give -u/--username");
    username = *typed;
  }
  Result<std::string> password = o.password;
  if (o.password_stdin) {
    password = readSecretFromStdin();
  } else if (o.password.empty()) {
    password = promptLine("Password: ", /*secret=*/true);
    if (!password) return makeError(Code::kInvalidArgument, "no password: give -p/--password or --password-stdin");
  }
  if (!password) return password.takeError();
  if (password->empty()) return makeError(Code::kInvalidArgument, "the password is empty");

  // Read the auth file first: a broken one should stop us before we ask for a token.
  auto file = openAuthFile(o.authfile);
  if (!file) return file.takeError();
  auto token = fetchRefreshToken(*registry, username, *password, httpOptionsFrom(o.cacert));
  if (!token) {
    if (token.code() == Code::kUnauthorized) {
      return makeError(Code::kUnauthorized, "login to " + registry->authority() + " failed: " + token.error().message);
    }
    return token.takeError();
  }
  file->setIdentityToken(registry->authority(), *token);
  if (auto s = file->save(); !s) return s;
  if (file->usesCredentialHelper(registry->authority())) {
    std::cerr << "note: " << file->path()
              << " names a credential helper (credsStore/credHelpers); docker asks it, not this file\n";
  }
  std::cout << "Login Succeeded" << std::endl;
  return {};
}

Status logout(const LoginOptions& o) {
  auto registry = registryFrom(o.registry);
  if (!registry) return registry.takeError();
  auto file = openAuthFile(o.authfile);
  if (!file) return file.takeError();
  if (!file->remove(registry->authority())) {
    std::cerr << "Not logged in to " << registry->authority() << "\n";
    return {};
  }
  if (auto s = file->save(); !s) return s;
  std::cout << "Removed login credentials for " << registry->authority() << " in " << file->path() << std::endl;
  return {};
}

void onRun(CLI::App* cmd, int& exit_code, std::shared_ptr<LoginOptions> o, Status (*run)(const LoginOptions&)) {
  cmd->callback([&exit_code, o, run] {
    try {
      auto s = run(*o);
      if (!s) std::cerr << "error: " << s.error().message << "\n";
      exit_code = s ? 0 : 1;
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      exit_code = 1;
    }
  });
}

}  // namespace

void addLoginCommands(CLI::App& app, int& exit_code) {
  auto in = std::make_shared<LoginOptions>();
  auto* login_cmd = app.add_subcommand(
      "login", "Log in to a registry: keeps a refresh token in the auth file (docker, podman, skopeo read it too)");
  login_cmd->add_option("REGISTRY", in->registry, "[http[s]://]host[:port] (default https; $BERTH_REGISTRY)");
  login_cmd->add_option("-u,--username", in->username, "User, service principal or token name");
  auto* password = login_cmd->add_option("-p,--password", in->password, "Password (prompted for when not given)");
  login_cmd->add_flag("--password-stdin", in->password_stdin, "Read the password from standard input")
      ->excludes(password);
  login_cmd->add_option("--authfile", in->authfile,
                        "Auth file (default $REGISTRY_AUTH_FILE, else ~/.docker/config.json)");
  login_cmd->add_option("--cacert", in->cacert, "CA bundle (PEM) to trust (default $BERTH_CA_FILE)");
  onRun(login_cmd, exit_code, in, login);

  auto out = std::make_shared<LoginOptions>();
  auto* logout_cmd = app.add_subcommand("logout", "Remove a registry's credentials from the auth file");
  logout_cmd->add_option("REGISTRY", out->registry, "[http[s]://]host[:port] ($BERTH_REGISTRY)");
  logout_cmd->add_option("--authfile", out->authfile,
                         "Auth file (default $REGISTRY_AUTH_FILE, else ~/.docker/config.json)");
  onRun(logout_cmd, exit_code, out, logout);
}

}  // namespace berth::cli
