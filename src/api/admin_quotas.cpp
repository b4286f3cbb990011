#include "api/handlers.h"

#include "api/admin_fields.h"
#include "auth/policy.h"
#include "common/log.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

json::object quotaJson(const meta::QuotaRecord& q) {
  json::object o;
  o["pattern"] = q.pattern;
  o["limitBytes"] = q.limit_bytes;
  o["usedBytes"] = q.used_bytes;
  o["createdOn"] = formatRfc3339(q.created_at);
  o["lastUpdatedOn"] = formatRfc3339(q.updated_at);
  return o;
}

// {"limitBytes": <non-negative integer>} and nothing else.
Result<uint64_t> limitOf(const json::object& body) {
  const Fields f(body);
  if (auto s = f.only({"limitBytes"}); !s) return s.takeError();
  auto limit = f.count("limitBytes");
  if (!limit) return limit.takeError();
  if (!*limit) return invalidArgument("limitBytes is required");
  return **limit;
}

}  // namespace

Result<AdminReply> QuotaAdmin::quotas(const AdminCall&) {
  auto all = store_.listQuotas();
  if (!all) return all.takeError();
  json::array out;
  for (const auto& q : *all) out.push_back(quotaJson(q));
  return AdminReply{http::status::ok, json::object{{"quotas", std::move(out)}}};
}

// The pattern is the rest of the path: one percent-encoded segment ("team-a%2F*") or the
// plain segments ("team-a/*").
Result<AdminReply> QuotaAdmin::quota(const AdminCall& call) {
  const std::string& pattern = call.route.ref;
  if (auto s = auth::validatePattern(pattern); !s) {
    return invalidArgument("quota pattern " + quoteUntrusted(pattern, 80) + " must be a repository name, <namespace>/* or *");
  }
  if (call.method == http::verb::put) {
    auto limit = limitOf(call.body);
    if (!limit) return limit.takeError();
    bool created = false;
    auto q = store_.setQuota(pattern, *limit, &created);
    if (!q) return q.takeError();
    log::info("quota set", {{"pattern", pattern}, {"limit_bytes", *limit}, {"used_bytes", q->used_bytes}});
    return AdminReply{created ? http::status::created : http::status::ok, quotaJson(*q)};
  }
  if (call.method == http::verb::delete_) {
    if (auto s = store_.deleteQuota(pattern); !s) return s.takeError();
    log::info("quota deleted", {{"pattern", pattern}});
    return AdminReply{http::status::no_content, nullptr};
  }
  auto q = store_.getQuota(pattern);
  if (!q) return q.takeError();
  return AdminReply{http::status::ok, quotaJson(*q)};
}

}  // namespace berth::api
