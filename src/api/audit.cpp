// The audit log from the API's side (docs/audit.md): what each request notes about
// itself, the one place it is recorded (Api::handle, after the response), and
// GET /api/v1/audit.
#include <boost/json.hpp>
#include <charconv>

#include "api/api.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

constexpr size_t kDefaultPage = 100;
constexpr size_t kMaxPage = 1000;
constexpr size_t kMaxField = 256;

// Sets `out` to untrusted text kept as printable ASCII ('?' for anything else), at most
// kMaxField bytes. In place: the note's strings keep their buffers from request to request.
void assignPrintable(std::string& out, std::string_view text) {
  out.assign(text.substr(0, kMaxField));
  for (char& c : out) {
    if (c < 0x20 || c >= 0x7f) c = '?';
  }
}

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

Result<int64_t> positiveInteger(std::string_view text, std::string_view name) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v <= 0) {
    return makeError(Code::kInvalidArgument, std::string(name) + " must be a positive integer");
  }
  return v;
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
  a.limit = kDefaultPage;
  if (auto v = queryValue(q, "n")) {
    auto n = positiveInteger(*v, "n");
    if (!n) return n.takeError();
    a.limit = std::min<size_t>(static_cast<size_t>(*n), kMaxPage);
  }
  if (auto v = queryValue(q, "last")) {
    auto last = positiveInteger(*v, "last");
    if (!last) return last.takeError();
    a.before_id = *last;
  }
  return page;
}

}  // namespace

void Api::noteRoute(Exchange& ex, const Route& route) const {
  server::AuditNote& note = ex.audit();
  meta::AuditRecord& e = note.entry;
  const auto m = ex.method();
  const bool read = m == http::verb::get || m == http::verb::head;
  switch (route.kind) {
    case RouteKind::kManifest:
      if (read) {
        e.action = "pull";
        note.failures_only = !audit_->options().pulls;
      } else if (m == http::verb::put) {
        e.action = "push";
      } else if (m == http::verb::delete_) {
        e.action = "delete";
      }
      break;
    case RouteKind::kBlob:
      // Blob reads are too many to audit one by one; the manifest pull stands for them.
      if (read) {
        e.action = "pull";
        note.failures_only = true;
      } else if (m == http::verb::delete_) {
        e.action = "delete";
      }
      break;
    case RouteKind::kUploadStart:
    case RouteKind::kUpload:
      e.action = "push";  // the manifest PUT is the push; uploads only when refused
      note.failures_only = true;
      break;
    case RouteKind::kTags:
    case RouteKind::kReferrers:
      e.action = "list";
      note.failures_only = true;
      break;
    case RouteKind::kCatalog:
    case RouteKind::kBase:
    case RouteKind::kMetrics:
      // Without credentials a 401 here is the usual challenge handshake, not an attempt.
      if (!ex.header(http::field::authorization).empty()) {
        e.action = route.kind == RouteKind::kCatalog ? "list" : "access";
        note.failures_only = true;
      }
      break;
    case RouteKind::kAcrCatalog:
      if (!ex.header(http::field::authorization).empty()) {
        e.action = "list";
        note.failures_only = true;
      }
      break;
    case RouteKind::kAcrRepository:
    case RouteKind::kAcrTags:
    case RouteKind::kAcrTag:
    case RouteKind::kAcrManifests:
    case RouteKind::kAcrManifest:
      // Metadata reads only when refused; attribute changes and deletes always.
      if (read) {
        e.action = "list";
        note.failures_only = true;
      } else if (m == http::verb::delete_) {
        e.action = "delete";
      } else {
        e.action = "update";
      }
      break;
    case RouteKind::kHealthz:
    case RouteKind::kReadyz:
      break;
  }
  if (e.action.empty()) return;
  e.repository = route.name;
  if (route.kind == RouteKind::kAcrTag) assignPrintable(e.tag, route.ref);
  if (route.kind == RouteKind::kAcrManifest) assignPrintable(e.digest, route.ref);
  if (route.kind == RouteKind::kManifest) {
    if (route.ref.find(':') != std::string::npos) {
      assignPrintable(e.digest, route.ref);
    } else {
      assignPrintable(e.tag, route.ref);
    }
  } else if (route.kind == RouteKind::kBlob) {
    assignPrintable(e.digest, route.ref);
  }
}

void Api::noteIdentity(Exchange& ex, const auth::TokenSubject& who) const {
  if (audit_ == nullptr || who.subject == auth::kAnonymousSubject) return;
  meta::AuditRecord& e = ex.audit().entry;
  e.identity = who.name;
  // Identities' kinds are looked up by the writer thread; OIDC subjects are no identity.
  if (who.subject.starts_with("oidc:")) e.identity_kind = "federated";
}

void Api::noteFailedLogin(Exchange& ex, std::string_view user) const {
  if (audit_ == nullptr) return;
  meta::AuditRecord& e = ex.audit().entry;
  e.action = "login";
  e.result = "failed";
  assignPrintable(e.identity, user);  // the name tried; never the password
  e.identity_kind.clear();
  ex.audit().failures_only = false;
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

Task<void> Api::auditQuery(Exchange& ex, const std::vector<std::string>& seg, const QueryParams& q) {
  if (seg.size() != 1) co_return co_await ex.sendError(makeError(Code::kNotFound, "no such admin resource"));
  if (ex.method() != http::verb::get) {
    co_return co_await ex.sendError(makeError(Code::kMethodNotAllowed, "use GET"));
  }
  if (audit_ == nullptr) {
    co_return co_await ex.sendError(makeError(Code::kNotFound, "the audit log is off (audit.enabled: false)"));
  }
  auto page = parsePage(q);
  if (!page) co_return co_await ex.sendError(page.error());
  meta::AuditQuery query = page->query;
  const size_t n = query.limit;
  query.limit = n + 1;
  auto found = co_await ex.blocking([&] { return audit_->list(query); });
  if (!found) co_return co_await ex.sendError(found.error());
  const bool more = found->size() > n;
  if (more) found->resize(n);
  json::array entries;
  for (const auto& r : *found) entries.push_back(events::auditJson(r));
  json::object body;
  body["entries"] = std::move(entries);
  server::Response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(body);
  if (more && !found->empty()) {
    res.set(http::field::link, "</api/v1/audit?last=" + std::to_string(found->back().id) + "&n=" +
                                   std::to_string(n) + page->link_filters + ">; rel=\"next\"");
  }
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
