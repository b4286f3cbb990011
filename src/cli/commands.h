#pragma once
// The `berth` client commands: login/logout and the admin API (docs/api.md) as az acr
// users know it: user, sp, token, scope-map, role, federated, network-rule, settings.
#include <CLI/CLI.hpp>

namespace berth::cli {

// Registers the client subcommands on `app`. The callback of the subcommand that runs
// sets exit_code (0 on success, 1 on failure); it is left untouched otherwise, so a
// caller can start it at -1 to tell whether one of these ran.
void addCommands(CLI::App& app, int& exit_code);

}  // namespace berth::cli
