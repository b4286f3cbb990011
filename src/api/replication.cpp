// Geo-replication routes (docs/replication.md): what a peer replica reads from this one,
// and the admin status. Api::dispatchReplica has verified the peer's signature.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "api/admin_fields.h"
#include "api/handlers.h"
#include "api/paging.h"
#include "meta/replication_store.h"
#include "common/log.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;
namespace json = boost::json;

namespace {
constexpr size_t kMaxJournalPage = 1000;
// A journal read with `wait` (seconds, at most this) is answered as soon as there is
// something after the cursor, else when the wait ends: a peer learns of a write within
// about kWaitCheck without asking again and again.
constexpr int64_t kMaxWaitSeconds = 5;
constexpr std::chrono::milliseconds kWaitCheck{20};
}  // namespace

Task<void> ReplicationApi::journal(Exchange& ex, const Call& call) {
  int64_t after = 0;
  if (auto a = queryValue(call.query, "after"); a && *a != "0") {
    auto n = positiveInteger(*a, "after");
    if (!n) co_return co_await ex.sendError(n.error());
    after = *n;
  }
  size_t limit = 200;
  if (auto l = queryValue(call.query, "limit")) {
    auto n = positiveInteger(*l, "limit");
    if (!n) co_return co_await ex.sendError(n.error());
    limit = std::min<size_t>(static_cast<size_t>(*n), kMaxJournalPage);
  }
  int64_t wait = 0;
  if (auto w = queryValue(call.query, "wait"); w && *w != "0") {
    auto n = positiveInteger(*w, "wait");
    if (!n) co_return co_await ex.sendError(n.error());
    wait = std::min(*n, kMaxWaitSeconds);
  }
  const std::string peer(call.replica);
  if (wait > 0) {
    auto journal = registry_.metaStore().replicationStore();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
    while (std::chrono::steady_clock::now() < deadline) {
      auto last = co_await ex.blocking([&] { return journal->lastJournalId(); });
      if (!last || *last > after) break;
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, kWaitCheck);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
  }
  auto page = co_await ex.blocking([&] { return replicator_->journalPage(peer, after, limit); });
  if (!page) co_return co_await ex.sendError(page.error());
  co_await ex.send(jsonResponse(http::status::ok, std::move(*page)));
}

Task<void> ReplicationApi::entities(Exchange& ex, const Call&) {
  auto body = co_await ex.blocking([&] { return replicator_->entities(); });
  if (!body) co_return co_await ex.sendError(body.error());
  co_await ex.send(jsonResponse(http::status::ok, std::move(*body)));
}

Task<void> ReplicationApi::manifest(Exchange& ex, const Call& call) {
  auto digest = parseDigestParam(call.route.ref);
  if (!digest) co_return co_await ex.sendError(digest.error());
  auto rec = co_await ex.blocking([&] { return registry_.metaStore().getManifest(call.route.name, *digest); });
  if (!rec) co_return co_await ex.sendError(rec.error());
  co_await ex.send(jsonResponse(http::status::ok, std::move(rec->bytes), rec->media_type));
}

Task<void> ReplicationApi::blob(Exchange& ex, const Call& call) {
  auto digest = parseDigestParam(call.route.ref);
  if (!digest) co_return co_await ex.sendError(digest.error());
  auto reader = co_await ex.blocking([&] { return registry_.openBlob(call.route.name, *digest); });
  if (!reader) co_return co_await ex.sendError(reader.error());
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "application/octet-stream");
  res.set("Docker-Content-Digest", digest->str());
  const uint64_t size = (*reader)->size();
  co_await sendBlobBytes(ex, std::move(res), **reader, 0, size);
}

Task<void> ReplicationApi::snapshot(Exchange& ex, const Call& call) {
  const std::string after(queryValue(call.query, "after").value_or(""));
  size_t limit = 200;
  if (auto l = queryValue(call.query, "limit")) {
    auto n = positiveInteger(*l, "limit");
    if (!n) co_return co_await ex.sendError(n.error());
    limit = std::min<size_t>(static_cast<size_t>(*n), kMaxJournalPage);
  }
  auto page = co_await ex.blocking([&] { return replicator_->snapshotPage(after, limit); });
  if (!page) co_return co_await ex.sendError(page.error());
  co_await ex.send(jsonResponse(http::status::ok, std::move(*page)));
}

namespace {
json::object peerJson(const replication::PeerStatus& p) {
  json::object o;
  o["region"] = p.region;
  o["url"] = p.url;
  o["state"] = p.state;
  o["lagSeconds"] = p.lag_seconds;
  o["pendingOperations"] = p.pending_operations;
  o["pendingBytes"] = p.pending_bytes;
  o["appliedJournalId"] = p.applied;
  o["readJournalId"] = p.read;
  o["lastContact"] = p.last_contact != 0 ? json::value(formatRfc3339(p.last_contact)) : json::value(nullptr);
  o["lastError"] = p.last_error;
  o["appliedTotal"] = p.applied_total;
  o["bytesTotal"] = p.bytes_total;
  o["conflictsTotal"] = p.conflicts_total;
  return o;
}

Error replicationOff() {
  return makeError(Code::kConflict, "replication is not configured on this replica (replication.region)");
}
}  // namespace

Result<AdminReply> ReplicationApi::replicas(const AdminCall& call) {
  if (call.method == http::verb::post) {
    if (replicator_ == nullptr) return replicationOff();
    const Fields f(call.body);
    if (auto s = f.only({"region", "url"}); !s) return s.takeError();
    auto region = f.str("region");
    if (!region) return region.takeError();
    auto url = f.str("url");
    if (!url) return url.takeError();
    if (!*region) return invalidArgument("region is required");
    if (!*url) return invalidArgument("url is required (http(s)://HOST:PORT of the replica)");
    if (auto s = replicator_->createReplica(**region, **url); !s) return s.takeError();
    log::info("replica created", {{"region", **region}, {"url", **url}});
    for (const auto& p : replicator_->status()) {
      if (p.region == **region) return AdminReply{http::status::created, peerJson(p)};
    }
    return makeError(Code::kInternal, "the created replica is not among the peers");
  }
  json::array replicas;
  if (replicator_ != nullptr) {
    for (const auto& p : replicator_->status()) replicas.push_back(peerJson(p));
  }
  json::object body;
  body["region"] = replicator_ != nullptr ? json::value(replicator_->region()) : json::value(nullptr);
  body["replicas"] = std::move(replicas);
  return AdminReply{http::status::ok, std::move(body)};
}

Result<AdminReply> ReplicationApi::replica(const AdminCall& call) {
  if (replicator_ == nullptr) return replicationOff();
  const std::string region(call.route.ref);
  if (call.method == http::verb::delete_) {
    if (auto s = replicator_->deleteReplica(region); !s) return s.takeError();
    log::info("replica deleted", {{"region", region}});
    return AdminReply{http::status::no_content, nullptr};
  }
  for (const auto& p : replicator_->status()) {
    if (p.region == region) return AdminReply{http::status::ok, peerJson(p)};
  }
  return makeError(Code::kNotFound, "no replica in region " + region);
}

}  // namespace berth::api
