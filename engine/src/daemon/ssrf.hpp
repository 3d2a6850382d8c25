#pragma once
// SSRF: which hosts and addresses a URL supplied through the API (a WebSub hub.callback, an
// outlet added through the admin API) may not reach, unless the operator allowed it
// (`allow_private_targets`). Outlets from the operator's own files are trusted and not checked.
//
// Only globally reachable unicast addresses pass. Refused: loopback, unspecified and "this
// network" (0/8), private (RFC 1918, fc00::/7), shared CGNAT space (100.64/10), link-local
// (169.254/16 with the cloud metadata address 169.254.169.254, fe80::/10), multicast, broadcast,
// documentation, benchmarking and reserved ranges, and every IPv6 form that carries an IPv4
// address (mapped ::ffff:0:0/96, compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo)
// whose IPv4 address would be refused. Host names that always mean this machine or a metadata
// service (localhost, *.localhost, metadata, metadata.google.internal, ...) are refused before
// resolution.
//
// How to use it (two checks, both needed):
//   1. check_host(url's host) when the URL is accepted (at the API call): refuses literals in
//      every form a resolver accepts (inet_aton's "2130706433", "0x7f.1", "0177.0.0.1",
//      "127.1"; "[::ffff:127.0.0.1]") and the names above, with a message for the API's 4xx.
//   2. check_address(each resolved address) every time the host is resolved to connect. A
//      name that passed step 1 can resolve to 127.0.0.1 (a DNS record pointing inside), and
//      can resolve differently each time (DNS rebinding): the connection must be made to the
//      very address that was checked, never by resolving the name again (with libcurl:
//      CURLOPT_OPENSOCKETFUNCTION or CURLOPT_RESOLVE with the checked address; with Asio: connect
//      to the checked endpoints). Redirects lead to new hosts: check them again, or do not follow.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct sockaddr;

namespace syndic::daemon {

struct target_check {
  bool refused = false;
  std::string reason;  // when refused: "loopback address 127.0.0.1", "host name 'localhost'"
  explicit operator bool() const { return !refused; }  // true when allowed
};

// A URL's host as parse_outlet_url gives it (a name, an IPv4 address, or an IPv6 address with
// or without brackets). Percent-decoded by the URL parser already.
target_check check_host(std::string_view host);

// A whole http(s) URL: parsed with parse_outlet_url (the outlets' one set of URL rules), then
// check_host. Refused with the parser's message when it does not parse.
target_check check_url(std::string_view url);

// A resolved address, in network byte order.
target_check check_address(const std::array<std::uint8_t, 4>& v4);
target_check check_address(const std::array<std::uint8_t, 16>& v6);
// AF_INET or AF_INET6 (as getaddrinfo or a connect callback gives it); other families refused.
target_check check_address(const sockaddr& address);

// The address in the forms a resolver accepts for a literal IPv4 host (inet_aton's rules: one
// to four parts, each decimal, 0x-hex or 0-octal, the last filling the remaining bytes). false
// when `text` is not such a literal.
bool parse_ipv4_literal(std::string_view text, std::array<std::uint8_t, 4>& out);

}  // namespace syndic::daemon
