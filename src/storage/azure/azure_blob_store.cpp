#include "storage/azure/azure_blob_store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/text.h"
#include "storage/blob_layout.h"
#include "storage/buffered_upload_writer.h"
#include "storage/http/crypto.h"
#include "storage/http/xml.h"

namespace berth::storage {
namespace {

constexpr const char* kVersion = "2021-08-06";
// How long commitUpload waits for a copy the service reports pending.
constexpr auto kCopyWait = std::chrono::minutes(5);

std::string stagingKey(std::string_view id) { return "uploads/" + std::string(id); }

std::string blockId(uint64_t start) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(start));
  return http::base64Encode(buf);
}

// A copy that has not (yet) succeeded is not a blob.
bool copyDone(const http::Response& r) {
  std::string_view status = r.header("x-ms-copy-status");
  return status.empty() || status == "success";
}

}  // namespace

// Each part it stores is a block (its id the part's offset); publishing commits the list.
class AzureBlobStore::Writer : public BufferedUploadWriter {
 public:
  Writer(const AzureBlobStore& store, std::string id, std::vector<Block> blocks, uint64_t offset)
      : BufferedUploadWriter(std::move(id), offset, kBlockSize),
        store_(store),
        key_(stagingKey(this->id())),
        blocks_(std::move(blocks)) {}
  ~Writer() override { finish(); }

 private:
  Status storePart(uint64_t offset, std::string_view bytes) override {
    if (Status s = store_.putBlock(key_, offset, bytes); !s) return s;
    blocks_.push_back({blockId(offset), bytes.size()});
    dirty_ = true;
    return okStatus();
  }
  Status publish() override {
    if (!dirty_) return okStatus();
    if (Status s = store_.putBlockList(key_, blocks_); !s) return s;
    dirty_ = false;
    return okStatus();
  }

  const AzureBlobStore& store_;
  std::string key_;
  std::vector<Block> blocks_;  // committed, then stored but not yet committed
  bool dirty_ = false;
};

AzureBlobStore::AzureBlobStore(AzureOptions options, std::string key)
    : options_(std::move(options)), key_(std::move(key)) {
  sas_ = options_.sas;
  if (!sas_.empty() && sas_.front() == '?') sas_.erase(0, 1);
  std::string endpoint = options_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  auto sep = endpoint.find("://");
  auto slash = endpoint.find('/', sep == std::string::npos ? 0 : sep + 3);
  scheme_host_ = endpoint.substr(0, slash);
  base_path_ = slash == std::string::npos ? "" : endpoint.substr(slash);
}

std::string AzureBlobStore::path(std::string_view key) const {
  std::string p = base_path_ + "/" + http::uriEncode(options_.container, false);
  if (!key.empty()) {
    p += '/';
    p += http::uriEncode(key, true);
  }
  return p;
}

std::string AzureBlobStore::url(std::string_view key) const { return scheme_host_ + path(key); }

Result<http::Response> AzureBlobStore::send(const Call& call) const {
  // Every operation used is a PUT, GET, HEAD or DELETE that may be repeated.
  return http::performWithRetries(
      [&] {
        http::Request req;
        req.method = call.method;
        req.body = call.body;
        req.sink = call.sink;
        std::string query;
        auto append = [&](std::string_view param) {
          query += query.empty() ? '?' : '&';
          query += param;
        };
        for (const auto& [k, v] : call.query) append(http::uriEncode(k, false) + "=" + http::uriEncode(v, false));
        if (!sas_.empty()) append(sas_);
        req.url = url(call.key) + query;
        req.headers = call.headers;
        req.headers.push_back({"x-ms-date", azure::rfc1123(unixNow())});
        req.headers.push_back({"x-ms-version", kVersion});
        if (sas_.empty()) {
          azure::RequestToSign sig{call.method, path(call.key), call.query, req.headers, call.body.size()};
          req.headers.push_back({"Authorization", azure::authorization(sig, options_.account, key_)});
        }
        return req;
      },
      true);
}

Error AzureBlobStore::failure(const http::Response& response, std::string_view what) const {
  std::string code = http::xmlText(response.body, "Code");
  if (code.empty()) code = std::string(response.header("x-ms-error-code"));
  std::string message = http::xmlText(response.body, "Message");
  if (auto nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  std::string text = "Azure " + std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += " (" + quoteUntrusted(message, 200) + ")";
  if (code == "ContainerNotFound") {
    return makeError(Code::kUnavailable,
                     "storage.azure.container \"" + options_.container + "\" does not exist");
  }
  if (response.status == 403) {
    return makeError(Code::kUnavailable, "storage.azure: access denied: check the account key or SAS; " + text);
  }
  return makeError(response.status >= 500 ? Code::kUnavailable : Code::kIoError, text);
}

Result<std::unique_ptr<AzureBlobStore>> AzureBlobStore::open(const AzureOptions& options) {
  if (options.container.empty()) return makeError(Code::kInvalidArgument, "storage.azure.container is empty");
  if (options.endpoint.empty()) return makeError(Code::kInvalidArgument, "storage.azure.endpoint is empty");
  if (options.endpoint.find("://") == std::string::npos) {
    return makeError(Code::kInvalidArgument, "storage.azure.endpoint: not a URL (http:// or https://)");
  }
  std::string key;
  if (options.sas.empty()) {
    if (options.account.empty()) return makeError(Code::kInvalidArgument, "storage.azure.account is empty");
    auto decoded = http::base64Decode(options.key);
    if (options.key.empty() || !decoded) {
      return makeError(Code::kInvalidArgument, "storage.azure.key: set the account key (base64) or a SAS");
    }
    key = std::move(*decoded);
  }
  std::unique_ptr<AzureBlobStore> store(new AzureBlobStore(options, std::move(key)));
  // A SAS (service or account) may list blobs but not read the container's properties.
  auto r = options.sas.empty()
               ? store->send(Call("HEAD", "", {{"restype", "container"}}))
               : store->send(Call("GET", "", {{"restype", "container"}, {"comp", "list"}, {"maxresults", "1"}}));
  if (!r) return makeError(Code::kUnavailable, "storage.azure.endpoint: cannot connect: " + r.error().message);
  const std::string container = "storage.azure.container \"" + options.container + "\"";
  switch (r->status) {
    case 200:
      return store;
    case 404:
      return makeError(Code::kUnavailable, container + " does not exist");
    case 401:
    case 403:
      return makeError(Code::kUnavailable, "storage.azure: access denied to " + container +
                                               ": check storage.azure.key (or .sas) and storage.azure.account (HTTP " +
                                               std::to_string(r->status) + ")");
    default:
      return makeError(Code::kUnavailable, "storage.azure: Get Container Properties of " + container +
                                               " answered HTTP " + std::to_string(r->status));
  }
}

Status AzureBlobStore::createContainer(const AzureOptions& options) {
  auto decoded = http::base64Decode(options.key);
  AzureBlobStore store(options, decoded.value_or(""));
  auto r = store.send(Call("PUT", "", {{"restype", "container"}}));
  if (!r) return r.takeError();
  if (r->status == 201 || r->status == 409) return okStatus();
  return store.failure(*r, "create container");
}

Status AzureBlobStore::putObject(const std::string& key, std::string_view body) const {
  Call call("PUT", key, {}, body);
  call.headers = {{"x-ms-blob-type", "BlockBlob"}};
  auto r = send(call);
  if (!r) return r.takeError();
  if (r->status != 201) return failure(*r, "Put Blob " + key);
  return okStatus();
}

Status AzureBlobStore::deleteObject(const std::string& key) const {
  auto r = send(Call("DELETE", key));
  if (!r) return r.takeError();
  if (r->status != 202 && r->status != 200 && r->status != 404) return failure(*r, "Delete Blob " + key);
  return okStatus();
}

Status AzureBlobStore::putBlock(const std::string& key, uint64_t start, std::string_view bytes) const {
  auto r = send(Call("PUT", key, {{"comp", "block"}, {"blockid", blockId(start)}}, bytes));
  if (!r) return r.takeError();
  if (r->status != 201) return failure(*r, "Put Block " + key);
  return okStatus();
}

Status AzureBlobStore::putBlockList(const std::string& key, const std::vector<Block>& blocks) const {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (const Block& b : blocks) xml += "<Latest>" + b.id + "</Latest>";
  xml += "</BlockList>";
  auto r = send(Call("PUT", key, {{"comp", "blocklist"}}, xml));
  if (!r) return r.takeError();
  if (r->status != 201) return failure(*r, "Put Block List " + key);
  return okStatus();
}

Result<std::vector<AzureBlobStore::Block>> AzureBlobStore::committedBlocks(const std::string& key) const {
  auto r = send(Call("GET", key, {{"comp", "blocklist"}, {"blocklisttype", "committed"}}));
  if (!r) return r.takeError();
  if (r->status == 404) return makeError(Code::kNotFound, key);
  if (r->status != 200) return failure(*r, "Get Block List " + key);
  std::vector<Block> out;
  auto committed = http::xmlElements(r->body, "CommittedBlocks");
  if (committed.empty()) return out;
  for (std::string_view b : http::xmlElements(committed.front(), "Block")) {
    out.push_back({http::xmlText(b, "Name"), std::strtoull(http::xmlText(b, "Size").c_str(), nullptr, 10)});
  }
  return out;
}

Status AzureBlobStore::getRange(const std::string& key, uint64_t offset, uint64_t len, const Sink& sink) const {
  if (len == 0) return okStatus();
  Call call("GET", key);
  call.headers = {{"x-ms-range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + len - 1)}};
  call.sink = sink;
  auto r = send(call);
  if (!r) return r.takeError();
  if (r->status != 206 && r->status != 200) {
    if (r->status == 404) return makeError(Code::kNotFound, "Azure blob " + key + " is gone");
    return failure(*r, "Get Blob " + key);
  }
  if (r->sink_bytes != len) {
    return makeError(Code::kIoError, "Azure Get Blob " + key + ": " + std::to_string(r->sink_bytes) +
                                         " bytes, expected " + std::to_string(len));
  }
  return okStatus();
}

Status AzureBlobStore::copyBlob(const std::string& from, const std::string& to) const {
  Call call("PUT", to);
  call.headers = {{"x-ms-copy-source", url(from) + (sas_.empty() ? "" : "?" + sas_)}};
  auto r = send(call);
  if (!r) return r.takeError();
  if (r->status != 202 && r->status != 201) return failure(*r, "Copy Blob to " + to);
  std::string status(r->header("x-ms-copy-status"));
  const auto deadline = std::chrono::steady_clock::now() + kCopyWait;
  while (status == "pending") {
    if (std::chrono::steady_clock::now() > deadline) {
      return makeError(Code::kUnavailable, "Azure Copy Blob to " + to + " still pending");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto p = send(Call("HEAD", to));
    if (!p) return p.takeError();
    if (p->status != 200) return failure(*p, "Get Blob Properties " + to);
    status = std::string(p->header("x-ms-copy-status"));
  }
  if (!status.empty() && status != "success") {
    return makeError(Code::kIoError, "Azure Copy Blob to " + to + ": copy " + status);
  }
  return okStatus();
}

Status AzureBlobStore::listObjects(const std::string& prefix,
                                   const std::function<void(const ObjectInfo&)>& fn) const {
  std::string marker;
  while (true) {
    Call call("GET", "", {{"restype", "container"}, {"comp", "list"}, {"prefix", prefix}});
    if (!marker.empty()) call.query.emplace_back("marker", marker);
    auto r = send(call);
    if (!r) return r.takeError();
    if (r->status != 200) return failure(*r, "List Blobs " + prefix);
    for (std::string_view b : http::xmlElements(r->body, "Blob")) {
      fn(ObjectInfo{http::xmlText(b, "Name"), std::strtoull(http::xmlText(b, "Content-Length").c_str(), nullptr, 10),
                    http::parseHttpDate(http::xmlText(b, "Last-Modified"))});
    }
    marker = http::xmlText(r->body, "NextMarker");
    if (marker.empty()) break;
  }
  return okStatus();
}

Result<AzureBlobStore::ObjectInfo> AzureBlobStore::headObject(const std::string& key) const {
  auto r = send(Call("HEAD", key));
  if (!r) return r.takeError();
  if (r->status == 404 || (r->status == 200 && !copyDone(*r))) return makeError(Code::kNotFound, key);
  if (r->status != 200) return failure(*r, "Get Blob Properties " + key);
  return ObjectInfo{key, std::strtoull(std::string(r->header("content-length")).c_str(), nullptr, 10),
                    http::parseHttpDate(r->header("last-modified"))};
}

Result<std::unique_ptr<UploadWriter>> AzureBlobStore::openUpload(std::string_view id, uint64_t offset) {
  if (!validUploadId(id)) return badUploadId();
  const std::string key = stagingKey(id);
  if (offset == 0) {
    // A new empty blob: drops the committed blocks and any uncommitted ones.
    if (Status s = putObject(key, ""); !s) return s.takeError();
    return std::unique_ptr<UploadWriter>(new Writer(*this, std::string(id), {}, 0));
  }
  auto blocks = committedBlocks(key);
  if (!blocks) {
    if (blocks.code() == Code::kNotFound) return uploadUnknown(id);
    return blocks.takeError();
  }
  uint64_t size = 0;
  for (const Block& b : *blocks) size += b.size;
  if (size < offset) {
    return makeError(Code::kBlobUploadUnknown, "blob upload unknown: " + std::string(id) + " has " +
                                                   std::to_string(size) + " bytes, fewer than offset " +
                                                   std::to_string(offset));
  }
  if (size > offset) {
    std::vector<Block> keep;
    uint64_t start = 0;
    for (const Block& b : *blocks) {
      if (start + b.size <= offset) {
        keep.push_back(b);
      } else if (start < offset) {
        std::string head;
        head.reserve(static_cast<size_t>(offset - start));
        Status g = getRange(key, start, offset - start, [&](std::string_view piece) {
          head.append(piece);
          return true;
        });
        if (!g) return g.takeError();
        if (Status s = putBlock(key, start, head); !s) return s.takeError();
        keep.push_back({blockId(start), head.size()});
      }
      start += b.size;
    }
    if (Status s = putBlockList(key, keep); !s) return s.takeError();
    *blocks = std::move(keep);
  }
  return std::unique_ptr<UploadWriter>(new Writer(*this, std::string(id), std::move(*blocks), offset));
}

Result<oci::Digest> AzureBlobStore::hashUpload(std::string_view id, uint64_t length, oci::DigestAlgorithm alg) {
  if (!validUploadId(id)) return badUploadId();
  const std::string key = stagingKey(id);
  auto staging = headObject(key);
  if (!staging) return staging.code() == Code::kNotFound ? uploadUnknown(id) : staging.takeError();
  const uint64_t size = staging->size;
  if (size < length) {
    return makeError(Code::kBlobUploadInvalid, "blob upload invalid: " + std::string(id) + " has " +
                                                   std::to_string(size) + " bytes, expected " +
                                                   std::to_string(length));
  }
  oci::Hasher hasher(alg);
  Status s = getRange(key, 0, length, [&](std::string_view piece) {
    hasher.update(piece);
    return true;
  });
  if (!s) return s.takeError();
  return hasher.finish();
}

Status AzureBlobStore::commitUpload(std::string_view id, const oci::Digest& digest) {
  if (!validUploadId(id)) return badUploadId();
  if (digest.empty()) return makeError(Code::kDigestInvalid, "commit needs a digest");
  const std::string key = stagingKey(id);
  if (auto staging = headObject(key); !staging) {
    return staging.code() == Code::kNotFound ? uploadUnknown(id) : staging.takeError();
  }
  if (Status s = writeOnce(digest, [&] { return copyBlob(key, blobKey(digest)); }); !s) return s;
  return deleteObject(key);
}

Status AzureBlobStore::removeUpload(std::string_view id) {
  if (!validUploadId(id)) return badUploadId();
  return deleteObject(stagingKey(id));
}

Status AzureBlobStore::listStaging(const std::function<void(const StagingFile&)>& uploads,
                                   const std::function<void(const StagingFile&)>& temps) {
  return listObjects("uploads/", [&](const ObjectInfo& o) {
    std::string id = o.key.substr(8);
    if (validUploadId(id)) uploads(StagingFile{std::move(id), o.modified_at});
  });  // put() writes in one request: no temp blobs
}

std::string AzureBlobStore::presignedUrl(const std::string& key, std::chrono::seconds ttl) const {
  if (!sas_.empty()) return url(key) + "?" + sas_;
  azure::ServiceSas sas;
  sas.expiry = formatRfc3339(unixNow() + std::max<int64_t>(ttl.count(), 1));
  sas.container = options_.container;
  sas.blob = key;
  return url(key) + "?" + azure::sasQuery(sas, options_.account, key_);
}

}  // namespace berth::storage
