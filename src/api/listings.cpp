// Listings: /v2/<name>/tags/list, the catalog (/v2/_catalog and /acr/v1/_catalog) and
// /v2/<name>/referrers/<digest>; and the helpers the handler files share.
#include <boost/json.hpp>

#include "api/handlers.h"
#include "api/paging.h"
#include "common/text.h"
#include "oci/manifest.h"

namespace berth::api {

namespace http = server::http;

Result<oci::Digest> parseDigestParam(std::string_view text) {
  auto d = oci::Digest::parse(text);
  if (!d && d.code() == Code::kUnsupported) {
    return makeError(Code::kDigestInvalid, "unsupported digest algorithm; use sha256 or sha512");
  }
  return d;
}

std::string uploadLocation(const std::string& name, const std::string& id) {
  return "/v2/" + name + "/blobs/uploads/" + id;
}

std::string blobLocation(const std::string& name, const oci::Digest& digest) {
  return "/v2/" + name + "/blobs/" + digest.str();
}

std::string uploadRange(uint64_t offset) { return "0-" + std::to_string(offset ? offset - 1 : 0); }

server::Response jsonResponse(http::status status, std::string body, std::string_view content_type) {
  server::Response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Task<void> Listings::tags(Exchange& ex, const Call& call) {
  const Route& route = call.route;
  auto n = pageSize(call.query, kDistributionPages);
  if (!n) co_return co_await ex.sendError(n.error());
  const size_t page = *n;
  const std::string last = queryValue(call.query, "last").value_or("");
  auto found = co_await ex.blocking([&] { return registry_.listTags(route.name, last, page + 1); });
  if (!found) co_return co_await ex.sendError(found.error());
  bool more = found->size() > page;
  if (more) found->resize(page);
  boost::json::array tags;
  for (auto& t : *found) tags.emplace_back(t);
  auto res = jsonResponse(http::status::ok,
                          boost::json::serialize(boost::json::object{{"name", route.name}, {"tags", std::move(tags)}}));
  if (more && !found->empty()) res.set(http::field::link, nextLink("/v2/" + route.name + "/tags/list", found->back(), page));
  co_await ex.send(std::move(res));
}

bool Listings::mayList(const std::optional<auth::Principal>& who, std::string_view repository) const {
  return !who || access_->mayList(*who, repository, unixNow());
}

Task<void> Listings::catalog(Exchange& ex, const Call& call) {
  const std::string_view path = call.route.kind == RouteKind::kAcrCatalog ? "/acr/v1/_catalog" : "/v2/_catalog";
  auto size = pageSize(call.query, kDistributionPages);
  if (!size) co_return co_await ex.sendError(size.error());
  const size_t n = *size;
  const std::string last = queryValue(call.query, "last").value_or("");
  const std::optional<auth::Principal>& who = call.who;
  // Only repositories the caller may see; scan on in batches until the page is full.
  auto found = co_await ex.blocking([&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    std::string after = last;
    for (;;) {
      auto batch = registry_.listRepositories(after, std::max<size_t>(n + 1, 100));
      if (!batch) return batch.takeError();
      for (auto& r : *batch) {
        if (mayList(who, r)) out.push_back(std::move(r));
        if (out.size() > n) return out;
      }
      if (batch->size() < std::max<size_t>(n + 1, 100)) return out;
      after = batch->back();
    }
  });
  if (!found) co_return co_await ex.sendError(found.error());
  bool more = found->size() > n;
  if (more) found->resize(n);
  boost::json::array repos;
  for (auto& r : *found) repos.emplace_back(r);
  auto res = jsonResponse(http::status::ok, boost::json::serialize(boost::json::object{{"repositories", std::move(repos)}}));
  if (more && !found->empty()) res.set(http::field::link, nextLink(path, found->back(), n));
  co_await ex.send(std::move(res));
}

Task<void> Listings::referrers(Exchange& ex, const Call& call) {
  const Route& route = call.route;
  auto digest = parseDigestParam(route.ref);
  if (!digest) co_return co_await ex.sendError(digest.error());
  auto artifact_type = queryValue(call.query, "artifactType").value_or("");
  auto index = co_await ex.blocking([&] { return registry_.referrers(route.name, *digest, artifact_type); });
  if (!index) co_return co_await ex.sendError(index.error());
  auto res = jsonResponse(http::status::ok, std::move(*index), oci::kOciIndex);
  if (!artifact_type.empty()) res.set("OCI-Filters-Applied", "artifactType");
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
