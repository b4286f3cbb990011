// repository: list, show, show-tags, show-manifests, update (the changeable attributes:
// locks), untag, delete, over ACR's metadata API (/acr/v1, docs/metadata-api.md), with
// az acr repository's option names: --name REPO or --image REPO:TAG / REPO@DIGEST.
#include <boost/json.hpp>

#include "cli/command_groups.h"
#include "cli/command_support.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

// What a command acts on: a repository, a tag of it or a manifest of it.
struct Target {
  std::string repository;
  std::string tag;
  std::string digest;
  // The /acr/v1 path of the target.
  std::string path() const {
    std::string p = "/acr/v1/" + repository;
    if (!tag.empty()) return p + "/_tags/" + tag;
    if (!digest.empty()) return p + "/_manifests/" + digest;
    return p;
  }
};

struct TargetOptions {
  std::string positional;
  std::string name;
  std::string image;
};

void addTargetOptions(CLI::App* cmd, TargetOptions& o, bool image) {
  cmd->add_option("target", o.positional, image ? "REPO, REPO:TAG or REPO@DIGEST" : "REPO");
  cmd->add_option("-n,--name", o.name, "The repository");
  if (image) cmd->add_option("--image", o.image, "REPO:TAG or REPO@DIGEST");
}

Result<Target> parseTarget(const TargetOptions& o, bool image) {
  int given = !o.positional.empty() + !o.name.empty() + !o.image.empty();
  if (given != 1) {
    return makeError(Code::kInvalidArgument,
                     image ? "give one of REPO[:TAG|@DIGEST], --name REPO or --image REPO:TAG" : "give the repository");
  }
  const std::string text = !o.positional.empty() ? o.positional : !o.image.empty() ? o.image : o.name;
  Target t;
  if (const auto at = text.find('@'); at != std::string::npos) {
    t.repository = text.substr(0, at);
    t.digest = text.substr(at + 1);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos && text.find('/', colon) == std::string::npos) {
    t.repository = text.substr(0, colon);
    t.tag = text.substr(colon + 1);
  } else {
    t.repository = text;
  }
  if (t.repository.empty() || (!image && (!t.tag.empty() || !t.digest.empty())) ||
      (text.find('@') != std::string::npos && t.digest.empty()) ||
      (!o.image.empty() && t.tag.empty() && t.digest.empty())) {
    return makeError(Code::kInvalidArgument, "'" + text + "' is not " + (image ? "REPO, REPO:TAG or REPO@DIGEST" : "a repository"));
  }
  return t;
}

struct Attribute {
  const char* flag;
  const char* field;
  std::string value;
};

}  // namespace

void addRepositoryCommands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("repository", "Repositories, their tags and manifests, and their locks");
  group->require_subcommand(1);

  auto* list = group->add_subcommand("list", "List repositories");
  defineAdminCommand(list, exit_code, [](const AdminClient& client) { return client.call("GET", "/acr/v1/_catalog"); });

  auto show_opts = std::make_shared<TargetOptions>();
  auto* show = group->add_subcommand("show", "Show a repository's, tag's or manifest's properties and attributes");
  addTargetOptions(show, *show_opts, true);
  defineAdminCommand(show, exit_code, [show_opts](const AdminClient& client) -> Result<json::value> {
    auto t = parseTarget(*show_opts, true);
    if (!t) return t.takeError();
    return client.call("GET", t->path());
  });

  for (const auto& [verb, suffix, help] : {std::tuple{"show-tags", "/_tags", "List a repository's tags"},
                                           std::tuple{"show-manifests", "/_manifests", "List a repository's manifests"}}) {
    auto opts = std::make_shared<TargetOptions>();
    auto order = std::make_shared<std::string>();
    auto* cmd = group->add_subcommand(verb, help);
    addTargetOptions(cmd, *opts, false);
    cmd->add_option("--orderby", *order, "time_desc or time_asc (default: by name)")
        ->check(CLI::IsMember({"time_desc", "time_asc"}));
    const std::string path_suffix = suffix;
    defineAdminCommand(cmd, exit_code, [opts, order, path_suffix](const AdminClient& client) -> Result<json::value> {
      auto t = parseTarget(*opts, false);
      if (!t) return t.takeError();
      std::string path = t->path() + path_suffix + "?n=1000";
      if (!order->empty()) path += *order == "time_desc" ? "&orderby=timedesc" : "&orderby=timeasc";
      return client.call("GET", path);
    });
  }

  auto update_opts = std::make_shared<TargetOptions>();
  auto attrs = std::make_shared<std::vector<Attribute>>(std::vector<Attribute>{
      {"--write-enabled", "writeEnabled", ""},
      {"--delete-enabled", "deleteEnabled", ""},
      {"--read-enabled", "readEnabled", ""},
      {"--list-enabled", "listEnabled", ""}});
  auto* update = group->add_subcommand(
      "update", "Lock or unlock a repository, a tag or a manifest (its changeable attributes)");
  addTargetOptions(update, *update_opts, true);
  for (auto& a : *attrs) update->add_option(a.flag, a.value, "true or false");
  defineAdminCommand(update, exit_code, [update_opts, attrs](const AdminClient& client) -> Result<json::value> {
    auto t = parseTarget(*update_opts, true);
    if (!t) return t.takeError();
    json::object body;
    for (const auto& a : *attrs) {
      if (a.value.empty()) continue;
      auto b = parseBool(a.value, a.flag);
      if (!b) return b.takeError();
      body[a.field] = *b;
    }
    if (body.empty()) {
      return makeError(Code::kInvalidArgument,
                       "nothing to update: give --write-enabled, --delete-enabled, --read-enabled or --list-enabled");
    }
    return client.call("PATCH", t->path(), json::value(std::move(body)));
  });

  auto untag_opts = std::make_shared<TargetOptions>();
  auto* untag = group->add_subcommand("untag", "Remove a tag (the manifest stays)");
  addTargetOptions(untag, *untag_opts, true);
  defineAdminCommand(untag, exit_code, [untag_opts](const AdminClient& client) -> Result<json::value> {
    auto t = parseTarget(*untag_opts, true);
    if (!t) return t.takeError();
    if (t->tag.empty()) return makeError(Code::kInvalidArgument, "untag needs REPO:TAG");
    return client.call("DELETE", t->path());
  });

  auto delete_opts = std::make_shared<TargetOptions>();
  auto* del = group->add_subcommand("delete", "Delete a repository with all its manifests and tags");
  addTargetOptions(del, *delete_opts, false);
  defineAdminCommand(del, exit_code, [delete_opts](const AdminClient& client) -> Result<json::value> {
    auto t = parseTarget(*delete_opts, false);
    if (!t) return t.takeError();
    return client.call("DELETE", t->path());
  });
}

}  // namespace berth::cli
