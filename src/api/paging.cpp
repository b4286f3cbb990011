#include "api/paging.h"

#include <algorithm>
#include <charconv>

namespace berth::api {

Result<size_t> pageSize(const QueryParams& q, const PageLimits& limits) {
  auto v = queryValue(q, "n");
  if (!v) return limits.default_n;
  unsigned long long n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || (n == 0 && !limits.zero_ok)) {
    return makeError(Code::kInvalidArgument,
                     limits.zero_ok ? "n must be a non-negative integer" : "n must be a positive integer");
  }
  return static_cast<size_t>(std::min<unsigned long long>(n, limits.max_n));
}

Result<int64_t> positiveInteger(std::string_view text, std::string_view name) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v <= 0) {
    return makeError(Code::kInvalidArgument, std::string(name) + " must be a positive integer");
  }
  return v;
}

std::string nextLink(std::string_view path, std::string_view last, size_t n, std::string_view extra) {
  std::string link = "<";
  link += path;
  link += "?last=";
  link += last;
  link += "&n=" + std::to_string(n);
  link += extra;
  return link + ">; rel=\"next\"";
}

}  // namespace berth::api
