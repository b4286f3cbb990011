// ACR's metadata API under /acr/v1 (docs/api.md, "Repository metadata"): repository, tag
// and manifest properties with their changeable attributes, as the Azure SDK's
// ContainerRegistryClient and `az acr repository` read and change them. Field names,
// paging (Link header) and errors follow ACR's data-plane REST specification.
#include <boost/json.hpp>
#include <charconv>

#include "api/handlers.h"
#include "api/paging.h"
#include "auth/encoding.h"
#include "common/text.h"
#include "oci/manifest.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

constexpr size_t kMaxPatchBody = 64 * 1024;

json::object attributesJson(const meta::Attributes& a) {
  json::object o;
  o["deleteEnabled"] = a.delete_enabled;
  o["writeEnabled"] = a.write_enabled;
  o["readEnabled"] = a.read_enabled;
  o["listEnabled"] = a.list_enabled;
  return o;
}

json::object repositoryJson(std::string_view registry, const meta::RepositoryProperties& r) {
  json::object o;
  o["registry"] = registry;
  o["imageName"] = r.name;
  o["createdTime"] = formatRfc3339(r.created_at);
  o["lastUpdateTime"] = formatRfc3339(r.updated_at);
  o["manifestCount"] = r.manifest_count;
  o["tagCount"] = r.tag_count;
  auto attrs = attributesJson(r.attributes);
  attrs["teleportEnabled"] = false;
  o["changeableAttributes"] = std::move(attrs);
  return o;
}

json::object tagJson(const meta::TagProperties& t) {
  json::object o;
  o["name"] = t.name;
  o["digest"] = t.digest.str();
  o["createdTime"] = formatRfc3339(t.created_at);
  o["lastUpdateTime"] = formatRfc3339(t.updated_at);
  o["signed"] = false;
  o["changeableAttributes"] = attributesJson(t.attributes);
  return o;
}

json::object manifestJson(const meta::ManifestProperties& m) {
  json::object o;
  o["digest"] = m.digest.str();
  o["imageSize"] = m.image_size;
  o["createdTime"] = formatRfc3339(m.created_at);
  o["lastUpdateTime"] = formatRfc3339(m.updated_at);
  if (!m.architecture.empty()) o["architecture"] = m.architecture;
  if (!m.os.empty()) o["os"] = m.os;
  o["mediaType"] = m.media_type;
  if (!m.artifact_type.empty()) o["artifactType"] = m.artifact_type;
  if (m.media_type == oci::kOciIndex || m.media_type == oci::kDockerManifestList) {
    // An index names its children's platforms itself.
    json::array refs;
    if (auto parsed = oci::parseManifest(m.bytes, m.media_type)) {
      for (const auto& child : parsed->manifests) {
        json::object r;
        r["digest"] = child.digest.str();
        if (!child.platform_architecture.empty()) r["architecture"] = child.platform_architecture;
        if (!child.platform_os.empty()) r["os"] = child.platform_os;
        refs.push_back(std::move(r));
      }
    }
    o["references"] = std::move(refs);
  }
  json::array tags;
  for (const auto& t : m.tags) tags.emplace_back(t);
  o["tags"] = std::move(tags);
  o["changeableAttributes"] = attributesJson(m.attributes);
  return o;
}

// The body of a PATCH: the attributes at the top level (as the Azure SDK and az send
// them) or inside "changeableAttributes". Other fields are ignored; a named attribute
// must be a boolean.
Result<meta::AttributesPatch> parsePatch(std::string_view text) {
  meta::AttributesPatch patch;
  if (text.empty()) return patch;
  auto body = auth::parseJsonObject(text);
  if (!body) return invalidArgument("the body must be a JSON object");
  const json::object* attrs = &*body;
  if (const auto* nested = body->if_contains("changeableAttributes")) {
    if (!nested->is_object()) return invalidArgument("changeableAttributes must be an object");
    attrs = &nested->get_object();
  }
  for (auto [key, field] : {std::pair{"deleteEnabled", &patch.delete_enabled},
                            std::pair{"writeEnabled", &patch.write_enabled},
                            std::pair{"listEnabled", &patch.list_enabled},
                            std::pair{"readEnabled", &patch.read_enabled}}) {
    const auto* v = attrs->if_contains(key);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_bool()) return invalidArgument(std::string(key) + " must be true or false");
    *field = v->get_bool();
  }
  return patch;
}

// n, last and orderby of a listing.
Result<meta::PageRequest> acrPage(const QueryParams& q) {
  meta::PageRequest page;
  auto n = pageSize(q, kApiPages);
  if (!n) return n.takeError();
  page.n = *n;
  page.last = queryValue(q, "last").value_or("");
  const auto order = queryValue(q, "orderby").value_or("");
  if (order == "timedesc") {
    page.order = meta::PropertiesOrder::kTimeDesc;
  } else if (order == "timeasc") {
    page.order = meta::PropertiesOrder::kTimeAsc;
  } else if (!order.empty()) {
    return invalidArgument("orderby must be timedesc or timeasc");
  }
  return page;
}

std::string orderName(meta::PropertiesOrder o) {
  return o == meta::PropertiesOrder::kTimeDesc ? "timedesc" : o == meta::PropertiesOrder::kTimeAsc ? "timeasc" : "";
}

// The Link header of the page after `last`.
std::string acrNextLink(const std::string& path, const std::string& last, const meta::PageRequest& page) {
  return nextLink(path, last, page.n,
                  page.order == meta::PropertiesOrder::kName ? std::string() : "&orderby=" + orderName(page.order));
}


// A listing page as ACR shapes it: {registry, imageName, <key>: [...]} (+ Link).
template <class Item, class ToJson>
server::Response pageReply(std::string_view registry, const std::string& name, const char* key,
                           std::vector<Item> items, const meta::PageRequest& page, const std::string& path,
                           ToJson to_json, std::string (*cursor)(const Item&)) {
  const bool more = items.size() > page.n;
  if (more) items.resize(page.n);
  json::array list;
  for (const auto& i : items) list.push_back(to_json(i));
  json::object o;
  o["registry"] = registry;
  o["imageName"] = name;
  o[key] = std::move(list);
  auto res = acrJson(http::status::ok, o);
  if (more) res.set(http::field::link, acrNextLink(path, cursor(items.back()), page));
  return res;
}

std::string tagCursor(const meta::TagProperties& t) { return t.name; }
std::string manifestCursor(const meta::ManifestProperties& m) { return m.digest.str(); }

// Reads a PATCH body: the attributes to change (nullopt for other methods).
Task<Result<std::optional<meta::AttributesPatch>>> readPatch(Exchange& ex) {
  if (ex.method() != http::verb::patch) co_return std::optional<meta::AttributesPatch>();
  std::string text;
  if (ex.hasBody()) {
    auto body = co_await ex.readBody(kMaxPatchBody);
    if (!body) co_return body.takeError();
    text = std::move(*body);
  }
  auto parsed = parsePatch(text);
  if (!parsed) co_return parsed.takeError();
  co_return std::optional<meta::AttributesPatch>(*parsed);
}

}  // namespace

server::Response acrJson(http::status status, const json::value& body) {
  server::Response res{status, 11};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.body() = json::serialize(body);
  return res;
}

Task<void> Acr::repository(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  if (ex.method() == http::verb::delete_) {
    const events::RequestInfo request = requestInfo(ex, call.who);
    auto deleted = co_await ex.blocking([&] { return registry_.deleteRepository(name, request); });
    if (!deleted) co_return co_await ex.sendError(deleted.error());
    json::array manifests, tags;
    for (const auto& d : deleted->manifests) manifests.emplace_back(d.str());
    for (const auto& t : deleted->tags) tags.emplace_back(t);
    json::object body;
    body["manifestsDeleted"] = std::move(manifests);
    body["tagsDeleted"] = std::move(tags);
    co_return co_await ex.send(acrJson(http::status::accepted, body));
  }
  auto patch = co_await readPatch(ex);
  if (!patch) co_return co_await ex.sendError(patch.error());
  const std::string registry(ex.host());
  auto props = co_await ex.blocking([&] {
    auto r = *patch ? properties_.updateRepository(name, **patch) : properties_.repository(name);
    if (r && *patch) registry_.invalidateRepository(name);  // on every node, before the answer
    return r;
  });
  if (!props) co_return co_await ex.sendError(props.error());
  auto body = repositoryJson(registry, *props);
  co_await ex.send(acrJson(http::status::ok, body));
}

Task<void> Acr::tags(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  auto page = acrPage(call.query);
  if (!page) co_return co_await ex.sendError(page.error());
  std::optional<oci::Digest> digest;
  if (auto d = queryValue(call.query, "digest")) {
    auto parsed = parseDigestParam(*d);
    if (!parsed) co_return co_await ex.sendError(parsed.error());
    digest = *parsed;
  }
  meta::PageRequest ask = *page;
  ask.n = page->n + 1;
  auto tags = co_await ex.blocking([&] { return properties_.listTags(name, ask, digest); });
  if (!tags) co_return co_await ex.sendError(tags.error());
  co_await ex.send(pageReply(std::string(ex.host()), name, "tags", std::move(*tags), *page,
                             "/acr/v1/" + name + "/_tags", tagJson, tagCursor));
}

Task<void> Acr::tag(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  const std::string& tag_name = call.route.ref;
  if (auto s = oci::validateTag(tag_name); !s) co_return co_await ex.sendError(s.error());
  if (ex.method() == http::verb::delete_) {
    const events::RequestInfo request = requestInfo(ex, call.who);
    const oci::Reference ref{tag_name};
    auto s = co_await ex.blocking([&] { return registry_.deleteManifest(name, ref, request); });
    if (!s) co_return co_await ex.sendError(s.error());
    co_return co_await ex.send(server::Response{http::status::accepted, 11});
  }
  auto patch = co_await readPatch(ex);
  if (!patch) co_return co_await ex.sendError(patch.error());
  auto tag = co_await ex.blocking([&] {
    auto r = *patch ? properties_.updateTag(name, tag_name, **patch) : properties_.tag(name, tag_name);
    if (r && *patch) registry_.invalidateRepository(name);  // on every node, before the answer
    return r;
  });
  if (!tag) co_return co_await ex.sendError(tag.error());
  json::object body;
  body["registry"] = std::string(ex.host());
  body["imageName"] = name;
  body["tag"] = tagJson(*tag);
  co_await ex.send(acrJson(http::status::ok, body));
}

Task<void> Acr::manifests(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  auto page = acrPage(call.query);
  if (!page) co_return co_await ex.sendError(page.error());
  meta::PageRequest ask = *page;
  ask.n = page->n + 1;
  auto manifests = co_await ex.blocking([&] { return properties_.listManifests(name, ask); });
  if (!manifests) co_return co_await ex.sendError(manifests.error());
  co_await ex.send(pageReply(std::string(ex.host()), name, "manifests", std::move(*manifests), *page,
                             "/acr/v1/" + name + "/_manifests", manifestJson, manifestCursor));
}

Task<void> Acr::manifest(Exchange& ex, const Call& call) {
  const std::string& name = call.route.name;
  auto digest = parseDigestParam(call.route.ref);
  if (!digest) co_return co_await ex.sendError(digest.error());
  auto patch = co_await readPatch(ex);
  if (!patch) co_return co_await ex.sendError(patch.error());
  auto manifest = co_await ex.blocking([&] {
    auto r = *patch ? properties_.updateManifest(name, *digest, **patch) : properties_.manifest(name, *digest);
    if (r && *patch) registry_.invalidateRepository(name);  // on every node, before the answer
    return r;
  });
  if (!manifest) co_return co_await ex.sendError(manifest.error());
  json::object body;
  body["registry"] = std::string(ex.host());
  body["imageName"] = name;
  body["manifest"] = manifestJson(*manifest);
  co_await ex.send(acrJson(http::status::ok, body));
}

}  // namespace berth::api
