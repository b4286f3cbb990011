#pragma once
// What a part of the admin API (/api/v1) answers: a status and a JSON body. The parts run
// on the blocking pool and Api::admin renders the reply.
#include <boost/json/value.hpp>

#include "server/exchange.h"

namespace berth::api {

struct AdminReply {
  server::http::status status = server::http::status::ok;
  boost::json::value body;  // null: no body (204)
};

}  // namespace berth::api
