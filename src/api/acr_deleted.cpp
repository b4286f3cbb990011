// ACR's soft-delete routes under /acr/v1/_deleted (docs/metadata-api.md, "Deleted items")
// over the recycle bin (docs/recycle-bin.md): the repositories with deleted items, a
// repository's deleted manifests and tags, and the restore of a manifest, as
// `az acr repository list-deleted`, `az acr manifest list-deleted`, `list-deleted-tags`
// and `restore` call them. ACR's data-plane REST specification has no such routes; names
// and shapes are the ones az acr sends and reads (createdAt, deletedAt, digest, tag; the
// restore is a POST with {"tag": ...} and ?force=). A restore is RecycleBin::restore, so
// locks, quotas and tag conflicts hold as for /api/v1/recycle-bin.
#include <boost/json.hpp>
#include <charconv>

#include "api/handlers.h"
#include "api/paging.h"
#include "auth/encoding.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

constexpr size_t kMaxRestoreBody = 64 * 1024;
// Between the key and the item id in a `last` cursor: neither tags nor digests hold it.
constexpr char kCursorMark = '~';

// `n` and `last` of a listing of deleted manifests or tags: `last` is "<key>" (the page
// after every entry of that digest or tag) or "<key>~<item>" as the Link header gives it.
struct DeletedPage {
  size_t n = kApiPages.default_n;
  meta::RecycledCursor after;
};

Result<DeletedPage> deletedPage(const QueryParams& q) {
  DeletedPage page;
  auto n = pageSize(q, kApiPages);
  if (!n) return n.takeError();
  page.n = *n;
  if (auto order = queryValue(q, "orderby"); order && !order->empty()) {
    return invalidArgument("orderby is not supported on deleted items: they are listed by name, then oldest deletion first");
  }
  page.after.key = queryValue(q, "last").value_or("");
  const auto mark = page.after.key.rfind(kCursorMark);
  if (mark == std::string::npos) return page;
  const std::string_view id = std::string_view(page.after.key).substr(mark + 1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (id.empty() || ec != std::errc() || p != id.data() + id.size() || v <= 0) {
    return invalidArgument("last must be a digest or tag, optionally with ~<n> as the Link header gives it");
  }
  page.after.item_id = v;
  page.after.key.resize(mark);
  return page;
}

std::string cursorOf(const meta::RecycledManifest& m) { return m.digest + kCursorMark + std::to_string(m.item_id); }
std::string cursorOf(const meta::RecycledTag& t) { return t.name + kCursorMark + std::to_string(t.item_id); }

json::object itemJson(const meta::RecycledManifest& m) {
  json::object o;
  o["digest"] = m.digest;
  o["mediaType"] = m.media_type;
  o["createdAt"] = formatRfc3339(m.created_at);
  o["deletedAt"] = formatRfc3339(m.deleted_at);
  json::array tags;
  for (const auto& t : m.tags) tags.emplace_back(t);
  o["tags"] = std::move(tags);
  return o;
}

json::object itemJson(const meta::RecycledTag& t) {
  json::object o;
  o["tag"] = t.name;
  o["digest"] = t.digest;
  o["createdAt"] = formatRfc3339(t.created_at);
  o["deletedAt"] = formatRfc3339(t.deleted_at);
  return o;
}

json::object itemJson(const meta::RecycledRepository& r) {
  json::object o;
  o["repository"] = r.name;
  o["createdAt"] = formatRfc3339(r.created_at);
  o["deletedAt"] = formatRfc3339(r.deleted_at);
  return o;
}

// {registry, imageName, <key>: [...]} of up to `n` items (one more was asked for: then a
// Link to the page after the last one shown).
template <class Item>
server::Response listingReply(const std::string& registry, const std::string& name, const char* key,
                              std::vector<Item> items, size_t n, const std::string& path) {
  const bool more = items.size() > n;
  if (more) items.resize(n);
  json::array list;
  for (const auto& i : items) list.push_back(itemJson(i));
  json::object o;
  o["registry"] = registry;
  o["imageName"] = name;
  o[key] = std::move(list);
  auto res = acrJson(http::status::ok, o);
  if (more) {
    res.set(http::field::link,
            "<" + path + "?last=" + cursorOf(items.back()) + "&n=" + std::to_string(n) + ">; rel=\"next\"");
  }
  return res;
}

// The restore's body as az acr sends it: {"tag": "<tag>"}; a null or missing tag, or no
// body, restores by digest alone. Other fields are ignored.
Result<std::string> restoreTag(std::string_view text) {
  if (text.empty()) return std::string();
  auto body = auth::parseJsonObject(text);
  if (!body) return invalidArgument("the body must be a JSON object");
  const auto* tag = body->if_contains("tag");
  if (tag == nullptr || tag->is_null()) return std::string();
  if (!tag->is_string()) return invalidArgument("tag must be a string");
  std::string out(tag->get_string());
  if (auto s = oci::validateTag(out); !s) return s.takeError();
  return out;
}

// ?force=: az acr sends True or False. Berth never moves a live tag for a restore, forced
// or not: a tag now naming another manifest is a 409 either way.
Result<bool> parseForce(const QueryParams& q) {
  const auto v = queryValue(q, "force");
  if (!v || v->empty() || equalsIgnoreCase(*v, "false")) return false;
  if (equalsIgnoreCase(*v, "true")) return true;
  return invalidArgument("force must be true or false");
}

json::object restoredJson(const std::string& digest, const std::string& tag, const meta::RestoredItem& restored) {
  json::object o;
  o["digest"] = digest;
  o["tag"] = tag.empty() ? json::value(nullptr) : json::value(tag);
  json::array manifests, tags;
  for (const auto& d : restored.manifests) manifests.emplace_back(d.str());
  for (const auto& t : restored.tags) tags.emplace_back(t);
  o["restoredManifests"] = std::move(manifests);
  o["restoredTags"] = std::move(tags);
  return o;
}

const Error kUnknownName = makeError(Code::kNameUnknown, "repository name not known to registry");

}  // namespace

bool AcrDeleted::mayReadDeleted(const std::optional<auth::Principal>& who, std::string_view repository) const {
  if (!who) return true;
  return (access_->grantedPermissions(*who, repository, unixNow()) & auth::kPermDeletedRead) != 0;
}

Result<bool> AcrDeleted::knownToBin(const std::string& name) {
  meta::RecycleQuery q;
  q.repository = name;
  q.limit = 1;
  auto items = bin_.store().list(q);
  if (!items) return items.takeError();
  if (!items->empty()) return true;
  auto live = registry_.listTags(name, "", 1);
  if (live) return true;
  if (live.code() == Code::kNameUnknown) return false;
  return live.takeError();
}

Task<void> AcrDeleted::catalog(Exchange& ex, const Call& call) {
  const QueryParams& q = call.query;
  const std::optional<auth::Principal>& who = call.who;
  auto n = pageSize(q, kApiPages);
  if (!n) co_return co_await ex.sendError(n.error());
  const size_t page = *n;
  const std::string last = queryValue(q, "last").value_or("");
  meta::RecycleStore& store = bin_.store();
  // Only repositories the caller may read deleted items in; scan on in batches until the
  // page is full.
  auto found = co_await ex.blocking([&]() -> Result<std::vector<meta::RecycledRepository>> {
    std::vector<meta::RecycledRepository> out;
    const size_t batch_size = std::max<size_t>(page + 1, 100);
    std::string after = last;
    for (;;) {
      auto batch = store.listRecycledRepositories(after, batch_size);
      if (!batch) return batch.takeError();
      for (auto& r : *batch) {
        if (mayReadDeleted(who, r.name)) out.push_back(std::move(r));
        if (out.size() > page) return out;
      }
      if (batch->size() < batch_size) return out;
      after = batch->back().name;
    }
  });
  if (!found) co_return co_await ex.sendError(found.error());
  const bool more = found->size() > page;
  if (more) found->resize(page);
  json::array repositories;
  for (const auto& r : *found) repositories.push_back(itemJson(r));
  json::object body;
  body["repositories"] = std::move(repositories);
  auto res = acrJson(http::status::ok, body);
  if (more) {
    res.set(http::field::link, "</acr/v1/_deleted/_catalog?last=" + found->back().name + "&n=" + std::to_string(page) +
                                   ">; rel=\"next\"");
  }
  co_await ex.send(std::move(res));
}

Task<void> AcrDeleted::manifests(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  const QueryParams& q = call.query;
  auto page = deletedPage(q);
  if (!page) co_return co_await ex.sendError(page.error());
  const DeletedPage p = *page;
  auto found = co_await ex.blocking([&] { return bin_.store().listRecycledManifests(name, p.after, p.n + 1); });
  if (!found) co_return co_await ex.sendError(found.error());
  if (found->empty() && p.after.key.empty()) {
    auto known = co_await ex.blocking([&] { return knownToBin(name); });
    if (!known) co_return co_await ex.sendError(known.error());
    if (!*known) co_return co_await ex.sendError(kUnknownName);
  }
  co_await ex.send(listingReply(std::string(ex.host()), name, "manifests", std::move(*found), p.n,
                                "/acr/v1/_deleted/" + name + "/_manifests"));
}

Task<void> AcrDeleted::tags(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  const QueryParams& q = call.query;
  auto page = deletedPage(q);
  if (!page) co_return co_await ex.sendError(page.error());
  const DeletedPage p = *page;
  auto found = co_await ex.blocking([&] { return bin_.store().listRecycledTags(name, p.after, p.n + 1); });
  if (!found) co_return co_await ex.sendError(found.error());
  if (found->empty() && p.after.key.empty()) {
    auto known = co_await ex.blocking([&] { return knownToBin(name); });
    if (!known) co_return co_await ex.sendError(known.error());
    if (!*known) co_return co_await ex.sendError(kUnknownName);
  }
  co_await ex.send(listingReply(std::string(ex.host()), name, "tags", std::move(*found), p.n,
                                "/acr/v1/_deleted/" + name + "/_tags"));
}

Task<void> AcrDeleted::restore(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  const std::string& ref = call.route.ref;
  const QueryParams& q = call.query;
  const std::optional<auth::Principal>& who = call.who;
  auto digest = parseDigestParam(ref);
  if (!digest) co_return co_await ex.sendError(digest.error());
  auto force = parseForce(q);
  if (!force) co_return co_await ex.sendError(force.error());
  std::string text;
  if (ex.hasBody()) {
    auto body = co_await ex.readBody(kMaxRestoreBody);
    if (!body) co_return co_await ex.sendError(body.error());
    text = std::move(*body);
  }
  auto tag = restoreTag(text);
  if (!tag) co_return co_await ex.sendError(tag.error());
  if (audited_ && !tag->empty()) ex.audit().entry.tag = *tag;
  const std::string digest_text = digest->str();
  const std::string tag_text = *tag;
  lifecycle::RecycleBin& bin = bin_;

  auto id = co_await ex.blocking([&] { return bin.store().findRecycledManifest(name, digest_text, tag_text); });
  if (!id) {
    if (id.code() != Code::kNotFound) co_return co_await ex.sendError(id.error());
    auto known = co_await ex.blocking([&] { return knownToBin(name); });
    if (!known) co_return co_await ex.sendError(known.error());
    if (!*known) co_return co_await ex.sendError(kUnknownName);
    co_return co_await ex.sendError(makeError(Code::kManifestUnknown, "nothing to restore: " + id.error().message));
  }
  const int64_t item_id = *id;
  const events::RequestInfo request = requestInfo(ex, who);
  auto restored = co_await ex.blocking([&] { return bin.restore(item_id, request); });
  if (!restored) {
    Error error = restored.error();
    if (error.code == Code::kNotFound) {
      error = makeError(Code::kManifestUnknown, "nothing to restore: the item left the recycle bin meanwhile");
    } else if (error.code == Code::kConflict && *force) {
      error.message += " (force does not move a live tag)";
    }
    co_return co_await ex.sendError(error);
  }
  co_await ex.send(acrJson(http::status::ok, restoredJson(digest_text, tag_text, *restored)));
}

}  // namespace berth::api
