#pragma once
// The distribution API: routes a request to its handler. Handlers are thin: parse and
// validate the request, call the Registry (off the I/O thread when it blocks), map the
// Result to a response. Errors are rendered only by Exchange::sendError.
#include "api/router.h"
#include "registry/registry.h"
#include "server/exchange.h"

namespace berth::api {

using server::Exchange;
using server::Task;

class Api {
 public:
  explicit Api(registry::Registry& registry) : registry_(registry) {}
  Task<void> handle(Exchange& ex);

 private:
  Task<void> blob(Exchange& ex, const Route& route);
  Task<void> uploadStart(Exchange& ex, const Route& route, const QueryParams& query);
  Task<void> upload(Exchange& ex, const Route& route, const QueryParams& query);
  Task<void> manifest(Exchange& ex, const Route& route);
  Task<void> tags(Exchange& ex, const Route& route, const QueryParams& query);
  Task<void> catalog(Exchange& ex, const QueryParams& query);
  Task<void> referrers(Exchange& ex, const Route& route, const QueryParams& query);

  registry::Registry& registry_;
};

// Shared by the handler files.
Result<oci::Digest> parseDigestParam(std::string_view text);
std::string uploadLocation(const std::string& name, const std::string& id);
std::string blobLocation(const std::string& name, const oci::Digest& digest);
std::string uploadRange(uint64_t offset);  // "0-<offset-1>", "0-0" when empty

}  // namespace berth::api
