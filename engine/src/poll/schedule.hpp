#pragma once
// When to poll a source next: pure policy, no clocks or I/O (the poller passes `now`), so
// every rule is tested directly.
//
// The interval adapts between the source's min and max from the observed rate of new items
// (a feed that posts hourly is polled more often than one that posts weekly), and is never
// shorter than what the feed asks: Cache-Control max-age, Expires, RSS <ttl>,
// sy:updatePeriod/updateFrequency; skipHours/skipDays move a poll out of the skipped hours.
// Errors back off exponentially up to a cap; 429/503 Retry-After pushes the next poll out.
//
// The rules (schedule.cpp; each has a test in tests/engine/poll_schedule_test.cpp):
// - Rate: when a poll finds k new items, k / (now - the last poll that found some) is a
//   sample of items_per_hour, smoothed (EWMA, weight 0.3). The first items ever seen are the
//   feed's backlog: no sample. A quiet poll caps the rate at one item per quiet span.
// - Interval: a poll with new items sets it to 1 / items_per_hour (about one new item per
//   poll) but never lengthens it (without a rate yet: halves it); a poll without new items
//   (200 or 304) multiplies it by 1.5. Always within [min_interval, max_interval]; the first
//   poll starts from min_interval.
// - Hints (max-age, else Expires - now, ttl, update_period: the largest) raise the floor, but
//   the floor is capped at max_interval: the operator's "at least this often" wins over a
//   feed that asks for a week. The interval kept in the state includes the floor, so a ttl
//   read from a 200 keeps holding over the 304s that follow (they carry no document).
// - Jitter: the delay is interval x (0.9 .. 1.1) by `jitter`, then clamped to the floor and
//   max_interval again.
// - skipHours/skipDays (GMT; RSS's bitmasks): a time in a skipped hour or day moves to the
//   start of the next allowed hour plus 0-15 minutes by `jitter`. A mask with every hour (or
//   every day) set is ignored. They apply to every outcome and may exceed max_interval (they
//   say when, not how often). The last document's masks are kept in the state for the polls
//   without one (304s, errors).
// - Errors (and 429/503 without Retry-After): min_interval x 2^consecutive_errors, capped at
//   max(max_backoff, min_interval), +-10% jitter; the adaptive interval is left as it was.
// - Retry-After: not before it, nor sooner than the error backoff, capped at max_backoff;
//   jitter only adds (0-10%). Counts as an error for the backoff.
// - Any input is safe: limits are clamped to [1 s, 10 years], instants to [1970, 2200).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace syndic::poll {

using sys_time = std::chrono::system_clock::time_point;
using std::chrono::seconds;

// What the poller remembers between polls for scheduling (persisted with the source's state).
struct schedule_state {
  seconds interval{0};          // the current adaptive interval; 0 before the first poll
  double items_per_hour = -1;   // smoothed rate of new items; < 0: not known yet
  std::optional<sys_time> last_new_item;  // when a poll last found new items
  std::uint32_t consecutive_errors = 0;
  // The skip masks of the last document read (RSS <skipHours>/<skipDays>, as in
  // poll_observation); they hold for the polls that bring no document.
  std::uint32_t skip_hours = 0;
  std::uint8_t skip_days = 0;
};

// What one poll observed.
struct poll_observation {
  sys_time now{};
  enum class kind : std::uint8_t {
    changed,       // 200 with a body that parsed (new_items may be 0)
    not_modified,  // 304, or 200 whose body hash is unchanged
    error,         // network error, 5xx, 4xx other than below, parse failure
    throttled,     // 429 or 503 (Retry-After may be set)
  } outcome = kind::changed;
  std::uint32_t new_items = 0;
  // Hints, when present:
  std::optional<seconds> max_age;       // Cache-Control: max-age (s-maxage ignored)
  std::optional<sys_time> expires;      // Expires (ignored when max_age is set)
  std::optional<sys_time> retry_after;  // Retry-After, as an absolute time
  std::optional<seconds> ttl;           // RSS <ttl>
  std::optional<seconds> update_period; // sy:updatePeriod / sy:updateFrequency
  std::uint32_t skip_hours = 0;         // bit h set: hour h (GMT) is skipped (RSS <skipHours>)
  std::uint8_t skip_days = 0;           // bit d set: day d (0 = Sunday) is skipped (<skipDays>)
};

struct schedule_limits {
  seconds min_interval{60};
  seconds max_interval{3600};
  seconds max_backoff{6 * 3600};  // errors back off up to this (may exceed max_interval)
};

// The next poll time after `obs`, updating `state`. Deterministic: `jitter` in [0, 1) spreads
// sources that would otherwise poll in lock-step (the poller draws it per source).
sys_time next_poll(schedule_state& state, const poll_observation& obs, const schedule_limits& limits,
                   double jitter);

// The first poll of a source after a start: spread over [now, now + spread) by `jitter` so a
// restart with 10,000 sources does not stampede; a stored next-poll time in the future is kept
// (a stored time in the past is spread like none).
sys_time first_poll(std::optional<sys_time> stored_next, sys_time now, seconds spread, double jitter);

// Header parsing for the hints (nullopt when absent or malformed; never throws; one pass):
// - parse_max_age: the max-age directive of a Cache-Control value, names in any case, the value
//   bare or quoted; several max-age: the smallest; a value too large is 2^31 s (RFC 9111);
//   "no-store" or a bare "no-cache" -> nullopt. s-maxage and the Age header are not used.
// - parse_http_date: IMF-fixdate, RFC 850, asctime (and the RFC 822 variants servers send);
//   instants before 1970 are the epoch, after 2199 are 2200-01-01 (system_clock's nanoseconds
//   end in 2262).
// - parse_retry_after: delta-seconds (any number of digits, saturating at 10 years) or an HTTP
//   date; a date in the past is `now`.
std::optional<seconds> parse_max_age(std::string_view cache_control);
std::optional<sys_time> parse_http_date(std::string_view value);
std::optional<sys_time> parse_retry_after(std::string_view value, sys_time now);
// "no-cache"/"no-store" do not stop polling; they only mean max-age gives no floor.

}  // namespace syndic::poll
