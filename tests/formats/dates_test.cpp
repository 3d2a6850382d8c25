// Tests for syndic/formats/dates.hpp. Most cases are rows of a table (input -> expected RFC 3339
// rendering, or no date): the rendering shows the instant and the kept offset at once, and a new
// shape found in the wild is one more row.

#include "syndic/formats/dates.hpp"

#include <gtest/gtest.h>

#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::formats {
namespace {

using namespace std::literals;

struct date_case {
  std::string_view input;
  std::optional<std::string_view> expected;  // format_rfc3339 of the result; nullopt: rejected
};

// Shows control bytes readably in failure messages and test names.
void PrintTo(const date_case& c, std::ostream* os) {
  *os << '"';
  for (char ch : c.input) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u >= 0x7f) {
      constexpr std::string_view hex = "0123456789abcdef";
      *os << "\\x" << hex[u >> 4] << hex[u & 15];
    } else {
      *os << ch;
    }
  }
  *os << "\" -> " << (c.expected ? *c.expected : "nullopt"sv);
}

std::string describe(const std::optional<timestamp>& t) {
  return t ? format_rfc3339(*t) : "nullopt";
}

void check(const date_case& c, const std::optional<timestamp>& got) {
  if (c.expected) {
    ASSERT_TRUE(got.has_value()) << "rejected";
    EXPECT_EQ(format_rfc3339(*got), *c.expected);
  } else {
    EXPECT_FALSE(got.has_value()) << "accepted as " << describe(got);
  }
}

constexpr std::optional<std::string_view> none = std::nullopt;

// --- RFC 822 ------------------------------------------------------------------------------------

const date_case rfc822_cases[] = {
    // The canonical shapes.
    {"Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
    {"Sat, 13 Dec 2003 18:30:02 +0100", "2003-12-13T18:30:02+01:00"},
    {"Sat, 13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    // Weekday: absent, without comma, full, any case, abbreviated oddly, wrong for the date.
    {"13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"Sat 13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"Sat,13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"Sat , 13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"Saturday, 13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"Thursday, 01 Jan 2004 08:00:00 GMT", "2004-01-01T08:00:00Z"},
    {"SATURDAY, 13 DEC 2003 18:30:02 gmt", "2003-12-13T18:30:02Z"},
    {"thu, 01 jan 2004 08:00:00 gmt", "2004-01-01T08:00:00Z"},
    {"Thurs, 01 Jan 2004 08:00:00 GMT", "2004-01-01T08:00:00Z"},
    {"Tues, 06 Jan 2004 08:00:00 GMT", "2004-01-06T08:00:00Z"},
    {"Sat., 13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"Mon, 13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    // Day with one or two digits.
    {"Wed, 3 Dec 2003 18:30:02 GMT", "2003-12-03T18:30:02Z"},
    {"Wed, 03 Dec 2003 18:30:02 GMT", "2003-12-03T18:30:02Z"},
    // Month names: every month, any case, full names, "Sept", a trailing period.
    {"1 Jan 2004 00:00 GMT", "2004-01-01T00:00:00Z"},
    {"1 Feb 2004 00:00 GMT", "2004-02-01T00:00:00Z"},
    {"1 Mar 2004 00:00 GMT", "2004-03-01T00:00:00Z"},
    {"1 Apr 2004 00:00 GMT", "2004-04-01T00:00:00Z"},
    {"1 May 2004 00:00 GMT", "2004-05-01T00:00:00Z"},
    {"1 Jun 2004 00:00 GMT", "2004-06-01T00:00:00Z"},
    {"1 Jul 2004 00:00 GMT", "2004-07-01T00:00:00Z"},
    {"1 Aug 2004 00:00 GMT", "2004-08-01T00:00:00Z"},
    {"1 Sep 2004 00:00 GMT", "2004-09-01T00:00:00Z"},
    {"1 Oct 2004 00:00 GMT", "2004-10-01T00:00:00Z"},
    {"1 Nov 2004 00:00 GMT", "2004-11-01T00:00:00Z"},
    {"1 Dec 2004 00:00 GMT", "2004-12-01T00:00:00Z"},
    {"1 January 2004 00:00 GMT", "2004-01-01T00:00:00Z"},
    {"1 june 2004 00:00 GMT", "2004-06-01T00:00:00Z"},
    {"1 JULY 2004 00:00 GMT", "2004-07-01T00:00:00Z"},
    {"1 Sept 2004 00:00 GMT", "2004-09-01T00:00:00Z"},
    {"1 September 2004 00:00 GMT", "2004-09-01T00:00:00Z"},
    {"1 Dec. 2004 00:00 GMT", "2004-12-01T00:00:00Z"},
    {"thursday, 1 january 2004 08:00:00 EST", "2004-01-01T08:00:00-05:00"},
    // Years: 2 digits (RFC 2822: < 50 is 20xx), 3 digits (+1900), 4 digits.
    {"13 Dec 03 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"13 Dec 00 18:30:02 GMT", "2000-12-13T18:30:02Z"},
    {"13 Dec 49 18:30:02 GMT", "2049-12-13T18:30:02Z"},
    {"13 Dec 50 18:30:02 GMT", "1950-12-13T18:30:02Z"},
    {"13 Dec 99 18:30:02 GMT", "1999-12-13T18:30:02Z"},
    {"13 Dec 103 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"13 Dec 0045 18:30:02 GMT", "0045-12-13T18:30:02Z"},
    // RFC 850 as HTTP servers still send it.
    {"Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    // Time: missing seconds, one-digit hour, fraction, no time at all.
    {"13 Dec 2003 18:30 GMT", "2003-12-13T18:30:00Z"},
    {"13 Dec 2003 8:05:09 GMT", "2003-12-13T08:05:09Z"},
    {"13 Dec 2003 18:30:02.5 GMT", "2003-12-13T18:30:02.500Z"},
    {"13 Dec 2003 18:30:02.123456 GMT", "2003-12-13T18:30:02.123Z"},
    {"Sat, 13 Dec 2003", "2003-12-13T00:00:00Z"},
    {"13 Dec 2003", "2003-12-13T00:00:00Z"},
    // Whitespace anywhere between tokens, including folded lines.
    {"  Sat,   13  Dec   2003   18:30:02   GMT  ", "2003-12-13T18:30:02Z"},
    {"\tSat,\r\n 13 Dec 2003\t18:30:02\nGMT\n", "2003-12-13T18:30:02Z"},
    // Named zones, any case.
    {"13 Dec 2003 18:30:02 UT", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 UTC", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 Z", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 EST", "2003-12-13T18:30:02-05:00"},
    {"13 Dec 2003 18:30:02 EDT", "2003-12-13T18:30:02-04:00"},
    {"13 Dec 2003 18:30:02 CST", "2003-12-13T18:30:02-06:00"},
    {"13 Dec 2003 18:30:02 CDT", "2003-12-13T18:30:02-05:00"},
    {"13 Dec 2003 18:30:02 MST", "2003-12-13T18:30:02-07:00"},
    {"13 Dec 2003 18:30:02 MDT", "2003-12-13T18:30:02-06:00"},
    {"13 Dec 2003 18:30:02 PST", "2003-12-13T18:30:02-08:00"},
    {"13 Dec 2003 18:30:02 pdt", "2003-12-13T18:30:02-07:00"},
    {"13 Dec 2003 18:30:02 AST", "2003-12-13T18:30:02-04:00"},
    {"13 Dec 2003 18:30:02 ADT", "2003-12-13T18:30:02-03:00"},
    {"13 Dec 2003 18:30:02 HST", "2003-12-13T18:30:02-10:00"},
    {"13 Dec 2003 18:30:02 AKST", "2003-12-13T18:30:02-09:00"},
    {"13 Dec 2003 18:30:02 AKDT", "2003-12-13T18:30:02-08:00"},
    {"13 Dec 2003 18:30:02 WET", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 WEST", "2003-12-13T18:30:02+01:00"},
    {"13 Dec 2003 18:30:02 CET", "2003-12-13T18:30:02+01:00"},
    {"13 Dec 2003 18:30:02 CEST", "2003-12-13T18:30:02+02:00"},
    {"13 Dec 2003 18:30:02 EET", "2003-12-13T18:30:02+02:00"},
    {"13 Dec 2003 18:30:02 EEST", "2003-12-13T18:30:02+03:00"},
    {"13 Dec 2003 18:30:02 MSK", "2003-12-13T18:30:02+03:00"},
    {"13 Dec 2003 18:30:02 IST", "2003-12-13T18:30:02+05:30"},
    {"13 Dec 2003 18:30:02 JST", "2003-12-13T18:30:02+09:00"},
    {"13 Dec 2003 18:30:02 AWST", "2003-12-13T18:30:02+08:00"},
    {"13 Dec 2003 18:30:02 ACST", "2003-12-13T18:30:02+09:30"},
    {"13 Dec 2003 18:30:02 ACDT", "2003-12-13T18:30:02+10:30"},
    {"13 Dec 2003 18:30:02 AEST", "2003-12-13T18:30:02+10:00"},
    {"13 Dec 2003 18:30:02 AEDT", "2003-12-13T18:30:02+11:00"},
    {"13 Dec 2003 18:30:02 NZST", "2003-12-13T18:30:02+12:00"},
    {"13 Dec 2003 18:30:02 NZDT", "2003-12-13T18:30:02+13:00"},
    // Military letters and unknown names carry no reliable offset (RFC 2822 4.3): UTC.
    {"13 Dec 2003 18:30:02 A", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 N", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 z", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 BST", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 CHADT", "2003-12-13T18:30:02Z"},
    // Numeric offsets.
    {"13 Dec 2003 18:30:02 +0200", "2003-12-13T18:30:02+02:00"},
    {"13 Dec 2003 18:30:02 -05:00", "2003-12-13T18:30:02-05:00"},
    {"13 Dec 2003 18:30:02 +02", "2003-12-13T18:30:02+02:00"},
    {"13 Dec 2003 18:30:02 +0530", "2003-12-13T18:30:02+05:30"},
    {"13 Dec 2003 18:30:02 -0000", "2003-12-13T18:30:02Z"},
    {"13 Dec 2003 18:30:02 +2359", "2003-12-13T18:30:02+23:59"},
    {"13 Dec 2003 18:30:02 -2359", "2003-12-13T18:30:02-23:59"},
    {"13 Dec 2003 18:30:02+0200", "2003-12-13T18:30:02+02:00"},
    // Missing zone: UTC.
    {"Sat, 13 Dec 2003 18:30:02", "2003-12-13T18:30:02Z"},
    {"Sat, 13 Dec 2003 18:30", "2003-12-13T18:30:00Z"},
    // GMT/UTC with an offset.
    {"13 Dec 2003 18:30:02 GMT+2", "2003-12-13T18:30:02+02:00"},
    {"13 Dec 2003 18:30:02 GMT-0500", "2003-12-13T18:30:02-05:00"},
    {"13 Dec 2003 18:30:02 GMT+02:00", "2003-12-13T18:30:02+02:00"},
    {"13 Dec 2003 18:30:02 UTC+05:30", "2003-12-13T18:30:02+05:30"},
    {"13 Dec 2003 18:30:02 GMT-8", "2003-12-13T18:30:02-08:00"},
    {"13 Dec 2003 18:30:02 UT+10", "2003-12-13T18:30:02+10:00"},
    // Comments and a name after a numeric offset are ignored.
    {"Sat, 13 Dec 2003 18:30:02 -0800 (PST)", "2003-12-13T18:30:02-08:00"},
    {"Sat, 13 Dec 2003 18:30:02 -0800 PST", "2003-12-13T18:30:02-08:00"},
    {"Sat, 13 Dec 2003 18:30:02 +0000 (UTC)", "2003-12-13T18:30:02Z"},
    {"Sat, 13 Dec 2003 18:30:02 GMT (Greenwich (Mean) Time) (x)", "2003-12-13T18:30:02Z"},
    {"Sat, 13 Dec 2003 18:30:02 (PST)", "2003-12-13T18:30:02Z"},
    // Calendar edges.
    {"29 Feb 2004 12:00:00 GMT", "2004-02-29T12:00:00Z"},
    {"29 Feb 2000 12:00:00 GMT", "2000-02-29T12:00:00Z"},
    {"31 Dec 2003 24:00:00 GMT", "2004-01-01T00:00:00Z"},
    {"31 Dec 2016 23:59:60 GMT", "2016-12-31T23:59:59Z"},
    {"31 Dec 1969 23:59:59 GMT", "1969-12-31T23:59:59Z"},
    {"01 Jan 0000 00:00:00 GMT", "0000-01-01T00:00:00Z"},
    {"31 Dec 9999 23:59:59 -2359", "9999-12-31T23:59:59-23:59"},
    // Rejected: not dates.
    {"", none},
    {"   ", none},
    {"Not a date", none},
    {"Feb 30", none},
    {"Dec 13 2003 18:30:02 GMT", none},
    {"2003-12-13T18:30:02Z", none},
    {"99999999999999999999", none},
    {"Sat,", none},
    {"Sat, 13", none},
    {"Sat, 13 Dec", none},
    {"Funday, 13 Dec 2003 18:30:02 GMT", none},
    {"Sa, 13 Dec 2003 18:30:02 GMT", none},
    {"Saturdays, 13 Dec 2003 18:30:02 GMT", none},
    {"Sat13 Dec 2003 18:30:02 GMT", none},
    {"13Dec2003 18:30:02 GMT", none},
    {"13 Foo 2003 18:30:02 GMT", none},
    {"13 De 2003 18:30:02 GMT", none},
    {"13 Decembers 2003 18:30:02 GMT", none},
    {"13 Dec 2 18:30:02 GMT", none},
    {"13 Dec 20031 18:30:02 GMT", none},
    {"13 Dec 2003x", none},
    {"13 Dec 2003 18", none},
    {"13 Dec 2003 18:3", none},
    {"13 Dec 2003 18:30:2", none},
    {"13 Dec 2003 18:30:022", none},
    {"13 Dec 2003 18:30:02.", none},
    {"13 Dec 2003 18:30.5 GMT", none},
    {"113 Dec 2003 18:30:02 GMT", none},
    // Rejected: out of range.
    {"32 Jan 2003 00:00:00 GMT", none},
    {"32 Jan 2003", none},
    {"0 Jan 2003", none},
    {"30 Feb 2004", none},
    {"29 Feb 2003", none},
    {"29 Feb 1900", none},
    {"31 Apr 2003", none},
    {"13 Dec 2003 25:00:00 GMT", none},
    {"13 Dec 2003 24:00:01 GMT", none},
    {"13 Dec 2003 24:01 GMT", none},
    {"13 Dec 2003 24:00:00.5 GMT", none},
    {"13 Dec 2003 18:60 GMT", none},
    {"13 Dec 2003 18:30:61 GMT", none},
    {"13 Dec 2003 18:30:02 +2400", none},
    {"13 Dec 2003 18:30:02 +0160", none},
    {"13 Dec 2003 18:30:02 GMT+24", none},
    // Rejected: zones that are not zones.
    {"13 Dec 2003 18:30:02 +020", none},
    {"13 Dec 2003 18:30:02 +02000", none},
    {"13 Dec 2003 18:30:02 +2", none},
    {"13 Dec 2003 18:30:02 +", none},
    {"13 Dec 2003 18:30:02 +02:0", none},
    {"13 Dec 2003 18:30:02 Garbage", none},
    {"13 Dec 2003 18:30:02 GMT junk", none},
    {"13 Dec 2003 18:30:02 EST+5", none},
    {"13 Dec 2003 18:30:02 GMT+", none},
    {"13 Dec 2003 18:30:02 -0800 Pacific", none},
    {"13 Dec 2003 18:30:02 (unclosed", none},
    {"13 Dec 2003 18:30:02 GMT (a (b)", none},
    {"13 Dec 2003 18:30:02 GMT )", none},
    // Rejected: bytes no feed should contain in a date.
    {"13 Dec 2003\0 18:30:02 GMT"sv, none},
    {"\xff\xfe\x00\x01"sv, none},
    {"Sat, 13 D\xc3\xa9" "c 2003", none},
    {"\x80\x80\x80\x80", none},
};

class rfc822_table : public ::testing::TestWithParam<date_case> {};

TEST_P(rfc822_table, parses) { check(GetParam(), parse_rfc822(GetParam().input)); }

INSTANTIATE_TEST_SUITE_P(dates, rfc822_table, ::testing::ValuesIn(rfc822_cases));

// --- ISO 8601 / RFC 3339 / W3CDTF ---------------------------------------------------------------

const date_case iso8601_cases[] = {
    {"2003-12-13T18:30:02Z", "2003-12-13T18:30:02Z"},
    {"2003-12-13t18:30:02z", "2003-12-13T18:30:02Z"},
    {"2003-12-13 18:30:02Z", "2003-12-13T18:30:02Z"},
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
    // Fractions of any length: milliseconds kept, the rest truncated, ',' as in ISO 8601.
    {"2003-12-13T18:30:02.1Z", "2003-12-13T18:30:02.100Z"},
    {"2003-12-13T18:30:02.12Z", "2003-12-13T18:30:02.120Z"},
    {"2003-12-13T18:30:02.123Z", "2003-12-13T18:30:02.123Z"},
    {"2003-12-13T18:30:02.123456789Z", "2003-12-13T18:30:02.123Z"},
    {"2003-12-13T18:30:02.99999999999999999999999999Z", "2003-12-13T18:30:02.999Z"},
    {"2003-12-13T18:30:02.000Z", "2003-12-13T18:30:02Z"},
    {"2003-12-13T18:30:02,5Z", "2003-12-13T18:30:02.500Z"},
    {"2003-12-13T18:30:02.25+01:00", "2003-12-13T18:30:02.250+01:00"},
    // Without seconds, without zone.
    {"2003-12-13T18:30Z", "2003-12-13T18:30:00Z"},
    {"2003-12-13T18:30+01:00", "2003-12-13T18:30:00+01:00"},
    {"2003-12-13T18:30:02", "2003-12-13T18:30:02Z"},
    {"2003-12-13T18:30", "2003-12-13T18:30:00Z"},
    // Offsets.
    {"2003-12-13T18:30:02+01:00", "2003-12-13T18:30:02+01:00"},
    {"2003-12-13T18:30:02+0100", "2003-12-13T18:30:02+01:00"},
    {"2003-12-13T18:30:02+01", "2003-12-13T18:30:02+01:00"},
    {"2003-12-13T18:30:02-05:00", "2003-12-13T18:30:02-05:00"},
    {"2003-12-13T18:30:02+05:45", "2003-12-13T18:30:02+05:45"},
    {"2003-12-13T18:30:02-00:00", "2003-12-13T18:30:02Z"},
    {"2003-12-13T18:30:02+00:00", "2003-12-13T18:30:02Z"},
    {"2003-12-13T18:30:02+23:59", "2003-12-13T18:30:02+23:59"},
    {"2003-12-13T18:30:02-23:59", "2003-12-13T18:30:02-23:59"},
    // Reduced precision: midnight UTC at the start of the period.
    {"2003", "2003-01-01T00:00:00Z"},
    {"2003-12", "2003-12-01T00:00:00Z"},
    {"2003-12-13", "2003-12-13T00:00:00Z"},
    // Basic format.
    {"20031213T183002Z", "2003-12-13T18:30:02Z"},
    {"20031213T183002.5+0100", "2003-12-13T18:30:02.500+01:00"},
    {"20031213T1830Z", "2003-12-13T18:30:00Z"},
    {"20031213t183002", "2003-12-13T18:30:02Z"},
    {"20031213", "2003-12-13T00:00:00Z"},
    // Surrounding whitespace, as XML text content carries it.
    {"2003-12-13T18:30:02Z \n", "2003-12-13T18:30:02Z"},
    {"\n  2003-12-13T18:30:02Z\t", "2003-12-13T18:30:02Z"},
    // Calendar edges.
    {"2004-02-29", "2004-02-29T00:00:00Z"},
    {"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"},
    {"2003-12-31T24:00:00Z", "2004-01-01T00:00:00Z"},
    {"2003-12-31T24:00Z", "2004-01-01T00:00:00Z"},
    {"2003-12-31T24:00:00.000Z", "2004-01-01T00:00:00Z"},
    {"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"},
    {"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
    {"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
    {"9999-12-31T23:59:59.999-23:59", "9999-12-31T23:59:59.999-23:59"},
    {"2003-12-14T00:30:00+01:00", "2003-12-14T00:30:00+01:00"},
    // Rejected: not ISO dates.
    {"", none},
    {" ", none},
    {"Not a date", none},
    {"Sat, 13 Dec 2003 18:30:02 GMT", none},
    {"99999999999999999999", none},
    {"200", none},
    {"03-12-13", none},
    {"200312", none},
    {"2003-1-13", none},
    {"2003-12-1", none},
    {"2003-12-13T", none},
    {"2003-12-13T18", none},
    {"2003-12-13T18Z", none},
    {"2003-12-13T18:3Z", none},
    {"2003-12-13T18:30:0Z", none},
    {"2003-12-13T18:30:02.Z", none},
    {"2003-12-13T18:30:02ZZ", none},
    {"2003-12-13T18:30:02 Z", none},
    {"2003-12-13T18:30:02Z junk", none},
    {"2003-12-13T18:30:02+1", none},
    {"2003-12-13T18:30:02+010", none},
    {"2003-12-13T18:30:02+01:0", none},
    {"2003-12-13T18:30:02+", none},
    {"2003-12-13Z", none},
    {"2003-12T18:30Z", none},
    {"2003T18:30Z", none},
    {"2003-12-13  18:30:02Z", none},
    {"2003/12/13", none},
    {"2003-12-13T18:30:02GMT", none},
    // Rejected: out of range.
    {"2003-13-01", none},
    {"2003-00-01", none},
    {"2003-12-00", none},
    {"2003-12-32", none},
    {"2003-02-29", none},
    {"1900-02-29", none},
    {"2003-04-31", none},
    {"2003-12-13T25:00:00Z", none},
    {"2003-12-13T24:00:01Z", none},
    {"2003-12-13T24:01Z", none},
    {"2003-12-13T24:00:00.0001Z", none},
    {"2003-12-13T18:60:00Z", none},
    {"2003-12-13T18:30:61Z", none},
    {"2003-12-13T18:30:02+24:00", none},
    {"2003-12-13T18:30:02+01:60", none},
    {"20031301", none},
    // Rejected: stray bytes.
    {"2003-12-13\0T18:30:02Z"sv, none},
    {"2003-12-13T18:30:02Z\0"sv, none},
    {"\xef\xbb\xbf" "2003-12-13", none},
    {"2003-12-13T18:30:02\xe2\x88\x92" "05:00", none},
};

class iso8601_table : public ::testing::TestWithParam<date_case> {};

TEST_P(iso8601_table, parses) { check(GetParam(), parse_iso8601(GetParam().input)); }

INSTANTIATE_TEST_SUITE_P(dates, iso8601_table, ::testing::ValuesIn(iso8601_cases));

// --- parse_date: either syntax ------------------------------------------------------------------

const date_case any_date_cases[] = {
    {"2003-12-13T18:30:02+01:00", "2003-12-13T18:30:02+01:00"},
    {"  2003-12-13T18:30:02Z", "2003-12-13T18:30:02Z"},
    {"2003", "2003-01-01T00:00:00Z"},
    {"20031213", "2003-12-13T00:00:00Z"},
    {"Sat, 13 Dec 2003 18:30:02 +0100", "2003-12-13T18:30:02+01:00"},
    {"13 Dec 2003 18:30:02 GMT", "2003-12-13T18:30:02Z"},
    {"13 Dec 03", "2003-12-13T00:00:00Z"},
    {"Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
    {"Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"},
    {"", none},
    {"Not a date", none},
    {"2003-13-01", none},
    {"Feb 30", none},
    {"32 Jan 2003", none},
    {"99999999999999999999", none},
    {"2003 Dec 13", none},
    {"\x01\x02\x03\x04\x05"sv, none},
};

class any_date_table : public ::testing::TestWithParam<date_case> {};

TEST_P(any_date_table, parses) { check(GetParam(), parse_date(GetParam().input)); }

INSTANTIATE_TEST_SUITE_P(dates, any_date_table, ::testing::ValuesIn(any_date_cases));

// --- Exact values -------------------------------------------------------------------------------

TEST(dates, epoch_is_zero) {
  const auto t = parse_rfc822("Thu, 01 Jan 1970 00:00:00 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_ms, 0);
  EXPECT_EQ(t->offset_minutes, 0);
  EXPECT_EQ(parse_date("Thu, 01 Jan 1970 00:00:00 GMT"), (timestamp{0, 0}));
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), (timestamp{0, 0}));
}

TEST(dates, offset_is_subtracted_and_kept) {
  // 18:30:02 at +01:00 is 17:30:02 UTC (date -u -d @1071336602).
  const timestamp expected{1071336602000, 60};
  EXPECT_EQ(parse_rfc822("Sat, 13 Dec 2003 18:30:02 +0100"), expected);
  EXPECT_EQ(parse_iso8601("2003-12-13T18:30:02+01:00"), expected);
  EXPECT_EQ(parse_iso8601("2003-12-13T12:30:02.5-05:00"), (timestamp{1071336602500, -300}));
  EXPECT_EQ(parse_iso8601("1969-12-31T23:59:59.999Z"), (timestamp{-1, 0}));
}

TEST(dates, days_from_civil_known_values) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(2003, 12, 13), 12399);
  EXPECT_EQ(days_from_civil(0, 1, 1), -719528);
  EXPECT_EQ(days_from_civil(9999, 12, 31), 2932896);
  // Defined (if meaningless) for any argument: must not overflow.
  (void)days_from_civil(INT_MIN, 0, 0);
  (void)days_from_civil(INT_MAX, UINT_MAX, UINT_MAX);
}

TEST(dates, format_rfc3339_known_values) {
  EXPECT_EQ(format_rfc3339({0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339({1071336602000, 60}), "2003-12-13T18:30:02+01:00");
  EXPECT_EQ(format_rfc3339({1071336602123, -330}), "2003-12-13T12:00:02.123-05:30");
  EXPECT_EQ(format_rfc3339({1071336602001, 0}), "2003-12-13T17:30:02.001Z");
  EXPECT_EQ(format_rfc3339({-1, 0}), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339({-62167219200000, 0}), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339({-62167219200001, 0}), "-0001-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339({253402300800000, 0}), "10000-01-01T00:00:00Z");
  // An offset no syntax can express: the instant is written in UTC instead.
  EXPECT_EQ(format_rfc3339({1071336602000, 24 * 60}), "2003-12-13T17:30:02Z");
}

TEST(dates, format_rfc822_known_values) {
  EXPECT_EQ(format_rfc822({0, 0}), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(format_rfc822({1071336602000, 60}), "Sat, 13 Dec 2003 18:30:02 +0100");
  EXPECT_EQ(format_rfc822({1071336602999, -480}), "Sat, 13 Dec 2003 09:30:02 -0800");
  EXPECT_EQ(format_rfc822({-1, 0}), "Wed, 31 Dec 1969 23:59:59 +0000");
  // The weekday is the local one: 00:30 at +01:00 on a Sunday is still Saturday in UTC.
  EXPECT_EQ(format_rfc822({1071358200000, 60}), "Sun, 14 Dec 2003 00:30:00 +0100");
  EXPECT_EQ(format_rfc822({0, -100000}), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(dates, format_http_date_known_values) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(format_http_date(1071336602), "Sat, 13 Dec 2003 17:30:02 GMT");
}

TEST(dates, formatting_extremes_does_not_overflow) {
  for (const std::int64_t v : {INT64_MIN, INT64_MIN + 1, std::int64_t{-1}, INT64_MAX}) {
    for (const std::int32_t off : {INT32_MIN, -1439, 0, 1439, INT32_MAX}) {
      EXPECT_FALSE(format_rfc3339({v, off}).empty());
      EXPECT_FALSE(format_rfc822({v, off}).empty());
    }
    EXPECT_FALSE(format_http_date(v).empty());
  }
}

// --- Round trips --------------------------------------------------------------------------------

std::vector<timestamp> sample_timestamps() {
  std::vector<timestamp> out = {
      {0, 0},
      {-1, 0},
      {1071336602000, 60},
      {1071336602123, -330},
      {951782400000, 0},
      {-62167219200000, 0},        // 0000-01-01
      {253402300799999, 0},        // 9999-12-31T23:59:59.999Z
      {-62167219200000 + 1439 * 60000, 1439},
      {253402300799999 - 1439 * 60000, -1439},
  };
  // Deterministic spread over years 0000-9999, all offsets, with and without milliseconds.
  std::mt19937_64 rng(20031213);
  std::uniform_int_distribution<std::int64_t> instant(-62167219200000 + 86400000,
                                                      253402300799999 - 86400000);
  std::uniform_int_distribution<std::int32_t> offset(-1439, 1439);
  for (int i = 0; i < 2000; ++i) {
    std::int64_t ms = instant(rng);
    if (i % 3 == 0) ms -= ms % 1000;
    out.push_back({ms, i % 5 == 0 ? 0 : offset(rng)});
  }
  return out;
}

TEST(dates, rfc3339_round_trip_is_exact) {
  for (const timestamp& t : sample_timestamps()) {
    const std::string text = format_rfc3339(t);
    EXPECT_EQ(parse_iso8601(text), t) << text;
    EXPECT_EQ(parse_date(text), t) << text;
  }
}

TEST(dates, rfc822_round_trip_keeps_seconds_and_offset) {
  for (const timestamp& t : sample_timestamps()) {
    const std::string text = format_rfc822(t);
    const auto back = parse_rfc822(text);
    ASSERT_TRUE(back) << text;
    // Milliseconds are dropped towards the past, also before 1970.
    const std::int64_t floor_ms = t.unix_ms - ((t.unix_ms % 1000) + 1000) % 1000;
    EXPECT_EQ(back->unix_ms, floor_ms) << text;
    EXPECT_EQ(back->offset_minutes, t.offset_minutes) << text;
    EXPECT_EQ(parse_date(text), back) << text;
  }
}

TEST(dates, http_date_round_trips_through_rfc822) {
  for (const std::int64_t s : {std::int64_t{0}, std::int64_t{784111777}, std::int64_t{-86401},
                               std::int64_t{4102444800}}) {
    EXPECT_EQ(parse_rfc822(format_http_date(s)), (timestamp{s * 1000, 0}));
  }
}

// --- Robustness ---------------------------------------------------------------------------------

// Whatever a parser accepts must be a valid instant that survives formatting and re-parsing;
// under ASan/UBSan this also shows no input reads out of bounds or overflows.
void check_consistent(std::string_view input) {
  for (const auto& r : {parse_rfc822(input), parse_iso8601(input), parse_date(input)}) {
    if (!r) continue;
    EXPECT_GE(r->offset_minutes, -1439);
    EXPECT_LE(r->offset_minutes, 1439);
    EXPECT_EQ(parse_iso8601(format_rfc3339(*r)), r) << "input: " << std::string(input);
  }
}

TEST(dates, every_prefix_and_mutation_of_valid_inputs_is_safe) {
  std::vector<std::string_view> seeds;
  for (const auto& c : rfc822_cases) seeds.push_back(c.input);
  for (const auto& c : iso8601_cases) seeds.push_back(c.input);
  constexpr std::array<char, 12> replacements = {'\0', '9', '0', '-', '+', ':', ' ',
                                                 'Z', '(', ')', '.', '\xff'};
  for (std::string_view seed : seeds) {
    for (std::size_t n = 0; n <= seed.size(); ++n) {
      // A copy of exactly n bytes, so that ASan sees a read past the prefix.
      const std::string prefix(seed.substr(0, n));
      check_consistent(std::string_view(prefix.data(), prefix.size()));
    }
    for (std::size_t i = 0; i < seed.size(); ++i) {
      for (char r : replacements) {
        std::string mutated(seed);
        mutated[i] = r;
        check_consistent(mutated);
      }
    }
  }
}

TEST(dates, random_bytes_are_safe) {
  std::mt19937 rng(42);
  constexpr std::string_view alphabet = "0123456789-+:.,TtZz ()GMTUESPDecJanSat\t\n\0\xff"sv;
  std::uniform_int_distribution<std::size_t> length(0, 40);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (int i = 0; i < 20000; ++i) {
    std::string s(length(rng), '\0');
    for (char& ch : s) {
      ch = i % 2 == 0 ? static_cast<char>(byte(rng)) : alphabet[pick(rng)];
    }
    check_consistent(s);
  }
}

}  // namespace
}  // namespace syndic::formats
