#pragma once
// The REGISTRY argument of every command: "registry.example.com", "host:5000",
// "http://127.0.0.1:5000", "https://[::1]:5443/". Without a scheme, https.
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::cli {

struct RegistryUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 address keeps its brackets
  std::string port;    // digits, or empty for the scheme's default

  // host[:port]: the auth file's key and the token service name.
  std::string authority() const;
  // scheme://host[:port], no trailing slash.
  std::string base() const;
};

// kInvalidArgument (naming the problem) for another scheme, a path, user info, a query,
// an empty or malformed host, or a port outside 1..65535.
Result<RegistryUrl> parseRegistryUrl(std::string_view text);

}  // namespace berth::cli
