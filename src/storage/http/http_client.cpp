#include "storage/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

namespace berth::storage::http {
namespace {

constexpr long kConnectTimeoutSeconds = 10;
// A transfer slower than 1 KiB/s for this long is abandoned (no total timeout: blobs are big).
constexpr long kLowSpeedSeconds = 60;
constexpr size_t kMaxErrorBody = 64 * 1024;

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

CURL* threadHandle() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  thread_local std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  return handle.get();
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Transfer {
  const Request* request;
  Response* response;
  CURL* curl;
  std::string_view body_left;
  bool sink_failed = false;
};

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name = lowercase(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  t->response->headers.push_back({std::move(name), std::string(value)});
  return size * n;
}

size_t onBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->request->sink && status >= 200 && status < 300) {
    if (!t->request->sink(std::string_view(data, len))) {
      t->sink_failed = true;
      return 0;  // aborts the transfer
    }
    t->response->sink_bytes += len;
    return len;
  }
  std::string& body = t->response->body;
  if (t->request->sink && body.size() + len > kMaxErrorBody) return len;  // drop the rest
  body.append(data, len);
  return len;
}

size_t onRead(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t cap = size * n;
  if (t->request->body_source) return t->request->body_source(buf, cap);
  const size_t len = std::min(cap, t->body_left.size());
  std::copy_n(t->body_left.data(), len, buf);
  t->body_left.remove_prefix(len);
  return len;
}

std::string hostOf(std::string_view url) {
  auto start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  auto end = url.find_first_of("/?", start);
  return std::string(url.substr(start, end == std::string_view::npos ? url.npos : end - start));
}

}  // namespace

std::string_view Response::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return h.value;
  }
  return {};
}

Result<Response> perform(const Request& request) {
  CURL* curl = threadHandle();
  if (curl == nullptr) return makeError(Code::kUnavailable, "cannot initialise libcurl");
  curl_easy_reset(curl);
  Response response;
  Transfer t{&request, &response, curl, request.body};

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add = [&](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  for (const auto& h : request.headers) add(h.name + ": " + h.value);
  add("Expect:");  // no 100-continue round trip: the bodies are at most one part
  const bool has_body = request.method == "PUT" || request.method == "POST";
  const uint64_t body_size = request.body_source ? request.body_size : request.body.size();

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, request.timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kLowSpeedSeconds);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, onRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
    if (request.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());

  CURLcode rc = curl_easy_perform(curl);
  // The handle outlives this call: leave it pointing at nothing of ours.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  if (rc != CURLE_OK) {
    if (t.sink_failed) return makeError(Code::kIoError, "download aborted by its consumer");
    return makeError(Code::kUnavailable, "cannot reach " + hostOf(request.url) + ": " +
                                             curl_easy_strerror(rc));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Result<Response> performWithRetries(const std::function<Request()>& make, bool idempotent, int attempts) {
  Result<Response> result = makeError(Code::kInternal, "no attempt");
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << (2 * attempt)));
    Request req = make();
    uint64_t delivered = 0;
    if (req.sink) {
      req.sink = [&delivered, sink = std::move(req.sink)](std::string_view piece) {
        delivered += piece.size();
        return sink(piece);
      };
    }
    result = perform(req);
    const bool failed = result ? result->status >= 500 : result.code() == Code::kUnavailable;
    if (!failed || !idempotent || delivered > 0) break;
  }
  return result;
}

int64_t parseHttpDate(std::string_view text) {
  if (text.empty()) return 0;
  time_t t = curl_getdate(std::string(text).c_str(), nullptr);
  return t < 0 ? 0 : static_cast<int64_t>(t);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string uriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace berth::storage::http
