#pragma once
// The one table from Code to HTTP status and OCI error code string.
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth {

struct ErrorInfo {
  unsigned status;           // HTTP status
  std::string_view oci_code; // e.g. "BLOB_UNKNOWN"
};

ErrorInfo errorInfo(Code code);

// The spec's error body: {"errors":[{"code":...,"message":...,"detail":...}]}
std::string errorBody(const Error& error);

}  // namespace berth
