// purge, retention policy set|list|show|delete, retention run (docs/retention.md): acr
// purge's command line, run by the server (POST /api/v1/purge), and the stored retention
// policies. Purge and run print a summary and every tag and manifest removed (or, with
// --dry-run, that would be); -o json prints the API's answer.
#include <boost/json.hpp>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/output.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kPoliciesPath = "/api/v1/retention/policies";

const json::array* arrayField(const json::value& v, std::string_view key) {
  const json::value* f = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  return f != nullptr && f->is_array() ? &f->get_array() : nullptr;
}

bool flag(const json::value& v, std::string_view key) {
  const json::value* f = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  return f != nullptr && f->is_bool() && f->get_bool();
}

std::string reportText(const json::value& answer) {
  const bool dry_run = flag(answer, "dryRun");
  std::string out = dry_run ? "Dry run: would delete " : "Deleted ";
  out += std::to_string(jsonNumber(answer, "tagsDeleted")) + " tags and " +
         std::to_string(jsonNumber(answer, "manifestsDeleted")) + " manifests; " +
         std::to_string(jsonNumber(answer, "bytesFreed")) + " bytes of blobs " + (dry_run ? "would be" : "are") +
         " no longer used by any image";
  if (flag(answer, "recycleBin")) out += " (the deleted items are in the recycle bin until they expire)";
  out += "\n";
  if (const uint64_t errors = jsonNumber(answer, "errors"); errors > 0) {
    out += std::to_string(errors) + " deletes failed: " + jsonText(answer, "firstError") + "\n";
  }
  std::string tags, manifests, skipped;
  if (const auto* repos = arrayField(answer, "repositories")) {
    for (const auto& r : *repos) {
      const std::string name = jsonText(r, "name");
      if (const auto* list = arrayField(r, "tags")) {
        for (const auto& t : *list) tags += "  " + name + ":" + jsonText(t, "tag") + "  " + jsonText(t, "digest") + "\n";
      }
      if (const auto* list = arrayField(r, "manifests")) {
        for (const auto& m : *list) manifests += "  " + name + "@" + jsonText(m, "digest") + "\n";
      }
      if (const auto* list = arrayField(r, "skipped")) {
        for (const auto& k : *list) {
          std::string what = name;
          if (k.get_object().contains("tag")) what += ":" + jsonText(k, "tag");
          else if (k.get_object().contains("digest")) what += "@" + jsonText(k, "digest");
          skipped += "  " + what + "  " + jsonText(k, "reason") + "\n";
        }
      }
    }
  }
  if (!tags.empty()) out += "Tags:\n" + tags;
  if (!manifests.empty()) out += "Manifests:\n" + manifests;
  if (!skipped.empty()) out += "Skipped:\n" + skipped;
  return out;
}

void addPurge(CLI::App& app, int& exit_code) {
  struct Args {
    std::vector<std::string> filters;
    std::string ago;
    bool untagged = false;
    uint64_t keep = 0;
    bool dry_run = false;
    bool include_locked = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("purge", "Delete tags (and untagged manifests) older than --ago, as acr purge does");
  cmd->add_option("--filter", args->filters,
                  "<repository regex>:<tag regex>; tags matching it go (repeatable; the repository regex "
                  "matches whole names)")
      ->required();
  cmd->add_option("--ago", args->ago, "Only what was last updated longer ago: 30d, 1h15m, 2d3h6m, 90s")->required();
  cmd->add_flag("--untagged", args->untagged, "Also delete manifests left without tags (older than --ago)");
  cmd->add_option("--keep", args->keep, "In each repository, keep the N newest tags that would be deleted");
  cmd->add_flag("--dry-run", args->dry_run, "Only print what would be deleted");
  cmd->add_flag("--include-locked", args->include_locked,
                "Also delete locked tags and manifests (repository locks still apply)");
  auto options = std::make_shared<ConnectionOptions>();
  options->output = "table";
  defineAdminCommand(
      cmd, exit_code,
      [args](const AdminClient& client) -> Result<json::value> {
        json::array filters;
        for (const auto& f : args->filters) filters.push_back(json::value(f));
        json::object body;
        body["filters"] = std::move(filters);
        body["ago"] = args->ago;
        body["untagged"] = args->untagged;
        body["keep"] = args->keep;
        body["dryRun"] = args->dry_run;
        body["includeLocked"] = args->include_locked;
        return client.call("POST", "/api/v1/purge", json::value(std::move(body)));
      },
      options, reportText);
}

void addRetention(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("retention", "Stored retention policies, run on a schedule");
  group->require_subcommand(1);
  auto* policy = group->add_subcommand("policy", "Create, change, list and delete retention policies");
  policy->require_subcommand(1);

  struct SetArgs {
    std::string name;
    std::string repositories;
    std::optional<uint64_t> keep_last;
    std::string not_pulled_for;
    std::string untagged_after;
    std::string keep_tags;
    bool disabled = false;
  };
  auto set_args = std::make_shared<SetArgs>();
  auto* set = policy->add_subcommand("set", "Create or replace a policy");
  addNameArgument(set, set_args->name, "the policy");
  set->add_option("--repositories", set_args->repositories,
                  "Repositories it applies to: a regular expression matching whole names")
      ->required();
  set->add_option("--keep-last", set_args->keep_last, "Keep the N most recently updated tags of each repository");
  set->add_option("--remove-not-pulled-for", set_args->not_pulled_for,
                  "Remove tags not pulled (nor pushed) for this long: 30d, 12h");
  set->add_option("--remove-untagged-after", set_args->untagged_after,
                  "Remove untagged manifests not pushed or pulled for this long: 7d");
  set->add_option("--keep-tags", set_args->keep_tags, "Tags matching this regular expression always stay");
  set->add_flag("--disabled", set_args->disabled, "Store it without running it on the schedule");
  defineAdminCommand(set, exit_code, [set_args](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(set_args->name, "the policy name"); !s) return s.takeError();
    json::object body;
    body["repositories"] = set_args->repositories;
    if (set_args->keep_last) body["keepLast"] = *set_args->keep_last;
    if (!set_args->not_pulled_for.empty()) body["removeNotPulledFor"] = set_args->not_pulled_for;
    if (!set_args->untagged_after.empty()) body["removeUntaggedAfter"] = set_args->untagged_after;
    if (!set_args->keep_tags.empty()) body["keepTags"] = set_args->keep_tags;
    body["enabled"] = !set_args->disabled;
    return client.call("PUT", itemPath(kPoliciesPath, set_args->name), json::value(std::move(body)));
  });
  addListShowDelete(policy, exit_code, kPoliciesPath, "retention policy", "retention policies");

  struct RunArgs {
    std::string policy;
    bool dry_run = false;
  };
  auto run_args = std::make_shared<RunArgs>();
  auto* run = group->add_subcommand("run", "Run the enabled policies (or one) now");
  run->add_option("--policy", run_args->policy, "Only this policy (also when disabled)");
  run->add_flag("--dry-run", run_args->dry_run, "Only print what would be deleted");
  auto options = std::make_shared<ConnectionOptions>();
  options->output = "table";
  defineAdminCommand(
      run, exit_code,
      [run_args](const AdminClient& client) -> Result<json::value> {
        json::object body;
        body["dryRun"] = run_args->dry_run;
        if (!run_args->policy.empty()) body["policy"] = run_args->policy;
        return client.call("POST", "/api/v1/retention/run", json::value(std::move(body)));
      },
      options, reportText);
}

}  // namespace

void addRetentionCommands(CLI::App& app, int& exit_code) {
  addPurge(app, exit_code);
  addRetention(app, exit_code);
}

}  // namespace berth::cli
