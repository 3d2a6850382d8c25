// The scheduling policy of schedule.hpp. Every rule is a few lines over plain numbers; times are
// handled as whole seconds since the epoch (int64) so that no input, however absurd, overflows
// std::chrono's nanosecond time_points (which end in 2262).

#include "poll/schedule.hpp"

#include <syndic/formats/dates.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace syndic::poll {
namespace {

// No delay or interval is longer than ten years, no instant later than 2200-01-01: far past
// any sensible setting, far inside what system_clock can hold.
constexpr std::int64_t longest_seconds = 10LL * 366 * 86400;
constexpr std::int64_t latest_unix = 7'258'118'400;  // 2200-01-01T00:00:00Z

constexpr double ewma_weight = 0.3;      // of a new rate sample against the smoothed rate
constexpr double quiet_growth = 1.5;     // a poll without new items lengthens the interval so
constexpr double jitter_spread = 0.1;    // delays vary by +-10% (Retry-After: +0..10%)
constexpr std::int64_t skip_spread = 900;  // a poll moved out of skipped hours: +0..15 min
constexpr std::uint32_t all_hours = 0xffffffu;
constexpr std::uint8_t all_days = 0x7fu;

std::int64_t unix_seconds(sys_time t) {
  return std::chrono::floor<seconds>(t.time_since_epoch()).count();
}

sys_time from_unix(std::int64_t s) {
  return sys_time(std::chrono::duration_cast<sys_time::duration>(seconds(std::clamp<std::int64_t>(s, 0, latest_unix))));
}

std::int64_t bounded(seconds s) { return std::clamp<std::int64_t>(s.count(), 0, longest_seconds); }

// t + d, for d in [0, longest_seconds], saturating at the latest instant.
sys_time later(sys_time t, std::int64_t d) {
  if (unix_seconds(t) > latest_unix - d) return from_unix(latest_unix);
  return t + std::chrono::duration_cast<sys_time::duration>(seconds(d));
}

std::int64_t round_seconds(double s) {
  if (!(s > 0)) return 0;  // also NaN
  if (s >= static_cast<double>(longest_seconds)) return longest_seconds;
  return std::llround(s);
}

double unit_jitter(double j) { return j >= 0 && j < 1 ? j : (j >= 1 ? 0.999999 : 0.0); }  // NaN: 0

struct limits_s {
  std::int64_t min, max, backoff;  // seconds; 1 <= min <= max, min <= backoff
};

limits_s sane(const schedule_limits& l) {
  limits_s s;
  s.min = std::max<std::int64_t>(1, bounded(l.min_interval));
  s.max = std::max(s.min, bounded(l.max_interval));
  s.backoff = std::max(s.min, bounded(l.max_backoff));
  return s;
}

// min_interval x 2^errors, capped.
std::int64_t backoff_seconds(const limits_s& l, std::uint32_t errors) {
  std::int64_t d = l.min;
  for (std::uint32_t i = 0; i < errors && d < l.backoff; ++i) d *= 2;  // at most ~30 steps
  return std::min(d, l.backoff);
}

// The longest wait the feed's hints ask for; 0 when none.
std::int64_t hint_seconds(const poll_observation& obs) {
  std::int64_t h = 0;
  if (obs.max_age) {
    h = std::max(h, bounded(*obs.max_age));
  } else if (obs.expires) {
    h = std::max(h, std::clamp<std::int64_t>(unix_seconds(*obs.expires) - unix_seconds(obs.now), 0, longest_seconds));
  }
  if (obs.ttl) h = std::max(h, bounded(*obs.ttl));
  if (obs.update_period) h = std::max(h, bounded(*obs.update_period));
  return h;
}

// The first instant at or after `t` outside the skipped hours and days (GMT); moved polls land
// at the start of an hour plus a spread. At most 7 x 24 steps: with neither mask full, some
// (day, hour) of every week is allowed.
sys_time out_of_skipped(sys_time t, std::uint32_t hours, std::uint8_t days, double jitter) {
  hours &= all_hours;
  days &= all_days;
  if (hours == all_hours) hours = 0;  // everything skipped: the feed cannot mean it
  if (days == all_days) days = 0;
  if (hours == 0 && days == 0) return t;
  std::int64_t s = unix_seconds(t);
  std::int64_t hour_start = s - ((s % 3600) + 3600) % 3600;
  for (int step = 0; step <= 7 * 24; ++step, hour_start += 3600) {
    std::int64_t day = hour_start >= 0 ? hour_start / 86400 : (hour_start - 86399) / 86400;
    auto hour = static_cast<unsigned>((hour_start - day * 86400) / 3600);
    auto weekday = static_cast<unsigned>(((day + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
    bool skipped = ((hours >> hour) & 1u) != 0 || ((days >> weekday) & 1u) != 0;
    if (skipped) continue;
    if (step == 0) return t;
    return from_unix(hour_start + static_cast<std::int64_t>(jitter * skip_spread));
  }
  return t;  // not reached
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (is_ows(v.front()) || v.front() == '\r' || v.front() == '\n')) v.remove_prefix(1);
  while (!v.empty() && (is_ows(v.back()) || v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
  return v;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// RFC 9110 token characters.
bool is_tchar(char c) {
  if (is_digit(c) || is_alpha(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// 1*DIGIT, saturating at `cap` (any number of digits, no overflow); nullopt when not all digits.
std::optional<std::int64_t> saturating_digits(std::string_view v, std::int64_t cap) {
  if (v.empty()) return std::nullopt;
  std::int64_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) return std::nullopt;
    n = n > (cap - (c - '0')) / 10 ? cap : n * 10 + (c - '0');
  }
  return n;
}

// asctime: "Sun Nov  6 08:49:37 1994" (RFC 9110 section 5.6.7), rewritten as
// "6 Nov 1994 08:49:37 GMT" for the RFC 822 reader, which checks the ranges.
std::optional<formats::timestamp> parse_asctime(std::string_view v) {
  // wkday SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP hh:mm:ss SP 4DIGIT
  if (v.size() != 24) return std::nullopt;
  for (std::size_t i : {0u, 1u, 2u, 4u, 5u, 6u})
    if (!is_alpha(v[i])) return std::nullopt;
  if (v[3] != ' ' || v[7] != ' ' || v[10] != ' ' || v[19] != ' ') return std::nullopt;
  if (!(is_digit(v[8]) || v[8] == ' ') || !is_digit(v[9])) return std::nullopt;
  for (std::size_t i : {11u, 12u, 14u, 15u, 17u, 18u, 20u, 21u, 22u, 23u})
    if (!is_digit(v[i])) return std::nullopt;
  if (v[13] != ':' || v[16] != ':') return std::nullopt;
  std::array<char, 32> buf{};
  std::size_t n = 0;
  auto put = [&](std::string_view s) {
    for (char c : s) buf[n++] = c;
  };
  put(v.substr(0, 3));  // the weekday, as the RFC 822 reader checks it is one
  put(", ");
  put(v[8] == ' ' ? v.substr(9, 1) : v.substr(8, 2));
  put(" ");
  put(v.substr(4, 3));
  put(" ");
  put(v.substr(20, 4));
  put(" ");
  put(v.substr(11, 8));
  put(" GMT");
  return formats::parse_rfc822(std::string_view(buf.data(), n));
}

}  // namespace

sys_time next_poll(schedule_state& state, const poll_observation& obs, const schedule_limits& limits,
                   double jitter) {
  const limits_s l = sane(limits);
  const double j = unit_jitter(jitter);
  const std::int64_t now_s = unix_seconds(obs.now);
  using kind = poll_observation::kind;

  // Skip hours and days come with a parsed document; a 304 or an error carries none, so the
  // last document's are kept and used until the next document says otherwise.
  if (obs.outcome == kind::changed) {
    state.skip_hours = obs.skip_hours;
    state.skip_days = obs.skip_days;
  }
  const std::uint32_t skip_hours = obs.skip_hours | state.skip_hours;
  const std::uint8_t skip_days = static_cast<std::uint8_t>(obs.skip_days | state.skip_days);

  if (obs.outcome == kind::error || obs.outcome == kind::throttled) {
    if (state.consecutive_errors < (1u << 20)) ++state.consecutive_errors;
    std::int64_t delay = backoff_seconds(l, state.consecutive_errors);
    double spread = 1 + jitter_spread * (2 * j - 1);  // +-10%
    if (obs.outcome == kind::throttled && obs.retry_after) {
      // Not before the server's time, nor sooner than the backoff; spread only later.
      std::int64_t asked = std::clamp<std::int64_t>(unix_seconds(*obs.retry_after) - now_s, 0, longest_seconds);
      delay = std::min(std::max(delay, asked), l.backoff);
      spread = 1 + jitter_spread * j;
    }
    delay = std::clamp<std::int64_t>(round_seconds(static_cast<double>(delay) * spread), l.min, l.backoff);
    return out_of_skipped(later(obs.now, delay), skip_hours, skip_days, j);
  }

  // A poll that answered (200 or 304).
  state.consecutive_errors = 0;
  const std::uint32_t fresh = obs.outcome == kind::changed ? obs.new_items : 0;
  const bool first = state.interval.count() <= 0;
  const double current = first ? static_cast<double>(l.min)
                                : static_cast<double>(std::clamp<std::int64_t>(bounded(state.interval), l.min, l.max));
  double interval = current;

  // The rate of new items: `fresh` items appeared since the last poll that found some (at least
  // a second ago). Without such a poll (the first items ever seen, which are the feed's
  // backlog) there is no span to divide by: no sample.
  const std::int64_t since_last_item =
      state.last_new_item ? std::max<std::int64_t>(1, now_s - unix_seconds(*state.last_new_item)) : 0;
  if (fresh > 0) {
    if (state.last_new_item && now_s > unix_seconds(*state.last_new_item)) {
      double sample = static_cast<double>(fresh) * 3600.0 / static_cast<double>(since_last_item);
      state.items_per_hour =
          state.items_per_hour < 0 ? sample : ewma_weight * sample + (1 - ewma_weight) * state.items_per_hour;
    }
    state.last_new_item = obs.now;
    // About one new item per poll; new items never lengthen the interval, and without a rate
    // yet the interval is halved.
    double target = state.items_per_hour > 0 ? 3600.0 / state.items_per_hour : current / 2;
    interval = std::min(current, target);
  } else {
    // Quiet: nothing in `since_last_item` seconds says the rate is at most about one per that
    // span, and the interval grows gradually toward max_interval.
    if (state.items_per_hour > 0 && state.last_new_item)
      state.items_per_hour = std::min(state.items_per_hour, 3600.0 / static_cast<double>(since_last_item));
    if (!first) interval = current * quiet_growth;
  }

  // The feed's own hints raise the floor, up to max_interval (our promise to poll at least
  // that often wins over a feed asking for a week).
  const std::int64_t floor = std::clamp<std::int64_t>(std::max(l.min, hint_seconds(obs)), l.min, l.max);
  std::int64_t whole = std::clamp<std::int64_t>(round_seconds(interval), floor, l.max);
  state.interval = seconds(whole);

  std::int64_t delay =
      std::clamp<std::int64_t>(round_seconds(static_cast<double>(whole) * (1 + jitter_spread * (2 * j - 1))), floor, l.max);
  return out_of_skipped(later(obs.now, delay), skip_hours, skip_days, j);
}

sys_time first_poll(std::optional<sys_time> stored_next, sys_time now, seconds spread, double jitter) {
  if (stored_next && *stored_next > now) return *stored_next;
  std::int64_t s = round_seconds(static_cast<double>(bounded(spread)) * unit_jitter(jitter));
  return later(now, s);
}

std::optional<seconds> parse_max_age(std::string_view cc) {
  // RFC 9111 section 1.2.2: a delta-seconds too large to hold is 2^31.
  constexpr std::int64_t too_large = std::int64_t{1} << 31;
  std::optional<std::int64_t> max_age;
  bool no_floor = false;
  std::size_t i = 0;
  const std::size_t n = cc.size();
  // directive = token [ "=" ( token / quoted-string ) ], separated by commas. One pass: every
  // step of the loop consumes at least one byte.
  while (i < n) {
    while (i < n && (is_ows(cc[i]) || cc[i] == ',')) ++i;
    if (i == n) break;
    std::size_t start = i;
    while (i < n && is_tchar(cc[i])) ++i;
    std::string_view name = cc.substr(start, i - start);
    std::string_view value;
    bool has_value = false, well_formed = !name.empty();
    while (i < n && is_ows(cc[i])) ++i;
    if (i < n && cc[i] == '=') {
      has_value = true;
      ++i;
      while (i < n && is_ows(cc[i])) ++i;
      if (i < n && cc[i] == '"') {
        std::size_t vs = ++i;
        bool escaped = false;
        while (i < n && cc[i] != '"') {
          if (cc[i] == '\\' && i + 1 < n) {
            escaped = true;
            ++i;
          }
          ++i;
        }
        if (i == n) well_formed = false;  // unterminated
        value = cc.substr(vs, i - vs);
        if (escaped) value = {};  // no number has escapes; a field list does not matter here
        if (i < n) ++i;           // the closing quote
      } else {
        std::size_t vs = i;
        while (i < n && is_tchar(cc[i])) ++i;
        value = cc.substr(vs, i - vs);
      }
    }
    while (i < n && is_ows(cc[i])) ++i;
    if (i < n && cc[i] != ',') {
      // Junk after the directive: skip to the next comma, and trust nothing of this one.
      well_formed = false;
      while (i < n && cc[i] != ',') ++i;
    }
    if (!well_formed) continue;
    // A no-cache naming fields ("no-cache=\"Set-Cookie\"") concerns those fields only.
    if (iequals(name, "no-store") || (iequals(name, "no-cache") && !has_value)) {
      no_floor = true;
    } else if (iequals(name, "max-age") && has_value) {
      // Repeated max-age: the smallest, which asks the least of us.
      if (auto v = saturating_digits(value, too_large)) max_age = max_age ? std::min(*max_age, *v) : *v;
    }
  }
  if (no_floor || !max_age) return std::nullopt;
  return seconds(*max_age);
}

std::optional<sys_time> parse_http_date(std::string_view value) {
  value = trim_ows(value);
  if (value.empty() || value.size() > 64) return std::nullopt;  // no date is longer
  std::optional<formats::timestamp> t;
  // asctime has a space, never a comma, right after its weekday.
  if (value.size() > 4 && value[3] == ' ' && is_alpha(value[0]) && is_alpha(value[4])) t = parse_asctime(value);
  else t = formats::parse_rfc822(value);  // IMF-fixdate and RFC 850 ("Sunday, 06-Nov-94 ...")
  if (!t) return std::nullopt;
  std::int64_t s = t->unix_ms / 1000 - (t->unix_ms % 1000 < 0 ? 1 : 0);
  return from_unix(s);  // before 1970: the epoch; after 2199: 2200 (both mean "past"/"far")
}

std::optional<sys_time> parse_retry_after(std::string_view value, sys_time now) {
  value = trim_ows(value);
  if (value.empty()) return std::nullopt;
  if (is_digit(value.front())) {
    auto s = saturating_digits(value, longest_seconds);
    if (!s) return std::nullopt;  // "1.5", "10s", "1e3"
    return later(now, *s);
  }
  auto t = parse_http_date(value);
  if (!t) return std::nullopt;
  return std::max(*t, now);
}

}  // namespace syndic::poll
