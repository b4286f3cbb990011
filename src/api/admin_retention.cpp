#include "api/admin_retention.h"

#include "common/log.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

Error bad(std::string message) { return makeError(Code::kInvalidArgument, std::move(message)); }

Status onlyFields(const json::object& body, std::initializer_list<std::string_view> keys) {
  for (const auto& kv : body) {
    if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) {
      return bad("unknown field " + quoteUntrusted(kv.key(), 40));
    }
  }
  return okStatus();
}

Result<bool> boolField(const json::object& body, std::string_view key, bool fallback) {
  const auto* v = body.if_contains(key);
  if (v == nullptr) return fallback;
  if (!v->is_bool()) return bad(std::string(key) + " must be true or false");
  return v->get_bool();
}

// A non-negative integer; nullopt when absent or null.
Result<std::optional<uint64_t>> countField(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<uint64_t>();
  if (v->is_uint64()) return std::optional<uint64_t>(v->get_uint64());
  if (v->is_int64() && v->get_int64() >= 0) return std::optional<uint64_t>(static_cast<uint64_t>(v->get_int64()));
  return bad(std::string(key) + " must be a non-negative integer");
}

// A duration ("30d", "1h15m", "90s" or seconds as a number); nullopt when absent or null.
Result<std::optional<int64_t>> durationField(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  std::optional<int64_t> seconds;
  if (v->is_string()) seconds = parseDuration(std::string_view(v->get_string()));
  else if (v->is_uint64()) seconds = parseDuration(std::to_string(v->get_uint64()));
  else if (v->is_int64() && v->get_int64() >= 0) seconds = parseDuration(std::to_string(v->get_int64()));
  if (!seconds) return bad(std::string(key) + " must be a duration such as 30d, 1h15m or 90s");
  return seconds;
}

Result<std::string> stringField(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return bad(std::string(key) + " must be a string");
  return std::string(v->get_string());
}

Result<AdminReply> purge(lifecycle::Retention& retention, const json::object& body,
                         const events::RequestInfo& request) {
  if (auto s = onlyFields(body, {"filters", "ago", "untagged", "keep", "dryRun", "includeLocked"}); !s) {
    return s.takeError();
  }
  lifecycle::PurgeRequest req;
  const auto* filters = body.if_contains("filters");
  if (filters == nullptr || !filters->is_array() || filters->get_array().empty()) {
    return bad("filters must be a non-empty array of \"<repository regex>:<tag regex>\"");
  }
  for (const auto& f : filters->get_array()) {
    if (!f.is_string()) return bad("filters must be strings \"<repository regex>:<tag regex>\"");
    auto parsed = lifecycle::parsePurgeFilter(std::string_view(f.get_string()));
    if (!parsed) return parsed.takeError();
    req.filters.push_back(std::move(*parsed));
  }
  auto ago = durationField(body, "ago");
  if (!ago) return ago.takeError();
  if (!*ago) return bad("ago is required (a duration such as 30d, 1h15m or 90s)");
  req.ago = **ago;
  auto keep = countField(body, "keep");
  if (!keep) return keep.takeError();
  req.keep = keep->value_or(0);
  auto untagged = boolField(body, "untagged", false);
  auto dry_run = boolField(body, "dryRun", false);
  auto include_locked = boolField(body, "includeLocked", false);
  for (auto* r : {&untagged, &dry_run, &include_locked}) {
    if (!*r) return r->takeError();
  }
  req.untagged = *untagged;
  req.dry_run = *dry_run;
  req.include_locked = *include_locked;
  auto report = retention.purge(req, request);
  if (!report) return report.takeError();
  return AdminReply{http::status::ok, lifecycle::retentionReportJson(*report)};
}

Result<meta::RetentionPolicy> policyOf(std::string name, const json::object& body) {
  if (auto s = onlyFields(body, {"repositories", "keepLast", "removeNotPulledFor", "removeUntaggedAfter",
                                 "keepTags", "enabled"});
      !s) {
    return s.takeError();
  }
  meta::RetentionPolicy p;
  p.name = std::move(name);
  auto repositories = stringField(body, "repositories");
  if (!repositories) return repositories.takeError();
  p.repositories = std::move(*repositories);
  auto keep_tags = stringField(body, "keepTags");
  if (!keep_tags) return keep_tags.takeError();
  p.keep_tags = std::move(*keep_tags);
  auto keep_last = countField(body, "keepLast");
  if (!keep_last) return keep_last.takeError();
  p.keep_last = *keep_last;
  auto not_pulled = durationField(body, "removeNotPulledFor");
  if (!not_pulled) return not_pulled.takeError();
  p.not_pulled_for = *not_pulled;
  auto untagged = durationField(body, "removeUntaggedAfter");
  if (!untagged) return untagged.takeError();
  p.untagged_after = *untagged;
  auto enabled = boolField(body, "enabled", true);
  if (!enabled) return enabled.takeError();
  p.enabled = *enabled;
  if (auto s = lifecycle::validatePolicy(p); !s) return s.takeError();
  return p;
}

Result<AdminReply> policies(lifecycle::Retention& retention, http::verb method, const std::vector<std::string>& seg,
                            const json::object& body) {
  auto& store = retention.store();
  if (seg.size() == 2) {
    if (method != http::verb::get) return makeError(Code::kMethodNotAllowed, "use GET");
    auto all = store.listPolicies();
    if (!all) return all.takeError();
    json::array out;
    for (const auto& p : *all) out.push_back(lifecycle::retentionPolicyJson(p));
    return AdminReply{http::status::ok, json::object{{"policies", std::move(out)}}};
  }
  if (seg.size() != 3) return makeError(Code::kNotFound, "no such admin resource");
  const std::string& name = seg[2];
  if (method == http::verb::get) {
    auto p = store.getPolicy(name);
    if (!p) return p.takeError();
    return AdminReply{http::status::ok, lifecycle::retentionPolicyJson(*p)};
  }
  if (method == http::verb::put) {
    auto p = policyOf(name, body);
    if (!p) return p.takeError();
    bool created = false;
    auto stored = store.putPolicy(*p, &created);
    if (!stored) return stored.takeError();
    log::info("retention policy set", {{"policy", name}, {"repositories", stored->repositories}});
    return AdminReply{created ? http::status::created : http::status::ok, lifecycle::retentionPolicyJson(*stored)};
  }
  if (method == http::verb::delete_) {
    if (auto s = store.deletePolicy(name); !s) return s.takeError();
    log::info("retention policy deleted", {{"policy", name}});
    return AdminReply{http::status::no_content, nullptr};
  }
  return makeError(Code::kMethodNotAllowed, "use GET, PUT or DELETE");
}

Result<AdminReply> run(lifecycle::Retention& retention, http::verb method, const json::object& body,
                       const events::RequestInfo& request) {
  if (method == http::verb::get) {
    auto last = retention.lastPolicyRun();
    return AdminReply{http::status::ok,
                      json::object{{"last", last ? json::value(lifecycle::retentionReportJson(*last))
                                                 : json::value(nullptr)}}};
  }
  if (method != http::verb::post) return makeError(Code::kMethodNotAllowed, "use GET or POST");
  if (auto s = onlyFields(body, {"dryRun", "policy"}); !s) return s.takeError();
  auto dry_run = boolField(body, "dryRun", false);
  if (!dry_run) return dry_run.takeError();
  auto policy = stringField(body, "policy");
  if (!policy) return policy.takeError();
  auto report = retention.runPolicies(*dry_run, *policy, request);
  if (!report) return report.takeError();
  return AdminReply{http::status::ok, lifecycle::retentionReportJson(*report)};
}

}  // namespace

Result<AdminReply> retentionAdmin(lifecycle::Retention& retention, http::verb method,
                                  const std::vector<std::string>& seg, const json::object& body,
                                  const events::RequestInfo& request) {
  if (seg[0] == "purge") {
    if (seg.size() != 1) return makeError(Code::kNotFound, "no such admin resource");
    if (method != http::verb::post) return makeError(Code::kMethodNotAllowed, "use POST");
    return purge(retention, body, request);
  }
  if (seg.size() >= 2 && seg[1] == "policies") return policies(retention, method, seg, body);
  if (seg.size() == 2 && seg[1] == "run") return run(retention, method, body, request);
  return makeError(Code::kNotFound, "no such admin resource");
}

}  // namespace berth::api
