#pragma once
// A source as JSON: the admin API's bodies (POST/PUT /v1/sources) and the form in which the
// poller keeps API sources in the store. One object with the sources file's keys:
//
//   {"id":"reuters-biz","url":"https://example.com/feed.xml","channel":"business",
//    "tags":["lang:en","business"],"min_interval":300,"max_interval":3600,
//    "headers":{"Authorization":"Bearer abc"},"enabled":true,"republish_updates":false}
//
// Read: `id` and `url` are required (id may come from the path instead); intervals are
// integer seconds or strings with a unit ("5m"); `headers` is an object of name -> value, or
// a list of "Name: value" strings; `channel` null or "" is the default channel. Unknown keys
// are errors. Every field is checked by the sources file's rules, then the whole by
// check_source with file:// refused (JSON comes from the API, never the operator's files).

#include "poll/source.hpp"
#include "poll/sources_file.hpp"

#include <string>
#include <string_view>

namespace syndic::poll {

enum class header_values : unsigned char {
  include,  // for the store: the source as it is
  redact,   // for API answers: header values as "<redacted>", URL userinfo as "***"
};

std::string source_to_json(const source& s, header_values values = header_values::include);

// The source in `json`, or a default source and `error` set (what is wrong, naming the key,
// never quoting a header value or URL userinfo). `origin` is set to "api". Intervals left
// out take `defaults`. `id_from_path` (PUT /v1/sources/{id}), when not empty, is the id: the
// body may leave "id" out and must not name another.
source source_from_json(std::string_view json, std::string& error, const source_defaults& defaults = {},
                        std::string_view id_from_path = {});

// What the API writes for a header value it will not show; a PUT that sends it back keeps the
// value the source has (api_sources.cpp).
inline constexpr std::string_view redacted_value = "<redacted>";

}  // namespace syndic::poll
