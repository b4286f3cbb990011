// audit list: the audit log (docs/audit.md), newest first, with its filters.
#include <boost/json.hpp>
#include <chrono>
#include <charconv>

#include "cli/command_groups.h"
#include "cli/command_support.h"
#include "cli/encoding.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

constexpr size_t kMaxPage = 1000;  // the server's largest page

struct AuditListOptions {
  std::string identity;
  std::string repository;
  std::string action;
  std::string result;
  std::string since;
  std::string until;
  size_t top = 100;
};

// An RFC 3339 time as given, or a duration back from now ("90s", "15m", "2h", "7d").
Result<std::string> timeArgument(const std::string& text, const std::string& flag) {
  if (text.size() >= 2) {
    const char unit = text.back();
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (ec == std::errc() && p == text.data() + text.size() - 1 && n >= 0) {
      int64_t seconds = -1;
      if (unit == 's') seconds = n;
      if (unit == 'm') seconds = n * 60;
      if (unit == 'h') seconds = n * 3600;
      if (unit == 'd') seconds = n * 86400;
      if (seconds >= 0) return formatRfc3339(std::chrono::system_clock::now() - std::chrono::seconds(seconds));
    }
  }
  if (text.find('T') == std::string::npos) {
    return makeError(Code::kInvalidArgument,
                     flag + " takes an RFC 3339 time (2026-12-31T00:00:00Z) or a duration ago (30m, 2h, 7d)");
  }
  return text;  // the server validates it
}

Result<json::value> listAudit(const AdminClient& client, const AuditListOptions& o) {
  std::string filters;
  for (auto [name, value] : {std::pair{"identity", &o.identity}, std::pair{"repository", &o.repository},
                             std::pair{"action", &o.action}, std::pair{"result", &o.result}}) {
    if (!value->empty()) filters += std::string("&") + name + "=" + percentEncode(*value);
  }
  for (auto [name, value] : {std::pair{"since", &o.since}, std::pair{"until", &o.until}}) {
    if (value->empty()) continue;
    auto t = timeArgument(*value, std::string("--") + name);
    if (!t) return t.takeError();
    filters += std::string("&") + name + "=" + percentEncode(*t);
  }
  // Pages of up to kMaxPage, each after the last entry of the one before.
  json::array entries;
  int64_t last = 0;
  while (entries.size() < o.top) {
    const size_t n = std::min(kMaxPage, o.top - entries.size());
    std::string path = "/api/v1/audit?n=" + std::to_string(n) + filters;
    if (last != 0) path += "&last=" + std::to_string(last);
    auto page = client.call("GET", path);
    if (!page) return page.takeError();
    const json::value* got = page->is_object() ? page->get_object().if_contains("entries") : nullptr;
    if (got == nullptr || !got->is_array()) return makeError(Code::kCorrupt, "the answer has no entries list");
    for (const auto& e : got->get_array()) entries.push_back(e);
    if (got->get_array().size() < n || got->get_array().empty()) break;
    const json::value* id = got->get_array().back().is_object()
                                ? got->get_array().back().get_object().if_contains("id")
                                : nullptr;
    if (id == nullptr || !id->is_int64()) break;
    last = id->get_int64();
  }
  json::object out;
  out["entries"] = std::move(entries);
  return json::value(std::move(out));
}

}  // namespace

void addAuditCommands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("audit", "Read the audit log: logins, pushes, pulls, deletes, changes, denials");
  group->require_subcommand(1);
  auto o = std::make_shared<AuditListOptions>();
  auto* list = group->add_subcommand("list", "List audit entries, newest first");
  list->add_option("--identity", o->identity, "Only this identity (user, service principal, token) name");
  list->add_option("--repository", o->repository, "Only this repository");
  list->add_option("--action", o->action, "Only this action: login, pull, push, delete, config, list, access");
  list->add_option("--result", o->result, "Only this result")->check(CLI::IsMember({"success", "denied", "failed"}));
  list->add_option("--since", o->since, "From this time: RFC 3339, or a duration ago (30m, 2h, 7d)");
  list->add_option("--until", o->until, "Before this time: RFC 3339, or a duration ago");
  list->add_option("--top", o->top, "At most this many entries (default 100)")->check(CLI::PositiveNumber);
  defineAdminCommand(list, exit_code, [o](const AdminClient& client) { return listAudit(client, *o); });
}

}  // namespace berth::cli
