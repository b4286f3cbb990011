// GET /api/v1/usage and /api/v1/usage/repositories/{name} (docs/usage.md): storage from
// the metadata, traffic from the UsageRecorder (stored plus not yet flushed). Readers need
// the owner or reader role (metadata_read) on "*" for the registry, on the repository for
// one repository.
#include <boost/json.hpp>
#include <charconv>
#include <unordered_map>

#include "api/api.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {

constexpr std::string_view kUsagePath = "/api/v1/usage";
constexpr std::string_view kRepositoriesPrefix = "/api/v1/usage/repositories/";
constexpr size_t kDefaultPage = 100;
constexpr size_t kMaxPage = 1000;

json::value timeOrNull(int64_t t) { return t == 0 ? json::value(nullptr) : json::value(formatRfc3339(t)); }

// Counts and last times; bytes only where they are counted (repositories).
void putTraffic(json::object& o, const meta::Traffic& t, bool bytes) {
  o["pulls"] = t.pulls;
  o["pushes"] = t.pushes;
  if (bytes) {
    o["bytesServed"] = t.bytes_served;
    o["bytesReceived"] = t.bytes_received;
  }
  o["lastPulledOn"] = timeOrNull(t.last_pulled);
  o["lastPushedOn"] = timeOrNull(t.last_pushed);
}

void putStorage(json::object& o, const meta::RepositoryStorage& s) {
  o["bytes"] = s.bytes;
  o["uniqueBytes"] = s.unique_bytes;
  o["sharedBytes"] = s.shared_bytes;
  o["manifests"] = s.manifests;
  o["tags"] = s.tags;
  o["blobs"] = s.blobs;
}

Result<json::value> registryUsage(registry::UsageRecorder& usage, const std::string& last, size_t n) {
  auto totals = usage.store().storageTotals();
  if (!totals) return totals.takeError();
  auto traffic = usage.total();
  if (!traffic) return traffic.takeError();
  auto repos = usage.store().repositoryStorage(last, n + 1);
  if (!repos) return repos.takeError();
  const bool more = repos->size() > n;
  if (more) repos->resize(n);
  std::vector<std::string> names;
  for (const auto& r : *repos) names.push_back(r.repository);
  auto repo_traffic = usage.repositories(names);
  if (!repo_traffic) return repo_traffic.takeError();

  json::object storage;
  storage["bytes"] = totals->bytes;
  storage["blobBytes"] = totals->blob_bytes;
  storage["manifestBytes"] = totals->manifest_bytes;
  storage["repositories"] = totals->repositories;
  storage["manifests"] = totals->manifests;
  storage["uniqueManifests"] = totals->unique_manifests;
  storage["tags"] = totals->tags;
  storage["blobs"] = totals->blobs;
  json::object traffic_json;
  putTraffic(traffic_json, *traffic, true);
  json::array list;
  for (size_t i = 0; i < repos->size(); ++i) {
    json::object o;
    o["name"] = (*repos)[i].repository;
    putStorage(o, (*repos)[i]);
    putTraffic(o, (*repo_traffic)[i], true);
    list.push_back(std::move(o));
  }
  json::object out;
  out["storage"] = std::move(storage);
  out["traffic"] = std::move(traffic_json);
  out["repositories"] = std::move(list);
  if (more && !repos->empty()) {
    // Repository names ([a-z0-9._/-]) need no escaping in a query.
    out["next"] = "/api/v1/usage?last=" + repos->back().repository + "&n=" + std::to_string(n);
  } else {
    out["next"] = nullptr;
  }
  return json::value(std::move(out));
}

Result<json::value> repositoryUsage(registry::UsageRecorder& usage, const std::string& name) {
  auto found = usage.store().repositoryUsage(name);
  if (!found) return found.takeError();
  auto rows = usage.repository(name);
  if (!rows) return rows.takeError();
  meta::Traffic repo_traffic;
  std::unordered_map<std::string, meta::Traffic> manifests, tags;
  for (auto& r : *rows) {
    switch (r.kind) {
      case meta::TrafficKind::kRepository: repo_traffic = r.traffic; break;
      case meta::TrafficKind::kManifest: manifests[r.name] = r.traffic; break;
      case meta::TrafficKind::kTag: tags[r.name] = r.traffic; break;
    }
  }
  json::object storage;
  putStorage(storage, found->storage);
  json::object traffic;
  putTraffic(traffic, repo_traffic, true);
  json::array manifest_list;
  for (const auto& m : found->manifests) {
    json::object o;
    o["digest"] = m.digest.str();
    o["mediaType"] = m.media_type;
    o["size"] = m.size;
    o["manifestSize"] = m.manifest_size;
    json::array tag_names;
    for (const auto& t : m.tags) tag_names.emplace_back(t);
    o["tags"] = std::move(tag_names);
    o["createdOn"] = formatRfc3339(m.created_at);
    auto t = manifests.find(m.digest.str());
    putTraffic(o, t == manifests.end() ? meta::Traffic{} : t->second, false);
    manifest_list.push_back(std::move(o));
  }
  json::array tag_list;
  for (const auto& tag : found->tags) {
    json::object o;
    o["name"] = tag.tag;
    o["digest"] = tag.digest.str();
    o["size"] = tag.size;
    o["lastUpdatedOn"] = formatRfc3339(tag.updated_at);
    auto t = tags.find(tag.tag);
    putTraffic(o, t == tags.end() ? meta::Traffic{} : t->second, false);
    tag_list.push_back(std::move(o));
  }
  json::object out;
  out["name"] = name;
  out["storage"] = std::move(storage);
  out["traffic"] = std::move(traffic);
  out["manifests"] = std::move(manifest_list);
  out["tags"] = std::move(tag_list);
  return json::value(std::move(out));
}

Result<size_t> pageSize(const QueryParams& q) {
  auto v = queryValue(q, "n");
  if (!v) return kDefaultPage;
  size_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || n == 0) {
    return makeError(Code::kInvalidArgument, "n must be a positive integer");
  }
  return std::min(n, kMaxPage);
}

}  // namespace

Task<void> Api::usage(Exchange& ex, std::string path, std::string raw_query, const auth::Principal& who) {
  if (usage_ == nullptr) co_return co_await ex.sendError(makeError(Code::kNotFound, "no such admin resource"));
  if (ex.method() != http::verb::get) co_return co_await ex.sendError(makeError(Code::kMethodNotAllowed, "use GET"));
  auto query = parseQuery(raw_query);
  if (!query) co_return co_await ex.sendError(query.error());
  std::optional<std::string> repository;  // nullopt: the registry
  if (path.starts_with(kRepositoriesPrefix)) {
    auto decoded = parseQuery("x=" + path.substr(kRepositoriesPrefix.size()));
    if (!decoded || decoded->size() != 1 || !oci::validateName(decoded->front().second)) {
      co_return co_await ex.sendError(makeError(Code::kNameInvalid, "invalid repository name"));
    }
    repository = decoded->front().second;
  } else if (path != kUsagePath && path != std::string(kUsagePath) + "/") {
    co_return co_await ex.sendError(makeError(Code::kNotFound, "no such admin resource"));
  }
  const auth::Grants grants = access_->grants(who.subject(), unixNow());
  bool allowed = false;
  if (repository) {
    allowed = (auth::effectivePermissions(grants, *repository) & auth::kPermMetadataRead) != 0;
  } else {
    for (const auto& g : grants) allowed = allowed || (g.pattern == "*" && (g.permissions & auth::kPermMetadataRead));
  }
  if (!allowed) {
    co_return co_await ex.sendError(makeError(
        Code::kDenied, repository ? "usage of a repository needs the owner or reader role on it"
                                  : "registry usage needs the owner or reader role on '*'"));
  }
  auto n = pageSize(*query);
  if (!n) co_return co_await ex.sendError(n.error());
  const size_t page = *n;
  const std::string last = queryValue(*query, "last").value_or("");
  registry::UsageRecorder& recorder = *usage_;
  auto answer = co_await ex.blocking([&]() -> Result<json::value> {
    return repository ? repositoryUsage(recorder, *repository) : registryUsage(recorder, last, page);
  });
  if (!answer) co_return co_await ex.sendError(answer.error());
  server::Response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = json::serialize(*answer);
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
