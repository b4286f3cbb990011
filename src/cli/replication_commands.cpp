// replication: list, show, create, delete (docs/replication.md): the replica's peers as
// GET /api/v1/replication reports them (state, lag, pending operations and bytes), and
// the replicas added to (or removed from) a running registry.
#include <boost/json.hpp>
#include <cstdio>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/output.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kReplicationPath = "/api/v1/replication";

std::string seconds(const json::value& peer) {
  const json::value* v = peer.is_object() ? peer.get_object().if_contains("lagSeconds") : nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v != nullptr && v->is_number() ? v->to_number<double>() : 0.0);
  return buf;
}

std::string peerTable(const json::value& answer) {
  json::array rows;
  const json::value* list = answer.is_object() ? answer.get_object().if_contains("replicas") : nullptr;
  if (list != nullptr && list->is_array()) {
    for (const auto& p : list->get_array()) {
      json::object r;
      r["REGION"] = jsonText(p, "region");
      r["URL"] = jsonText(p, "url");
      r["STATE"] = jsonText(p, "state");
      r["LAG S"] = seconds(p);
      r["PENDING OPS"] = std::to_string(jsonNumber(p, "pendingOperations"));
      r["PENDING BYTES"] = std::to_string(jsonNumber(p, "pendingBytes"));
      r["LAST ERROR"] = jsonText(p, "lastError");
      rows.push_back(std::move(r));
    }
  }
  if (rows.empty()) return "No replicas (replication is off, or no peers are configured).\n";
  return tableText(json::value(std::move(rows)));
}

}  // namespace

void addReplicationCommands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("replication", "Geo-replication: this replica's peers, their state and lag");
  group->require_subcommand(1);

  auto* list = group->add_subcommand("list", "List the peers with state, lag and pending work");
  auto list_options = std::make_shared<ConnectionOptions>();
  list_options->output = "table";
  defineAdminCommand(
      list, exit_code, [](const AdminClient& client) -> Result<json::value> { return client.call("GET", kReplicationPath); },
      list_options, peerTable);

  auto region = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show one peer (JSON)");
  show->add_option("REGION", *region, "The peer's region")->required();
  defineAdminCommand(show, exit_code, [region](const AdminClient& client) -> Result<json::value> {
    return client.call("GET", itemPath(kReplicationPath, *region));
  });

  struct CreateArgs {
    std::string region, url;
  };
  auto create_args = std::make_shared<CreateArgs>();
  auto* create = group->add_subcommand(
      "create", "Add a replica to the running registry: every replica reads from it and it fills itself from them");
  create->add_option("REGION", create_args->region, "The new replica's region")->required();
  create->add_option("--url", create_args->url, "Where the replicas reach it: http(s)://HOST:PORT")->required();
  defineAdminCommand(create, exit_code, [create_args](const AdminClient& client) -> Result<json::value> {
    json::object body{{"region", create_args->region}, {"url", create_args->url}};
    return client.call("POST", kReplicationPath, json::value(std::move(body)));
  });

  auto delete_region = std::make_shared<std::string>();
  auto* del = group->add_subcommand("delete", "Remove a replica created with create (every replica stops reading from it)");
  del->add_option("REGION", *delete_region, "The replica's region")->required();
  defineAdminCommand(del, exit_code, [delete_region](const AdminClient& client) -> Result<json::value> {
    return client.call("DELETE", itemPath(kReplicationPath, *delete_region));
  });
}

}  // namespace berth::cli
