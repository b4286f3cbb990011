#pragma once
// /api/v1/purge and /api/v1/retention (docs/retention.md): the retention part of the admin
// API, routed from Admin::run. Runs on the blocking pool (a purge blocks until it is done);
// the caller has already checked the owner role.
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "api/admin_reply.h"
#include "common/result.h"
#include "lifecycle/retention.h"

namespace berth::api {

// `seg` starts with "purge" or "retention".
Result<AdminReply> retentionAdmin(lifecycle::Retention& retention, server::http::verb method,
                                  const std::vector<std::string>& seg, const boost::json::object& body,
                                  const events::RequestInfo& request);

}  // namespace berth::api
