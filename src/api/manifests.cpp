// Manifest handlers: GET/HEAD (served from the in-memory cache when possible), PUT, DELETE.
#include <array>

#include "api/handlers.h"
#include "common/text.h"

namespace berth::api {

namespace http = server::http;

namespace {

Result<oci::Reference> parseRef(std::string_view text) {
  auto ref = oci::parseReference(text);
  if (!ref && ref.code() == Code::kUnsupported) {
    return makeError(Code::kDigestInvalid, "unsupported digest algorithm; use sha256 or sha512");
  }
  return ref;
}

// The response headers of a manifest, pointing into the cached entry (which the caller
// holds while they are sent). Built outside the coroutine: GCC 12 mishandles braced lists
// in coroutine frames.
std::array<server::PreparedField, 3> manifestFields(const registry::CachedManifest& m) {
  return {server::PreparedField{"Content-Type", m.media_type},
          server::PreparedField{"Docker-Content-Digest", m.digest.str()},
          server::PreparedField{"ETag", m.digest.str(), /*quoted=*/true}};
}

}  // namespace

Task<void> Manifests::manifest(Exchange& ex, const Call& call) {
  const Route& route = call.route;
  const std::optional<auth::Principal>& who = call.who;
  const auto method = ex.method();
  auto ref = parseRef(route.ref);
  if (!ref) {
    // A reference that cannot exist is not found when read or deleted (as distribution and
    // the OCI conformance suite expect); only a write of a bad tag is the client's error.
    if (method != http::verb::put && ref.code() == Code::kTagInvalid) {
      co_return co_await ex.sendError(makeError(Code::kManifestUnknown, "manifest unknown: " + ref.error().message));
    }
    co_return co_await ex.sendError(ref.error());
  }
  if (method == http::verb::get || method == http::verb::head) {
    // Hot path: a cache hit never leaves the I/O thread.
    auto hit = registry_.cachedManifest(route.name, *ref);
    if (!hit) {
      auto found = co_await ex.blocking([&] { return registry_.getManifest(route.name, *ref); });
      if (!found) co_return co_await ex.sendError(found.error());
      hit = std::move(*found);
    }
    if (audited_) ex.audit().entry.digest = hit->digest.str();
    if (!hit->denied.empty()) co_return co_await ex.sendError(makeError(Code::kDenied, hit->denied));
    const auto fields = manifestFields(*hit);
    co_await ex.sendPrepared(http::status::ok, fields, hit->bytes);
    // A pull is a GET answered in full (HEAD only checks).
    if (method == http::verb::get && !ex.broken()) {
      usage_.pulled(route.name, hit->digest.str(), ref->isDigest() ? std::string_view() : ref->tag(),
                     ex.bytesOut(), unixNow());
    }
    co_return;
  }
  if (method == http::verb::delete_) {
    // A named local, not a lambda init-capture: GCC's coroutines mis-destroy the latter.
    const events::RequestInfo request = requestInfo(ex, who);
    auto s = co_await ex.blocking([&] { return registry_.deleteManifest(route.name, *ref, request); });
    if (!s) co_return co_await ex.sendError(s.error());
    co_return co_await ex.send(server::Response{http::status::accepted, 11});
  }
  // PUT
  auto body = co_await ex.readBody(oci::kMaxManifestSize);
  if (!body) {
    auto err = body.takeError();
    if (err.code == Code::kPayloadTooLarge) {
      err.message = "manifest is larger than the limit of " + std::to_string(oci::kMaxManifestSize) + " bytes (4 MiB)";
    }
    co_return co_await ex.sendError(err);
  }
  std::string content_type(ex.header(http::field::content_type));
  if (auto semi = content_type.find(';'); semi != std::string::npos) content_type.resize(semi);
  while (!content_type.empty() && content_type.back() == ' ') content_type.pop_back();
  // Media types are case-insensitive (RFC 9110 8.3.1); the known ones are lowercase.
  for (char& c : content_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const events::RequestInfo request = requestInfo(ex, who);
  const uint64_t body_size = body->size();
  auto put = co_await ex.blocking([&] {
    return registry_.putManifest(route.name, *ref, content_type, std::move(*body), request);
  });
  if (!put) co_return co_await ex.sendError(put.error());
  usage_.pushed(route.name, put->digest.str(), ref->isDigest() ? std::string_view() : ref->tag(), body_size,
                unixNow());
  if (audited_) ex.audit().entry.digest = put->digest.str();
  server::Response res{http::status::created, 11};
  res.set(http::field::location, "/v2/" + route.name + "/manifests/" + put->digest.str());
  res.set("Docker-Content-Digest", put->digest.str());
  if (put->subject) res.set("OCI-Subject", put->subject->str());
  co_await ex.send(std::move(res));
}

}  // namespace berth::api
