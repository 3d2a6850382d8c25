#pragma once
// The HTTP pieces of `syndic feeds`' answers, as pure functions: whether a request takes
// gzip, whether its If-None-Match names the current version, and which feed a path names.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace syndic::testkit::detail {

// Whether Accept-Encoding lets gzip through (RFC 9110 12.5.3): gzip or x-gzip with q > 0,
// else * with q > 0.
bool accepts_gzip(std::string_view header);

// If-None-Match names one of the tags (weak comparison, as RFC 9110 13.1.2 asks), or is *.
bool none_match(std::string_view header, std::string_view tag, std::string_view gzip_tag);

struct feed_path {
  enum class kind : std::uint8_t { canonical, moved, temp, loop } where = kind::canonical;
  std::size_t index = 0;
  std::string_view ext;  // "rss", "atom", "json" (not checked here)
};

// "/feeds/7.rss", "/feeds/moved/7.rss", "/feeds/temp/7.rss", "/feeds/loop/7.rss"; nullopt
// for anything else.
std::optional<feed_path> parse_feed_path(std::string_view path);

}  // namespace syndic::testkit::detail
