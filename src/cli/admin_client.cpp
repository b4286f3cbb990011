#include "cli/admin_client.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/text.h"

namespace berth::cli {
namespace {

namespace json = boost::json;

std::string stringMember(const json::object& obj, std::string_view name) {
  const auto* v = obj.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::string serverErrorMessage(long status, std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    const auto& obj = parsed.get_object();
    if (const auto* errors = obj.if_contains("errors"); errors && errors->is_array()) {
      std::string joined;
      for (const auto& e : errors->get_array()) {
        if (!e.is_object()) continue;
        std::string message = stringMember(e.get_object(), "message");
        if (message.empty()) message = stringMember(e.get_object(), "code");
        if (message.empty()) continue;
        if (!joined.empty()) joined += "; ";
        joined += message;
      }
      if (!joined.empty()) return joined;
    }
    if (std::string description = stringMember(obj, "error_description"); !description.empty()) return description;
    if (std::string error = stringMember(obj, "error"); !error.empty()) return error;
  }
  std::string message = "HTTP " + std::to_string(status);
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) message += ": " + quoteUntrusted(body, 200);
  return message;
}

Code codeForStatus(long status) {
  switch (status) {
    case 400: return Code::kInvalidArgument;
    case 401: return Code::kUnauthorized;
    case 403: return Code::kDenied;
    case 404: return Code::kNotFound;
    case 409: return Code::kConflict;
    case 413: return Code::kPayloadTooLarge;
    case 429: return Code::kTooManyRequests;
    case 503: return Code::kUnavailable;
    default: return Code::kInternal;
  }
}

AdminClient::AdminClient(RegistryUrl registry, std::string authorization, HttpOptions options)
    : registry_(std::move(registry)), authorization_(std::move(authorization)), http_(std::move(options)) {}

Result<json::value> AdminClient::call(std::string_view method, std::string_view path,
                                      const std::optional<json::value>& body) const {
  HttpRequest request;
  request.method = std::string(method);
  request.url = registry_.base() + std::string(path);
  request.headers = {"Authorization: " + authorization_, "Accept: application/json"};
  if (body) {
    request.headers.push_back("Content-Type: application/json");
    request.body = json::serialize(*body);
  }
  auto response = http_.send(request);
  if (!response) return response.takeError();
  if (response->status < 200 || response->status > 299) {
    return makeError(codeForStatus(response->status), serverErrorMessage(response->status, response->body));
  }
  if (response->body.find_first_not_of(" \t\r\n") == std::string::npos) return json::value(nullptr);
  boost::system::error_code ec;
  json::value parsed = json::parse(response->body, ec);
  if (ec) {
    return makeError(Code::kCorrupt, "the registry's answer is not JSON: " + quoteUntrusted(response->body, 200));
  }
  return parsed;
}

}  // namespace berth::cli
