#pragma once
// Paging of listings (`n`, `last`, the Link header), shared by every listing: the /v2
// catalog and tag lists, ACR's listings and the admin API's.
#include <string>
#include <string_view>

#include "api/router.h"
#include "common/result.h"

namespace berth::api {

struct PageLimits {
  size_t default_n;
  size_t max_n;          // a larger n is cut to this
  bool zero_ok = false;  // n=0 asks for an empty page (the distribution spec allows it)
};
// The distribution spec's listings: n >= 0, all of them by default.
inline constexpr PageLimits kDistributionPages{10000, 10000, true};
// ACR's listings and the admin API's.
inline constexpr PageLimits kApiPages{100, 1000, false};

// The page size `n` of `q`; kInvalidArgument naming it when it is no integer in range.
Result<size_t> pageSize(const QueryParams& q, const PageLimits& limits);
// A positive integer parameter (an id cursor such as `last`); kInvalidArgument naming it.
Result<int64_t> positiveInteger(std::string_view text, std::string_view name);
// `<path?last=LAST&n=N[extra]>; rel="next"`.
std::string nextLink(std::string_view path, std::string_view last, size_t n, std::string_view extra = {});

}  // namespace berth::api
