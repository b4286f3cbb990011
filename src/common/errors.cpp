#include "common/errors.h"

#include <boost/json.hpp>

namespace berth {

ErrorInfo errorInfo(Code code) {
  switch (code) {
    case Code::kNotFound: return {404, "NOT_FOUND"};
    case Code::kInvalidArgument: return {400, "INVALID_ARGUMENT"};
    case Code::kConflict: return {409, "CONFLICT"};
    case Code::kTooLarge: return {413, "SIZE_INVALID"};
    case Code::kUnavailable: return {503, "UNAVAILABLE"};
    case Code::kIoError: return {500, "INTERNAL_ERROR"};
    case Code::kCorrupt: return {500, "INTERNAL_ERROR"};
    case Code::kStorageFull: return {507, "STORAGE_FULL"};
    case Code::kInternal: return {500, "INTERNAL_ERROR"};
    case Code::kBlobUnknown: return {404, "BLOB_UNKNOWN"};
    case Code::kBlobUploadInvalid: return {400, "BLOB_UPLOAD_INVALID"};
    case Code::kBlobUploadUnknown: return {404, "BLOB_UPLOAD_UNKNOWN"};
    case Code::kDigestInvalid: return {400, "DIGEST_INVALID"};
    case Code::kManifestBlobUnknown: return {400, "MANIFEST_BLOB_UNKNOWN"};
    case Code::kManifestInvalid: return {400, "MANIFEST_INVALID"};
    case Code::kManifestUnknown: return {404, "MANIFEST_UNKNOWN"};
    case Code::kNameInvalid: return {400, "NAME_INVALID"};
    case Code::kNameUnknown: return {404, "NAME_UNKNOWN"};
    case Code::kSizeInvalid: return {400, "SIZE_INVALID"};
    case Code::kTagInvalid: return {400, "TAG_INVALID"};
    case Code::kUnauthorized: return {401, "UNAUTHORIZED"};
    case Code::kDenied: return {403, "DENIED"};
    case Code::kUnsupported: return {415, "UNSUPPORTED"};
    case Code::kTooManyRequests: return {429, "TOOMANYREQUESTS"};
    case Code::kRangeInvalid: return {416, "RANGE_INVALID"};
    case Code::kPayloadTooLarge: return {413, "SIZE_INVALID"};
    case Code::kMethodNotAllowed: return {405, "UNSUPPORTED"};
    case Code::kRouteUnknown: return {404, "NOT_FOUND"};
  }
  return {500, "INTERNAL_ERROR"};
}

std::string errorBody(const Error& error) {
  boost::json::object e;
  e["code"] = errorInfo(error.code).oci_code;
  e["message"] = error.message;
  if (!error.detail.empty()) {
    boost::system::error_code ec;
    auto detail = boost::json::parse(error.detail, ec);
    e["detail"] = ec ? boost::json::value(error.detail) : std::move(detail);
  } else {
    e["detail"] = nullptr;
  }
  boost::json::object body;
  body["errors"] = boost::json::array{std::move(e)};
  return boost::json::serialize(body);
}

}  // namespace berth
