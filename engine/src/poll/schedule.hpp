#pragma once
// When to poll a source next: pure policy, no clocks or I/O (the poller passes `now`), so
// every rule is tested directly.
//
// The interval adapts between the source's min and max from the observed rate of new items
// (a feed that posts hourly is polled more often than one that posts weekly), and is never
// shorter than what the feed asks: Cache-Control max-age, Expires, RSS <ttl>,
// sy:updatePeriod/updateFrequency; skipHours/skipDays move a poll out of the skipped hours.
// Errors back off exponentially up to a cap; 429/503 Retry-After pushes the next poll out.

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
// restart with 10,000 sources does not stampede; a stored next-poll time in the future is kept.
sys_time first_poll(std::optional<sys_time> stored_next, sys_time now, seconds spread, double jitter);

// Header parsing for the hints (nullopt when absent or malformed; never throws):
std::optional<seconds> parse_max_age(std::string_view cache_control);       // also "no-store" -> nullopt
std::optional<sys_time> parse_http_date(std::string_view value);            // IMF-fixdate, RFC 850, asctime
std::optional<sys_time> parse_retry_after(std::string_view value, sys_time now);  // seconds or a date
// "no-cache"/"no-store" do not stop polling; they only mean max-age gives no floor.

}  // namespace syndic::poll
