// The recycle bin (docs/recycle-bin.md): repository list-deleted / restore, manifest
// list-deleted / restore. Restoring by name picks the newest matching item.
#include <boost/json.hpp>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/encoding.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kBinPath = "/api/v1/recycle-bin";

CLI::App* group(CLI::App& app, const std::string& name, const std::string& help) {
  auto existing = app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == name; });
  if (!existing.empty()) return existing.front();
  auto* g = app.add_subcommand(name, help);
  g->require_subcommand(1);
  return g;
}

// The bin's items matching `filters` ("&repository=..."), newest first: repository items
// if `keep_repositories`, manifest and tag items if `keep_others`.
Result<json::value> listItems(const AdminClient& client, const std::string& filters, bool keep_repositories,
                              bool keep_others) {
  auto page = client.call("GET", std::string(kBinPath) + "?n=1000" + filters);
  if (!page) return page;
  const json::value* items = page->is_object() ? page->get_object().if_contains("items") : nullptr;
  if (items == nullptr || !items->is_array()) return makeError(Code::kCorrupt, "the answer has no items list");
  json::array kept;
  for (const auto& item : items->get_array()) {
    const json::value* kind = item.is_object() ? item.get_object().if_contains("kind") : nullptr;
    const bool repository = kind != nullptr && kind->is_string() && kind->get_string() == "repository";
    if (repository ? keep_repositories : keep_others) kept.push_back(item);
  }
  json::object out;
  out["items"] = std::move(kept);
  return json::value(std::move(out));
}

// Restores the newest item of the list (already filtered); kNotFound naming `what` if none.
Result<json::value> restoreNewest(const AdminClient& client, const json::value& list, const std::string& what) {
  const auto& items = list.get_object().at("items").get_array();
  if (items.empty()) return makeError(Code::kNotFound, "nothing in the recycle bin matches " + what);
  const json::value* id = items.front().get_object().if_contains("id");
  if (id == nullptr || !id->is_int64()) return makeError(Code::kCorrupt, "an item has no id");
  return client.call("POST", std::string(kBinPath) + "/" + std::to_string(id->get_int64()) + "/restore");
}

struct RestoreOptions {
  std::string reference;  // REPO:TAG, REPO@DIGEST or REPO
  std::string digest;
};

}  // namespace

void addRecycleBinCommands(CLI::App& app, int& exit_code) {
  auto* repository = group(app, "repository", "Manage repositories");
  auto* manifest = group(app, "manifest", "Manage manifests");

  auto* repo_list = repository->add_subcommand("list-deleted", "List deleted repositories in the recycle bin");
  auto repo_filter = std::make_shared<std::string>();
  repo_list->add_option("--name,-n", *repo_filter, "Only this repository");
  defineAdminCommand(repo_list, exit_code, [repo_filter](const AdminClient& client) {
    std::string filters = "&kind=repository";
    if (!repo_filter->empty()) filters += "&repository=" + percentEncode(*repo_filter);
    return listItems(client, filters, true, false);
  });

  auto* repo_restore = repository->add_subcommand("restore", "Restore the newest deleted copy of a repository");
  auto repo_name = std::make_shared<std::string>();
  addNameArgument(repo_restore, *repo_name, "The repository");
  defineAdminCommand(repo_restore, exit_code, [repo_name](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(*repo_name, "the repository"); !s) return s.takeError();
    auto list = listItems(client, "&kind=repository&repository=" + percentEncode(*repo_name), true, false);
    if (!list) return list;
    return restoreNewest(client, *list, "repository " + *repo_name);
  });

  auto* man_list = manifest->add_subcommand("list-deleted", "List deleted manifests and tags in the recycle bin");
  auto man_repo = std::make_shared<std::string>();
  man_list->add_option("repository", *man_repo, "Only this repository");
  defineAdminCommand(man_list, exit_code, [man_repo](const AdminClient& client) {
    std::string filters;
    if (!man_repo->empty()) filters += "&repository=" + percentEncode(*man_repo);
    return listItems(client, filters, false, true);
  });

  auto* man_restore = manifest->add_subcommand(
      "restore", "Restore the newest deleted manifest or tag matching REPO:TAG (and --digest)");
  auto o = std::make_shared<RestoreOptions>();
  man_restore->add_option("reference", o->reference, "REPO:TAG, REPO@DIGEST, or REPO with --digest")->required();
  man_restore->add_option("--digest", o->digest, "Only the item of this manifest digest");
  defineAdminCommand(man_restore, exit_code, [o](const AdminClient& client) -> Result<json::value> {
    std::string repo = o->reference, tag, digest = o->digest;
    if (auto at = repo.find('@'); at != std::string::npos) {
      digest = repo.substr(at + 1);
      repo.resize(at);
    } else if (auto colon = repo.rfind(':'); colon != std::string::npos && repo.find('/', colon) == std::string::npos) {
      tag = repo.substr(colon + 1);
      repo.resize(colon);
    }
    if (repo.empty()) return makeError(Code::kInvalidArgument, "name the repository: REPO:TAG or REPO@DIGEST");
    if (tag.empty() && digest.empty()) {
      return makeError(Code::kInvalidArgument, "name a tag (REPO:TAG) or a digest (--digest or REPO@DIGEST)");
    }
    std::string filters = "&repository=" + percentEncode(repo);
    if (!tag.empty()) filters += "&tag=" + percentEncode(tag);
    if (!digest.empty()) filters += "&digest=" + percentEncode(digest);
    auto list = listItems(client, filters, false, true);
    if (!list) return list;
    return restoreNewest(client, *list, o->reference + (o->digest.empty() ? "" : " with digest " + o->digest));
  });
}

}  // namespace berth::cli
