// webhook: create, list, show, update, delete, ping, list-events (docs/api.md#webhooks),
// with az acr webhook's option names.
#include <boost/json/object.hpp>

#include "cli/command_groups.h"
#include "cli/command_support.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr const char* kWebhooksPath = "/api/v1/webhooks";

struct WebhookOptions {
  std::string name;
  std::string uri;
  std::vector<std::string> actions;
  std::vector<std::string> headers;  // "Name=value" (az's --headers "k=v" pairs)
  std::string scope;
  std::string status;
  std::string format;
  std::string secret;
  std::string region;
  CLI::Option* scope_opt = nullptr;
  CLI::Option* headers_opt = nullptr;
  CLI::Option* secret_opt = nullptr;
  CLI::Option* region_opt = nullptr;
};

void addWebhookOptions(CLI::App* cmd, WebhookOptions& o) {
  cmd->add_option("--uri", o.uri, "The service URI (http:// or https://)");
  cmd->add_option("--actions", o.actions, "push, delete, quarantine (space or comma separated)")
      ->delimiter(',')
      ->check(CLI::IsMember({"push", "delete", "quarantine"}));
  o.headers_opt = cmd->add_option("--headers", o.headers, "Custom headers as Name=value (repeat); "
                                                         "an empty list clears them");
  o.scope_opt = cmd->add_option("--scope", o.scope, "repository:tag with * wildcards; empty: everything");
  cmd->add_option("--status", o.status, "enabled or disabled")->check(CLI::IsMember({"enabled", "disabled"}));
  cmd->add_option("--format", o.format, "acr (default) or cloudevents")->check(CLI::IsMember({"acr", "cloudevents"}));
  o.secret_opt = cmd->add_option("--secret", o.secret,
                                 "Signs requests with X-Berth-Signature (HMAC-SHA256); empty removes it");
  o.region_opt =
      cmd->add_option("--region", o.region,
                      "With replication: only this region's replica delivers it, for every change "
                      "there; empty (default): the replica where the change was made");
}

Result<json::object> webhookBody(const WebhookOptions& o) {
  json::object body;
  if (!o.uri.empty()) body["serviceUri"] = o.uri;
  if (!o.actions.empty()) {
    json::array actions;
    for (const auto& a : o.actions) actions.emplace_back(a);
    body["actions"] = std::move(actions);
  }
  if (o.headers_opt->count() > 0) {
    json::object headers;
    for (const auto& h : o.headers) {
      if (h.empty()) continue;
      const auto eq = h.find('=');
      if (eq == std::string::npos || eq == 0) {
        return makeError(Code::kInvalidArgument, "--headers takes Name=value, not '" + h + "'");
      }
      headers[h.substr(0, eq)] = h.substr(eq + 1);
    }
    body["customHeaders"] = std::move(headers);
  }
  if (o.scope_opt->count() > 0) body["scope"] = o.scope;
  if (!o.status.empty()) body["status"] = o.status;
  if (!o.format.empty()) body["format"] = o.format;
  if (o.secret_opt->count() > 0) body["secret"] = o.secret;
  if (o.region_opt->count() > 0) body["region"] = o.region;
  return body;
}

}  // namespace

void addWebhookCommands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("webhook", "Manage webhooks");
  group->require_subcommand(1);

  auto create_opts = std::make_shared<WebhookOptions>();
  auto* create = group->add_subcommand("create", "Create a webhook");
  addNameArgument(create, create_opts->name, "The webhook's name (5-50 letters and digits)");
  addWebhookOptions(create, *create_opts);
  defineAdminCommand(create, exit_code, [create_opts](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(create_opts->name, "the webhook's name"); !s) return s.takeError();
    if (auto s = requireValue(create_opts->uri, "--uri"); !s) return s.takeError();
    if (create_opts->actions.empty()) return makeError(Code::kInvalidArgument, "--actions is required");
    auto body = webhookBody(*create_opts);
    if (!body) return body.takeError();
    body->emplace("name", create_opts->name);
    return client.call("POST", kWebhooksPath, json::value(std::move(*body)));
  });

  auto update_opts = std::make_shared<WebhookOptions>();
  auto* update = group->add_subcommand("update", "Change a webhook");
  addNameArgument(update, update_opts->name, "The webhook's name");
  addWebhookOptions(update, *update_opts);
  defineAdminCommand(update, exit_code, [update_opts](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(update_opts->name, "the webhook's name"); !s) return s.takeError();
    auto body = webhookBody(*update_opts);
    if (!body) return body.takeError();
    if (body->empty()) return makeError(Code::kInvalidArgument, "nothing to update");
    return client.call("PATCH", itemPath(kWebhooksPath, update_opts->name), json::value(std::move(*body)));
  });

  addListShowDelete(group, exit_code, kWebhooksPath, "webhook", "webhooks");

  auto ping_name = std::make_shared<std::string>();
  auto* ping = group->add_subcommand("ping", "Send a ping event now and show the delivery");
  addNameArgument(ping, *ping_name, "The webhook's name");
  defineAdminCommand(ping, exit_code, [ping_name](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(*ping_name, "the webhook's name"); !s) return s.takeError();
    return client.call("POST", itemPath(kWebhooksPath, *ping_name) + "/ping");
  });

  auto events_name = std::make_shared<std::string>();
  auto* events = group->add_subcommand("list-events", "Show recent deliveries: request, response, attempts");
  addNameArgument(events, *events_name, "The webhook's name");
  defineAdminCommand(events, exit_code, [events_name](const AdminClient& client) -> Result<json::value> {
    if (auto s = requireValue(*events_name, "the webhook's name"); !s) return s.takeError();
    return client.call("GET", itemPath(kWebhooksPath, *events_name) + "/events");
  });
}

}  // namespace berth::cli
