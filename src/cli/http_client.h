#pragma once
// A small blocking HTTP client over libcurl for the commands: one request, whole bodies
// in memory (admin answers and token responses are small).
#include <atomic>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::cli {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

struct HttpOptions {
  std::string ca_file;  // PEM bundle to trust instead of the system's; empty = system
  long connect_timeout_seconds = 15;
  long timeout_seconds = 120;
  // When set and it becomes true, a request in flight is abandoned within about a second
  // (kUnavailable). For callers that must stop promptly (webhook delivery).
  const std::atomic<bool>* cancel = nullptr;
  // Response body bytes kept; the rest is read and dropped.
  size_t max_body = std::numeric_limits<size_t>::max();
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);

  // Any HTTP status is a response; kUnavailable "cannot reach <url>: <reason>" when no
  // response arrived (DNS, connect, TLS, timeout). Redirects are not followed.
  Result<HttpResponse> send(const HttpRequest& request) const;

 private:
  HttpOptions options_;
};

}  // namespace berth::cli
