// The audit log from the API's side (docs/audit.md): what each request notes about
// itself, the one place it is recorded (Api::handle, after the response), and
// GET /api/v1/audit.
#include <boost/json.hpp>
#include <charconv>

#include "api/api.h"
#include "api/paging.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

constexpr size_t kMaxField = 256;

// Query values in a Link URL: everything but RFC 3986 unreserved characters encoded.
std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<int64_t> timeParam(const QueryParams& q, std::string_view name) {
  auto v = queryValue(q, name);
  if (!v) return int64_t{0};
  auto t = parseRfc3339(*v);
  if (!t) {
    return makeError(Code::kInvalidArgument,
                     std::string(name) + " must be an RFC 3339 time like 2026-12-31T00:00:00Z");
  }
  return *t * 1000000;
}

struct Page {
  meta::AuditQuery query;
  std::string link_filters;  // "&identity=..." for the next page's Link
};

Result<Page> parsePage(const QueryParams& q) {
  Page page;
  meta::AuditQuery& a = page.query;
  for (auto [name, field] : {std::pair{"identity", &a.identity}, std::pair{"repository", &a.repository},
                             std::pair{"action", &a.action}, std::pair{"result", &a.result}}) {
    if (auto v = queryValue(q, name); v && !v->empty()) {
      *field = *v;
      page.link_filters += std::string("&") + name + "=" + percentEncode(*v);
    }
  }
  if (!a.result.empty() && a.result != "success" && a.result != "denied" && a.result != "failed") {
    return makeError(Code::kInvalidArgument, "result must be success, denied or failed");
  }
  auto since = timeParam(q, "since");
  if (!since) return since.takeError();
  auto until = timeParam(q, "until");
  if (!until) return until.takeError();
  a.since_us = *since;
  a.until_us = *until;
  for (auto name : {"since", "until"}) {
    if (auto v = queryValue(q, name)) page.link_filters += std::string("&") + name + "=" + percentEncode(*v);
  }
  auto n = pageSize(q, kApiPages);
  if (!n) return n.takeError();
  a.limit = *n;
  if (auto v = queryValue(q, "last")) {
    auto last = positiveInteger(*v, "last");
    if (!last) return last.takeError();
    a.before_id = *last;
  }
  return page;
}

}  // namespace

void assignPrintable(std::string& out, std::string_view text) {
  out.assign(text.substr(0, kMaxField));
  for (char& c : out) {
    if (c < 0x20 || c >= 0x7f) c = '?';
  }
}

void Api::noteRoute(Exchange& ex, const Route& route, const RouteRow& row, std::string_view path) const {
  const std::string_view method = http::to_string(ex.method());
  const AuditRule& rule = row.audit.of(method);
  if (rule.action.empty()) return;
  if ((rule.flags & kAuditWithCredentials) && ex.header(http::field::authorization).empty()) return;
  server::AuditNote& note = ex.audit();
  meta::AuditRecord& e = note.entry;
  e.action = rule.action;
  note.failures_only = (rule.flags & kAuditFailuresOnly) ||
                       ((rule.flags & kAuditPullsOption) && !audit_->options().pulls);
  if (rule.flags & kAuditPathMessage) e.message = std::string(path.substr(0, 200));
  if (!rule.message.empty()) e.message = rule.message;
  e.repository.assign(route.name);
  switch (route.kind) {
    case RouteKind::kManifest:
      assignPrintable(route.ref.find(':') != std::string::npos ? e.digest : e.tag, route.ref);
      break;
    case RouteKind::kBlob:
    case RouteKind::kAcrManifest:
    case RouteKind::kAcrDeletedManifest:
      assignPrintable(e.digest, route.ref);
      break;
    case RouteKind::kAcrTag:
      assignPrintable(e.tag, route.ref);
      break;
    default:
      break;
  }
}

void Api::recordAudit(Exchange& ex) const {
  server::AuditNote& note = ex.audit();
  meta::AuditRecord& e = note.entry;
  const unsigned status = ex.status();
  if (e.action.empty() || status == 0) return;
  if (e.result.empty()) {
    e.result = status < 400 ? "success" : (status == 401 || status == 403) ? "denied" : "failed";
  }
  if (note.failures_only && status < 400) return;
  e.status = status;
  e.client = ex.clientAddress();
  const auto method = http::to_string(ex.method());
  e.method.assign(method.data(), method.size());
  audit_->record(e);  // copied only if it is not a repeat of a queued entry
  e.action.clear();
}

Result<AdminReply> AuditAdmin::query(const AdminCall& call) {
  if (audit_ == nullptr) return makeError(Code::kNotFound, "the audit log is off (audit.enabled: false)");
  auto page = parsePage(call.query);
  if (!page) return page.takeError();
  meta::AuditQuery query = page->query;
  const size_t n = query.limit;
  query.limit = n + 1;
  auto found = audit_->list(query);
  if (!found) return found.takeError();
  const bool more = found->size() > n;
  if (more) found->resize(n);
  json::array entries;
  for (const auto& r : *found) entries.push_back(events::auditJson(r));
  AdminReply reply{http::status::ok, json::object{{"entries", std::move(entries)}}};
  if (more && !found->empty()) {
    reply.link = nextLink("/api/v1/audit", std::to_string(found->back().id), n, page->link_filters);
  }
  return reply;
}

}  // namespace berth::api
