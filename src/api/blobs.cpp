// Blob and upload handlers: GET/HEAD/DELETE of blobs, POST/PATCH/PUT/GET/DELETE of uploads.
#include "api/handlers.h"
#include "common/text.h"
#include "oci/http_range.h"

namespace berth::api {

namespace http = server::http;
using registry::UploadStream;

namespace {

http::response<http::empty_body> blobHeaders(http::status status, const oci::Digest& digest) {
  http::response<http::empty_body> res{status, 11};
  res.set(http::field::content_type, "application/octet-stream");
  res.set("Docker-Content-Digest", digest.str());
  res.set(http::field::etag, "\"" + digest.str() + "\"");
  res.set(http::field::accept_ranges, "bytes");
  return res;
}

server::Response created(const std::string& name, const oci::Digest& digest) {
  server::Response res{http::status::created, 11};
  res.set(http::field::location, blobLocation(name, digest));
  res.set("Docker-Content-Digest", digest.str());
  return res;
}

server::Response uploadStatus(http::status status, const std::string& name, const std::string& id, uint64_t offset) {
  server::Response res{status, 11};
  res.set(http::field::location, uploadLocation(name, id));
  res.set(http::field::range, uploadRange(offset));
  res.set("Docker-Upload-UUID", id);
  return res;
}

}  // namespace

Task<void> Blobs::blob(Exchange& ex, const Call& call) {
  const Route& route = call.route;
  auto digest = parseDigestParam(route.ref);
  if (!digest) co_return co_await ex.sendError(digest.error());
  const auto method = ex.method();
  if (method == http::verb::delete_) {
    auto s = co_await ex.blocking([&] { return registry_.deleteBlob(route.name, *digest); });
    if (!s) co_return co_await ex.sendError(s.error());
    server::Response res{http::status::accepted, 11};
    res.set("Docker-Content-Digest", digest->str());
    co_return co_await ex.send(std::move(res));
  }
  // Hot path: a repository link already seen is answered from the cache on the I/O thread
  // (for GET, one open(2) of a committed, immutable blob; an object store's open is a
  // network round trip, made on the blocking pool).
  const auto cached_size = registry_.cachedBlobSize(route.name, *digest);
  if (method == http::verb::head) {
    if (cached_size) co_return co_await ex.sendHeaders(blobHeaders(http::status::ok, *digest), *cached_size);
    auto size = co_await ex.blocking([&] { return registry_.statBlob(route.name, *digest); });
    if (!size) co_return co_await ex.sendError(size.error());
    co_return co_await ex.sendHeaders(blobHeaders(http::status::ok, *digest), *size);
  }
  // storage.redirect: the client fetches the bytes from the storage, not through this node.
  if (auto url = registry_.blobRedirect(*digest)) {
    // (no co_await inside a conditional expression: GCC 12 miscompiles it)
    Result<uint64_t> size = makeError(Code::kBlobUnknown, "blob unknown to registry");
    if (cached_size) {
      size = *cached_size;
    } else {
      size = co_await ex.blocking([&] { return registry_.statBlob(route.name, *digest); });
    }
    if (!size) co_return co_await ex.sendError(size.error());
    auto res = blobHeaders(http::status::temporary_redirect, *digest);
    res.set(http::field::location, *url);
    res.set(http::field::cache_control, "no-store");
    co_await ex.sendHeaders(std::move(res), 0);
    usage_.served(route.name, *size);
    co_return;
  }
  std::optional<Result<std::unique_ptr<storage::BlobReader>>> opened;
  if (cached_size && registry_.blobStore().local()) {
    opened.emplace(registry_.blobStore().open(*digest));
  } else if (cached_size) {
    opened.emplace(co_await ex.blocking([&] { return registry_.blobStore().open(*digest); }));
  } else {
    opened.emplace(co_await ex.blocking([&] { return registry_.openBlob(route.name, *digest); }));
  }
  auto& reader = *opened;
  if (!reader) co_return co_await ex.sendError(reader.error());
  const uint64_t size = (*reader)->size();
  uint64_t offset = 0, length = size;
  auto status = http::status::ok;
  if (auto range_header = ex.header(http::field::range); !range_header.empty()) {
    auto range = oci::parseRangeHeader(range_header, size);
    if (range) {
      offset = range->first;
      length = range->length();
      status = http::status::partial_content;
    } else if (range.code() == Code::kRangeInvalid) {
      server::Response res;
      res.set(http::field::content_range, "bytes */" + std::to_string(size));
      co_return co_await ex.sendError(range.error(), std::move(res));
    }  // a malformed Range header is ignored: the whole blob is served (RFC 9110)
  }
  auto res = blobHeaders(status, *digest);
  if (status == http::status::partial_content) {
    res.set(http::field::content_range, "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) +
                                            "/" + std::to_string(size));
  }
  co_await sendBlobBytes(ex, std::move(res), **reader, offset, length);
  usage_.served(route.name, ex.bytesOut());
}

Task<void> sendBlobBytes(Exchange& ex, server::http::response<server::http::empty_body> res, storage::BlobReader& blob, uint64_t offset,
                         uint64_t length) {
  if (const int fd = blob.fd(); fd >= 0) co_return co_await ex.sendFile(std::move(res), fd, offset, length);
  co_await ex.sendRead(
      std::move(res), [&blob](uint64_t at, char* buf, size_t len) { return blob.readAt(at, buf, len); }, offset,
      length);
}

bool Blobs::mayRead(const std::optional<auth::Principal>& who, std::string_view repository) const {
  if (!who) return true;
  // Content read: a mount copies the blob's bytes, so metadata_read (reader) is not enough.
  return (access_->permissions(*who, repository, unixNow()) & auth::kPermPull) != 0;
}

bool Blobs::mayReadAll(const auth::Principal& who) const {
  if (who.kind != auth::Principal::Kind::kCredentials) return false;
  for (const auto& g : access_->effectiveGrants(who, unixNow())) {
    if (g.pattern == "*" && (g.permissions & auth::kPermPull)) return true;
  }
  return false;
}

Task<void> Blobs::uploadStart(Exchange& ex, const Call& call) {
  const Route& route = call.route;
  const QueryParams& q = call.query;
  const std::optional<auth::Principal>& who = call.who;
  const auto mount = queryValue(q, "mount");
  const auto digest_param = queryValue(q, "digest");
  if (mount) {
    auto digest = parseDigestParam(*mount);
    if (!digest) co_return co_await ex.sendError(digest.error());
    auto from = queryValue(q, "from");
    if (from && !oci::validateName(*from)) from.reset();  // an invalid source cannot hold the blob
    // A caller mounts only from what it may read: a named source it can pull, or, without
    // one, any repository only if it can pull them all. Otherwise: an ordinary upload.
    const bool allowed = from ? mayRead(who, *from) : (!who || mayReadAll(*who));
    Result<uint64_t> mounted = makeError(Code::kBlobUnknown, "not mountable");
    if (allowed) mounted = co_await ex.blocking([&] { return registry_.mountBlob(route.name, *digest, from); });
    if (mounted) co_return co_await ex.send(created(route.name, *digest));
    if (mounted.code() != Code::kBlobUnknown) co_return co_await ex.sendError(mounted.error());
    // Not mountable: fall back to an ordinary upload session (202), as the spec says.
  }
  std::optional<oci::Digest> digest;
  if (digest_param && !mount) {
    auto d = parseDigestParam(*digest_param);
    if (!d) co_return co_await ex.sendError(d.error());
    digest = *d;
  }
  std::optional<registry::UploadSlot> slot;
  if (digest) {
    auto acquired = registry_.acquireUploadSlot(ex.clientAddress());
    if (!acquired) co_return co_await ex.sendError(acquired.error());
    slot.emplace(std::move(*acquired));
  }
  auto rec = co_await ex.blocking([&] { return registry_.startUpload(route.name); });
  if (!rec) co_return co_await ex.sendError(rec.error());
  if (!digest) {
    co_return co_await ex.send(uploadStatus(http::status::accepted, route.name, rec->id, 0));
  }
  // Single-request monolithic upload: POST ?digest= with the blob as body.
  auto stream = co_await ex.blocking([&] { return registry_.beginAppend(route.name, rec->id, digest->algorithm(), digest); });
  if (!stream) co_return co_await ex.sendError(stream.error());
  auto s = co_await ex.streamBody([&](std::string_view data) { return (*stream)->write(data); });
  if (!s) {
    (void)co_await ex.blocking([&] {
      registry_.abortAppend(std::move(*stream));
      return registry_.cancelUpload(route.name, rec->id);
    });
    co_return co_await ex.sendError(s.error());
  }
  auto done = co_await ex.blocking([&] { return registry_.finishUpload(std::move(*stream), *digest); });
  if (!done) co_return co_await ex.sendError(done.error());
  usage_.received(route.name, *done);
  co_await ex.send(created(route.name, *digest));
}

Task<void> Blobs::upload(Exchange& ex, const Call& call) {
  const Route& route = call.route;
  const QueryParams& q = call.query;
  const auto method = ex.method();
  const std::string& id = route.ref;
  if (method == http::verb::get) {
    auto rec = co_await ex.blocking([&] { return registry_.getUpload(route.name, id); });
    if (!rec) co_return co_await ex.sendError(rec.error());
    co_return co_await ex.send(uploadStatus(http::status::no_content, route.name, id, rec->offset));
  }
  if (method == http::verb::delete_) {
    auto s = co_await ex.blocking([&] { return registry_.cancelUpload(route.name, id); });
    if (!s) co_return co_await ex.sendError(s.error());
    co_return co_await ex.send(server::Response{http::status::no_content, 11});
  }
  // PATCH appends a chunk; PUT appends an optional last chunk and completes.
  std::optional<oci::Digest> digest;
  if (method == http::verb::put) {
    auto param = queryValue(q, "digest");
    if (!param) co_return co_await ex.sendError(makeError(Code::kDigestInvalid, "the digest query parameter is required"));
    auto d = parseDigestParam(*param);
    if (!d) co_return co_await ex.sendError(d.error());
    digest = *d;
  }
  std::optional<oci::ByteRange> range;
  if (auto cr = ex.header(http::field::content_range); !cr.empty() && ex.hasBody()) {
    auto r = oci::parseContentRange(cr);
    if (!r) co_return co_await ex.sendError(makeError(Code::kRangeInvalid, r.error().message));
    range = *r;
  }
  auto slot = registry_.acquireUploadSlot(ex.clientAddress());
  if (!slot) co_return co_await ex.sendError(slot.error());
  auto alg = digest ? digest->algorithm() : oci::DigestAlgorithm::kSha256;
  auto stream = co_await ex.blocking([&] { return registry_.beginAppend(route.name, id, alg, digest); });
  if (!stream) co_return co_await ex.sendError(stream.error());
  const uint64_t start = (*stream)->offset();
  if (range) {
    auto cl = ex.contentLength();
    if (range->first != start || (cl && *cl != range->length())) {
      co_await ex.blocking([&] { registry_.abortAppend(std::move(*stream)); return 0; });
      auto res = uploadStatus(http::status::range_not_satisfiable, route.name, id, start);
      co_return co_await ex.sendError(
          makeError(Code::kRangeInvalid, "chunk must start at offset " + std::to_string(start) +
                                             " and match Content-Length; the upload has " + std::to_string(start) +
                                             " bytes"),
          std::move(res));
    }
  }
  auto s = co_await ex.streamBody([&](std::string_view data) { return (*stream)->write(data); });
  if (!s) {
    co_await ex.blocking([&] { registry_.abortAppend(std::move(*stream)); return 0; });
    co_return co_await ex.sendError(s.error());
  }
  if (range && (*stream)->offset() - start != range->length()) {
    co_await ex.blocking([&] { registry_.abortAppend(std::move(*stream)); return 0; });
    co_return co_await ex.sendError(makeError(Code::kRangeInvalid, "chunk length does not match Content-Range"),
                                    uploadStatus(http::status::range_not_satisfiable, route.name, id, start));
  }
  if (!digest) {
    auto offset = co_await ex.blocking([&] { return registry_.endAppend(std::move(*stream)); });
    if (!offset) co_return co_await ex.sendError(offset.error());
    co_return co_await ex.send(uploadStatus(http::status::accepted, route.name, id, *offset));
  }
  auto done = co_await ex.blocking([&] { return registry_.finishUpload(std::move(*stream), *digest); });
  if (!done) co_return co_await ex.sendError(done.error());
  usage_.received(route.name, *done);
  co_await ex.send(created(route.name, *digest));
}

}  // namespace berth::api
