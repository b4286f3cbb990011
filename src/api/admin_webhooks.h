#pragma once
// /api/v1/webhooks (docs/api.md): the webhook part of the admin API, routed from
// Admin::run. Runs on the blocking pool; the caller has already checked the owner role.
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "events/dispatcher.h"
#include "server/exchange.h"

namespace berth::api {

struct WebhookReply {
  server::http::status status = server::http::status::ok;
  boost::json::value body;  // null: no body (204)
};

// `seg` starts with "webhooks". Every change reloads the dispatcher's workers.
Result<WebhookReply> webhooksAdmin(events::Dispatcher& dispatcher, server::http::verb method,
                                   const std::vector<std::string>& seg,
                                   const boost::json::object& body,
                                   const events::RequestInfo& request);

}  // namespace berth::api
