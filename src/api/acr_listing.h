#pragma once
// What ACR's listings under /acr/v1 share (acr.cpp, acr_deleted.cpp): the page size `n`
// and the JSON reply.
#include <boost/json.hpp>
#include <charconv>

#include "api/router.h"
#include "server/exchange.h"

namespace berth::api {

inline constexpr size_t kDefaultAcrPage = 100;
inline constexpr size_t kMaxAcrPage = 1000;

// `n`: a positive integer, at most kMaxAcrPage (larger asks get that); kDefaultAcrPage
// when absent.
inline Result<size_t> acrPageSize(const QueryParams& q) {
  const auto v = queryValue(q, "n");
  if (!v) return kDefaultAcrPage;
  unsigned long long parsed = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size() || parsed == 0) {
    return invalidArgument("n must be a positive integer");
  }
  return static_cast<size_t>(std::min<unsigned long long>(parsed, kMaxAcrPage));
}

inline server::Response jsonReply(server::http::status status, const boost::json::value& body) {
  server::Response res{status, 11};
  res.set(server::http::field::content_type, "application/json; charset=utf-8");
  res.body() = boost::json::serialize(body);
  return res;
}

}  // namespace berth::api
