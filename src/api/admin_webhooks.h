#pragma once
// /api/v1/webhooks (docs/api.md): the webhook part of the admin API, routed from
// Admin::run. Runs on the blocking pool; the caller has already checked the owner role.
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "events/dispatcher.h"
#include "api/admin_reply.h"
#include "server/exchange.h"

namespace berth::api {

// `seg` starts with "webhooks". Every change reloads the dispatcher's workers.
Result<AdminReply> webhooksAdmin(events::Dispatcher& dispatcher, server::http::verb method,
                                   const std::vector<std::string>& seg,
                                   const boost::json::object& body,
                                   const events::RequestInfo& request);

}  // namespace berth::api
