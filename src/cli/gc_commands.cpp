// gc [--dry-run]: run garbage collection on the registry now and print what it freed
// (POST /api/v1/gc, docs/gc.md). A summary by default; -o json prints the API's answer.
#include <boost/json.hpp>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/output.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

std::string reportText(const json::value& answer) {
  const json::value* dry = answer.is_object() ? answer.get_object().if_contains("dryRun") : nullptr;
  const bool dry_run = dry != nullptr && dry->is_bool() && dry->get_bool();
  std::string out = dry_run ? "Dry run: would delete " : "Deleted ";
  out += std::to_string(jsonNumber(answer, "blobsDeleted")) + " blobs (" + std::to_string(jsonNumber(answer, "bytesFreed")) +
         " bytes), " + (dry_run ? "would remove " : "removed ") + std::to_string(jsonNumber(answer, "uploadsRemoved")) +
         " abandoned uploads and " + std::to_string(jsonNumber(answer, "tempFilesRemoved")) + " temp files";
  if (const uint64_t errors = jsonNumber(answer, "errors"); errors > 0) {
    out += "; " + std::to_string(errors) + " steps failed (the next run retries them)";
  }
  out += "\n";
  if (const auto* list = answer.get_object().if_contains("digests"); list != nullptr && list->is_array()) {
    for (const auto& d : list->get_array()) {
      if (d.is_string()) out += "  " + std::string(d.get_string()) + "\n";
    }
    if (jsonNumber(answer, "blobsDeleted") > list->get_array().size()) out += "  ...\n";
  }
  return out;
}

}  // namespace

void addGcCommands(CLI::App& app, int& exit_code) {
  auto dry_run = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("gc", "Delete blobs nothing references and abandoned uploads, now");
  cmd->add_flag("--dry-run", *dry_run, "Only report what would be deleted");
  auto options = std::make_shared<ConnectionOptions>();
  options->output = "table";
  defineAdminCommand(
      cmd, exit_code,
      [dry_run](const AdminClient& client) -> Result<json::value> {
        json::object body;
        body["dryRun"] = *dry_run;
        return client.call("POST", "/api/v1/gc", json::value(std::move(body)));
      },
      options, reportText);
}

}  // namespace berth::cli
