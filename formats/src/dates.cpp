// Date parsing and formatting. Hand-written scanners over a string_view: no locale (strptime and
// the stream operators depend on it), no allocation, and every read is bounds-checked because the
// input is whatever a feed contained.

#include "syndic/formats/dates.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace syndic::formats {
namespace {

constexpr int max_offset_minutes = 23 * 60 + 59;

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
// Folded header lines and pretty-printed XML put CR/LF and tabs inside dates.
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// True when `word` abbreviates `full` to at least 3 letters ("Thu", "Thurs", "Sept", "January"):
// three letters tell every weekday and every month apart, so no prefix is ambiguous.
constexpr bool is_abbreviation_of(std::string_view word, std::string_view full) {
  return word.size() >= 3 && word.size() <= full.size() &&
         iequals(word, full.substr(0, word.size()));
}

constexpr std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A read position. Every accessor checks the end, so no scanner can run past the input.
struct cursor {
  const char* p;
  const char* end;

  explicit cursor(std::string_view s) : p(s.data()), end(s.data() + s.size()) {}

  bool done() const { return p == end; }
  bool at(char c) const { return p != end && *p == c; }
  bool at_digit() const { return p != end && is_digit(*p); }
  bool at_alpha() const { return p != end && is_alpha(*p); }
  bool eat(char c) {
    if (!at(c)) return false;
    ++p;
    return true;
  }
  std::size_t skip_space() {
    const char* start = p;
    while (p != end && is_space(*p)) ++p;
    return static_cast<std::size_t>(p - start);
  }
  std::string_view read_word() {
    const char* start = p;
    while (p != end && is_alpha(*p)) ++p;
    return {start, static_cast<std::size_t>(p - start)};
  }
};

// Exactly `n` digits (n <= 9, so the value fits); what follows is the caller's business, which
// is what the basic ISO format ("20031213") needs.
bool read_fixed(cursor& c, int n, int& value) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!c.at_digit()) return false;
    v = v * 10 + (*c.p - '0');
    ++c.p;
  }
  value = v;
  return true;
}

// Between `min` and `max` digits (max <= 9), and not followed by another digit: "2003" must not
// be read as a day "20" followed by junk, and "99999999999999999999" must not overflow.
bool read_number(cursor& c, int min, int max, int& value, int& count) {
  int v = 0;
  int n = 0;
  while (n < max && c.at_digit()) {
    v = v * 10 + (*c.p - '0');
    ++c.p;
    ++n;
  }
  if (n < min || c.at_digit()) return false;
  value = v;
  count = n;
  return true;
}

// A fraction of a second after '.' or ',' (ISO 8601 allows both). Any number of digits; the
// first three are kept, the rest truncated. `nonzero` tells 24:00:00.0001 from 24:00:00.
bool read_fraction(cursor& c, int& millis, bool& nonzero) {
  if (!c.eat('.') && !c.eat(',')) return true;
  if (!c.at_digit()) return false;
  int ms = 0;
  int n = 0;
  for (; c.at_digit(); ++c.p, ++n) {
    if (n < 3) ms = ms * 10 + (*c.p - '0');
    if (*c.p != '0') nonzero = true;
  }
  for (; n < 3; ++n) ms *= 10;
  millis = ms;
  return true;
}

// "+hh", "+hhmm", "+hh:mm" (and, with `short_hours`, "+h" and "+h:mm" as in "GMT+2") into
// minutes east of UTC. Three digits ("+530") are rejected rather than guessed at.
bool read_offset(cursor& c, bool short_hours, int& minutes) {
  int sign = 0;
  if (c.eat('+')) {
    sign = 1;
  } else if (c.eat('-')) {
    sign = -1;
  } else {
    return false;
  }
  int value = 0;
  int count = 0;
  if (!read_number(c, 1, 4, value, count)) return false;
  int hours = 0;
  int mins = 0;
  if (count == 4) {
    hours = value / 100;
    mins = value % 100;
  } else if (count == 2 || (count == 1 && short_hours)) {
    hours = value;
    if (c.eat(':') && !read_fixed(c, 2, mins)) return false;
  } else {
    return false;
  }
  if (hours > 23 || mins > 59) return false;
  minutes = sign * (hours * 60 + mins);
  return true;
}

constexpr bool is_leap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int days_in_month(int y, int m) {
  constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

// Broken-down local time as scanned, before validation.
struct fields {
  int year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
  bool fraction_nonzero = false;
  int offset = 0;  // minutes east of UTC
};

// The one place ranges are checked, so both syntaxes reject the same impossible dates.
std::optional<timestamp> assemble(fields f) {
  if (f.year < 0 || f.year > 9999) return std::nullopt;
  if (f.month < 1 || f.month > 12) return std::nullopt;
  if (f.day < 1 || f.day > days_in_month(f.year, f.month)) return std::nullopt;
  if (f.minute < 0 || f.minute > 59 || f.second < 0 || f.second > 60) return std::nullopt;
  // 24:00:00 is ISO 8601's end of day, i.e. the next midnight; the arithmetic below rolls over.
  if (f.hour == 24) {
    if (f.minute != 0 || f.second != 0 || f.fraction_nonzero) return std::nullopt;
    // The end of 9999-12-31 is year 10000, which no four-digit format can write back.
    if (f.year == 9999 && f.month == 12 && f.day == 31) return std::nullopt;
  } else if (f.hour < 0 || f.hour > 23) {
    return std::nullopt;
  }
  // A leap second has no unix time of its own; the last ordinary second is the closest.
  if (f.second == 60) f.second = 59;
  if (f.offset < -max_offset_minutes || f.offset > max_offset_minutes) return std::nullopt;

  const std::int64_t days = days_from_civil(f.year, static_cast<unsigned>(f.month),
                                            static_cast<unsigned>(f.day));
  const std::int64_t local_seconds =
      days * 86400 + std::int64_t{f.hour} * 3600 + std::int64_t{f.minute} * 60 + f.second;
  const std::int64_t utc_seconds = local_seconds - std::int64_t{f.offset} * 60;
  return timestamp{utc_seconds * 1000 + f.millis, static_cast<std::int32_t>(f.offset)};
}

// --- RFC 822 -----------------------------------------------------------------------------------

constexpr std::array<std::string_view, 7> weekday_names = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

constexpr std::array<std::string_view, 12> month_names = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

constexpr bool is_weekday(std::string_view word) {
  for (std::string_view name : weekday_names) {
    if (is_abbreviation_of(word, name)) return true;
  }
  return false;
}

// 1-12, or 0 when the word names no month.
constexpr int month_number(std::string_view word) {
  for (std::size_t i = 0; i < month_names.size(); ++i) {
    if (is_abbreviation_of(word, month_names[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

struct named_zone {
  std::string_view name;
  int offset;  // minutes east of UTC
};

// RFC 822's US zones plus the abbreviations that show up in feeds often enough to matter and
// mean one thing in practice. Ambiguous ones (BST: British or Bangladesh?) are left out and so
// fall under the unknown-zone rule.
constexpr named_zone named_zones[] = {
    {"gmt", 0},         {"ut", 0},          {"utc", 0},         {"z", 0},
    {"est", -5 * 60},   {"edt", -4 * 60},   {"cst", -6 * 60},   {"cdt", -5 * 60},
    {"mst", -7 * 60},   {"mdt", -6 * 60},   {"pst", -8 * 60},   {"pdt", -7 * 60},
    {"ast", -4 * 60},   {"adt", -3 * 60},   {"hst", -10 * 60},  {"akst", -9 * 60},
    {"akdt", -8 * 60},  {"wet", 0},         {"west", 60},       {"cet", 60},
    {"cest", 120},      {"eet", 120},       {"eest", 180},      {"msk", 180},
    {"ist", 330},       {"jst", 540},       {"awst", 480},      {"acst", 570},
    {"acdt", 630},      {"aest", 600},      {"aedt", 660},      {"nzst", 720},
    {"nzdt", 780},
};

// Alphabetic zones up to this length are zones we do not know; longer words are not zones.
constexpr std::size_t max_zone_name = 5;

// A named zone, optionally followed by an offset when it is UTC ("GMT+2", "UTC-05:00").
// RFC 2822 section 4.3: military letters and unknown names carry no reliable information
// (RFC 822 even got the military signs backwards) and are to be read as UTC.
bool read_named_zone(cursor& c, int& minutes) {
  const std::string_view word = c.read_word();
  if (word.empty() || word.size() > max_zone_name) return false;
  minutes = 0;
  for (const named_zone& z : named_zones) {
    if (iequals(word, z.name)) {
      minutes = z.offset;
      break;
    }
  }
  const bool is_utc = iequals(word, "gmt") || iequals(word, "ut") || iequals(word, "utc");
  if (is_utc && (c.at('+') || c.at('-'))) return read_offset(c, true, minutes);
  return true;
}

// Trailing "(comments)", possibly nested, possibly several, then the end.
bool at_end_after_comments(cursor& c) {
  for (;;) {
    c.skip_space();
    if (!c.eat('(')) return c.done();
    int depth = 1;
    while (depth > 0) {
      if (c.done()) return false;
      if (*c.p == '(') ++depth;
      if (*c.p == ')') --depth;
      ++c.p;
    }
  }
}

// The separator between day, month and year: whitespace, or one '-' as in RFC 850's
// "06-Nov-94" which HTTP servers and some feeds still send.
bool read_date_separator(cursor& c) {
  if (c.eat('-')) return true;
  return c.skip_space() > 0;
}

// --- Formatting helpers -------------------------------------------------------------------------

// Division rounding towards the past, so that instants before 1970 get the right date. Both work
// from a % b (b > 1) and so cannot overflow even on INT64_MIN.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - (a % b < 0 ? 1 : 0);
}

constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  const std::int64_t r = a % b;
  return r < 0 ? r + b : r;
}

struct civil_date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// Inverse of days_from_civil (H. Hinnant). 64-bit throughout so that any unix time, however
// absurd, maps to some date without overflow.
constexpr civil_date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;                                    // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                  // [0, 11]
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// Local broken-down time of an instant at an offset.
struct civil_time {
  civil_date date;
  int hour, minute, second, millis;
  unsigned weekday;  // 0 = Sunday
};

civil_time to_civil(std::int64_t unix_ms, std::int32_t offset_minutes) {
  // unix_ms / 1000 leaves ample headroom for the offset, so no step below can overflow.
  const std::int64_t seconds = floor_div(unix_ms, 1000) + std::int64_t{offset_minutes} * 60;
  const std::int64_t days = floor_div(seconds, 86400);
  const std::int64_t sod = floor_mod(seconds, 86400);
  civil_time t{};
  t.date = civil_from_days(days);
  t.hour = static_cast<int>(sod / 3600);
  t.minute = static_cast<int>(sod / 60 % 60);
  t.second = static_cast<int>(sod % 60);
  t.millis = static_cast<int>(floor_mod(unix_ms, 1000));
  t.weekday = static_cast<unsigned>(floor_mod(days + 4, 7));  // 1970-01-01 was a Thursday
  return t;
}

// Offsets RFC 3339 and RFC 822 cannot express are replaced by UTC: the instant survives.
constexpr std::int32_t writable_offset(std::int32_t offset) {
  return offset < -max_offset_minutes || offset > max_offset_minutes ? 0 : offset;
}

constexpr std::array<std::string_view, 7> weekday_abbrevs = {"Sun", "Mon", "Tue", "Wed",
                                                             "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> month_abbrevs = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A fixed buffer: the longest output ("-292277026596-..." for absurd instants) fits easily,
// and the result is allocated once.
class writer {
 public:
  void put(char c) { buf_[n_++] = c; }
  void put(std::string_view s) {
    for (char c : s) put(c);
  }
  void put2(int v) {
    put(static_cast<char>('0' + v / 10));
    put(static_cast<char>('0' + v % 10));
  }
  void put3(int v) {
    put(static_cast<char>('0' + v / 100));
    put2(v % 100);
  }
  // Four digits for years 0-9999 as both formats require; beyond that, as many as needed with a
  // sign (ISO 8601's expanded years) rather than a silently wrong value.
  void put_year(std::int64_t y) {
    if (y < 0) {
      put('-');
      y = -y;
    }
    std::array<char, 20> digits{};
    std::size_t k = 0;
    do {
      digits[k++] = static_cast<char>('0' + y % 10);
      y /= 10;
    } while (y > 0);
    while (k < 4) digits[k++] = '0';
    while (k > 0) put(digits[--k]);
  }
  void put_offset(std::int32_t minutes, bool colon) {
    put(minutes < 0 ? '-' : '+');
    const int m = minutes < 0 ? -minutes : minutes;
    put2(m / 60);
    if (colon) put(':');
    put2(m % 60);
  }
  std::string str() const { return std::string(buf_.data(), n_); }

 private:
  std::array<char, 64> buf_{};
  std::size_t n_ = 0;
};

}  // namespace

std::int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
  // Widened first: y - 1 on INT_MIN and 153 * m on a huge m would overflow in int/unsigned.
  const std::int64_t yy = std::int64_t{y} - (m <= 2 ? 1 : 0);
  const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const std::int64_t yoe = yy - era * 400;                                       // [0, 399]
  const std::int64_t mp = m > 2 ? std::int64_t{m} - 3 : std::int64_t{m} + 9;    // March = 0
  const std::int64_t doy = (153 * mp + 2) / 5 + std::int64_t{d} - 1;             // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                // [0, 146096]
  return era * 146097 + doe - 719468;
}

std::optional<timestamp> parse_rfc822(std::string_view s) noexcept {
  cursor c(trim(s));
  fields f;

  // Optional weekday. It is not checked against the date: feeds get it wrong far more often than
  // the numbers, and the numbers alone name the day.
  if (c.at_alpha()) {
    if (!is_weekday(c.read_word())) return std::nullopt;
    c.eat('.');
    const std::size_t spaces = c.skip_space();
    if (!c.eat(',') && spaces == 0) return std::nullopt;
    c.skip_space();
  }

  int count = 0;
  if (!read_number(c, 1, 2, f.day, count) || !read_date_separator(c)) return std::nullopt;
  f.month = month_number(c.read_word());
  if (f.month == 0) return std::nullopt;
  c.eat('.');  // "Dec."
  if (!read_date_separator(c)) return std::nullopt;

  if (!read_number(c, 2, 4, f.year, count)) return std::nullopt;
  if (count == 2) {
    f.year += f.year < 50 ? 2000 : 1900;  // RFC 2822 section 4.3
  } else if (count == 3) {
    f.year += 1900;  // RFC 2822 section 4.3: what struct tm's tm_year produced after 1999
  }

  // A date without a time ("Sat, 13 Dec 2003") is midnight UTC.
  if (c.done()) return assemble(f);
  if (c.skip_space() == 0) return std::nullopt;

  // Time: h[h]:mm[:ss[.fff]]
  if (!read_number(c, 1, 2, f.hour, count) || !c.eat(':') || !read_fixed(c, 2, f.minute)) {
    return std::nullopt;
  }
  if (c.eat(':')) {
    if (!read_fixed(c, 2, f.second) || !read_fraction(c, f.millis, f.fraction_nonzero)) {
      return std::nullopt;
    }
  }
  if (c.at_digit()) return std::nullopt;

  c.skip_space();
  if (c.at('+') || c.at('-')) {
    if (!read_offset(c, false, f.offset)) return std::nullopt;
    // "-0800 PST": the number is authoritative, a name after it is a comment without brackets.
    const char* before = c.p;
    if (c.skip_space() > 0 && c.at_alpha()) {
      if (c.read_word().size() > max_zone_name) return std::nullopt;
    } else {
      c.p = before;
    }
  } else if (c.at_alpha()) {
    if (!read_named_zone(c, f.offset)) return std::nullopt;
  }
  // No zone at all means UTC.
  if (!at_end_after_comments(c)) return std::nullopt;
  return assemble(f);
}

std::optional<timestamp> parse_iso8601(std::string_view s) noexcept {
  cursor c(trim(s));
  fields f;

  if (!read_fixed(c, 4, f.year)) return std::nullopt;
  bool has_day = false;
  if (c.eat('-')) {
    if (!read_fixed(c, 2, f.month)) return std::nullopt;
    if (c.eat('-')) {
      if (!read_fixed(c, 2, f.day)) return std::nullopt;
      has_day = true;
    }
  } else if (c.at_digit()) {
    // Basic format is YYYYMMDD only: ISO 8601 forbids YYYYMM because it reads as YYMMDD.
    if (!read_fixed(c, 2, f.month) || !read_fixed(c, 2, f.day)) return std::nullopt;
    has_day = true;
  }

  if (has_day && (c.eat('T') || c.eat('t') || c.eat(' '))) {
    // hh:mm[:ss[.f+]] or hhmm[ss[.f+]]; seconds are optional (W3CDTF), minutes are not.
    if (!read_fixed(c, 2, f.hour)) return std::nullopt;
    const bool extended = c.eat(':');
    if (!read_fixed(c, 2, f.minute)) return std::nullopt;
    if (extended ? c.eat(':') : c.at_digit()) {
      if (!read_fixed(c, 2, f.second) || !read_fraction(c, f.millis, f.fraction_nonzero)) {
        return std::nullopt;
      }
    }
    if (c.eat('Z') || c.eat('z')) {
      f.offset = 0;
    } else if (c.at('+') || c.at('-')) {
      // RFC 3339's "-00:00" (offset unknown) also lands here as 0.
      if (!read_offset(c, false, f.offset)) return std::nullopt;
    }
  }

  if (!c.done()) return std::nullopt;
  return assemble(f);
}

std::optional<timestamp> parse_date(std::string_view s) noexcept {
  const std::string_view t = trim(s);
  const bool looks_iso = t.size() >= 4 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) &&
                         is_digit(t[3]);
  if (looks_iso) {
    if (auto r = parse_iso8601(t)) return r;
    return parse_rfc822(t);
  }
  if (auto r = parse_rfc822(t)) return r;
  return parse_iso8601(t);
}

std::string format_rfc3339(const timestamp& t) {
  const std::int32_t offset = writable_offset(t.offset_minutes);
  const civil_time c = to_civil(t.unix_ms, offset);
  writer w;
  w.put_year(c.date.year);
  w.put('-');
  w.put2(static_cast<int>(c.date.month));
  w.put('-');
  w.put2(static_cast<int>(c.date.day));
  w.put('T');
  w.put2(c.hour);
  w.put(':');
  w.put2(c.minute);
  w.put(':');
  w.put2(c.second);
  if (c.millis != 0) {
    w.put('.');
    w.put3(c.millis);
  }
  if (offset == 0) {
    w.put('Z');
  } else {
    w.put_offset(offset, true);
  }
  return w.str();
}

std::string format_rfc822(const timestamp& t) {
  const std::int32_t offset = writable_offset(t.offset_minutes);
  const civil_time c = to_civil(t.unix_ms, offset);
  writer w;
  w.put(weekday_abbrevs[c.weekday]);
  w.put(", ");
  w.put2(static_cast<int>(c.date.day));
  w.put(' ');
  w.put(month_abbrevs[c.date.month - 1]);
  w.put(' ');
  w.put_year(c.date.year);
  w.put(' ');
  w.put2(c.hour);
  w.put(':');
  w.put2(c.minute);
  w.put(':');
  w.put2(c.second);
  w.put(' ');
  w.put_offset(offset, false);
  return w.str();
}

std::string format_http_date(std::int64_t unix_seconds) {
  // Seconds rather than milliseconds, so divide first: multiplying by 1000 could overflow.
  const std::int64_t days = floor_div(unix_seconds, 86400);
  const std::int64_t sod = floor_mod(unix_seconds, 86400);
  const civil_date d = civil_from_days(days);
  writer w;
  w.put(weekday_abbrevs[static_cast<std::size_t>(floor_mod(days + 4, 7))]);
  w.put(", ");
  w.put2(static_cast<int>(d.day));
  w.put(' ');
  w.put(month_abbrevs[d.month - 1]);
  w.put(' ');
  w.put_year(d.year);
  w.put(' ');
  w.put2(static_cast<int>(sod / 3600));
  w.put(':');
  w.put2(static_cast<int>(sod / 60 % 60));
  w.put(':');
  w.put2(static_cast<int>(sod % 60));
  w.put(" GMT");
  return w.str();
}

}  // namespace syndic::formats
