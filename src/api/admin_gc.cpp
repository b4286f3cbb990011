// /api/v1/gc (docs/gc.md): run garbage collection now (POST {"dryRun": bool}) or show the
// last run (GET). Routed from Api::admin after the owner-role check.
#include <boost/json.hpp>

#include "api/admin_fields.h"
#include "api/api.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

Task<void> Api::gc(Exchange& ex, const std::vector<std::string>& seg, const json::object& body) {
  if (seg.size() != 1) co_return co_await ex.sendError(makeError(Code::kNotFound, "no such admin resource"));
  const auto method = ex.method();
  json::object answer;
  if (method == http::verb::get) {
    answer["running"] = gc_->running();
    auto last = gc_->lastReport();
    answer["last"] = last ? json::value(registry::gcReportJson(*last)) : json::value(nullptr);
  } else if (method == http::verb::post) {
    const Fields f(body);
    if (auto s = f.only({"dryRun"}); !s) co_return co_await ex.sendError(s.error());
    auto dry = f.boolean("dryRun");
    if (!dry) co_return co_await ex.sendError(dry.error());
    const bool dry_run = dry->value_or(false);
    registry::GarbageCollector* collector = gc_;
    auto report = co_await ex.blocking([collector, dry_run] { return collector->run(dry_run); });
    if (!report) co_return co_await ex.sendError(report.error());
    answer = registry::gcReportJson(*report);
  } else {
    co_return co_await ex.sendError(makeError(Code::kMethodNotAllowed, "use GET or POST"));
  }
  server::Response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(answer);
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
