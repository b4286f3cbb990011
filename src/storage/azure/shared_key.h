#pragma once
// Azure Storage request signing: Shared Key (the Authorization header) and service SAS
// (a signed URL query), as the Blob service's REST documentation defines them. Pure
// functions of their inputs, so they are unit tested on fixed inputs.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/http/http_client.h"

namespace berth::storage::azure {

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // not encoded

struct RequestToSign {
  std::string method;
  std::string path;  // the URI path as sent, e.g. "/devstoreaccount1/container/blob"
  QueryParams query;
  std::vector<http::Header> headers;  // every header sent (x-ms-date, x-ms-version, ...)
  uint64_t content_length = 0;
};

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::string rfc1123(int64_t unix_seconds);
// The x-ms-* headers, lowercased, sorted, "name:value\n" each.
std::string canonicalizedHeaders(const std::vector<http::Header>& headers);
// "/<account><path>" then "\n<name>:<value>" per query parameter, names lowercased and sorted.
std::string canonicalizedResource(std::string_view account, std::string_view path, const QueryParams& query);
std::string stringToSign(const RequestToSign& request, std::string_view account);
// "SharedKey <account>:<base64 HMAC-SHA256 of stringToSign>"; `key` is the decoded account key.
std::string authorization(const RequestToSign& request, std::string_view account, std::string_view key);

struct ServiceSas {
  std::string permissions = "r";
  std::string expiry;  // "2026-12-01T10:00:00Z"
  std::string container;
  std::string blob;  // "" for a container SAS (sr=c)
  std::string version = "2020-12-06";
};
// The string-to-sign of a blob (or container) service SAS (version 2020-12-06 and later).
std::string sasStringToSign(const ServiceSas& sas, std::string_view account);
// The SAS query ("sv=...&sr=b&sp=r&se=...&sig=..."), signed with the decoded account key.
std::string sasQuery(const ServiceSas& sas, std::string_view account, std::string_view key);

}  // namespace berth::storage::azure
