#pragma once
// One HTTP attempt as both client transports (h1_transport, curl_transport) and the standalone
// client (client.hpp) see it: what to send, and what came back or went wrong. No curl or Asio
// types here: the h1 path never sees libcurl, and curl_transport maps its CURLcode onto
// transport_error.
//
// Two uses, one shape:
//  - deliveries (the shards): POST a shared payload, keep only the status and the two headers
//    the retry policy reads; the body is discarded and nothing else is allocated per request;
//  - fetches (the WebSub hub's verification of intent, polling): GET, HEAD, or any request
//    with max_response_body > 0 or keep_headers. They get the validators conditional GET
//    needs (ETag, Last-Modified), Content-Type and Cache-Control, the body up to the cap, and
//    every header when keep_headers asks (a Link to a hub, an Expires).

#include <syndic/engine/outlet.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::engine::http {

enum class method : std::uint8_t {
  post,  // sends `body` (empty when null) with its Content-Length
  get,   // sends no body
  head,  // sends no body, reads none (a Content-Length in the answer is the GET's, not framing)
};
std::string_view to_string(method m);  // "POST", "GET", "HEAD"

// Why no HTTP answer came, in words both transports share (none: an answer came, see status).
enum class transport_error : std::uint8_t {
  none,
  timeout,    // the attempt's one deadline passed (DNS, the wait for a connection, connect, I/O)
  connect,    // no connection to any address (refused, unreachable)
  dns,        // the name did not resolve
  tls,        // handshake or certificate verification failed
  reset,      // the connection broke or closed before a whole answer
  too_large,  // the answer's body was over request::max_response_body
  protocol,   // the answer was not valid HTTP (bad status line, bad framing, ...)
  local,      // our side ran out (descriptors, connection budget) or gave up (client::stop);
              // local_failure is set: not the peer's fault
  other,      // anything else (a URL neither transport takes, libcurl missing): see error_detail
};
std::string_view to_string(transport_error e);  // "timeout", "too_large", ...
// Words for a person when a transport gave no detail of its own ("timed out", ...).
std::string_view describe(transport_error e);

struct request {
  http::method method = method::post;
  std::string url;
  std::vector<std::string> headers;         // "Name: value"
  std::shared_ptr<const std::string> body;  // POST only (shared by every outlet of a format)
  // ONE deadline for the whole attempt, from post(): DNS, the wait for a connection (per-host
  // cap), connect (every address in turn), send and receive (the whole body included).
  std::chrono::milliseconds timeout{10'000};
  // `url` in parts, parsed once when the outlet was added (outlet_config::endpoint). Null:
  // the transport parses `url` with parse_outlet_url (the same rules), e.g. after a redirect.
  std::shared_ptr<const parsed_url> endpoint;
  // 0: the answer's body is read and discarded (deliveries). N > 0: kept in response::body up
  // to N bytes; a longer one (or a Content-Length over N) fails the attempt with too_large
  // ("response body over N bytes") and the connection is closed, not reused.
  std::size_t max_response_body = 0;
  // Every response header into response::headers (bounded below). Off for deliveries.
  bool keep_headers = false;
  // Offer compressed bodies (Accept-Encoding) and keep response::body decoded: gzip and
  // deflate (libcurl also br when built with it). max_response_body bounds the decoded
  // bytes, so a small body that inflates to gigabytes fails as too_large. A request that
  // sets its own Accept-Encoding header should leave this off.
  bool decode_content = false;
};

struct header_field {
  std::string name;  // as the server spelled it
  std::string value; // without surrounding blanks
};

struct response {
  int status = 0;  // 0: no HTTP response (see error)
  transport_error error = transport_error::none;
  std::string error_detail;  // the transport's own words, when it has more than the code
  std::string retry_after;   // Retry-After header, if any
  std::string location;      // Location header, if any; absolute (resolved against the URL)
  // Fetches only (see above; the last one of each wins):
  std::string etag;
  std::string last_modified;
  std::string content_type;
  std::string cache_control;
  std::string content_encoding;  // as sent; with decode_content, `body` is decoded already
  // request::keep_headers: every header in order, the first max_kept_headers of them, each
  // name and value cut to max_kept_header_bytes (a hostile server cannot make it grow).
  std::vector<header_field> headers;
  static constexpr std::size_t max_kept_headers = 64;
  static constexpr std::size_t max_kept_header_bytes = 4096;
  std::string body;  // request::max_response_body > 0: the body, as sent (no content decoding)
  long connections_opened = 0;  // 1 if this transfer opened a new connection
  bool local_failure = false;   // our side ran out (descriptors, budget): not the peer's fault
  std::chrono::steady_clock::duration elapsed{};
  // When the answer was taken in, by the transport's clock reading for it: whoever handles
  // the answer can go by it rather than read the clock again. Unset: read it.
  std::chrono::steady_clock::time_point finished_at{};
};

// Every header line either transport sends goes through this: CR, LF, NUL and the other
// control characters (HTAB excepted) are percent-encoded, so that a value taken from a feed
// (a Link header's URLs) can neither end the header nor start another.
std::string safe_header_line(std::string_view line);

// "response body over N bytes": the same words from both transports.
std::string body_over_cap(std::size_t cap);

// For response::headers: appends one header, within the bounds above.
inline void keep_header_field(std::vector<header_field>& into, std::string_view name, std::string_view value) {
  if (into.size() >= response::max_kept_headers) return;
  constexpr std::size_t cap = response::max_kept_header_bytes;
  into.push_back({std::string(name.substr(0, cap)), std::string(value.substr(0, cap))});
}

}  // namespace syndic::engine::http
