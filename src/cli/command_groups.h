#pragma once
// The groups of subcommands that commands.cpp puts together; each sets exit_code from
// the callback of the leaf that ran.
#include <CLI/CLI.hpp>

namespace berth::cli {

// login, logout.
void addLoginCommands(CLI::App& app, int& exit_code);
// user, sp, token (with token credential), federated.
void addIdentityCommands(CLI::App& app, int& exit_code);
// scope-map, role, network-rule, settings.
void addAccessCommands(CLI::App& app, int& exit_code);
// webhook.
void addWebhookCommands(CLI::App& app, int& exit_code);
// usage.
void addUsageCommands(CLI::App& app, int& exit_code);
// audit.
void addAuditCommands(CLI::App& app, int& exit_code);
// repository (ACR metadata and locks).
void addRepositoryCommands(CLI::App& app, int& exit_code);
// quota.
void addQuotaCommands(CLI::App& app, int& exit_code);
// gc.
void addGcCommands(CLI::App& app, int& exit_code);
// replication.
void addReplicationCommands(CLI::App& app, int& exit_code);
// purge, retention.
void addRetentionCommands(CLI::App& app, int& exit_code);
// repository list-deleted|restore, manifest list-deleted|restore (the recycle bin); joins
// the repository and manifest groups if they exist already.
void addRecycleBinCommands(CLI::App& app, int& exit_code);

}  // namespace berth::cli
