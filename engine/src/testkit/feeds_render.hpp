#pragma once
// The bodies `syndic feeds` serves: a feed's page through the formats library's renderers
// (valid RSS 2.0, Atom 1.0, JSON Feed 1.1, with the hub advertised), a broken one for the
// `malformed` fault, the hostile shapes, and gzip. Pure functions; the server caches what
// they return per feed version.

#include "testkit/feeds_plan.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace syndic::testkit::detail {

struct page_context {
  std::string self;      // the feed's URL as listed (its topic)
  std::string hub;       // the advertised hub, or ""
  std::string base_url;  // "http://127.0.0.1:8080": the items' links
  std::size_t content_bytes = 0;
  std::int64_t start_ms = 0;  // the feed's updated time before it has items
  std::optional<std::uint32_t> ttl_minutes, update_period_seconds;
};

// `items` newest first.
std::string render_page(const feed_entry& e, const std::vector<made_item>& items, const page_context& c);

// The same page broken: cut in the middle (an unclosed element, JSON that ends early).
std::string malformed_page(std::string page);

// A hostile body and the format it is written in (the XML-only shapes are RSS whatever the
// feed's format: a URL whose format changed under the poller).
struct hostile_body {
  std::string body;
  feeds_format format = feeds_format::rss;
};
hostile_body make_hostile(hostile_shape s, feeds_format f, const page_context& c);

// gzip (RFC 1952) of `in`, for Content-Encoding: gzip.
std::string gzip_compress(std::string_view in);

std::string_view content_type(feeds_format f);

}  // namespace syndic::testkit::detail
