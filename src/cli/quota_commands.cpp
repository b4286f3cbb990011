// quota: set, show, delete (docs/quotas.md): storage quotas for the registry ("*"), a
// namespace ("team-a/*") or one repository, in bytes of deduplicated committed content.
#include <boost/json.hpp>
#include <cstdio>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/output.h"
#include "cli/size_text.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kQuotasPath = "/api/v1/quotas";

std::string percent(uint64_t used, uint64_t limit) {
  if (limit == 0) return used == 0 ? "0%" : "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(used) / static_cast<double>(limit));
  return buf;
}

// One row per quota (a list answer) or the one quota (a single answer).
std::string quotaTable(const json::value& answer) {
  json::array rows;
  auto add = [&](const json::value& q) {
    json::object r;
    r["PATTERN"] = jsonText(q, "pattern");
    r["LIMIT BYTES"] = std::to_string(jsonNumber(q, "limitBytes"));
    r["USED BYTES"] = std::to_string(jsonNumber(q, "usedBytes"));
    r["USED"] = percent(jsonNumber(q, "usedBytes"), jsonNumber(q, "limitBytes"));
    rows.push_back(std::move(r));
  };
  const json::value* list = answer.is_object() ? answer.get_object().if_contains("quotas") : nullptr;
  if (list != nullptr && list->is_array()) {
    for (const auto& q : list->get_array()) add(q);
  } else if (answer.is_object()) {
    add(answer);
  }
  if (rows.empty()) return "No quotas.\n";
  return tableText(json::value(std::move(rows)));
}

}  // namespace

void addQuotaCommands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("quota", "Manage storage quotas (registry, namespace or repository)");
  group->require_subcommand(1);

  struct SetArgs {
    std::string pattern;
    std::string size;
  };
  auto set_args = std::make_shared<SetArgs>();
  auto* set = group->add_subcommand("set", "Set (create or change) a quota");
  set->add_option("PATTERN", set_args->pattern, "'*' (the registry), 'team-a/*' or a repository name")
      ->required();
  set->add_option("SIZE", set_args->size, "The limit: bytes, or with a unit (500MB, 10GiB)")->required();
  defineAdminCommand(set, exit_code, [set_args](const AdminClient& client) -> Result<json::value> {
    auto bytes = parseSize(set_args->size);
    if (!bytes) return bytes.takeError();
    json::object body;
    body["limitBytes"] = *bytes;
    return client.call("PUT", itemPath(kQuotasPath, set_args->pattern), json::value(std::move(body)));
  });

  auto show_pattern = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show the quotas with their usage (or one quota)");
  show->add_option("PATTERN", *show_pattern, "Only this quota");
  auto show_options = std::make_shared<ConnectionOptions>();
  show_options->output = "table";
  defineAdminCommand(
      show, exit_code,
      [show_pattern](const AdminClient& client) -> Result<json::value> {
        if (show_pattern->empty()) return client.call("GET", kQuotasPath);
        return client.call("GET", itemPath(kQuotasPath, *show_pattern));
      },
      show_options, quotaTable);

  auto delete_pattern = std::make_shared<std::string>();
  auto* del = group->add_subcommand("delete", "Delete a quota (lifts the limit)");
  del->add_option("PATTERN", *delete_pattern, "The quota's pattern")->required();
  defineAdminCommand(del, exit_code, [delete_pattern](const AdminClient& client) -> Result<json::value> {
    return client.call("DELETE", itemPath(kQuotasPath, *delete_pattern));
  });
}

}  // namespace berth::cli
