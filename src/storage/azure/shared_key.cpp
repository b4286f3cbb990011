#include "storage/azure/shared_key.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "storage/http/crypto.h"

namespace berth::storage::azure {
namespace {

std::string headerValue(const std::vector<http::Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (http::lowercase(h.name) == name) return h.value;
  }
  return {};
}

}  // namespace

std::string rfc1123(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string canonicalizedHeaders(const std::vector<http::Header>& headers) {
  std::map<std::string, std::string> ms;
  for (const auto& h : headers) {
    std::string name = http::lowercase(h.name);
    if (!name.starts_with("x-ms-")) continue;
    // Trimmed, runs of whitespace folded to one space.
    std::string value;
    bool space = false;
    for (char c : h.value) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        space = !value.empty();
        continue;
      }
      if (space) value.push_back(' ');
      space = false;
      value.push_back(c);
    }
    ms[name] = value;
  }
  std::string out;
  for (const auto& [name, value] : ms) out += name + ":" + value + "\n";
  return out;
}

std::string canonicalizedResource(std::string_view account, std::string_view path, const QueryParams& query) {
  std::string out = "/" + std::string(account) + std::string(path.empty() ? "/" : path);
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [k, v] : query) params[http::lowercase(k)].push_back(v);
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
  }
  return out;
}

std::string stringToSign(const RequestToSign& request, std::string_view account) {
  const auto& h = request.headers;
  // Content-Length is empty when zero (versions 2015-02-21 and later).
  const std::string length = request.content_length == 0 ? "" : std::to_string(request.content_length);
  return request.method + "\n" + headerValue(h, "content-encoding") + "\n" + headerValue(h, "content-language") +
         "\n" + length + "\n" + headerValue(h, "content-md5") + "\n" + headerValue(h, "content-type") + "\n" +
         headerValue(h, "date") + "\n" + headerValue(h, "if-modified-since") + "\n" + headerValue(h, "if-match") +
         "\n" + headerValue(h, "if-none-match") + "\n" + headerValue(h, "if-unmodified-since") + "\n" +
         headerValue(h, "range") + "\n" + canonicalizedHeaders(h) +
         canonicalizedResource(account, request.path, request.query);
}

std::string authorization(const RequestToSign& request, std::string_view account, std::string_view key) {
  return "SharedKey " + std::string(account) + ":" +
         http::base64Encode(http::hmacSha256(key, stringToSign(request, account)));
}

std::string sasStringToSign(const ServiceSas& sas, std::string_view account) {
  std::string resource = "/blob/" + std::string(account) + "/" + sas.container;
  if (!sas.blob.empty()) resource += "/" + sas.blob;
  // permissions, start, expiry, resource, identifier, IP, protocol, version, resource type
  // "b", snapshot time, encryption scope, then the five response header overrides.
  return sas.permissions + "\n\n" + sas.expiry + "\n" + resource + "\n\n\n\n" + sas.version + "\n" +
         (sas.blob.empty() ? "c" : "b") + "\n\n\n\n\n\n\n";
}

std::string sasQuery(const ServiceSas& sas, std::string_view account, std::string_view key) {
  const std::string sig = http::base64Encode(http::hmacSha256(key, sasStringToSign(sas, account)));
  return "sv=" + sas.version + "&sr=" + (sas.blob.empty() ? "c" : "b") + "&sp=" + http::uriEncode(sas.permissions, false) +
         "&se=" + http::uriEncode(sas.expiry, false) + "&sig=" + http::uriEncode(sig, false);
}

}  // namespace berth::storage::azure
