#include "cli/commands.h"

#include "cli/command_groups.h"

namespace berth::cli {

void addCommands(CLI::App& app, int& exit_code) {
  addLoginCommands(app, exit_code);
  addIdentityCommands(app, exit_code);
  addAccessCommands(app, exit_code);
  addWebhookCommands(app, exit_code);
  addUsageCommands(app, exit_code);
  addAuditCommands(app, exit_code);
  addRepositoryCommands(app, exit_code);
  addQuotaCommands(app, exit_code);
  addReplicationCommands(app, exit_code);
  addGcCommands(app, exit_code);
  addRetentionCommands(app, exit_code);
  addRecycleBinCommands(app, exit_code);
}

}  // namespace berth::cli
