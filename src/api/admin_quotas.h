#pragma once
// /api/v1/quotas (docs/quotas.md): the storage-quota part of the admin API, routed from
// Admin::run. Runs on the blocking pool; the caller has already checked the owner role.
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "meta/quota_store.h"
#include "api/admin_reply.h"
#include "server/exchange.h"

namespace berth::api {

// `seg` starts with "quotas"; the pattern is the rest of the path (one percent-encoded
// segment, "team-a%2F*", or the plain segments, "team-a/*").
Result<AdminReply> quotasAdmin(meta::QuotaStore& store, server::http::verb method,
                               const std::vector<std::string>& seg, const boost::json::object& body);

}  // namespace berth::api
