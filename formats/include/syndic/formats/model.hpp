#pragma once
// The feed model: what every parser produces and every renderer consumes.
// Plain values only (no I/O, no allocation tricks) so that a model can be copied between
// shards and compared in tests. All text is UTF-8; all times are UTC instants that keep the
// offset they were written with.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::formats {

// An instant with the zone offset it was published in (RFC 3339 keeps it, so do we).
struct timestamp {
  std::int64_t unix_ms = 0;         // milliseconds since 1970-01-01T00:00:00Z
  std::int32_t offset_minutes = 0;  // east of UTC; 0 for "Z" and for zone-less inputs
  friend bool operator==(const timestamp&, const timestamp&) = default;
};

// How a text construct is to be read (Atom's type attribute; RSS text is HTML).
enum class text_type : std::uint8_t { text, html, xhtml };

// Which syntax a feed was read from. Rendering does not depend on it.
enum class feed_format : std::uint8_t {
  unknown,
  rss090, rss091, rss092, rss093, rss094, rss20, rss10,
  atom03, atom10,
  json10, json11,
};

struct person {
  std::string name, email, url;
  friend bool operator==(const person&, const person&) = default;
  bool empty() const { return name.empty() && email.empty() && url.empty(); }
};

struct link {
  std::string href, rel, type, hreflang, title;
  std::optional<std::uint64_t> length;
  friend bool operator==(const link&, const link&) = default;
};

struct category {
  std::string term, scheme, label;
  friend bool operator==(const category&, const category&) = default;
};

// RSS <enclosure>, Atom rel="enclosure" links, JSON Feed attachments.
struct enclosure {
  std::string url, type, title;
  std::optional<std::uint64_t> length;             // bytes
  std::optional<double> duration_seconds;
  friend bool operator==(const enclosure&, const enclosure&) = default;
};

// Media RSS thumbnails and media:content.
struct media_object {
  std::string url, type, medium;
  std::optional<std::uint32_t> width, height;
  friend bool operator==(const media_object&, const media_object&) = default;
};

struct image {
  std::string url, title, link;
  friend bool operator==(const image&, const image&) = default;
  bool empty() const { return url.empty(); }
};

// An element from a namespace the model does not map (iTunes, Podlove, GeoRSS, ...),
// kept so that a distributor can pass it through. Namespaces are identified by URI.
struct extension {
  std::string ns, name, value;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<extension> children;
  friend bool operator==(const extension&, const extension&) = default;
};

// RSS <source>, Atom <source>: where an aggregated item came from.
struct source_ref {
  std::string title, url, id;
  friend bool operator==(const source_ref&, const source_ref&) = default;
  bool empty() const { return title.empty() && url.empty() && id.empty(); }
};

struct item {
  std::string id;
  bool id_is_permalink = false;
  std::string title;
  text_type title_type = text_type::text;
  std::vector<formats::link> links;  // first rel="alternate" (or rel-less) link is the item's URL
  std::string summary;
  text_type summary_type = text_type::text;
  std::string content;
  text_type content_type = text_type::html;
  std::optional<timestamp> published, updated;
  std::vector<person> authors;
  std::vector<category> categories;
  std::vector<enclosure> enclosures;
  std::vector<media_object> thumbnails, media;
  std::string language;
  std::string comments;  // URL of the comments page (RSS <comments>)
  source_ref source;
  std::vector<extension> extensions;

  // The item's web page: the first alternate link, else empty.
  std::string_view url() const;
  friend bool operator==(const item&, const item&) = default;
};

struct feed {
  feed_format format = feed_format::unknown;
  // The charset the document was read in, as detected ("utf-8", "windows-1252", "shift_jis",
  // "utf-16le"); empty for a model that was not read from bytes.
  std::string encoding;
  std::string title;
  text_type title_type = text_type::text;
  std::string link;       // the home page
  std::string self_link;  // where the feed itself lives
  std::vector<std::string> hubs;
  std::vector<formats::link> links;  // any further links (rel other than alternate/self/hub)
  std::string id;
  std::string description;
  text_type description_type = text_type::text;
  std::string language;
  std::optional<timestamp> updated;
  std::vector<person> authors;
  std::vector<category> categories;
  image logo;        // RSS <image>, Atom <logo>, JSON Feed icon
  std::string icon;  // Atom <icon>, JSON Feed favicon
  std::string generator;
  std::string rights;
  std::optional<std::uint32_t> ttl_minutes;          // RSS <ttl>
  std::optional<std::uint32_t> update_period_seconds;  // sy:updatePeriod / sy:updateFrequency
  // RSS <skipHours>/<skipDays>: when aggregators should not poll. Bit h of skip_hours set:
  // hour h (0-23, GMT) is skipped; bit d of skip_days set: day d (0 = Sunday) is skipped.
  std::uint32_t skip_hours = 0;
  std::uint8_t skip_days = 0;
  std::vector<extension> extensions;
  std::vector<item> items;

  friend bool operator==(const feed&, const feed&) = default;
};

std::string_view to_string(feed_format f);
std::string_view to_string(text_type t);

}  // namespace syndic::formats
