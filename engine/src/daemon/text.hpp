#pragma once
// Small text helpers the daemon's parts share (settings, sources files, the WebSub hub and
// subscriber), so each is written once.

#include <string>
#include <string_view>

namespace syndic::daemon {

// A value quoted in a message: 'v', at most 80 bytes then "...", control characters shown as
// \xNN, so that a stranger's value can neither flood nor split the log line that reports it.
std::string quote_value(std::string_view v);

// Percent-encodes everything but RFC 3986's unreserved characters: for form bodies
// (application/x-www-form-urlencoded) and query strings.
std::string percent_encode(std::string_view s);

// A URL with its password, if any, replaced by <redacted> ("postgres://app:<redacted>@db/wire"),
// for logs and messages; a `password=` query parameter is redacted too.
std::string redact_url(std::string_view url);

}  // namespace syndic::daemon
