// /api/v1/gc (docs/gc.md), /api/v1/purge and /api/v1/retention (docs/retention.md). A
// purge or a collection blocks until it is done (on the blocking pool).
#include "api/handlers.h"

#include "api/admin_fields.h"
#include "common/log.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

Result<lifecycle::PurgeRequest> purgeRequest(const json::object& body) {
  const Fields f(body);
  if (auto s = f.only({"filters", "ago", "untagged", "keep", "dryRun", "includeLocked"}); !s) return s.takeError();
  lifecycle::PurgeRequest req;
  const auto* filters = body.if_contains("filters");
  if (filters == nullptr || !filters->is_array() || filters->get_array().empty()) {
    return invalidArgument("filters must be a non-empty array of \"<repository regex>:<tag regex>\"");
  }
  for (const auto& filter : filters->get_array()) {
    if (!filter.is_string()) return invalidArgument("filters must be strings \"<repository regex>:<tag regex>\"");
    auto parsed = lifecycle::parsePurgeFilter(std::string_view(filter.get_string()));
    if (!parsed) return parsed.takeError();
    req.filters.push_back(std::move(*parsed));
  }
  auto ago = f.duration("ago");
  if (!ago) return ago.takeError();
  if (!*ago) return invalidArgument("ago is required (a duration such as 30d, 1h15m or 90s)");
  req.ago = **ago;
  auto keep = f.count("keep");
  if (!keep) return keep.takeError();
  req.keep = keep->value_or(0);
  auto untagged = f.boolean("untagged");
  auto dry_run = f.boolean("dryRun");
  auto include_locked = f.boolean("includeLocked");
  for (auto* r : {&untagged, &dry_run, &include_locked}) {
    if (!*r) return r->takeError();
  }
  req.untagged = untagged->value_or(false);
  req.dry_run = dry_run->value_or(false);
  req.include_locked = include_locked->value_or(false);
  return req;
}

Result<meta::RetentionPolicy> policyOf(std::string name, const json::object& body) {
  const Fields f(body);
  if (auto s = f.only({"repositories", "keepLast", "removeNotPulledFor", "removeUntaggedAfter", "keepTags", "enabled"});
      !s) {
    return s.takeError();
  }
  meta::RetentionPolicy p;
  p.name = std::move(name);
  auto repositories = f.str("repositories");
  if (!repositories) return repositories.takeError();
  p.repositories = repositories->value_or("");
  auto keep_tags = f.str("keepTags");
  if (!keep_tags) return keep_tags.takeError();
  p.keep_tags = keep_tags->value_or("");
  auto keep_last = f.count("keepLast");
  if (!keep_last) return keep_last.takeError();
  p.keep_last = *keep_last;
  auto not_pulled = f.duration("removeNotPulledFor");
  if (!not_pulled) return not_pulled.takeError();
  p.not_pulled_for = *not_pulled;
  auto untagged = f.duration("removeUntaggedAfter");
  if (!untagged) return untagged.takeError();
  p.untagged_after = *untagged;
  auto enabled = f.boolean("enabled");
  if (!enabled) return enabled.takeError();
  p.enabled = enabled->value_or(true);
  if (auto s = lifecycle::validatePolicy(p); !s) return s.takeError();
  return p;
}

}  // namespace

Result<AdminReply> LifecycleAdmin::gc(const AdminCall& call) {
  if (call.method == http::verb::get) {
    json::object answer;
    answer["running"] = gc_.running();
    auto last = gc_.lastReport();
    answer["last"] = last ? json::value(registry::gcReportJson(*last)) : json::value(nullptr);
    return AdminReply{http::status::ok, std::move(answer)};
  }
  const Fields f(call.body);
  if (auto s = f.only({"dryRun"}); !s) return s.takeError();
  auto dry = f.boolean("dryRun");
  if (!dry) return dry.takeError();
  auto report = gc_.run(dry->value_or(false));
  if (!report) return report.takeError();
  return AdminReply{http::status::ok, registry::gcReportJson(*report)};
}

Result<AdminReply> LifecycleAdmin::purge(const AdminCall& call) {
  auto req = purgeRequest(call.body);
  if (!req) return req.takeError();
  auto report = retention_.purge(*req, call.request);
  if (!report) return report.takeError();
  return AdminReply{http::status::ok, lifecycle::retentionReportJson(*report)};
}

Result<AdminReply> LifecycleAdmin::policies(const AdminCall&) {
  auto all = retention_.store().listPolicies();
  if (!all) return all.takeError();
  json::array out;
  for (const auto& p : *all) out.push_back(lifecycle::retentionPolicyJson(p));
  return AdminReply{http::status::ok, json::object{{"policies", std::move(out)}}};
}

Result<AdminReply> LifecycleAdmin::policy(const AdminCall& call) {
  auto& store = retention_.store();
  const std::string& name = call.route.ref;
  if (call.method == http::verb::put) {
    auto p = policyOf(name, call.body);
    if (!p) return p.takeError();
    bool created = false;
    auto stored = store.putPolicy(*p, &created);
    if (!stored) return stored.takeError();
    log::info("retention policy set", {{"policy", name}, {"repositories", stored->repositories}});
    return AdminReply{created ? http::status::created : http::status::ok, lifecycle::retentionPolicyJson(*stored)};
  }
  if (call.method == http::verb::delete_) {
    if (auto s = store.deletePolicy(name); !s) return s.takeError();
    log::info("retention policy deleted", {{"policy", name}});
    return AdminReply{http::status::no_content, nullptr};
  }
  auto p = store.getPolicy(name);
  if (!p) return p.takeError();
  return AdminReply{http::status::ok, lifecycle::retentionPolicyJson(*p)};
}

Result<AdminReply> LifecycleAdmin::run(const AdminCall& call) {
  if (call.method == http::verb::get) {
    auto last = retention_.lastPolicyRun();
    return AdminReply{http::status::ok,
                      json::object{{"last", last ? json::value(lifecycle::retentionReportJson(*last))
                                                 : json::value(nullptr)}}};
  }
  const Fields f(call.body);
  if (auto s = f.only({"dryRun", "policy"}); !s) return s.takeError();
  auto dry_run = f.boolean("dryRun");
  if (!dry_run) return dry_run.takeError();
  auto policy = f.str("policy");
  if (!policy) return policy.takeError();
  auto report = retention_.runPolicies(dry_run->value_or(false), policy->value_or(""), call.request);
  if (!report) return report.takeError();
  return AdminReply{http::status::ok, lifecycle::retentionReportJson(*report)};
}

}  // namespace berth::api
