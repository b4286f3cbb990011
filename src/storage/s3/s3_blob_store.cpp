#include "storage/s3/s3_blob_store.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "common/text.h"
#include "storage/blob_layout.h"
#include "storage/buffered_upload_writer.h"
#include "storage/http/crypto.h"
#include "storage/http/xml.h"

namespace berth::storage {
namespace {

constexpr int kMaxParts = 10000;
const std::string kEmptySha256 = http::sha256Hex("");

std::string uploadPrefix(std::string_view id) { return "uploads/" + std::string(id) + "/"; }
std::string infoKey(std::string_view id) { return uploadPrefix(id) + "info"; }
std::string chunkKey(std::string_view id, uint64_t start) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "c%020llu", static_cast<unsigned long long>(start));
  return uploadPrefix(id) + buf;
}

}  // namespace

// Each part it stores is the chunk object at its offset.
class S3BlobStore::Writer : public BufferedUploadWriter {
 public:
  Writer(const S3BlobStore& store, std::string id, uint64_t offset)
      : BufferedUploadWriter(std::move(id), offset, kPartSize), store_(store) {}
  ~Writer() override { finish(); }

 private:
  Status storePart(uint64_t offset, std::string_view bytes) override {
    return store_.putObject(chunkKey(id(), offset), bytes);
  }

  const S3BlobStore& store_;
};

S3BlobStore::S3BlobStore(S3Options options) : options_(std::move(options)) {
  credentials_ = {options_.access_key, options_.secret_key, options_.session_token};
  std::string endpoint = options_.endpoint;
  if (endpoint.empty()) endpoint = "https://s3." + options_.region + ".amazonaws.com";
  auto sep = endpoint.find("://");
  scheme_ = sep == std::string::npos ? "https" : endpoint.substr(0, sep);
  std::string rest = sep == std::string::npos ? endpoint : endpoint.substr(sep + 3);
  host_ = rest.substr(0, rest.find('/'));
  if (!options_.path_style) host_ = options_.bucket + "." + host_;
}

std::string S3BlobStore::objectPath(std::string_view key) const {
  std::string path;
  if (options_.path_style) {
    path += '/';
    path += http::uriEncode(options_.bucket, false);
  }
  path += '/';
  path += http::uriEncode(key, true);
  return path;
}

std::string S3BlobStore::objectUrl(std::string_view key, const s3::QueryParams& query) const {
  std::string url = scheme_ + "://" + host_ + objectPath(key);
  if (!query.empty()) {
    url += '?';
    url += s3::canonicalQuery(query);
  }
  return url;
}

Result<http::Response> S3BlobStore::send(const Call& call) const {
  // POSTs (start or complete a multipart upload) are not idempotent: never repeated.
  return http::performWithRetries(
      [&] {
        http::Request req;
        req.method = call.method;
        req.url = objectUrl(call.key, call.query);
        req.body = call.body;
        req.sink = call.sink;
        s3::RequestToSign sig;
        sig.method = call.method;
        sig.path = objectPath(call.key);
        sig.query = call.query;
        sig.payload_hash = call.body.empty() ? kEmptySha256 : http::sha256Hex(call.body);
        sig.headers = call.headers;
        const std::string date = s3::amzDate(unixNow());
        sig.headers.push_back({"host", host_});
        sig.headers.push_back({"x-amz-date", date});
        sig.headers.push_back({"x-amz-content-sha256", sig.payload_hash});
        if (!credentials_.session_token.empty()) {
          sig.headers.push_back({"x-amz-security-token", credentials_.session_token});
        }
        req.headers = sig.headers;
        req.headers.push_back({"Authorization", s3::sign(sig, credentials_, {options_.region, "s3", date}).authorization});
        return req;
      },
      call.method != "POST");
}

Error S3BlobStore::failure(const http::Response& response, std::string_view what) const {
  std::string code = http::xmlText(response.body, "Code");
  std::string message = http::xmlText(response.body, "Message");
  std::string text = "S3 " + std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += " (" + quoteUntrusted(message, 200) + ")";
  if (code == "NoSuchBucket") {
    return makeError(Code::kUnavailable, "storage.s3.bucket \"" + options_.bucket + "\" does not exist");
  }
  if (response.status == 403) {
    return makeError(Code::kUnavailable,
                     "storage.s3: access denied: check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; " + text);
  }
  return makeError(response.status >= 500 ? Code::kUnavailable : Code::kIoError, text);
}

Result<std::unique_ptr<S3BlobStore>> S3BlobStore::open(const S3Options& options) {
  if (options.bucket.empty()) return makeError(Code::kInvalidArgument, "storage.s3.bucket is empty");
  if (options.region.empty()) return makeError(Code::kInvalidArgument, "storage.s3.region is empty");
  if (options.access_key.empty() || options.secret_key.empty()) {
    return makeError(Code::kInvalidArgument,
                     "storage.s3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  std::unique_ptr<S3BlobStore> store(new S3BlobStore(options));
  auto r = store->send(Call("HEAD"));
  if (!r) {
    return makeError(Code::kUnavailable, "storage.s3.endpoint: cannot connect: " + r.error().message);
  }
  const std::string bucket = "storage.s3.bucket \"" + options.bucket + "\"";
  switch (r->status) {
    case 200:
      return store;
    case 404:
      return makeError(Code::kUnavailable, bucket + " does not exist");
    case 403:
    case 401:
      return makeError(Code::kUnavailable,
                       "storage.s3: access denied to " + bucket +
                           ": check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (HTTP " +
                           std::to_string(r->status) + ")");
    case 301:
    case 400:
      if (auto region = r->header("x-amz-bucket-region"); !region.empty() && region != options.region) {
        return makeError(Code::kUnavailable, "storage.s3.region: " + bucket + " is in region " +
                                                 std::string(region) + ", not " + options.region);
      }
      [[fallthrough]];
    default:
      return makeError(Code::kUnavailable,
                       "storage.s3: HEAD " + bucket + " answered HTTP " + std::to_string(r->status));
  }
}

Status S3BlobStore::createBucket(const S3Options& options) {
  S3BlobStore store(options);
  auto r = store.send(Call("PUT"));
  if (!r) return r.takeError();
  if (r->status == 200 || http::xmlText(r->body, "Code") == "BucketAlreadyOwnedByYou") return okStatus();
  return store.failure(*r, "create bucket");
}

Status S3BlobStore::listObjects(const std::string& prefix, const std::function<void(const ObjectInfo&)>& fn) const {
  std::string token;
  while (true) {
    Call call;
    call.query = {{"list-type", "2"}, {"prefix", prefix}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    auto r = send(call);
    if (!r) return r.takeError();
    if (r->status != 200) return failure(*r, "list " + prefix);
    for (std::string_view c : http::xmlElements(r->body, "Contents")) {
      fn(ObjectInfo{http::xmlText(c, "Key"), std::strtoull(http::xmlText(c, "Size").c_str(), nullptr, 10),
                    parseRfc3339(http::xmlText(c, "LastModified")).value_or(0)});
    }
    if (http::xmlText(r->body, "IsTruncated") != "true") break;
    token = http::xmlText(r->body, "NextContinuationToken");
    if (token.empty()) break;
  }
  return okStatus();
}

Result<S3BlobStore::ObjectInfo> S3BlobStore::headObject(const std::string& key) const {
  auto r = send(Call("HEAD", key));
  if (!r) return r.takeError();
  if (r->status == 404) return makeError(Code::kNotFound, key);
  if (r->status != 200) return failure(*r, "HEAD " + key);
  return ObjectInfo{key, std::strtoull(std::string(r->header("content-length")).c_str(), nullptr, 10),
                    http::parseHttpDate(r->header("last-modified"))};
}

Result<S3BlobStore::Staged> S3BlobStore::staged(std::string_view id) const {
  Staged st;
  std::vector<Chunk> chunks;
  const std::string prefix = uploadPrefix(id);
  Status listed = listObjects(prefix, [&](const ObjectInfo& o) {
    std::string_view name = std::string_view(o.key).substr(prefix.size());
    if (name == "info") {
      st.exists = true;
    } else if (name.size() == 21 && name[0] == 'c') {
      chunks.push_back({std::strtoull(std::string(name.substr(1)).c_str(), nullptr, 10), o.size, o.key});
    }
  });
  if (!listed) return listed.takeError();
  std::sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) { return a.start < b.start; });
  for (auto& c : chunks) {
    if (c.start == st.size && c.size > 0) {
      st.size += c.size;
      st.chunks.push_back(std::move(c));
    } else {
      st.debris.push_back(std::move(c));
    }
  }
  return st;
}

Status S3BlobStore::putObject(const std::string& key, std::string_view body) const {
  auto r = send(Call("PUT", key, {}, body));
  if (!r) return r.takeError();
  if (r->status != 200) return failure(*r, "PUT " + key);
  return okStatus();
}

Status S3BlobStore::deleteObject(const std::string& key) const {
  auto r = send(Call("DELETE", key));
  if (!r) return r.takeError();
  if (r->status != 204 && r->status != 200 && r->status != 404) return failure(*r, "DELETE " + key);
  return okStatus();
}

Status S3BlobStore::getRange(const std::string& key, uint64_t offset, uint64_t len, const Sink& sink) const {
  if (len == 0) return okStatus();
  Call call;
  call.key = key;
  call.headers = {{"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + len - 1)}};
  call.sink = sink;
  auto r = send(call);
  if (!r) return r.takeError();
  if (r->status != 206 && r->status != 200) {
    if (r->status == 404) return makeError(Code::kNotFound, "S3 object " + key + " is gone");
    return failure(*r, "GET " + key);
  }
  if (r->sink_bytes != len) {
    return makeError(Code::kIoError, "S3 GET " + key + ": " + std::to_string(r->sink_bytes) + " bytes, expected " +
                                         std::to_string(len));
  }
  return okStatus();
}

Status S3BlobStore::copyObject(const std::string& from, const std::string& to) const {
  Call call("PUT", to);
  call.headers = {{"x-amz-copy-source", "/" + options_.bucket + "/" + http::uriEncode(from, true)}};
  auto r = send(call);
  if (!r) return r.takeError();
  // A copy can fail after its 200 is sent: the error is then in the body.
  if (r->status != 200 || r->body.find("<Error>") != std::string::npos) return failure(*r, "copy to " + to);
  return okStatus();
}

Status S3BlobStore::multipartCopy(const std::vector<Chunk>& chunks, const std::string& to) const {
  auto init = send(Call("POST", to, {{"uploads", ""}}));
  if (!init) return init.takeError();
  if (init->status != 200) return failure(*init, "start multipart upload of " + to);
  const std::string upload_id = http::xmlText(init->body, "UploadId");
  if (upload_id.empty()) return makeError(Code::kIoError, "S3 multipart upload of " + to + ": no UploadId");

  std::vector<std::string> etags;
  std::string part;
  part.reserve(kPartSize);
  auto uploadPart = [&]() -> Status {
    if (etags.size() >= kMaxParts) return makeError(Code::kTooLarge, "blob exceeds the S3 part limit");
    Call call("PUT", to, {}, part);
    call.query = {{"partNumber", std::to_string(etags.size() + 1)}, {"uploadId", upload_id}};
    auto r = send(call);
    if (!r) return r.takeError();
    if (r->status != 200) return failure(*r, "upload part of " + to);
    etags.emplace_back(r->header("etag"));
    part.clear();
    return okStatus();
  };
  Status s = [&]() -> Status {
    for (const Chunk& c : chunks) {
      uint64_t pos = 0;
      while (pos < c.size) {
        uint64_t n = std::min<uint64_t>(c.size - pos, kPartSize - part.size());
        Status g = getRange(c.key, pos, n, [&](std::string_view piece) {
          part.append(piece);
          return true;
        });
        if (!g) return g;
        pos += n;
        if (part.size() == kPartSize) {
          if (Status u = uploadPart(); !u) return u;
        }
      }
    }
    if (!part.empty() || etags.empty()) return uploadPart();
    return okStatus();
  }();
  if (s) {
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + http::xmlEscape(etags[i]) +
             "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    Call call("POST", to, {}, xml);
    call.query = {{"uploadId", upload_id}};
    auto r = send(call);
    if (!r) {
      s = r.takeError();
    } else if (r->status != 200 || r->body.find("<Error>") != std::string::npos) {
      s = failure(*r, "complete multipart upload of " + to);
    } else {
      return okStatus();
    }
  }
  (void)send(Call("DELETE", to, {{"uploadId", upload_id}}));
  return s;
}

Result<std::unique_ptr<UploadWriter>> S3BlobStore::openUpload(std::string_view id, uint64_t offset) {
  if (!validUploadId(id)) return badUploadId();
  auto st = staged(id);
  if (!st) return st.takeError();
  if (offset > 0 && !st->exists) return uploadUnknown(id);
  if (st->size < offset) {
    return makeError(Code::kBlobUploadUnknown, "blob upload unknown: " + std::string(id) + " has " +
                                                   std::to_string(st->size) + " bytes, fewer than offset " +
                                                   std::to_string(offset));
  }
  // Everything past offset goes before a writer exists, so stale chunks can never line up
  // behind new ones.
  for (const Chunk& c : st->debris) {
    if (Status s = deleteObject(c.key); !s) return s.takeError();
  }
  for (const Chunk& c : st->chunks) {
    if (c.start >= offset) {
      if (Status s = deleteObject(c.key); !s) return s.takeError();
    } else if (c.start + c.size > offset) {
      std::string keep;
      keep.reserve(static_cast<size_t>(offset - c.start));
      Status g = getRange(c.key, 0, offset - c.start, [&](std::string_view piece) {
        keep.append(piece);
        return true;
      });
      if (!g) return g.takeError();
      if (Status s = putObject(c.key, keep); !s) return s.takeError();
    }
  }
  if (!st->exists) {
    if (Status s = putObject(infoKey(id), ""); !s) return s.takeError();
  }
  return std::unique_ptr<UploadWriter>(new Writer(*this, std::string(id), offset));
}

Result<oci::Digest> S3BlobStore::hashUpload(std::string_view id, uint64_t length, oci::DigestAlgorithm alg) {
  if (!validUploadId(id)) return badUploadId();
  auto st = staged(id);
  if (!st) return st.takeError();
  if (!st->exists) return uploadUnknown(id);
  if (st->size < length) {
    return makeError(Code::kBlobUploadInvalid, "blob upload invalid: " + std::string(id) + " has " +
                                                   std::to_string(st->size) + " bytes, expected " +
                                                   std::to_string(length));
  }
  oci::Hasher hasher(alg);
  for (const Chunk& c : st->chunks) {
    if (c.start >= length) break;
    Status s = getRange(c.key, 0, std::min(c.size, length - c.start), [&](std::string_view piece) {
      hasher.update(piece);
      return true;
    });
    if (!s) return s.takeError();
  }
  return hasher.finish();
}

Status S3BlobStore::commitUpload(std::string_view id, const oci::Digest& digest) {
  if (!validUploadId(id)) return badUploadId();
  if (digest.empty()) return makeError(Code::kDigestInvalid, "commit needs a digest");
  auto st = staged(id);
  if (!st) return st.takeError();
  if (!st->exists) return uploadUnknown(id);
  Status s = writeOnce(digest, [&]() -> Status {
    const std::string key = blobKey(digest);
    if (st->chunks.empty()) return putObject(key, "");
    if (st->chunks.size() == 1) return copyObject(st->chunks.front().key, key);
    return multipartCopy(st->chunks, key);
  });
  if (!s) return s;
  return removeUpload(id);
}

Status S3BlobStore::removeUpload(std::string_view id) {
  if (!validUploadId(id)) return badUploadId();
  std::vector<std::string> keys;
  if (Status s = listObjects(uploadPrefix(id), [&](const ObjectInfo& o) { keys.push_back(o.key); }); !s) return s;
  // The info object last: a removal cut short is still an upload to sweep.
  const std::string info = infoKey(id);
  std::stable_partition(keys.begin(), keys.end(), [&](const std::string& k) { return k != info; });
  for (const std::string& key : keys) {
    if (Status s = deleteObject(key); !s) return s;
  }
  return okStatus();
}

Status S3BlobStore::listStaging(const std::function<void(const StagingFile&)>& uploads,
                                const std::function<void(const StagingFile&)>& temps) {
  std::map<std::string, int64_t> latest;
  Status s = listObjects("uploads/", [&](const ObjectInfo& o) {
    std::string_view rest = std::string_view(o.key).substr(8);
    std::string id(rest.substr(0, rest.find('/')));
    if (!validUploadId(id)) return;
    auto [it, fresh] = latest.emplace(id, o.modified_at);
    if (!fresh) it->second = std::max(it->second, o.modified_at);
  });
  if (!s) return s;
  for (const auto& [id, modified] : latest) uploads(StagingFile{id, modified});
  return okStatus();  // put() writes in one request: no temp objects
}

std::string S3BlobStore::presignedUrl(const std::string& key, std::chrono::seconds ttl) const {
  // SigV4 presigned URLs live at most 7 days.
  const int64_t expires = std::clamp<int64_t>(ttl.count(), 1, 7 * 24 * 3600);
  const std::string path = objectPath(key);
  return scheme_ + "://" + host_ + path + "?" +
         s3::presignQuery(host_, path, credentials_, {options_.region, "s3", s3::amzDate(unixNow())}, expires);
}

}  // namespace berth::storage
