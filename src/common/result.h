#pragma once
// Error codes and Result<T>: one closed set of errors shared by every layer.
// The HTTP status and OCI error code of each is in one table (errors.cpp).
#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace berth {

enum class Code : unsigned char {
  // Generic codes, used by storage and metadata layers.
  kNotFound,
  kInvalidArgument,
  kConflict,
  kTooLarge,
  kUnavailable,
  kIoError,
  kCorrupt,
  kStorageFull,
  kInternal,
  // OCI distribution error codes (spec section "Error Codes").
  kBlobUnknown,
  kBlobUploadInvalid,
  kBlobUploadUnknown,
  kDigestInvalid,
  kManifestBlobUnknown,
  kManifestInvalid,
  kManifestUnknown,
  kNameInvalid,
  kNameUnknown,
  kSizeInvalid,
  kTagInvalid,
  kUnauthorized,
  kDenied,
  kUnsupported,
  kTooManyRequests,
  kRangeInvalid,       // 416 on blob GET / out-of-order chunk
  kPayloadTooLarge,    // manifest or request over its limit (413)
  kMethodNotAllowed,   // 405
  kRouteUnknown,       // 404 for a path that is no API route
};

struct Error {
  Code code;
  std::string message;
  std::string detail;  // optional JSON value (already serialized), e.g. "{\"digest\":\"...\"}"
};

inline Error makeError(Code code, std::string message, std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail)};
}

// kInvalidArgument: bad input, answered 400 with `message`.
inline Error invalidArgument(std::string message) { return makeError(Code::kInvalidArgument, std::move(message)); }

// Result<T> holds a T or an Error. Result<void> (alias Status) holds nothing or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}     // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& takeError() { assert(!ok()); return std::get<1>(std::move(v_)); }
  Code code() const { return ok() ? Code::kInternal : error().code; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}  // NOLINT
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(!ok()); return err_; }
  Error&& takeError() { assert(!ok()); return std::move(err_); }
  Code code() const { return err_.code; }

 private:
  Error err_{};
  bool failed_ = false;
};

using Status = Result<void>;
inline Status okStatus() { return {}; }

}  // namespace berth
