#include "storage/s3/sigv4.h"

#include <algorithm>
#include <ctime>

#include "storage/http/crypto.h"

namespace berth::storage::s3 {
namespace {

// Trimmed, with runs of spaces folded to one (the canonical header value).
std::string canonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string amzDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string canonicalQuery(const QueryParams& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) {
    encoded.emplace_back(http::uriEncode(k, false), http::uriEncode(v, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

Signature sign(const RequestToSign& request, const Credentials& credentials, const Scope& scope) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& h : request.headers) {
    std::string name = http::lowercase(h.name);
    std::string value = canonicalValue(h.value);
    auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& p) { return p.first == name; });
    if (it != headers.end()) {
      it->second += "," + value;
    } else {
      headers.emplace_back(std::move(name), std::move(value));
    }
  }
  std::sort(headers.begin(), headers.end());
  Signature out;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }
  out.canonical_request = request.method + "\n" + request.path + "\n" + canonicalQuery(request.query) +
                          "\n" + canonical_headers + "\n" + out.signed_headers + "\n" +
                          request.payload_hash;
  const std::string date = scope.amz_date.substr(0, 8);
  const std::string credential_scope = date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  out.string_to_sign = "AWS4-HMAC-SHA256\n" + scope.amz_date + "\n" + credential_scope + "\n" +
                       http::sha256Hex(out.canonical_request);
  std::string key = http::hmacSha256("AWS4" + credentials.secret_key, date);
  key = http::hmacSha256(key, scope.region);
  key = http::hmacSha256(key, scope.service);
  key = http::hmacSha256(key, "aws4_request");
  out.signature = http::hexLower(http::hmacSha256(key, out.string_to_sign));
  out.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key + "/" + credential_scope +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  return out;
}

std::string presignQuery(std::string_view host, std::string_view path, const Credentials& credentials,
                         const Scope& scope, int64_t expires_seconds) {
  const std::string credential_scope =
      scope.amz_date.substr(0, 8) + "/" + scope.region + "/" + scope.service + "/aws4_request";
  RequestToSign req;
  req.method = "GET";
  req.path = std::string(path);
  req.query = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
               {"X-Amz-Credential", credentials.access_key + "/" + credential_scope},
               {"X-Amz-Date", scope.amz_date},
               {"X-Amz-Expires", std::to_string(expires_seconds)},
               {"X-Amz-SignedHeaders", "host"}};
  if (!credentials.session_token.empty()) {
    req.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  req.headers = {{"host", std::string(host)}};
  req.payload_hash = "UNSIGNED-PAYLOAD";
  Signature sig = sign(req, credentials, scope);
  return canonicalQuery(req.query) + "&X-Amz-Signature=" + sig.signature;
}

}  // namespace berth::storage::s3
