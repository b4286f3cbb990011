#include "api/handlers.h"

#include "api/admin_fields.h"
#include "common/text.h"
#include "replication/region.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;
using meta::WebhookRecord;

namespace {

constexpr size_t kListedDeliveries = 100;

// ACR's rule: 5-50 alphanumerics.
bool validName(std::string_view name) {
  if (name.size() < 5 || name.size() > 50) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool validHeaderName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (c <= ' ' || c >= 127 || c == ':') return false;
  }
  return true;
}

json::object webhookJson(const WebhookRecord& w) {
  json::object o;
  o["name"] = w.name;
  o["serviceUri"] = w.uri;
  json::value headers;
  try {
    headers = json::parse(w.headers_json);
  } catch (const std::exception&) {
    headers = json::object{};
  }
  o["customHeaders"] = std::move(headers);
  json::array actions;
  for (const auto& a : w.actions) actions.emplace_back(a);
  o["actions"] = std::move(actions);
  o["scope"] = w.scope;
  o["status"] = w.enabled ? "enabled" : "disabled";
  o["format"] = w.format;
  o["region"] = w.region;
  o["hasSecret"] = !w.secret.empty();  // the secret itself is never returned
  o["createdOn"] = formatRfc3339(w.created_at);
  o["lastUpdatedOn"] = formatRfc3339(w.updated_at);
  return o;
}

json::object deliveryJson(const meta::DeliveryRecord& d) {
  json::object o;
  o["id"] = d.id;
  o["eventId"] = d.event_id ? json::value(*d.event_id) : json::value(nullptr);
  o["action"] = d.action;
  o["attempts"] = d.attempts;
  o["delivered"] = d.delivered;
  o["status"] = d.delivered ? "delivered" : "failing";
  o["error"] = d.error;
  o["createdOn"] = formatRfc3339(d.created_at);
  o["lastAttemptOn"] = formatRfc3339(d.updated_at);
  json::value headers;
  try {
    headers = json::parse(d.request_headers);
  } catch (const std::exception&) {
    headers = json::object{};
  }
  o["request"] = json::object{{"headers", std::move(headers)}, {"body", d.request_body}};
  o["response"] = json::object{{"status", d.response_status}, {"body", d.response_body}};
  return o;
}

// A webhook's region must be one the dispatchers know (events::wants): this replica's or a
// peer's (configured, or created at run time). A name no replica has would make a webhook
// no replica delivers.
Status checkRegion(const std::string& region, const replication::Replicator* replicator) {
  if (region.empty()) return okStatus();
  if (replicator == nullptr) {
    return invalidArgument("region cannot be set: replication is not configured on this registry");
  }
  if (auto problem = replication::regionNameProblem(region); !problem.empty()) {
    return invalidArgument("region " + problem);
  }
  if (region == replicator->region()) return okStatus();
  std::string known = replicator->region() + " (this replica)";
  for (const auto& peer : replicator->peerRegions()) {
    if (peer == region) return okStatus();
    known += ", " + peer;
  }
  return invalidArgument("region " + quoteUntrusted(region) +
                         " is not a replica of this registry; the regions are " + known);
}

// Applies the request's fields to `w`; `creating` requires serviceUri and actions.
Status apply(WebhookRecord& w, const json::object& body, bool creating,
             const replication::Replicator* replicator) {
  const Fields f(body);
  if (auto s = f.only({"name", "serviceUri", "customHeaders", "actions", "scope", "status",
                       "format", "secret", "region"});
      !s) {
    return s;
  }
  auto str = [&](std::string_view key, std::string& out) -> Status {
    auto v = f.str(key);
    if (!v) return v.takeError();
    if (*v) out = std::move(**v);
    return okStatus();
  };
  if (auto s = str("serviceUri", w.uri); !s) return s;
  if (w.uri.rfind("http://", 0) != 0 && w.uri.rfind("https://", 0) != 0) {
    return invalidArgument("serviceUri must be an http:// or https:// URL");
  }
  if (w.uri.size() > 2048) return invalidArgument("serviceUri is too long");
  if (auto it = body.find("customHeaders"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return invalidArgument("customHeaders must be an object of strings");
    for (const auto& h : it->value().get_object()) {
      if (!h.value().is_string()) return invalidArgument("customHeaders must be an object of strings");
      if (!validHeaderName(h.key())) return invalidArgument("invalid header name " + quoteUntrusted(h.key(), 40));
      const auto& v = h.value().get_string();
      if (v.find('\r') != json::string::npos || v.find('\n') != json::string::npos) {
        return invalidArgument("header values cannot contain line breaks");
      }
    }
    w.headers_json = json::serialize(it->value());
  }
  if (auto it = body.find("actions"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_array() || it->value().get_array().empty()) {
      return invalidArgument("actions must be a non-empty array of push, delete, quarantine");
    }
    w.actions.clear();
    for (const auto& a : it->value().get_array()) {
      if (!a.is_string()) return invalidArgument("actions must be strings");
      std::string action(a.get_string());
      if (action != "push" && action != "delete" && action != "quarantine") {
        return invalidArgument("unknown action " + quoteUntrusted(action, 40) + "; use push, delete, quarantine");
      }
      if (!events::actionMatches(w.actions, action)) w.actions.push_back(action);
    }
  } else if (creating) {
    return invalidArgument("actions is required");
  }
  if (auto s = str("scope", w.scope); !s) return s;
  if (w.scope.size() > 512) return invalidArgument("scope is too long");
  std::string status = w.enabled ? "enabled" : "disabled";
  if (auto s = str("status", status); !s) return s;
  if (status != "enabled" && status != "disabled") return invalidArgument("status must be enabled or disabled");
  w.enabled = status == "enabled";
  if (auto s = str("format", w.format); !s) return s;
  if (w.format != "acr" && w.format != "cloudevents") return invalidArgument("format must be acr or cloudevents");
  if (auto s = str("secret", w.secret); !s) return s;
  // Checked only when given: a PATCH of other fields leaves a stored region alone.
  if (f.has("region")) {
    if (auto s = str("region", w.region); !s) return s;
    if (auto s = checkRegion(w.region, replicator); !s) return s;
  }
  return okStatus();
}

}  // namespace

Result<AdminReply> WebhookAdmin::webhooks(const AdminCall& call) {
  meta::WebhookStore& store = dispatcher_.store();
  const json::object& body = call.body;
  if (call.method == http::verb::get) {
    auto all = store.listWebhooks();
    if (!all) return all.takeError();
    json::array out;
    for (const auto& w : *all) out.push_back(webhookJson(w));
    return AdminReply{http::status::ok, json::object{{"webhooks", std::move(out)}}};
  }
  auto name = body.find("name");
  if (name == body.end() || !name->value().is_string() || !validName(name->value().get_string())) {
    return invalidArgument("name must be 5-50 letters and digits");
  }
  WebhookRecord w;
  w.name = std::string(name->value().get_string());
  if (auto s = apply(w, body, true, replicator_); !s) return s.takeError();
  w.created_at = w.updated_at = call.now;
  if (auto s = store.createWebhook(w); !s) return s.takeError();
  if (auto s = dispatcher_.reload(); !s) return s.takeError();
  auto created = store.getWebhook(w.name);
  if (!created) return created.takeError();
  return AdminReply{http::status::created, webhookJson(*created)};
}

Result<AdminReply> WebhookAdmin::ping(const AdminCall& call) {
  auto current = dispatcher_.store().getWebhook(call.route.ref);
  if (!current) return current.takeError();
  auto d = dispatcher_.ping(current->name, call.request);
  if (!d) return d.takeError();
  return AdminReply{http::status::ok, deliveryJson(*d)};
}

Result<AdminReply> WebhookAdmin::events(const AdminCall& call) {
  meta::WebhookStore& store = dispatcher_.store();
  auto current = store.getWebhook(call.route.ref);
  if (!current) return current.takeError();
  auto list = store.listDeliveries(current->name, kListedDeliveries);
  if (!list) return list.takeError();
  json::array out;
  for (const auto& d : *list) out.push_back(deliveryJson(d));
  return AdminReply{http::status::ok, json::object{{"events", std::move(out)}}};
}

Result<AdminReply> WebhookAdmin::webhook(const AdminCall& call) {
  meta::WebhookStore& store = dispatcher_.store();
  auto current = store.getWebhook(call.route.ref);
  if (!current) return current.takeError();
  if (call.method == http::verb::patch) {
    if (call.body.contains("name")) return invalidArgument("a webhook cannot be renamed");
    WebhookRecord w = *current;
    if (auto s = apply(w, call.body, false, replicator_); !s) return s.takeError();
    w.updated_at = call.now;
    if (auto s = store.updateWebhook(w); !s) return s.takeError();
    if (auto s = dispatcher_.reload(); !s) return s.takeError();
    auto updated = store.getWebhook(w.name);
    if (!updated) return updated.takeError();
    return AdminReply{http::status::ok, webhookJson(*updated)};
  }
  if (call.method == http::verb::delete_) {
    if (auto s = store.deleteWebhook(current->name); !s) return s.takeError();
    if (auto s = dispatcher_.reload(); !s) return s.takeError();
    return AdminReply{http::status::no_content, nullptr};
  }
  return AdminReply{http::status::ok, webhookJson(*current)};
}

}  // namespace berth::api
