#pragma once
// A small blocking HTTP client over libcurl for the object store drivers (S3, Azure Blob).
// Each thread reuses one curl handle, so its connections (and TLS sessions) stay open
// between requests. No retries here: the drivers retry what is idempotent, re-signing.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::storage::http {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;             // already percent-encoded
  std::vector<Header> headers;
  // The request body, sent as is; or, when body_source is set, body_size bytes pulled from
  // it (it fills the buffer and returns the bytes written, 0 only at the end).
  std::string_view body;
  std::function<size_t(char* buf, size_t len)> body_source;
  uint64_t body_size = 0;
  // When set, a 2xx response body is handed over in pieces as it arrives instead of being
  // collected; returning false aborts the transfer. Error bodies are always collected.
  std::function<bool(std::string_view)> sink;
  // The whole exchange's limit (0: none; a transfer slower than 1 KiB/s for a minute is
  // abandoned either way). For small answers that must come soon, e.g. a replica's journal.
  long timeout_seconds = 0;
};

struct Response {
  long status = 0;
  std::vector<Header> headers;  // names lowercased
  std::string body;             // empty when a sink took it
  uint64_t sink_bytes = 0;      // bytes handed to the sink
  // The first header of that (lowercase) name, or "".
  std::string_view header(std::string_view name) const;
};

// Sends one request and waits for the whole response. kUnavailable when the server can
// not be reached or the transfer fails (the message names the URL's host, never a
// credential); any HTTP status is a successful Response.
Result<Response> perform(const Request& request);

// Sends the request make() builds (again, re-made so re-signed, up to `attempts` times in
// all) while it fails to connect or answers 5xx, if `idempotent` and no body byte reached
// its sink yet. Backs off 0.4 s, then 1.6 s.
Result<Response> performWithRetries(const std::function<Request()>& make, bool idempotent, int attempts = 3);

// Unix seconds of an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"); 0 when empty or malformed.
int64_t parseHttpDate(std::string_view text);

// ASCII lowercase (header names).
std::string lowercase(std::string_view text);

// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string uriEncode(std::string_view text, bool keep_slash);

}  // namespace berth::storage::http
