#include <syndic/formats/model.hpp>

namespace syndic::formats {

std::string_view item::url() const {
  for (const auto& l : links)
    if (l.rel.empty() || l.rel == "alternate") return l.href;
  return {};
}

std::string_view to_string(feed_format f) {
  switch (f) {
    case feed_format::unknown: return "unknown";
    case feed_format::rss090: return "rss090";
    case feed_format::rss091: return "rss091";
    case feed_format::rss092: return "rss092";
    case feed_format::rss093: return "rss093";
    case feed_format::rss094: return "rss094";
    case feed_format::rss20: return "rss20";
    case feed_format::rss10: return "rss10";
    case feed_format::atom03: return "atom03";
    case feed_format::atom10: return "atom10";
    case feed_format::json10: return "json10";
    case feed_format::json11: return "json11";
  }
  return "unknown";
}

std::string_view to_string(text_type t) {
  switch (t) {
    case text_type::text: return "text";
    case text_type::html: return "html";
    case text_type::xhtml: return "xhtml";
  }
  return "text";
}

}  // namespace syndic::formats
