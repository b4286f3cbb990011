// /api/v1/recycle-bin (docs/recycle-bin.md): list the bin, restore an item, purge one
// now. The caller needs the owner role on "*", or push and delete on the item's
// repository (then a listing must name the repository).
#include <boost/json.hpp>
#include <charconv>

#include "api/handlers.h"
#include "api/paging.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {


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
  auto n = pageSize(q, kApiPages);
  if (!n) return n.takeError();
  query.limit = *n;
  if (auto last = queryValue(q, "last")) {
    auto v = positiveInteger(*last, "last");
    if (!v) return v.takeError();
    query.before_id = *v;
  }
  return query;
}

// The item an item route names; an id that is no positive integer names nothing.
Result<meta::RecycleItem> itemNamed(lifecycle::RecycleBin& bin, const std::string& id) {
  auto n = positiveInteger(id, "the item id");
  if (!n) return makeError(Code::kNotFound, "no such item in the recycle bin");
  return bin.store().get(*n);
}

constexpr std::string_view kRepositoryBinDenied = "the recycle bin of a repository needs push and delete on it";

}  // namespace

bool RepositoryAdmin::mayUseRecycleBin(const auth::Principal& who, std::string_view repository, int64_t now) const {
  const auth::Grants grants = access_.effectiveGrants(who, now);
  if (auth::isRegistryAdmin(grants)) return true;
  if (repository.empty()) return false;
  const auth::Permissions p = auth::effectivePermissions(grants, repository);
  return (p & auth::kPermPush) != 0 && (p & auth::kPermDelete) != 0;
}

Result<AdminReply> RepositoryAdmin::recycleBin(const AdminCall& call) {
  auto q = listQuery(call.query);
  if (!q) return q.takeError();
  if (!mayUseRecycleBin(call.who, q->repository, call.now)) {
    return makeError(Code::kDenied, q->repository.empty()
                                        ? "the whole recycle bin needs the owner role on '*'; name a repository= you "
                                          "may push to and delete from"
                                        : std::string(kRepositoryBinDenied));
  }
  auto items = bin_.store().list(*q);
  if (!items) return items.takeError();
  json::array out;
  for (const auto& item : *items) out.push_back(itemJson(item));
  return AdminReply{http::status::ok, json::object{{"items", std::move(out)}}};
}

Result<AdminReply> RepositoryAdmin::recycleItem(const AdminCall& call) {
  auto item = itemNamed(bin_, call.route.ref);
  if (!item) return item.takeError();
  if (!mayUseRecycleBin(call.who, item->repository, call.now)) {
    return makeError(Code::kDenied, std::string(kRepositoryBinDenied));
  }
  if (call.method == http::verb::delete_) {
    if (auto s = bin_.store().purge(item->id); !s) return s.takeError();
    return AdminReply{http::status::no_content, nullptr};
  }
  return AdminReply{http::status::ok, itemJson(*item)};
}

Result<AdminReply> RepositoryAdmin::restore(const AdminCall& call) {
  auto item = itemNamed(bin_, call.route.ref);
  if (!item) return item.takeError();
  if (!mayUseRecycleBin(call.who, item->repository, call.now)) {
    return makeError(Code::kDenied, std::string(kRepositoryBinDenied));
  }
  auto restored = bin_.restore(item->id, call.request);
  if (!restored) return restored.takeError();
  json::object body = itemJson(restored->item);
  json::array manifests, tags;
  for (const auto& d : restored->manifests) manifests.emplace_back(d.str());
  for (const auto& t : restored->tags) tags.emplace_back(t);
  body["restoredManifests"] = std::move(manifests);
  body["restoredTags"] = std::move(tags);
  return AdminReply{http::status::ok, std::move(body)};
}

}  // namespace berth::api
