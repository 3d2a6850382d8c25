#include "testkit/feeds_http.hpp"

#include "formats/src/strings.hpp"
#include "formats/src/text.hpp"

#include <charconv>
#include <utility>

namespace syndic::testkit::detail {

bool accepts_gzip(std::string_view header) {
  int gzip = -1, star = -1;  // -1: not named; 0: refused; 1: accepted
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    auto semi = part.find(';');
    std::string_view coding = formats::detail::trim(part.substr(0, semi));
    bool ok = true;
    if (semi != std::string_view::npos) {
      std::string_view params = formats::detail::trim(part.substr(semi + 1));
      if (params.size() >= 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
        std::string_view q = formats::detail::trim(params.substr(2));
        ok = !q.empty() && q.find_first_not_of("0.") != std::string_view::npos;  // "0", "0.0", "0.000": refused
      }
    }
    if (formats::detail::ascii_iequals(coding, "gzip") || formats::detail::ascii_iequals(coding, "x-gzip")) gzip = ok;
    else if (coding == "*") star = ok;
  }
  return gzip >= 0 ? gzip == 1 : star == 1;
}

bool none_match(std::string_view header, std::string_view tag, std::string_view gzip_tag) {
  auto strip_weak = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view t = strip_weak(formats::detail::trim(header.substr(0, comma)));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (t == "*" || t == tag || t == gzip_tag) return true;
  }
  return false;
}

std::optional<feed_path> parse_feed_path(std::string_view path) {
  if (!path.starts_with("/feeds/")) return std::nullopt;
  path.remove_prefix(7);
  feed_path p;
  for (auto [prefix, k] : {std::pair{std::string_view("moved/"), feed_path::kind::moved},
                           std::pair{std::string_view("temp/"), feed_path::kind::temp},
                           std::pair{std::string_view("loop/"), feed_path::kind::loop}})
    if (path.starts_with(prefix)) {
      path.remove_prefix(prefix.size());
      p.where = k;
      break;
    }
  auto dot = path.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  auto [end, ec] = std::from_chars(path.data(), path.data() + dot, p.index);
  if (ec != std::errc{} || end != path.data() + dot) return std::nullopt;
  p.ext = path.substr(dot + 1);
  return p;
}

}  // namespace syndic::testkit::detail
