// berth::parseConfig: the YAML configuration file. Not network input, but an operator's
// typo must give an error naming the key, never a crash or an escaping exception.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "config/config.h"
#include "fuzz_check.h"

using berth::Code;

namespace {

// The server arms timers with steady_clock::now() + timeout: the sum, and the conversion
// of the seconds to the clock's nanoseconds, must not overflow.
bool fitsSteadyClock(std::chrono::seconds t) {
  using std::chrono::steady_clock;
  auto headroom = steady_clock::duration::max() - steady_clock::now().time_since_epoch();
  return t <= std::chrono::duration_cast<std::chrono::seconds>(headroom);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml = berth::fuzz::asText(data, size);
  auto c = berth::parseConfig(yaml);
  if (!c) {
    FUZZ_CHECK(c.code() == Code::kInvalidArgument);
    FUZZ_CHECK(c.error().message.rfind("config: ", 0) == 0);
    return 0;
  }
  // What the server relies on after a successful parse.
  FUZZ_CHECK(berth::parseListen(c->listen).ok());
  FUZZ_CHECK(c->blocking_threads >= 1);
  FUZZ_CHECK(c->log_level == "debug" || c->log_level == "info" || c->log_level == "warn" ||
             c->log_level == "error");
  for (std::chrono::seconds t : {c->limits.header_timeout, c->limits.idle_timeout,
                                 c->limits.body_stall_timeout, c->shutdown_grace}) {
    FUZZ_CHECK(t.count() > 0);
    FUZZ_CHECK(fitsSteadyClock(t));
  }
  // Beast's parser takes the header limit as a uint32_t.
  FUZZ_CHECK(c->limits.max_header_bytes <= std::numeric_limits<uint32_t>::max());

  // Parsing over a parsed config with the same text changes nothing.
  auto again = berth::parseConfig(yaml, *c);
  FUZZ_CHECK(again && again->listen == c->listen && again->data_dir == c->data_dir &&
             again->log_level == c->log_level && again->io_threads == c->io_threads &&
             again->limits.max_connections == c->limits.max_connections &&
             again->trusted_proxies.ranges() == c->trusted_proxies.ranges() &&
             again->tls_certificates.size() == c->tls_certificates.size());
  for (const auto& files : c->tls_certificates) FUZZ_CHECK(!files.cert.empty() && !files.key.empty());
  return 0;
}
