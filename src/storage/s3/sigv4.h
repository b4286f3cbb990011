#pragma once
// AWS Signature Version 4: the Authorization header of a request, and presigned URLs
// (query-string authentication). Pure functions of their inputs, so the published
// examples are unit tests.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/http/http_client.h"

namespace berth::storage::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // temporary credentials only
};

struct Scope {
  std::string region;
  std::string service;   // "s3"
  std::string amz_date;  // "20150830T123600Z"
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // not encoded

struct RequestToSign {
  std::string method;
  std::string path;  // the URI path as sent (already percent-encoded), "/" at least
  QueryParams query;
  std::vector<http::Header> headers;  // every header to sign, host and x-amz-date among them
  std::string payload_hash;           // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string signed_headers;  // "host;x-amz-date"
  std::string authorization;  // the Authorization header's value
};

// "YYYYMMDDTHHMMSSZ" of a unix time.
std::string amzDate(int64_t unix_seconds);
// The canonical query string: names and values encoded, sorted.
std::string canonicalQuery(const QueryParams& query);
Signature sign(const RequestToSign& request, const Credentials& credentials, const Scope& scope);
// The query of a presigned GET of `path` on `host`, signed for `expires_seconds`, to append
// to "scheme://host" + path + "?".
std::string presignQuery(std::string_view host, std::string_view path, const Credentials& credentials,
                         const Scope& scope, int64_t expires_seconds);

}  // namespace berth::storage::s3
