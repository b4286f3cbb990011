#pragma once
// The client's view of a request behind reverse proxies: X-Forwarded-For, -Proto and -Host,
// believed only from a peer in server.trusted_proxies. Beast-free, for unit tests and fuzzing.
#include <optional>
#include <span>
#include <string_view>

#include "common/cidr.h"

namespace berth::server {

// One X-Forwarded-For element: an address, optionally with a port as some load balancers
// add ("192.0.2.1:5678", "[2001:db8::1]:443", "[2001:db8::1]"). Surrounding spaces and tabs
// are ignored.
std::optional<IpAddress> parseForwardedAddress(std::string_view element);

// The client behind `peer`, a trusted proxy: X-Forwarded-For (`values`, every field in the
// order received) is walked from the right, past trusted proxies, to the first address that
// is not one. Empty list elements are skipped. An element that is not an address stops the
// walk and the last trusted hop (the one that wrote it) is the answer, so garbage never
// makes an address up and never lets a client-written element further left through. When
// every element is a trusted proxy, the left-most is the answer.
IpAddress forwardedClient(const IpAddress& peer, const CidrSet& trusted, std::span<const std::string_view> values);

// The last element of a comma-separated header value (what the nearest proxy appended),
// without surrounding spaces; empty when there is none.
std::string_view lastListElement(std::string_view list);

// "http" or "https" for an X-Forwarded-Proto value (case-insensitive); empty otherwise.
std::string_view forwardedScheme(std::string_view value);

// A Host (or X-Forwarded-Host) value safe to build URLs from: a host name (letters, digits,
// '-', '_', '.'), an IPv4 address or a bracketed IPv6 address, with an optional port.
bool isValidHost(std::string_view host);

}  // namespace berth::server
