#pragma once
// An outlet: one HTTP endpoint that wants items, in its format, at its pace.

#include <syndic/engine/retry_policy.hpp>
#include <syndic/formats/model.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::engine {

enum class payload_format : std::uint8_t { webhook, jsonfeed, atom, rss, websub };

std::optional<payload_format> payload_format_from_string(std::string_view name);
std::string_view to_string(payload_format f);

// An outlet's URL in parts, parsed once when the outlet is added (parse_outlet_url): the
// transports use these parts and never parse the URL again by rules of their own.
struct parsed_url {
  std::string scheme;      // "http" or "https"
  std::string host;        // a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0;  // as written, or the scheme's default
  std::string target;      // path and query as written (fragment dropped), at least "/"
  std::string userinfo;    // "user:password" as written (percent-encoded); empty when none
  // A hash of the URL these parts came from: prepare_outlet parses `url` again only when it
  // is not the one parsed (the outlets file parses each URL as it reads it).
  std::uint64_t source_hash = 0;
  bool empty() const { return host.empty(); }
};

// The one set of rules for outlet URLs (RFC 3986, through Boost.URL): http or https, a host,
// a port from 1 to 65535. nullopt and `error` (with any userinfo redacted) otherwise.
std::optional<parsed_url> parse_outlet_url(std::string_view url, std::string& error);

// The text with the userinfo of every "scheme://user:pass@" in it replaced by "***": for
// messages that quote a URL.
std::string redact_userinfo(std::string_view text);

struct outlet_config {
  std::string id;
  std::string url;
  parsed_url endpoint;  // `url` in parts: filled by the outlets file, or by prepare_outlet
  payload_format format = payload_format::webhook;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::string secret;  // signs deliveries when set (whsec_... for webhooks)
  // Filters: an item goes to the outlet only if it matches every non-empty list.
  std::vector<std::string> languages, categories, sources;
  double rate = 0;     // requests per second; 0 = unlimited
  double burst = 1;    // token bucket depth
  std::uint32_t max_in_flight = 4;
  std::uint32_t batch = 1;  // items per request, used while the outlet is throttled
  bool ordered = false;     // items in log order, one request in flight
  std::chrono::milliseconds timeout{10'000};
  retry_settings retry;
  // 307/308 are followed only when set, to http(s) only, and never with the outlet's secrets
  // to another origin (the shard's policy). Off by default: Standard Webhooks treats 3xx as
  // a failure.
  bool follow_redirects = false;
  // https only: deliver through libcurl, which offers HTTP/2 (ALPN h2, many requests on one
  // connection). Off: HTTP/1.1 keep-alive through the lean h1 transport, which is faster
  // per request (engine_options::fast_http).
  bool http2 = false;
  // WebSub distribution by a hub (the daemon's): the topic and hub sent in the Link header,
  // with X-Hub-Signature when a secret is set, whatever the body's format (a topic's own:
  // atom, rss or jsonfeed). Empty: only the websub format sends them, from the item's feed.
  std::string websub_topic, websub_hub;
  // Reached only at public addresses: every address its host resolves to is checked just
  // before connecting, and loopback, private, link-local and metadata ones are refused (SSRF;
  // a name checked when the outlet was added can point inside later). On connections of its
  // own, never shared with trusted outlets. For outlets that strangers may add (an API);
  // an operator's outlets files are trusted.
  bool public_only = false;
};

// Whether the outlet's filters (languages, categories, sources) let the item of `source` through.
bool outlet_wants(const outlet_config& outlet, const formats::feed& source, const formats::item& it);

// Checks an outlet made in code as the outlets file checks its rows (URL, reserved headers,
// whsec_ secret, rate) and fills `endpoint`. Returns an empty string when the outlet can be
// used, else what is wrong, secrets redacted.
std::string prepare_outlet(outlet_config& outlet);

// One problem in an outlets file: where and what.
struct config_error {
  std::string file;
  std::size_t line = 0;
  std::string column;  // the column's (or key's) name, empty when the whole row is at fault
  std::string message;
  std::string to_string() const;  // "outlets.csv:7: column 'rate': not a number: 'fast'"
};

// Reads outlets from a CSV file whose header row names the columns (id,url,format required;
// secret,rate,burst,max_in_flight,batch,ordered,timeout_ms,languages,categories,sources,headers
// and the retry policy's retry_base_ms,retry_factor,retry_cap_ms,retry_max_attempts,
// retry_max_age_ms,retry_after_max_ms,follow_redirects,http2 optional; lists separated by ';'; an empty cell means the default) or from TOML
// ([[outlet]] tables with the same keys), by the file's extension. Every bad row is reported;
// the result holds outlets only when there was no error at all (nothing starts half-configured).
struct outlets_result {
  std::vector<outlet_config> outlets;
  std::vector<config_error> errors;
  bool ok() const { return errors.empty(); }
};

outlets_result load_outlets(const std::string& path);
// The same from text already in memory (`name` is used in the messages).
outlets_result parse_outlets_csv(std::string_view text, const std::string& name);
outlets_result parse_outlets_toml(std::string_view text, const std::string& name);

}  // namespace syndic::engine
