#pragma once
// Dates as feeds write them: RFC 822/1123/2822 (RSS), RFC 3339/ISO 8601/W3CDTF (Atom, JSON Feed,
// Dublin Core), and HTTP's IMF-fixdate for Last-Modified/Date headers.
//
// Parsers accept any bytes and never guess: an input that does not name one instant yields
// std::nullopt. They do not allocate, so they are cheap to call on every entry of every feed.
// Timestamps keep the offset they were written with so that rendering can reproduce it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "syndic/formats/model.hpp"

namespace syndic::formats {

// RFC 822/1123/2822 and the variants seen in RSS: optional weekday, full or abbreviated names in
// any case, 2-, 3- and 4-digit years, missing seconds, named and numeric zones, "GMT+2",
// trailing "(comments)". A missing zone, a military letter or an unknown alphabetic zone name
// mean UTC (RFC 2822 section 4.3: such zones carry no reliable information).
std::optional<timestamp> parse_rfc822(std::string_view s) noexcept;

// RFC 3339 / ISO 8601 / W3CDTF: extended ("2003-12-13T18:30:02.5+01:00") and basic
// ("20031213T183002Z") forms, reduced precision ("2003", "2003-12", "2003-12-13",
// "2003-12-13T18:30Z"). A missing zone means UTC.
std::optional<timestamp> parse_iso8601(std::string_view s) noexcept;

// Tries RFC 3339/ISO 8601/W3CDTF first when the string starts with 4 digits, else RFC 822;
// then the other.
std::optional<timestamp> parse_date(std::string_view s) noexcept;

// "2003-12-13T18:30:02+01:00" in the original offset ("Z" when it is 0); a ".123" fraction only
// when the milliseconds are not 0. An offset outside +-23:59 cannot be written, so the instant
// is then written in UTC.
std::string format_rfc3339(const timestamp& t);

// "Sat, 13 Dec 2003 18:30:02 +0100" in the original offset ("+0000" for 0); milliseconds are
// dropped (rounding towards the past). Offsets outside +-23:59 are written as UTC.
std::string format_rfc822(const timestamp& t);

// IMF-fixdate (RFC 9110 section 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::int64_t unix_seconds);

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). Defined for every
// argument; only meaningful for a valid month and day.
std::int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept;

}  // namespace syndic::formats
