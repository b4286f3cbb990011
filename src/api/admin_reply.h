#pragma once
// What an operation of the admin API (/api/v1) answers: a status and a JSON body. The
// operations run on the blocking pool and Api::runAdmin renders the reply.
#include <boost/json/value.hpp>
#include <string>

#include "server/exchange.h"

namespace berth::api {

struct AdminReply {
  AdminReply(server::http::status s, boost::json::value b, std::string next = {})
      : status(s), body(std::move(b)), link(std::move(next)) {}

  server::http::status status = server::http::status::ok;
  boost::json::value body;  // null: no body (204)
  std::string link;         // a Link header (the next page of a listing), if any
};

}  // namespace berth::api
