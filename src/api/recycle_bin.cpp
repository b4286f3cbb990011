// /api/v1/recycle-bin (docs/recycle-bin.md): list the bin, restore an item, purge one
// now. The caller needs the owner role on "*", or push and delete on the item's
// repository (then a listing must name the repository).
#include <boost/json.hpp>
#include <charconv>

#include "api/api.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

constexpr std::string_view kBinPath = "/api/v1/recycle-bin";
constexpr size_t kDefaultPage = 100;
constexpr size_t kMaxPage = 1000;

json::object itemJson(const meta::RecycleItem& item) {
  json::object o;
  o["id"] = item.id;
  o["kind"] = meta::recycleKindName(item.kind);
  o["repository"] = item.repository;
  o["digest"] = item.digest.empty() ? json::value(nullptr) : json::value(item.digest);
  json::array tags;
  for (const auto& t : item.tags) tags.emplace_back(t);
  o["tags"] = std::move(tags);
  o["manifests"] = item.manifests;
  o["deletedOn"] = formatRfc3339(item.deleted_at);
  o["expiresOn"] = formatRfc3339(item.expires_at);
  return o;
}

Result<int64_t> parsePositive(std::string_view text, std::string_view what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v <= 0) {
    return invalidArgument(std::string(what) + " must be a positive integer");
  }
  return v;
}

Result<meta::RecycleQuery> listQuery(const QueryParams& q) {
  meta::RecycleQuery query;
  for (const auto& [key, value] : q) {
    if (key != "repository" && key != "kind" && key != "tag" && key != "digest" && key != "n" && key != "last") {
      return invalidArgument("unknown parameter " + quoteUntrusted(key, 40));
    }
  }
  query.repository = queryValue(q, "repository").value_or("");
  if (!query.repository.empty() && !oci::validateName(query.repository)) {
    return makeError(Code::kNameInvalid, "invalid repository name");
  }
  if (auto kind = queryValue(q, "kind")) {
    query.kind = meta::parseRecycleKind(*kind);
    if (!query.kind) return invalidArgument("kind must be manifest, tag or repository");
  }
  query.tag = queryValue(q, "tag").value_or("");
  query.digest = queryValue(q, "digest").value_or("");
  if (!query.digest.empty() && !oci::Digest::parse(query.digest)) return invalidArgument("digest is not a valid digest");
  query.limit = kDefaultPage;
  if (auto n = queryValue(q, "n")) {
    auto v = parsePositive(*n, "n");
    if (!v) return v.takeError();
    query.limit = std::min(static_cast<size_t>(*v), kMaxPage);
  }
  if (auto last = queryValue(q, "last")) {
    auto v = parsePositive(*last, "last");
    if (!v) return v.takeError();
    query.before_id = *v;
  }
  return query;
}

}  // namespace

bool Api::mayUseRecycleBin(const auth::Principal& who, std::string_view repository) const {
  const auth::Grants grants = access_->grants(who.subject(), unixNow());
  if (auth::isRegistryAdmin(grants)) return true;
  if (repository.empty()) return false;
  const auth::Permissions p = auth::effectivePermissions(grants, repository);
  return (p & auth::kPermPush) != 0 && (p & auth::kPermDelete) != 0;
}

Task<void> Api::recycleBin(Exchange& ex, std::string path, std::string raw_query, const auth::Principal& who) {
  if (recycle_bin_ == nullptr) co_return co_await ex.sendError(makeError(Code::kNotFound, "no such admin resource"));
  const auto method = ex.method();
  auto query = parseQuery(raw_query);
  if (!query) co_return co_await ex.sendError(query.error());
  std::string rest = path.substr(std::min(path.size(), kBinPath.size()));
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  lifecycle::RecycleBin& bin = *recycle_bin_;

  if (rest.empty()) {
    if (method != http::verb::get) co_return co_await ex.sendError(makeError(Code::kMethodNotAllowed, "use GET"));
    auto q = listQuery(*query);
    if (!q) co_return co_await ex.sendError(q.error());
    if (!mayUseRecycleBin(who, q->repository)) {
      co_return co_await ex.sendError(makeError(
          Code::kDenied, q->repository.empty()
                             ? "the whole recycle bin needs the owner role on '*'; name a repository= you may "
                               "push to and delete from"
                             : "the recycle bin of a repository needs push and delete on it"));
    }
    const meta::RecycleQuery list_query = *q;
    auto items = co_await ex.blocking([&] { return bin.store().list(list_query); });
    if (!items) co_return co_await ex.sendError(items.error());
    json::array out;
    for (const auto& item : *items) out.push_back(itemJson(item));
    json::object body;
    body["items"] = std::move(out);
    server::Response res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = json::serialize(body);
    co_return co_await ex.send(std::move(res));
  }

  // "/{id}" or "/{id}/restore"
  rest.erase(0, 1);
  const auto slash = rest.find('/');
  const std::string id_text = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  auto id = parsePositive(id_text, "the item id");
  if (!id) co_return co_await ex.sendError(makeError(Code::kNotFound, "no such item in the recycle bin"));
  const int64_t item_id = *id;
  if (action != "" && action != "restore") {
    co_return co_await ex.sendError(makeError(Code::kNotFound, "no such admin resource"));
  }
  auto item = co_await ex.blocking([&] { return bin.store().get(item_id); });
  if (!item) co_return co_await ex.sendError(item.error());
  if (!mayUseRecycleBin(who, item->repository)) {
    co_return co_await ex.sendError(
        makeError(Code::kDenied, "the recycle bin of a repository needs push and delete on it"));
  }
  server::Response res{http::status::ok, 11};
  res.set(http::field::cache_control, "no-store");
  if (action == "restore") {
    if (method != http::verb::post) co_return co_await ex.sendError(makeError(Code::kMethodNotAllowed, "use POST"));
    const std::optional<auth::Principal> caller = who;
    const events::RequestInfo request = requestInfo(ex, caller);
    auto restored = co_await ex.blocking([&] { return bin.restore(item_id, request); });
    if (!restored) co_return co_await ex.sendError(restored.error());
    json::object body = itemJson(restored->item);
    json::array manifests, tags;
    for (const auto& d : restored->manifests) manifests.emplace_back(d.str());
    for (const auto& t : restored->tags) tags.emplace_back(t);
    body["restoredManifests"] = std::move(manifests);
    body["restoredTags"] = std::move(tags);
    res.set(http::field::content_type, "application/json");
    res.body() = json::serialize(body);
    co_return co_await ex.send(std::move(res));
  }
  if (method == http::verb::get) {
    res.set(http::field::content_type, "application/json");
    res.body() = json::serialize(itemJson(*item));
    co_return co_await ex.send(std::move(res));
  }
  if (method == http::verb::delete_) {
    auto purged = co_await ex.blocking([&] { return bin.store().purge(item_id); });
    if (!purged) co_return co_await ex.sendError(purged.error());
    res.result(http::status::no_content);
    co_return co_await ex.send(std::move(res));
  }
  co_await ex.sendError(makeError(Code::kMethodNotAllowed, "use GET or DELETE"));
}

}  // namespace berth::api
